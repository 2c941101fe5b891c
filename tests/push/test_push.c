/*
 * test_push — ketenhub-push against real HTTP partners (kh-test-receiver)
 * on the embedded broker: signed requests, retries and backoff, permanent
 * errors and expiry, no subscription, poison records, a dead partner that
 * does not hold up the others, order per partner, raw events only to whom
 * they are addressed, TLS (verification and client certificates),
 * subscription reload, and replay of dead letters with the CLI. What needs
 * a durable broker (SIGTERM and restart, kill -9 at scale) is in
 * test_push_crash, on real Kafka.
 */
#include "kh_codec.h"
#include "push_aflevering.h"
#include "pushlib.h"
#include "testlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- signed requests ------------------------------------------------------ */

START_TEST(delivers_signed_meldingen) {
    pt_env e;
    pt_receiver r;
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, NULL, NULL);
    char *a = pt_sub("GEMEENTE:GM0599", &r, "/gm0599", SECRET_A,
                     ",\"auth\":{\"type\":\"bearer\",\"token_env\":\"KH_TEST_TOKEN_GM0599\"}");
    /* Credentials in the URL must never reach an aflevering. */
    char *b = pt_fmt("{\"partner\":\"SWV:PO2801\",\"url\":\"http://user:pw@127.0.0.1:%d"
                     "/po2801?key=geheim\",\"secret\":\"%s\"}",
                     r.port, SECRET_B);
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s]}", a, b);
    const char *env[] = {"KH_TEST_TOKEN_GM0599=tok-GM0599-abc", NULL};
    pt_push_start(&e, NULL, env);
    long long start = pt_now_ms();
    pt_meldingen(&e, 1, 5, "GEMEENTE:GM0599", -1);
    pt_meldingen(&e, 2, 5, "SWV:PO2801", -1);
    pt_wait_ok(&r, "/gm0599", 5, 20000);
    pt_wait_ok(&r, "/po2801", 5, 20000);

    json_t *recs = pt_receiver_records(&r, NULL);
    ck_assert_uint_eq(json_array_size(recs), 10);
    size_t i;
    json_t *rec;
    json_t *ports = json_object();
    json_array_foreach(recs, i, rec) {
        const char *path = json_string_value(json_object_get(rec, "path"));
        int gm = strcmp(path, "/gm0599") == 0;
        ck_assert_str_eq(json_string_value(json_object_get(rec, "content_type")),
                         "application/json");
        ck_assert_msg(pt_signature_valid(gm ? SECRET_A : SECRET_B, rec), "bad signature on %s",
                      path);
        ck_assert_msg(!pt_signature_valid(gm ? SECRET_B : SECRET_A, rec),
                      "signature valid with the wrong secret");
        long long ts = atoll(json_string_value(json_object_get(rec, "webhook_timestamp")));
        ck_assert_int_ge(ts, start / 1000 - 1);
        ck_assert_int_le(ts, pt_now_ms() / 1000 + 1);
        json_t *body = json_loads(json_string_value(json_object_get(rec, "body")), 0, NULL);
        ck_assert_ptr_nonnull(body);
        ck_assert_str_eq(json_string_value(json_object_get(body, "melding_id")),
                         json_string_value(json_object_get(rec, "webhook_id")));
        ck_assert_str_eq(pt_get(body, "ontvanger.code"), gm ? "GM0599" : "PO2801");
        ck_assert_str_eq(pt_get(body, "jeugdige.bsn"), "999990111");
        json_decref(body);
        const json_t *auth = json_object_get(rec, "authorization");
        if (gm)
            ck_assert_str_eq(json_string_value(auth), "Bearer tok-GM0599-abc");
        else
            ck_assert_msg(!json_string_value(auth) ||
                              strncmp(json_string_value(auth), "Bearer", 6) != 0,
                          "partner without bearer auth got a token");
        char port[16];
        snprintf(port, sizeof port, "%lld",
                 (long long)json_integer_value(json_object_get(rec, "client_port")));
        json_object_set_new(ports, port, json_true());
    }
    /* Keep-alive: one connection per partner (two at most if one was
     * dropped), not one per request. */
    ck_assert_uint_le(json_object_size(ports), 4);
    json_decref(ports);
    json_decref(recs);

    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 10, 500, 20000);
    ck_assert_uint_eq(json_array_size(afl), 10);
    char id[37];
    for (int k = 0; k < 5; k++) {
        json_t *x = pt_find(afl, "value.melding_id", pt_uuid(1, k, id));
        ck_assert_ptr_nonnull(x);
        ck_assert_str_eq(pt_get(x, "value.outcome"), "DELIVERED");
        ck_assert_str_eq(pt_get(x, "value.attempts"), "1");
        ck_assert_str_eq(pt_get(x, "value.http_status"), "200");
        ck_assert_str_eq(pt_get(x, "key"), "GM0599");
        ck_assert_str_eq(pt_get(x, "headers.melding-id"), id);
        x = pt_find(afl, "value.melding_id", pt_uuid(2, k, id));
        ck_assert_ptr_nonnull(x);
        char endpoint[128];
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d/po2801", r.port);
        ck_assert_str_eq(pt_get(x, "value.endpoint"), endpoint);
        ck_assert_str_eq(pt_get(x, "value.ontvanger.type"), "SWV");
        ck_assert_ptr_nonnull(pt_get(x, "value.first_attempt_at"));
    }
    /* No payload and no BSN in the processing log. */
    char *text = json_dumps(afl, 0);
    ck_assert_ptr_null(strstr(text, "999990111"));
    ck_assert_ptr_null(strstr(text, "geheim"));
    free(text);
    json_decref(afl);

    char *m = pt_push_metrics(&e);
    ck_assert_int_eq(
        (int)pt_metric(
            m, "ketenhub_push_deliveries_total{partner=\"GEMEENTE:GM0599\",outcome=\"DELIVERED\"}"),
        5);
    ck_assert_int_eq(
        (int)pt_metric(m, "ketenhub_push_attempts_total{partner=\"SWV:PO2801\",result=\"2xx\"}"),
        5);
    ck_assert_int_eq(
        (int)pt_metric(m, "ketenhub_push_request_duration_seconds_count{partner=\"SWV:PO2801\"}"),
        5);
    ck_assert_ptr_null(strstr(m, "999990111"));
    free(m);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    /* The log (at debug level) holds no payload, BSN, token or secret. */
    char path[300], *log = NULL;
    size_t cap = 0;
    snprintf(path, sizeof path, "%s/push-1.log", e.dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_gt(getdelim(&log, &cap, '\0', f), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(log, "\"msg\":\"delivered\""));
    ck_assert_ptr_null(strstr(log, "999990111"));
    ck_assert_ptr_null(strstr(log, "toelichting"));
    ck_assert_ptr_null(strstr(log, "tok-GM0599-abc"));
    ck_assert_ptr_null(strstr(log, "MfKQ9r8"));
    ck_assert_ptr_null(strstr(log, "geheim"));
    free(log);
    pt_receiver_stop(&r);
    free(a);
    free(b);
    pt_env_done(&e);
}
END_TEST

