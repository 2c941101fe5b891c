/*
 * test_ingest_guard — the framing guard in front of libmicrohttpd
 * (services/ingest/front.h) on a keep-alive connection, plain and TLS, in
 * raw bytes: a valid first request (answered 202) and a malformed second
 * one get exactly two answers, in order, the second ingest's problem+json
 * with Connection: close; the connection is closed, the rejection counted
 * and nothing published for it. Also: pipelined requests in one write,
 * empty lines before a request line, HEAD answers before a rejection, and
 * the head deadline on a later request.
 */
#define _GNU_SOURCE /* memmem */

#include "harness.h"
#include "testlib.h"

#include <check.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static pid_t broker;
static char bootstrap[512];

static void broker_up(void) { broker = kh_test_devbroker(bootstrap, sizeof bootstrap); }
static void broker_down(void) { kh_test_stop(broker, SIGTERM, 5000); }

#define TLV "tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json"

/* ---- a growing byte buffer ------------------------------------------------------- */

typedef struct bytes {
    char *data;
    size_t len;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
    b->data = realloc(b->data, b->len + n + 1);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(bytes *b, const char *s) { put(b, s, strlen(s)); }

/* A POST of a fresh valid TLV event: the request, with extra head lines. */
static void valid_post(bytes *b, const char *extra) {
    char *text = ih_example(TLV, NULL), key[64], head[512];
    char *body = ih_with_event_id(text, NULL, NULL);
    snprintf(head, sizeof head,
             "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
             ih_key_for(text, key, sizeof key), strlen(body), extra);
    puts_(b, head);
    puts_(b, body);
    free(text);
    free(body);
}

/* ---- one exchange, plain or TLS ------------------------------------------------------ */

/* What came back: every answer's status, the last answer's head and body. */
typedef struct answers {
    bytes raw;
    int closed;
    long status[8];
    int count;
    char content_type[128], connection[32];
    json_t *json; /* the last answer's body */
} answers;

static void header_of(const char *head, size_t len, const char *name, char *out, size_t outlen) {
    out[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = head; p && p < head + len; p = strstr(p, "\r\n")) {
        p += p == head ? 0 : 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1 + strspn(p + n + 1, " ");
            snprintf(out, outlen, "%.*s", (int)strcspn(v, "\r\n"), v);
            return;
        }
    }
}

/* Walks the answers one after the other: a head, then Content-Length bytes
 * of body, except after a HEAD request's answer (its next bytes are the
 * next status line already). */
static void parse(answers *a) {
    const char *d = a->raw.data ? a->raw.data : "", *end_of_data = d + a->raw.len;
    for (const char *at = d; at < end_of_data && strncmp(at, "HTTP/1.", 7) == 0;) {
        const char *end = strstr(at, "\r\n\r\n");
        if (a->count < 8)
            a->status[a->count] = strtol(at + 9, NULL, 10);
        a->count++;
        if (!end)
            return;
        size_t hlen = (size_t)(end - at);
        char length[32];
        header_of(at, hlen, "Content-Type", a->content_type, sizeof a->content_type);
        header_of(at, hlen, "Connection", a->connection, sizeof a->connection);
        header_of(at, hlen, "Content-Length", length, sizeof length);
        const char *body = end + 4;
        size_t blen = strncmp(body, "HTTP/1.", 7) == 0 ? 0 : strtoul(length, NULL, 10);
        if (body + blen > end_of_data)
            return;
        json_decref(a->json);
        a->json = json_loadb(body, blen, 0, NULL);
        at = body + blen;
    }
}

static gnutls_certificate_credentials_t client_cred;

/* Sends req on a new connection (TLS when in->tls) and reads until the
 * server closes or 10 s pass without a byte. */
static void exchange(const ih_ingest *in, const bytes *req, answers *a) {
    memset(a, 0, sizeof *a);
    int fd = ih_raw_connect(in, NULL);
    gnutls_session_t s = NULL;
    if (in->tls) {
        ck_assert_int_eq(gnutls_init(&s, GNUTLS_CLIENT), 0);
        ck_assert_int_eq(gnutls_set_default_priority(s), 0);
        ck_assert_int_eq(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, client_cred), 0);
        gnutls_transport_set_int(s, fd);
        gnutls_handshake_set_timeout(s, 10000);
        int rc;
        do
            rc = gnutls_handshake(s);
        while (rc < 0 && !gnutls_error_is_fatal(rc));
        ck_assert_msg(rc == 0, "TLS handshake: %s", gnutls_strerror(rc));
        for (size_t at = 0; at < req->len;) {
            ssize_t n = gnutls_record_send(s, req->data + at, req->len - at);
            ck_assert_msg(n > 0 || n == GNUTLS_E_AGAIN, "TLS send: %s", gnutls_strerror((int)n));
            at += n > 0 ? (size_t)n : 0;
        }
    } else {
        ih_raw_send(fd, req->data, req->len);
    }
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (!(s && gnutls_record_check_pending(s)) && poll(&p, 1, 10000) <= 0)
            break;
        char buf[8192];
        ssize_t n = s ? gnutls_record_recv(s, buf, sizeof buf) : recv(fd, buf, sizeof buf, 0);
        if (s && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED))
            continue;
        if (n <= 0) {
            a->closed = 1;
            break;
        }
        put(&a->raw, buf, (size_t)n);
    }
    if (s)
        gnutls_deinit(s);
    close(fd);
    parse(a);
}

