/*
 * route_passthrough — the baseline of the route benchmark: the same Kafka
 * work as ketenhub-route without the routing. It consumes the four event
 * topics in a consumer group (kh_kafka's read_committed consumer) and
 * produces every record unchanged (key, value, headers) to
 * <prefix>bench.passthrough.v1 with kh_kafka's producer, in batches of the
 * same size and age as route's, inside transactions with the offsets sent
 * to the transaction (-t 1) or with produce-flush-commit (-t 0). Its
 * pre-fetch is route's too (kh_kafka_small_prefetch, kh_kafka_waker).
 *
 *   route_passthrough -b BOOTSTRAP -p PREFIX -g GROUP -n EVENTS -t 0|1
 *                     [-r BATCH_RECORDS] [-m BATCH_MS]
 *
 * Prints one line: events, seconds from the first assignment to the last
 * commit, events per second.
 */
#include "kh_config.h"
#include "kh_kafka.h"
#include "kh_log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct bench {
    rd_kafka_t *consumer, *producer;
    rd_kafka_topic_t *out;
    int transactional;
    double assigned_at;
} bench;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "route_passthrough: %s: %s\n", what, why);
    exit(1);
}

static void check(const char *what, rd_kafka_error_t *e) {
    if (e)
        die(what, rd_kafka_error_string(e));
}

static void commit(bench *B) {
    rd_kafka_topic_partition_list_t *pos;
    if (rd_kafka_assignment(B->consumer, &pos) || rd_kafka_position(B->consumer, pos))
        die("positions", "unavailable");
    if (B->transactional) {
        rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata(B->consumer);
        check("send_offsets_to_transaction",
              rd_kafka_send_offsets_to_transaction(B->producer, pos, g, -1));
        rd_kafka_consumer_group_metadata_destroy(g);
        check("commit_transaction", rd_kafka_commit_transaction(B->producer, -1));
    } else {
        rd_kafka_flush(B->producer, -1);
        rd_kafka_commit(B->consumer, pos, 0);
    }
    rd_kafka_topic_partition_list_destroy(pos);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    bench *B = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        if (B->assigned_at == 0)
            B->assigned_at = now_s();
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static int consumer_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, ud);
    return 0;
}

static void forward(bench *B, rd_kafka_message_t *m) {
    rd_kafka_headers_t *h = NULL, *copy = NULL;
    if (rd_kafka_message_headers(m, &h) == 0)
        copy = rd_kafka_headers_copy(h);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(B->producer, RD_KAFKA_V_RKT(B->out),
                                                  RD_KAFKA_V_KEY(m->key, m->key_len),
                                                  RD_KAFKA_V_VALUE(m->payload, m->len),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                  RD_KAFKA_V_HEADERS(copy), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            die("produce", rd_kafka_err2str(e));
        rd_kafka_poll(B->producer, 50);
    }
}

int main(int argc, char **argv) {
    const char *bootstrap = NULL, *prefix = "", *group = "route-passthrough";
    long events = 0, batch_records = 20000, batch_ms = 250;
    int opt;
    bench B = {0};
    while ((opt = getopt(argc, argv, "b:p:g:n:t:r:m:")) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 'p': prefix = optarg; break;
        case 'g': group = optarg; break;
        case 'n': events = atol(optarg); break;
        case 't': B.transactional = atoi(optarg); break;
        case 'r': batch_records = atol(optarg); break;
        case 'm': batch_ms = atol(optarg); break;
        default: die("usage", "see the comment at the top of passthrough.c");
        }
    }
    if (!bootstrap || events <= 0)
        die("usage", "-b BOOTSTRAP and -n EVENTS are required");
    kh_log_setup("route_passthrough", KH_LOG_WARN, STDERR_FILENO);
    char err[512], topic[256], txn_id[300];
    kh_config *c = kh_config_new();
    kh_config_set(c, "kafka.bootstrap.servers", bootstrap);
    kh_kafka_small_prefetch(c, 20000);
    snprintf(txn_id, sizeof txn_id, "%s-passthrough", group);
    B.producer = B.transactional ? kh_kafka_txn_producer_new(c, txn_id, NULL, NULL, err, sizeof err)
                                 : kh_kafka_producer_new(c, NULL, NULL, err, sizeof err);
    if (!B.producer)
        die("producer", err);
    B.consumer = kh_kafka_consumer_new(c, group, consumer_hook, &B, err, sizeof err);
    if (!B.consumer)
        die("consumer", err);
    kh_kafka_waker waker;
    kh_kafka_waker_init(&waker, B.consumer);
    snprintf(topic, sizeof topic, "%sbench.passthrough.v1", prefix);
    B.out = rd_kafka_topic_new(B.producer, topic, NULL);
    static const char *const inputs[] = {"aanmelding", "tlv", "beschikking", "verwijzing"};
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(4);
    for (int i = 0; i < 4; i++) {
        snprintf(topic, sizeof topic, "%sketenhub.%s.v1", prefix, inputs[i]);
        rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_subscribe(B.consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);

    long seen = 0, in_batch = 0;
    double batch_start = 0;
    while (seen < events) {
        if (in_batch && (in_batch >= batch_records || now_s() - batch_start >= batch_ms / 1000.0)) {
            commit(&B);
            in_batch = 0;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(B.consumer, in_batch ? 10 : 100);
        rd_kafka_poll(B.producer, 0);
        if (!m)
            continue;
        if (!m->err) {
            if (!in_batch) {
                if (B.transactional)
                    check("begin_transaction", rd_kafka_begin_transaction(B.producer));
                batch_start = now_s();
            }
            forward(&B, m);
            kh_kafka_waker_count(&waker, B.consumer, 1);
            in_batch++;
            seen++;
        }
        rd_kafka_message_destroy(m);
    }
    if (in_batch)
        commit(&B);
    double seconds = now_s() - B.assigned_at;
    printf("passthrough events=%ld seconds=%.3f events_per_s=%.0f\n", seen, seconds,
           (double)seen / seconds);
    rd_kafka_consumer_close(B.consumer);
    rd_kafka_destroy(B.consumer);
    rd_kafka_topic_destroy(B.out);
    rd_kafka_destroy(B.producer);
    kh_config_free(c);
    return 0;
}
