/*
 * deadletters — `ketenhub deadletters list | replay`: read
 * ketenhub.deadletter.v1 from start to end, print what failed (never the
 * record itself), and hand failed deliveries back to ketenhub-push through
 * its retry topic, each for its own partner only.
 */
#include "deadletters.h"

#include "kh_codec.h"
#include "kh_config.h"
#include "kh_deadletter.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_orgid.h"
#include "kh_retry.h"
#include "kh_schema.h"
#include "kh_time.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_deadletters_usage(void) {
    return "  deadletters list [--partner TYPE:CODE] [--reason CODE] [--since TIME] [--json]\n"
           "                   [--config FILE] [--set KEY=VALUE] [--timeout-ms N]\n"
           "      Print the dead letters on ketenhub.deadletter.v1, one per line, tab-separated:\n"
           "      the dead letter's partition:offset, failed_at, reason code, service, partner\n"
           "      (TYPE:CODE or -), origin topic:partition:offset, the melding or event id (or "
           "-),\n"
           "      and the reason. Never the record itself. --json: one JSON object per line.\n"
           "  deadletters replay (--all | --partner TYPE:CODE) [--reason CODE] [--since TIME]\n"
           "                   [--dry-run] [--config FILE] [--set KEY=VALUE] [--timeout-ms N]\n"
           "      Hand failed deliveries (reasons DELIVERY_REJECTED, DELIVERY_EXPIRED,\n"
           "      NO_SUBSCRIPTION; others have no partner and are skipped) back to\n"
           "      ketenhub-push: each is written to ketenhub.push.retry.v1 for its own partner\n"
           "      only, due now, its age counted afresh. The partner gets the same webhook-id\n"
           "      as before, so it can drop what it already has. Prints each replayed dead\n"
           "      letter as `list` does, then \"replayed N\". --dry-run writes nothing.\n"
           "      Both read the whole topic, from its start to its end.\n"
           "      --partner TYPE:CODE  only dead letters for that partner\n"
           "      --reason CODE        only that reason code (BAD_MAGIC_BYTE ... NO_SUBSCRIPTION; "
           "an\n"
           "                           unknown one is an error that lists them)\n"
           "      --since TIME         only those that failed at or after TIME (RFC 3339)\n"
           "      --timeout-ms N       give up (exit 2) when reading takes longer (default 30000)\n"
           "      Kafka settings as for the services: --config FILE (key = value lines) and\n"
           "      --set KEY=VALUE, overridden by the environment "
           "(KETENHUB_KAFKA_BOOTSTRAP_SERVERS,\n"
           "      KETENHUB_TOPIC_PREFIX, ...); kafka.* keys go to librdkafka and topic.prefix\n"
           "      is prepended to both topic names.\n";
}

typedef struct dl_opts {
    int replay, all, json, dry_run;
    const char *partner, *reason;
    int64_t since_ms;
    long long timeout_ms;
    kh_config *config;
    const kh_schemas *schemas;
    rd_kafka_t *producer;
    char retry_topic[256];
    int replayed, failed;
} dl_opts;

/* --reason names no reason: say which there are. */
static void dl_bad_reason(const char *reason) {
    fprintf(stderr, "ketenhub: unknown --reason '%s'; the reasons are:\n", reason);
    for (int r = 0; r < KH_DL_REASONS; r++) {
        const kh_dl_reason_desc *d = kh_dl_reason_desc_of((kh_dl_reason)r);
        fprintf(stderr, "  %-24s %s\n", d->name, d->meaning);
    }
}

static int dl_parse(int argc, char **argv, dl_opts *o) {
    static const struct option opts[] = {{"partner", required_argument, NULL, 'p'},
                                         {"reason", required_argument, NULL, 'R'},
                                         {"since", required_argument, NULL, 'S'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 's'},
                                         {"timeout-ms", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    char err[512];
    int opt;
    if (argc < 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "replay") != 0))
        return fprintf(stderr, "ketenhub: deadletters list|replay; see --help\n"), -1;
    o->replay = strcmp(argv[1], "replay") == 0;
    o->timeout_ms = 30000;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "c:s:", opts, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case 'p': o->partner = optarg; break;
        case 'R': o->reason = optarg; break;
        case 'j': o->json = 1; break;
        case 'a': o->all = 1; break;
        case 'n': o->dry_run = 1; break;
        case 'S':
            if (kh_ts_parse(optarg, &o->since_ms))
                return fprintf(stderr, "ketenhub: --since wants an RFC 3339 time\n"), -1;
            break;
        case 't': o->timeout_ms = atoll(optarg); break;
        case 'c': rc = kh_config_load_file(o->config, optarg, err, sizeof err); break;
        case 's': rc = kh_config_set_arg(o->config, optarg, err, sizeof err); break;
        default: return fprintf(stderr, "ketenhub: see --help\n"), -1;
        }
        if (rc)
            return fprintf(stderr, "ketenhub: %s\n", err), -1;
    }
    if (optind < argc)
        return fprintf(stderr, "ketenhub: unexpected argument '%s'\n", argv[optind]), -1;
    if (o->replay && o->all == (o->partner != NULL))
        return fprintf(stderr, "ketenhub: deadletters replay needs --all or --partner TYPE:CODE\n"),
               -1;
    char type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN];
    if (o->partner && kh_orgid_split(o->partner, type, code))
        return fprintf(stderr, "ketenhub: --partner wants TYPE:CODE, e.g. GEMEENTE:GM0599\n"), -1;
    if (o->reason && kh_dl_reason_by_name(o->reason) < 0)
        return dl_bad_reason(o->reason), -1;
    if (o->timeout_ms <= 0)
        return fprintf(stderr, "ketenhub: --timeout-ms wants a positive number\n"), -1;
    return 0;
}

