/*
 * termijn_harness — what the termijn service tests share: the topics, the
 * test clock file, producing events in the wire format keyed by the child's
 * pseudonym, starting ketenhub-termijn, and reading its meldingen back.
 * Helpers fail the running Check test on error.
 */
#ifndef TERMIJN_HARNESS_H
#define TERMIJN_HARNESS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <sys/types.h>

/* prefix + topic, in a static buffer per slot (0-7). */
const char *th_topic(const char *prefix, const char *topic, int slot);

/* Creates the four event topics, the melding, dead-letter and changelog
 * topics under prefix, each with `partitions` partitions. */
void th_create_topics(const char *bootstrap, const char *prefix, int partitions);

/* Writes the RFC 3339 time into the clock file. */
void th_set_clock(const char *file, const char *ts);

/* Produces one event: type is "aanmelding", ...; json its natural JSON
 * (the child's BSN inside is also the source of the key). */
void th_produce(rd_kafka_t *p, const char *prefix, const char *type, const char *json);

/* Produces bytes that are no Avro record on the aanmelding topic. */
void th_produce_poison(rd_kafka_t *p, const char *prefix);

/* Starts ketenhub-termijn; ops on port; extra "key=value" list may be NULL. */
pid_t th_start(const char *bootstrap, const char *prefix, const char *clock_file, int port,
               const char *log, const char *const *extra);

/* The sum of metric name on /metrics, -1 when it does not answer. */
double th_metric(int port, const char *name);

/* Waits (up to timeout_ms) until metric name reaches want; fails otherwise. */
void th_wait_metric(int port, const char *name, double want, int timeout_ms);

/* One melding as read back. */
typedef struct th_melding {
    char id[37], regel[48], ontvanger[24], achterhaalt[37], vervaldatum[11];
} th_melding;

/* Reads every melding (read_committed) under prefix into out (cap), waiting
 * for at least expect; checks key and headers against the value. Returns
 * how many were read. */
size_t th_read_meldingen(const char *bootstrap, const char *prefix, size_t expect, th_melding *out,
                         size_t cap);

/* How many meldingen of out[0..n) have regel and, when not NULL, ontvanger
 * "TYPE:CODE"; achterhaald: 1 follow-ups only, 0 originals only. */
size_t th_count(const th_melding *out, size_t n, const char *regel, const char *ontvanger,
                int achterhaald);

/* Fails when two meldingen share an id. */
void th_expect_unique(const th_melding *out, size_t n);

/* Keeps the first melding of each id (checking that meldingen with one id
 * are identical in regel and recipient); returns how many are left. */
size_t th_distinct(th_melding *out, size_t n);

void th_sleep_ms(int ms);

#endif
