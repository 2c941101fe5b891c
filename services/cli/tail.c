/*
 * tail — `ketenhub tail` (see tail.h). Reads with assigned partitions and
 * a group of its own that never commits, so it disturbs no service.
 * Masking is by field: every member called "bsn" becomes "*********", and
 * a dead letter's origin_key and origin_value (the original record, which
 * holds the child's data) are left out; --reveal keeps both and writes an
 * audit line first.
 */
#include "tail.h"

#include "cli_kafka.h"
#include "kh_codec.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_orgid.h"
#include "kh_time.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LAST_PER_PARTITION 10

const char *cli_tail_usage(void) {
    return "  tail <topic> [--follow] [--from-beginning] [--since TIME] [--partner TYPE:CODE]\n"
           "               [--regel RULE] [--reveal] [--json] [--config FILE] [--set KEY=VALUE]\n"
           "      The records of a topic (aanmelding, tlv, beschikking, verwijzing, grensverkeer,\n"
           "      deadletter, afleveringen, push.retry, or a full name) decoded, one JSON object\n"
           "      per line: {topic, partition, offset, timestamp, value}. Without "
           "--from-beginning\n"
           "      or --since: the last 10 records of each partition. Stops at the end unless\n"
           "      --follow. --since TIME (RFC 3339): only records written at or after TIME.\n"
           "      --partner TYPE:CODE: only records for or from that organisation (ontvanger of a\n"
           "      melding, aflevering or dead letter; bron of an event). --regel RULE: only\n"
           "      meldingen of that rule. The BSN is masked and a dead letter's original record\n"
           "      left out, unless --reveal, which first writes an audit line (who, when, topic)\n"
           "      to stderr and to $KETENHUB_AUDIT_LOG when set. Without --json the line is the\n"
           "      same JSON, indented for a terminal.\n";
}

typedef struct tail_opts {
    cli_common c;
    int follow, beginning, reveal;
    int64_t since_ms;
    const char *partner, *regel, *topic;
    const kh_schemas *schemas;
} tail_opts;

static void mask(json_t *j) {
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            if (!strcmp(k, "bsn") && json_is_string(v))
                json_object_set_new(j, k, json_string("*********"));
            else
                mask(v);
        }
        json_object_del(j, "origin_value");
        json_object_del(j, "origin_key");
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
            mask(v);
    }
}

/* Whether the decoded value passes --partner and --regel. */
static int wanted(const tail_opts *o, const json_t *v) {
    char org[48] = "";
    const char *regel = json_string_value(json_object_get(v, "regel"));
    if (o->regel && (!regel || strcmp(o->regel, regel) != 0))
        return 0;
    if (!o->partner)
        return 1;
    const json_t *who = json_object_get(v, "ontvanger");
    if (!who)
        who = json_object_get(json_object_get(v, "envelope"), "bron");
    return kh_orgid_from_json(who, org, sizeof org) == 0 && strcmp(org, o->partner) == 0;
}

static void print_record(const tail_opts *o, const rd_kafka_message_t *m) {
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    if (o->since_ms && ts < o->since_ms)
        return;
    const kh_schema *s;
    avro_value_t v;
    char err[256], tsbuf[KH_TS_LEN];
    json_t *value;
    if (kh_codec_decode(o->schemas, m->payload, m->len, &s, &v, err, sizeof err) == KH_DECODE_OK) {
        value = kh_codec_to_json(s, &v, err, sizeof err);
        avro_value_decref(&v);
    } else {
        value = json_pack("{s:s}", "undecodable", err);
    }
    if (!value || !wanted(o, value)) {
        json_decref(value);
        return;
    }
    if (!o->reveal)
        mask(value);
    json_t *line = json_pack("{s:s, s:i, s:I, s:s, s:o}", "topic", rd_kafka_topic_name(m->rkt),
                             "partition", (int)m->partition, "offset", (json_int_t)m->offset,
                             "timestamp", kh_ts_format(ts, tsbuf), "value", value);
    char *text = json_dumps(line, o->c.json ? JSON_COMPACT : JSON_INDENT(2));
    puts(text);
    fflush(stdout);
    free(text);
    json_decref(line);
}

