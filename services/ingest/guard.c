/*
 * guard — the request stream's state machine: one function per state,
 * each deciding on the bytes it has or asking for more.
 */
#include "guard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static ingest_guard_step bad(ingest_http_verdict *v, ingest_problem_class c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ingest_guard_step bad(ingest_http_verdict *v, ingest_problem_class c, const char *fmt, ...) {
    memset(v, 0, sizeof *v);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
    v->cls = c;
    return INGEST_GUARD_BAD;
}

void ingest_guard_init(ingest_guard *g, unsigned long long body_max) {
    memset(g, 0, sizeof *g);
    g->body_max = body_max;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- a head ------------------------------------------------------------------------ */

static ingest_guard_step head(ingest_guard *g, const char *buf, size_t len, size_t *n, int *is_head,
                              ingest_http_verdict *v) {
    if (buf[0] == '\r' && g->blank < INGEST_GUARD_BLANK_MAX) {
        if (len < 2)
            return INGEST_GUARD_MORE;
        if (buf[1] == '\n') {
            g->blank++;
            *n = 2;
            return INGEST_GUARD_SKIP;
        }
    }
    ingest_http_framing fr;
    int rc = ingest_http_check_framed(buf, len, v, &fr);
    if (rc > 0)
        return INGEST_GUARD_MORE;
    if (rc < 0)
        return INGEST_GUARD_BAD;
    g->blank = 0;
    g->heads++;
    g->left = fr.length;
    g->state = fr.chunked ? INGEST_GUARD_SIZE : fr.length ? INGEST_GUARD_BODY : INGEST_GUARD_HEAD;
    *n = fr.head_len;
    *is_head = 1;
    return INGEST_GUARD_PASS;
}

/* ---- a chunked body ---------------------------------------------------------------- */

/* chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val a
 * token or a quoted-string (RFC 9112 §7.1.1); s[0..len) after the size. */
static int extensions_ok(const char *s, size_t len) {
    size_t i = 0;
#define SKIP_WS()                                    \
    while (i < len && (s[i] == ' ' || s[i] == '\t')) \
    i++
    for (;;) {
        SKIP_WS();
        if (i == len)
            return 1;
        if (s[i++] != ';')
            return 0;
        SKIP_WS();
        size_t t = 0;
        while (i + t < len && ingest_http_is_token(s + i + t, 1))
            t++;
        if (!t)
            return 0;
        i += t;
        SKIP_WS();
        if (i == len || s[i] != '=')
            continue;
        i++;
        SKIP_WS();
        if (i < len && s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                    return 0;
                if (c == '\\' && ++i == len)
                    return 0;
            }
            if (i++ == len)
                return 0;
        } else {
            for (t = 0; i + t < len && ingest_http_is_token(s + i + t, 1); t++)
                ;
            if (!t)
                return 0;
            i += t;
        }
    }
#undef SKIP_WS
}

static ingest_guard_step size_line(ingest_guard *g, const char *buf, size_t len, size_t *n,
                                   ingest_http_verdict *v) {
    if (hex_value(buf[0]) < 0)
        return bad(v, INGEST_PROBLEM_BAD_REQUEST,
                   "a chunk must start with its size in hexadecimal digits (RFC 9112 section 7.1)");
    const char *nl = memchr(buf, '\n', len < INGEST_GUARD_LINE_MAX ? len : INGEST_GUARD_LINE_MAX);
    if (!nl)
        return len < INGEST_GUARD_LINE_MAX
                   ? INGEST_GUARD_MORE
                   : bad(v, INGEST_PROBLEM_BAD_REQUEST, "a chunk-size line may be at most %d bytes",
                         INGEST_GUARD_LINE_MAX);
    size_t end = (size_t)(nl - buf);
    if (buf[end - 1] != '\r' || memchr(buf, '\r', end - 1))
        return bad(v, INGEST_PROBLEM_BAD_REQUEST, "a chunk-size line ends in CR LF");
    unsigned long long size = 0;
    size_t i = 0;
    for (; i < end - 1 && hex_value(buf[i]) >= 0; i++) {
        if (size > g->body_max)
            break;
        size = size * 16 + (unsigned long long)hex_value(buf[i]);
    }
    if (size > g->body_max)
        return bad(v, INGEST_PROBLEM_TOO_LARGE, "a chunk may be at most %llu bytes", g->body_max);
    if (!extensions_ok(buf + i, end - 1 - i))
        return bad(v, INGEST_PROBLEM_BAD_REQUEST,
                   "a chunk size is hexadecimal digits, optionally followed by ;name=value "
                   "extensions");
    g->left = size;
    g->state = size ? INGEST_GUARD_DATA : INGEST_GUARD_TRAILER;
    g->trailer = g->trailer_fields = 0;
    *n = end + 1;
    return INGEST_GUARD_PASS;
}

static ingest_guard_step chunk_end(ingest_guard *g, const char *buf, size_t len, size_t *n,
                                   ingest_http_verdict *v) {
    if (buf[0] != '\r' || (len > 1 && buf[1] != '\n'))
        return bad(v, INGEST_PROBLEM_BAD_REQUEST,
                   "a chunk's data must be followed by CR LF; the chunk is longer than its size");
    if (len < 2)
        return INGEST_GUARD_MORE;
    g->state = INGEST_GUARD_SIZE;
    *n = 2;
    return INGEST_GUARD_PASS;
}

