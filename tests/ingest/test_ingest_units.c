/*
 * test_ingest_units — the ingest modules on their own: the idempotency
 * window (claims, waiters, failures, FIFO eviction), the partners file
 * (what it accepts and refuses, key lookup, permissions, the token bucket,
 * reload), UUIDs, the head checks and the request stream's framing
 * (guard.h), and the problem catalogue being documented.
 */
#include "guard.h"
#include "http_check.h"
#include "partners.h"
#include "problem.h"
#include "window.h"

#include "kh_pseudo.h"
#include "testlib.h"

#include "http_check.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static window_key key_of(unsigned char b, uint32_t who) {
    window_key k = {0};
    snprintf(k.bron, sizeof k.bron, "SWV:PO%04u", (unsigned)who);
    memset(k.id, b, sizeof k.id);
    return k;
}

static const window_result stored = {"ketenhub.tlv.v1", 2, 41, 0};

/* The same id with another digest: a conflict while pending and after,
 * and the window holds on to the first. Another bron is another key. */
START_TEST(window_an_id_with_another_digest_is_a_conflict) {
    window *w = ingest_window_new(10);
    window_ticket a, b;
    window_key k = key_of(5, 7), changed = k;
    changed.digest[0] ^= 1;
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &a), WINDOW_NEW);
    ck_assert_int_eq(ingest_window_claim_id(w, &changed, &b), WINDOW_CONFLICT);
    ck_assert_ptr_null(ingest_window_finish(w, &a, 1, &stored));
    ck_assert_int_eq(ingest_window_claim_id(w, &changed, &b), WINDOW_CONFLICT);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &b), WINDOW_DONE);
    window_key elsewhere = key_of(5, 8);
    elsewhere.digest[0] ^= 1;
    ck_assert_int_eq(ingest_window_claim_id(w, &elsewhere, &b), WINDOW_NEW);
    ck_assert_uint_eq(ingest_window_size(w), 2);
    ingest_window_free(w);
}
END_TEST

START_TEST(window_new_done_and_replayed) {
    window *w = ingest_window_new(10);
    window_ticket a, b;
    window_key k = key_of(1, 7);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &a), WINDOW_NEW);
    ck_assert_ptr_null(ingest_window_finish(w, &a, 1, &stored));
    ck_assert_int_eq(a.ok, 1);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &b), WINDOW_DONE);
    ck_assert_int_eq(b.ok, 1);
    ck_assert_str_eq(b.result.topic, "ketenhub.tlv.v1");
    ck_assert_int_eq(b.result.partition, 2);
    ck_assert_int_eq(b.result.offset, 41);
    window_key other_partner = key_of(1, 8);
    ck_assert_int_eq(ingest_window_claim_id(w, &other_partner, &b), WINDOW_NEW);
    ck_assert_uint_eq(ingest_window_size(w), 2);
    ingest_window_free(w);
}
END_TEST

START_TEST(window_waiters_get_the_first_outcome) {
    window *w = ingest_window_new(10);
    window_ticket owner, w1, w2, later;
    window_key k = key_of(2, 1);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &owner), WINDOW_NEW);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &w1), WINDOW_PENDING);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &w2), WINDOW_PENDING);
    window_ticket *list = ingest_window_finish(w, &owner, 1, &stored);
    int n = 0;
    for (window_ticket *t = list; t; t = t->next, n++) {
        ck_assert(t == &w1 || t == &w2);
        ck_assert_int_eq(t->ok, 1);
        ck_assert_int_eq(t->result.offset, 41);
    }
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &later), WINDOW_DONE);
    ingest_window_free(w);
}
END_TEST

START_TEST(window_a_failed_write_is_forgotten_and_fails_its_waiters) {
    window *w = ingest_window_new(10);
    window_ticket owner, waiter, retry;
    window_key k = key_of(3, 1);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &owner), WINDOW_NEW);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &waiter), WINDOW_PENDING);
    ck_assert_ptr_eq(ingest_window_finish(w, &owner, 0, NULL), &waiter);
    ck_assert_int_eq(waiter.ok, 0);
    ck_assert_int_eq(owner.ok, 0);
    ck_assert_uint_eq(ingest_window_size(w), 0);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &retry), WINDOW_NEW);
    ingest_window_free(w);
}
END_TEST

