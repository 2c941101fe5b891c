/*
 * kh_retry — the record that hands one delivery to ketenhub-push's retry
 * topic (ketenhub.push.retry.v1): written by push when an attempt must be
 * repeated later or a partner is backing off, and by `ketenhub deadletters
 * replay` to deliver a dead letter again. Shared so both sides agree.
 *
 *   key      the recipient's code ("GM0599"), so one partner's retries stay
 *            in one partition
 *   value    the original record value, unchanged (a melding or a raw event
 *            in the wire format)
 *   headers  ontvanger ("TYPE:CODE", the only partner it may go to),
 *            push-attempts, push-since, push-first-attempt,
 *            push-last-attempt, push-due (milliseconds since the epoch; 0
 *            for none), push-last-status, push-last-error (a status line or
 *            libcurl's error, never a body), push-origin-topic,
 *            push-origin-partition, push-origin-offset (where the original
 *            record is), push-origin-key (its key, raw bytes)
 */
#ifndef KH_RETRY_H
#define KH_RETRY_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* The topic name (before topic.prefix). */
#define KH_RETRY_TOPIC "ketenhub.push.retry.v1"

typedef struct kh_retry {
    char ontvanger[32];       /* "TYPE:CODE" */
    int attempts;             /* HTTP attempts made so far */
    int64_t since_ms;         /* when push first took the delivery on; its age counts from here */
    int64_t first_attempt_ms; /* 0 when none yet */
    int64_t last_attempt_ms;  /* 0 when none yet */
    int64_t due_ms;           /* not to be attempted before */
    long last_status;         /* HTTP status of the last attempt, 0 when none */
    char last_error[160];     /* what went wrong last, "" when nothing */
    char origin_topic[256];
    int32_t origin_partition;
    int64_t origin_offset;
} kh_retry;

/* The headers for r and the original key (may be NULL); the caller owns
 * them (or hands them to rd_kafka_producev). */
rd_kafka_headers_t *kh_retry_headers(const kh_retry *r, const void *origin_key, size_t keylen);

/* Reads the headers of a retry record into r; *origin_key points into h
 * (NULL when absent). Returns 0, or -1 with err naming the missing or
 * malformed header. */
int kh_retry_parse(const rd_kafka_headers_t *h, kh_retry *r, const void **origin_key,
                   size_t *keylen, char *err, size_t errlen);

/* The record key for recipient "TYPE:CODE": a pointer to its CODE part. */
const char *kh_retry_key(const char *ontvanger);

/* The hand-off that replays dead letter d (its natural JSON, a failed
 * delivery) to partner now: due at now_ms, origin taken from the dead
 * letter. What `ketenhub deadletters replay` and watch's redrive write. */
void kh_retry_for_deadletter(const json_t *d, const char *partner, int64_t now_ms, kh_retry *out);

#endif