/* ---- retries and backoff -------------------------------------------------- */

static double gap(const json_t *recs, size_t i) {
    return json_real_value(json_object_get(json_array_get(recs, i + 1), "t_ms")) -
           json_real_value(json_object_get(json_array_get(recs, i), "t_ms"));
}

static void expect_same_id_and_signed(const json_t *recs, const char *id, const char *secret) {
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec) {
        ck_assert_str_eq(json_string_value(json_object_get(rec, "webhook_id")), id);
        ck_assert_msg(pt_signature_valid(secret, rec), "attempt %zu not signed correctly", i + 1);
    }
}

START_TEST(retries_with_backoff) {
    pt_env e;
    pt_receiver r;
    const char *rules[] = {"/fail3=fail:3",   "/ra=retry-after:2", "/rad=retry-after-date:3",
                           "/hang=hang:3000", "/close=close",      NULL};
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, rules, NULL);
    char *s1 = pt_sub("GEMEENTE:GM0518", &r, "/fail3", SECRET_A, "");
    char *s2 = pt_sub("GEMEENTE:GM0344", &r, "/ra", SECRET_A, "");
    char *s3 = pt_sub("GEMEENTE:GM0363", &r, "/rad", SECRET_A, "");
    char *s4 = pt_sub("GEMEENTE:GM0014", &r, "/hang", SECRET_A, ",\"limits\":{\"timeout_ms\":500}");
    char *s5 = pt_sub("GEMEENTE:GM0034", &r, "/close", SECRET_A, "");
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s,%s,%s,%s]}", s1, s2, s3, s4, s5);
    const char *sets[] = {"retry.initial.ms=300", "retry.max.ms=1200", NULL};
    pt_push_start(&e, sets, NULL);
    pt_meldingen(&e, 10, 1, "GEMEENTE:GM0518", -1);
    pt_meldingen(&e, 11, 1, "GEMEENTE:GM0344", -1);
    pt_meldingen(&e, 12, 1, "GEMEENTE:GM0363", -1);
    pt_meldingen(&e, 13, 1, "GEMEENTE:GM0014", -1);
    pt_meldingen(&e, 14, 1, "GEMEENTE:GM0034", -1);

    /* The hanging and the closing partner come back once they failed once. */
    long long until = pt_now_ms() + 20000;
    while ((pt_receiver_count(&r, "/hang", NULL) < 1 ||
            pt_receiver_count(&r, "/close", NULL) < 1) &&
           pt_now_ms() < until)
        pt_sleep_ms(50);
    pt_receiver_rule(&r, "/hang", "ok");
    pt_receiver_rule(&r, "/close", "ok");
    pt_wait_ok(&r, "/fail3", 1, 20000);
    pt_wait_ok(&r, "/ra", 1, 20000);
    pt_wait_ok(&r, "/rad", 1, 20000);
    pt_wait_ok(&r, "/hang", 1, 20000);
    pt_wait_ok(&r, "/close", 1, 20000);

    /* fail:3 -> 503, 503, 503, 200; waits in [d/2, d] (+ slack for the
     * round trip through the retry topic) with d = 300, 600, 1200 ms. */
    char id[37];
    json_t *recs = pt_receiver_records(&r, "/fail3");
    ck_assert_uint_eq(json_array_size(recs), 4);
    expect_same_id_and_signed(recs, pt_uuid(10, 0, id), SECRET_A);
    const double d[] = {300, 600, 1200};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(recs, i), "status")),
                         503);
        ck_assert_msg(gap(recs, i) >= d[i] / 2 - 25 && gap(recs, i) <= d[i] + 2500,
                      "wait before attempt %zu: %.0f ms, expected %.0f..%.0f", i + 2, gap(recs, i),
                      d[i] / 2, d[i]);
    }
    json_decref(recs);
    /* 429 with Retry-After: 2 (seconds) and as an HTTP date 3 s ahead (whole
     * seconds, so at least 2 s): the next attempt waits that long, longer
     * than the backoff alone (150..300 ms). */
    recs = pt_receiver_records(&r, "/ra");
    ck_assert_uint_eq(json_array_size(recs), 2);
    expect_same_id_and_signed(recs, pt_uuid(11, 0, id), SECRET_A);
    ck_assert_msg(gap(recs, 0) >= 1975 && gap(recs, 0) <= 4000, "Retry-After 2: waited %.0f ms",
                  gap(recs, 0));
    json_decref(recs);
    recs = pt_receiver_records(&r, "/rad");
    ck_assert_uint_eq(json_array_size(recs), 2);
    ck_assert_msg(gap(recs, 0) >= 1975 && gap(recs, 0) <= 5000, "Retry-After date: waited %.0f ms",
                  gap(recs, 0));
    json_decref(recs);

    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 5, 500, 20000);
    json_t *x = pt_find(afl, "value.melding_id", pt_uuid(10, 0, id));
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(pt_get(x, "value.outcome"), "DELIVERED");
    ck_assert_str_eq(pt_get(x, "value.attempts"), "4");
    ck_assert_str_eq(pt_get(x, "value.http_status"), "200");
    x = pt_find(afl, "value.melding_id", pt_uuid(13, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "DELIVERED");
    ck_assert_int_ge(atoi(pt_get(x, "value.attempts")), 2);
    x = pt_find(afl, "value.melding_id", pt_uuid(14, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "DELIVERED");
    ck_assert_int_ge(atoi(pt_get(x, "value.attempts")), 2);
    json_decref(afl);

    char *m = pt_push_metrics(&e);
    ck_assert_int_ge(
        (int)pt_metric(
            m, "ketenhub_push_attempts_total{partner=\"GEMEENTE:GM0014\",result=\"timeout\"}"),
        1);
    ck_assert_int_ge(
        (int)
            pt_metric(m,
                      "ketenhub_push_attempts_total{partner=\"GEMEENTE:GM0034\",result=\"error\"}"),
        1);
    ck_assert_int_eq(
        (int)pt_metric(m,
                       "ketenhub_push_attempts_total{partner=\"GEMEENTE:GM0344\",result=\"429\"}"),
        1);
    ck_assert_int_eq((int)pt_metric(m, "ketenhub_push_retries_total{partner=\"GEMEENTE:GM0518\"}"),
                     3);
    free(m);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(s1), free(s2), free(s3), free(s4), free(s5);
    pt_env_done(&e);
}
END_TEST

/* ---- permanent errors, expiry, no subscription, poison ------------------- */

START_TEST(permanent_errors_and_no_subscription) {
    pt_env e;
    pt_receiver r;
    const char *rules[] = {"/reject=status:400", "/moved=status:302", "/down=status:503", NULL};
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, rules, NULL);
    char *s1 = pt_sub("GEMEENTE:GM0599", &r, "/reject", SECRET_A, "");
    char *s2 = pt_sub("GEMEENTE:GM0518", &r, "/moved", SECRET_A, "");
    char *s3 = pt_sub("GEMEENTE:GM0344", &r, "/down", SECRET_A,
                      ",\"limits\":{\"max_age_ms\":1500}");
    char *s4 = pt_sub("SWV:PO2801", &r, "/tlv-only", SECRET_A,
                      ",\"regels\":[\"TLV_BUITEN_SWV_WOONPLAATS\"]");
    char *s5 = pt_sub("GEMEENTE:GM0014", &r, "/ok", SECRET_A, "");
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s,%s,%s,%s]}", s1, s2, s3, s4, s5);
    const char *sets[] = {"retry.initial.ms=200", "retry.max.ms=400", NULL};
    pt_push_start(&e, sets, NULL);
    /* Poison first, on the partition of the good melding after it. */
    const unsigned char unknown_id[] = {0, 0, 0, 0x27, 0x0f, 2, 4};
    pt_produce(&e, MELDING_TOPIC, "GM0014", "not avro at all", 15, 0, NULL, NULL);
    pt_produce(&e, MELDING_TOPIC, "GM0014", unknown_id, sizeof unknown_id, 0, NULL, NULL);
    size_t len;
    char id[37];
    /* A well-formed record of another schema on the melding topic. */
    char err[256], *wrong;
    push_aflevering other = {
        .melding_id = pt_uuid(29, 0, id), .ontvanger = "GEMEENTE:GM0014", .outcome = "DELIVERED"};
    ck_assert_int_eq(push_aflevering_encode(e.schemas, &other, &wrong, &len, err, sizeof err), 0);
    pt_produce(&e, MELDING_TOPIC, "GM0014", wrong, len, 0, NULL, NULL);
    free(wrong);
    pt_meldingen(&e, 20, 1, "GEMEENTE:GM0599", -1);
    pt_meldingen(&e, 21, 1, "GEMEENTE:GM0518", -1);
    pt_meldingen(&e, 22, 1, "GEMEENTE:GM0344", -1);
    pt_meldingen(&e, 23, 1, "GEMEENTE:GM0363", -1); /* nobody subscribed */
    pt_meldingen(&e, 24, 1, "SWV:PO2801", -1);      /* a rule it did not subscribe to */
    pt_meldingen(&e, 25, 1, "GEMEENTE:GM0014", 0);  /* after the poison: still delivered */
    pt_wait_ok(&r, "/ok", 1, 20000);

    json_t *dlq = pt_read(&e, DLQ_TOPIC, 8, 500, 30000);
    ck_assert_uint_eq(json_array_size(dlq), 8);
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 6, 500, 20000);
    ck_assert_uint_eq(json_array_size(afl), 6);
    /* 400: dead-lettered at once, one attempt. */
    ck_assert_int_eq(pt_receiver_count(&r, "/reject", NULL), 1);
    json_t *x = pt_find(afl, "value.melding_id", pt_uuid(20, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "REJECTED");
    ck_assert_str_eq(pt_get(x, "value.attempts"), "1");
    ck_assert_str_eq(pt_get(x, "value.http_status"), "400");
    ck_assert_ptr_nonnull(strstr(pt_get(x, "value.error"), "400"));
    x = pt_find(dlq, "headers.dlq-ontvanger", "GEMEENTE:GM0599");
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(pt_get(x, "value.reason_code"), "DELIVERY_REJECTED");
    ck_assert_str_eq(pt_get(x, "headers.dlq-reason"), "DELIVERY_REJECTED");
    ck_assert_str_eq(pt_get(x, "headers.dlq-service"), "push");
    ck_assert_str_eq(pt_get(x, "headers.dlq-ontvanger"), "GEMEENTE:GM0599");
    char topic[256];
    ck_assert_str_eq(pt_get(x, "headers.dlq-origin-topic"),
                     pt_topic(&e, MELDING_TOPIC, topic, sizeof topic));
    ck_assert_str_eq(pt_get(x, "key"), "GM0599");
    /* The original record survives byte for byte, for replay. */
    char *orig = pt_melding(&e, pt_uuid(20, 0, id), "GEMEENTE:GM0599", REGEL, &len);
    json_t *grens = pt_read(&e, MELDING_TOPIC, 9, 300, 10000);
    json_t *g = pt_find(grens, "value.melding_id", id);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(pt_get(x, "value.origin_value"), pt_get(g, "raw"));
    ck_assert_str_eq(pt_get(x, "value.origin_offset"), pt_get(g, "offset"));
    free(orig);
    json_decref(grens);
    /* 302 is not followed: rejected. */
    x = pt_find(afl, "value.melding_id", pt_uuid(21, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "REJECTED");
    ck_assert_str_eq(pt_get(x, "value.http_status"), "302");
    /* 503 until the maximum age: expired. */
    x = pt_find(afl, "value.melding_id", pt_uuid(22, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "EXPIRED");
    ck_assert_int_ge(atoi(pt_get(x, "value.attempts")), 2);
    ck_assert_str_eq(pt_get(x, "value.http_status"), "503");
    ck_assert_int_eq(pt_count(dlq, "value.reason_code", "DELIVERY_EXPIRED"), 1);
    /* No subscription (or not for this rule): recorded and dead-lettered. */
    x = pt_find(afl, "value.melding_id", pt_uuid(23, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "NO_SUBSCRIPTION");
    ck_assert_str_eq(pt_get(x, "value.attempts"), "0");
    ck_assert_ptr_null(pt_get(x, "value.endpoint"));
    x = pt_find(afl, "value.melding_id", pt_uuid(24, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "NO_SUBSCRIPTION");
    ck_assert_int_eq(pt_receiver_count(&r, "/tlv-only", NULL), 0);
    ck_assert_int_eq(pt_count(dlq, "value.reason_code", "NO_SUBSCRIPTION"), 2);
    ck_assert_int_eq(pt_count(dlq, "headers.dlq-ontvanger", "GEMEENTE:GM0363"), 1);
    /* Poison: each class dead-lettered, with no partner. */
    ck_assert_int_eq(pt_count(dlq, "value.reason_code", "BAD_MAGIC_BYTE"), 1);
    ck_assert_int_eq(pt_count(dlq, "value.reason_code", "UNKNOWN_SCHEMA_ID"), 1);
    ck_assert_int_eq(pt_count(dlq, "value.reason_code", "INVALID_EVENT"), 1);
    x = pt_find(afl, "value.melding_id", pt_uuid(25, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "DELIVERED");
    char *text = json_dumps(afl, 0);
    ck_assert_ptr_null(strstr(text, "999990111"));
    free(text);
    json_decref(afl);
    json_decref(dlq);
    /* A rejected delivery is not tried again. */
    pt_sleep_ms(1000);
    ck_assert_int_eq(pt_receiver_count(&r, "/reject", NULL), 1);
    char *m = pt_push_metrics(&e);
    ck_assert_int_eq((int)pt_metric(m,
                                    "ketenhub_push_deadletters_total{reason=\"BAD_MAGIC_BYTE\"}"),
                     1);
    ck_assert_int_eq((int)pt_metric(m, "ketenhub_push_deliveries_total{partner=\"GEMEENTE:GM0363\","
                                       "outcome=\"NO_SUBSCRIPTION\"}"),
                     1);
    free(m);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(s1), free(s2), free(s3), free(s4), free(s5);
    pt_env_done(&e);
}
END_TEST

/* ---- isolation ------------------------------------------------------------ */

static int a_deferred(void *ud) {
    char *m = pt_push_metrics(ud);
    double n =
        pt_metric(m,
                  "ketenhub_push_deferred_total{partner=\"GEMEENTE:GM0518\",reason=\"backoff\"}");
    free(m);
    return n >= 150;
}

START_TEST(dead_partner_does_not_hold_up_others) {
    enum { N = 200 };
    pt_env e;
    pt_receiver r;
    const char *rules[] = {"/a=hang:10000", NULL};
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, rules, NULL);
    char *a = pt_sub("GEMEENTE:GM0518", &r, "/a", SECRET_A, ",\"limits\":{\"timeout_ms\":1000}");
    char *b = pt_sub("GEMEENTE:GM0599", &r, "/b", SECRET_B, "");
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s]}", a, b);
    const char *sets[] = {"retry.initial.ms=500", "retry.max.ms=2000", NULL};
    pt_push_start(&e, sets, NULL);
    /* A and B interleaved in one partition: B's records sit behind A's. */
    char id[37];
    long long start = pt_now_ms();
    for (int i = 0; i < N; i++) {
        size_t len;
        char *v = pt_melding(&e, pt_uuid(30, i, id), "GEMEENTE:GM0518", REGEL, &len);
        pt_produce(&e, MELDING_TOPIC, "GM0518", v, len, 0, id, "GEMEENTE:GM0518");
        free(v);
        v = pt_melding(&e, pt_uuid(31, i, id), "GEMEENTE:GM0599", REGEL, &len);
        pt_produce(&e, MELDING_TOPIC, "GM0599", v, len, 0, id, "GEMEENTE:GM0599");
        free(v);
    }
    pt_flush(&e);
    pt_wait_ok(&r, "/b", N, 60000);
    long long b_done = pt_now_ms();
    /* B is complete while A is still down: A has had no success, and push
     * did not try every one of A's meldingen (it backs off and defers). */
    long a_ok = -1, a_requests = pt_receiver_count(&r, "/a", &a_ok);
    ck_assert_int_eq(a_ok, 0);
    ck_assert_int_ge(a_requests, 1);
    ck_assert_int_lt(a_requests, N / 4);
    fprintf(stderr,
            "test_push: B received all %d meldingen in %lld ms while A was down "
            "(A: %ld requests, none answered in time)\n",
            N, b_done - start, a_requests);
    char *m = pt_push_metrics(&e);
    ck_assert_int_eq(
        (int)pt_metric(
            m, "ketenhub_push_deliveries_total{partner=\"GEMEENTE:GM0599\",outcome=\"DELIVERED\"}"),
        N);
    free(m);
    /* Once A's first attempt timed out, A backs off and its queue goes to
     * the retry topic rather than being tried one by one. */
    ck_assert_msg(pt_wait(a_deferred, &e, 20000), "A's meldingen were not deferred");
    ck_assert_int_lt(pt_receiver_count(&r, "/a", NULL), N / 4);
    /* Operators see who is behind, and by how much. */
    pt_sleep_ms(1200);
    m = pt_push_metrics(&e);
    ck_assert_double_gt(
        pt_metric(m, "ketenhub_push_oldest_undelivered_age_seconds{partner=\"GEMEENTE:GM0518\"}"),
        1.0);
    /* B holds nothing: 0, or no series when B never held anything at a
     * refresh (per-partner gauges appear once they are not 0). */
    ck_assert_double_le(
        pt_metric(m, "ketenhub_push_oldest_undelivered_age_seconds{partner=\"GEMEENTE:GM0599\"}"),
        0);
    free(m);
    /* A comes back: everything it missed arrives. */
    pt_receiver_rule(&r, "/a", "ok");
    pt_wait_ok(&r, "/a", N, 90000);
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 2 * N, 500, 30000);
    ck_assert_int_eq(pt_count(afl, "value.outcome", "DELIVERED"), 2 * N);
    json_decref(afl);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(a);
    free(b);
    pt_env_done(&e);
}
END_TEST

static void produce_for(pt_env *e, int series, int n, const char *partner, const char *key) {
    char id[37];
    for (int i = 0; i < n; i++) {
        size_t len;
        char *v = pt_melding(e, pt_uuid(series, i, id), partner, REGEL, &len);
        pt_produce(e, MELDING_TOPIC, key, v, len, 0, id, partner);
        free(v);
    }
    pt_flush(e);
}

/* http.max.in.flight caps the requests in flight over all partners, and a
 * partner whose last attempt failed holds at most half of them: a partner
 * that hangs (here one that never trips its breaker and may send 8 at
 * once) cannot take the slots of one that answers. */
START_TEST(hanging_partner_holds_at_most_half_the_slots) {
    enum { N = 50 };
    pt_env e;
    pt_receiver r;
    const char *rules[] = {"/a=hang:60000", NULL};
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, rules, NULL);
    char *a = pt_sub("GEMEENTE:GM0518", &r, "/a", SECRET_A,
                     ",\"limits\":{\"timeout_ms\":5000,\"concurrency\":8}");
    char *b = pt_sub("GEMEENTE:GM0599", &r, "/b", SECRET_B, "");
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s]}", a, b);
    const char *sets[] = {"http.max.in.flight=2", "retry.breaker.failures=1000",
                          "retry.initial.ms=200", "retry.max.ms=500", NULL};
    pt_push_start(&e, sets, NULL);
    produce_for(&e, 40, 20, "GEMEENTE:GM0518", "GM0518");
    long long until = pt_now_ms() + 30000;
    while (pt_receiver_count(&r, "/a", NULL) < 2 && pt_now_ms() < until)
        pt_sleep_ms(50);
    /* A may send 8 at once; the cap lets 2 through, and they hang. */
    pt_sleep_ms(1000);
    ck_assert_int_eq(pt_receiver_count(&r, "/a", NULL), 2);
    /* Once A's attempts have failed, A holds one slot and B gets the other. */
    produce_for(&e, 41, N, "GEMEENTE:GM0599", "GM0599");
    pt_wait_ok(&r, "/b", N, 60000);
    long a_ok = -1;
    ck_assert_int_ge(pt_receiver_count(&r, "/a", &a_ok), 3);
    ck_assert_int_eq(a_ok, 0);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(a);
    free(b);
    pt_env_done(&e);
}
END_TEST

