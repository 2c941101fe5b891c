/*
 * termijn_harness — shared helpers of the termijn service tests.
 */
#include "termijn_harness.h"

#include "kh_codec.h"
#include "kh_kafka.h"
#include "kh_pseudo.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const topics[] = {"ketenhub.aanmelding.v1",   "ketenhub.tlv.v1",
                                     "ketenhub.beschikking.v1",  "ketenhub.verwijzing.v1",
                                     "ketenhub.grensverkeer.v1", "ketenhub.deadletter.v1",
                                     "ketenhub.termijn.state.v1"};

const char *th_topic(const char *prefix, const char *topic, int slot) {
    static char buf[8][256];
    snprintf(buf[slot], sizeof buf[slot], "%s%s", prefix, topic);
    return buf[slot];
}

void th_create_topics(const char *bootstrap, const char *prefix, int partitions) {
    for (size_t i = 0; i < sizeof topics / sizeof *topics; i++)
        kh_test_create_topic(bootstrap, th_topic(prefix, topics[i], 0), partitions);
}

void th_set_clock(const char *file, const char *ts) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", ts);
    fclose(f);
    ck_assert_int_eq(rename(tmp, file), 0); /* the service never sees half a file */
}

/* Produces one record and waits until it is acknowledged (the producer
 * has no delivery callback, so flush and an empty queue say so). */
static void produce_raw(rd_kafka_t *p, const char *topic, const char *key, const void *v,
                        size_t len) {
    rd_kafka_resp_err_t e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                              RD_KAFKA_V_KEY(key, strlen(key)),
                                              RD_KAFKA_V_VALUE((void *)v, len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                              RD_KAFKA_V_END);
    ck_assert_msg(e == 0, "produce: %s", rd_kafka_err2str(e));
    rd_kafka_flush(p, 60000);
    ck_assert_int_eq(rd_kafka_outq_len(p), 0);
}

void th_produce(rd_kafka_t *p, const char *prefix, const char *type, const char *json) {
    static kh_schemas *schemas;
    char err[512], topic[128], key[65];
    kh_problems probs;
    avro_value_t v;
    char *wire;
    size_t len;
    if (!schemas)
        ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "%s", err);
    const kh_schema *s = kh_schemas_by_name(schemas, type);
    kh_problems_init(&probs);
    json_t *j = kh_codec_parse(json, strlen(json), &probs);
    ck_assert_msg(j && kh_schema_new_value(s, &v) == 0, "bad test event %s", json);
    ck_assert_msg(kh_codec_from_json(s, j, &v, &probs) == 0, "test event does not fit: %s",
                  kh_problems_format(&probs, err, sizeof err));
    ck_assert_int_eq(kh_codec_encode(s, &v, &wire, &len, err, sizeof err), 0);
    const char *bsn = json_string_value(json_object_get(json_object_get(j, "jeugdige"), "bsn"));
    ck_assert_int_eq(kh_pseudo_bsn((const unsigned char *)"termijn-test-secret", 19, bsn, key), 0);
    snprintf(topic, sizeof topic, "%sketenhub.%s.v1", prefix, type);
    produce_raw(p, topic, key, wire, len);
    free(wire);
    avro_value_decref(&v);
    json_decref(j);
}

void th_produce_poison(rd_kafka_t *p, const char *prefix) {
    produce_raw(p, th_topic(prefix, "ketenhub.aanmelding.v1", 7), "poison", "\x01garbage", 8);
}

pid_t th_start(const char *bootstrap, const char *prefix, const char *clock_file, int port,
               const char *log, const char *const *extra) {
    static char sets[8][300];
    const char *argv[40];
    int a = 0, s = 0;
    argv[a++] = kh_test_bin("ketenhub-termijn");
#define SET(...)                                        \
    do {                                                \
        snprintf(sets[s], sizeof sets[s], __VA_ARGS__); \
        argv[a++] = "--set";                            \
        argv[a++] = sets[s++];                          \
    } while (0)
    SET("kafka.bootstrap.servers=%s", bootstrap);
    SET("topic.prefix=%s", prefix);
    SET("group.id=%stermijn", prefix);
    SET("termijn.instance=%s1", prefix);
    SET("ops.listen=127.0.0.1:%d", port);
    SET("termijn.clock.file=%s", clock_file);
    SET("termijn.tick.ms=100");
    SET("kafka.session.timeout.ms=6000");
#undef SET
    for (size_t i = 0; extra && extra[i] && a < 38; i++) {
        argv[a++] = "--set";
        argv[a++] = extra[i];
    }
    argv[a] = NULL;
    return kh_test_spawn(argv, NULL, log);
}

