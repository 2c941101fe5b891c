/*
 * test_ingest_http — the front door against hostile HTTP, in raw bytes over
 * TCP: ambiguous framing and request smuggling, malformed and duplicated
 * fields, NUL bytes, content codings, absolute-form targets, unknown
 * methods, the first head of a connection checked before libmicrohttpd
 * reads it, chunk errors and later requests answered by the guard, a flood of idle
 * connections from one address, the deadline for a request head, and
 * running out of file descriptors (the listener rests instead of spinning).
 * Every rejection is checked for its status line, problem+json, a closed
 * connection, and that nothing was published.
 */
#define _GNU_SOURCE /* memmem, prlimit */

#include "harness.h"
#include "testlib.h"

#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static pid_t broker;
static char bootstrap[512];

static void broker_up(void) { broker = kh_test_devbroker(bootstrap, sizeof bootstrap); }
static void broker_down(void) { kh_test_stop(broker, SIGTERM, 5000); }

#define TLV "tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json"

/* A fresh TLV event and its partner's Authorization line. */
static char *event_body(char *auth, size_t len) {
    char *text = ih_example(TLV, NULL), key[64];
    char *body = ih_with_event_id(text, NULL, NULL);
    snprintf(auth, len, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             ih_key_for(text, key, sizeof key));
    free(text);
    return body;
}

/* POSTs a fresh TLV event on a connection of its own from address from
 * (NULL: the default) and expects 202. */
static void expect_tlv_accepted(const ih_ingest *in, const char *from) {
    char auth[256], req[8192];
    char *body = event_body(auth, sizeof auth);
    int n = snprintf(req, sizeof req,
                     "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     auth, strlen(body), body);
    ih_raw r;
    int fd = ih_raw_connect(in, from);
    ih_raw_send(fd, req, (size_t)n);
    ih_raw_read(fd, 10000, &r);
    close(fd);
    ck_assert_msg(r.status == 202, "%s", r.data);
    ih_raw_free(&r);
    free(body);
}

/* Sends len raw bytes; expects one problem of status and slug, answered
 * once, with Connection: close and the connection closed. */
static void expect_problem(const ih_ingest *in, const char *what, const char *req, size_t len,
                           long status, const char *slug) {
    ih_raw r;
    ih_raw_exchange(in, req, len, &r);
    ck_assert_msg(r.status == status, "%s: expected %ld, got %ld:\n%.300s", what, status, r.status,
                  r.data);
    ck_assert_msg(r.status_lines == 1, "%s: %d status lines:\n%.300s", what, r.status_lines,
                  r.data);
    ck_assert_msg(strcmp(r.content_type, "application/problem+json") == 0, "%s: content type '%s'",
                  what, r.content_type);
    ck_assert_ptr_nonnull(r.json);
    char uri[128];
    snprintf(uri, sizeof uri, "https://ketenhub.nl/problems/%s", slug);
    ck_assert_msg(strcmp(json_string_value(json_object_get(r.json, "type")), uri) == 0, "%s: %s",
                  what, r.data);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "status")), status);
    ck_assert_msg(strcmp(r.connection, "close") == 0 && r.closed, "%s: connection not closed",
                  what);
    if (status == 415)
        ck_assert_str_eq(r.accept_encoding, "identity");
    ih_raw_free(&r);
}

/* head (printf format, %s: the auth lines) + body, sent raw; expects a
 * problem of status and slug, answered once, the connection closed. */
static void expect_rejected(const ih_ingest *in, const char *what, const char *head, size_t headlen,
                            long status, const char *slug) {
    char auth[256];
    char *body = event_body(auth, sizeof auth);
    size_t cap = headlen + strlen(auth) + strlen(body) + 64;
    char *req = malloc(cap);
    /* head may hold NULs: it is copied by length around the auth lines. */
    const char *mark = memmem(head, headlen, "%s", 2);
    size_t n = 0;
    size_t before = mark ? (size_t)(mark - head) : headlen;
    memcpy(req, head, before);
    n = before;
    if (mark) {
        memcpy(req + n, auth, strlen(auth));
        n += strlen(auth);
        memcpy(req + n, mark + 2, headlen - before - 2);
        n += headlen - before - 2;
    }
    memcpy(req + n, body, strlen(body));
    n += strlen(body);
    expect_problem(in, what, req, n, status, slug);
    free(req);
    free(body);
}

