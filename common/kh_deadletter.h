/*
 * kh_deadletter — building the record a service writes to
 * ketenhub.deadletter.v1 when it gives up on a record (poison) or a
 * delivery (push): the DeadLetter Avro value (schemas/avro/deadletter.avsc)
 * plus headers carrying the reason and origin, so operators can filter
 * without decoding and replay can find the original.
 *
 * Headers: dlq-reason (the reason_code symbol), dlq-service,
 * dlq-origin-topic, dlq-origin-partition, dlq-origin-offset, and
 * dlq-ontvanger ("TYPE:CODE") for failed deliveries.
 *
 * The caller produces the result (in its transaction, if it has one) with
 * the original key, so a child's dead letters stay in one partition.
 */
#ifndef KH_DEADLETTER_H
#define KH_DEADLETTER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "kh_schema.h"

/* The reasons, one row each in the table of kh_deadletter.c (name and
 * meaning), in the order of the DeadLetterReason symbols of
 * schemas/avro/deadletter.avsc and the README's dead-letter table, which
 * test_deadletter checks against it. */
typedef enum kh_dl_reason {
    KH_DL_BAD_MAGIC_BYTE,
    KH_DL_UNKNOWN_SCHEMA_ID,
    KH_DL_UNDECODABLE,
    KH_DL_UNKNOWN_REFERENCE_CODE,
    KH_DL_INVALID_EVENT,
    KH_DL_DELIVERY_REJECTED,
    KH_DL_DELIVERY_EXPIRED,
    KH_DL_NO_SUBSCRIPTION,
    KH_DL_REASONS /* the number of reasons, not a reason */
} kh_dl_reason;

typedef struct kh_dl_reason_desc {
    kh_dl_reason reason;
    const char *name;    /* the DeadLetterReason symbol and dlq-reason header: "UNDECODABLE" */
    const char *meaning; /* one line for people (the CLI's help, errors) */
} kh_dl_reason_desc;

/* The row of reason; NULL when it is not a reason. Static storage. */
const kh_dl_reason_desc *kh_dl_reason_desc_of(kh_dl_reason reason);

/* The name of reason ("UNDECODABLE"); "" when it is not a reason. */
const char *kh_dl_reason_name(kh_dl_reason reason);

/* The reason called name; -1 when there is none. */
int kh_dl_reason_by_name(const char *name);

/* Whether reason is a failed delivery of push (replayable per partner). */
int kh_dl_reason_is_delivery(kh_dl_reason reason);

typedef struct kh_deadletter {
    const char *reason_code; /* a reason's name: kh_dl_reason_name(KH_DL_UNDECODABLE), ... */
    const char *reason;      /* human-readable, never payload content or a BSN */
    const char *service;     /* "route", "push" */
    const rd_kafka_message_t *origin; /* the failed record: topic, partition, offset, key, value */
    const char *ontvanger_type;       /* for deliveries: the partner; else NULL */
    const char *ontvanger_code;
} kh_deadletter;

/* Encodes the DeadLetter value (wire format; caller frees *value) and makes
 * the headers (caller owns them, or hands them to rd_kafka_producev with
 * RD_KAFKA_V_HEADERS, which takes them over on success). Returns 0, or -1
 * with err filled (e.g. an unknown reason_code). */
int kh_deadletter_build(const kh_schemas *schemas, const kh_deadletter *dl, char **value,
                        size_t *len, rd_kafka_headers_t **headers, char *err, size_t errlen);

#endif
