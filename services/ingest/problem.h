/*
 * problem — the error catalogue of the ingest API as RFC 9457
 * application/problem+json bodies.
 *
 * Every answer other than a success is one of these classes. Each class has
 * a stable `type` URI (https://ketenhub.nl/problems/<slug>), a title and an
 * HTTP status; README.md documents them. Details name fields, not their
 * values; a syntax detail may quote the JSON token near the fault, and
 * anything in a detail that is a BSN is masked (kh_bsn_mask).
 */
#ifndef INGEST_PROBLEM_H
#define INGEST_PROBLEM_H

#include <jansson.h>

#include "kh_problem.h"

typedef enum problem_class {
    PROBLEM_SYNTAX,          /* 400 body not JSON, or not UTF-8 */
    PROBLEM_BAD_BATCH,       /* 400 an empty batch, or a batch line that is not {"type","event"} */
    PROBLEM_UNAUTHORIZED,    /* 401 no or unknown API key */
    PROBLEM_FORBIDDEN_TYPE,  /* 403 the partner may not send this event type */
    PROBLEM_FORBIDDEN_BRON,  /* 403 envelope.bron is not the partner's own organisation */
    PROBLEM_NOT_FOUND,       /* 404 */
    PROBLEM_METHOD,          /* 405 */
    PROBLEM_TOO_LARGE,       /* 413 body or batch over the limit */
    PROBLEM_MEDIA_TYPE,      /* 415 */
    PROBLEM_VALIDATION,      /* 422 schema or domain rule */
    PROBLEM_RATE_LIMITED,    /* 429 */
    PROBLEM_INTERNAL,        /* 500 */
    PROBLEM_UNAVAILABLE,     /* 503 the broker cannot take the write */
    PROBLEM_SHUTTING_DOWN,   /* 503 the instance is stopping */
    PROBLEM_COUNT
} problem_class;

typedef struct problem_info {
    const char *slug;   /* last segment of the type URI; also the metric label */
    unsigned status;
    const char *title;
} problem_info;

const problem_info *problem_info_of(problem_class c);

/* A new problem object: type, title, status, detail, instance ("urn:uuid:"
 * + instance_id), and when fields is not NULL and not empty, "errors": one
 * {pointer, detail, reason} per field problem. The caller owns the result
 * (json_decref); NULL only when memory runs out. */
json_t *problem_new(problem_class c, const char *detail, const char *instance_id,
                    const kh_problems *fields);

#endif
