/*
 * http_check — the strict checks ingest makes on a request head before it
 * reads a body (RFC 9110, RFC 9112), on top of what libmicrohttpd checks.
 *
 * libmicrohttpd 0.9.75 hands the access handler every header line it
 * parsed, in order, repeated names included, but it is lenient: it keeps
 * "Name : value" as a field named "Name ", cuts a value at a NUL byte, lets
 * two Content-Length fields or Content-Length with Transfer-Encoding pass,
 * and waits for the end of the connection on an unknown transfer coding.
 * These functions decide on the head alone; api.c feeds them what the
 * library reports and answers the verdict, front.c the raw bytes of every
 * request head (ingest_http_check_framed, which ends in the same
 * ingest_http_check). Pure and thread-safe.
 */
#ifndef INGEST_HTTP_CHECK_H
#define INGEST_HTTP_CHECK_H

#include <stddef.h>

#include "problem.h"

typedef struct ingest_http_field {
    const char *name, *value;
    size_t name_len, value_len;
} ingest_http_field;

typedef struct ingest_http_head {
    const char *method;
    const char *version;             /* "HTTP/1.1" */
    size_t target_len;               /* bytes of the raw request-target */
    size_t head_size;                /* bytes of the whole head as received; 0: unknown */
    const ingest_http_field *fields; /* every field line, in order */
    size_t nfields;
} ingest_http_head;

typedef struct ingest_http_verdict {
    ingest_problem_class cls;
    char detail[256];
    int accept_encoding; /* a 415 for Content-Encoding: send Accept-Encoding: identity */
} ingest_http_verdict;

/* 0 when the head is acceptable; -1 with the rejection in *v. Checked, in
 * this order: field names are tokens; values hold no control character;
 * the head has no bytes its parts do not account for (a NUL byte, which
 * libmicrohttpd cuts a line at, or an obsolete line folding); Host;
 * Content-Length and Transfer-Encoding framing; one Authorization;
 * Content-Encoding identity only. Details never quote a value. */
int ingest_http_check(const ingest_http_head *h, ingest_http_verdict *v);

/* A request head as received, before libmicrohttpd reads it (front.h
 * checks every head of every connection). Larger heads, targets or
 * more fields than these are refused (431, 414) before the library sees
 * them, so its own HTML answers for those never occur. */
#define INGEST_HTTP_HEAD_MAX 8192
#define INGEST_HTTP_TARGET_MAX 4096
#define INGEST_HTTP_FIELDS_MAX 100

/* Checks the raw bytes buf[0..len) that start a request. 1: no complete
 * head yet and still under INGEST_HTTP_HEAD_MAX (wait for more); 0: the
 * head is complete and acceptable; -1 with the rejection in *v. The request
 * line must be exactly method SP target SP HTTP/1.x CRLF (a target over
 * INGEST_HTTP_TARGET_MAX is 414, another HTTP version 505); every line ends
 * in CRLF; each field line is name ":" OWS value OWS (no folding; more than
 * INGEST_HTTP_FIELDS_MAX fields or a head over INGEST_HTTP_HEAD_MAX is 431);
 * then the target as ingest_http_target_bad and the head as
 * ingest_http_check, so both paths apply the same rules. */
int ingest_http_check_raw(const char *buf, size_t len, ingest_http_verdict *v);

/* How the body of an accepted head is framed (RFC 9112 §6.3). */
typedef struct ingest_http_framing {
    size_t head_len;           /* bytes of the head, its empty line included */
    int chunked;               /* Transfer-Encoding: chunked */
    unsigned long long length; /* else Content-Length; 0 when there is none */
} ingest_http_framing;

/* ingest_http_check_raw, and on 0 the framing of the head in *fr. */
int ingest_http_check_framed(const char *buf, size_t len, ingest_http_verdict *v,
                             ingest_http_framing *fr);

/* 1 when the raw request-target (as received, before percent-decoding) is
 * unacceptable: an encoded NUL (%00), a control character, a space or a
 * byte over 0x7e. */
int ingest_http_target_bad(const char *raw);

/* 1 for a method RFC 9110 or RFC 5789 defines (answered 405 where not
 * allowed), 0 for any other (answered 501, or 400 when it is no token). */
int ingest_http_method_known(const char *method);

/* 1 when s is a token (RFC 9110 §5.6.2): one or more tchar. */
int ingest_http_is_token(const char *s, size_t len);

/* The path of a request-target: an absolute-form target
 * ("http://host:port/path", RFC 9112 §3.2.2) gives its path ("/" when it
 * has none); an origin-form target is returned as it is. Points into url. */
const char *ingest_http_origin_path(const char *url);

#endif
