/*
 * lag — `ketenhub lag` (see lag.h). The committed offsets come from a
 * handle with the group's id that only asks (rd_kafka_committed: never
 * subscribes, never commits), so it works on Apache Kafka and on the
 * devbroker, which answers no admin requests. The lag in seconds is the
 * age of the record at the committed offset, read with a reader of its own.
 * The status compares two samples --interval-ms apart by the rules of
 * watch_lag.h: STALL when the committed offset did not move while there
 * was lag, WARN when the lag grew while committing, OK otherwise, UNKNOWN
 * when the group never committed, ERR when its offsets cannot be read.
 */
#include "lag.h"

#include "cli_kafka.h"
#include "kh_alloc.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_time.h"
#include "watch_lag.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GROUPS 8

const char *cli_lag_usage(void) {
    return "  lag [--group SERVICE=GROUP]... [--interval-ms N] [--json] [--config FILE]\n"
           "      [--set KEY=VALUE] [--timeout-ms N]\n"
           "      Per consumer group (default route=ketenhub-route and push=ketenhub-push) and\n"
           "      partition it has committed on: committed offset, high offset, lag in records "
           "and\n"
           "      in seconds (the age of the oldest unconsumed record), and the group's status\n"
           "      OK / WARN (lag growing) / STALL (committed offset not moving while lag > 0) /\n"
           "      ERR (offsets unreadable) / UNKNOWN (never committed; on the devbroker also a\n"
           "      transactional group such as route), from two samples --interval-ms apart\n"
           "      (default 2000). Exit status 1 when a group is STALL or ERR.\n";
}

typedef struct part {
    const char *topic;
    int partition;
    int64_t committed, high, age_ms;
} part;

typedef struct group {
    char service[32], id[128];
    part parts[CLI_MAX_TOPICS * CLI_MAX_PARTITIONS];
    int nparts, error;
    int64_t sums[2][2]; /* [sample][committed, lag] */
} group;

typedef struct lag_run {
    cli_common c;
    group groups[MAX_GROUPS];
    int ngroups;
    long long interval;
    char topics[CLI_MAX_TOPICS][256];
    int partitions[CLI_MAX_TOPICS];
    size_t ntopics;
    rd_kafka_t *reader;
} lag_run;

/* The timestamp of the record at topic/partition/offset; -1 when unread. */
static int64_t ts_at(rd_kafka_t *rk, const char *topic, int partition, int64_t offset,
                     int timeout_ms) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t ts = -1;
    for (int64_t until = kh_now_millis() + timeout_ms; ts < 0 && kh_now_millis() < until;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m && !m->err && m->offset >= offset)
            ts = rd_kafka_message_timestamp(m, NULL);
        else if (m && m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            until = 0;
        if (m)
            rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(rk, NULL);
    return ts;
}