/* Assigns every partition at its start: the beginning, or 10 before the end. */
static int assign(rd_kafka_t *rk, const tail_opts *o, int n) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++) {
        int64_t lo = 0, hi = 0;
        if (!o->beginning && !o->since_ms &&
            rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, (int)o->c.timeout_ms)) {
            fprintf(stderr, "ketenhub: cannot read the offsets of %s [%d]\n", o->topic, p);
            rd_kafka_topic_partition_list_destroy(parts);
            return -1;
        }
        int64_t from = hi - LAST_PER_PARTITION > lo ? hi - LAST_PER_PARTITION : lo;
        rd_kafka_topic_partition_list_add(parts, o->topic, p)->offset =
            o->beginning || o->since_ms ? RD_KAFKA_OFFSET_BEGINNING : from;
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    return 0;
}

static int run(tail_opts *o) {
    rd_kafka_t *rk = cli_reader(o->c.config);
    if (!rk)
        return 2;
    int n = cli_partitions(rk, o->topic, (int)o->c.timeout_ms), eofs = 0, rc = 0;
    if (n == 0)
        fprintf(stderr, "ketenhub: topic %s does not exist (yet)\n", o->topic);
    if (n <= 0 || assign(rk, o, n))
        rc = 2;
    while (!rc && (o->follow || eofs < n)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eofs++;
        else if (!m->err)
            print_record(o, m);
        else
            fprintf(stderr, "ketenhub: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* The audit line of --reveal, before anything is shown. */
static int audit(const tail_opts *o) {
    const char *user = getenv("USER") ? getenv("USER") : "unknown";
    char ts[KH_TS_LEN];
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:b}", "ts",
                             kh_ts_format(kh_now_millis(), ts), "event", "bsn-reveal", "user", user,
                             "topic", o->topic, "partner", o->partner, "regel", o->regel, "follow",
                             o->follow);
    char *text = json_dumps(line, JSON_COMPACT);
    json_decref(line);
    fprintf(stderr, "%s\n", text);
    const char *path = getenv("KETENHUB_AUDIT_LOG");
    FILE *f = path && *path ? fopen(path, "a") : NULL;
    int rc = 0;
    if (path && *path && (!f || fprintf(f, "%s\n", text) < 0)) {
        fprintf(stderr, "ketenhub: cannot write the audit log %s; nothing revealed\n", path);
        rc = -1;
    }
    if (f && fclose(f))
        rc = -1;
    free(text);
    return rc;
}

static int parse(int argc, char **argv, tail_opts *o) {
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 's'},
                                         {"timeout-ms", required_argument, NULL, 't'},
                                         {"follow", no_argument, NULL, 'f'},
                                         {"from-beginning", no_argument, NULL, 'b'},
                                         {"since", required_argument, NULL, 'S'},
                                         {"partner", required_argument, NULL, 'p'},
                                         {"regel", required_argument, NULL, 'r'},
                                         {"reveal", no_argument, NULL, 'R'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        int k = cli_common_option(&o->c, opt, optarg);
        if (k < 0)
            return -1;
        if (k)
            continue;
        switch (opt) {
        case 'f': o->follow = 1; break;
        case 'b': o->beginning = 1; break;
        case 'R': o->reveal = 1; break;
        case 'r': o->regel = optarg; break;
        case 'p':
            if (!strchr(optarg, ':'))
                return fprintf(stderr,
                               "ketenhub: --partner wants TYPE:CODE, e.g. GEMEENTE:GM0599\n"),
                       -1;
            o->partner = optarg;
            break;
        case 'S':
            if (kh_ts_parse(optarg, &o->since_ms))
                return fprintf(
                           stderr,
                           "ketenhub: --since wants an RFC 3339 time, e.g. 2026-03-01T08:00:00Z\n"),
                       -1;
            break;
        default: return fprintf(stderr, "ketenhub: tail: see ketenhub --help\n"), -1;
        }
    }
    if (argc - optind != 1)
        return fprintf(stderr, "ketenhub: tail wants one topic, e.g. ketenhub tail grensverkeer\n"),
               -1;
    return 0;
}

int cli_tail_main(int argc, char **argv, const kh_schemas *schemas) {
    tail_opts o = {.c = {.config = kh_config_new(), .timeout_ms = 10000}, .schemas = schemas};
    char topic[256];
    kh_log_setup("cli", KH_LOG_ERROR, 2);
    int rc = parse(argc, argv, &o) ? 2 : 0;
    if (rc == 0 && cli_topic_resolve(schemas, o.c.config, argv[optind], topic, sizeof topic))
        rc = 2;
    o.topic = topic;
    if (rc == 0 && o.reveal && audit(&o))
        rc = 2;
    if (rc == 0)
        rc = run(&o);
    kh_config_free(o.c.config);
    return rc;
}
