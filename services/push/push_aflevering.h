/*
 * push_aflevering — the processing-log record of one final delivery outcome
 * (schemas/avro/aflevering.avsc) for ketenhub.afleveringen.v1: who, where,
 * how many attempts, what came back, when. Never the payload, never a BSN.
 */
#ifndef PUSH_AFLEVERING_H
#define PUSH_AFLEVERING_H

#include "kh_schema.h"

#include <stddef.h>
#include <stdint.h>

typedef struct push_aflevering {
    const char *melding_id; /* the webhook-id */
    const char *ontvanger;  /* "TYPE:CODE" */
    const char *endpoint;   /* without credentials; NULL when there was no subscription */
    int attempts;
    long http_status;         /* 0: no response */
    int64_t first_attempt_ms; /* 0: none */
    int64_t last_attempt_ms;  /* 0: none */
    const char *outcome;      /* DELIVERED, REJECTED, EXPIRED or NO_SUBSCRIPTION */
    const char *error;        /* short, no payload; NULL for none */
} push_aflevering;

/* Encodes the record in the wire format into *value (caller frees).
 * Over-long endpoint and error texts are shortened to the schema's limits.
 * Returns 0, or -1 with err filled. */
int push_aflevering_encode(const kh_schemas *schemas, const push_aflevering *a, char **value,
                           size_t *len, char *err, size_t errlen);

#endif