/* One sample of group g: committed offsets and high watermarks. */
static void sample(lag_run *r, group *g, int k, int with_age) {
    char err[512];
    rd_kafka_t *h = kh_kafka_consumer_new(r->c.config, g->id, NULL, NULL, err, sizeof err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(32);
    for (size_t t = 0; t < r->ntopics; t++)
        for (int p = 0; p < r->partitions[t]; p++)
            rd_kafka_topic_partition_list_add(l, r->topics[t], p);
    g->error = !h || rd_kafka_committed(h, l, (int)r->c.timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR;
    g->nparts = 0;
    g->sums[k][0] = g->sums[k][1] = 0;
    for (int i = 0; i < l->cnt && !g->error; i++) {
        rd_kafka_topic_partition_t *x = &l->elems[i];
        int64_t lo, hi;
        if (x->err || x->offset < 0 ||
            rd_kafka_query_watermark_offsets(r->reader, x->topic, x->partition, &lo, &hi,
                                             (int)r->c.timeout_ms))
            continue;
        part *p = &g->parts[g->nparts++];
        *p = (part){NULL, x->partition, x->offset, hi, 0};
        for (size_t t = 0; t < r->ntopics; t++)
            if (!strcmp(r->topics[t], x->topic))
                p->topic = r->topics[t];
        int64_t ts = with_age && hi > x->offset
                         ? ts_at(r->reader, x->topic, x->partition, x->offset, 3000)
                         : -1;
        p->age_ms = ts >= 0 ? kh_now_millis() - ts : 0;
        g->sums[k][0] += x->offset;
        g->sums[k][1] += hi - x->offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (h)
        rd_kafka_destroy(h);
}

static watch_status status_of(const group *g) {
    watch_window w;
    watch_window_init(&w, 2);
    watch_window_add(&w, g->sums[0][0], g->sums[0][1]);
    watch_window_add(&w, g->sums[1][0], g->sums[1][1]);
    int64_t oldest = 0;
    for (int i = 0; i < g->nparts; i++)
        oldest = g->parts[i].age_ms > oldest ? g->parts[i].age_ms : oldest;
    return watch_window_status(&w, g->error, g->nparts > 0, oldest, INT64_MAX);
}

static void print_group(const lag_run *r, const group *g, watch_status s) {
    int64_t lag = g->sums[1][1];
    if (r->c.json) {
        json_t *parts = json_array();
        for (int i = 0; i < g->nparts; i++) {
            const part *p = &g->parts[i];
            json_array_append_new(parts,
                                  json_pack("{s:s, s:i, s:I, s:I, s:I, s:f}", "topic", p->topic,
                                            "partition", p->partition, "committed",
                                            (json_int_t)p->committed, "high", (json_int_t)p->high,
                                            "lag", (json_int_t)(p->high - p->committed),
                                            "lag_seconds", (double)p->age_ms / 1000.0));
        }
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:o}", "service", g->service, "group", g->id,
                              "status", watch_status_name(s), "lag", (json_int_t)lag, "partitions",
                              parts);
        char *text = json_dumps(j, JSON_COMPACT);
        puts(text);
        free(text);
        json_decref(j);
        return;
    }
    printf("%s (%s): %s, lag %lld\n", g->service, g->id, watch_status_name(s), (long long)lag);
    for (int i = 0; i < g->nparts; i++) {
        const part *p = &g->parts[i];
        printf("  %-36s %3d  committed %10lld  high %10lld  lag %8lld  %8.1f s\n", p->topic,
               p->partition, (long long)p->committed, (long long)p->high,
               (long long)(p->high - p->committed), (double)p->age_ms / 1000.0);
    }
}

static int run(lag_run *r, const kh_schemas *schemas) {
    const char *names[CLI_MAX_TOPICS];
    r->ntopics = cli_topics(schemas, names);
    if (!(r->reader = cli_reader(r->c.config)))
        return 2;
    int rc = 0;
    for (size_t t = 0; t < r->ntopics && !rc; t++) {
        snprintf(r->topics[t], sizeof r->topics[t], "%s%s",
                 kh_config_get(r->c.config, "topic.prefix", ""), names[t]);
        rc = (r->partitions[t] = cli_partitions(r->reader, r->topics[t], (int)r->c.timeout_ms)) < 0
                 ? 2
                 : 0;
    }
    for (int g = 0; g < r->ngroups && !rc; g++)
        sample(r, &r->groups[g], 0, 0);
    if (!rc)
        usleep((useconds_t)(r->interval * 1000));
    for (int g = 0; g < r->ngroups && !rc; g++) {
        sample(r, &r->groups[g], 1, 1);
        watch_status s = status_of(&r->groups[g]);
        print_group(r, &r->groups[g], s);
        if (s == WATCH_STALL || s == WATCH_ERR)
            rc = 1;
    }
    rd_kafka_consumer_close(r->reader);
    rd_kafka_destroy(r->reader);
    return rc;
}

static int add_group(lag_run *r, const char *spec) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1] || r->ngroups >= MAX_GROUPS)
        return fprintf(
                   stderr,
                   "ketenhub: --group wants SERVICE=GROUP, e.g. push=ketenhub-push (at most 8)\n"),
               -1;
    group *g = &r->groups[r->ngroups++];
    snprintf(g->service, sizeof g->service, "%.*s", (int)(eq - spec), spec);
    snprintf(g->id, sizeof g->id, "%s", eq + 1);
    return 0;
}

int cli_lag_main(int argc, char **argv, const kh_schemas *schemas) {
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 's'},
                                         {"timeout-ms", required_argument, NULL, 't'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"interval-ms", required_argument, NULL, 'i'},
                                         {NULL, 0, NULL, 0}};
    lag_run *rp = kh_calloc(1, sizeof *rp); /* 160 KB: not on the stack */
    rp->c = (cli_common){.config = kh_config_new(), .timeout_ms = 10000};
    rp->interval = 2000;
    int opt, rc = 0;
    kh_log_setup("cli", KH_LOG_ERROR, 2);
    optind = 1;
    while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int k = cli_common_option(&rp->c, opt, optarg);
        if (k < 0 || (k == 0 && opt == 'g' && add_group(rp, optarg)))
            rc = 2;
        else if (k == 0 && opt == 'i' && (rp->interval = atoll(optarg)) <= 0)
            rc = cli_usage_error("--interval-ms wants a positive number");
        else if (k == 0 && opt != 'g' && opt != 'i')
            rc = cli_usage_error("lag: see ketenhub --help");
    }
    if (rc == 0 && optind < argc)
        rc = cli_usage_error("lag takes no arguments ('%s')", argv[optind]);
    if (rc == 0 && rp->ngroups == 0) {
        add_group(rp, "route=ketenhub-route");
        add_group(rp, "push=ketenhub-push");
    }
    if (rc == 0)
        rc = run(rp, schemas);
    kh_config_free(rp->c.config);
    free(rp);
    return rc;
}
