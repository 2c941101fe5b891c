/*
 * harness — what the ingest service tests share: a partners file built
 * from the example events, starting ketenhub-ingest on a broker, HTTP over
 * libcurl, and reading the event topics back.
 *
 * Every helper fails the running Check test on error (ck_assert).
 */
#ifndef INGEST_HARNESS_H
#define INGEST_HARNESS_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The pseudonym secret the harness gives ingest. */
#define IH_SECRET "ingest-test-secret-0123456789abcdef"

/* A running ketenhub-ingest. */
typedef struct ih_ingest {
    pid_t pid;
    int port;
    int tls;
    char prefix[64]; /* its topic.prefix */
    char dir[128];   /* its scratch dir: partners.json, ingest.log */
    char partners[192];
    char log[192];
    char ca[192]; /* TLS: the certificate to trust */
    char bootstrap[512];
} ih_ingest;

/* Writes the test partners file into dir/partners.json. Each organisation
 * that issues a valid example gets a partner "p-<code>" with key
 * "key-<code>" (its code as in the example), allowed every event type its
 * organisation type issues, without a rate limit. Besides:
 *   "limited"   SCHOOL 14CA00, key "key-limited", 1 request/s, burst 2
 *   "only-besch" GEMEENTE GM0599, key "key-only-besch", only beschikking
 * extra: more partner objects to add (may be NULL). */
void ih_write_partners(const char *path, json_t *extra);

/* Starts ingest on bootstrap with a fresh topic prefix, the test partners
 * and the extra "key=value" settings (NULL-ended, may be NULL); waits until
 * /readyz answers 200. With tls, serves HTTPS with a certificate made by the
 * openssl CLI. */
void ih_start(ih_ingest *in, const char *bootstrap, const char *const *sets, int tls);

/* Stops it with sig and returns its exit status. */
int ih_stop(ih_ingest *in, int sig);

/* Removes its scratch dir (after ih_stop). A failing test leaves it, with
 * the log, for a look. */
void ih_cleanup(ih_ingest *in);

/* The full name of an event topic of this ingest ("aanmelding"). */
const char *ih_topic(const ih_ingest *in, const char *event, char *buf, size_t len);

typedef struct ih_reply {
    long status;
    int curl_error; /* CURLcode; 0 when an answer came */
    char *body;     /* malloc'd, NUL-terminated */
    size_t len;
    char content_type[128];
    char retry_after[32];
    char allow[64];
    char www_authenticate[160];
    char replayed[16];
    char connection[32];
    long new_connections; /* connections curl opened for this request (0: kept alive) */
    json_t *json;         /* body parsed, or NULL */
} ih_reply;

void ih_reply_free(ih_reply *r);

/* POST body to path with Authorization: Bearer key (none when key is NULL)
 * and the content type (none when NULL). chunked: no Content-Length. */
void ih_post(const ih_ingest *in, const char *path, const char *key, const char *type,
             const char *body, size_t len, int chunked, ih_reply *out);

/* The same over the caller's libcurl handle (a CURL *), so a thread can
 * keep its connection alive across requests. */
void ih_post_on(void *curl, const ih_ingest *in, const char *path, const char *key,
                const char *type, const char *body, size_t len, ih_reply *out);

/* A request with any method and no body. */
void ih_request(const ih_ingest *in, const char *method, const char *path, ih_reply *out);

/* An example file's text (schemas/examples/<rel>), malloc'd. */
char *ih_example(const char *rel, size_t *len);

/* The key of the partner "p-<code>" for the example's bron. */
const char *ih_key_for(const char *example_text, char *buf, size_t len);

/* The example with envelope.event_id set to id (a fresh UUID when id is
 * NULL; written into id_out when not NULL), as compact JSON, malloc'd. */
char *ih_with_event_id(const char *example_text, const char *id, char id_out[37]);

/* One record read back from a topic. */
typedef struct ih_record {
    int32_t partition;
    int64_t offset;
    char key[80];
    char event_type[32];
    char event_id[40];
    char bron[32];
    void *value;
    size_t value_len;
} ih_record;

typedef struct ih_records {
    ih_record *items;
    size_t count;
} ih_records;

/* Every record of the topic: as many as its watermarks say it holds.
 * Free with ih_records_free. */
void ih_read(const ih_ingest *in, const char *event, ih_records *out);
void ih_records_free(ih_records *r);

/* The number of records on all four event topics together, from the
 * partitions' watermarks (no waiting for idle). */
size_t ih_count_all(const ih_ingest *in);

/* A number from /metrics: the sample line starting with `series` (the
 * name with its labels, exactly as rendered); -1 when absent. */
double ih_metric(const ih_ingest *in, const char *series);

void ih_sleep_ms(int ms);

/* ---- raw bytes over TCP: for what no HTTP client would send ---------------- */

/* What came back on a raw connection. */
typedef struct ih_raw {
    char *data; /* every byte received, NUL-terminated, malloc'd */
    size_t len;
    int closed;             /* 1: the server closed the connection */
    long status;            /* of the first status line; 0 when none */
    int status_lines;       /* lines starting "HTTP/1." (2 means a doubled answer) */
    char content_type[128]; /* of the first answer */
    char connection[32];
    char accept_encoding[64];
    json_t *json; /* the first answer's body, parsed, or NULL */
} ih_raw;

/* A TCP connection to ingest from the loopback address src ("127.0.0.2";
 * NULL: the kernel's choice). Fails the test when it cannot connect. */
int ih_raw_connect(const ih_ingest *in, const char *src);

/* Writes all len bytes (NULs included). */
void ih_raw_send(int fd, const void *data, size_t len);

/* Reads until the server closes or wait_ms pass without a byte, then
 * parses the first answer. */
void ih_raw_read(int fd, int wait_ms, ih_raw *out);

/* Connects from 127.0.0.1, sends len bytes, reads (10 s at most) and
 * closes. */
void ih_raw_exchange(const ih_ingest *in, const void *request, size_t len, ih_raw *out);

void ih_raw_free(ih_raw *r);

#endif
