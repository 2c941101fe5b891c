/*
 * test_push_crash — ketenhub-push against real Apache Kafka (the broker of
 * `make test`), where it matters that the broker keeps what it acknowledged:
 *   - SIGTERM lets requests in flight finish up to the bound, writes their
 *     outcome and commits; what is not finished is delivered after restart;
 *   - kill -9 in the middle of 10,000 meldingen, restart: every melding is
 *     delivered at least once, and a melding delivered twice carries the
 *     same webhook-id both times;
 *   - two instances in one group share the partitions and deliver every
 *     melding once, with the eager (range, roundrobin) and the
 *     cooperative-sticky assignor;
 *   - push makes its output topics exist before it is ready (asked without
 *     creating them, which the embedded broker cannot).
 */
#include "kh_orgid.h"
#include "pushlib.h"
#include "testlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A member killed with -9 leaves the group only when its session ends. */
#define SESSION "kafka.session.timeout.ms=6000"

/* ---- SIGTERM and the ops endpoint -------------------------------------------- */

static int in_flight_both(void *ud) {
    pt_env *e = ud;
    char *m = pt_push_metrics(e);
    int both = pt_metric(m, "ketenhub_push_in_flight{partner=\"GEMEENTE:GM0599\"}") == 1 &&
               pt_metric(m, "ketenhub_push_in_flight{partner=\"GEMEENTE:GM0518\"}") == 1;
    free(m);
    return both;
}

START_TEST(sigterm_finishes_or_hands_back) {
    pt_env e;
    pt_receiver r;
    const char *rules[] = {"/quick=hang:1500", "/slow=hang:9000", NULL};
    pt_env_real_kafka(&e, 4);
    pt_receiver_start(&e, &r, rules, NULL);
    char *s1 = pt_sub("GEMEENTE:GM0599", &r, "/quick", SECRET_A,
                      ",\"limits\":{\"timeout_ms\":15000}");
    char *s2 = pt_sub("GEMEENTE:GM0518", &r, "/slow", SECRET_A,
                      ",\"limits\":{\"timeout_ms\":15000}");
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s]}", s1, s2);
    const char *sets[] = {"shutdown.timeout.ms=4000", SESSION, NULL};
    pt_push_start(&e, sets, NULL);
    kh_test_wait_http(e.ops_port, "/healthz", 200, 1000);
    kh_test_wait_http(e.ops_port, "/readyz", 200, 1000);
    pt_meldingen(&e, 70, 1, "GEMEENTE:GM0599", 0);
    pt_meldingen(&e, 71, 1, "GEMEENTE:GM0518", 1);
    ck_assert_msg(pt_wait(in_flight_both, &e, 20000), "both requests should be in flight");
    long long t0 = pt_now_ms();
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    long long took = pt_now_ms() - t0;
    /* It waited for the requests in flight up to the bound (4 s), no longer. */
    ck_assert_msg(took >= 3000 && took < 8000, "stop took %lld ms", took);
    /* The quick one finished and was recorded; the slow one was handed back. */
    ck_assert_int_eq(pt_receiver_count(&r, "/quick", NULL), 1);
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, 1, 500, 10000);
    ck_assert_uint_eq(json_array_size(afl), 1);
    char id[37];
    ck_assert_ptr_nonnull(pt_find(afl, "value.melding_id", pt_uuid(70, 0, id)));
    json_decref(afl);
    pt_receiver_rule(&r, "/slow", "ok");
    pt_receiver_rule(&r, "/quick", "ok");
    const char *again[] = {SESSION, NULL};
    pt_push_start(&e, again, NULL);
    pt_wait_ok(&r, "/slow", 1, 30000);
    pt_sleep_ms(1500);
    ck_assert_int_eq(pt_receiver_count(&r, "/quick", NULL), 1); /* committed: not again */
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    free(s1), free(s2);
    pt_env_done(&e);
}
END_TEST

/* ---- kill -9 at scale ------------------------------------------------------ */

enum { PARTNERS = 8, PER_PARTNER = 1250, TOTAL = PARTNERS * PER_PARTNER };

static int total_requests(void *ud) {
    const pt_receiver *r = ud;
    long n = 0;
    char path[16];
    for (int p = 0; p < PARTNERS; p++) {
        snprintf(path, sizeof path, "/p%d", p);
        n += pt_receiver_count(r, path, NULL);
    }
    return n >= TOTAL / 3 - PER_PARTNER;
}

