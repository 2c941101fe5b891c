/*
 * topics — `ketenhub topics` (see topics.h). Offsets are the watermarks
 * (ListOffsets), the rate is the growth of the high watermarks over
 * --interval-ms, the retention comes from DescribeConfigs where the broker
 * answers admin requests (Apache Kafka; the devbroker does not: "-").
 */
#include "topics.h"

#include "cli_kafka.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_time.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_topics_usage(void) {
    return "  topics [--json] [--interval-ms N] [--config FILE] [--set KEY=VALUE] [--timeout-ms "
           "N]\n"
           "      Every ketenhub topic: partitions, low and high offsets summed, records "
           "retained,\n"
           "      retention.ms (\"-\" when the broker answers no admin requests, as the "
           "devbroker),\n"
           "      and records/s: the growth of the high offsets over --interval-ms (default "
           "1000).\n";
}

typedef struct topic_row {
    char name[256];
    int partitions;
    int64_t low, high, high2;
    char retention[32];
} topic_row;

/* Sums the watermarks of every partition of r into *low and *high. */
static int watermarks(rd_kafka_t *rk, topic_row *r, int64_t *low, int64_t *high, int timeout_ms) {
    *low = *high = 0;
    for (int p = 0; p < r->partitions; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, r->name, p, &lo, &hi,
                                                                 timeout_ms);
        if (e) {
            fprintf(stderr, "ketenhub: offsets of %s [%d]: %s\n", r->name, p, rd_kafka_err2str(e));
            return -1;
        }
        *low += lo;
        *high += hi;
    }
    return 0;
}

/* retention.ms of every row, when the broker answers DescribeConfigs. */
static void retention(rd_kafka_t *rk, topic_row *rows, size_t n, int timeout_ms) {
    rd_kafka_ConfigResource_t *res[CLI_MAX_TOPICS];
    for (size_t i = 0; i < n; i++) {
        snprintf(rows[i].retention, sizeof rows[i].retention, "-");
        res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, rows[i].name);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, NULL, 0);
    rd_kafka_DescribeConfigs(rk, res, n, o, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 500);
    const rd_kafka_DescribeConfigs_result_t *r = ev ? rd_kafka_event_DescribeConfigs_result(ev)
                                                    : NULL;
    size_t cnt = 0;
    const rd_kafka_ConfigResource_t **out = r ? rd_kafka_DescribeConfigs_result_resources(r, &cnt)
                                              : NULL;
    for (size_t i = 0; i < cnt; i++) {
        size_t ne;
        const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(out[i], &ne);
        for (size_t k = 0; k < ne; k++)
            if (!strcmp(rd_kafka_ConfigEntry_name(entries[k]), "retention.ms") &&
                rd_kafka_ConfigEntry_value(entries[k]))
                for (size_t t = 0; t < n; t++)
                    if (!strcmp(rows[t].name, rd_kafka_ConfigResource_name(out[i])))
                        snprintf(rows[t].retention, sizeof rows[t].retention, "%s",
                                 rd_kafka_ConfigEntry_value(entries[k]));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy_array(res, n);
}

static void print_rows(const topic_row *rows, size_t n, double secs, int json) {
    if (!json)
        printf("%-36s %10s %12s %12s %12s %14s %10s\n", "topic", "partitions", "low", "high",
               "records", "retention.ms", "records/s");
    for (size_t i = 0; i < n; i++) {
        const topic_row *r = &rows[i];
        double rate = (double)(r->high2 - r->high) / secs;
        if (json) {
            json_t *j = json_pack("{s:s, s:i, s:I, s:I, s:I, s:s, s:f}", "topic", r->name,
                                  "partitions", r->partitions, "low", (json_int_t)r->low, "high",
                                  (json_int_t)r->high2, "records", (json_int_t)(r->high2 - r->low),
                                  "retention_ms", r->retention, "rate", rate);
            char *text = json_dumps(j, JSON_COMPACT);
            puts(text);
            free(text);
            json_decref(j);
        } else {
            printf("%-36s %10d %12lld %12lld %12lld %14s %10.1f\n", r->name, r->partitions,
                   (long long)r->low, (long long)r->high2, (long long)(r->high2 - r->low),
                   r->retention, rate);
        }
    }
}

static int run(cli_common *c, const kh_schemas *schemas, long long interval) {
    rd_kafka_t *rk = cli_reader(c->config);
    if (!rk)
        return 2;
    const char *names[CLI_MAX_TOPICS];
    size_t n = cli_topics(schemas, names);
    topic_row rows[CLI_MAX_TOPICS];
    int rc = 0;
    const char *prefix = kh_config_get(c->config, "topic.prefix", "");
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(rows[i].name, sizeof rows[i].name, "%s%s", prefix, names[i]);
        rows[i].partitions = cli_partitions(rk, rows[i].name, (int)c->timeout_ms);
        rc = rows[i].partitions < 0 ||
             watermarks(rk, &rows[i], &rows[i].low, &rows[i].high, (int)c->timeout_ms);
    }
    if (!rc) {
        usleep((useconds_t)(interval * 1000));
        for (size_t i = 0; i < n && !rc; i++) {
            int64_t lo;
            rc = watermarks(rk, &rows[i], &lo, &rows[i].high2, (int)c->timeout_ms);
        }
    }
    if (!rc) {
        retention(rk, rows, n, 2000);
        print_rows(rows, n, (double)interval / 1000.0, c->json);
    }
    rd_kafka_destroy(rk);
    return rc ? 2 : 0;
}

int cli_topics_main(int argc, char **argv, const kh_schemas *schemas) {
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 's'},
                                         {"timeout-ms", required_argument, NULL, 't'},
                                         {"interval-ms", required_argument, NULL, 'i'},
                                         {NULL, 0, NULL, 0}};
    cli_common c = {.config = kh_config_new(), .timeout_ms = 10000};
    long long interval = 1000;
    int opt, rc = 0;
    kh_log_setup("cli", KH_LOG_ERROR, 2);
    optind = 1;
    while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int k = cli_common_option(&c, opt, optarg);
        if (k < 0)
            rc = 2;
        else if (k == 0 && opt == 'i' && (interval = atoll(optarg)) <= 0)
            rc = cli_usage_error("--interval-ms wants a positive number");
        else if (k == 0 && opt != 'i')
            rc = cli_usage_error("topics: see ketenhub --help");
    }
    if (rc == 0 && optind < argc)
        rc = cli_usage_error("topics takes no arguments ('%s')", argv[optind]);
    if (rc == 0)
        rc = run(&c, schemas, interval);
    kh_config_free(c.config);
    return rc;
}
