/*
 * test_ingest_errors — every class of bad request answered with its
 * problem+json and nothing published; the broker going away (503 with
 * Retry-After, nothing published, a retry accepted once it is back); a full
 * producer queue; SIGTERM with requests in flight; TLS; SIGHUP reloading
 * the partners file.
 */
#include "harness.h"
#include "kh_alloc.h"
#include "kh_event.h"
#include "kh_pseudo.h"
#include "testlib.h"

#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pid_t broker;
static char bootstrap[512];

static void broker_up(void) { broker = kh_test_devbroker(bootstrap, sizeof bootstrap); }
static void broker_down(void) { kh_test_stop(broker, SIGTERM, 5000); }

static const char *str_at(const json_t *j, const char *k) {
    return json_string_value(json_object_get(j, k));
}

/* A problem answer of the given status and type, and what the README says
 * every problem carries. */
static void expect_problem(const ih_reply *r, long status, const char *slug) {
    char uri[128];
    snprintf(uri, sizeof uri, "https://ketenhub.nl/problems/%s", slug);
    ck_assert_msg(r->status == status, "expected %ld %s, got %ld %s", status, slug, r->status,
                  r->body ? r->body : "");
    ck_assert_str_eq(r->content_type, "application/problem+json");
    ck_assert_str_eq(str_at(r->json, "type"), uri);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "status")), status);
    ck_assert_ptr_nonnull(str_at(r->json, "title"));
    ck_assert_ptr_nonnull(str_at(r->json, "detail"));
    ck_assert_int_eq(strncmp(str_at(r->json, "instance"), "urn:uuid:", 9), 0);
}

static void post_expect(const ih_ingest *in, const char *path, const char *key, const char *type,
                        const char *body, long status, const char *slug, ih_reply *keep) {
    ih_reply r;
    ih_post(in, path, key, type, body, body ? strlen(body) : 0, 0, &r);
    expect_problem(&r, status, slug);
    if (keep)
        *keep = r;
    else
        ih_reply_free(&r);
}