double th_metric(int port, const char *name) {
    char *body = NULL;
    if (kh_test_http(port, "GET", "/metrics", &body) != 200) {
        free(body);
        return -1;
    }
    double sum = 0;
    size_t n = strlen(name);
    for (char *line = body; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, name, n) && (line[n] == ' ' || line[n] == '{'))
            sum += strtod(strchr(line + n, ' ') + 1, NULL);
    free(body);
    return sum;
}

void th_wait_metric(int port, const char *name, double want, int timeout_ms) {
    double got = -1;
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if ((got = th_metric(port, name)) >= want)
            return;
        th_sleep_ms(100);
    }
    ck_abort_msg("%s reached %g, expected %g within %d ms", name, got, want, timeout_ms);
}

typedef struct reading {
    th_melding *out;
    size_t cap, n;
} reading;

static const char *get(json_t *o, const char *a, const char *b) {
    json_t *v = json_object_get(o, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

static void on_melding(const rd_kafka_message_t *m, void *ud) {
    static kh_schemas *schemas;
    reading *r = ud;
    char err[512], hdr[64], key[16];
    const kh_schema *which;
    avro_value_t v;
    if (!schemas)
        ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(kh_codec_decode(schemas, m->payload, m->len, &which, &v, err, sizeof err),
                     KH_DECODE_OK);
    json_t *j = kh_codec_to_json(which, &v, err, sizeof err);
    avro_value_decref(&v);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(kh_kafka_header_get((rd_kafka_message_t *)m, "melding-id", hdr, sizeof hdr),
                     0);
    ck_assert_str_eq(hdr, get(j, "melding_id", NULL));
    snprintf(key, sizeof key, "%.*s", (int)m->key_len, (const char *)m->key);
    ck_assert_str_eq(key, get(j, "ontvanger", "code"));
    ck_assert_ptr_nonnull(json_object_get(j, "termijn"));
    if (r->n < r->cap) {
        th_melding *t = &r->out[r->n];
        memset(t, 0, sizeof *t);
        snprintf(t->id, sizeof t->id, "%s", get(j, "melding_id", NULL));
        snprintf(t->regel, sizeof t->regel, "%s", get(j, "regel", NULL));
        snprintf(t->ontvanger, sizeof t->ontvanger, "%s:%s", get(j, "ontvanger", "type"),
                 get(j, "ontvanger", "code"));
        const char *a = get(j, "termijn", "achterhaalt");
        snprintf(t->achterhaalt, sizeof t->achterhaalt, "%s", a ? a : "");
        snprintf(t->vervaldatum, sizeof t->vervaldatum, "%s", get(j, "termijn", "vervaldatum"));
    }
    r->n++;
    json_decref(j);
}

size_t th_read_meldingen(const char *bootstrap, const char *prefix, size_t expect, th_melding *out,
                         size_t cap) {
    reading r = {out, cap, 0};
    kh_test_read_topic_expect(bootstrap, th_topic(prefix, "ketenhub.grensverkeer.v1", 6), expect,
                              3000, 120000, on_melding, &r);
    return r.n;
}

size_t th_count(const th_melding *out, size_t n, const char *regel, const char *ontvanger,
                int achterhaald) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += !strcmp(out[i].regel, regel) && (!ontvanger || !strcmp(out[i].ontvanger, ontvanger)) &&
             (out[i].achterhaalt[0] != 0) == achterhaald;
    return c;
}

void th_expect_unique(const th_melding *out, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(out[i].id, out[j].id) != 0, "melding %s repeated", out[i].id);
}

size_t th_distinct(th_melding *out, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < k && strcmp(out[j].id, out[i].id) != 0)
            j++;
        if (j < k) {
            ck_assert_str_eq(out[j].regel, out[i].regel);
            ck_assert_str_eq(out[j].ontvanger, out[i].ontvanger);
            continue;
        }
        out[k++] = out[i];
    }
    return k;
}

void th_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}