/* The melding_id or event_id of the original record, into id ("-" if none). */
static void dl_origin_id(const kh_schemas *all, const unsigned char *v, size_t len, char *id,
                         size_t idlen) {
    const kh_schema *s;
    avro_value_t val;
    char err[256];
    snprintf(id, idlen, "-");
    if (!v || kh_codec_decode(all, v, len, &s, &val, err, sizeof err) != KH_DECODE_OK)
        return;
    json_t *j = kh_codec_to_json(s, &val, err, sizeof err);
    const char *x = json_string_value(json_object_get(j, "melding_id"));
    if (!x)
        x = json_string_value(json_object_get(json_object_get(j, "envelope"), "event_id"));
    if (x)
        snprintf(id, idlen, "%s", x);
    json_decref(j);
    avro_value_decref(&val);
}

static int dl_replayable(const char *reason_code) {
    int r = kh_dl_reason_by_name(reason_code);
    return r >= 0 && kh_dl_reason_is_delivery((kh_dl_reason)r);
}

static void dl_print(const dl_opts *o, const rd_kafka_message_t *m, const json_t *d,
                     const char *partner, const char *id) {
    const char *s = NULL;
    if (o->json) {
        json_t *line = json_pack("{s:i, s:I, s:O, s:O, s:O, s:s?, s:O, s:O, s:O, s:s, s:O}",
                                 "partition", (int)m->partition, "offset", (json_int_t)m->offset,
                                 "failed_at", json_object_get(d, "failed_at"), "reason_code",
                                 json_object_get(d, "reason_code"), "service",
                                 json_object_get(d, "service"), "ontvanger", partner,
                                 "origin_topic", json_object_get(d, "origin_topic"),
                                 "origin_partition", json_object_get(d, "origin_partition"),
                                 "origin_offset", json_object_get(d, "origin_offset"), "id", id,
                                 "reason", json_object_get(d, "reason"));
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text)
            puts(text);
        free(text);
        json_decref(line);
        return;
    }
    printf("%d:%lld\t%s\t%s\t%s\t%s\t%s:%lld:%lld\t%s\t%s\n", (int)m->partition,
           (long long)m->offset, json_string_value(json_object_get(d, "failed_at")),
           json_string_value(json_object_get(d, "reason_code")),
           json_string_value(json_object_get(d, "service")), partner ? partner : "-",
           json_string_value(json_object_get(d, "origin_topic")),
           (long long)json_integer_value(json_object_get(d, "origin_partition")),
           (long long)json_integer_value(json_object_get(d, "origin_offset")), id,
           (s = json_string_value(json_object_get(d, "reason"))) ? s : "");
}

