/*
 * test_route_service — ketenhub-route as a process on the embedded broker
 * (ketenhub-devbroker): a mixed stream of every case in route_cases.c
 * (each event type, crossing and not crossing borders, in the wire format
 * with the event headers) plus one poison record of every class gives
 * exactly the expected meldingen (ids derived by the test from its case
 * table) and one dead letter per poison record with its reason and origin,
 * while the good records around them are routed. Along the way: SIGHUP
 * reloads the reference data between records without losing one,
 * /healthz /readyz /metrics answer, the log holds no BSN, and SIGTERM ends
 * it with exit status 0.
 *
 * The devbroker does not enforce transactions, so exactly-once across a
 * crash is tested against Apache Kafka in test_route_kafka.
 */
#include "kh_codec.h"
#include "kh_kafka.h"
#include "route_cases.h"
#include "route_harness.h"
#include "testlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 2 /* each case twice, with different event ids and children */

typedef struct deadletters {
    size_t n;
    char reason[64][32];
    char origin[64][180];
} deadletters;

static void on_deadletter(const rd_kafka_message_t *m, void *ud) {
    deadletters *d = ud;
    char topic[100], part[16], off[24], service[16];
    rd_kafka_message_t *mm = (rd_kafka_message_t *)m;
    if (d->n == 64)
        return;
    ck_assert_int_eq(kh_kafka_header_get(mm, "dlq-reason", d->reason[d->n], sizeof d->reason[0]),
                     0);
    ck_assert_int_eq(kh_kafka_header_get(mm, "dlq-service", service, sizeof service), 0);
    ck_assert_str_eq(service, "route");
    ck_assert_int_eq(kh_kafka_header_get(mm, "dlq-origin-topic", topic, sizeof topic), 0);
    ck_assert_int_eq(kh_kafka_header_get(mm, "dlq-origin-partition", part, sizeof part), 0);
    ck_assert_int_eq(kh_kafka_header_get(mm, "dlq-origin-offset", off, sizeof off), 0);
    snprintf(d->origin[d->n], sizeof d->origin[0], "%s/%s/%s", topic, part, off);
    ck_assert_int_eq((int)kh_codec_schema_id(m->payload, m->len), 1006);
    d->n++;
}

static size_t count_reason(const deadletters *d, const char *reason) {
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += strcmp(d->reason[i], reason) == 0;
    return n;
}

static int has_origin(const deadletters *d, const char *origin, const char *reason) {
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->origin[i], origin) == 0 && strcmp(d->reason[i], reason) == 0)
            return 1;
    return 0;
}

static void wait_metric(int port, const char *name, double want, int timeout_ms) {
    double got = -1;
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        got = rh_metric(port, name);
        if (got >= want)
            return;
        rh_sleep_ms(100);
    }
    ck_abort_msg("%s reached %g, expected %g within %d ms", name, got, want, timeout_ms);
}

/* Loop index 0: with transactions; 1: without (at least once, which
 * without a crash must give the same set). */
