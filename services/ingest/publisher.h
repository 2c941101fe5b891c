/*
 * publisher — the Kafka side of ingest: one idempotent producer (acks=all,
 * from kh_kafka), a thread that serves its delivery reports, and the
 * broker's readiness.
 *
 * A record is produced with an opaque pointer; when the broker has
 * acknowledged it (or the write failed for good, at the latest after
 * kafka.message.timeout.ms) the done callback is called with that pointer,
 * from the delivery thread. Nothing blocks a caller while the broker works.
 *
 * Readiness: the broker counts as reachable after a metadata request
 * succeeded, and as unreachable as soon as librdkafka reports every broker
 * down or a probe fails. ingest_publisher_probe() (the main loop calls it every
 * broker.probe_ms) asks again, so readiness comes back within one probe
 * interval of the broker.
 */
#ifndef INGEST_PUBLISHER_H
#define INGEST_PUBLISHER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_config.h"

typedef struct publisher publisher;

/* The outcome of one record. possibly_persisted tells, for a failure,
 * whether the broker may have stored it all the same (a timeout after
 * sending). */
typedef struct publisher_report {
    rd_kafka_resp_err_t err;
    int possibly_persisted;
    int32_t partition;
    int64_t offset;
} publisher_report;

typedef void (*publisher_done_fn)(void *opaque, const publisher_report *report, void *ud);

/* A producer on the kafka.* keys of c for the given topics (full names,
 * copied) and its delivery thread. Returns NULL with a message in err. */
publisher *ingest_publisher_new(const kh_config *c, const char *const *topics, size_t ntopics,
                                publisher_done_fn done, void *ud, char *err, size_t errlen);

/* The full name of topic i, valid as long as the publisher. */
const char *ingest_publisher_topic(const publisher *p, size_t i);

/* Hands a record to the producer. key is copied; value (malloc'd) is taken
 * over on success and stays the caller's on failure. The headers event-type,
 * event-id and bron are added. Returns 0, or the librdkafka error
 * (e.g. RD_KAFKA_RESP_ERR__QUEUE_FULL) and done is never called. */
rd_kafka_resp_err_t ingest_publisher_produce(publisher *p, size_t topic, const char *key,
                                             char *value, size_t len, const char *event_type,
                                             const char *event_id, const char *bron, void *opaque);

/* 1 when the broker is reachable; otherwise 0 with the reason in why. */
int ingest_publisher_ready(publisher *p, char *why, size_t whylen);

/* Asks the broker for metadata (waiting at most timeout_ms) and updates the
 * readiness. Called from one thread (the main loop). */
void ingest_publisher_probe(publisher *p, int timeout_ms);

/* 1 after a fatal producer error: the producer cannot write any more. */
int ingest_publisher_failed(publisher *p, char *why, size_t whylen);

/* Records handed over and not yet reported. */
int64_t ingest_publisher_in_flight(publisher *p);

/* Fails every record still queued or in flight (done is called for each
 * with RD_KAFKA_RESP_ERR__PURGE_*): the last resort of a shutdown whose
 * grace period ran out. */
void ingest_publisher_purge(publisher *p);

/* Flushes (at most timeout_ms), stops the delivery thread and frees. */
void ingest_publisher_close(publisher *p, int timeout_ms);

#endif
