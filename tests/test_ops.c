/*
 * test_ops — the Prometheus registry and the ops HTTP endpoints, over real
 * HTTP with libcurl.
 */
#include "kh_metrics.h"
#include "kh_ops.h"
#include "testlib.h"

#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct body {
    char buf[8192];
    size_t len;
} body;

static size_t collect(char *data, size_t size, size_t n, void *ud) {
    body *b = ud;
    size_t take = size * n;
    if (take > sizeof b->buf - 1 - b->len)
        take = sizeof b->buf - 1 - b->len;
    memcpy(b->buf + b->len, data, take);
    b->len += take;
    b->buf[b->len] = '\0';
    return size * n;
}

static long get(int port, const char *path, body *b) {
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    b->len = 0;
    b->buf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    long status = 0;
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

START_TEST(render_counters_gauges_histograms) {
    kh_metrics *m = kh_metrics_new();
    kh_family *req = kh_metrics_counter(m, "kh_requests_total", "Requests.", "route,status");
    kh_family *up = kh_metrics_gauge(m, "kh_up", "Up.", NULL);
    double bounds[] = {0.001, 0.01, 0.1};
    kh_family *lat = kh_metrics_histogram(m, "kh_latency_seconds", "Latency.", "route", bounds, 3);
    kh_metric_add(req, (const char *[]){"/v1/tlvs", "202"}, 1);
    kh_metric_add(req, (const char *[]){"/v1/tlvs", "202"}, 2);
    kh_metric_add(req, (const char *[]){"/v1/\"x\"", "422"}, 1);
    kh_metric_set(up, NULL, 1);
    kh_metric_observe(lat, (const char *[]){"/v1/tlvs"}, 0.005);
    kh_metric_observe(lat, (const char *[]){"/v1/tlvs"}, 0.5);
    ck_assert(kh_metric_value(req, (const char *[]){"/v1/tlvs", "202"}) == 3);
    char *text = kh_metrics_render(m);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE kh_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(text, "kh_requests_total{route=\"/v1/tlvs\",status=\"202\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text, "route=\"/v1/\\\"x\\\"\""));
    ck_assert_ptr_nonnull(strstr(text, "kh_up 1\n"));
    ck_assert_ptr_nonnull(strstr(text,
                                 "kh_latency_seconds_bucket{route=\"/v1/tlvs\",le=\"0.001\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text,
                                 "kh_latency_seconds_bucket{route=\"/v1/tlvs\",le=\"0.01\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text,
                                 "kh_latency_seconds_bucket{route=\"/v1/tlvs\",le=\"+Inf\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "kh_latency_seconds_count{route=\"/v1/tlvs\"} 2\n"));
    free(text);
    kh_metrics_free(m);
}
END_TEST

static void *hammer(void *ud) {
    kh_family *f = ud;
    for (int i = 0; i < 100000; i++)
        kh_metric_add(f, (const char *[]){i % 2 ? "a" : "b"}, 1);
    return NULL;
}

START_TEST(counters_are_thread_safe) {
    kh_metrics *m = kh_metrics_new();
    kh_family *f = kh_metrics_counter(m, "kh_hits_total", "Hits.", "k");
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, f);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert(kh_metric_value(f, (const char *[]){"a"}) == 200000);
    ck_assert(kh_metric_value(f, (const char *[]){"b"}) == 200000);
    kh_metrics_free(m);
}
END_TEST

static int ready_flag;

static int ready(void *ud, char *why, size_t len) {
    (void)ud;
    snprintf(why, len, "broker unreachable");
    return ready_flag;
}

START_TEST(ops_endpoints_answer) {
    kh_metrics *m = kh_metrics_new();
    kh_metric_add(kh_metrics_counter(m, "kh_x_total", "X.", NULL), NULL, 7);
    char err[256];
    kh_ops *ops = kh_ops_start("127.0.0.1:0", m, ready, NULL, err, sizeof err);
    ck_assert_msg(ops != NULL, "%s", err);
    int port = kh_ops_port(ops);
    ck_assert_int_gt(port, 0);
    body b;
    ck_assert_int_eq(get(port, "/healthz", &b), 200);
    ready_flag = 0;
    ck_assert_int_eq(get(port, "/readyz", &b), 503);
    ck_assert_ptr_nonnull(strstr(b.buf, "broker unreachable"));
    ready_flag = 1;
    ck_assert_int_eq(get(port, "/readyz", &b), 200);
    ck_assert_int_eq(get(port, "/metrics", &b), 200);
    ck_assert_ptr_nonnull(strstr(b.buf, "kh_x_total 7\n"));
    ck_assert_int_eq(get(port, "/nope", &b), 404);
    ck_assert_ptr_nonnull(strstr(b.buf, "\"status\":404"));
    kh_ops_stop(ops);
    kh_metrics_free(m);
}
END_TEST

START_TEST(bad_listen_address_is_explained) {
    char err[256];
    ck_assert_ptr_null(kh_ops_start("nonsense", NULL, NULL, NULL, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "host:port"));
}
END_TEST

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("ops");
    tcase_add_test(tc, render_counters_gauges_histograms);
    tcase_add_test(tc, counters_are_thread_safe);
    tcase_add_test(tc, ops_endpoints_answer);
    tcase_add_test(tc, bad_listen_address_is_explained);
    suite_add_tcase(s, tc);
    int rc = kh_test_run(s);
    curl_global_cleanup();
    return rc;
}
