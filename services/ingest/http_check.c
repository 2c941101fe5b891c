/*
 * http_check — the head checks, one small function per rule; the order of
 * ingest_http_check is the order a client learns most from (the syntax of
 * the fields first, then their meaning).
 */
#include "http_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int reject(ingest_http_verdict *v, ingest_problem_class c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(ingest_http_verdict *v, ingest_problem_class c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
    v->cls = c;
    return -1;
}

int ingest_http_is_token(const char *s, size_t len) {
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && (c == '\0' || !strchr(extra, c)))
            return 0;
    }
    return 1;
}

int ingest_http_target_bad(const char *raw) {
    for (const char *p = raw; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f)
            return 1;
        if (c == '%' && p[1] == '0' && p[2] == '0')
            return 1;
    }
    return 0;
}

int ingest_http_method_known(const char *method) {
    static const char *const known[] = {"GET",     "HEAD",  "POST",  "PUT",   "DELETE",
                                        "CONNECT", "OPTIONS", "TRACE", "PATCH", NULL};
    for (size_t i = 0; known[i]; i++)
        if (strcmp(method, known[i]) == 0)
            return 1;
    return 0;
}

const char *ingest_http_origin_path(const char *url) {
    size_t skip = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!skip)
        return url;
    const char *path = strchr(url + skip, '/');
    return path ? path : "/";
}

/* ---- the field lines ---------------------------------------------------------- */

static int names_and_values(const ingest_http_head *h, ingest_http_verdict *v) {
    for (size_t i = 0; i < h->nfields; i++) {
        const ingest_http_field *f = &h->fields[i];
        if (!ingest_http_is_token(f->name, f->name_len))
            return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                          "header field %zu: a field name is a token, with no whitespace before "
                          "the colon (RFC 9112 section 5.1)", i + 1);
        for (size_t j = 0; j < f->value_len; j++) {
            unsigned char c = (unsigned char)f->value[j];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                              "header field %zu holds a control character", i + 1);
        }
    }
    return 0;
}

/* libmicrohttpd reports the head's size in bytes. Each part is counted the
 * way a well-formed head writes it ("name: value" CRLF: one space of
 * whitespace), so more bytes than that mean bytes the library dropped: a NUL
 * and whatever followed it on its line, an obsolete line folding, or more
 * whitespace around a value than a sender should generate (RFC 9110 §5.6.3:
 * a single space). A head written more tightly is fine. */
static int accounted(const ingest_http_head *h, ingest_http_verdict *v) {
    if (!h->head_size)
        return 0;
    size_t want = strlen(h->method) + 1 + h->target_len + 1 + strlen(h->version) + 2 + 2;
    for (size_t i = 0; i < h->nfields; i++)
        want += h->fields[i].name_len + 2 + h->fields[i].value_len + 2;
    if (h->head_size > want)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "the request head holds %zu byte(s) no field accounts for: a NUL byte, an "
                      "obsolete line folding, or more than one space around a field value",
                      h->head_size - want);
    return 0;
}

/* ---- the fields' meaning -------------------------------------------------------- */

static size_t count(const ingest_http_head *h, const char *name, const ingest_http_field **last) {
    size_t n = 0, len = strlen(name);
    for (size_t i = 0; i < h->nfields; i++)
        if (h->fields[i].name_len == len && strncasecmp(h->fields[i].name, name, len) == 0) {
            n++;
            *last = &h->fields[i];
        }
    return n;
}

/* uri-host [":" port] (RFC 9110 §7.2): a reg-name, an IPv4 address or an
 * IP-literal in brackets, without userinfo. */