/* Distinct webhook-ids answered 200: after the crash some meldingen are
 * delivered twice, so a partner's count of 200s can reach PER_PARTNER
 * before the last of its meldingen arrived. */
static int all_distinct_delivered(void *ud) {
    json_t *recs = pt_receiver_records(ud, NULL), *seen = json_object(), *rec;
    size_t i;
    json_array_foreach(recs, i, rec) {
        const char *wid = json_string_value(json_object_get(rec, "webhook_id"));
        if (wid && json_integer_value(json_object_get(rec, "status")) == 200)
            json_object_set_new(seen, wid, json_true());
    }
    int all = json_object_size(seen) >= TOTAL;
    json_decref(seen);
    json_decref(recs);
    if (!all)
        pt_sleep_ms(450); /* reading every request is not free */
    return all;
}

START_TEST(kill9_loses_nothing) {
    pt_env e;
    pt_receiver r;
    /* One partner is down until after the crash: its meldingen wait in the
     * retry topic (and in memory) when push is killed. */
    const char *rules[] = {"/p7=status:503", NULL};
    pt_env_real_kafka(&e, 4);
    pt_receiver_start(&e, &r, rules, NULL);
    char *subs[PARTNERS], partner[PARTNERS][24], path[16];
    for (int p = 0; p < PARTNERS; p++) {
        snprintf(partner[p], sizeof partner[p], "GEMEENTE:GM%04d", 100 + p);
        snprintf(path, sizeof path, "/p%d", p);
        subs[p] = pt_sub(partner[p], &r, path, SECRET_A, "");
    }
    pt_write_subs(&e, "{\"subscriptions\":[%s,%s,%s,%s,%s,%s,%s,%s]}", subs[0], subs[1], subs[2],
                  subs[3], subs[4], subs[5], subs[6], subs[7]);
    /* Interleaved, as real traffic is: partners share partitions. */
    char id[37];
    for (int k = 0; k < PER_PARTNER; k++)
        for (int p = 0; p < PARTNERS; p++) {
            size_t len;
            char *v = pt_melding(&e, pt_uuid(90 + p, k, id), partner[p], REGEL, &len);
            pt_produce(&e, MELDING_TOPIC, kh_orgid_code(partner[p]), v, len, -1, id, partner[p]);
            free(v);
        }
    pt_flush(&e);
    const char *sets[] = {SESSION, "retry.initial.ms=100", "retry.max.ms=500", NULL};
    pt_push_start(&e, sets, NULL);
    ck_assert_msg(pt_wait(total_requests, &r, 120000), "push did not get a third of the way");
    ck_assert_int_eq(pt_push_stop(&e, SIGKILL), 128 + SIGKILL);
    long before = 0;
    for (int p = 0; p < PARTNERS; p++) {
        snprintf(path, sizeof path, "/p%d", p);
        before += pt_receiver_count(&r, path, NULL);
    }
    fprintf(stderr, "test_push_crash: killed push -9 after %ld of %d requests\n", before, TOTAL);
    pt_receiver_rule(&r, "/p7", "ok");
    long long restart = pt_now_ms();
    pt_push_start(&e, sets, NULL);
    for (int p = 0; p < PARTNERS; p++) {
        snprintf(path, sizeof path, "/p%d", p);
        pt_wait_ok(&r, path, PER_PARTNER, 120000);
    }
    pt_wait(all_distinct_delivered, &r, 60000); /* the assertions below say what is missing */
    fprintf(stderr, "test_push_crash: all delivered %lld ms after the restart\n",
            pt_now_ms() - restart);

    /* Every melding answered 2xx at least once; every request carried a
     * melding of ours whose melding_id is its webhook-id. */
    json_t *recs = pt_receiver_records(&r, NULL);
    json_t *seen = json_object();
    size_t i, duplicates = 0;
    json_t *rec;
    json_array_foreach(recs, i, rec) {
        const char *wid = json_string_value(json_object_get(rec, "webhook_id"));
        json_t *body = json_loads(json_string_value(json_object_get(rec, "body")), 0, NULL);
        ck_assert_ptr_nonnull(body);
        ck_assert_str_eq(pt_get(body, "melding_id"), wid);
        json_decref(body);
        if (json_integer_value(json_object_get(rec, "status")) != 200)
            continue;
        if (json_object_get(seen, wid))
            duplicates++;
        json_object_set_new(seen, wid, json_true());
    }
    for (int p = 0; p < PARTNERS; p++)
        for (int k = 0; k < PER_PARTNER; k++)
            ck_assert_msg(json_object_get(seen, pt_uuid(90 + p, k, id)) != NULL,
                          "%s never delivered", id);
    ck_assert_uint_eq(json_object_size(seen), TOTAL);
    fprintf(stderr,
            "test_push_crash: %d meldingen delivered, %zu delivered again after the "
            "crash (same webhook-id)\n",
            TOTAL, duplicates);
    json_decref(seen);
    json_decref(recs);

    /* And every one has a DELIVERED aflevering. */
    json_t *afl = pt_read(&e, AFLEVERING_TOPIC, TOTAL, 2000, 60000);
    json_t *done = json_object();
    json_array_foreach(afl, i, rec)
        if (strcmp(pt_get(rec, "value.outcome"), "DELIVERED") == 0)
            json_object_set_new(done, pt_get(rec, "value.melding_id"), json_true());
    ck_assert_uint_eq(json_object_size(done), TOTAL);
    json_decref(done);
    json_decref(afl);
    ck_assert_int_eq(pt_push_stop(&e, SIGTERM), 0);
    pt_receiver_stop(&r);
    for (int p = 0; p < PARTNERS; p++)
        free(subs[p]);
    pt_env_done(&e);
}
END_TEST

