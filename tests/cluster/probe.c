/*
 * kh-cluster-probe — what the broker-failure test asks a Kafka cluster,
 * through librdkafka (plaintext, no group):
 *
 *   kh-cluster-probe leaders BOOTSTRAP PREFIX
 *       "NODE COUNT" per broker: how many partitions of the topics whose
 *       names start with PREFIX it leads, most first
 *   kh-cluster-probe min-isr BOOTSTRAP PREFIX
 *       the smallest in-sync replica count over those partitions
 *   kh-cluster-probe headers BOOTSTRAP TOPIC HEADER...
 *       reads TOPIC from start to end (read_committed) and prints one line
 *       per record: the value of each HEADER ("-" when absent) and the
 *       record's timestamp in ms, tab-separated; gives up (exit 2) after 60 s
 *
 * Exit 0, or 2 with a message on stderr.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rd_kafka_t *client(const char *bootstrap, rd_kafka_type_t type) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) ||
        (type == RD_KAFKA_CONSUMER &&
         (rd_kafka_conf_set(conf, "group.id", "kh-cluster-probe", err, sizeof err) ||
          rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err) ||
          rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) ||
          rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err)))) {
        fprintf(stderr, "kh-cluster-probe: %s\n", err);
        exit(2);
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kh-cluster-probe: %s\n", err);
        exit(2);
    }
    return rk;
}

static const struct rd_kafka_metadata *metadata(rd_kafka_t *rk) {
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 20000);
    if (e) {
        fprintf(stderr, "kh-cluster-probe: metadata: %s\n", rd_kafka_err2str(e));
        exit(2);
    }
    return md;
}

static int leaders(rd_kafka_t *rk, const char *prefix, int isr_only) {
    const struct rd_kafka_metadata *md = metadata(rk);
    int count[64] = {0}, min_isr = 1 << 30;
    for (int t = 0; t < md->topic_cnt; t++) {
        if (strncmp(md->topics[t].topic, prefix, strlen(prefix)) != 0)
            continue;
        for (int p = 0; p < md->topics[t].partition_cnt; p++) {
            const rd_kafka_metadata_partition_t *part = &md->topics[t].partitions[p];
            if (part->leader >= 0 && part->leader < 64)
                count[part->leader]++;
            if (part->isr_cnt < min_isr)
                min_isr = part->isr_cnt;
        }
    }
    rd_kafka_metadata_destroy(md);
    if (isr_only) {
        printf("%d\n", min_isr == 1 << 30 ? 0 : min_isr);
        return 0;
    }
    for (;;) {
        int best = -1;
        for (int i = 0; i < 64; i++)
            if (count[i] && (best < 0 || count[i] > count[best]))
                best = i;
        if (best < 0)
            return 0;
        printf("%d %d\n", best, count[best]);
        count[best] = 0;
    }
}

static void print_record(const rd_kafka_message_t *m, char **names, int n) {
    rd_kafka_headers_t *h = NULL;
    int has = rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; i < n; i++) {
        const void *v = NULL;
        size_t len = 0;
        int found = has &&
                    rd_kafka_header_get_last(h, names[i], &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR;
        printf("%.*s\t", found ? (int)len : 1, found ? (const char *)v : "-");
    }
    printf("%lld\n", (long long)rd_kafka_message_timestamp(m, NULL));
}

static int headers(rd_kafka_t *rk, const char *topic, char **names, int nnames) {
    const struct rd_kafka_metadata *md = metadata(rk);
    int n = 0;
    for (int t = 0; t < md->topic_cnt; t++)
        if (!strcmp(md->topics[t].topic, topic))
            n = md->topics[t].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (n == 0) {
        fprintf(stderr, "kh-cluster-probe: no topic %s\n", topic);
        return 2;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int eofs = 0, rc = 0;
    time_t deadline = time(NULL) + 60;
    while (eofs < n && rc == 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (time(NULL) > deadline) {
            fprintf(stderr, "kh-cluster-probe: %s: not read to its end within 60 s\n", topic);
            rc = 2;
        } else if (!m) {
            continue;
        } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (m->err) {
            fprintf(stderr, "kh-cluster-probe: %s\n", rd_kafka_message_errstr(m));
        } else {
            print_record(m, names, nnames);
        }
        if (m)
            rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 4 && (!strcmp(argv[1], "leaders") || !strcmp(argv[1], "min-isr"))) {
        rd_kafka_t *rk = client(argv[2], RD_KAFKA_PRODUCER);
        int rc = leaders(rk, argv[3], !strcmp(argv[1], "min-isr"));
        rd_kafka_destroy(rk);
        return rc;
    }
    if (argc >= 5 && !strcmp(argv[1], "headers")) {
        rd_kafka_t *rk = client(argv[2], RD_KAFKA_CONSUMER);
        int rc = headers(rk, argv[3], argv + 4, argc - 4);
        rd_kafka_destroy(rk);
        return rc;
    }
    fprintf(stderr, "usage: kh-cluster-probe leaders|min-isr BOOTSTRAP PREFIX\n"
                    "       kh-cluster-probe headers BOOTSTRAP TOPIC HEADER...\n");
    return 2;
}