/* ---- order ----------------------------------------------------------------- */

START_TEST(keeps_order_per_partner) {
    enum { N = 300 };
    pt_env e;
    pt_receiver r;
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, NULL, NULL);
    char *s = pt_sub("SWV:VO2801", &r, "/order", SECRET_A, ",\"limits\":{\"timeout_ms\":30000}");
    pt_write_subs(&e, "{\"subscriptions\":[%s]}", s);
    pt_push_start(&e, NULL, NULL);
    pt_meldingen(&e, 40, N, "SWV:VO2801", -1);
    pt_wait_ok(&r, "/order", N, 60000);
    /* Every melding delivered at its first request arrived in topic order.
     * (A request lost to a stalled machine is retried and may come later:
     * order is promised for first-try successes only.) */
    json_t *recs = pt_receiver_records(&r, "/order");
    char id[37];
    int next = 0, first_try = 0;
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec) {
        const char *got = json_string_value(json_object_get(rec, "webhook_id"));
        if (pt_count(recs, "webhook_id", got) != 1)
            continue;
        int n = -1;
        for (int k = next; k < N && n < 0; k++)
            if (strcmp(got, pt_uuid(40, k, id)) == 0)
                n = k;
        ck_assert_msg(n >= 0, "%s arrived out of order (after %d)", got, next);
        next = n + 1;
        first_try++;
    }
    ck_assert_int_ge(first_try, N * 9 / 10);
    ck_assert_uint_ge(json_array_size(recs), N);
    json_decref(recs);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(s);
    pt_env_done(&e);
}
END_TEST

