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

static int target_bad_n(const char *raw, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c <= 0x20 || c >= 0x7f)
            return 1;
        if (c == '%' && i + 2 < len && raw[i + 1] == '0' && raw[i + 2] == '0')
            return 1;
    }
    return 0;
}

int ingest_http_target_bad(const char *raw) { return target_bad_n(raw, strlen(raw)); }

int ingest_http_method_known(const char *method) {
    static const char *const known[] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                        "CONNECT", "OPTIONS", "TRACE", "PATCH", NULL};
    for (size_t i = 0; known[i]; i++)
        if (strcmp(method, known[i]) == 0)
            return 1;
    return 0;
}

const char *ingest_http_origin_path(const char *url) {
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
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
                          "the colon (RFC 9112 section 5.1)",
                          i + 1);
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
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "the request has %zu Host fields; it must have one", n);
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
                      "the request has %zu Content-Length fields; the body's length is ambiguous",
                      ncl);
    if (ncl && nte)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "the request has both Content-Length and Transfer-Encoding; the body's "
                      "length is ambiguous (RFC 9112 section 6.3)");
    if (cl && (cl->value_len == 0 || strspn(cl->value, "0123456789") < cl->value_len))
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "Content-Length must be one decimal number");
    if (cl && cl->value_len > 18)
        return reject(v, INGEST_PROBLEM_TOO_LARGE,
                      "the Content-Length is larger than any body ingest takes");
    if (nte > 1)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "the request has %zu Transfer-Encoding fields",
                      nte);
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

/* ---- the raw head of a request --------------------------------------------------- */

/* The length of the head up to and including its empty line, or 0 when it
 * has none yet. A bare LF ends a line here too, so a head written with
 * them is complete (and then refused by lines()). */
static size_t head_end(const char *buf, size_t len) {
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '\n') {
            if (buf[i + 1] == '\n')
                return i + 2;
            if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
                return i + 3;
        }
    return 0;
}

/* No head within INGEST_HTTP_HEAD_MAX bytes: a request line that does not
 * end is a target too long (414), else the fields are (431). */
static int too_large(const char *buf, size_t len, ingest_http_verdict *v) {
    if (!memchr(buf, '\n', len) && memchr(buf, ' ', len))
        return reject(v, INGEST_PROBLEM_URI_TOO_LONG, "the request-target may be at most %d bytes",
                      INGEST_HTTP_TARGET_MAX);
    return reject(v, INGEST_PROBLEM_HEAD_TOO_LARGE, "the request head may be at most %d bytes",
                  INGEST_HTTP_HEAD_MAX);
}

/* method SP request-target SP HTTP-version (RFC 9112 §3), line without CRLF. */
static int request_line(const char *line, size_t len, char *method, size_t mlen, char *version,
                        size_t *target_len, ingest_http_verdict *v) {
    const char *sp1 = memchr(line, ' ', len);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
    if (!sp2 || sp1 == line || sp2 == sp1 + 1 ||
        memchr(sp2 + 1, ' ', len - (size_t)(sp2 + 1 - line)))
        return reject(
            v, INGEST_PROBLEM_BAD_REQUEST,
            "the request line must be: method, one space, target, one space, HTTP version");
    size_t ml = (size_t)(sp1 - line), tl = (size_t)(sp2 - sp1 - 1),
           vl = len - (size_t)(sp2 + 1 - line);
    if (!ingest_http_is_token(line, ml))
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "the method is not a token");
    if (ml >= mlen)
        return reject(v, INGEST_PROBLEM_NOT_IMPLEMENTED,
                      "ingest knows no such method; the API uses GET, HEAD and POST");
    if (tl > INGEST_HTTP_TARGET_MAX)
        return reject(v, INGEST_PROBLEM_URI_TOO_LONG, "the request-target may be at most %d bytes",
                      INGEST_HTTP_TARGET_MAX);
    if (target_bad_n(sp1 + 1, tl))
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "the request-target holds an encoded NUL (%%00), a control character, a "
                      "space or a byte that is not ASCII");
    const char *ver = sp2 + 1;
    int shaped = vl == 8 && memcmp(ver, "HTTP/", 5) == 0 && ver[5] >= '0' && ver[5] <= '9' &&
                 ver[6] == '.' && ver[7] >= '0' && ver[7] <= '9';
    if (!shaped)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "the request line does not end in an HTTP version");
    if (memcmp(ver, "HTTP/1.1", 8) != 0 && memcmp(ver, "HTTP/1.0", 8) != 0)
        return reject(v, INGEST_PROBLEM_VERSION, "ingest speaks HTTP/1.1 and HTTP/1.0");
    memcpy(method, line, ml);
    method[ml] = '\0';
    memcpy(version, ver, vl);
    version[vl] = '\0';
    *target_len = tl;
    return 0;
}

