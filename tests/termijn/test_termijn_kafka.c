/*
 * test_termijn_kafka — ketenhub-termijn on Apache Kafka (KH_KAFKA_BOOTSTRAP,
 * tests/with-kafka.sh) is killed with SIGKILL while it consumes events and
 * again right after each move of the clock across due dates, and restarted
 * each time: the meldingen read back (read_committed) are exactly the
 * expected ones, none lost and none repeated, because changelog records,
 * meldingen and offsets commit in one transaction and a restart restores
 * the committed changelog.
 */
#include "route_harness.h"
#include "termijn_harness.h"
#include "testlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHILDREN 20 /* each an aanmelding with zorgplicht; the even ones a verwijzing too */
#define EXPECTED (CHILDREN * 5 + (CHILDREN / 2) * 2)

static void events_of(rd_kafka_t *p, const char *prefix, size_t i) {
    char bsn[10], json[1400];
    rh_bsn(i, bsn);
    snprintf(
        json, sizeof json,
        "{\"envelope\":{\"event_id\":\"6b0c1f5e-2d34-4c1a-9f1e-1%011u\","
        "\"occurred_at\":\"2026-03-02T09:00:00Z\",\"bron\":{\"type\":\"SCHOOL\","
        "\"code\":\"12OA00\"}},\"jeugdige\":{\"bsn\":\"%s\",\"geboortedatum\":\"2016-11-20\","
        "\"woonplaatsgemeente\":\"GM0502\"},\"aanmelding_id\":\"A%zu\",\"soort\":\"ONDERWIJS\","
        "\"bij\":{\"type\":\"SCHOOL\",\"code\":\"12OA00\"},\"vestigingsgemeente\":\"GM0502\","
        "\"onderwijssoort\":\"PO\",\"ondersteuningsbehoefte\":true,\"datum\":\"2026-03-02\","
        "\"status\":\"INGEDIEND\"}",
        (unsigned)(i % 100000), bsn, i);
    th_produce(p, prefix, "aanmelding", json);
    if (i % 2)
        return;
    snprintf(json, sizeof json,
             "{\"envelope\":{\"event_id\":\"6b0c1f5e-2d34-4c1a-9f1e-2%011u\","
             "\"occurred_at\":\"2026-04-22T10:00:00Z\",\"bron\":{\"type\":\"GEMEENTE\","
             "\"code\":\"GM0502\"}},\"jeugdige\":{\"bsn\":\"%s\",\"geboortedatum\":\"2016-11-20\","
             "\"woonplaatsgemeente\":\"GM0502\"},\"verwijzing_id\":\"V%zu\",\"verwijzer\":"
             "{\"type\":\"HUISARTS\",\"code\":\"01999901\"},\"naar\":{\"type\":\"AANBIEDER\","
             "\"code\":\"98000000\"},\"domein\":\"JEUGDHULP\",\"datum\":\"2026-04-22\"}",
             (unsigned)(i % 100000), bsn, i);
    th_produce(p, prefix, "verwijzing", json);
}

static pid_t start(const char *bootstrap, const char *prefix, const char *clock, int port,
                   const char *log) {
    const char *extra[] = {"termijn.batch.ms=20", "termijn.batch.records=3", NULL};
    pid_t pid = th_start(bootstrap, prefix, clock, port, log, extra);
    kh_test_wait_http(port, "/healthz", 200, 30000);
    return pid;
}

/* SIGKILL, then a fresh instance with the same transactional id. */
static pid_t crash(pid_t pid, const char *bootstrap, const char *prefix, const char *clock,
                   int port, const char *log) {
    ck_assert_int_eq(kh_test_stop(pid, SIGKILL, 5000), 128 + SIGKILL);
    return start(bootstrap, prefix, clock, port, log);
}

/* Moves the clock to date, kills the service a moment later (while it
 * fires, or just after), restarts it and waits until it has fired through
 * that date. */
static pid_t move_and_crash(pid_t pid, const char *bootstrap, const char *prefix, const char *clock,
                            int port, const char *log, const char *date, int32_t days,
                            int delay_ms) {
    char ts[32];
    snprintf(ts, sizeof ts, "%sT08:00:00Z", date);
    th_set_clock(clock, ts);
    th_sleep_ms(delay_ms);
    pid = crash(pid, bootstrap, prefix, clock, port, log);
    th_wait_metric(port, "ketenhub_termijn_fired_through_days", days, 120000);
    return pid;
}

START_TEST(kill_9_across_due_dates_loses_and_repeats_nothing) {
    const char *bootstrap = kh_test_kafka();
    char prefix[64], group[96], log[128], clock[128];
    static th_melding got[4 * EXPECTED];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(group, sizeof group, "%stermijn", prefix);
    snprintf(log, sizeof log, "/tmp/kh-termijn-kafka-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-kafka-clock-%d", (int)getpid());
    remove(log);
    th_create_topics(bootstrap, prefix, 2);
    th_set_clock(clock, "2026-03-02T12:00:00Z");
    rd_kafka_t *p = kh_test_producer(bootstrap);
    int port = kh_test_free_port();
    pid_t svc = start(bootstrap, prefix, clock, port, log);

    /* Events, with a crash in the middle of consuming them. */
    for (size_t i = 0; i < CHILDREN / 2; i++)
        events_of(p, prefix, i);
    svc = crash(svc, bootstrap, prefix, clock, port, log);
    for (size_t i = CHILDREN / 2; i < CHILDREN; i++)
        events_of(p, prefix, i);
    rh_wait_caught_up(bootstrap, prefix, group, 120000);

    /* Across each due date, a crash while (or right after) it fires. */
    svc = move_and_crash(svc, bootstrap, prefix, clock, port, log, "2026-04-14", 20557, 0);
    svc = move_and_crash(svc, bootstrap, prefix, clock, port, log, "2026-05-01", 20574, 150);
    svc = move_and_crash(svc, bootstrap, prefix, clock, port, log, "2026-05-12", 20585, 400);
    svc = move_and_crash(svc, bootstrap, prefix, clock, port, log, "2026-06-18", 20622, 50);

    size_t n = th_read_meldingen(bootstrap, prefix, EXPECTED, got, 4 * EXPECTED);
    ck_assert_uint_eq(n, EXPECTED);
    th_expect_unique(got, n);
    ck_assert_uint_eq(th_count(got, n, "ZORGPLICHT_TERMIJN_VERSTREKEN", NULL, 0), CHILDREN * 5);
    ck_assert_uint_eq(th_count(got, n, "VERWIJZING_ZONDER_BESLUIT", NULL, 0), CHILDREN);
    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    rd_kafka_destroy(p);
    remove(clock);
}
END_TEST

int main(void) {
    Suite *s = suite_create("termijn_kafka");
    TCase *tc = tcase_create("kafka");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, kill_9_across_due_dates_loses_and_repeats_nothing);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