/* ---- two instances, both assignors ------------------------------------------- */

static const char *const assignors[] = {"range,roundrobin", "cooperative-sticky"};

enum { SHARED_PARTNERS = 8, SHARED_EACH = 50 };

/* The value of series, 0 while it has none yet. */
static double metric_of(const pt_env *e, const char *series) {
    char *m = pt_push_metrics(e);
    double v = pt_metric(m, series);
    free(m);
    return v < 0 ? 0 : v;
}

/* Both instances hold partitions, together all 8 (4 melding, 4 retry). */
static void wait_split(const pt_env *a, const pt_env *b, const char *assignor) {
    double na = 0, nb = 0;
    for (int waited = 0; waited < 60000; waited += 100) {
        na = metric_of(a, "ketenhub_push_assigned_partitions");
        nb = metric_of(b, "ketenhub_push_assigned_partitions");
        if (na > 0 && nb > 0 && na + nb == 8)
            return;
        pt_sleep_ms(100);
    }
    ck_abort_msg("%s: partitions not split: a %g, b %g", assignor, na, nb);
}

START_TEST(two_instances_share_the_partitions) {
    pt_env a, b;
    pt_receiver r;
    char strategy[96], *subs[SHARED_PARTNERS], partner[SHARED_PARTNERS][24], path[16];
    snprintf(strategy, sizeof strategy, "kafka.partition.assignment.strategy=%s", assignors[_i]);
    pt_env_real_kafka(&a, 4);
    pt_receiver_start(&a, &r, NULL, NULL);
    for (int p = 0; p < SHARED_PARTNERS; p++) {
        snprintf(partner[p], sizeof partner[p], "GEMEENTE:GM%04d", 200 + p);
        snprintf(path, sizeof path, "/s%d", p);
        subs[p] = pt_sub(partner[p], &r, path, SECRET_A, "");
    }
    pt_write_subs(&a, "{\"subscriptions\":[%s,%s,%s,%s,%s,%s,%s,%s]}", subs[0], subs[1], subs[2],
                  subs[3], subs[4], subs[5], subs[6], subs[7]);
    const char *sets[] = {strategy, SESSION, NULL};
    pt_push_start(&a, sets, NULL);
    /* The second instance: the same topics, group and files, its own
     * process, ops port and log (push_runs names the log). */
    b = a;
    b.push_runs = 100;
    pt_push_start(&b, sets, NULL);
    wait_split(&a, &b, assignors[_i]);
    /* Two partners per partition, so every partition has work. (The sticky
     * assignor may give one instance only retry partitions: which one
     * reads the meldingen is not asserted, that they are read once is.) */
    for (int p = 0; p < SHARED_PARTNERS; p++)
        pt_meldingen(&a, 120 + p, SHARED_EACH, partner[p], p % 4);
    for (int p = 0; p < SHARED_PARTNERS; p++) {
        snprintf(path, sizeof path, "/s%d", p);
        pt_wait_ok(&r, path, SHARED_EACH, 60000);
    }
    const char *read = "ketenhub_push_records_total{source=\"melding\"}";
    double ra = metric_of(&a, read), rb = metric_of(&b, read);
    fprintf(stderr, "test_push_crash: %s: meldingen read by a %g, b %g\n", assignors[_i], ra, rb);
    ck_assert_double_eq(ra + rb, SHARED_PARTNERS * SHARED_EACH); /* no rebalance while reading */
    pt_sleep_ms(500);
    for (int p = 0; p < SHARED_PARTNERS; p++) {
        snprintf(path, sizeof path, "/s%d", p);
        ck_assert_int_eq(pt_receiver_count(&r, path, NULL), SHARED_EACH); /* each once */
    }
    ck_assert_int_eq(pt_push_stop(&b, SIGTERM), 0);
    ck_assert_int_eq(pt_push_stop(&a, SIGTERM), 0);
    pt_receiver_stop(&r);
    for (int p = 0; p < SHARED_PARTNERS; p++)
        free(subs[p]);
    pt_env_done(&a);
}
END_TEST