/* One field line, without CRLF: name ":" OWS value OWS (RFC 9112 §5). */
static int field_line(const char *line, size_t len, size_t n, ingest_http_field *f,
                      ingest_http_verdict *v) {
    if (len && (line[0] == ' ' || line[0] == '\t'))
        return reject(v, INGEST_PROBLEM_BAD_REQUEST,
                      "header field %zu is an obsolete line folding (RFC 9112 section 5.2)", n);
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return reject(v, INGEST_PROBLEM_BAD_REQUEST, "header field %zu has no colon", n);
    const char *a = colon + 1, *b = line + len;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    *f = (ingest_http_field){line, a, (size_t)(colon - line), (size_t)(b - a)};
    return 0;
}

/* Splits the head (head_end bytes) into its lines; every one ends in CRLF. */
static int lines(const char *buf, size_t len, char *method, char *version, size_t *target_len,
                 ingest_http_field *fields, size_t *nfields, ingest_http_verdict *v) {
    size_t at = 0, n = 0;
    while (at < len) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t end = (size_t)(nl - buf);
        if (end == at || buf[end - 1] != '\r' || memchr(buf + at, '\r', end - 1 - at))
            return reject(v, INGEST_PROBLEM_BAD_REQUEST, "every line of the head ends in CR LF");
        size_t line_len = end - 1 - at;
        if (line_len == 0 && at == 0)
            return reject(v, INGEST_PROBLEM_BAD_REQUEST, "the head starts with an empty line");
        if (line_len == 0)
            break;
        if (at == 0) {
            if (request_line(buf, line_len, method, 64, version, target_len, v))
                return -1;
        } else if (n == INGEST_HTTP_FIELDS_MAX) {
            return reject(v, INGEST_PROBLEM_HEAD_TOO_LARGE,
                          "the request head may have at most %d fields", INGEST_HTTP_FIELDS_MAX);
        } else if (field_line(buf + at, line_len, n + 1, &fields[n], v)) {
            return -1;
        } else {
            n++;
        }
        at = end + 1;
    }
    *nfields = n;
    return 0;
}

/* The framing of a head ingest_http_check accepted: at most one
 * Content-Length of at most 18 digits, or Transfer-Encoding: chunked. */
static void framing_of(const ingest_http_field *fields, size_t n, ingest_http_framing *fr) {
    for (size_t i = 0; i < n; i++) {
        const ingest_http_field *f = &fields[i];
        if (f->name_len == 17 && strncasecmp(f->name, "Transfer-Encoding", 17) == 0)
            fr->chunked = 1;
        if (f->name_len == 14 && strncasecmp(f->name, "Content-Length", 14) == 0)
            for (size_t j = 0; j < f->value_len; j++)
                fr->length = fr->length * 10 + (unsigned long long)(f->value[j] - '0');
    }
}

int ingest_http_check_framed(const char *buf, size_t len, ingest_http_verdict *v,
                             ingest_http_framing *fr) {
    memset(v, 0, sizeof *v);
    memset(fr, 0, sizeof *fr);
    size_t end = head_end(buf, len);
    if (!end || end > INGEST_HTTP_HEAD_MAX)
        return len < INGEST_HTTP_HEAD_MAX && !end ? 1 : too_large(buf, len, v);
    char method[64], version[16];
    size_t target_len = 0, nfields = 0;
    ingest_http_field fields[INGEST_HTTP_FIELDS_MAX];
    if (lines(buf, end, method, version, &target_len, fields, &nfields, v))
        return -1;
    ingest_http_head h = {method, version, target_len, 0, fields, nfields};
    if (ingest_http_check(&h, v))
        return -1;
    fr->head_len = end;
    framing_of(fields, nfields, fr);
    return 0;
}

int ingest_http_check_raw(const char *buf, size_t len, ingest_http_verdict *v) {
    ingest_http_framing fr;
    return ingest_http_check_framed(buf, len, v, &fr);
}