/* The 2xx answers at path, in the order they arrived: each webhook-id once,
 * and exactly the n ids of series s (after the m of series t). */
static void assert_delivered_in_order(const pt_receiver *r, const char *path, int s, int n, int t,
                                      int m) {
    json_t *recs = pt_receiver_records(r, path);
    char id[37];
    size_t i;
    json_t *rec;
    int k = 0;
    json_array_foreach(recs, i, rec) {
        if (json_integer_value(json_object_get(rec, "status")) / 100 != 2)
            continue;
        const char *got = json_string_value(json_object_get(rec, "webhook_id"));
        ck_assert_msg(k < n + m, "%s delivered after all %d", got, n + m);
        const char *want = k < n ? pt_uuid(s, k, id) : pt_uuid(t, k - n, id);
        ck_assert_msg(strcmp(got, want) == 0, "delivery %d was %s, not %s (topic order)", k, got,
                      want);
        k++;
    }
    ck_assert_int_eq(k, n + m);
    json_decref(recs);
}

static int a_backed_off(void *ud) {
    long requests = pt_receiver_count(ud, "/a", NULL);
    return requests >= 5;
}

/* A partner that answers 503 for a while and then recovers gets its whole
 * backlog in topic order, each melding once, including meldingen that
 * arrive while the backlog drains; the partner beside it in the same
 * partition gets all of its meldingen while the first is down. */