START_TEST(each_error_class_is_answered_and_publishes_nothing) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char *tlv = ih_example("tlv/valid/01-afgegeven-so-capelle.json", NULL); /* SWV PO2803 */
    char *verw = ih_example("verwijzing/valid/01-wijkteam-rotterdam-jeugdhulp.json",
                            NULL); /* GM0599 */
    char *aanm = ih_example("aanmelding/valid/02-ingediend-castricum-alkmaar-vo.json",
                            NULL); /* SCHOOL 61TB00 */
    const char *json = "application/json";
    ih_reply r;

    /* 400: not JSON, and an empty body. */
    post_expect(&in, "/v1/tlvs", "key-PO2803", json, "{\"envelope\": [", 400, "syntax", &r);
    ck_assert_ptr_nonnull(strstr(str_at(r.json, "detail"), "line 1, column"));
    ih_reply_free(&r);
    post_expect(&in, "/v1/tlvs", "key-PO2803", json, "", 400, "syntax", NULL);
    /* The fault is right after a BSN: the detail gives line and column and
     * does not quote the input. */
    post_expect(&in, "/v1/tlvs", "key-PO2803", json, "{\"jeugdige\": {\"bsn\" 111222333}}", 400,
                "syntax", &r);
    ck_assert_ptr_null(strstr(r.body, "111222333"));
    ck_assert_ptr_nonnull(strstr(str_at(r.json, "detail"), "line 1, column"));
    ih_reply_free(&r);

    /* 401: no key, an unknown key, another scheme. */
    post_expect(&in, "/v1/tlvs", NULL, json, tlv, 401, "unauthorized", &r);
    ck_assert_str_eq(r.www_authenticate, "Bearer realm=\"ketenhub\"");
    ih_reply_free(&r);
    post_expect(&in, "/v1/tlvs", "key-PO2803x", json, tlv, 401, "unauthorized", &r);
    ck_assert_ptr_nonnull(strstr(r.www_authenticate, "invalid_token"));
    ih_reply_free(&r);
    {
        CURL *c = curl_easy_init();
        struct curl_slist *h = curl_slist_append(NULL, "Authorization: Basic a2V5LVBPMjgwMzp4");
        h = curl_slist_append(h, "Content-Type: application/json");
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/tlvs", in.port);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, tlv);
        FILE *devnull = fopen("/dev/null", "w");
        curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
        ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
        long status;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        ck_assert_int_eq(status, 401);
        fclose(devnull);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
    }

    /* 403: an event type the organisation type does not issue, one the
     * partner's own list leaves out, and a bron that is not the partner. */
    post_expect(&in, "/v1/tlvs", "key-GM0599", json, tlv, 403, "forbidden-event-type", NULL);
    post_expect(&in, "/v1/verwijzingen", "key-only-besch", json, verw, 403, "forbidden-event-type",
                NULL);
    post_expect(&in, "/v1/aanmeldingen", "key-12AB00", json, aanm, 403, "forbidden-bron", &r);
    ck_assert_ptr_nonnull(strstr(str_at(r.json, "detail"), "SCHOOL:12AB00"));
    ih_reply_free(&r);

    /* 404 and 405 (with Allow). */
    ih_request(&in, "GET", "/v1/leerlingen", &r);
    expect_problem(&r, 404, "not-found");
    ih_reply_free(&r);
    post_expect(&in, "/v1/tlv", "key-PO2803", json, tlv, 404, "not-found", NULL);
    ih_request(&in, "GET", "/v1/tlvs", &r);
    expect_problem(&r, 405, "method-not-allowed");
    ck_assert_str_eq(r.allow, "POST");
    ih_reply_free(&r);
    ih_request(&in, "DELETE", "/v1/batch", &r);
    expect_problem(&r, 405, "method-not-allowed");
    ih_reply_free(&r);
    post_expect(&in, "/metrics", "key-PO2803", json, tlv, 405, "method-not-allowed", &r);
    ck_assert_str_eq(r.allow, "GET, HEAD");
    ih_reply_free(&r);

    /* 413: a Content-Length over the limit, and a chunked body that grows
     * over it. */
    size_t big = 70000;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    post_expect(&in, "/v1/tlvs", "key-PO2803", json, huge, 413, "payload-too-large", NULL);
    ih_post(&in, "/v1/tlvs", "key-PO2803", json, huge, big, 1, &r);
    expect_problem(&r, 413, "payload-too-large");
    ih_reply_free(&r);
    free(huge);

    /* 415: another type, none at all, JSON to the batch. */
    post_expect(&in, "/v1/tlvs", "key-PO2803", "text/plain", tlv, 415, "unsupported-media-type",
                NULL);
    post_expect(&in, "/v1/tlvs", "key-PO2803", NULL, tlv, 415, "unsupported-media-type", NULL);
    post_expect(&in, "/v1/tlvs", "key-PO2803", "application/json; charset=latin1", tlv, 415,
                "unsupported-media-type", NULL);
    post_expect(&in, "/v1/batch", "key-PO2803", json, tlv, 415, "unsupported-media-type", NULL);

    ck_assert_uint_eq(ih_count_all(&in), 0);

    /* 429: partner "limited" may send 1 request per second, burst 2. */
    char *mine = ih_example("aanmelding/valid/07-geplaatst-krimpen-sbo-capelle.json",
                            NULL); /* 14CA00 */
    for (int i = 0; i < 2; i++) {
        char *fresh = ih_with_event_id(mine, NULL, NULL);
        ih_post(&in, "/v1/aanmeldingen", "key-limited", json, fresh, strlen(fresh), 0, &r);
        ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
        ih_reply_free(&r);
        free(fresh);
    }
    char *third = ih_with_event_id(mine, NULL, NULL);
    post_expect(&in, "/v1/aanmeldingen", "key-limited", json, third, 429, "rate-limited", &r);
    ck_assert_int_ge(atoi(r.retry_after), 1);
    ih_reply_free(&r);
    ck_assert_uint_eq(ih_count_all(&in), 2); /* the two allowed, nothing of the third */
    ih_sleep_ms(1100);                       /* a token is back */
    ih_post(&in, "/v1/aanmeldingen", "key-limited", json, third, strlen(third), 0, &r);
    ck_assert_int_eq(r.status, 202);
    ih_reply_free(&r);
    free(third);
    free(mine);

    /* Counted by class and partner. */
    ck_assert_double_eq(
        ih_metric(&in, "ketenhub_ingest_rejections_total{class=\"syntax\",partner=\"p-PO2803\"}"),
        3);
    ck_assert_double_eq(
        ih_metric(&in, "ketenhub_ingest_rejections_total{class=\"unauthorized\",partner=\"-\"}"),
        3);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_rejections_total{class=\"forbidden-event-"
                                       "type\",partner=\"p-GM0599\"}"),
                        1);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_rejections_total{class=\"forbidden-event-"
                                       "type\",partner=\"only-besch\"}"),
                        1);
    ck_assert_double_eq(
        ih_metric(
            &in, "ketenhub_ingest_rejections_total{class=\"forbidden-bron\",partner=\"p-12AB00\"}"),
        1);
    ck_assert_double_eq(
        ih_metric(&in, "ketenhub_ingest_rejections_total{class=\"not-found\",partner=\"-\"}"), 2);
    ck_assert_double_eq(
        ih_metric(&in,
                  "ketenhub_ingest_rejections_total{class=\"method-not-allowed\",partner=\"-\"}"),
        3);
    ck_assert_double_eq(
        ih_metric(
            &in,
            "ketenhub_ingest_rejections_total{class=\"payload-too-large\",partner=\"p-PO2803\"}"),
        2);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_rejections_total{class=\"unsupported-media-"
                                       "type\",partner=\"p-PO2803\"}"),
                        4);
    ck_assert_double_eq(
        ih_metric(&in,
                  "ketenhub_ingest_rejections_total{class=\"rate-limited\",partner=\"limited\"}"),
        1);
    free(tlv);
    free(verw);
    free(aanm);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* ---- the broker away ------------------------------------------------------------ */

