/*
 * test_route_ops — ketenhub-route's shutdown when Kafka is not there, on
 * the embedded broker (ketenhub-devbroker): SIGTERM ends the process
 * within route.shutdown.ms (asserted against a generous bound, not timed)
 * while connecting to nothing (exit 0: nothing was consumed), and with a
 * batch open when the broker was killed (connections refused) or frozen
 * (SIGSTOP: connections open, no answers), with exit status 1 because the
 * batch did not commit. That its records are routed exactly once after the
 * broker comes back is shown on Apache Kafka in test_route_kafka (the
 * devbroker does not enforce transactions).
 */
#include "kh_kafka.h"
#include "route_harness.h"
#include "testlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit within this, whatever the machine's load; the configured bound is
 * SHUTDOWN_MS. */
#define SHUTDOWN_MS "2000"
#define EXIT_WITHIN_MS 10000
#define KILLED (128 + SIGKILL)
#define EVENTS 200

/* SIGTERM to route; its exit status. Says how long it took (for the
 * record, not asserted). */
static int sigterm(pid_t route, const char *what) {
    int64_t t0 = kh_kafka_now_ms();
    int rc = kh_test_stop(route, SIGTERM, EXIT_WITHIN_MS);
    fprintf(stderr, "test_route_ops: %s: SIGTERM to exit %d took %lld ms\n", what, rc,
            (long long)(kh_kafka_now_ms() - t0));
    ck_assert_msg(rc != KILLED, "%s: route did not exit within %d ms of SIGTERM", what,
                  EXIT_WITHIN_MS);
    return rc;
}

START_TEST(sigterm_while_connecting_to_nothing_exits_at_once) {
    char log[128];
    snprintf(log, sizeof log, "/tmp/kh-route-noconn-%d.log", (int)getpid());
    int port = kh_test_free_port();
    const char *extra[] = {"route.shutdown.ms=" SHUTDOWN_MS, NULL};
    /* port 1 on loopback: nothing listens there */
    pid_t route = rh_start_route("127.0.0.1:1", "noconn.", "noconn.route", "noconn", port, log,
                                 extra);
    kh_test_wait_http(port, "/healthz", 200, 15000);
    ck_assert_int_eq(kh_test_http(port, "GET", "/readyz", NULL), 503);
    rh_sleep_ms(1500); /* past the start's credential check, into init_transactions */
    ck_assert_int_eq(sigterm(route, "nothing listening"), 0);
    remove(log);
}
END_TEST

/* A devbroker and route with a batch that stays open (ten minutes, no idle
 * end) holding EVENTS consumed events. */
static pid_t start_open_batch(char *bootstrap, size_t len, const char *prefix, int port,
                              const char *log, pid_t *route) {
    char group[96];
    pid_t broker = kh_test_devbroker(bootstrap, len);
    snprintf(group, sizeof group, "%sroute", prefix);
    const char *open_batch[] = {"route.shutdown.ms=" SHUTDOWN_MS, "route.batch.ms=600000",
                                "route.batch.idle.ms=0", NULL};
    *route = rh_start_route(bootstrap, prefix, group, "ops", port, log, open_batch);
    kh_test_wait_http(port, "/readyz", 200, 30000);
    rd_kafka_t *p = kh_test_producer(bootstrap);
    rh_produce_cases(p, prefix, 0, EVENTS, 16, NULL);
    rd_kafka_destroy(p);
    for (int waited = 0; rh_metric(port, "ketenhub_route_record_seconds_count") < EVENTS;
         waited += 50) {
        ck_assert_msg(waited < 60000, "route did not take the events into its batch");
        rh_sleep_ms(50);
    }
    ck_assert_double_eq(rh_metric(port, "ketenhub_route_records_in_total"), 0); /* none committed */
    return broker;
}

static void sigterm_with_broker(int sig) {
    char bootstrap[256], prefix[64], log[128];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(log, sizeof log, "/tmp/kh-route-ops-%d-%d.log", (int)getpid(), sig);
    remove(log);
    int port = kh_test_free_port();
    pid_t route, broker = start_open_batch(bootstrap, sizeof bootstrap, prefix, port, log, &route);
    if (sig == SIGKILL)
        kh_test_stop(broker, SIGKILL, 10000);
    else
        ck_assert_int_eq(kill(broker, SIGSTOP), 0);
    int rc = sigterm(route, sig == SIGKILL ? "broker killed" : "broker silent");
    if (sig == SIGSTOP) {
        ck_assert_int_eq(kill(broker, SIGCONT), 0);
        kh_test_stop(broker, SIGTERM, 10000);
    }
    ck_assert_int_eq(rc, 1);
    ck_assert(kh_test_file_contains(log, "the last batch did not commit"));
    remove(log);
}

/* The broker is gone (killed: connections refused) with a batch open. */
START_TEST(sigterm_with_an_open_batch_and_the_broker_gone) { sigterm_with_broker(SIGKILL); }
END_TEST

/* The broker stops answering (SIGSTOP) with a batch open: librdkafka stays
 * blocked, so the process ends at the bound without waiting for it. */
START_TEST(sigterm_with_an_open_batch_and_a_silent_broker) { sigterm_with_broker(SIGSTOP); }
END_TEST

int main(void) {
    Suite *s = suite_create("route_ops");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sigterm_while_connecting_to_nothing_exits_at_once);
    tcase_add_test(tc, sigterm_with_an_open_batch_and_the_broker_gone);
    tcase_add_test(tc, sigterm_with_an_open_batch_and_a_silent_broker);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