#define REJECT(in, head, status, slug) \
    expect_rejected(in, head, head, sizeof head - 1, status, slug)

START_TEST(ambiguous_framing_and_bad_fields_are_rejected_at_once) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    /* RFC 9112 §6.3: two lengths, or a length and a coding. */
    REJECT(
        &in,
        "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sContent-Length: 1500\r\nContent-Length: 5\r\n\r\n",
        400, "bad-request");
    REJECT(&in,
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sContent-Length: 9\r\nContent-Length: 9\r\n\r\n",
           400, "bad-request");
    REJECT(&in,
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sContent-Length: 4000\r\nTransfer-Encoding: "
           "chunked\r\n\r\n",
           400, "bad-request");
    /* Whitespace before the colon (RFC 9112 §5.1). */
    REJECT(&in, "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding : chunked\r\n\r\n", 400,
           "bad-request");
    REJECT(&in, "POST /v1/tlvs HTTP/1.1\r\nHost : x\r\n%sContent-Length: 5\r\n\r\n", 400,
           "bad-request");
    /* Transfer codings ingest does not decode, answered at once. */
    REJECT(&in, "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: xchunked\r\n\r\n", 501,
           "not-implemented");
    REJECT(&in, "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: gzip, chunked\r\n\r\n",
           501, "not-implemented");
    REJECT(&in,
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: chunked, identity\r\n\r\n",
           501, "not-implemented");
    REJECT(&in,
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sTransfer-Encoding: chunked, chunked\r\n\r\n",
           400, "bad-request");
    REJECT(&in, "POST /v1/tlvs HTTP/1.0\r\n%sTransfer-Encoding: chunked\r\n\r\n", 400,
           "bad-request");
    /* Host: missing, twice, not a host. */
    REJECT(&in, "POST /v1/tlvs HTTP/1.1\r\n%sContent-Length: 5\r\n\r\n", 400, "bad-request");
    REJECT(&in, "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nHost: y\r\n%sContent-Length: 5\r\n\r\n", 400,
           "bad-request");
    REJECT(&in, "POST /v1/tlvs HTTP/1.1\r\nHost: a b\r\n%sContent-Length: 5\r\n\r\n", 400,
           "bad-request");
    REJECT(&in, "GET /healthz HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", 400, "bad-request");
    /* Two Authorization fields, even when both are valid keys. */
    REJECT(&in,
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
           "key-PO2801\r\n%sContent-Length: 5\r\n\r\n",
           400, "bad-request");
    /* A content coding: 415 with Accept-Encoding: identity. */
    REJECT(&in,
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sContent-Encoding: gzip\r\nContent-Length: "
           "5\r\n\r\n",
           415, "unsupported-media-type");
    /* NUL bytes: in a value, in the target, encoded in the target. */
    REJECT(&in,
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nX-Trace: a\0junk\r\n%sContent-Length: 5\r\n\r\n",
           400, "bad-request");
    REJECT(&in,
           "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer key-PO2801\0junk\r\n"
           "Content-Type: application/json\r\nContent-Length: 5\r\n\r\n",
           400, "bad-request");
    REJECT(&in, "POST /v1/tlvs\0junk HTTP/1.1\r\nHost: x\r\n%sContent-Length: 5\r\n\r\n", 400,
           "bad-request");
    REJECT(&in, "POST /v1/tlvs%00junk HTTP/1.1\r\nHost: x\r\n%sContent-Length: 5\r\n\r\n", 400,
           "bad-request");
    REJECT(&in, "GET /openapi.json%00/../metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad-request");
    REJECT(&in, "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad-request");
    /* An obsolete line folding. */
    REJECT(&in, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n", 400,
           "bad-request");
    /* Methods: unknown 501, not a token 400, known but not here 405. */
    REJECT(&in, "FOO /v1/tlvs HTTP/1.1\r\nHost: x\r\n\r\n", 501, "not-implemented");
    REJECT(&in, "G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad-request");
    REJECT(&in, "PUT /v1/tlvs HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405,
           "method-not-allowed");
    ck_assert_uint_eq(ih_count_all(&in), 0);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* The request smuggled after a chunked body with a Content-Length is
 * never answered: one answer, and the connection is closed. */