static int valid_host(const char *s, size_t len) {
    static const char extra[] = "-._~!$&'()*+,;=%";
    size_t i = 0;
    if (len && s[0] == '[') {
        while (i < len && s[i] != ']')
            i++;
        if (i == len)
            return 0;
        i++;
    } else {
        while (i < len && s[i] != ':') {
            char c = s[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c && strchr(extra, c))))
                return 0;
            i++;
        }
    }
    if (i < len && s[i++] != ':')
        return 0;
    for (; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int host(const ingest_http_head *h, ingest_http_verdict *v) {
    const ingest_http_field *f = NULL;
    size_t n = count(h, "Host", &f);
    int http11 = strcmp(h->version, "HTTP/1.1") == 0;
    if (n == 0 && http11)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "an HTTP/1.1 request must have a Host field");
    if (n > 1)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "the request has %zu Host fields; it must have one", n);
    if (n == 1 && !valid_host(f->value, f->value_len))
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "the Host field is not host[:port]");
    return 0;
}

/* Transfer-Encoding must be exactly "chunked": ingest decodes no other
 * coding (501), and a list with chunked not alone is framed ambiguously. */
static int transfer_coding(const ingest_http_field *f, ingest_http_verdict *v) {
    size_t at = 0, codings = 0;
    while (at <= f->value_len) {
        size_t end = at;
        while (end < f->value_len && f->value[end] != ',')
            end++;
        size_t a = at, b = end;
        while (a < b && (f->value[a] == ' ' || f->value[a] == '\t'))
            a++;
        while (b > a && (f->value[b - 1] == ' ' || f->value[b - 1] == '\t'))
            b--;
        if (b - a != 7 || strncasecmp(f->value + a, "chunked", 7) != 0)
            return reject(v, INGEST_PROBLEM_NOT_IMPLEMENTED,
                          "ingest decodes no transfer coding but chunked");
        codings++;
        at = end + 1;
    }
    if (codings != 1)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "Transfer-Encoding must name chunked once");
    return 0;
}

static int framing(const ingest_http_head *h, ingest_http_verdict *v) {
    const ingest_http_field *cl = NULL, *te = NULL;
    size_t ncl = count(h, "Content-Length", &cl), nte = count(h, "Transfer-Encoding", &te);
    if (ncl > 1)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "the request has %zu Content-Length fields; the body's length is ambiguous", ncl);
    if (ncl && nte)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "the request has both Content-Length and Transfer-Encoding; the body's "
                      "length is ambiguous (RFC 9112 section 6.3)");
    if (cl && (cl->value_len == 0 || strspn(cl->value, "0123456789") != cl->value_len))
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "Content-Length must be one decimal number");
    if (nte > 1)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "the request has %zu Transfer-Encoding fields", nte);
    if (te && strcmp(h->version, "HTTP/1.1") != 0)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "Transfer-Encoding needs HTTP/1.1");
    return te ? transfer_coding(te, v) : 0;
}

static int credentials_and_coding(const ingest_http_head *h, ingest_http_verdict *v) {
    const ingest_http_field *f = NULL;
    size_t n = count(h, "Authorization", &f);
    if (n > 1)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "the request has %zu Authorization fields; send one", n);
    for (size_t i = 0; i < h->nfields; i++) {
        const ingest_http_field *e = &h->fields[i];
        if (e->name_len == 16 && strncasecmp(e->name, "Content-Encoding", 16) == 0 &&
            !(e->value_len == 8 && strncasecmp(e->value, "identity", 8) == 0)) {
            v->accept_encoding = 1;
            return reject(v, INGEST_PROBLEM_MEDIA_TYPE,
                          "ingest takes no content coding: send the body as it is, without "
                          "Content-Encoding");
        }
    }
    return 0;
}

int ingest_http_check(const ingest_http_head *h, ingest_http_verdict *v) {
    memset(v, 0, sizeof *v);
    if (!ingest_http_is_token(h->method, strlen(h->method)))
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "the method is not a token");
    return names_and_values(h, v) || accounted(h, v) || host(h, v) || framing(h, v) ||
                   credentials_and_coding(h, v)
               ? -1
               : 0;
}
