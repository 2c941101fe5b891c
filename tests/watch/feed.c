/*
 * kh-test-feed — writes keyed records onto a topic, for the watch tests that
 * need records no service of the test stack writes (termijn's state):
 *   kh-test-feed <bootstrap> <topic> < lines
 * Each line is `key<TAB>value`; a line `key<TAB>` (empty value) writes a
 * tombstone.
 *   kh-test-feed --zorgplicht <bootstrap> <topic> < lines
 * Each line is `key<TAB>woon<TAB>due`: termijn's own changelog record of a
 * child in gemeente woon with a zorgplicht termijn due on day `due` (days
 * since 1970-01-01; state_fixture.h). Exits 0 when every record was
 * acknowledged, 1 otherwise.
 */
#include "state_fixture.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BSN "123456782" /* must never reach the page */

static int produce(rd_kafka_t *rk, const char *topic, int zorgplicht, char *line) {
    line[strcspn(line, "\n")] = 0;
    char *tab = strchr(line, '\t'), *tab2 = tab ? strchr(tab + 1, '\t') : NULL;
    if (!tab || tab == line || (zorgplicht && !tab2)) {
        fprintf(stderr, "kh-test-feed: want key<TAB>%s, got '%.40s'\n",
                zorgplicht ? "woon<TAB>due" : "value", line);
        return -1;
    }
    *tab = 0;
    char *value = tab + 1;
    size_t vlen = strlen(value);
    if (zorgplicht) {
        *tab2 = 0;
        value = state_fixture_zorgplicht(BSN, tab + 1, (int32_t)atol(tab2 + 1), &vlen);
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                              RD_KAFKA_V_KEY(line, strlen(line)),
                                              RD_KAFKA_V_VALUE(vlen ? value : NULL, vlen),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                              RD_KAFKA_V_END);
    if (zorgplicht)
        free(value);
    if (e)
        fprintf(stderr, "kh-test-feed: %s\n", rd_kafka_err2str(e));
    return e ? -1 : 0;
}

static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *failed) {
    (void)rk;
    if (m->err) {
        fprintf(stderr, "kh-test-feed: not delivered: %s\n", rd_kafka_err2str(m->err));
        ++*(int *)failed;
    }
}

int main(int argc, char **argv) {
    char err[256], line[8192];
    int failed = 0;
    int zorgplicht = argc == 4 && strcmp(argv[1], "--zorgplicht") == 0;
    if (argc != 3 + zorgplicht) {
        fprintf(stderr, "usage: kh-test-feed [--zorgplicht] <bootstrap> <topic> < lines\n");
        return 2;
    }
    argv += zorgplicht;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_opaque(conf, &failed);
    rd_kafka_conf_set_dr_msg_cb(conf, delivered);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err)) {
        fprintf(stderr, "kh-test-feed: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kh-test-feed: %s\n", err);
        return 1;
    }
    while (fgets(line, sizeof line, stdin))
        if (produce(rk, argv[2], zorgplicht, line))
            failed++;
    if (rd_kafka_flush(rk, 30000))
        failed++;
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}