START_TEST(a_request_smuggled_behind_a_body_is_never_read) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char auth[256], req[8192];
    char *body = event_body(auth, sizeof auth);
    int n =
        snprintf(req, sizeof req,
                 "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\nTransfer-Encoding: "
                 "chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
                 auth, strlen(body) + 60, strlen(body), body);
    ih_raw r;
    ih_raw_exchange(&in, req, (size_t)n, &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_int_eq(r.status_lines, 1);
    ck_assert_int_eq(r.closed, 1);
    ck_assert_ptr_null(strstr(r.data, "404"));
    ih_raw_free(&r);
    free(body);
    ck_assert_uint_eq(ih_count_all(&in), 0);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

START_TEST(an_absolute_form_target_is_accepted) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char auth[256], req[8192];
    char *body = event_body(auth, sizeof auth);
    int n = snprintf(req, sizeof req,
                     "POST http://127.0.0.1:%d/v1/tlvs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     in.port, in.port, auth, strlen(body), body);
    ih_raw r;
    ih_raw_exchange(&in, req, (size_t)n, &r);
    ck_assert_msg(r.status == 202, "%s", r.data);
    ck_assert_str_eq(r.content_type, "application/json");
    ih_raw_free(&r);
    free(body);
    ck_assert_uint_eq(ih_count_all(&in), 1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* The number of lines of the log holding text. */
static int logged(const ih_ingest *in, const char *text) {
    FILE *f = fopen(in->log, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, text) != NULL;
    fclose(f);
    return n;
}

/* What libmicrohttpd would answer itself with HTML (README), checked by
 * ingest on the first head of a connection before the library reads it. */
START_TEST(the_first_head_is_checked_before_the_library_sees_it) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    static char big[40000];
#define RAW(what, req, status, slug) expect_problem(&in, what, req, sizeof req - 1, status, slug)
    RAW("bad Content-Length", "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nabc",
        400, "bad-request");
    RAW("signed Content-Length",
        "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nabcde", 400, "bad-request");
    RAW("Content-Length list",
        "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nabcde", 400,
        "bad-request");
    RAW("huge Content-Length",
        "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413,
        "payload-too-large");
    RAW("HTTP/3.0", "GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", 505, "http-version-not-supported");
    RAW("HTTP/1.1 junk", "GET / HTTP/1.1 junk\r\nHost: x\r\n\r\n", 400, "bad-request");
    RAW("garbage", "garbage\r\n\r\n", 400, "bad-request");
    RAW("no version", "GET /healthz\r\nHost: x\r\n\r\n", 400, "bad-request");
    RAW("two spaces", "GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad-request");
    RAW("lowercase version", "GET /healthz http/1.1\r\nHost: x\r\n\r\n", 400, "bad-request");
    RAW("bare LF", "GET /healthz HTTP/1.1\nHost: x\n\n", 400, "bad-request");
    RAW("no colon", "GET /healthz HTTP/1.1\r\nHost: x\r\njunk\r\n\r\n", 400, "bad-request");
    /* 414: a target over 4096 bytes, and a request line that never ends. */
    int n = snprintf(big, sizeof big, "GET /");
    memset(big + n, 'a', 5000);
    n += 5000 +
         snprintf(big + n + 5000, sizeof big - (size_t)n - 5000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_problem(&in, "414", big, (size_t)n, 414, "uri-too-long");
    n = snprintf(big, sizeof big, "GET /");
    memset(big + n, 'a', 36000);
    n += 36000 +
         snprintf(big + n + 36000, sizeof big - (size_t)n - 36000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_problem(&in, "414 unending", big, (size_t)n, 414, "uri-too-long");
    /* 431: a huge head, and many small fields. */
    n = snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    while (n < 36000)
        n += snprintf(big + n, sizeof big - (size_t)n, "X-Many-%d: value\r\n", n);
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n");
    expect_problem(&in, "431 size", big, (size_t)n, 431, "header-fields-too-large");
    n = snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 150; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "X-%d: v\r\n", i);
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n");
    expect_problem(&in, "431 count", big, (size_t)n, 431, "header-fields-too-large");
#undef RAW
    /* A head just under the limits passes, and libmicrohttpd takes it too. */
    n = snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    memset(big + n, 'p', 8000 - (size_t)n);
    n = 8000 + snprintf(big + 8000, sizeof big - 8000, "\r\nConnection: close\r\n\r\n");
    ih_raw r;
    ih_raw_exchange(&in, big, (size_t)n, &r);
    ck_assert_msg(r.status == 200, "%.300s", r.data);
    ih_raw_free(&r);
    ck_assert_uint_eq(ih_count_all(&in), 0);
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_rejections_total{class=\"bad-request\",partner=\"-\"}"),
        10);
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_rejections_total{class=\"uri-too-long\",partner=\"-\"}"),
        2);
    ck_assert_int_eq(
        (long)ih_metric(
            &in,
            "ketenhub_ingest_rejections_total{class=\"header-fields-too-large\",partner=\"-\"}"),
        2);
    ck_assert_int_eq(
        (long)ih_metric(
            &in,
            "ketenhub_ingest_rejections_total{class=\"http-version-not-supported\",partner=\"-\"}"),
        1);
    ck_assert_int_eq(
        (long)ih_metric(
            &in, "ketenhub_ingest_rejections_total{class=\"payload-too-large\",partner=\"-\"}"),
        1);
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_requests_total{route=\"-\",status=\"400\",partner=\"-\"}"),
        10);
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_rejections_total{class=\"http-library\",partner=\"-\"}"),
        -1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ck_assert_int_eq(logged(&in, "\"stage\":\"first-head\""), 16);
    ck_assert_int_eq(logged(&in, "rejected by libmicrohttpd"), 0);
    ih_cleanup(&in);
}
END_TEST