START_TEST(backlog_arrives_in_order_after_an_outage) {
    enum { N = 120, LATE = 30 };
    pt_env e;
    pt_receiver r;
    const char *rules[] = {"/a=status:503", NULL};
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, rules, NULL);
    char *a = pt_sub("GEMEENTE:GM0518", &r, "/a", SECRET_A, ",\"limits\":{\"timeout_ms\":30000}");
    char *b = pt_sub("GEMEENTE:GM0599", &r, "/b", SECRET_B, "");
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s]}", a, b);
    const char *sets[] = {"retry.initial.ms=100", "retry.max.ms=400", NULL};
    pt_push_start(&e, sets, NULL);
    char id[37];
    for (int i = 0; i < N; i++) {
        size_t len;
        char *v = pt_melding(&e, pt_uuid(50, i, id), "GEMEENTE:GM0518", REGEL, &len);
        pt_produce(&e, MELDING_TOPIC, "GM0518", v, len, 0, id, "GEMEENTE:GM0518");
        free(v);
        v = pt_melding(&e, pt_uuid(51, i, id), "GEMEENTE:GM0599", REGEL, &len);
        pt_produce(&e, MELDING_TOPIC, "GM0599", v, len, 0, id, "GEMEENTE:GM0599");
        free(v);
    }
    pt_flush(&e);
    pt_wait_ok(&r, "/b", N, 60000);
    /* A has refused several attempts (its breaker tripped) before it is back. */
    ck_assert_msg(pt_wait(a_backed_off, &r, 30000), "push did not retry A");
    long a_ok = -1;
    pt_receiver_count(&r, "/a", &a_ok);
    ck_assert_int_eq(a_ok, 0);
    pt_receiver_rule(&r, "/a", "ok");
    produce_for(&e, 53, LATE, "GEMEENTE:GM0518", "GM0518"); /* while the backlog drains */
    pt_wait_ok(&r, "/a", N + LATE, 90000);
    assert_delivered_in_order(&r, "/a", 50, N, 53, LATE);
    char *m = pt_push_metrics(&e);
    ck_assert_double_gt(
        pt_metric(m,
                  "ketenhub_push_deferred_total{partner=\"GEMEENTE:GM0518\",reason=\"backoff\"}"),
        0);
    free(m);
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 2 * N + LATE, 500, 30000);
    ck_assert_int_eq(pt_count(afl, "value.outcome", "DELIVERED"), 2 * N + LATE);
    json_decref(afl);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(a);
    free(b);
    pt_env_done(&e);
}
END_TEST

/* ---- a silent broker ---------------------------------------------------- */

static int two_answered(void *ud) { return pt_receiver_count(ud, "/a", NULL) >= 2; }

static int in_flight_a(void *ud) {
    char *m = pt_push_metrics(ud);
    int one = pt_metric(m, "ketenhub_push_in_flight{partner=\"GEMEENTE:GM0518\"}") == 1;
    free(m);
    return one;
}

/* One partner (GEMEENTE:GM0518 at /a, with receiver rule) on a devbroker of
 * the test's own, push started with sets, meldingen 0..n-1 of series s
 * written; returns the broker's pid once the first melding is in flight.
 * End with one_partner_done. */
static pid_t one_partner_in_flight(pt_env *e, pt_receiver *r, const char *rule,
                                   const char *const *sets, int s, int n) {
    const char *rules[] = {rule, NULL};
    pid_t broker = pt_env_own_devbroker(e);
    pt_receiver_start(e, r, rules, NULL);
    char *a = pt_sub("GEMEENTE:GM0518", r, "/a", SECRET_A, "");
    pt_write_subs(e, "{\"subscriptions\":[%s]}", a);
    free(a);
    pt_push_start(e, sets, NULL);
    pt_meldingen(e, s, n, "GEMEENTE:GM0518", 0);
    ck_assert_msg(pt_wait(in_flight_a, e, 20000), "the first melding should be in flight");
    return broker;
}