typedef struct poster {
    const ih_ingest *in;
    const char *path, *key, *body;
    ih_reply reply;
} poster;

static void *post_thread(void *arg) {
    poster *p = arg;
    ih_post(p->in, p->path, p->key, "application/json", p->body, strlen(p->body), 0, &p->reply);
    return NULL;
}

static void wait_metric(const ih_ingest *in, const char *series, double want) {
    for (int i = 0; i < 200; i++) {
        if (ih_metric(in, series) == want)
            return;
        ih_sleep_ms(20);
    }
    ck_abort_msg("%s never became %g", series, want);
}

static void wait_ready(const ih_ingest *in, long status) {
    ih_reply r;
    for (int i = 0; i < 300; i++) {
        ih_request(in, "GET", "/readyz", &r);
        long got = r.status;
        ih_reply_free(&r);
        if (got == status)
            return;
        ih_sleep_ms(50);
    }
    ck_abort_msg("/readyz never answered %ld", status);
}

START_TEST(broker_down_503_nothing_published_and_a_retry_accepted_once_back) {
    char own[512];
    pid_t b = kh_test_devbroker(own, sizeof own);
    /* A record waits a second in the producer, and fails three seconds
     * after it was handed over if no broker takes it. */
    const char *const sets[] = {"kafka.linger.ms=1000", "kafka.message.timeout.ms=3000",
                                "broker.probe_ms=200", NULL};
    ih_ingest in;
    ih_start(&in, own, sets, 0);
    char *text = ih_example("beschikking/valid/03-gewijzigd-alkmaar-woont-uitgeest.json", NULL),
         key[64], id[37];
    char *body = ih_with_event_id(text, NULL, id);
    ih_key_for(text, key, sizeof key);

    /* In flight when the brokers go: the write fails, 503. */
    poster p = {&in, "/v1/beschikkingen", key, body, {0}};
    pthread_t t;
    pthread_create(&t, NULL, post_thread, &p);
    wait_metric(&in, "ketenhub_ingest_records_in_flight", 1);
    kill(b, SIGUSR1);
    pthread_join(t, NULL);
    expect_problem(&p.reply, 503, "broker-unavailable");
    ck_assert_int_ge(atoi(p.reply.retry_after), 1);
    ck_assert_ptr_nonnull(strstr(str_at(p.reply.json, "detail"),
                                 "send it again with the same event_id"));
    ih_reply_free(&p.reply);
    ck_assert_double_eq(ih_metric(&in,
                                  "ketenhub_ingest_produce_errors_total{error=\"_MSG_TIMED_OUT\"}"),
                        1);

    /* Known to be down: 503 at once, readiness false. */
    wait_ready(&in, 503);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_broker_ready"), 0);
    ih_reply r;
    ih_post(&in, "/v1/beschikkingen", key, "application/json", body, strlen(body), 0, &r);
    expect_problem(&r, 503, "broker-unavailable");
    ck_assert_int_ge(atoi(r.retry_after), 1);
    ih_reply_free(&r);

    /* Back: the partner's retry of the same event is stored, once. */
    kill(b, SIGUSR2);
    long status = 0;
    for (int i = 0; i < 100 && status != 202; i++) {
        ih_post(&in, "/v1/beschikkingen", key, "application/json", body, strlen(body), 0, &r);
        status = r.status;
        ck_assert_msg(status == 202 || status == 503, "%ld %s", status, r.body);
        ih_reply_free(&r);
        if (status != 202)
            ih_sleep_ms(200);
    }
    ck_assert_int_eq(status, 202);
    wait_ready(&in, 200);
    ih_records recs;
    ih_read(&in, "beschikking", &recs);
    ck_assert_uint_eq(recs.count, 1);
    ck_assert_str_eq(recs.items[0].event_id, id);
    ih_records_free(&recs);
    ck_assert_uint_eq(ih_count_all(&in), 1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
    free(body);
    free(text);
    kh_test_stop(b, SIGTERM, 5000);
}
END_TEST

START_TEST(a_full_producer_queue_is_a_503_that_publishes_nothing) {
    /* Room for one record, which lingers a second: a second request finds
     * the queue full. */
    const char *const sets[] = {"kafka.linger.ms=1000", "kafka.queue.buffering.max.messages=1",
                                NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    char *text = ih_example("tlv/valid/04-afgewezen-so-nijmegen.json", NULL), key[64];
    ih_key_for(text, key, sizeof key);
    char first_id[37];
    char *first = ih_with_event_id(text, NULL, first_id),
         *second = ih_with_event_id(text, NULL, NULL);
    poster p = {&in, "/v1/tlvs", key, first, {0}};
    pthread_t t;
    pthread_create(&t, NULL, post_thread, &p);
    wait_metric(&in, "ketenhub_ingest_records_in_flight", 1);
    ih_reply r;
    ih_post(&in, "/v1/tlvs", key, "application/json", second, strlen(second), 0, &r);
    expect_problem(&r, 503, "broker-unavailable");
    ck_assert_int_ge(atoi(r.retry_after), 1);
    ck_assert_ptr_nonnull(strstr(str_at(r.json, "detail"), "nothing was stored"));
    ih_reply_free(&r);
    pthread_join(t, NULL);
    ck_assert_int_eq(p.reply.status, 202);
    ih_reply_free(&p.reply);
    ck_assert_double_eq(ih_metric(&in,
                                  "ketenhub_ingest_produce_errors_total{error=\"_QUEUE_FULL\"}"),
                        1);
    ih_records recs;
    ih_read(&in, "tlv", &recs);
    ck_assert_uint_eq(recs.count, 1);
    ck_assert_str_eq(recs.items[0].event_id, first_id);
    ih_records_free(&recs);
    free(first);
    free(second);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* ---- SIGTERM ----------------------------------------------------------------------- */

START_TEST(sigterm_answers_every_request_in_flight_and_exits_0) {
    enum { N = 10 };
    const char *const sets[] = {"kafka.linger.ms=1500", NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    char *text = ih_example("verwijzing/valid/02-huisarts-capelle-naar-utrecht.json", NULL),
         key[64];
    ih_key_for(text, key, sizeof key);
    poster posters[N];
    char *bodies[N];
    pthread_t threads[N];
    for (int i = 0; i < N; i++) {
        bodies[i] = ih_with_event_id(text, NULL, NULL);
        posters[i] = (poster){&in, "/v1/verwijzingen", key, bodies[i], {0}};
        pthread_create(&threads[i], NULL, post_thread, &posters[i]);
    }
    wait_metric(&in, "ketenhub_ingest_records_in_flight", N);
    kill(in.pid, SIGTERM);
    ih_sleep_ms(200);
    /* No new connections once it is stopping. */
    ih_reply r;
    ih_request(&in, "GET", "/healthz", &r);
    ck_assert_msg(r.curl_error == CURLE_COULDNT_CONNECT || r.curl_error == CURLE_RECV_ERROR ||
                      r.curl_error == CURLE_GOT_NOTHING,
                  "a new connection was served while stopping: curl %d, %ld", r.curl_error,
                  r.status);
    ih_reply_free(&r);
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_msg(posters[i].reply.status == 202, "request %d: %ld %s", i,
                      posters[i].reply.status, posters[i].reply.body ? posters[i].reply.body : "");
        ih_reply_free(&posters[i].reply);
        free(bodies[i]);
    }
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
    ck_assert_uint_eq(ih_count_all(&in), N);
    free(text);
}
END_TEST

/* ---- TLS ------------------------------------------------------------------------------ */

START_TEST(tls_by_configuration) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 1);
    ih_reply r;
    ih_request(&in, "GET", "/healthz", &r);
    ck_assert_int_eq(r.status, 200);
    ih_reply_free(&r);
    char *text = ih_example("aanmelding/valid/01-geplaatst-rotterdam.json", NULL), key[64];
    ih_post(&in, "/v1/aanmeldingen", ih_key_for(text, key, sizeof key), "application/json", text,
            strlen(text), 0, &r);
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    ih_reply_free(&r);
    in.tls = 0; /* plain HTTP to the TLS port gets no answer */
    ih_request(&in, "GET", "/healthz", &r);
    ck_assert_int_ne(r.status, 200);
    ih_reply_free(&r);
    in.tls = 1;
    ck_assert_uint_eq(ih_count_all(&in), 1);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* ---- SIGHUP ----------------------------------------------------------------------------- */

START_TEST(sighup_reloads_the_partners_file_and_keeps_it_when_broken) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char *text = ih_example("tlv/valid/05-ingetrokken-vso-amsterdam.json", NULL); /* VO2714 */
    char *body = ih_with_event_id(text, NULL, NULL);
    ih_reply r;
    ih_post(&in, "/v1/tlvs", "key-new-swv", "application/json", body, strlen(body), 0, &r);
    ck_assert_int_eq(r.status, 401);
    ih_reply_free(&r);
    char hash[65];
    ck_assert_int_eq(kh_sha256_hex("key-new-swv", 11, hash), 0);
    json_t *extra = json_pack("[{s:s, s:{s:s, s:s}, s:s, s:[s]}]", "name", "new-swv", "organisatie",
                              "type", "SWV", "code", "VO2714", "api_key_sha256", hash,
                              "event_types", "tlv");
    ih_write_partners(in.partners, extra);
    json_decref(extra);
    kill(in.pid, SIGHUP);
    long status = 0;
    for (int i = 0; i < 100 && status != 202; i++) {
        ih_post(&in, "/v1/tlvs", "key-new-swv", "application/json", body, strlen(body), 0, &r);
        status = r.status;
        ih_reply_free(&r);
        if (status != 202)
            ih_sleep_ms(50);
    }
    ck_assert_int_eq(status, 202);
    ck_assert_double_eq(ih_metric(&in,
                                  "ketenhub_ingest_reloads_total{what=\"partners\",result=\"ok\"}"),
                        1);
    /* A broken file: the table in use stays. */
    FILE *f = fopen(in.partners, "w");
    fputs("{\"partners\": [{\"name\": \"x\"}]}", f);
    fclose(f);
    kill(in.pid, SIGHUP);
    wait_metric(&in, "ketenhub_ingest_reloads_total{what=\"partners\",result=\"failed\"}", 1);
    char *again = ih_with_event_id(text, NULL, NULL);
    ih_post(&in, "/v1/tlvs", "key-new-swv", "application/json", again, strlen(again), 0, &r);
    ck_assert_int_eq(r.status, 202);
    ih_reply_free(&r);
    ck_assert_double_eq(
        ih_metric(&in, "ketenhub_ingest_reloads_total{what=\"reference\",result=\"ok\"}"), 2);
    free(again);
    free(body);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* Problem details never hold input that can hold a BSN: an unknown member
 * named after one comes back with its digits masked in every form, and a
 * syntax error gives line and column, never the text near the fault. */
/* The answer with every `urn:uuid:` instance blanked: those are random and
 * may hold any digits, so a check for input digits must not look at them.
 * Caller frees. */
static char *answer_without_instance(const ih_reply *r) {
    char *text = kh_strdup(r->body);
    for (char *p = text; (p = strstr(p, "urn:uuid:")) != NULL;) {
        p += strlen("urn:uuid:");
        for (int i = 0; i < 36 && *p; i++)
            *p++ = 'x';
    }
    return text;
}

/* "\"１２３" in UTF-8: fullwidth digits one, two, three after a quote. */
#define FULLWIDTH_123 "\"\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"

START_TEST(no_bsn_in_an_answer_in_any_form) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char *tlv = ih_example("tlv/valid/01-afgegeven-so-capelle.json", NULL);
    const char *members[] = {"\"123456782\"",
                             "\"123 456 782\"",
                             "\"123.456.782\"",
                             "\"123-456-782\"",
                             "\"\\u0031\\u0032\\u0033456782\"",
                             FULLWIDTH_123 "456782\"",
                             "\"12345678\""};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        char body[16384];
        snprintf(body, sizeof body, "{%s: 1, %s", members[i], tlv + 1);
        ih_reply r;
        ih_post(&in, "/v1/tlvs", "key-PO2803", "application/json", body, strlen(body), 0, &r);
        expect_problem(&r, 422, "validation");
        char *seen = answer_without_instance(&r);
        ck_assert_msg(!strstr(seen, "456") && !strstr(seen, "782") && !strstr(seen, "u0031") &&
                          !strstr(seen, "5678"),
                      "member %s: %s", members[i], seen);
        free(seen);
        ck_assert_msg(strstr(r.body, "\"pointer\":\"/") != NULL, "%s", r.body);
        ih_reply_free(&r);
    }
    /* Nested: the digits split over pointer segments. */
    char body[16384];
    snprintf(body, sizeof body, "{\"123\": {\"456\": {\"782\": 1}}, %s", tlv + 1);
    ih_reply r;
    ih_post(&in, "/v1/tlvs", "key-PO2803", "application/json", body, strlen(body), 0, &r);
    expect_problem(&r, 422, "validation");
    ck_assert_msg(!strstr(r.body, "/456/"), "%s", r.body);
    ih_reply_free(&r);
    const char *broken[] = {"{\"jeugdige\": {\"bsn\": \"123 456 782\\x\"}}",
                            "{\"jeugdige\": {\"bsn\": \"\\u0031\\u0032\\u0033456782\\x\"}}",
                            "{\"jeugdige\": {\"bsn\": 123 456 782}}",
                            "{\"jeugdige\": {\"bsn\": \"123456782\" \"x\"}}"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        post_expect(&in, "/v1/tlvs", "key-PO2803", "application/json", broken[i], 400, "syntax",
                    &r);
        const char *detail = str_at(r.json, "detail");
        ck_assert_msg(strstr(detail, "line 1, column") != NULL, "%s", detail);
        char *seen = answer_without_instance(&r);
        ck_assert_msg(!strstr(seen, "456") && !strstr(seen, "782") && !strstr(seen, "u0031") &&
                          !strstr(seen, "near"),
                      "%s: %s", broken[i], seen);
        free(seen);
        ih_reply_free(&r);
    }
    /* The same inside a batch line. */
    const char *line = "{\"type\": \"tlv\", \"event\": {\"bsn\": \"123 456 782\\x\"}}\n";
    ih_post(&in, "/v1/batch", "key-PO2803", "application/x-ndjson", line, strlen(line), 0, &r);
    ck_assert_int_eq(r.status, 207);
    char *seen = answer_without_instance(&r);
    ck_assert_msg(!strstr(seen, "456") && !strstr(seen, "782"), "%s", seen);
    free(seen);
    ih_reply_free(&r);
    ck_assert_uint_eq(ih_count_all(&in), 0);
    free(tlv);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    Suite *s = suite_create("ingest_errors");
    TCase *tc = tcase_create("ingest_errors");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, broker_up, broker_down);
    tcase_add_test(tc, each_error_class_is_answered_and_publishes_nothing);
    tcase_add_test(tc, no_bsn_in_an_answer_in_any_form);
    tcase_add_test(tc, broker_down_503_nothing_published_and_a_retry_accepted_once_back);
    tcase_add_test(tc, a_full_producer_queue_is_a_503_that_publishes_nothing);
    tcase_add_test(tc, sigterm_answers_every_request_in_flight_and_exits_0);
    tcase_add_test(tc, tls_by_configuration);
    tcase_add_test(tc, sighup_reloads_the_partners_file_and_keeps_it_when_broken);
    suite_add_tcase(s, tc);
    int rc = kh_test_run(s);
    curl_global_cleanup();
    return rc;
}
