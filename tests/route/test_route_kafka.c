/*
 * test_route_kafka — exactly once and scale-out, on real Apache Kafka
 * (KH_KAFKA_BOOTSTRAP; tests/with-kafka.sh). Every topic has 4 partitions
 * and a prefix unique to the test.
 *
 *  - kill -9 of the router in the middle of a 10,000-event stream, then a
 *    restart (same route.instance, so the same transactional.id fences the
 *    dead one and aborts its open transaction): the meldingen a
 *    read_committed reader sees are exactly the expected set, each melding
 *    id once, and every poison record has exactly one dead letter.
 *  - two instances in one group, both assigned partitions, over a stream:
 *    together exactly the expected set, each id once; with the eager
 *    (default) and the cooperative-sticky assignor.
 *  - the broker frozen (SIGSTOP) or killed (SIGKILL) while the router holds
 *    an open transaction after a committed one: SIGTERM ends the router
 *    within route.shutdown.ms (asserted against a generous bound, not
 *    timed) with status 1; once the broker is back, a restart gives
 *    exactly the expected set, each melding id once.
 */
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

#define EVENTS 10000
#define CHILDREN 64

static const char *const topics[] = {"ketenhub.aanmelding.v1",   "ketenhub.tlv.v1",
                                     "ketenhub.beschikking.v1",  "ketenhub.verwijzing.v1",
                                     "ketenhub.grensverkeer.v1", "ketenhub.deadletter.v1"};

static void create_topics(const char *bootstrap, const char *prefix) {
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
        kh_test_create_topic(bootstrap, rh_topic(prefix, topics[i], 0), 4);
}

static double wait_metric(int port, const char *name, double want, int timeout_ms) {
    double got = -1;
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        got = rh_metric(port, name);
        if (got >= want)
            return got;
        rh_sleep_ms(50);
    }
    ck_abort_msg("%s reached %g, expected %g within %d ms", name, got, want, timeout_ms);
    return got;
}

static void log_path(char *buf, size_t len, const char *what) {
    snprintf(buf, len, "/tmp/kh-route-kafka-%d-%s.log", (int)getpid(), what);
    remove(buf);
}

/* A fresh route as instance on the same group catches up: every expected
 * melding exactly once and every poison event dead-lettered; then it stops. */
static void restart_expect_exactly_once(const char *bootstrap, const char *prefix,
                                        const char *group, const char *instance, const char *log,
                                        const char *const *extra, rh_ids *want, size_t poison) {
    rh_ids got = {0};
    pid_t route = rh_start_route(bootstrap, prefix, group, instance, kh_test_free_port(), log,
                                 extra);
    rh_wait_caught_up(bootstrap, prefix, group, 120000);
    size_t n = rh_read_meldingen(bootstrap, prefix, want->n, &got);
    ck_assert_uint_eq(n, want->n);
    rh_ids_expect_equal(&got, want);
    size_t dl = kh_test_read_topic_expect(bootstrap, rh_topic(prefix, "ketenhub.deadletter.v1", 0),
                                          poison, 2000, 60000, NULL, NULL);
    ck_assert_uint_eq(dl, poison);
    ck_assert_int_eq(kh_test_stop(route, SIGTERM, 30000), 0);
    rh_ids_free(&got);
}

START_TEST(kill_9_mid_stream_loses_and_repeats_nothing) {
    const char *bootstrap = kh_test_kafka();
    char prefix[64], group[96], log1[128], log2[128];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(group, sizeof group, "%sroute", prefix);
    log_path(log1, sizeof log1, "first");
    log_path(log2, sizeof log2, "restart");
    create_topics(bootstrap, prefix);
    rd_kafka_t *p = kh_test_producer(bootstrap);
    rh_ids want = {0};

    /* Small transactions, so the kill lands in one. */
    const char *extra[] = {"route.batch.records=100", "route.batch.ms=200", NULL};
    size_t poison = rh_produce_cases(p, prefix, 0, EVENTS / 2, CHILDREN, &want);
    int port = kh_test_free_port();
    pid_t route = rh_start_route(bootstrap, prefix, group, "crash", port, log1, extra);
    poison += rh_produce_cases(p, prefix, EVENTS / 2, EVENTS / 2, CHILDREN, &want);
    double done = wait_metric(port, "ketenhub_route_records_in_total", EVENTS / 4, 90000);
    kill(route, SIGKILL);
    ck_assert_int_eq(kh_test_stop(route, 0, 10000), 128 + SIGKILL);
    ck_assert_msg(done < EVENTS, "the router finished before it was killed");
    fprintf(stderr, "test_route_kafka: killed after %.0f of %d records committed\n", done, EVENTS);

    restart_expect_exactly_once(bootstrap, prefix, group, "crash", log2, extra, &want, poison);
    rh_ids_free(&want);
    rd_kafka_destroy(p);
    remove(log1);
    remove(log2);
}
END_TEST

static const char *const assignors[] = {"range,roundrobin", "cooperative-sticky"};