/* One line of the trailer section: a field line, or the empty line that
 * ends the request. */
static ingest_guard_step trailer(ingest_guard *g, const char *buf, size_t len, size_t *n,
                                 ingest_http_verdict *v) {
    size_t room = INGEST_HTTP_HEAD_MAX - g->trailer;
    const char *nl = memchr(buf, '\n', len < room ? len : room);
    if (!nl)
        return len < room
                   ? INGEST_GUARD_MORE
                   : bad(v, INGEST_PROBLEM_HEAD_TOO_LARGE,
                         "the trailer section may be at most %d bytes", INGEST_HTTP_HEAD_MAX);
    size_t end = (size_t)(nl - buf);
    if (end == 0 || buf[end - 1] != '\r' || memchr(buf, '\r', end - 1))
        return bad(v, INGEST_PROBLEM_BAD_REQUEST,
                   "every line of the trailer section ends in CR LF");
    size_t line = end - 1;
    const char *colon = memchr(buf, ':', line);
    if (line && (!colon || !ingest_http_is_token(buf, (size_t)(colon - buf))))
        return bad(v, INGEST_PROBLEM_BAD_REQUEST,
                   "a trailer field is name \":\" value, the name a token");
    for (size_t i = colon ? (size_t)(colon - buf) : 0; i < line; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return bad(v, INGEST_PROBLEM_BAD_REQUEST, "a trailer field holds a control character");
    }
    if (line && ++g->trailer_fields > INGEST_HTTP_FIELDS_MAX)
        return bad(v, INGEST_PROBLEM_HEAD_TOO_LARGE,
                   "the trailer section may have at most %d fields", INGEST_HTTP_FIELDS_MAX);
    g->trailer += end + 1;
    if (!line)
        g->state = INGEST_GUARD_HEAD;
    *n = end + 1;
    return INGEST_GUARD_PASS;
}

/* ---- the stream ------------------------------------------------------------------------ */

ingest_guard_step ingest_guard_scan(ingest_guard *g, const char *buf, size_t len, size_t *n,
                                    int *is_head, ingest_http_verdict *v) {
    *n = 0;
    *is_head = 0;
    if (!len)
        return INGEST_GUARD_MORE;
    switch (g->state) {
    case INGEST_GUARD_HEAD: return head(g, buf, len, n, is_head, v);
    case INGEST_GUARD_SIZE: return size_line(g, buf, len, n, v);
    case INGEST_GUARD_CRLF: return chunk_end(g, buf, len, n, v);
    case INGEST_GUARD_TRAILER: return trailer(g, buf, len, n, v);
    case INGEST_GUARD_BODY:
    case INGEST_GUARD_DATA: break;
    }
    *n = g->left < len ? (size_t)g->left : len;
    g->left -= *n;
    if (!g->left)
        g->state = g->state == INGEST_GUARD_DATA ? INGEST_GUARD_CRLF : INGEST_GUARD_HEAD;
    return INGEST_GUARD_PASS;
}

/* ---- the library's answers ---------------------------------------------------------- */

void ingest_guard_answers_init(ingest_guard_answers *a) {
    memset(a, 0, sizeof *a);
    a->first = 1;
}

void ingest_guard_answers_request(ingest_guard_answers *a, size_t n, int head) {
    uint64_t bit = (uint64_t)1 << (n % INGEST_GUARD_PIPELINE_MAX);
    a->head_methods = head ? a->head_methods | bit : a->head_methods & ~bit;
}

static void answer_complete(ingest_guard_answers *a) {
    a->count++;
    a->body = 0;
    a->first = 1;
    a->length = 0;
}

/* One line of an answer's head, without its line end. */
static void answer_line(ingest_guard_answers *a) {
    const char *l = a->line;
    size_t n = a->line_len;
    if (a->first) {
        a->first = 0;
        a->status = n > 12 ? (unsigned)strtoul(l + 9, NULL, 10) : 0;
    } else if (n == 0 && a->status / 100 == 1) {
        a->first = 1; /* an interim answer */
    } else if (n == 0) {
        uint64_t bit = (uint64_t)1 << (a->count % INGEST_GUARD_PIPELINE_MAX);
        int bodyless = a->status == 204 || a->status == 304 || (a->head_methods & bit) != 0;
        a->left = bodyless ? 0 : a->length;
        a->body = 1;
        if (!a->left)
            answer_complete(a);
    } else if (n > 15 && strncasecmp(l, "Content-Length:", 15) == 0) {
        a->length = strtoull(l + 15, NULL, 10);
    }
}

size_t ingest_guard_answers_scan(ingest_guard_answers *a, const char *p, size_t len, size_t until) {
    size_t i = 0;
    while (i < len && a->count < until) {
        if (a->body) {
            size_t k = a->left < len - i ? (size_t)a->left : len - i;
            i += k;
            a->left -= k;
            if (!a->left)
                answer_complete(a);
            continue;
        }
        char ch = p[i++];
        if (ch == '\n') {
            if (a->line_len && a->line[a->line_len - 1] == '\r')
                a->line_len--;
            a->line[a->line_len] = '\0';
            answer_line(a);
            a->line_len = 0;
        } else if (a->line_len < sizeof a->line - 1) {
            a->line[a->line_len++] = ch;
        }
    }
    return i;
}
