/*
 * test_devbroker — the embedded broker as other processes use it: over TCP,
 * through the ketenhub Kafka helpers; going down on SIGUSR1 and back on
 * SIGUSR2; exiting cleanly on SIGTERM.
 */
#include "kh_config.h"
#include "kh_kafka.h"
#include "testlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECORDS 500

static rd_kafka_t *producer_for(const char *bootstrap) {
    kh_config *c = kh_config_new();
    char err[256];
    kh_config_set(c, "kafka.bootstrap.servers", bootstrap);
    kh_config_set(c, "kafka.message.timeout.ms", "3000");
    kh_config_set(c, "kafka.reconnect.backoff.max.ms", "200");
    rd_kafka_t *rk = kh_kafka_producer_new(c, NULL, NULL, err, sizeof err);
    ck_assert_msg(rk != NULL, "%s", err);
    kh_config_free(c);
    return rk;
}

typedef struct seen {
    int count;
    int32_t last_value[8]; /* per partition: values must rise */
    int in_order;
} seen;

static void check_record(const rd_kafka_message_t *m, void *ud) {
    seen *s = ud;
    int v = atoi((const char *)m->payload);
    if (m->partition >= 0 && m->partition < 8) {
        if (v <= s->last_value[m->partition])
            s->in_order = 0;
        s->last_value[m->partition] = v;
    }
    s->count++;
}

START_TEST(produce_and_consume_over_tcp) {
    char bootstrap[256];
    pid_t broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    rd_kafka_t *p = producer_for(bootstrap);
    char err[256];
    for (int i = 1; i <= RECORDS; i++) {
        char key[16], value[16];
        snprintf(key, sizeof key, "child-%d", i % 17);
        snprintf(value, sizeof value, "%d", i);
        int32_t part;
        int64_t off;
        ck_assert_msg(kh_kafka_produce_sync(p, "ketenhub.tlv.v1", key, strlen(key), value,
                                            strlen(value) + 1, NULL, &part, &off, err,
                                            sizeof err) == 0,
                      "%s", err);
        ck_assert_int_ge(part, 0);
        ck_assert_int_ge(off, 0);
    }
    seen s = {.in_order = 1};
    for (int i = 0; i < 8; i++)
        s.last_value[i] = 0;
    size_t n = kh_test_read_topic(bootstrap, "ketenhub.tlv.v1", 1500, 20000, check_record, &s);
    ck_assert_uint_eq(n, RECORDS);
    ck_assert_int_eq(s.count, RECORDS);
    ck_assert_msg(s.in_order, "records of one partition came back out of order");
    rd_kafka_destroy(p);
    ck_assert_int_eq(kh_test_stop(broker, SIGTERM, 5000), 0);
}
END_TEST

START_TEST(sigusr1_takes_the_cluster_down_and_sigusr2_brings_it_back) {
    char bootstrap[256], err[256];
    pid_t broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    rd_kafka_t *p = producer_for(bootstrap);
    int32_t part;
    int64_t off;
    ck_assert_int_eq(kh_kafka_produce_sync(p, "ketenhub.tlv.v1", "k", 1, "before", 6, NULL, &part,
                                           &off, err, sizeof err),
                     0);
    kill(broker, SIGUSR1);
    struct timespec pause = {0, 300 * 1000000L};
    nanosleep(&pause, NULL);
    ck_assert_msg(kh_kafka_produce_sync(p, "ketenhub.tlv.v1", "k", 1, "during", 6, NULL, &part,
                                        &off, err, sizeof err) != 0,
                  "a write succeeded while every broker was down");
    kill(broker, SIGUSR2);
    /* A client retries until the cluster answers again, as ingest will. */
    int rc = -1;
    for (int attempt = 0; attempt < 5 && rc != 0; attempt++)
        rc = kh_kafka_produce_sync(p, "ketenhub.tlv.v1", "k", 1, "after", 5, NULL, &part, &off, err,
                                   sizeof err);
    ck_assert_msg(rc == 0, "no write after the brokers came back: %s", err);
    rd_kafka_destroy(p);
    ck_assert_int_eq(kh_test_stop(broker, SIGTERM, 5000), 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("devbroker");
    TCase *tc = tcase_create("devbroker");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, produce_and_consume_over_tcp);
    tcase_add_test(tc, sigusr1_takes_the_cluster_down_and_sigusr2_brings_it_back);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