/* Errors in a chunked body come after the head, and after the connection
 * went to libmicrohttpd: the guard answers them (front.h), once, closed,
 * problem+json, logged and counted. */
/* A chunked POST whose body is chunks: expects one problem of status and slug. */
static void chunked_rejected(const ih_ingest *in, const char *what, const char *chunks, long status,
                             const char *slug) {
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer key-PO2801\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%s",
                     chunks);
    expect_problem(in, what, req, (size_t)n, status, slug);
}

START_TEST(chunk_errors_are_answered_by_the_guard_counted_and_logged) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    chunked_rejected(&in, "bad chunk size", "zz\r\nabc\r\n0\r\n\r\n", 400, "bad-request");
    chunked_rejected(&in, "oversized chunk", "ffffffffffffffffff\r\nabc\r\n0\r\n\r\n", 413,
                     "payload-too-large");
    chunked_rejected(&in, "chunk without CRLF", "3\r\nabcdef\r\n0\r\n\r\n", 400, "bad-request");
    chunked_rejected(&in, "bare LF after a size", "3\nabc\r\n0\r\n\r\n", 400, "bad-request");
    chunked_rejected(&in, "bad extension", "3;=x\r\nabc\r\n0\r\n\r\n", 400, "bad-request");
    chunked_rejected(&in, "bad trailer", "3\r\nabc\r\n0\r\nX Bad: 1\r\n\r\n", 400, "bad-request");
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_rejections_total{class=\"bad-request\",partner=\"-\"}"),
        5);
    ck_assert_int_eq(
        (long)ih_metric(
            &in, "ketenhub_ingest_rejections_total{class=\"payload-too-large\",partner=\"-\"}"),
        1);
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_rejections_total{class=\"http-library\",partner=\"-\"}"),
        -1);
    ck_assert_uint_eq(ih_count_all(&in), 0);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ck_assert_int_eq(logged(&in, "\"stage\":\"body\""), 6);
    ck_assert_int_eq(logged(&in, "rejected by libmicrohttpd"), 0);
    ih_cleanup(&in);
}
END_TEST

/* A keep-alive request after the first is checked by the same rules, by
 * the guard before libmicrohttpd reads it: one answer per request. */
