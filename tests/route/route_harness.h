/*
 * route_harness — what the route service tests share: producing the case
 * stream (and poison records) in the wire format with the event headers,
 * starting ketenhub-route, reading its metrics, and comparing the melding
 * ids read back with the expected ones. Helpers fail the running Check
 * test on error (like testlib).
 */
#ifndef ROUTE_HARNESS_H
#define ROUTE_HARNESS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A growing list of melding ids (or any 36-character ids). */
typedef struct rh_ids {
    char (*id)[37];
    size_t n, cap;
} rh_ids;

void rh_ids_add(rh_ids *ids, const char *id);
void rh_ids_free(rh_ids *ids);

/* Compares got with want as multisets: fails the test naming the first
 * missing, extra or repeated id and the counts. */
void rh_ids_expect_equal(rh_ids *got, rh_ids *want);

/* The full name of topic under prefix, in a static buffer per slot (0-3). */
const char *rh_topic(const char *prefix, const char *topic, int slot);

/* The i-th test child: a valid BSN, deterministic. */
void rh_bsn(size_t i, char out[10]);

/* Produces events first .. first+count-1: event n is case
 * route_cases[n % route_case_count] with event id route_case_event_id(n)
 * and child rh_bsn(n % children), on its topic under prefix, keyed by the
 * child's pseudonym, with event-type, event-id and bron headers. Adds the
 * melding ids it must give to want (may be NULL) and returns how many of
 * the events are poison (must become dead letters). Waits for every
 * delivery. */
size_t rh_produce_cases(rd_kafka_t *p, const char *prefix, uint64_t first, size_t count,
                        size_t children, rh_ids *want);

/* One poison record of each wire class, produced on the aanmelding topic:
 * reasons[i] is its expected dlq-reason, offsets[i] where it landed. */
#define RH_RAW_POISON 4
typedef struct rh_poison {
    const char *reasons[RH_RAW_POISON];
    int32_t partitions[RH_RAW_POISON];
    int64_t offsets[RH_RAW_POISON];
} rh_poison;
void rh_produce_raw_poison(const char *bootstrap, const char *prefix, rh_poison *out);

/* Starts ketenhub-route on bootstrap with the given prefix, group and
 * instance, ops on port, logging to log; extra is a NULL-ended list of
 * "key=value" settings (may be NULL). */
pid_t rh_start_route(const char *bootstrap, const char *prefix, const char *group,
                     const char *instance, int port, const char *log, const char *const *extra);

/* The sum of every sample of metric `name` (any labels) on /metrics, or -1
 * when the endpoint does not answer. */
double rh_metric(int port, const char *name);

/* Whether the group's committed offsets reach the end of every partition
 * of the four event topics under prefix. */
int rh_caught_up(const char *bootstrap, const char *prefix, const char *group);

/* Waits until rh_caught_up, at most timeout_ms; fails the test otherwise. */
void rh_wait_caught_up(const char *bootstrap, const char *prefix, const char *group,
                       int timeout_ms);

/* Reads every melding on prefix+ketenhub.grensverkeer.v1 (read_committed;
 * at least `expect` unless the time runs out, then until idle),
 * checks each record's key and headers against its value, and adds the
 * melding ids to got. Returns the number of records. */
size_t rh_read_meldingen(const char *bootstrap, const char *prefix, size_t expect, rh_ids *got);

void rh_sleep_ms(int ms);

/* The real Apache Kafka of tests/with-kafka.sh (its KH_KAFKA_STATE), to
 * freeze (kill SIGSTOP/SIGCONT on pid), kill and start again on its data. */
typedef struct rh_broker {
    pid_t pid;
    char *cmdline; /* /proc/<pid>/cmdline, argv points into it */
    char **argv;
} rh_broker;

/* Fills b from the running broker. */
void rh_broker_find(rh_broker *b);

/* SIGKILL, and waits until it is gone. */
void rh_broker_kill(rh_broker *b);

/* Starts it again with the same command line (same data, same port) and
 * waits until bootstrap answers metadata. */
void rh_broker_restart(rh_broker *b, const char *bootstrap);

void rh_broker_free(rh_broker *b);

#endif