/* A write that may have been stored keeps its id (unsure): its waiters
 * fail as unsure, and the next submission owns a check of the topic
 * (WINDOW_UNSURE, told where to look) while later ones wait for it; not
 * decided, the id stays unsure; found, it is done. */
START_TEST(window_a_possibly_stored_write_is_checked_not_forgotten) {
    window *w = ingest_window_new(10);
    window_ticket owner, waiter, check, racer, again, later;
    window_key k = key_of(4, 1);
    const window_result maybe = {"ketenhub.tlv.v1", 3, -1, 1700000000000};
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &owner), WINDOW_NEW);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &waiter), WINDOW_PENDING);
    ck_assert_ptr_eq(ingest_window_finish_unsure(w, &owner, &maybe), &waiter);
    ck_assert_int_eq(owner.ok, 0);
    ck_assert_int_eq(owner.unsure, 1);
    ck_assert_int_eq(waiter.ok, 0);
    ck_assert_int_eq(waiter.unsure, 1);
    ck_assert_uint_eq(ingest_window_size(w), 1);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &check), WINDOW_UNSURE);
    ck_assert_int_eq(check.result.partition, 3);
    ck_assert(check.result.sent_ms == 1700000000000);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &racer), WINDOW_PENDING);
    ck_assert_ptr_eq(ingest_window_finish_unsure(w, &check, &check.result), &racer);
    ck_assert_int_eq(racer.unsure, 1);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &again), WINDOW_UNSURE);
    window_result found = again.result;
    found.offset = 17;
    ck_assert_ptr_null(ingest_window_finish(w, &again, 1, &found));
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &later), WINDOW_DONE);
    ck_assert_int_eq(later.result.offset, 17);
    ck_assert_int_eq(later.unsure, 0);
    ingest_window_free(w);
}
END_TEST

START_TEST(window_forgets_the_oldest_first) {
    window *w = ingest_window_new(3);
    window_ticket t[8];
    for (unsigned char i = 0; i < 4; i++) {
        window_key k = key_of(i, 1);
        ck_assert_int_eq(ingest_window_claim_id(w, &k, &t[i]), WINDOW_NEW);
        ingest_window_finish(w, &t[i], 1, &stored);
    }
    ck_assert_uint_eq(ingest_window_size(w), 3);
    window_key k0 = key_of(0, 1), k3 = key_of(3, 1), k1 = key_of(1, 1);
    ck_assert_int_eq(ingest_window_claim_id(w, &k3, &t[4]), WINDOW_DONE);
    ck_assert_int_eq(ingest_window_claim_id(w, &k1, &t[5]), WINDOW_DONE);
    ck_assert_int_eq(ingest_window_claim_id(w, &k0, &t[6]),
                     WINDOW_NEW); /* evicted: new again, evicts 1 */
    ingest_window_finish(w, &t[6], 1, &stored);
    ck_assert_int_eq(ingest_window_claim_id(w, &k1, &t[7]), WINDOW_NEW);
    ingest_window_free(w);
}
END_TEST

START_TEST(window_an_evicted_pending_owner_keeps_its_waiters) {
    window *w = ingest_window_new(1);
    window_ticket owner, waiter, other;
    window_key k = key_of(5, 1), k2 = key_of(6, 1);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &owner), WINDOW_NEW);
    ck_assert_int_eq(ingest_window_claim_id(w, &k, &waiter), WINDOW_PENDING);
    ck_assert_int_eq(ingest_window_claim_id(w, &k2, &other), WINDOW_NEW); /* takes the only slot */
    ck_assert_ptr_eq(ingest_window_finish(w, &owner, 1, &stored), &waiter);
    ck_assert_int_eq(waiter.ok, 1);
    ck_assert_uint_eq(ingest_window_size(w), 1);
    ck_assert_ptr_null(ingest_window_finish(w, &other, 1, &stored));
    ingest_window_free(w);
}
END_TEST

/* ---- partners ---------------------------------------------------------------- */

static char path[] = "/tmp/kh-partners-XXXXXX";

