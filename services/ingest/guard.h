/*
 * guard — the framing of one connection's request stream, checked byte by
 * byte as the client sends it, before libmicrohttpd reads any of it.
 *
 * A stream is: [up to INGEST_GUARD_BLANK_MAX empty lines] head, body,
 * [empty lines] head, body, ... Each head is checked whole by
 * ingest_http_check_framed (the same rules as every head). Its body is
 * Content-Length bytes, or chunked (RFC 9112 §7.1): a chunk-size line
 * (hex digits, optional extensions, CRLF), the data, CRLF, ..., a last
 * chunk of size 0, a trailer section of field lines, an empty line. The
 * empty lines before a request line are skipped (RFC 9112 §2.2: a server
 * SHOULD ignore at least one). front.c forwards only what this passed,
 * and counts the library's answers coming back (ingest_guard_answers).
 *
 * Everything is bounded: a chunk size over the largest body ingest takes
 * (413), a chunk-size line over INGEST_GUARD_LINE_MAX bytes (400), a
 * trailer section over INGEST_HTTP_HEAD_MAX bytes or INGEST_HTTP_FIELDS_MAX
 * fields (431). Pure; one per connection, not shared between threads.
 */
#ifndef INGEST_GUARD_H
#define INGEST_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "http_check.h"

/* The most empty lines skipped before one request line. */
#define INGEST_GUARD_BLANK_MAX 4
/* The longest chunk-size line, extensions included. */
#define INGEST_GUARD_LINE_MAX 1024

typedef enum ingest_guard_step {
    INGEST_GUARD_MORE, /* nothing can be decided before more bytes come */
    INGEST_GUARD_PASS, /* the first *n bytes are well-framed: forward them */
    INGEST_GUARD_SKIP, /* drop the first *n bytes (an empty line before a request line) */
    INGEST_GUARD_BAD   /* a violation: the rejection is in *v */
} ingest_guard_step;

typedef enum ingest_guard_state {
    INGEST_GUARD_HEAD, /* between requests, or within a head */
    INGEST_GUARD_BODY, /* Content-Length bytes */
    INGEST_GUARD_SIZE, /* a chunk-size line */
    INGEST_GUARD_DATA, /* a chunk's data */
    INGEST_GUARD_CRLF, /* the CRLF after a chunk's data */
    INGEST_GUARD_TRAILER
} ingest_guard_state;

typedef struct ingest_guard {
    ingest_guard_state state;
    unsigned long long left;     /* bytes of the body or the chunk still to come */
    unsigned long long body_max; /* the largest body ingest takes */
    size_t trailer, trailer_fields;
    unsigned blank; /* empty lines skipped before the current head */
    size_t heads;   /* heads passed so far */
} ingest_guard;

/* The most requests forwarded and not yet answered on one connection. */
#define INGEST_GUARD_PIPELINE_MAX 64

/* The library's answers as they pass back to the client, counted, so
 * front.c knows when every request forwarded whole has its answer. They are
 * ingest's own (api.c): a status line, fields with a Content-Length, and
 * that many bytes of body; none after a HEAD request or in a 204 or 304; a
 * 1xx answer (100 Continue) is interim and not counted. */
typedef struct ingest_guard_answers {
    size_t count;          /* answers complete */
    uint64_t head_methods; /* bit (request % INGEST_GUARD_PIPELINE_MAX): a HEAD request */
    int first, body;       /* the next line is a status line; within a body */
    unsigned status;
    unsigned long long length, left;
    char line[64]; /* the current head line, cut (only short ones matter) */
    size_t line_len;
} ingest_guard_answers;

/* A guard at the start of a connection. */
void ingest_guard_init(ingest_guard *g, unsigned long long body_max);

/* Looks at buf[0..len), the bytes that follow those already passed or
 * skipped. On PASS *n bytes are passed, and *head is 1 when they are a
 * whole head (else 0). Call again with the rest. */
ingest_guard_step ingest_guard_scan(ingest_guard *g, const char *buf, size_t len, size_t *n,
                                    int *head, ingest_http_verdict *v);

void ingest_guard_answers_init(ingest_guard_answers *a);

/* Request number n (0 for a connection's first) is a HEAD request, or not. */
void ingest_guard_answers_request(ingest_guard_answers *a, size_t n, int head);

/* Counts the answers in p[0..len), stopping once `until` answers are
 * complete. Returns how many of the bytes it took (all, unless it stopped). */
size_t ingest_guard_answers_scan(ingest_guard_answers *a, const char *p, size_t len, size_t until);

#endif