/* Writes one dead letter back to the retry topic of ketenhub-push. */
static void dl_replay(dl_opts *o, const json_t *d, const char *partner, const unsigned char *key,
                      size_t keylen, const unsigned char *value, size_t len) {
    kh_retry r;
    kh_retry_for_deadletter(d, partner, kh_now_millis(), &r);
    rd_kafka_headers_t *h = kh_retry_headers(&r, key, keylen);
    const char *k = kh_retry_key(partner);
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(o->producer, RD_KAFKA_V_TOPIC(o->retry_topic),
                                  RD_KAFKA_V_KEY(k, strlen(k)),
                                  RD_KAFKA_V_VALUE((void *)value, len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                                  RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(o->producer, 100);
    if (e) {
        rd_kafka_headers_destroy(h);
        fprintf(stderr, "ketenhub: cannot write to %s: %s\n", o->retry_topic, rd_kafka_err2str(e));
        o->failed++;
        return;
    }
    o->replayed++;
}

static void dl_one(const rd_kafka_message_t *m, dl_opts *o) {
    const kh_schema *s;
    avro_value_t v;
    char err[256], partner[KH_ORGID_LEN] = "", id[64];
    if (kh_codec_decode(o->schemas, m->payload, m->len, &s, &v, err, sizeof err) != KH_DECODE_OK ||
        strcmp(kh_schema_name(s), "deadletter") != 0) {
        fprintf(stderr, "ketenhub: dead letter %d:%lld is not a DeadLetter record; skipped\n",
                (int)m->partition, (long long)m->offset);
        return;
    }
    json_t *d = kh_codec_to_json(s, &v, err, sizeof err);
    avro_value_decref(&v);
    const json_t *org = json_object_get(d, "ontvanger");
    if (org && kh_orgid_from_json(org, partner, sizeof partner))
        org = NULL;
    const char *reason = json_string_value(json_object_get(d, "reason_code"));
    int64_t failed = 0;
    const char *ov = json_string_value(json_object_get(d, "origin_value"));
    const char *ok = json_string_value(json_object_get(d, "origin_key"));
    kh_ts_parse(json_string_value(json_object_get(d, "failed_at")), &failed);
    if ((o->partner && strcmp(o->partner, partner) != 0) ||
        (o->reason && strcmp(o->reason, reason) != 0) || failed < o->since_ms ||
        (o->replay && (!org || !ov || !dl_replayable(reason)))) {
        json_decref(d);
        return;
    }
    size_t vlen = 0, klen = 0;
    unsigned char *value = ov ? kh_codec_base64_decode(ov, strlen(ov), &vlen) : NULL;
    unsigned char *key = ok ? kh_codec_base64_decode(ok, strlen(ok), &klen) : NULL;
    dl_origin_id(o->schemas, value, vlen, id, sizeof id);
    if (o->replay && !value) {
        fprintf(stderr, "ketenhub: dead letter %d:%lld has an unreadable origin_value; skipped\n",
                (int)m->partition, (long long)m->offset);
        o->failed++;
    } else {
        dl_print(o, m, d, org ? partner : NULL, id);
        if (o->replay && !o->dry_run)
            dl_replay(o, d, partner, key, klen, value, vlen);
        else if (o->replay)
            o->replayed++;
    }
    free(value);
    free(key);
    json_decref(d);
}

static int dl_eof_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)ud;
    return rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, errlen) == RD_KAFKA_CONF_OK
               ? 0
               : -1;
}

/* Partitions of topic (0 when it does not exist), or -1 on error. */
static int dl_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen) {
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 10000);
    rd_kafka_topic_destroy(t);
    if (e) {
        snprintf(err, errlen, "metadata of %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Reads the dead-letter topic from the start to its end, calling dl_one. */
static int dl_read(dl_opts *o, const char *topic, char *err, size_t errlen) {
    char group[64];
    snprintf(group, sizeof group, "ketenhub-cli-%ld", (long)getpid());
    rd_kafka_t *c = kh_kafka_consumer_new(o->config, group, dl_eof_hook, NULL, err, errlen);
    if (!c)
        return -1;
    int n = dl_partitions(c, topic, err, errlen), eofs = 0, rc = 0;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    if (n > 0)
        rd_kafka_assign(c, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int64_t deadline = kh_now_millis() + o->timeout_ms;
    while (n > 0 && eofs < n) {
        if (kh_now_millis() > deadline) {
            snprintf(err, errlen, "reading %s took longer than %lld ms", topic, o->timeout_ms);
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eofs++;
        else if (!m->err)
            dl_one(m, o);
        else
            fprintf(stderr, "ketenhub: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return n < 0 ? -1 : rc;
}

int cli_deadletters_main(int argc, char **argv, const kh_schemas *schemas) {
    dl_opts o = {.config = kh_config_new(), .schemas = schemas};
    char err[512], topic[256];
    int rc = dl_parse(argc, argv, &o) ? 2 : 0;
    const char *prefix = kh_config_get(o.config, "topic.prefix", "");
    snprintf(topic, sizeof topic, "%s%s", prefix, kh_schemas_topic(schemas, "deadletter"));
    snprintf(o.retry_topic, sizeof o.retry_topic, "%s%s", prefix, KH_RETRY_TOPIC);
    kh_log_setup("cli", KH_LOG_WARN, 2);
    if (rc == 0 && o.replay && !o.dry_run &&
        !(o.producer = kh_kafka_producer_new(o.config, NULL, NULL, err, sizeof err))) {
        fprintf(stderr, "ketenhub: %s\n", err);
        rc = 2;
    }
    if (rc == 0 && dl_read(&o, topic, err, sizeof err)) {
        fprintf(stderr, "ketenhub: %s\n", err);
        rc = 2;
    }
    if (o.producer) {
        if (rd_kafka_flush(o.producer, (int)o.timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "ketenhub: not every replayed dead letter was acknowledged by Kafka\n");
            o.failed++;
        }
        rd_kafka_destroy(o.producer);
    }
    if (rc == 0 && o.replay)
        printf("%s %d\n", o.dry_run ? "would replay" : "replayed", o.replayed);
    kh_config_free(o.config);
    return rc ? rc : o.failed ? 1 : 0;
}