/* ---- topics at start ------------------------------------------------------ */

/* The partition count of topic as the broker knows it, 0 when it does not
 * exist; asked by a consumer, which never creates a topic by asking. */
static int partitions_of(const pt_env *e, const char *topic) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers", e->bootstrap, err, sizeof err),
                     RD_KAFKA_CONF_OK);
    ck_assert_int_eq(rd_kafka_conf_set(conf, "group.id", "test-push-metadata", err, sizeof err),
                     RD_KAFKA_CONF_OK);
    ck_assert_int_eq(rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", err, sizeof err),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    ck_assert_msg(rk != NULL, "%s", err);
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    ck_assert_int_eq(rd_kafka_metadata(rk, 0, t, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_destroy(rk);
    return n;
}

/* Every delivery writes an aflevering; a topic made only by the first write
 * kept ~13,000 of them in memory for its ~2 s (push README, Memory in the
 * national case), so push makes its output topics exist before it is
 * ready, without waiting for a melding. */
START_TEST(makes_its_output_topics_exist_at_start) {
    pt_env e;
    pt_receiver r;
    char afleveringen[256], retry[256];
    pt_env_real_kafka_inputs(&e, 2);
    pt_topic(&e, "ketenhub.afleveringen.v1", afleveringen, sizeof afleveringen);
    pt_topic(&e, "ketenhub.push.retry.v1", retry, sizeof retry);
    ck_assert_int_eq(partitions_of(&e, afleveringen), 0);
    ck_assert_int_eq(partitions_of(&e, retry), 0);
    pt_receiver_start(&e, &r, NULL, NULL);
    char *a = pt_sub("GEMEENTE:GM0599", &r, "/gm0599", SECRET_A, "");
    pt_write_subs(&e, "{\"subscriptions\":[%s]}", a);
    pt_push_start(&e, NULL, NULL);
    ck_assert_int_gt(partitions_of(&e, afleveringen), 0);
    ck_assert_int_gt(partitions_of(&e, retry), 0);
    ck_assert_int_eq(pt_receiver_count(&r, "/gm0599", NULL), 0); /* before any delivery */
    pt_receiver_stop(&r);
    free(a);
    pt_env_done(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("push_crash");
    TCase *tc = tcase_create("sigterm_finishes_or_hands_back");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sigterm_finishes_or_hands_back);
    suite_add_tcase(s, tc);
    tc = tcase_create("kill9_loses_nothing");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, kill9_loses_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("two_instances_share_the_partitions");
    tcase_set_timeout(tc, 180);
    tcase_add_loop_test(tc, two_instances_share_the_partitions, 0,
                        sizeof assignors / sizeof assignors[0]);
    suite_add_tcase(s, tc);
    tc = tcase_create("makes_its_output_topics_exist_at_start");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, makes_its_output_topics_exist_at_start);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