START_TEST(two_instances_share_the_partitions) {
    const char *bootstrap = kh_test_kafka();
    char strategy[96];
    snprintf(strategy, sizeof strategy, "kafka.partition.assignment.strategy=%s", assignors[_i]);
    const char *extra[] = {strategy, NULL};
    char prefix[64], group[96], log1[128], log2[128];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(group, sizeof group, "%sroute", prefix);
    log_path(log1, sizeof log1, "a");
    log_path(log2, sizeof log2, "b");
    create_topics(bootstrap, prefix);
    rd_kafka_t *p = kh_test_producer(bootstrap);
    rh_ids want = {0}, got = {0};

    size_t first = EVENTS / 5;
    rh_produce_cases(p, prefix, 0, first, CHILDREN, &want);
    int pa = kh_test_free_port(), pb = kh_test_free_port();
    pid_t a = rh_start_route(bootstrap, prefix, group, "a", pa, log1, extra);
    pid_t b = rh_start_route(bootstrap, prefix, group, "b", pb, log2, extra);
    /* Both hold partitions (16 in all) before the rest of the stream comes. */
    for (int waited = 0;; waited += 100) {
        double na = rh_metric(pa, "ketenhub_route_assigned_partitions");
        double nb = rh_metric(pb, "ketenhub_route_assigned_partitions");
        if (na > 0 && nb > 0 && na + nb == 16)
            break;
        ck_assert_msg(waited < 60000, "%s: partitions not split: a %g, b %g", assignors[_i], na,
                      nb);
        rh_sleep_ms(100);
    }
    rh_produce_cases(p, prefix, first, EVENTS / 2 - first, CHILDREN, &want);
    rh_wait_caught_up(bootstrap, prefix, group, 120000);

    double ina = rh_metric(pa, "ketenhub_route_records_in_total");
    double inb = rh_metric(pb, "ketenhub_route_records_in_total");
    ck_assert_msg(ina > 0 && inb > 0, "%s: records in: a %g, b %g", assignors[_i], ina, inb);
    ck_assert_double_eq(ina + inb, EVENTS / 2);
    size_t n = rh_read_meldingen(bootstrap, prefix, want.n, &got);
    ck_assert_uint_eq(n, want.n);
    rh_ids_expect_equal(&got, &want);

    ck_assert_int_eq(kh_test_stop(a, SIGTERM, 30000), 0);
    ck_assert_int_eq(kh_test_stop(b, SIGTERM, 30000), 0);
    rh_ids_free(&want);
    rh_ids_free(&got);
    rd_kafka_destroy(p);
    remove(log1);
    remove(log2);
}
END_TEST

/* The first batch is exactly FIRST events (route.batch.records) and
 * commits; the next PENDING stay in a transaction open for ten minutes. */
#define FIRST 500
#define PENDING 300
#define SHUTDOWN_MS "2000"
#define EXIT_WITHIN_MS 10000

static void wait_processed(int port, double want) {
    for (int waited = 0; rh_metric(port, "ketenhub_route_record_seconds_count") < want;
         waited += 50) {
        ck_assert_msg(waited < 90000, "route did not take %g records", want);
        rh_sleep_ms(50);
    }
}

static const char *const outages[] = {"frozen (SIGSTOP)", "killed (SIGKILL)"};

START_TEST(sigterm_with_the_broker_away_then_exactly_once) {
    const char *bootstrap = kh_test_kafka();
    char prefix[64], group[96], log1[128], log2[128];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(group, sizeof group, "%sroute", prefix);
    log_path(log1, sizeof log1, "away");
    log_path(log2, sizeof log2, "back");
    create_topics(bootstrap, prefix);
    rd_kafka_t *p = kh_test_producer(bootstrap);
    rh_ids want = {0};
    rh_broker broker;
    rh_broker_find(&broker);

    const char *open_batch[] = {"route.shutdown.ms=" SHUTDOWN_MS, "route.batch.records=500",
                                "route.batch.ms=600000", "route.batch.idle.ms=0", NULL};
    int port = kh_test_free_port();
    pid_t route = rh_start_route(bootstrap, prefix, group, "away", port, log1, open_batch);
    size_t poison = rh_produce_cases(p, prefix, 0, FIRST, CHILDREN, &want);
    wait_metric(port, "ketenhub_route_records_in_total", FIRST, 90000);
    poison += rh_produce_cases(p, prefix, FIRST, PENDING, CHILDREN, &want);
    wait_processed(port, FIRST + PENDING);
    ck_assert_double_eq(rh_metric(port, "ketenhub_route_records_in_total"), FIRST);

    if (_i == 0)
        ck_assert_int_eq(kill(broker.pid, SIGSTOP), 0);
    else
        rh_broker_kill(&broker);
    int64_t t0 = kh_kafka_now_ms();
    int rc = kh_test_stop(route, SIGTERM, EXIT_WITHIN_MS);
    int64_t took = kh_kafka_now_ms() - t0;
    if (_i == 0)
        ck_assert_int_eq(kill(broker.pid, SIGCONT), 0);
    else
        rh_broker_restart(&broker, bootstrap);
    fprintf(stderr, "test_route_kafka: broker %s: SIGTERM to exit %d took %lld ms\n", outages[_i],
            rc, (long long)took);
    ck_assert_msg(rc != 128 + SIGKILL, "%s: route did not exit within %d ms of SIGTERM",
                  outages[_i], EXIT_WITHIN_MS);
    ck_assert_int_eq(rc, 1);

    restart_expect_exactly_once(bootstrap, prefix, group, "away", log2, NULL, &want, poison);
    rh_broker_free(&broker);
    rh_ids_free(&want);
    rd_kafka_destroy(p);
    remove(log1);
    remove(log2);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("route_kafka");
    TCase *t = tcase_create("kafka");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, kill_9_mid_stream_loses_and_repeats_nothing);
    tcase_add_loop_test(t, two_instances_share_the_partitions, 0, 2);
    tcase_add_loop_test(t, sigterm_with_the_broker_away_then_exactly_once, 0, 2);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return kh_test_run(suite()); }
