/*
 * test_termijn_service — ketenhub-termijn as a process on the embedded
 * broker, with the clock moved by the test (termijn.clock.file): a zorgplicht
 * termijn and a verwijzing termijn open on their events and give no melding
 * until the hub's date reaches their due dates, also with no events
 * arriving; then exactly the expected meldingen go out, once; a late
 * placement dated before the due date gives achterhaald follow-ups to the
 * same recipients; poison becomes a dead letter; a restart restores the
 * open termijnen from the changelog and repeats nothing; /healthz /readyz
 * answer, the log holds no BSN, SIGTERM ends it with status 0. And the
 * zorgplicht pause carried by the aanmelding (informatie_opgevraagd_op /
 * informatie_ontvangen_op) moves the due date, across restarts.
 *
 * Exactly once across kill -9 is tested on Apache Kafka in
 * test_termijn_kafka.
 */
#include "termijn_harness.h"
#include "testlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHILD_A                                                                                    \
    "\"jeugdige\":{\"bsn\":\"999990251\",\"geboortedatum\":\"2016-11-20\",\"woonplaatsgemeente\":" \
    "\"GM0502\"}"
#define CHILD_B                                                                                    \
    "\"jeugdige\":{\"bsn\":\"111222333\",\"geboortedatum\":\"2014-05-17\",\"woonplaatsgemeente\":" \
    "\"GM0502\"}"

/* extra: more fields, each with a leading comma ("" for none). */
static void aanmelding(rd_kafka_t *p, const char *prefix, const char *id, const char *status,
                       const char *datum, const char *extra) {
    char json[1536];
    snprintf(json, sizeof json,
             "{\"envelope\":{\"event_id\":\"%s\",\"occurred_at\":\"%sT09:00:00Z\","
             "\"bron\":{\"type\":\"SCHOOL\",\"code\":\"12OA00\"}}," CHILD_A ","
             "\"aanmelding_id\":\"A1\",\"soort\":\"ONDERWIJS\",\"bij\":{\"type\":\"SCHOOL\","
             "\"code\":\"12OA00\"},\"vestigingsgemeente\":\"GM0502\",\"onderwijssoort\":\"PO\","
             "\"ondersteuningsbehoefte\":true,\"datum\":\"%s\",\"status\":\"%s\"%s}",
             id, datum, datum, status, extra);
    th_produce(p, prefix, "aanmelding", json);
}

static void verwijzing(rd_kafka_t *p, const char *prefix) {
    th_produce(p, prefix, "verwijzing",
               "{\"envelope\":{\"event_id\":\"6b0c1f5e-2d34-4c1a-9f1e-000000000003\","
               "\"occurred_at\":\"2026-04-22T10:00:00Z\",\"bron\":{\"type\":\"GEMEENTE\","
               "\"code\":\"GM0502\"}}," CHILD_B ",\"verwijzing_id\":\"V1\",\"verwijzer\":"
               "{\"type\":\"HUISARTS\",\"code\":\"01999901\"},\"naar\":{\"type\":\"AANBIEDER\","
               "\"code\":\"98000000\"},\"domein\":\"JEUGDHULP\",\"datum\":\"2026-04-22\"}");
}

static pid_t start(const char *bootstrap, const char *prefix, const char *clock, int port,
                   const char *log) {
    const char *extra[] = {"termijn.batch.ms=50", NULL};
    pid_t pid = th_start(bootstrap, prefix, clock, port, log, extra);
    kh_test_wait_http(port, "/healthz", 200, 15000);
    kh_test_wait_http(port, "/readyz", 200, 30000);
    return pid;
}