START_TEST(a_later_request_on_a_connection_is_checked_too) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n";
    ih_raw r;
    ih_raw_exchange(&in, req, sizeof req - 1, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.status_lines, 2);
    ck_assert_ptr_nonnull(strstr(r.data, "HTTP/1.1 400"));
    ck_assert_ptr_nonnull(strstr(r.data, "https://ketenhub.nl/problems/bad-request"));
    ck_assert_int_eq(r.closed, 1);
    ih_raw_free(&r);
    /* libmicrohttpd 0.9.75 would write this 400's status line and headers
     * twice; the guard answers it once. */
    const char bad_length[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                              "POST /v1/tlvs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nabc";
    ih_raw_exchange(&in, bad_length, sizeof bad_length - 1, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.data, "HTTP/1.1 400"));
    ck_assert_int_eq(r.status_lines, 2);
    ck_assert_int_eq(r.closed, 1);
    ih_raw_free(&r);
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_rejections_total{class=\"bad-request\",partner=\"-\"}"),
        2);
    ck_assert_int_eq(
        (long)ih_metric(&in,
                        "ketenhub_ingest_rejections_total{class=\"http-library\",partner=\"-\"}"),
        -1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ck_assert_int_eq(logged(&in, "\"stage\":\"head\""), 2);
    ih_cleanup(&in);
}
END_TEST

/* A GET /readyz from address src: its status and first line of body. */
static long readyz_from(const ih_ingest *in, const char *src, char *body, size_t len) {
    int fd = ih_raw_connect(in, src);
    const char *req = "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ih_raw_send(fd, req, strlen(req));
    ih_raw r;
    ih_raw_read(fd, 10000, &r);
    close(fd);
    const char *b = strstr(r.data, "\r\n\r\n");
    snprintf(body, len, "%.*s", b ? (int)strcspn(b + 4, "\n") : 0, b ? b + 4 : "");
    long status = r.status;
    ih_raw_free(&r);
    return status;
}

