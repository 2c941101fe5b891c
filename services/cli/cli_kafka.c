/*
 * cli_kafka — the shared part of `ketenhub topics | tail | lag` (see
 * cli_kafka.h).
 */
#include "cli_kafka.h"

#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_retry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("ketenhub: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

int cli_common_option(cli_common *c, int opt, const char *arg) {
    char err[512];
    char *end;
    switch (opt) {
    case 'c':
        if (kh_config_load_file(c->config, arg, err, sizeof err))
            return fprintf(stderr, "ketenhub: %s\n", err), -1;
        return 1;
    case 's':
        if (kh_config_set_arg(c->config, arg, err, sizeof err))
            return fprintf(stderr, "ketenhub: %s\n", err), -1;
        return 1;
    case 'j': c->json = 1; return 1;
    case 't':
        c->timeout_ms = strtoll(arg, &end, 10);
        if (*end || c->timeout_ms <= 0)
            return fprintf(stderr,
                           "ketenhub: --timeout-ms wants a positive number of milliseconds\n"),
                   -1;
        return 1;
    default: return 0;
    }
}

size_t cli_topics(const kh_schemas *schemas, const char *names[CLI_MAX_TOPICS]) {
    size_t n = 0;
    for (size_t i = 0; i < kh_schemas_count(schemas) && n < CLI_MAX_TOPICS - 1; i++)
        names[n++] = kh_schema_topic(kh_schemas_at(schemas, i));
    names[n++] = KH_RETRY_TOPIC;
    return n;
}

/* "ketenhub.push.retry.v1" -> "push.retry" */
static void short_name(const char *topic, char *out, size_t len) {
    const char *s = strncmp(topic, "ketenhub.", 9) == 0 ? topic + 9 : topic;
    size_t n = strlen(s);
    if (n > 3 && strcmp(s + n - 3, ".v1") == 0)
        n -= 3;
    snprintf(out, len, "%.*s", (int)n, s);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cli_topic_resolve(const kh_schemas *schemas, const kh_config *c, const char *arg, char *full,
                      size_t len) {
    const char *names[CLI_MAX_TOPICS];
    size_t n = cli_topics(schemas, names);
    char s[64];
    for (size_t i = 0; i < n; i++) {
        short_name(names[i], s, sizeof s);
        if (!strcmp(arg, names[i]) || !strcmp(arg, s)) {
            snprintf(full, len, "%s%s", kh_config_get(c, "topic.prefix", ""), names[i]);
            return 0;
        }
    }
    /* Sorted, so the list reads the same whatever the schema ids are. */
    qsort(names, n, sizeof names[0], by_name);
    fprintf(stderr, "ketenhub: no ketenhub topic '%s'; one of:", arg);
    for (size_t i = 0; i < n; i++) {
        short_name(names[i], s, sizeof s);
        fprintf(stderr, " %s", s);
    }
    fprintf(stderr, " (or the full name)\n");
    return -1;
}

static int eof_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)ud;
    return rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, errlen) == RD_KAFKA_CONF_OK
               ? 0
               : -1;
}

rd_kafka_t *cli_reader(const kh_config *c) {
    char group[64], err[512];
    snprintf(group, sizeof group, "ketenhub-cli-%ld", (long)getpid());
    rd_kafka_t *rk = kh_kafka_consumer_new(c, group, eof_hook, NULL, err, sizeof err);
    if (!rk)
        fprintf(stderr, "ketenhub: %s\n", err);
    return rk;
}

int cli_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms) {
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
    rd_kafka_topic_destroy(t);
    if (e) {
        fprintf(stderr,
                "ketenhub: cannot reach Kafka for the metadata of %s (%s); check "
                "kafka.bootstrap.servers / KETENHUB_KAFKA_BOOTSTRAP_SERVERS\n",
                topic, rd_kafka_err2str(e));
        return -1;
    }
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    return n < CLI_MAX_PARTITIONS ? n : CLI_MAX_PARTITIONS;
}