static void one_partner_done(pt_env *e, pt_receiver *r, pid_t broker) {
    ck_assert_int_eq(pt_push_stop(e, SIGTERM), 0);
    pt_receiver_stop(r);
    pt_env_done(e);
    kh_test_stop(broker, SIGTERM, 10000);
}

/* The broker stops answering (SIGSTOP: connections open, no replies) while
 * push delivers: the first aflevering fills the producer queue (one record)
 * and the second waits for room. SIGTERM still ends push within its bound,
 * status 1 (that outcome could not be written); once the broker answers
 * again, a restart delivers every melding, one delivered twice only with
 * the same webhook-id. */
START_TEST(sigterm_with_the_producer_queue_full_and_a_silent_broker) {
    enum { N = 3 };
    pt_env e;
    pt_receiver r;
    /* a short session: the stopped push cannot leave the group */
    const char *sets[] = {"kafka.queue.buffering.max.messages=1", "shutdown.timeout.ms=2000",
                          "kafka.session.timeout.ms=6000", NULL};
    pid_t broker = one_partner_in_flight(&e, &r, "/a=hang:700", sets, 90, N);
    ck_assert_int_eq(kill(broker, SIGSTOP), 0);
    ck_assert_msg(pt_wait(two_answered, &r, 20000), "the second melding should be delivered");
    pt_sleep_ms(500); /* its aflevering waits for room in the queue */
    long long t0 = pt_now_ms();
    int rc = pt_push_stop(&e, SIGTERM);
    long long took = pt_now_ms() - t0;
    ck_assert_int_eq(kill(broker, SIGCONT), 0);
    ck_assert_msg(rc != 128 + SIGKILL, "push did not exit within 20 s of SIGTERM");
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(took < 15000, "stop took %lld ms", took);
    char log[300];
    snprintf(log, sizeof log, "%s/push-1.log", e.dir);
    ck_assert(kh_test_file_contains(log, "producer queue full at shutdown"));

    pt_receiver_rule(&r, "/a", "ok");
    pt_push_start(&e, NULL, NULL);
    pt_wait_ok(&r, "/a", N, 30000);
    json_t *recs = pt_receiver_records(&r, "/a");
    char id[37];
    size_t ours = 0;
    for (int i = 0; i < N; i++) {
        size_t n = pt_count(recs, "webhook_id", pt_uuid(90, i, id));
        ck_assert_uint_ge(n, 1);
        ours += n;
    }
    ck_assert_uint_eq(ours, json_array_size(recs)); /* a repeat has its melding's id */
    json_decref(recs);
    one_partner_done(&e, &r, broker);
}
END_TEST

/* Every broker goes down (devbroker SIGUSR1: connections closed and
 * refused) while push delivers from memory, for longer than
 * message.timeout.ms: the afleveringen written meanwhile are reported
 * undelivered and written again. Once the broker is back, every melding
 * has its DELIVERED aflevering, each delivered once, and push is still
 * running. */
START_TEST(rewrites_what_the_broker_did_not_acknowledge) {
    enum { N = 12 };
    pt_env e;
    pt_receiver r;
    const char *sets[] = {"kafka.message.timeout.ms=1000", NULL};
    pid_t broker = one_partner_in_flight(&e, &r, "/a=hang:200", sets, 95, N);
    ck_assert_int_eq(kill(broker, SIGUSR1), 0);
    pt_sleep_ms(2500); /* deliveries go on; their afleveringen time out */
    ck_assert_int_eq(kill(broker, SIGUSR2), 0);
    pt_wait_ok(&r, "/a", N, 30000);
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, N, 1000, 30000);
    char id[37];
    for (int i = 0; i < N; i++)
        ck_assert_int_ge(pt_count(afl, "value.melding_id", pt_uuid(95, i, id)), 1);
    ck_assert_int_eq(pt_count(afl, "value.outcome", "DELIVERED"), json_array_size(afl));
    json_decref(afl);
    ck_assert_int_eq(pt_receiver_count(&r, "/a", NULL), N); /* each once */
    char log[300];
    snprintf(log, sizeof log, "%s/push-1.log", e.dir);
    ck_assert(kh_test_file_contains(log, "kafka write not acknowledged; writing it again"));
    one_partner_done(&e, &r, broker);
}
END_TEST

/* ---- raw events -------------------------------------------------------- */

static const char *const VERWIJZING =
    "{\"envelope\":{\"event_id\":\"210c6d0c-8fff-4e80-9f1b-37a6a6a93557\","
    "\"occurred_at\":\"2025-01-20T14:30:00Z\",\"bron\":{\"type\":\"GEMEENTE\",\"code\":\"GM0599\"}}"
    ","
    "\"jeugdige\":{\"bsn\":\"999990111\",\"geboortedatum\":\"2019-03-08\",\"woonplaatsgemeente\":"
    "\"GM0599\"},"
    "\"verwijzing_id\":\"VW-RTD-2025-0042\",\"verwijzer\":{\"type\":\"GEMEENTE\",\"code\":"
    "\"GM0599\"},"
    "\"naar\":{\"type\":\"AANBIEDER\",\"code\":\"98000000\"},\"domein\":\"JEUGDHULP\",\"datum\":"
    "\"2025-01-20\"}";

static char *encode_event(pt_env *e, const char *name, const char *text, size_t *len) {
    const kh_schema *s = kh_schemas_by_name(e->schemas, name);
    json_t *j = json_loads(text, 0, NULL);
    avro_value_t v;
    kh_problems p;
    char err[256], *wire;
    kh_problems_init(&p);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(kh_schema_new_value(s, &v), 0);
    ck_assert_int_eq(kh_codec_from_json(s, j, &v, &p), 0);
    ck_assert_int_eq(kh_codec_encode(s, &v, &wire, len, err, sizeof err), 0);
    avro_value_decref(&v);
    json_decref(j);
    return wire;
}

