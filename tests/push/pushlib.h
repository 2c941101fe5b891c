/*
 * pushlib — what the push tests share: a broker (the devbroker or the real
 * Kafka of `make test`), kh-test-receiver partners, a ketenhub-push
 * process, meldingen composed as natural JSON and encoded with kh_codec,
 * and reading back afleveringen, dead letters and the receiver's record.
 * Every helper fails the running test on error. Programs started here die
 * with the test process (PR_SET_PDEATHSIG), also when a test fails.
 */
#ifndef PUSHLIB_H
#define PUSHLIB_H

#include "kh_schema.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <sys/types.h>

/* Signing secrets of the test partners (whsec_ + base64 of 32 and 34 bytes). */
#define SECRET_A "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="
#define SECRET_B "whsec_c2VjcmV0LW9mLXBhcnRuZXItYi0zMi1ieXRlcy1sb25nIQ=="

#define MELDING_TOPIC "ketenhub.grensverkeer.v1"
#define AFLEVERING_TOPIC "ketenhub.afleveringen.v1"
#define DLQ_TOPIC "ketenhub.deadletter.v1"
#define REGEL "ONDERWIJS_BUITEN_WOONGEMEENTE"

typedef struct pt_env {
    char bootstrap[256];
    char prefix[64]; /* topic.prefix and group ids of this test */
    char dir[128];   /* a private temporary directory */
    int real_kafka;
    int ops_port;
    pid_t push;
    int push_runs; /* how many times push was started (log file names) */
    kh_schemas *schemas;
    rd_kafka_t *producer;
} pt_env;

typedef struct pt_receiver {
    pid_t pid;
    int port;
    char record[256]; /* the JSON-lines record file */
} pt_receiver;

/* Starts a devbroker for the whole test program (call from main, before the
 * runner forks). Its bootstrap goes to KH_PUSH_DEVBROKER. */
pid_t pt_devbroker_for_program(void);

/* A fresh environment on that devbroker, or on the real Kafka. */
void pt_env_devbroker(pt_env *e);
/* A fresh environment on a devbroker of its own, which the test may stop
 * (SIGSTOP) and ends with kh_test_stop after pt_env_done; returns its pid. */
pid_t pt_env_own_devbroker(pt_env *e);
void pt_env_real_kafka(pt_env *e, int partitions);
/* Like pt_env_real_kafka, without push's own outputs (the retry and the
 * afleveringen topic): push must make them exist. */
void pt_env_real_kafka_inputs(pt_env *e, int partitions);
/* Stops push, frees the env and removes its directory (so call it only at
 * the end of a passing test; a failing one keeps its logs). */
void pt_env_done(pt_env *e);

/* The full name of a topic ("ketenhub.grensverkeer.v1") with the prefix. */
const char *pt_topic(const pt_env *e, const char *topic, char *buf, size_t len);

/* Starts a receiver with the given rules ("PATH=MODE", NULL-ended, may be
 * NULL) and extra arguments (NULL-ended, may be NULL: TLS options). */
void pt_receiver_start(pt_env *e, pt_receiver *r, const char *const *rules,
                       const char *const *extra);
void pt_receiver_stop(pt_receiver *r);
void pt_receiver_rule(const pt_receiver *r, const char *path, const char *mode);

/* Requests (and 2xx answers) the receiver saw on path, from its stats. */
long pt_receiver_count(const pt_receiver *r, const char *path, long *ok);

/* The recorded requests (a JSON array, caller decrefs), optionally only
 * those on path. */
json_t *pt_receiver_records(const pt_receiver *r, const char *path);

/* Writes the subscriptions file (JSON text, printf-style) to dir. */
void pt_write_subs(pt_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts ketenhub-push on this env with extra --set KEY=VALUE entries
 * (NULL-ended, may be NULL) and extra environment ("K=V", may be NULL);
 * waits for /readyz. */
void pt_push_start(pt_env *e, const char *const *sets, const char *const *env);
int pt_push_stop(pt_env *e, int sig);

/* GET /metrics of push; caller frees. */
char *pt_push_metrics(const pt_env *e);

/* The value of one metric line ("name{labels}") in the text, -1 when absent. */
double pt_metric(const char *metrics, const char *series);

/* A deterministic UUID for test item n of series s. */
const char *pt_uuid(int s, int n, char buf[37]);

/* A melding addressed to "TYPE:CODE" as wire bytes (caller frees). */
char *pt_melding(pt_env *e, const char *id, const char *ontvanger, const char *regel, size_t *len);

/* Produces to the (unprefixed) topic with key; partition -1 lets the
 * partitioner choose. Headers event-type/melding-id/ontvanger are added for
 * meldingen when id is not NULL. Waits for the broker's acknowledgement
 * when sync is set; pt_flush() waits for all. */
void pt_produce(pt_env *e, const char *topic, const char *key, const void *value, size_t len,
                int partition, const char *id, const char *ontvanger);
void pt_flush(pt_env *e);

/* Reads an (unprefixed) topic from the start until idle_ms without records
 * and at least want records (or total_ms). Returns an array of objects
 * {"key", "headers": {...}, "value": natural JSON or null, "partition",
 * "offset", "raw": base64 value}. */
json_t *pt_read(pt_env *e, const char *topic, size_t want, int idle_ms, int total_ms);

/* The object in array whose member (a dotted path into it, e.g.
 * "value.melding_id") equals s, or NULL. */
json_t *pt_find(const json_t *array, const char *path, const char *s);
size_t pt_count(const json_t *array, const char *path, const char *s);
const char *pt_get(const json_t *obj, const char *path);

/* Checks a recorded request's webhook-signature with OpenSSL's HMAC,
 * independently of push_sign. 1 when valid. */
int pt_signature_valid(const char *whsec, const json_t *rec);

/* Waits until cond(ud) is true, at most ms; returns whether it became true. */
int pt_wait(int (*cond)(void *ud), void *ud, int ms);

/* A subscription entry (JSON, caller frees) for partner at the receiver's
 * path, with extra members (",\"limits\":{...}" or ""). */
char *pt_sub(const char *partner, const pt_receiver *r, const char *path, const char *secret,
             const char *extra);

/* Produces n meldingen (ids pt_uuid(s, 0..n-1)) for partner, keyed by its
 * code (partition -1) or into one partition, and waits for the broker. */
void pt_meldingen(pt_env *e, int s, int n, const char *partner, int partition);

/* Waits until the receiver answered 2xx to n requests on path; fails the
 * test after ms. */
void pt_wait_ok(const pt_receiver *r, const char *path, long n, int ms);

/* printf into a new string (caller frees). */
char *pt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

long long pt_now_ms(void);
void pt_sleep_ms(int ms);

/* Runs the ketenhub CLI with args (NULL-ended) and the env's Kafka settings
 * in the environment; returns its exit status and its stdout (caller frees). */
int pt_cli(pt_env *e, const char *const *args, char **out);

#endif