static void write_file(const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void) {
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void teardown(void) { unlink(path); }

static char *entry(const char *name, const char *type, const char *code, const char *key,
                   const char *types, const char *more) {
    char hash[65];
    ck_assert_int_eq(kh_sha256_hex(key, strlen(key), hash), 0);
    char *out = malloc(1024);
    snprintf(out, 1024,
             "{\"name\": \"%s\", \"organisatie\": {\"type\": \"%s\", \"code\": \"%s\"}, "
             "\"api_key_sha256\": \"%s\", \"event_types\": %s%s}",
             name, type, code, hash, types, more);
    return out;
}

static partners_store *open_one(const char *e, char *err, size_t errlen) {
    char text[2048];
    snprintf(text, sizeof text, "{\"partners\": [%s]}", e);
    write_file(text);
    return ingest_partners_open(path, 10, 20, err, errlen);
}

START_TEST(partners_keys_permissions_and_buckets) {
    char *a = entry("school-a", "SCHOOL", "12AB00", "secret-a", "[\"aanmelding\"]", "");
    char *b = entry("gm", "GEMEENTE", "GM0599", "secret-b", "[\"beschikking\", \"verwijzing\"]",
                    ", \"rate_per_second\": 1, \"burst\": 2");
    char text[4096], err[256];
    snprintf(text, sizeof text, "{\"partners\": [%s, %s]}", a, b);
    write_file(text);
    partners_store *s = ingest_partners_open(path, 10, 20, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    partners *t = ingest_partners_acquire(s);
    ck_assert_uint_eq(ingest_partners_count(t), 2);
    partner *pa = ingest_partners_find_key(t, "secret-a", 8),
            *pb = ingest_partners_find_key(t, "secret-b", 8);
    ck_assert_ptr_nonnull(pa);
    ck_assert_ptr_nonnull(pb);
    ck_assert_ptr_null(ingest_partners_find_key(t, "secret-", 7));
    ck_assert_ptr_null(ingest_partners_find_key(t, "secret-a ", 9));
    ck_assert_str_eq(pa->bron, "SCHOOL:12AB00");
    ck_assert(ingest_partner_may_send(pa, kh_event_type_by_name("aanmelding")));
    ck_assert(!ingest_partner_may_send(
        pa, kh_event_type_by_name("verwijzing"))); /* not in its own list */
    ck_assert(!ingest_partner_may_send(pa, kh_event_type_by_name("tlv")));
    ck_assert(ingest_partner_may_send(pb, kh_event_type_by_name("verwijzing")));
    ck_assert_double_eq(pa->rate, 10); /* the defaults */
    ck_assert_double_eq(pa->burst, 20);
    int wait = 0;
    ck_assert_int_eq(ingest_partner_take_token(pb, 1000, &wait), 0);
    ck_assert_int_eq(ingest_partner_take_token(pb, 1000, &wait), 0);
    ck_assert_int_eq(ingest_partner_take_token(pb, 1000, &wait), -1);
    ck_assert_int_eq(wait, 1);
    ck_assert_int_eq(ingest_partner_take_token(pb, 1500, &wait), -1);
    ck_assert_int_eq(ingest_partner_take_token(pb, 2001, &wait), 0);
    /* A reload keeps the bucket by name. */
    snprintf(text, sizeof text, "{\"partners\": [%s]}", b);
    write_file(text);
    ck_assert_int_eq(ingest_partners_reload(s, err, sizeof err), 0);
    partners *t2 = ingest_partners_acquire(s);
    partner *pb2 = ingest_partners_find_key(t2, "secret-b", 8);
    ck_assert_int_eq(ingest_partner_take_token(pb2, 2001, &wait), -1);
    ck_assert_ptr_null(ingest_partners_find_key(t2, "secret-a", 8));
    ck_assert_ptr_nonnull(ingest_partners_find_key(t, "secret-a",
                                                   8)); /* the old table lives while held */
    ingest_partners_release(s, t);
    ingest_partners_release(s, t2);
    ingest_partners_close(s);
    free(a);
    free(b);
}
END_TEST

START_TEST(partners_file_mistakes_are_refused_with_a_reason) {
    struct {
        const char *name, *type, *code, *types, *more, *expect;
    } cases[] = {
        {"s", "SCHOOL", "12AB00", "[\"beschikking\"]", "", "does not issue beschikking"},
        {"s", "SCHOOL", "12AB00", "[]", "", "event_types"},
        {"s", "SCHOOL", "12AB00", "[\"brief\"]", "", "not an event type"},
        {"s", "SCHOOL", "GM0599", "[\"aanmelding\"]", "", "not a SCHOOL code"},
        {"s", "OUDERS", "12AB00", "[\"aanmelding\"]", "", "organisatie"},
        {"s s", "SCHOOL", "12AB00", "[\"aanmelding\"]", "", "name"},
        {"s", "SCHOOL", "12AB00", "[\"aanmelding\"]", ", \"api_key\": \"x\"",
         "/partners/0: unknown member \"api_key\""},
        {"s", "SCHOOL", "12AB00", "[\"aanmelding\"]", ", \"rate_per_second\": -1",
         "rate_per_second"},
        {"s", "SCHOOL", "12AB00", "[\"aanmelding\"]", ", \"rate_per_second\": 5, \"burst\": 0",
         "burst"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = entry(cases[i].name, cases[i].type, cases[i].code, "k", cases[i].types,
                        cases[i].more);
        ck_assert_ptr_null(open_one(e, err, sizeof err));
        ck_assert_msg(strstr(err, cases[i].expect), "case %zu: %s", i, err);
        ck_assert_ptr_nonnull(strstr(err, path));
        free(e);
    }
    char *a = entry("a", "SCHOOL", "12AB00", "same", "[\"aanmelding\"]", "");
    char *b = entry("b", "SCHOOL", "14CA00", "same", "[\"aanmelding\"]", "");
    char *c = entry("a", "SCHOOL", "14CA00", "other", "[\"aanmelding\"]", "");
    char text[4096];
    snprintf(text, sizeof text, "{\"partners\": [%s, %s]}", a, b);
    write_file(text);
    ck_assert_ptr_null(ingest_partners_open(path, 1, 1, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "same API key"));
    snprintf(text, sizeof text, "{\"partners\": [%s, %s]}", a, c);
    write_file(text);
    ck_assert_ptr_null(ingest_partners_open(path, 1, 1, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "used twice"));
    /* Every mistake of a file at once, each with its pointer. */
    char *bad1 = entry("x y", "SCHOOL", "GM0599", "k1", "[\"aanmelding\"]", ", \"colour\": 1");
    char *bad2 = entry("z", "SCHOOL", "12AB00", "k2", "[\"beschikking\", \"brief\"]", "");
    snprintf(text, sizeof text, "{\"partners\": [%s, %s]}", bad1, bad2);
    write_file(text);
    char all[2048];
    ck_assert_ptr_null(ingest_partners_open(path, 1, 1, all, sizeof all));
    const char *each[] = {"/partners/0: unknown member \"colour\"", "/partners/0: \"name\"",
                          "/partners/0: \"organisatie\" code is not a SCHOOL code",
                          "/partners/1: a SCHOOL does not issue beschikking",
                          "/partners/1: \"event_types\" item 1 is not an event type"};
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++)
        ck_assert_msg(strstr(all, each[i]) != NULL, "missing '%s' in: %s", each[i], all);
    ck_assert_int_eq(strncmp(all, path, strlen(path)), 0);
    free(bad1);
    free(bad2);
    write_file("{\"partners\": [}");
    ck_assert_ptr_null(ingest_partners_open(path, 1, 1, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "line 1"));
    write_file("{\"partners\": [], \"x\": 1}");
    ck_assert_ptr_null(ingest_partners_open(path, 1, 1, err, sizeof err));
    free(a);
    free(b);
    free(c);
}
END_TEST

/* ---- masking and the head checks -------------------------------------------------- */

static void expect_masked(const char *in, const char *want) {
    char out[128];
    ingest_problem_mask_digits(in, out, sizeof out);
    ck_assert_msg(strcmp(out, want) == 0, "%s -> %s, want %s", in, out, want);
}

START_TEST(digit_runs_that_may_hold_a_bsn_are_masked_in_pointers) {
    expect_masked("/123456782", "/*********");
    expect_masked("/123 456 782", "/*** *** ***");
    expect_masked("/123.456.782/x", "/***.***.***/x");
    expect_masked("/123-456-782", "/***-***-***");
    expect_masked("/123/456/782", "/***/***/***");
    expect_masked("/\xef\xbc\x91\xef\xbc\x92"
                  "3456782",
                  "/*********");
    expect_masked("/12345678", "/********");
    expect_masked("/leerlingen/12/bsn", "/leerlingen/12/bsn");
    expect_masked("/bron/code/GM0599", "/bron/code/GM0599");
    expect_masked("/1234567", "/1234567");
    char out[128];
    ingest_problem_detail("invalid escape near '\"123 456 782\\x' at line 1, column 30", out,
                          sizeof out);
    ck_assert_str_eq(out, "invalid escape at line 1, column 30");
    ingest_problem_detail("invalid token near '\"123456782' at line 5\"x' at line 1, column 9", out,
                          sizeof out);
    ck_assert_str_eq(out, "invalid token at line 1, column 9");
}
END_TEST

static int head_check(const char *version, const ingest_http_field *f, size_t n,
                      ingest_http_verdict *v) {
    ingest_http_head h = {"POST", version, 8, 0, f, n};
    return ingest_http_check(&h, v);
}

#define F(name, value) \
    { name, value, sizeof name - 1, sizeof value - 1 }

START_TEST(http_heads_are_checked_strictly) {
    ingest_http_verdict v;
    const ingest_http_field good[] = {F("Host", "127.0.0.1:8080"), F("Content-Length", "12"),
                                      F("Content-Encoding", "identity")};
    ck_assert_int_eq(head_check("HTTP/1.1", good, 3, &v), 0);
    ck_assert_int_eq(head_check("HTTP/1.0", good + 1, 1, &v), 0);
    const ingest_http_field two_lengths[] = {F("Host", "x"), F("Content-Length", "1"),
                                             F("content-length", "1")};
    ck_assert_int_eq(head_check("HTTP/1.1", two_lengths, 3, &v), -1);
    ck_assert_int_eq(v.cls, INGEST_PROBLEM_BAD_REQUEST);
    const ingest_http_field coding[] = {F("Host", "x"), F("Transfer-Encoding", "gzip, chunked")};
    ck_assert_int_eq(head_check("HTTP/1.1", coding, 2, &v), -1);
    ck_assert_int_eq(v.cls, INGEST_PROBLEM_NOT_IMPLEMENTED);
    const ingest_http_field spaced[] = {F("Host", "x"), F("Transfer-Encoding ", "chunked")};
    ck_assert_int_eq(head_check("HTTP/1.1", spaced, 2, &v), -1);
    const ingest_http_field no_host[] = {F("Content-Length", "1")};
    ck_assert_int_eq(head_check("HTTP/1.1", no_host, 1, &v), -1);
    const ingest_http_field bad_host[] = {F("Host", "a b")};
    ck_assert_int_eq(head_check("HTTP/1.1", bad_host, 1, &v), -1);
    const ingest_http_field gzip[] = {F("Host", "x"), F("Content-Encoding", "gzip")};
    ck_assert_int_eq(head_check("HTTP/1.1", gzip, 2, &v), -1);
    ck_assert_int_eq(v.cls, INGEST_PROBLEM_MEDIA_TYPE);
    ck_assert_int_eq(v.accept_encoding, 1);
    /* "POST" SP <8> SP "HTTP/1.1" CRLF, "Host: x" CRLF, CRLF: 24 + 9 + 2 = 35
     * bytes; a NUL and 4 bytes after it ("x\0junk") make 40. */
    const ingest_http_field host[] = {F("Host", "x")};
    ingest_http_head h = {"POST", "HTTP/1.1", 8, 35, host, 1};
    ck_assert_int_eq(ingest_http_check(&h, &v), 0);
    h.head_size = 40;
    ck_assert_int_eq(ingest_http_check(&h, &v), -1);
    ck_assert_int_eq(ingest_http_target_bad("/v1/tlvs%00x"), 1);
    ck_assert_int_eq(ingest_http_target_bad("/v1/tlvs?a=%20"), 0);
    ck_assert_str_eq(ingest_http_origin_path("http://127.0.0.1:8080/v1/tlvs"), "/v1/tlvs");
    ck_assert_str_eq(ingest_http_origin_path("HTTPS://h"), "/");
    ck_assert_str_eq(ingest_http_origin_path("/healthz"), "/healthz");
    ck_assert_int_eq(ingest_http_method_known("PATCH"), 1);
    ck_assert_int_eq(ingest_http_method_known("FOO"), 0);
}
END_TEST

/* ---- the catalogue ---------------------------------------------------------- */

static char *slurp(const char *rel) {
    char file[1024];
    snprintf(file, sizeof file, "%s/%s", getenv("KH_SOURCE_DIR"), rel);
    FILE *f = fopen(file, "r");
    ck_assert_msg(f != NULL, "cannot read %s", file);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = calloc(1, (size_t)n + 1);
    ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

/* The raw first head: verdict rc and, for a rejection, the status. */
static void raw_is(const char *head, size_t len, int rc, unsigned status) {
    ingest_http_verdict v;
    int got = ingest_http_check_raw(head, len, &v);
    ck_assert_msg(got == rc, "%.60s: %d, want %d", head, got, rc);
    if (rc < 0)
        ck_assert_msg(ingest_problem_info_of(v.cls)->status == status, "%.60s: status %u, want %u",
                      head, ingest_problem_info_of(v.cls)->status, status);
}

#define RAW_IS(head, rc, status) raw_is(head, sizeof head - 1, rc, status)

START_TEST(raw_first_heads_are_checked_by_the_same_rules) {
    RAW_IS("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 0, 0);
    RAW_IS("POST /v1/tlvs HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 0, 0);
    RAW_IS("POST http://h:1/v1/tlvs HTTP/1.1\r\nHost: h:1\r\nContent-Length:3\r\n\r\n", 0, 0);
    RAW_IS("GET /healthz HTTP/1.1\r\nHost: x\r\n", 1, 0); /* not complete yet */
    RAW_IS("GET /hea", 1, 0);
    RAW_IS("garbage\r\n\r\n", -1, 400);
    RAW_IS("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", -1, 400);
    RAW_IS("GET / HTTP/1.1 x\r\nHost: x\r\n\r\n", -1, 400);
    RAW_IS("GET / HTTP/2\r\nHost: x\r\n\r\n", -1, 400);
    RAW_IS("GET / HTTP/2.0\r\nHost: x\r\n\r\n", -1, 505);
    RAW_IS("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", -1, 400);
    RAW_IS("GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", -1, 400);
    RAW_IS("GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n", -1, 400);
    RAW_IS("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", -1, 400);
    RAW_IS("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", -1, 400);
    RAW_IS("GET / HTTP/1.1\r\nHost : x\r\n\r\n", -1, 400);
    RAW_IS("GET / HTTP/1.1\r\n\r\n", -1, 400); /* ingest_http_check: no Host */
    RAW_IS("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", -1, 400);
    RAW_IS("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1234567890123456789\r\n\r\n", -1, 413);
    RAW_IS("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", -1, 501);
    RAW_IS("G@T / HTTP/1.1\r\nHost: x\r\n\r\n", -1, 400);
    static char big[INGEST_HTTP_HEAD_MAX + 64];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    raw_is(big, INGEST_HTTP_HEAD_MAX, -1, 414);
    int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
    memset(big + n, 'v', sizeof big - (size_t)n);
    raw_is(big, INGEST_HTTP_HEAD_MAX, -1, 431);
}
END_TEST

/* Feeds stream[0..len) to a guard step bytes at a time (0: all at once),
 * as front.c does: passed and skipped bytes leave the buffer, MORE waits
 * for more. Returns the last step; *status the rejection's, *heads and
 * *passed what went through. */
static ingest_guard_step guard_feed(const char *stream, size_t len, size_t step, unsigned *status,
                                    size_t *heads, size_t *passed) {
    ingest_guard g;
    ingest_guard_init(&g, 1000);
    size_t start = 0, have = 0;
    ingest_guard_step s = INGEST_GUARD_MORE;
    *passed = 0;
    while (have < len || (s != INGEST_GUARD_MORE && s != INGEST_GUARD_BAD)) {
        if (s == INGEST_GUARD_MORE)
            have = step && have + step < len ? have + step : len;
        size_t n;
        int head;
        ingest_http_verdict v;
        s = ingest_guard_scan(&g, stream + start, have - start, &n, &head, &v);
        if (s == INGEST_GUARD_BAD) {
            *status = ingest_problem_info_of(v.cls)->status;
            break;
        }
        *passed += s == INGEST_GUARD_PASS ? n : 0;
        start += n;
        if (s == INGEST_GUARD_MORE && have == len)
            break;
    }
    *heads = g.heads;
    return s;
}

static void guard_rejects(const char *stream, size_t len, unsigned want) {
    for (size_t step = 0; step <= 1; step++) {
        unsigned status = 0;
        size_t heads, passed;
        ck_assert_msg(guard_feed(stream, len, step, &status, &heads, &passed) == INGEST_GUARD_BAD,
                      "%.80s: not rejected (step %zu)", stream, step);
        ck_assert_msg(status == want, "%.80s: %u, want %u", stream, status, want);
    }
}

#define GUARD_REJECTS(stream, status) guard_rejects(stream, sizeof stream - 1, status)
#define CHUNKED_HEAD "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

START_TEST(the_request_stream_is_framed_strictly) {
    /* Empty lines skipped, a GET, a chunked POST with extensions and a
     * trailer, a POST by Content-Length: all passes, whole or byte by byte. */
    const char good[] = "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n" CHUNKED_HEAD
                        "3;a=b ; c=\"d\\\"e\"\r\nabc\r\n0\r\nX-T: v\r\n\r\n"
                        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    for (size_t step = 0; step <= 1; step++) {
        unsigned status = 0;
        size_t heads, passed;
        ck_assert_int_eq(guard_feed(good, sizeof good - 1, step, &status, &heads, &passed),
                         INGEST_GUARD_MORE);
        ck_assert_uint_eq(heads, 3);
        ck_assert_uint_eq(passed, sizeof good - 1 - 4);
    }
    GUARD_REJECTS("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    GUARD_REJECTS("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET/ HTTP/1.1\r\n\r\n", 400);
    GUARD_REJECTS(CHUNKED_HEAD "zz\r\nabc\r\n0\r\n\r\n", 400);
    GUARD_REJECTS(CHUNKED_HEAD "3\r\nabcd\r\n0\r\n\r\n", 400);
    GUARD_REJECTS(CHUNKED_HEAD "3\nabc\r\n0\r\n\r\n", 400);
    GUARD_REJECTS(CHUNKED_HEAD "3;\r\nabc\r\n0\r\n\r\n", 400);
    GUARD_REJECTS(CHUNKED_HEAD "3;a=\"b\r\nabc\r\n0\r\n\r\n", 400);
    GUARD_REJECTS(CHUNKED_HEAD "3 x\r\nabc\r\n0\r\n\r\n", 400);
    GUARD_REJECTS(CHUNKED_HEAD "3e9\r\n", 413); /* 1001 bytes, over the 1000 of the test */
    GUARD_REJECTS(CHUNKED_HEAD "ffffffffffffffffffffffff\r\n", 413);
    GUARD_REJECTS(CHUNKED_HEAD "0\r\nX T: v\r\n\r\n", 400);
    GUARD_REJECTS(CHUNKED_HEAD "0\r\nX-T: a\x01\r\n\r\n", 400);
    static char big[INGEST_GUARD_LINE_MAX + INGEST_HTTP_HEAD_MAX + 256];
    int n = snprintf(big, sizeof big, CHUNKED_HEAD "3;");
    memset(big + n, 'a', INGEST_GUARD_LINE_MAX);
    guard_rejects(big, (size_t)n + INGEST_GUARD_LINE_MAX, 400); /* a size line without end */
    n = snprintf(big, sizeof big, CHUNKED_HEAD "0\r\nX: ");
    memset(big + n, 'a', INGEST_HTTP_HEAD_MAX);
    guard_rejects(big, (size_t)n + INGEST_HTTP_HEAD_MAX, 431); /* a trailer without end */
}
END_TEST

/* The library's answers counted as they pass, whole and byte by byte: an
 * interim 100 Continue is not one, a HEAD answer has no body. */
START_TEST(the_library_answers_are_counted) {
    const char stream[] = "HTTP/1.1 100 Continue\r\n\r\n"
                          "HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nabcde"
                          "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n"
                          "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 2\r\n"
                          "\r\n{}";
    size_t len = sizeof stream - 1;
    for (size_t step = 1; step <= len; step += len - 1) {
        ingest_guard_answers a;
        ingest_guard_answers_init(&a);
        ingest_guard_answers_request(&a, 0, 0);
        ingest_guard_answers_request(&a, 1, 1); /* HEAD */
        ingest_guard_answers_request(&a, 2, 0);
        size_t taken = 0;
        for (size_t at = 0; at < len; at += step)
            taken += ingest_guard_answers_scan(&a, stream + at, at + step < len ? step : len - at,
                                               SIZE_MAX);
        ck_assert_uint_eq(taken, len);
        ck_assert_uint_eq(a.count, 3);
    }
    /* Stopping after the answers owed: the rest is not taken. */
    ingest_guard_answers a;
    ingest_guard_answers_init(&a);
    ingest_guard_answers_request(&a, 1, 1);
    size_t taken = ingest_guard_answers_scan(&a, stream, len, 2);
    ck_assert_uint_eq(a.count, 2);
    ck_assert_ptr_nonnull(strstr(stream + taken, "HTTP/1.1 400"));
    ck_assert_int_eq(strncmp(stream + taken, "HTTP/1.1 400", 12), 0);
}
END_TEST

START_TEST(every_problem_type_is_documented) {
    char *readme = slurp("services/ingest/README.md"), *openapi = slurp("schemas/openapi.json");
    for (int c = 0; c < INGEST_PROBLEM_COUNT; c++) {
        const ingest_problem_info *info = ingest_problem_info_of((ingest_problem_class)c);
        char uri[128];
        snprintf(uri, sizeof uri, "https://ketenhub.nl/problems/%s", info->slug);
        ck_assert_msg(strstr(readme, uri), "README.md does not document %s", uri);
        ck_assert_msg(strstr(openapi, uri), "openapi.json does not list %s", uri);
        ck_assert_uint_ge(info->status, 400);
        for (int d = 0; d < c; d++)
            ck_assert_str_ne(ingest_problem_info_of((ingest_problem_class)d)->slug, info->slug);
    }
    kh_problems fields;
    kh_problems_init(&fields);
    kh_problems_add(&fields, "/jeugdige/bsn", KH_R_ELFPROEF, "BSN fails the elfproef");
    json_t *p = ingest_problem_new(INGEST_PROBLEM_VALIDATION, "1 field",
                                   "0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7e", &fields);
    ck_assert_str_eq(json_string_value(json_object_get(p, "type")),
                     "https://ketenhub.nl/problems/validation");
    ck_assert_int_eq(json_integer_value(json_object_get(p, "status")), 422);
    ck_assert_str_eq(json_string_value(json_object_get(p, "instance")),
                     "urn:uuid:0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7e");
    json_t *e = json_array_get(json_object_get(p, "errors"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "pointer")), "/jeugdige/bsn");
    ck_assert_str_eq(json_string_value(json_object_get(e, "reason")), "elfproef");
    json_decref(p);
    free(readme);
    free(openapi);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ingest_units");
    TCase *tc = tcase_create("ingest_units");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, window_new_done_and_replayed);
    tcase_add_test(tc, digit_runs_that_may_hold_a_bsn_are_masked_in_pointers);
    tcase_add_test(tc, http_heads_are_checked_strictly);
    tcase_add_test(tc, raw_first_heads_are_checked_by_the_same_rules);
    tcase_add_test(tc, the_request_stream_is_framed_strictly);
    tcase_add_test(tc, the_library_answers_are_counted);
    tcase_add_test(tc, window_an_id_with_another_digest_is_a_conflict);
    tcase_add_test(tc, window_waiters_get_the_first_outcome);
    tcase_add_test(tc, window_a_failed_write_is_forgotten_and_fails_its_waiters);
    tcase_add_test(tc, window_a_possibly_stored_write_is_checked_not_forgotten);
    tcase_add_test(tc, window_forgets_the_oldest_first);
    tcase_add_test(tc, window_an_evicted_pending_owner_keeps_its_waiters);
    tcase_add_test(tc, partners_keys_permissions_and_buckets);
    tcase_add_test(tc, partners_file_mistakes_are_refused_with_a_reason);
    tcase_add_test(tc, every_problem_type_is_documented);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