START_TEST(raw_events_only_to_addressees) {
    pt_env e;
    pt_receiver r;
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, NULL, NULL);
    char *s1 = pt_sub("AANBIEDER:98000000", &r, "/agb", SECRET_A, ",\"events\":[\"verwijzing\"]");
    char *s2 = pt_sub("GEMEENTE:GM0599", &r, "/bron", SECRET_A,
                      ",\"meldingen\":false,\"events\":[\"verwijzing\"]");
    char *s3 = pt_sub("GEMEENTE:GM0363", &r, "/other", SECRET_A,
                      ",\"events\":[\"verwijzing\",\"aanmelding\"]");
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s,%s]}", s1, s2, s3);
    pt_push_start(&e, NULL, NULL);
    size_t len;
    char *v = encode_event(&e, "verwijzing", VERWIJZING, &len);
    pt_produce(&e, "ketenhub.verwijzing.v1", "pseudonym-of-the-child", v, len, -1, NULL, NULL);
    /* A forged retry record for someone the event is not addressed to. */
    rd_kafka_headers_t *h = rd_kafka_headers_new(12);
    rd_kafka_header_add(h, "ontvanger", -1, "GEMEENTE:GM0363", -1);
    const char *names[] = {"push-attempts",         "push-since",        "push-first-attempt",
                           "push-last-attempt",     "push-due",          "push-last-status",
                           "push-origin-partition", "push-origin-offset"};
    for (size_t i = 0; i < 8; i++)
        rd_kafka_header_add(h, names[i], -1, "0", -1);
    rd_kafka_header_add(h, "push-origin-topic", -1, "ketenhub.verwijzing.v1", -1);
    char topic[256];
    ck_assert_int_eq(rd_kafka_producev(e.producer,
                                       RD_KAFKA_V_TOPIC(pt_topic(&e, "ketenhub.push.retry.v1",
                                                                 topic, sizeof topic)),
                                       RD_KAFKA_V_KEY("GM0363", 6), RD_KAFKA_V_VALUE(v, len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END),
                     0);
    pt_flush(&e);
    pt_wait_ok(&r, "/agb", 1, 30000);
    pt_wait_ok(&r, "/bron", 1, 30000);
    json_t *dlq = pt_read(&e, DLQ_TOPIC, 1, 500, 20000);
    char *shown = json_dumps(dlq, JSON_COMPACT);
    ck_assert_msg(pt_count(dlq, "value.reason_code", "INVALID_EVENT") == 1, "dead letters: %.600s",
                  shown);
    free(shown);
    json_decref(dlq);
    ck_assert_int_eq(pt_receiver_count(&r, "/other", NULL), 0);
    json_t *recs = pt_receiver_records(&r, "/agb");
    json_t *rec = json_array_get(recs, 0);
    /* uuid5(PUSH_EVENT_ID_NAMESPACE, "GEMEENTE:GM0599|210c6d0c-...") in Python */
    ck_assert_str_eq(json_string_value(json_object_get(rec, "webhook_id")),
                     "6dc39929-8271-5011-8dc2-3284d3b7e9a2");
    ck_assert(pt_signature_valid(SECRET_A, rec));
    json_t *body = json_loads(json_string_value(json_object_get(rec, "body")), 0, NULL);
    ck_assert_str_eq(pt_get(body, "naar.code"), "98000000");
    ck_assert_str_eq(pt_get(body, "verwijzing_id"), "VW-RTD-2025-0042");
    json_decref(body);
    json_decref(recs);
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 2, 500, 20000);
    ck_assert_uint_eq(json_array_size(afl), 2);
    ck_assert_int_eq(pt_count(afl, "value.melding_id", "6dc39929-8271-5011-8dc2-3284d3b7e9a2"), 2);
    json_decref(afl);
    ck_assert_int_eq(pt_receiver_count(&r, "/other", NULL), 0);
    free(v);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(s1), free(s2), free(s3);
    pt_env_done(&e);
}
END_TEST

/* ---- TLS ------------------------------------------------------------------ */