static void answers_free(answers *a) {
    free(a->raw.data);
    json_decref(a->json);
}

/* ---- the second request is malformed ------------------------------------------------------- */

static double rejections(const ih_ingest *in, const char *slug) {
    char series[160];
    snprintf(series, sizeof series, "ketenhub_ingest_rejections_total{class=\"%s\",partner=\"-\"}",
             slug);
    double v = ih_metric(in, series);
    return v < 0 ? 0 : v;
}

/* A valid POST, then bad[0..len) (its "%s" replaced by a valid event's
 * auth and body framing is the caller's), on one connection: exactly 202
 * and then status with the problem slug, the connection closed, the
 * rejection counted, one event published. */
static void second_rejected(const ih_ingest *in, const char *what, const void *bad, size_t len,
                            long status, const char *slug) {
    double before = rejections(in, slug);
    size_t published = ih_count_all(in);
    bytes req = {0};
    valid_post(&req, "");
    put(&req, bad, len);
    answers a;
    exchange(in, &req, &a);
    ck_assert_msg(a.count == 2 && a.status[0] == 202 && a.status[1] == status,
                  "%s (%s): %d answers (%ld, %ld), want 202 then %ld:\n%.600s", what,
                  in->tls ? "TLS" : "plain", a.count, a.status[0], a.status[1], status, a.raw.data);
    ck_assert_msg(strcmp(a.content_type, "application/problem+json") == 0, "%s: content type '%s'",
                  what, a.content_type);
    ck_assert_msg(a.json != NULL, "%s: no JSON body", what);
    char uri[128];
    snprintf(uri, sizeof uri, "https://ketenhub.nl/problems/%s", slug);
    ck_assert_msg(strcmp(json_string_value(json_object_get(a.json, "type")), uri) == 0, "%s: %s",
                  what, a.raw.data);
    ck_assert_msg(strcmp(a.connection, "close") == 0 && a.closed, "%s: connection not closed",
                  what);
    ck_assert_msg(rejections(in, slug) == before + 1, "%s: %s not counted", what, slug);
    ck_assert_msg(ih_count_all(in) == published + 1, "%s: %zu published, want %zu", what,
                  ih_count_all(in), published + 1);
    answers_free(&a);
    free(req.data);
}

#define AUTH "Authorization: Bearer key-PO2801\r\nContent-Type: application/json\r\n"
#define SECOND(in, what, bad, status, slug) \
    second_rejected(in, what, bad, sizeof bad - 1, status, slug)

static void every_malformed_second_request(const ih_ingest *in) {
    SECOND(in, "bad Content-Length",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Length: abc\r\n\r\nabc", 400,
           "bad-request");
    SECOND(in, "two Content-Lengths",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH
           "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
           400, "bad-request");
    SECOND(in, "Content-Length and Transfer-Encoding",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH
           "Content-Length: 8\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
           400, "bad-request");
    SECOND(in, "unknown transfer coding",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH "Transfer-Encoding: xchunked\r\n\r\n", 501,
           "not-implemented");
    SECOND(in, "space before the colon",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH
           "Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc",
           400, "bad-request");
    SECOND(in, "NUL byte", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: a\0b\r\n\r\n", 400,
           "bad-request");
    SECOND(in, "two Authorization fields",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH
           "Authorization: Bearer key-PO2801\r\nContent-Length: 3\r\n\r\nabc",
           400, "bad-request");
    SECOND(in, "HTTP/3.0", "GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", 505,
           "http-version-not-supported");
    SECOND(in, "request line without a space", "GET/healthzHTTP/1.1\r\nHost: x\r\n\r\n", 400,
           "bad-request");
    SECOND(in, "garbage request line", "garbage\r\n\r\n", 400, "bad-request");
}

/* Chunk errors and sizes over the limits. */
static void every_malformed_second_body(const ih_ingest *in) {
    SECOND(in, "bad chunk size",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH
           "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
           400, "bad-request");
    SECOND(in, "chunk without CRLF",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH
           "Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
           400, "bad-request");
    SECOND(in, "oversized chunk",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH
           "Transfer-Encoding: chunked\r\n\r\n7fffffff\r\nabc\r\n0\r\n\r\n",
           413, "payload-too-large");
    SECOND(in, "smuggled after a chunked body",
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n" AUTH
           "Content-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
           "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
           400, "bad-request");
}

