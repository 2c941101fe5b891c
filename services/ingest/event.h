/*
 * event — one partner event from natural JSON to the record ingest
 * produces: the hub's envelope fields, the schema and domain rules
 * (kh_intake), the partner acting as itself, and the record key.
 */
#ifndef INGEST_EVENT_H
#define INGEST_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_event.h"
#include "kh_problem.h"
#include "kh_ref.h"
#include "kh_schema.h"
#include "partners.h"

/* What every event check needs; read-only, shared by all threads. */
typedef struct ingest_event_ctx {
    const kh_schemas *schemas;
    kh_refstore *refs;
    const unsigned char *secret; /* pseudonym.secret */
    size_t secretlen;
} ingest_event_ctx;

typedef enum ingest_event_verdict {
    INGEST_EVENT_OK,
    INGEST_EVENT_INVALID,      /* schema or rule failures, each in the problem list */
    INGEST_EVENT_NOT_OWN_BRON, /* valid, but envelope.bron is not the partner's organisation */
    INGEST_EVENT_INTERNAL      /* valid, but the hub could not key it (OpenSSL failed) */
} ingest_event_verdict;

typedef struct ingest_event_record {
    char event_id[37]; /* as sent, or assigned by the hub */
    unsigned char id[16];
    char key[65];             /* the child pseudonym: the record key */
    unsigned char digest[32]; /* SHA-256 of the canonical event (below) */
    char *wire;               /* Confluent wire format, malloc'd, the caller's */
    size_t wire_len;
} ingest_event_record;

/* The canonical event, whose SHA-256 is rec->digest: the event's JSON with
 * envelope.received_at (the hub's, different on every submission) left
 * out, every null member left out (the same as an absent optional field),
 * keys sorted, compact. So a resubmission with its keys in another order,
 * other whitespace or another received_at is the same event; any other
 * difference in any value makes it another one. */

/* Completes the envelope of ev (in place: event_id when missing, received_at
 * always, both set by the hub), checks it for partner p at now_ms and
 * encodes it. On INGEST_EVENT_OK rec is filled and rec->wire is the caller's; on
 * INGEST_EVENT_INVALID every problem is in probs; rec->wire is then NULL. */
ingest_event_verdict ingest_event_prepare(const ingest_event_ctx *ctx, const kh_event_type *t,
                                          json_t *ev, const partner *p, int64_t now_ms,
                                          ingest_event_record *rec, kh_problems *probs);

#endif