START_TEST(an_idle_flood_from_one_address_locks_no_one_else_out) {
    const char *sets[] = {"http.connection_limit=20", "http.per_address_limit=18",
                          "http.header_timeout=120", NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    int flood[19];
    for (int i = 0; i < 18; i++)
        flood[i] = ih_raw_connect(&in, "127.0.0.1");
    /* The harness's own readiness probe from 127.0.0.1 may still count for
     * a moment, so a flood connection can be refused: open it again. */
    for (int round = 0, again = 1; again && round < 50; round++) {
        ih_sleep_ms(100);
        again = 0;
        for (int i = 0; i < 18; i++) {
            char b;
            if (recv(flood[i], &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
                close(flood[i]);
                flood[i] = ih_raw_connect(&in, "127.0.0.1");
                again = 1;
            }
        }
    }
    /* Saturated once 18 of 20 are open, but the asking connection counts
     * too: wait until all 18 of the flood are in (19 open). */
    char why[256] = "";
    long status = 0;
    size_t open = 0;
    for (int i = 0; i < 100 && (status != 503 || open < 19); i++, ih_sleep_ms(50)) {
        status = readyz_from(&in, "127.0.0.2", why, sizeof why);
        if (sscanf(why, "saturated: %zu", &open) != 1)
            open = 0;
    }
    ck_assert_int_eq(status, 503);
    ck_assert_uint_ge(open, 19);
    ck_assert_msg(strncmp(why, "saturated", 9) == 0, "%s", why);
    /* The 19th connection from the flooding address is closed unanswered. */
    flood[18] = ih_raw_connect(&in, "127.0.0.1");
    ih_raw r;
    ih_raw_read(flood[18], 10000, &r);
    ck_assert_int_eq(r.closed, 1);
    ck_assert_uint_eq(r.len, 0);
    ih_raw_free(&r);
    /* Another partner, from another address, is served. */
    expect_tlv_accepted(&in, "127.0.0.2");
    for (int i = 0; i < 19; i++)
        close(flood[i]);
    status = 0;
    for (int i = 0; i < 100 && status != 200; i++, ih_sleep_ms(50))
        status = readyz_from(&in, "127.0.0.2", why, sizeof why);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq((long)ih_metric(&in,
                                     "ketenhub_ingest_connections_closed_total{reason=\"limit\"}"),
                     1);
    ck_assert_uint_eq(ih_count_all(&in), 1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* A head trickled one byte at a time never completes: the deadline closes
 * the connection though bytes keep coming (an idle timeout would not). */
START_TEST(a_head_that_never_completes_is_cut_at_the_deadline) {
    const char *sets[] = {"http.header_timeout=1", NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    int idle = ih_raw_connect(&in, NULL), slow = ih_raw_connect(&in, NULL);
    ih_raw_send(slow, "POST /v1/tlvs HTTP/1.1\r\n", 24);
    int closed = 0;
    for (int i = 0; i < 200 && !closed; i++) {
        ih_raw_send(slow, "X", 1);
        ih_raw r;
        ih_raw_read(slow, 100, &r);
        closed = r.closed;
        ih_raw_free(&r);
    }
    ck_assert_msg(closed, "the trickled head was not cut within 20 s");
    ih_raw r;
    ih_raw_read(idle, 20000, &r);
    ck_assert_int_eq(r.closed, 1);
    ih_raw_free(&r);
    close(idle);
    close(slow);
    ck_assert_int_ge(
        (long)ih_metric(&in,
                        "ketenhub_ingest_connections_closed_total{reason=\"header-deadline\"}"),
        2);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* The descriptors pid has open. */
static int open_files(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The CPU time pid has used, user and system, in clock ticks. */
static long long cpu_ticks(pid_t pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name may hold spaces */
    ck_assert_ptr_nonnull(p);
    unsigned long long utime = 0, stime = 0;
    /* After the name: state and 10 more fields, then utime and stime. */
    ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                            &stime),
                     2);
    return (long long)(utime + stime);
}

/* With no descriptor left, accept() fails (EMFILE) while the connection
 * waits in the backlog: the listener rests instead of being polled in a
 * loop, the failure is counted, and once connections close ingest serves
 * again. */
START_TEST(out_of_descriptors_the_listener_rests_and_serves_again) {
    const char *sets[] = {"http.header_timeout=120", NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    int base = open_files(in.pid);
    struct rlimit rl = {(rlim_t)base + 8, (rlim_t)base + 8};
    ck_assert_int_eq(prlimit(in.pid, RLIMIT_NOFILE, &rl, NULL), 0);
    int idle[24];
    for (int i = 0; i < 24; i++)
        idle[i] = ih_raw_connect(&in, NULL); /* the backlog takes them all */
    ih_sleep_ms(500);
    long long before = cpu_ticks(in.pid);
    ih_sleep_ms(1000);
    long long used = cpu_ticks(in.pid) - before;
    /* A spinning loop uses a whole second (sysconf(_SC_CLK_TCK), 100 ticks);
     * resting it wakes ten times. */
    ck_assert_msg(used < sysconf(_SC_CLK_TCK) / 5,
                  "ingest used %lld CPU ticks in a second while out of descriptors", used);
    for (int i = 0; i < 24; i++)
        close(idle[i]);
    expect_tlv_accepted(&in, NULL);
    ck_assert_int_ge((long)ih_metric(&in, "ketenhub_ingest_accept_errors_total{reason=\"EMFILE\"}"),
                     1);
    ck_assert_uint_eq(ih_count_all(&in), 1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    Suite *s = suite_create("ingest_http");
    TCase *tc = tcase_create("raw");
    tcase_set_timeout(tc, 240);
    tcase_add_unchecked_fixture(tc, broker_up, broker_down);
    tcase_add_test(tc, ambiguous_framing_and_bad_fields_are_rejected_at_once);
    tcase_add_test(tc, a_request_smuggled_behind_a_body_is_never_read);
    tcase_add_test(tc, an_absolute_form_target_is_accepted);
    tcase_add_test(tc, the_first_head_is_checked_before_the_library_sees_it);
    tcase_add_test(tc, chunk_errors_are_answered_by_the_guard_counted_and_logged);
    tcase_add_test(tc, a_later_request_on_a_connection_is_checked_too);
    tcase_add_test(tc, an_idle_flood_from_one_address_locks_no_one_else_out);
    tcase_add_test(tc, a_head_that_never_completes_is_cut_at_the_deadline);
    tcase_add_test(tc, out_of_descriptors_the_listener_rests_and_serves_again);
    suite_add_tcase(s, tc);
    int rc = kh_test_run(s);
    curl_global_cleanup();
    return rc;
}