START_TEST(tls_verified_and_client_certificates) {
    pt_env e;
    pt_receiver r;
    pt_env_devbroker(&e);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/tests/push/make-certs.sh %s >%s/certs.log 2>&1",
             kh_test_source_dir(), e.dir, e.dir);
    ck_assert_msg(system(cmd) == 0, "make-certs.sh failed (see %s/certs.log)", e.dir);
    char cert[300], key[300], ca[300];
    snprintf(cert, sizeof cert, "%s/server.pem", e.dir);
    snprintf(key, sizeof key, "%s/server.key", e.dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", e.dir);
    const char *extra[] = {"--tls-cert", cert, "--tls-key", key, "--client-ca", ca, NULL};
    pt_receiver_start(&e, &r, NULL, extra);
    pt_write_subs(
        &e,
        "{\"subscriptions\":["
        "{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"https://127.0.0.1:%d/t1\",\"secret\":\"%s\","
        "\"ca_file\":\"ca.pem\",\"auth\":{\"type\":\"tls_client\",\"cert\":\"client.pem\",\"key\":"
        "\"client.key\"}},"
        "{\"partner\":\"GEMEENTE:GM0518\",\"url\":\"https://127.0.0.1:%d/"
        "t2\",\"secret\":\"%s\",\"ca_file\":\"ca.pem\"},"
        "{\"partner\":\"GEMEENTE:GM0344\",\"url\":\"https://127.0.0.1:%d/t3\",\"secret\":\"%s\","
        "\"limits\":{\"max_age_ms\":1000}}]}",
        r.port, SECRET_A, r.port, SECRET_A, r.port, SECRET_A);
    const char *sets[] = {"retry.initial.ms=200", "retry.max.ms=400", NULL};
    pt_push_start(&e, sets, NULL);
    pt_meldingen(&e, 50, 1, "GEMEENTE:GM0599", -1);
    pt_meldingen(&e, 51, 1, "GEMEENTE:GM0518", -1);
    pt_meldingen(&e, 52, 1, "GEMEENTE:GM0344", -1);
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 3, 500, 30000);
    ck_assert_uint_eq(json_array_size(afl), 3);
    char id[37];
    /* Verified server, client certificate presented: delivered. */
    json_t *x = pt_find(afl, "value.melding_id", pt_uuid(50, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "DELIVERED");
    json_t *recs = pt_receiver_records(&r, "/t1");
    ck_assert_uint_eq(json_array_size(recs), 1);
    ck_assert_ptr_nonnull(strstr(pt_get(json_array_get(recs, 0), "client_cert"),
                                 "CN=ketenhub-push"));
    json_decref(recs);
    /* No client certificate: the partner refuses (403), dead-lettered. */
    x = pt_find(afl, "value.melding_id", pt_uuid(51, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "REJECTED");
    ck_assert_str_eq(pt_get(x, "value.http_status"), "403");
    /* The server's certificate is not trusted without the CA: never sent. */
    x = pt_find(afl, "value.melding_id", pt_uuid(52, 0, id));
    ck_assert_str_eq(pt_get(x, "value.outcome"), "EXPIRED");
    ck_assert_ptr_null(pt_get(x, "value.http_status"));
    ck_assert_ptr_nonnull(strstr(pt_get(x, "value.error"), "certificate"));
    recs = pt_receiver_records(&r, "/t3");
    ck_assert_uint_eq(json_array_size(recs), 0);
    json_decref(recs);
    json_decref(afl);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    pt_env_done(&e);
}
END_TEST

/* ---- reload and replay ------------------------------------------------------ */

static int lines(const char *text) {
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

typedef struct want_dlq {
    pt_env *e;
    size_t n;
} want_dlq;

START_TEST(reload_and_replay_dead_letters) {
    pt_env e;
    pt_receiver r;
    const char *rules[] = {"/r=status:422", NULL};
    pt_env_devbroker(&e);
    pt_receiver_start(&e, &r, rules, NULL);
    char *s1 = pt_sub("GEMEENTE:GM0599", &r, "/r", SECRET_A, "");
    char *s2 = pt_sub("GEMEENTE:GM0363", &r, "/u", SECRET_B, "");
    pt_write_subs(&e, "{\"subscriptions\":[%s]}", s1);
    pt_push_start(&e, NULL, NULL);
    pt_meldingen(&e, 60, 5, "GEMEENTE:GM0599", -1);
    pt_meldingen(&e, 61, 3, "GEMEENTE:GM0363", -1);
    json_t *dlq = pt_read(&e, DLQ_TOPIC, 8, 500, 30000);
    ck_assert_uint_eq(json_array_size(dlq), 8);
    json_decref(dlq);

    char *out;
    const char *list[] = {"deadletters", "list", NULL};
    ck_assert_int_eq(pt_cli(&e, list, &out), 0);
    ck_assert_int_eq(lines(out), 8);
    ck_assert_ptr_null(strstr(out, "999990111"));
    free(out);
    const char *list_u[] = {"deadletters", "list", "--partner", "GEMEENTE:GM0363", "--json", NULL};
    ck_assert_int_eq(pt_cli(&e, list_u, &out), 0);
    ck_assert_int_eq(lines(out), 3);
    json_t *first = json_loadb(out, strcspn(out, "\n"), 0, NULL);
    ck_assert_str_eq(pt_get(first, "reason_code"), "NO_SUBSCRIPTION");
    ck_assert_str_eq(pt_get(first, "ontvanger"), "GEMEENTE:GM0363");
    char id[37];
    ck_assert_ptr_nonnull(strstr(out, pt_uuid(61, 2, id)));
    json_decref(first);
    free(out);
    /* --reason takes only a reason of kh_deadletter's table (exit 2, nothing printed). */
    const char *by_reason[] = {"deadletters", "list", "--reason", "NO_SUBSCRIPTION", NULL};
    ck_assert_int_eq(pt_cli(&e, by_reason, &out), 0);
    ck_assert_int_eq(lines(out), 3);
    free(out);
    const char *bad_reason[] = {"deadletters", "list", "--reason", "NO_SUBSCRIPTON", NULL};
    ck_assert_int_eq(pt_cli(&e, bad_reason, &out), 2);
    ck_assert_int_eq(lines(out), 0);
    free(out);

    /* A broken file is refused on SIGHUP; the old subscriptions stay. */
    pt_write_subs(&e, "{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\"}]}");
    kill(e.push, SIGHUP);
    pt_sleep_ms(500);
    char *m = pt_push_metrics(&e);
    ck_assert_int_eq((int)pt_metric(m, "ketenhub_push_reloads_total{result=\"error\"}"), 1);
    free(m);
    /* The partner fixes its endpoint, the other one subscribes. */
    pt_receiver_rule(&r, "/r", "ok");
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s]}", s1, s2);
    kill(e.push, SIGHUP);
    pt_sleep_ms(500);
    m = pt_push_metrics(&e);
    ck_assert_int_eq((int)pt_metric(m, "ketenhub_push_reloads_total{result=\"ok\"}"), 1);
    ck_assert_int_eq((int)pt_metric(m, "ketenhub_push_subscriptions"), 2);
    free(m);

    const char *dry[] = {"deadletters",     "replay",    "--partner",
                         "GEMEENTE:GM0599", "--dry-run", NULL};
    ck_assert_int_eq(pt_cli(&e, dry, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "would replay 5"));
    free(out);
    const char *one[] = {"deadletters", "replay", "--partner", "GEMEENTE:GM0599", NULL};
    ck_assert_int_eq(pt_cli(&e, one, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "replayed 5"));
    free(out);
    pt_wait_ok(&r, "/r", 5, 30000);
    ck_assert_int_eq(pt_receiver_count(&r, "/u", NULL), 0);
    json_t *recs = pt_receiver_records(&r, "/r");
    for (int i = 0; i < 5; i++)
        ck_assert_ptr_nonnull(pt_find(recs, "webhook_id", pt_uuid(60, i, id)));
    json_decref(recs);
    const char *all[] = {"deadletters", "replay", "--all", NULL};
    ck_assert_int_eq(pt_cli(&e, all, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "replayed 8"));
    free(out);
    pt_wait_ok(&r, "/u", 3, 30000);
    /* Replaying again repeats a delivery with the same webhook-id: each of
     * R's meldingen came three times (rejected, replayed, replayed again). */
    pt_wait_ok(&r, "/r", 10, 30000);
    recs = pt_receiver_records(&r, "/r");
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(pt_count(recs, "webhook_id", pt_uuid(60, i, id)), 3);
    json_decref(recs);
    recs = pt_receiver_records(&r, "/u");
    ck_assert(pt_signature_valid(SECRET_B, json_array_get(recs, 0)));
    json_decref(recs);
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 21, 500, 20000);
    for (int i = 0; i < 3; i++) {
        json_t *x = pt_find(afl, "value.melding_id", pt_uuid(61, i, id));
        ck_assert_int_eq(pt_count(afl, "value.melding_id", id),
                         2); /* NO_SUBSCRIPTION, then DELIVERED */
        ck_assert_str_eq(pt_get(x, "value.outcome"), "NO_SUBSCRIPTION");
    }
    json_decref(afl);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(s1), free(s2);
    pt_env_done(&e);
}
END_TEST

int main(void) {
    pid_t broker = pt_devbroker_for_program();
    if (broker < 0) {
        fprintf(stderr, "test_push: cannot start ketenhub-devbroker\n");
        return 1;
    }
    /* One case per test, so CK_RUN_CASE=<name> runs one. */
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"delivers_signed_meldingen", delivers_signed_meldingen},
        {"retries_with_backoff", retries_with_backoff},
        {"permanent_errors_and_no_subscription", permanent_errors_and_no_subscription},
        {"dead_partner_does_not_hold_up_others", dead_partner_does_not_hold_up_others},
        {"hanging_partner_holds_at_most_half_the_slots",
         hanging_partner_holds_at_most_half_the_slots},
        {"keeps_order_per_partner", keeps_order_per_partner},
        {"backlog_arrives_in_order_after_an_outage", backlog_arrives_in_order_after_an_outage},
        {"sigterm_with_the_producer_queue_full_and_a_silent_broker",
         sigterm_with_the_producer_queue_full_and_a_silent_broker},
        {"rewrites_what_the_broker_did_not_acknowledge",
         rewrites_what_the_broker_did_not_acknowledge},
        {"raw_events_only_to_addressees", raw_events_only_to_addressees},
        {"tls_verified_and_client_certificates", tls_verified_and_client_certificates},
        {"reload_and_replay_dead_letters", reload_and_replay_dead_letters},
    };
    Suite *s = suite_create("push");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    int rc = kh_test_run(s);
    kill(broker, SIGTERM);
    return rc;
}