START_TEST(mixed_stream_gives_exactly_the_expected_meldingen) {
    char bootstrap[256], prefix[64], group[96], log[128];
    pid_t broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(group, sizeof group, "%sroute", prefix);
    snprintf(log, sizeof log, "/tmp/kh-route-service-%d.log", (int)getpid());
    remove(log);
    rd_kafka_t *p = kh_test_producer(bootstrap);
    rh_ids want = {0}, got = {0};
    rh_poison raw;

    /* First half of the stream, the poison records, then the router. */
    size_t half = route_case_count;
    size_t poison = rh_produce_cases(p, prefix, 0, half, 16, &want);
    rh_produce_raw_poison(bootstrap, prefix, &raw);
    int port = kh_test_free_port();
    const char *extra[] = {"route.batch.ms=50",
                           _i ? "route.transactions=false" : "route.transactions=true", NULL};
    pid_t route = rh_start_route(bootstrap, prefix, group, "svc-1", port, log, extra);
    kh_test_wait_http(port, "/healthz", 200, 15000);
    kh_test_wait_http(port, "/readyz", 200, 15000);
    wait_metric(port, "ketenhub_route_records_in_total", (double)(half + RH_RAW_POISON), 60000);

    /* New reference data is taken in between records; the rest of the
     * stream still routes. */
    kill(route, SIGHUP);
    wait_metric(port, "ketenhub_route_reference_reloads_total", 1, 10000);
    poison += rh_produce_cases(p, prefix, half, (ROUNDS - 1) * route_case_count, 16, &want);
    size_t total = ROUNDS * route_case_count + RH_RAW_POISON;
    wait_metric(port, "ketenhub_route_records_in_total", (double)total, 60000);
    ck_assert_double_eq(rh_metric(port, "ketenhub_route_records_in_total"), (double)total);
    ck_assert_double_eq(rh_metric(port, "ketenhub_route_meldingen_total"), (double)want.n);
    ck_assert_double_eq(rh_metric(port, "ketenhub_route_deadletters_total"),
                        (double)(poison + RH_RAW_POISON));
    ck_assert_double_ge(rh_metric(port, "ketenhub_route_batches_total"), 1);
    ck_assert_msg(kh_test_file_contains(log, _i ? "at least once" : "exactly once"), "wrong mode");
    ck_assert_double_eq(rh_metric(port, "ketenhub_route_reference_reloads_total"), 1);

    /* Exactly the expected meldingen, each once, keys and headers right. */
    size_t n = rh_read_meldingen(bootstrap, prefix, want.n, &got);
    ck_assert_uint_eq(n, want.n);
    rh_ids_expect_equal(&got, &want);

    /* One dead letter per poison record, reason and origin in headers. */
    static deadletters d;
    size_t dl = kh_test_read_topic_expect(bootstrap, rh_topic(prefix, "ketenhub.deadletter.v1", 0),
                                          poison + RH_RAW_POISON, 2000, 30000, on_deadletter, &d);
    ck_assert_uint_eq(dl, poison + RH_RAW_POISON);
    ck_assert_uint_eq(count_reason(&d, "UNKNOWN_REFERENCE_CODE"), poison);
    ck_assert_uint_eq(count_reason(&d, "BAD_MAGIC_BYTE"), 1);
    ck_assert_uint_eq(count_reason(&d, "UNDECODABLE"), 1);
    ck_assert_uint_eq(count_reason(&d, "UNKNOWN_SCHEMA_ID"), 2);
    for (int i = 0; i < RH_RAW_POISON; i++) {
        char origin[180];
        snprintf(origin, sizeof origin, "%s/%d/%lld", rh_topic(prefix, "ketenhub.aanmelding.v1", 0),
                 (int)raw.partitions[i], (long long)raw.offsets[i]);
        ck_assert_msg(has_origin(&d, origin, raw.reasons[i]), "no dead letter %s for %s",
                      raw.reasons[i], origin);
    }

    ck_assert_int_eq(kh_test_stop(route, SIGTERM, 20000), 0);
    ck_assert_msg(!kh_test_file_contains(log, "111222333"), "the log contains a BSN");
    ck_assert_msg(kh_test_file_contains(log, "poison record sent to the dead-letter topic"),
                  "dead letters are not logged");
    ck_assert_msg(kh_test_file_contains(log, "reference data reloaded"), "reload not logged");
    rh_ids_free(&want);
    rh_ids_free(&got);
    rd_kafka_destroy(p);
    kh_test_stop(broker, SIGTERM, 10000);
    remove(log);
}
END_TEST

/* Exit statuses: 2 for bad configuration (before touching Kafka), 1 when
 * the reference data cannot be loaded, 0 after --help. */
START_TEST(exit_statuses) {
    const char *argv[] = {kh_test_bin("ketenhub-route"), "--set", "route.batch.records=0", NULL};
    pid_t pid = kh_test_spawn(argv, NULL, "/dev/null");
    ck_assert_int_eq(kh_test_stop(pid, 0, 10000), 2);
    const char *argv2[] = {kh_test_bin("ketenhub-route"), "--set",
                           "reference.dir=/nonexistent",  "--set",
                           "ops.listen=127.0.0.1:0",      NULL};
    pid = kh_test_spawn(argv2, NULL, "/dev/null");
    ck_assert_int_eq(kh_test_stop(pid, 0, 10000), 1);
    const char *help[] = {kh_test_bin("ketenhub-route"), "--help", NULL};
    pid = kh_test_spawn(help, NULL, "/dev/null");
    ck_assert_int_eq(kh_test_stop(pid, 0, 10000), 0);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("route_service");
    TCase *t = tcase_create("devbroker");
    tcase_set_timeout(t, 180);
    tcase_add_loop_test(t, mixed_stream_gives_exactly_the_expected_meldingen, 0, 2);
    tcase_add_test(t, exit_statuses);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return kh_test_run(suite()); }