/* 414, 431 (size and count): built to size. */
static void every_oversized_second_head(const ih_ingest *in) {
    static char big[40000];
    int n = snprintf(big, sizeof big, "GET /");
    memset(big + n, 'a', 5000);
    n += 5000 +
         snprintf(big + n + 5000, sizeof big - (size_t)n - 5000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    second_rejected(in, "huge target", big, (size_t)n, 414, "uri-too-long");
    n = snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    while (n < 20000)
        n += snprintf(big + n, sizeof big - (size_t)n, "X-Many-%d: value\r\n", n);
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n");
    second_rejected(in, "huge head", big, (size_t)n, 431, "header-fields-too-large");
    n = snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 150; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "X-%d: v\r\n", i);
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n");
    second_rejected(in, "too many fields", big, (size_t)n, 431, "header-fields-too-large");
}

/* Every malformed second request, body and head, on an ingest with TLS or
 * without: each answered by the guard, none left to libmicrohttpd. */
static void every_malformed_second(int tls) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, tls);
    every_malformed_second_request(&in);
    every_malformed_second_body(&in);
    every_oversized_second_head(&in);
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_rejections_total{class=\"http-library\",partner=\"-\"}"),
        -1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}

START_TEST(a_malformed_second_request_is_answered_once_in_order) { every_malformed_second(0); }
END_TEST

START_TEST(a_malformed_second_request_over_tls_is_answered_once_in_order) {
    every_malformed_second(1);
}
END_TEST

/* ---- what passes -------------------------------------------------------------------------- */

/* Three requests in one write: three answers, in the order asked. */
static void pipelined(const ih_ingest *in) {
    size_t published = ih_count_all(in);
    bytes req = {0};
    valid_post(&req, "");
    puts_(&req, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    valid_post(&req, "Connection: close\r\n");
    answers a;
    exchange(in, &req, &a);
    ck_assert_msg(a.count == 3 && a.status[0] == 202 && a.status[1] == 200 && a.status[2] == 202,
                  "%d answers:\n%.900s", a.count, a.raw.data);
    ck_assert_int_eq(a.closed, 1);
    ck_assert_uint_eq(ih_count_all(in), published + 2);
    answers_free(&a);
    free(req.data);
}

/* Empty lines before a request line are ignored, up to four. */
static void empty_lines(const ih_ingest *in) {
    bytes req = {0};
    puts_(&req, "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\r\n"
                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    answers a;
    exchange(in, &req, &a);
    ck_assert_msg(a.count == 2 && a.status[0] == 200 && a.status[1] == 200, "%d answers:\n%.600s",
                  a.count, a.raw.data);
    answers_free(&a);
    free(req.data);
    req = (bytes){0};
    puts_(&req, "\r\n\r\n\r\n\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    exchange(in, &req, &a);
    ck_assert_msg(a.count == 1 && a.status[0] == 400 && a.closed, "%.600s", a.raw.data);
    answers_free(&a);
    free(req.data);
}

/* A HEAD answer has no body: the guard still knows where it ends. */
static void head_then_bad(const ih_ingest *in) {
    bytes req = {0};
    puts_(&req, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n");
    answers a;
    exchange(in, &req, &a);
    ck_assert_msg(a.count == 3 && a.status[0] == 200 && a.status[1] == 200 && a.status[2] == 400,
                  "%d answers:\n%.900s", a.count, a.raw.data);
    ck_assert_int_eq(a.closed, 1);
    answers_free(&a);
    free(req.data);
}

START_TEST(pipelined_requests_and_empty_lines_pass) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    pipelined(&in);
    empty_lines(&in);
    head_then_bad(&in);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
    ih_start(&in, bootstrap, NULL, 1);
    pipelined(&in);
    empty_lines(&in);
    head_then_bad(&in);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* The head deadline holds for a later request too: a second head
 * trickled one byte at a time is cut though bytes keep coming. */
START_TEST(a_later_head_that_never_completes_is_cut_at_the_deadline) {
    const char *sets[] = {"http.header_timeout=1", NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    int fd = ih_raw_connect(&in, NULL);
    const char first[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n";
    ih_raw_send(fd, first, sizeof first - 1);
    int closed = 0;
    for (int i = 0; i < 200 && !closed; i++) {
        ih_raw_send(fd, "X", 1);
        ih_raw r;
        ih_raw_read(fd, 100, &r);
        closed = r.closed;
        ih_raw_free(&r);
    }
    ck_assert_msg(closed, "the trickled second head was not cut within 20 s");
    close(fd);
    ck_assert_int_ge(
        (long)ih_metric(&in,
                        "ketenhub_ingest_connections_closed_total{reason=\"header-deadline\"}"),
        1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    gnutls_certificate_allocate_credentials(&client_cred); /* no verification: a raw probe */
    Suite *s = suite_create("ingest_guard");
    TCase *tc = tcase_create("guard");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, broker_up, broker_down);
    tcase_add_test(tc, a_malformed_second_request_is_answered_once_in_order);
    tcase_add_test(tc, a_malformed_second_request_over_tls_is_answered_once_in_order);
    tcase_add_test(tc, pipelined_requests_and_empty_lines_pass);
    tcase_add_test(tc, a_later_head_that_never_completes_is_cut_at_the_deadline);
    suite_add_tcase(s, tc);
    int rc = kh_test_run(s);
    gnutls_certificate_free_credentials(client_cred);
    curl_global_cleanup();
    return rc;
}
