/*
 * test_termijn_ops — ketenhub-termijn's operations on the embedded broker:
 * /readyz answers 503 "restoring" while the changelog is read and 200 after;
 * SIGHUP reloads the reference data (a new feestdag moves a due date) and a
 * bad file keeps the data in use; SIGTERM while Kafka does not answer ends
 * the process within termijn.shutdown.ms (asserted against a generous
 * bound, not timed), both while connecting and with a transaction open,
 * and the records of that uncommitted transaction are processed after the
 * restart; also while the producer queue is full and cannot drain.
 */
#include "termijn_harness.h"
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

static void aanmelding(rd_kafka_t *p, const char *prefix, const char *id, const char *event_id) {
    char json[1024];
    snprintf(json, sizeof json,
             "{\"envelope\":{\"event_id\":\"%s\",\"occurred_at\":\"2026-03-02T09:00:00Z\","
             "\"bron\":{\"type\":\"SCHOOL\",\"code\":\"12OA00\"}},\"jeugdige\":{\"bsn\":"
             "\"999990251\",\"geboortedatum\":\"2016-11-20\",\"woonplaatsgemeente\":\"GM0502\"},"
             "\"aanmelding_id\":\"%s\",\"soort\":\"ONDERWIJS\",\"bij\":{\"type\":\"SCHOOL\","
             "\"code\":\"12OA00\"},\"vestigingsgemeente\":\"GM0502\",\"onderwijssoort\":\"PO\","
             "\"ondersteuningsbehoefte\":true,\"datum\":\"2026-03-02\",\"status\":\"INGEDIEND\"}",
             event_id, id);
    th_produce(p, prefix, "aanmelding", json);
}

/* ---- /readyz during the restore -------------------------------------------------- */

#define DOSSIERS 60000

/* DOSSIERS changelog records (one open zorgplicht termijn each), so that
 * reading them back takes a while. */
static void fill_changelog(const char *bootstrap, const char *prefix) {
    char topic[128], key[32], value[512];
    rd_kafka_t *p = kh_test_producer(bootstrap);
    snprintf(topic, sizeof topic, "%sketenhub.termijn.state.v1", prefix);
    for (int i = 0; i < DOSSIERS; i++) {
        snprintf(key, sizeof key, "%016x", i);
        int len = snprintf(
            value, sizeof value,
            "{\"v\":1,\"bsn\":\"999990251\",\"geb\":17125,\"woon\":\"GM0502\",\"school\":\"\","
            "\"t\":[{\"r\":\"ZORGPLICHT_TERMIJN_VERSTREKEN\",\"z\":\"A%d\",\"b\":\"SCHOOL:12OA00\","
            "\"g\":20514,\"v\":[20557,20585],\"n\":2,\"f\":0,\"p\":null,\"e\":null,\"k\":20950,"
            "\"o\":\"12OA00\",\"o2\":\"\",\"s\":\"PO\",\"st\":\"\","
            "\"c\":[0,0,%d,\"6b0c1f5e-2d34-4c1a-9f1e-000000000001\",0]}]}",
            i, i);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(value, (size_t)len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 50);
        ck_assert_msg(e == 0, "produce: %s", rd_kafka_err2str(e));
    }
    rd_kafka_flush(p, 120000);
    ck_assert_int_eq(rd_kafka_outq_len(p), 0);
    rd_kafka_destroy(p);
}

START_TEST(readyz_is_503_restoring_until_the_changelog_is_read) {
    char bootstrap[256], prefix[64], log[128], clock[128], *body = NULL;
    pid_t broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(log, sizeof log, "/tmp/kh-termijn-ready-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-ready-clock-%d", (int)getpid());
    th_set_clock(clock, "2026-03-02T12:00:00Z");
    fill_changelog(bootstrap, prefix);
    int port = kh_test_free_port();
    pid_t svc = th_start(bootstrap, prefix, clock, port, log, NULL);
    int restoring = 0;
    long status = 0;
    for (int i = 0; i < 6000 && status != 200; i++) { /* 20 ms apart: 2 minutes at most */
        free(body);
        body = NULL;
        status = kh_test_http(port, "GET", "/readyz", &body);
        if (status == 503 && body && strstr(body, "restoring"))
            restoring = 1;
        if (status != 200)
            th_sleep_ms(20);
    }
    ck_assert_int_eq(status, 200);
    ck_assert_msg(restoring, "/readyz never said \"restoring\"");
    /* ready only once every record was read */
    ck_assert_double_eq(th_metric(port, "ketenhub_termijn_restored_records_total"), DOSSIERS);
    free(body);
    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    kh_test_stop(broker, SIGTERM, 10000);
    remove(clock);
    remove(log);
}
END_TEST

