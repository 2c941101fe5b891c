/*
 * bench_topic_count — the number of records on topics (high minus low
 * watermark of every partition), so the benchmark can check that every
 * accepted event is on the broker.
 *
 *   bench_topic_count BOOTSTRAP TOPIC...
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>

int main(int argc, char **argv) {
    char err[256];
    if (argc < 3) {
        fprintf(stderr, "usage: bench_topic_count BOOTSTRAP TOPIC...\n");
        return 2;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench_topic_count: %s\n", err);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench_topic_count: %s\n", err);
        return 1;
    }
    long long total = 0;
    int status = 0;
    for (int i = 2; i < argc && !status; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, argv[i], NULL);
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (e) {
            fprintf(stderr, "bench_topic_count: %s: %s\n", argv[i], rd_kafka_err2str(e));
            status = 1;
        } else {
            for (int p = 0; !status && md->topic_cnt == 1 && p < md->topics[0].partition_cnt; p++) {
                int64_t lo, hi;
                e = rd_kafka_query_watermark_offsets(rk, argv[i], md->topics[0].partitions[p].id,
                                                     &lo, &hi, 10000);
                if (e) {
                    fprintf(stderr, "bench_topic_count: %s/%d: %s\n", argv[i], p,
                            rd_kafka_err2str(e));
                    status = 1;
                }
                total += e ? 0 : hi - lo;
            }
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
    }
    rd_kafka_destroy(rk);
    if (!status)
        printf("%lld\n", total);
    return status;
}