START_TEST(moved_clock_fires_due_termijnen_once) {
    char bootstrap[256], prefix[64], log[128], clock[128];
    static th_melding got[64];
    pid_t broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(log, sizeof log, "/tmp/kh-termijn-service-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-clock-%d", (int)getpid());
    remove(log);
    /* the devbroker creates topics on first use, all with its default partition count */
    th_set_clock(clock, "2026-03-02T12:00:00Z");
    rd_kafka_t *p = kh_test_producer(bootstrap);
    int port = kh_test_free_port();
    pid_t svc = start(bootstrap, prefix, clock, port, log);

    aanmelding(p, prefix, "6b0c1f5e-2d34-4c1a-9f1e-000000000001", "INGEDIEND", "2026-03-02", "");
    verwijzing(p, prefix);
    th_produce_poison(p, prefix);
    th_wait_metric(port, "ketenhub_termijn_events_total", 3, 60000);
    th_wait_metric(port, "ketenhub_termijn_deadletters_total", 1, 10000);
    th_wait_metric(port, "ketenhub_termijn_open", 2, 10000);
    ck_assert_double_eq(th_metric(port, "ketenhub_termijn_meldingen_total"), 0);

    /* 13 April is the last day of the six weeks; nothing yet. 14 April: the
     * school and its SWV, with no event arriving. */
    th_set_clock(clock, "2026-04-13T21:59:00Z");
    th_wait_metric(port, "ketenhub_termijn_clock_date_days", 20556, 10000);
    ck_assert_double_eq(th_metric(port, "ketenhub_termijn_meldingen_total"), 0);
    th_set_clock(clock, "2026-04-13T22:00:00Z"); /* midnight in Amsterdam (CEST) */
    th_wait_metric(port, "ketenhub_termijn_meldingen_total", 2, 10000);

    /* The verwijzing: five working days (Koningsdag skipped) end 30 April. */
    th_set_clock(clock, "2026-05-01T06:00:00Z");
    th_wait_metric(port, "ketenhub_termijn_meldingen_total", 3, 10000);

    /* A placement dated 10 April, heard now: achterhaald to both. */
    aanmelding(p, prefix, "6b0c1f5e-2d34-4c1a-9f1e-000000000002", "GEPLAATST", "2026-04-10", "");
    th_wait_metric(port, "ketenhub_termijn_meldingen_total", 5, 10000);
    th_wait_metric(port, "ketenhub_termijn_events_total", 4, 10000);

    /* Restart: the verwijzing termijn comes back from the changelog with its
     * fired step. (The devbroker keeps no transactional offset commits, so
     * the restarted service also reads the events again: their meldingen
     * repeat with the same ids, which is what partners de-duplicate on.
     * That nothing repeats at all is test_termijn_kafka's, on Apache Kafka.) */
    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    svc = start(bootstrap, prefix, clock, port, log);
    th_wait_metric(port, "ketenhub_termijn_restored_records_total", 1, 20000);
    th_wait_metric(port, "ketenhub_termijn_events_total", 4, 20000);
    th_wait_metric(port, "ketenhub_termijn_open", 1, 20000);
    /* ...until its escalation at eight weeks (last day 17 June). */
    th_set_clock(clock, "2026-06-18T08:00:00Z");
    th_wait_metric(port, "ketenhub_termijn_meldingen_total", 1, 10000);

    size_t all = th_read_meldingen(bootstrap, prefix, 6, got, 64);
    size_t n = th_distinct(got, all < 64 ? all : 64);
    ck_assert_uint_eq(n, 6);
    const char *zp = "ZORGPLICHT_TERMIJN_VERSTREKEN", *vz = "VERWIJZING_ZONDER_BESLUIT";
    ck_assert_uint_eq(th_count(got, n, zp, "SCHOOL:12OA00", 0), 1);
    ck_assert_uint_eq(th_count(got, n, zp, "SWV:PO2803", 0), 1);
    ck_assert_uint_eq(th_count(got, n, zp, "SCHOOL:12OA00", 1), 1);
    ck_assert_uint_eq(th_count(got, n, zp, "SWV:PO2803", 1), 1);
    ck_assert_uint_eq(th_count(got, n, vz, "GEMEENTE:GM0502", 0), 2);
    for (size_t i = 0; i < n; i++)
        if (got[i].achterhaalt[0])
            ck_assert_uint_eq(th_count(got, n, zp, NULL, 0), 2); /* it withdraws one of those */

    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    ck_assert_msg(!kh_test_file_contains(log, "999990251") &&
                      !kh_test_file_contains(log, "111222333"),
                  "a BSN in the log");
    rd_kafka_destroy(p);
    kh_test_stop(broker, SIGTERM, 10000);
    remove(clock);
}
END_TEST