/* ---- SIGHUP ----------------------------------------------------------------------- */

static void append(const char *path, const char *text, const char *mode) {
    FILE *f = fopen(path, mode);
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(sighup_reloads_reference_data_and_a_bad_file_keeps_the_old) {
    char bootstrap[256], prefix[64], log[128], clock[128], dir[128], cmd[512], csv[192],
        set_dir[160];
    static th_melding got[16];
    pid_t broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(log, sizeof log, "/tmp/kh-termijn-hup-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-hup-clock-%d", (int)getpid());
    snprintf(dir, sizeof dir, "/tmp/kh-termijn-hup-ref-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -R %s/deploy/reference %s", dir,
             kh_test_source_dir(), dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(csv, sizeof csv, "%s/feestdagen.csv", dir);
    snprintf(set_dir, sizeof set_dir, "reference.dir=%s", dir);
    const char *extra[] = {set_dir, "termijn.batch.ms=50", NULL};
    th_set_clock(clock, "2026-03-02T12:00:00Z");
    rd_kafka_t *p = kh_test_producer(bootstrap);
    int port = kh_test_free_port();
    pid_t svc = th_start(bootstrap, prefix, clock, port, log, extra);
    kh_test_wait_http(port, "/readyz", 200, 30000);

    /* 13 April 2026, the last day of A1's six weeks, becomes a feestdag: the
     * term runs to the 14th and the meldingen are due on the 15th. */
    append(csv, "2026-04-13;Testdag;test\n", "a");
    kill(svc, SIGHUP);
    th_wait_metric(port, "ketenhub_termijn_reference_reloads_total", 1, 10000);
    ck_assert(kh_test_file_contains(log, "reference data reloaded"));
    aanmelding(p, prefix, "A1", "6b0c1f5e-2d34-4c1a-9f1e-000000000021");
    th_wait_metric(port, "ketenhub_termijn_events_total", 1, 30000);

    /* A broken file: the reload fails, says why, and the data stay. */
    append(csv, "DATUM;NAAM;GRONDSLAG\n2026-02-30;Geen dag;test\n", "w");
    kill(svc, SIGHUP);
    th_wait_metric(port, "ketenhub_termijn_reference_reloads_total", 2, 10000);
    ck_assert(kh_test_file_contains(log, "reference data not reloaded; the old data stay in use"));
    ck_assert(kh_test_file_contains(log, "feestdagen.csv"));
    aanmelding(p, prefix, "A2", "6b0c1f5e-2d34-4c1a-9f1e-000000000022");
    th_wait_metric(port, "ketenhub_termijn_events_total", 2, 30000);

    th_set_clock(clock, "2026-04-14T08:00:00Z");
    th_wait_metric(port, "ketenhub_termijn_clock_date_days", 20557, 10000);
    ck_assert_double_eq(th_metric(port, "ketenhub_termijn_meldingen_total"), 0);
    th_set_clock(clock, "2026-04-15T08:00:00Z");
    th_wait_metric(port, "ketenhub_termijn_meldingen_total", 4, 10000);
    size_t n = th_read_meldingen(bootstrap, prefix, 4, got, 16);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(got[i].vervaldatum, "2026-04-15");

    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    rd_kafka_destroy(p);
    kh_test_stop(broker, SIGTERM, 10000);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    remove(clock);
    remove(log);
}
END_TEST

/* ---- SIGTERM without Kafka ------------------------------------------------------- */

START_TEST(sigterm_while_connecting_to_nothing_exits_at_once) {
    char log[128], clock[128];
    snprintf(log, sizeof log, "/tmp/kh-termijn-noconn-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-noconn-clock-%d", (int)getpid());
    th_set_clock(clock, "2026-03-02T12:00:00Z");
    int port = kh_test_free_port();
    const char *extra[] = {"termijn.shutdown.ms=" SHUTDOWN_MS, NULL};
    /* port 1 on loopback: nothing listens there */
    pid_t svc = th_start("127.0.0.1:1", "noconn.", clock, port, log, extra);
    kh_test_wait_http(port, "/healthz", 200, 15000);
    char *body = NULL;
    ck_assert_int_eq(kh_test_http(port, "GET", "/readyz", &body), 503);
    ck_assert_msg(body && strstr(body, "starting"), "%s", body ? body : "");
    free(body);
    th_sleep_ms(1500); /* well into init_transactions */
    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, EXIT_WITHIN_MS), 0);
    remove(clock);
    remove(log);
}
END_TEST

