/*
 * problem — the error catalogue of the ingest API as RFC 9457
 * application/problem+json bodies.
 *
 * Every answer other than a success is one of these classes. Each class has
 * a stable `type` URI (https://ketenhub.nl/problems/<slug>), a title and an
 * HTTP status; README.md documents them. Details name fields, not their
 * values. No answer may carry a BSN, in any form: a syntax detail gives
 * line and column and never the input near the fault, anything in a detail
 * that is a BSN is masked (kh_bsn_mask), and every run of digits in a
 * pointer that could be one is masked (ingest_problem_mask_digits).
 */
#ifndef INGEST_PROBLEM_H
#define INGEST_PROBLEM_H

#include <jansson.h>

#include "kh_problem.h"

typedef enum ingest_problem_class {
    INGEST_PROBLEM_SYNTAX,    /* 400 body not JSON, or not UTF-8 */
    INGEST_PROBLEM_BAD_BATCH, /* 400 an empty batch, or a batch line that is not {"type","event"} */
    INGEST_PROBLEM_BAD_REQUEST,       /* 400 the request is not well-formed HTTP (http_check.h) */
    INGEST_PROBLEM_UNAUTHORIZED,      /* 401 no or unknown API key */
    INGEST_PROBLEM_FORBIDDEN_TYPE,    /* 403 the partner may not send this event type */
    INGEST_PROBLEM_FORBIDDEN_BRON,    /* 403 envelope.bron is not the partner's own organisation */
    INGEST_PROBLEM_NOT_FOUND,         /* 404 */
    INGEST_PROBLEM_METHOD,            /* 405 */
    INGEST_PROBLEM_EVENT_ID_CONFLICT, /* 409 the event_id was used for a different event */
    INGEST_PROBLEM_TOO_LARGE,         /* 413 body or batch over the limit */
    INGEST_PROBLEM_URI_TOO_LONG,      /* 414 the request-target is over the limit */
    INGEST_PROBLEM_MEDIA_TYPE,        /* 415 */
    INGEST_PROBLEM_VALIDATION,        /* 422 schema or domain rule */
    INGEST_PROBLEM_RATE_LIMITED,      /* 429 */
    INGEST_PROBLEM_HEAD_TOO_LARGE,    /* 431 the request head is over the limit */
    INGEST_PROBLEM_INTERNAL,          /* 500 */
    INGEST_PROBLEM_NOT_IMPLEMENTED,   /* 501 an unknown method or transfer coding */
    INGEST_PROBLEM_VERSION,           /* 505 not HTTP/1.0 or HTTP/1.1 */
    INGEST_PROBLEM_UNAVAILABLE,       /* 503 the broker cannot take the write */
    INGEST_PROBLEM_SHUTTING_DOWN,     /* 503 the instance is stopping */
    INGEST_PROBLEM_COUNT
} ingest_problem_class;

typedef struct ingest_problem_info {
    const char *slug; /* last segment of the type URI; also the metric label */
    unsigned status;
    const char *title;
} ingest_problem_info;

/* A run of at least this many digits may hold a BSN (9 digits) or most of
 * one: masked in pointers. */
#define INGEST_PROBLEM_MASK_DIGITS 8

/* Copies in to out (len bytes with the NUL), each digit of every run of at
 * least INGEST_PROBLEM_MASK_DIGITS digits replaced by '*'. A run may have
 * separators between its digits (space, tab, . - _ / ~ , and backslash), so
 * "123 456 782" and "/123/456/782" are runs; any non-ASCII character
 * counts as a digit (Unicode has digits outside ASCII) and becomes one '*'.
 * Shorter runs (array indices, organisation codes) stay. */
void ingest_problem_mask_digits(const char *in, char *out, size_t len);

/* A detail fit to send: a syntax error's quote of the input cut (line and
 * column stay), BSNs masked. out has len bytes. */
void ingest_problem_detail(const char *text, char *out, size_t len);

const ingest_problem_info *ingest_problem_info_of(ingest_problem_class c);

/* A new problem object: type, title, status, detail, instance ("urn:uuid:"
 * + instance_id), and when fields is not NULL and not empty, "errors": one
 * {pointer, detail, reason} per field problem. The caller owns the result
 * (json_decref); NULL only when memory runs out. */
json_t *ingest_problem_new(ingest_problem_class c, const char *detail, const char *instance_id,
                           const kh_problems *fields);

#endif