/* The zorgplicht pause on the wire: an aanmelding IN_BEHANDELING with
 * informatie_opgevraagd_op stops the term (nothing at six weeks), one with
 * informatie_ontvangen_op restarts it 14 days later; restarts in between
 * keep the pause (the changelog) and the re-read events change nothing. */
START_TEST(informatie_opgevraagd_pauses_the_zorgplicht_term) {
    char bootstrap[256], prefix[64], log[128], clock[128];
    static th_melding got[16];
    const char *opgevraagd = ",\"informatie_opgevraagd_op\":\"2026-03-10\"";
    const char *beide = ",\"informatie_opgevraagd_op\":\"2026-03-10\","
                        "\"informatie_ontvangen_op\":\"2026-03-24\"";
    pid_t broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(log, sizeof log, "/tmp/kh-termijn-pauze-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-pauze-clock-%d", (int)getpid());
    th_set_clock(clock, "2026-03-10T12:00:00Z");
    rd_kafka_t *p = kh_test_producer(bootstrap);
    int port = kh_test_free_port();
    pid_t svc = start(bootstrap, prefix, clock, port, log);
    aanmelding(p, prefix, "6b0c1f5e-2d34-4c1a-9f1e-000000000011", "INGEDIEND", "2026-03-02", "");
    aanmelding(p, prefix, "6b0c1f5e-2d34-4c1a-9f1e-000000000012", "IN_BEHANDELING", "2026-03-10",
               opgevraagd);
    th_wait_metric(port, "ketenhub_termijn_events_total", 2, 60000);

    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    svc = start(bootstrap, prefix, clock, port, log);
    th_wait_metric(port, "ketenhub_termijn_restored_records_total", 1, 20000);
    th_wait_metric(port, "ketenhub_termijn_events_total", 2, 20000); /* re-read: no offsets */
    th_set_clock(clock, "2026-04-20T08:00:00Z");                     /* past the six weeks */
    th_wait_metric(port, "ketenhub_termijn_clock_date_days", 20563, 10000);
    ck_assert_double_eq(th_metric(port, "ketenhub_termijn_meldingen_total"), 0);

    /* Received on 24 March: 13 April + 14 days = 27 April, Koningsdag, so
     * the term runs to the 28th and the meldingen are due on the 29th. */
    aanmelding(p, prefix, "6b0c1f5e-2d34-4c1a-9f1e-000000000013", "IN_BEHANDELING", "2026-04-20",
               beide);
    th_wait_metric(port, "ketenhub_termijn_events_total", 3, 20000);
    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    svc = start(bootstrap, prefix, clock, port, log);
    th_wait_metric(port, "ketenhub_termijn_events_total", 3, 20000);
    th_set_clock(clock, "2026-04-28T21:59:00Z");
    th_wait_metric(port, "ketenhub_termijn_clock_date_days", 20571, 10000);
    ck_assert_double_eq(th_metric(port, "ketenhub_termijn_meldingen_total"), 0);
    th_set_clock(clock, "2026-04-28T22:00:00Z"); /* 29 April, midnight in Amsterdam */
    th_wait_metric(port, "ketenhub_termijn_meldingen_total", 2, 10000);

    size_t n = th_read_meldingen(bootstrap, prefix, 2, got, 16);
    ck_assert_uint_eq(n, 2);
    th_expect_unique(got, n);
    const char *zp = "ZORGPLICHT_TERMIJN_VERSTREKEN";
    ck_assert_uint_eq(th_count(got, n, zp, "SCHOOL:12OA00", 0), 1);
    ck_assert_uint_eq(th_count(got, n, zp, "SWV:PO2803", 0), 1);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(got[i].vervaldatum, "2026-04-29");
    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    rd_kafka_destroy(p);
    kh_test_stop(broker, SIGTERM, 10000);
    remove(clock);
    remove(log);
}
END_TEST

int main(void) {
    Suite *s = suite_create("termijn_service");
    TCase *tc = tcase_create("service");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, moved_clock_fires_due_termijnen_once);
    tcase_add_test(tc, informatie_opgevraagd_pauses_the_zorgplicht_term);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