/* Starts a devbroker and termijn with a transaction that stays open (ten
 * minutes of batch), and hands it one event. */
static pid_t start_open_batch(char *bootstrap, size_t len, const char *prefix, const char *clock,
                              int port, const char *log, pid_t *svc) {
    pid_t broker = kh_test_devbroker(bootstrap, len);
    const char *open_batch[] = {"termijn.shutdown.ms=" SHUTDOWN_MS, "termijn.batch.ms=600000",
                                NULL};
    th_set_clock(clock, "2026-03-02T12:00:00Z");
    *svc = th_start(bootstrap, prefix, clock, port, log, open_batch);
    kh_test_wait_http(port, "/readyz", 200, 30000);
    rd_kafka_t *p = kh_test_producer(bootstrap);
    aanmelding(p, prefix, "A1", "6b0c1f5e-2d34-4c1a-9f1e-000000000031");
    rd_kafka_destroy(p);
    th_wait_metric(port, "ketenhub_termijn_events_total", 1, 30000);
    return broker;
}

/* The broker is gone (killed: connections refused) while a transaction
 * holds a consumed event: SIGTERM ends termijn within the bound, with
 * status 1 because the transaction did not commit. */
START_TEST(sigterm_with_an_open_transaction_and_the_broker_gone) {
    char bootstrap[256], prefix[64], log[128], clock[128];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(log, sizeof log, "/tmp/kh-termijn-gone-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-gone-clock-%d", (int)getpid());
    int port = kh_test_free_port();
    pid_t svc,
        broker = start_open_batch(bootstrap, sizeof bootstrap, prefix, clock, port, log, &svc);
    kh_test_stop(broker, SIGKILL, 10000);
    int rc = kh_test_stop(svc, SIGTERM, EXIT_WITHIN_MS);
    ck_assert_msg(rc != KILLED, "termijn did not exit within %d ms of SIGTERM", EXIT_WITHIN_MS);
    ck_assert_int_eq(rc, 1);
    ck_assert(kh_test_file_contains(log, "the last transaction did not commit"));
    remove(clock);
    remove(log);
}
END_TEST

/* Restarts termijn after a stop that left its transaction uncommitted and
 * expects exactly `each` zorgplicht meldingen to the school and `each` to
 * the SWV, each once; then stops termijn and the broker. */
static void restart_expect_once(const char *bootstrap, const char *prefix, const char *clock,
                                int port, const char *log, pid_t broker, size_t each) {
    static th_melding got[32];
    const char *normal[] = {"termijn.batch.ms=50", NULL};
    pid_t svc = th_start(bootstrap, prefix, clock, port, log, normal);
    kh_test_wait_http(port, "/readyz", 200, 60000);
    th_wait_metric(port, "ketenhub_termijn_events_total", 1, 60000);
    th_set_clock(clock, "2026-04-14T08:00:00Z");
    th_wait_metric(port, "ketenhub_termijn_meldingen_total", (double)(2 * each), 30000);
    size_t n = th_read_meldingen(bootstrap, prefix, 2 * each, got, 32);
    ck_assert_uint_eq(n, 2 * each);
    th_expect_unique(got, n);
    ck_assert_uint_eq(th_count(got, n, "ZORGPLICHT_TERMIJN_VERSTREKEN", "SCHOOL:12OA00", 0), each);
    ck_assert_uint_eq(th_count(got, n, "ZORGPLICHT_TERMIJN_VERSTREKEN", "SWV:PO2803", 0), each);
    ck_assert_int_eq(kh_test_stop(svc, SIGTERM, 20000), 0);
    kh_test_stop(broker, SIGTERM, 10000);
    remove(clock);
    remove(log);
}

/* The broker stops answering (SIGSTOP: connections open, no replies) with
 * a transaction open: SIGTERM still ends termijn within the bound, status
 * 1 (librdkafka stays blocked, so the process ends without waiting for
 * it). Once the broker answers again, a restart gives the event's termijn
 * and its meldingen exactly once: the abandoned transaction left nothing
 * visible behind. (The devbroker keeps no transactional offsets, so the
 * restart reads the event again whatever happened; that uncommitted
 * offsets are read again on Apache Kafka is test_termijn_kafka's kill -9.) */
