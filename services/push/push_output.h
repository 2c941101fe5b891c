/*
 * push_output — everything push writes to Kafka: afleveringen, dead
 * letters and retry records, through one idempotent producer (acks=all).
 *
 * Records are written for a job; the job is finished (freed, and its
 * consumed record's reference dropped, see push_offsets.h) only when every
 * record written for it is acknowledged by the broker. A record the broker
 * does not acknowledge in time is written again, so a job is never finished
 * on a lost write. Single-threaded: delivery reports are served by
 * push_output_poll() in the caller's thread.
 */
#ifndef PUSH_OUTPUT_H
#define PUSH_OUTPUT_H

#include "kh_config.h"
#include "push_partner.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef struct push_output push_output;

/* The producer, from the kafka.* keys of c (see kh_kafka.h). NULL with err. */
push_output *push_output_new(const kh_config *c, char *err, size_t errlen);

/* Asks the broker for topic's metadata, as a producer, which creates the
 * topic where the broker allows automatic creation; waits up to 10 s for it
 * to exist and logs a warning, saying what happens until it does (unless),
 * when it does not. */
void push_output_ensure_topic(push_output *o, const char *topic, const char *unless);

/* Destroys the producer; call push_output_flush() first. */
void push_output_free(push_output *o);

/* Holds job open while several records are written for it: writes may be
 * acknowledged before the last one is sent. Pair with push_output_release. */
void push_output_hold(push_job *job);
void push_output_release(push_output *o, push_job *job);

/* Writes one record for job, which must be held (push_output_hold) by the
 * caller during the call. Value is copied; headers are taken over (also
 * on failure). Waits while the producer queue is full (at most 5,000
 * records unless kafka.queue.buffering.max.messages says otherwise),
 * serving delivery reports, except once kh_service_stop is set: then a full
 * queue fails at once ("producer queue full at shutdown"), so a broker
 * outage cannot hold up a SIGTERM. Returns 0, or -1 with err filled when
 * the record cannot be queued. */
int push_output_send(push_output *o, push_job *job, const char *topic, const void *key,
                     size_t keylen, const void *value, size_t len, rd_kafka_headers_t *headers,
                     char *err, size_t errlen);

/* Serves delivery reports (finishing jobs) and writes again what the
 * broker did not acknowledge; does not block. */
void push_output_poll(push_output *o);

/* Wakes fd (writes a byte) whenever delivery reports arrive. */
void push_output_wake_fd(push_output *o, int fd);

/* Records written and not yet acknowledged. */
size_t push_output_outstanding(const push_output *o);

/* Whether the producer hit a fatal error (then nothing more can be written
 * and the process must exit without committing further). */
int push_output_fatal(const push_output *o);

/* Waits up to timeout_ms for every record to be acknowledged, writing
 * again what was not. 0 when all were. */
int push_output_flush(push_output *o, int timeout_ms);

#endif