START_TEST(sigterm_with_an_open_transaction_and_a_silent_broker) {
    char bootstrap[256], prefix[64], log[128], clock[128];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(log, sizeof log, "/tmp/kh-termijn-silent-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-silent-clock-%d", (int)getpid());
    int port = kh_test_free_port();
    pid_t svc,
        broker = start_open_batch(bootstrap, sizeof bootstrap, prefix, clock, port, log, &svc);
    ck_assert_int_eq(kill(broker, SIGSTOP), 0);
    int rc = kh_test_stop(svc, SIGTERM, EXIT_WITHIN_MS);
    ck_assert_int_eq(kill(broker, SIGCONT), 0);
    ck_assert_msg(rc != KILLED, "termijn did not exit within %d ms of SIGTERM", EXIT_WITHIN_MS);
    ck_assert_int_eq(rc, 1);
    ck_assert(kh_test_file_contains(log, "the last transaction did not commit"));

    restart_expect_once(bootstrap, prefix, clock, port, log, broker, 1);
}
END_TEST

/* The broker falls silent between transactions and the clock moves: the
 * due meldingen fill the producer queue (one message), which cannot drain.
 * SIGTERM ends termijn within the bound all the same, status 1 (that
 * transaction did not commit), and once the broker answers again a restart
 * gives every due melding exactly once. */
START_TEST(sigterm_with_the_producer_queue_full_and_a_silent_broker) {
    char bootstrap[256], prefix[64], log[128], clock[128];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(log, sizeof log, "/tmp/kh-termijn-full-%d.log", (int)getpid());
    snprintf(clock, sizeof clock, "/tmp/kh-termijn-full-clock-%d", (int)getpid());
    int port = kh_test_free_port();
    pid_t broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    const char *small_queue[] = {"termijn.shutdown.ms=" SHUTDOWN_MS, "termijn.batch.ms=50",
                                 "termijn.tick.ms=100", "kafka.queue.buffering.max.messages=1",
                                 NULL};
    th_set_clock(clock, "2026-03-02T12:00:00Z");
    pid_t svc = th_start(bootstrap, prefix, clock, port, log, small_queue);
    kh_test_wait_http(port, "/readyz", 200, 30000);
    rd_kafka_t *p = kh_test_producer(bootstrap);
    aanmelding(p, prefix, "A1", "6b0c1f5e-2d34-4c1a-9f1e-000000000041");
    aanmelding(p, prefix, "A2", "6b0c1f5e-2d34-4c1a-9f1e-000000000042");
    aanmelding(p, prefix, "A3", "6b0c1f5e-2d34-4c1a-9f1e-000000000043");
    rd_kafka_destroy(p);
    th_wait_metric(port, "ketenhub_termijn_events_total", 3, 30000);
    th_wait_metric(port, "ketenhub_termijn_transactions_total", 1, 30000);
    th_sleep_ms(300); /* the events' last transaction commits */
    ck_assert_int_eq(kill(broker, SIGSTOP), 0);
    th_set_clock(clock, "2026-04-14T08:00:00Z"); /* six meldingen due, one fits */
    th_sleep_ms(1500);
    int rc = kh_test_stop(svc, SIGTERM, EXIT_WITHIN_MS);
    ck_assert_int_eq(kill(broker, SIGCONT), 0);
    ck_assert_msg(rc != KILLED, "termijn did not exit within %d ms of SIGTERM", EXIT_WITHIN_MS);
    ck_assert_int_eq(rc, 1);
    ck_assert(kh_test_file_contains(log, "producer queue full at shutdown"));
    ck_assert(kh_test_file_contains(log, "the last transaction did not commit"));

    restart_expect_once(bootstrap, prefix, clock, port, log, broker, 3);
}
END_TEST

int main(void) {
    Suite *s = suite_create("termijn_ops");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, readyz_is_503_restoring_until_the_changelog_is_read);
    tcase_add_test(tc, sighup_reloads_reference_data_and_a_bad_file_keeps_the_old);
    tcase_add_test(tc, sigterm_while_connecting_to_nothing_exits_at_once);
    tcase_add_test(tc, sigterm_with_an_open_transaction_and_the_broker_gone);
    tcase_add_test(tc, sigterm_with_an_open_transaction_and_a_silent_broker);
    tcase_add_test(tc, sigterm_with_the_producer_queue_full_and_a_silent_broker);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
