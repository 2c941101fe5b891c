/*
 * route_harness — streams, processes and read-back for the route service
 * tests.
 */
#include "route_harness.h"

#include "kh_alloc.h"
#include "kh_bsn.h"
#include "kh_codec.h"
#include "kh_event.h"
#include "kh_intake.h"
#include "kh_kafka.h"
#include "kh_orgid.h"
#include "kh_pseudo.h"
#include "kh_time.h"
#include "route_cases.h"
#include "testlib.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECRET "route-test-pseudonym-secret-0123456789"

void rh_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- ids ----------------------------------------------------------------- */

void rh_ids_add(rh_ids *ids, const char *id) {
    if (ids->n == ids->cap) {
        ids->cap = ids->cap ? ids->cap * 2 : 1024;
        ids->id = kh_realloc(ids->id, ids->cap * sizeof *ids->id);
    }
    snprintf(ids->id[ids->n++], 37, "%s", id);
}

void rh_ids_free(rh_ids *ids) {
    free(ids->id);
    memset(ids, 0, sizeof *ids);
}

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

void rh_ids_expect_equal(rh_ids *got, rh_ids *want) {
    qsort(got->id, got->n, sizeof *got->id, cmp_id);
    qsort(want->id, want->n, sizeof *want->id, cmp_id);
    size_t i = 0, j = 0, missing = 0, extra = 0, twice = 0;
    const char *first = NULL, *what = NULL;
    while (i < got->n || j < want->n) {
        int c = i == got->n ? 1 : j == want->n ? -1 : strcmp(got->id[i], want->id[j]);
        if (c == 0 && i + 1 < got->n && strcmp(got->id[i + 1], got->id[i]) == 0) {
            twice++;
            if (!first)
                first = got->id[i], what = "twice";
            i++;
            continue;
        }
        if (c == 0) {
            i++, j++;
        } else if (c < 0) {
            extra++;
            if (!first)
                first = got->id[i], what = "not expected";
            i++;
        } else {
            missing++;
            if (!first)
                first = want->id[j], what = "missing";
            j++;
        }
    }
    ck_assert_msg(!first,
                  "meldingen: %zu read, %zu expected; %zu missing, %zu unexpected, %zu "
                  "repeated; first: %s %s",
                  got->n, want->n, missing, extra, twice, first ? first : "", what ? what : "");
}

/* ---- producing ------------------------------------------------------------ */

static kh_schemas *schemas;
static kh_ref *ref;

static void load(void) {
    char err[512], dir[1024];
    if (schemas)
        return;
    snprintf(dir, sizeof dir, "%s/deploy/reference", kh_test_source_dir());
    ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(kh_ref_load(dir, &ref, err, sizeof err) == 0, "%s", err);
}

const char *rh_topic(const char *prefix, const char *topic, int slot) {
    static char names[4][256];
    snprintf(names[slot & 3], sizeof names[0], "%s%s", prefix, topic);
    return names[slot & 3];
}

void rh_bsn(size_t i, char out[10]) {
    for (unsigned long n = 100000000UL + i * 1009UL;; n++) {
        snprintf(out, 10, "%09lu", n);
        if (kh_bsn_valid(out))
            return;
    }
}

static void produce(rd_kafka_t *p, const char *topic, const char *key, const void *value,
                    size_t len, const char *event_type, const char *event_id, const char *bron) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_header_add(h, "event-type", -1, event_type, -1);
    rd_kafka_header_add(h, "event-id", -1, event_id, -1);
    rd_kafka_header_add(h, "bron", -1, bron, -1);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                                  RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                                                  RD_KAFKA_V_VALUE((void *)value, len),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                  RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p, 50);
            continue;
        }
        if (e)
            rd_kafka_headers_destroy(h);
        ck_assert_msg(e == 0, "produce to %s: %s", topic, rd_kafka_err2str(e));
        rd_kafka_poll(p, 0);
        return;
    }
}

static void flush_all(rd_kafka_t *p) {
    ck_assert_int_eq(rd_kafka_flush(p, 60000), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(rd_kafka_outq_len(p), 0);
}

/* The wire bytes of an event: intake for a good one, the codec alone for a
 * poison one (intake would refuse it). */
static char *encode(const route_case *c, json_t *ev, size_t *len) {
    const kh_event_type *t = kh_event_type_by_name(c->event);
    const kh_schema *s = kh_schemas_by_name(schemas, c->event);
    kh_problems p;
    char *wire = NULL, err[256], shown[512];
    kh_problems_init(&p);
    if (!c->poison) {
        ck_assert_msg(kh_intake_encode(schemas, t, ev, ref, kh_now_millis(), &wire, len, &p) == 0,
                      "case %s: %s", c->name, kh_problems_format(&p, shown, sizeof shown));
        return wire;
    }
    avro_value_t v;
    ck_assert_int_eq(kh_schema_new_value(s, &v), 0);
    ck_assert_int_eq(kh_codec_from_json(s, ev, &v, &p), 0);
    ck_assert_int_eq(kh_codec_encode(s, &v, &wire, len, err, sizeof err), 0);
    avro_value_decref(&v);
    return wire;
}

size_t rh_produce_cases(rd_kafka_t *p, const char *prefix, uint64_t first, size_t count,
                        size_t children, rh_ids *want) {
    char event_id[37], bsn[10], key[65], topic[256], bron[32], mid[37];
    size_t poison = 0;
    load();
    for (uint64_t n = first; n < first + count; n++) {
        const route_case *c = &route_cases[n % route_case_count];
        route_case_event_id(n, event_id);
        rh_bsn(n % children, bsn);
        ck_assert_int_eq(kh_pseudo_bsn((const unsigned char *)SECRET, strlen(SECRET), bsn, key), 0);
        json_t *ev = route_case_event(c, event_id, bsn);
        size_t len;
        char *wire = encode(c, ev, &len);
        json_t *b = json_object_get(json_object_get(ev, "envelope"), "bron");
        ck_assert_int_eq(kh_orgid_from_json(b, bron, sizeof bron), 0);
        snprintf(topic, sizeof topic, "%sketenhub.%s.v1", prefix, c->event);
        produce(p, topic, key, wire, len, c->event, event_id, bron);
        free(wire);
        json_decref(ev);
        poison += c->poison != NULL;
        for (size_t w = 0; want && w < route_case_want_count(c); w++) {
            route_case_melding_id(bron, event_id, c->want[w].regel, c->want[w].ontvanger, mid);
            rh_ids_add(want, mid);
        }
    }
    flush_all(p);
    return poison;
}

void rh_produce_raw_poison(const char *bootstrap, const char *prefix, rh_poison *out) {
    static const char bad_magic[] = "\x01\x00\x00\x03\xe9not avro";
    static const char unknown_id[] = "\x00\x00\x00\x01\xf4\x02";          /* schema id 500 */
    static const char undecodable[] = "\x00\x00\x00\x03\xe9\xff\xff\xff"; /* aanmelding, cut */
    char err[256], event_id[37];
    size_t len;
    load();
    /* kh_kafka_produce_sync needs a producer of kh_kafka's own. */
    kh_config *c = kh_config_new();
    ck_assert_int_eq(kh_config_set(c, "kafka.bootstrap.servers", bootstrap), 0);
    rd_kafka_t *p = kh_kafka_producer_new(c, NULL, NULL, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    /* A valid tlv, on the aanmelding topic. */
    const route_case *tlv = NULL;
    for (size_t i = 0; i < route_case_count && !tlv; i++)
        if (strcmp(route_cases[i].event, "tlv") == 0 && !route_cases[i].poison)
            tlv = &route_cases[i];
    route_case_event_id(999999, event_id);
    json_t *ev = route_case_event(tlv, event_id, "111222333");
    char *wrong = encode(tlv, ev, &len);
    json_decref(ev);
    const void *values[RH_RAW_POISON] = {bad_magic, unknown_id, undecodable, wrong};
    size_t lens[RH_RAW_POISON] = {sizeof bad_magic - 1, sizeof unknown_id - 1,
                                  sizeof undecodable - 1, len};
    static const char *const reasons[RH_RAW_POISON] = {"BAD_MAGIC_BYTE", "UNKNOWN_SCHEMA_ID",
                                                       "UNDECODABLE", "UNKNOWN_SCHEMA_ID"};
    for (int i = 0; i < RH_RAW_POISON; i++) {
        out->reasons[i] = reasons[i];
        ck_assert_msg(kh_kafka_produce_sync(p, rh_topic(prefix, "ketenhub.aanmelding.v1", 0),
                                            "poison", 6, values[i], lens[i], NULL,
                                            &out->partitions[i], &out->offsets[i], err,
                                            sizeof err) == 0,
                      "%s", err);
    }
    free(wrong);
    rd_kafka_destroy(p);
    kh_config_free(c);
}

/* ---- the router ------------------------------------------------------------ */

pid_t rh_start_route(const char *bootstrap, const char *prefix, const char *group,
                     const char *instance, int port, const char *log, const char *const *extra) {
    static char sets[8][300];
    const char *argv[40];
    int a = 0, s = 0;
    argv[a++] = kh_test_bin("ketenhub-route");
#define SET(...)                                        \
    do {                                                \
        snprintf(sets[s], sizeof sets[s], __VA_ARGS__); \
        argv[a++] = "--set";                            \
        argv[a++] = sets[s++];                          \
    } while (0)
    SET("kafka.bootstrap.servers=%s", bootstrap);
    SET("topic.prefix=%s", prefix);
    SET("group.id=%s", group);
    SET("route.instance=%s", instance);
    SET("ops.listen=127.0.0.1:%d", port);
    /* A killed member must leave the group quickly, so its successor (or
     * the other instance) gets the partitions within seconds. */
    SET("kafka.session.timeout.ms=6000");
    SET("kafka.heartbeat.interval.ms=500");
#undef SET
    for (size_t i = 0; extra && extra[i] && a < 38; i++) {
        argv[a++] = "--set";
        argv[a++] = extra[i];
    }
    argv[a] = NULL;
    return kh_test_spawn(argv, NULL, log);
}

double rh_metric(int port, const char *name) {
    char *text = NULL;
    if (kh_test_http(port, "GET", "/metrics", &text) != 200 || !text) {
        free(text);
        return -1;
    }
    double sum = 0;
    size_t nlen = strlen(name);
    for (char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, name, nlen) == 0 && (line[nlen] == '{' || line[nlen] == ' ')) {
            char *sp = strchr(line, ' ');
            if (line[nlen] == '{')
                sp = strchr(strchr(line, '}'), ' ');
            sum += strtod(sp, NULL);
        }
    free(text);
    return sum;
}

/* ---- offsets and read-back ------------------------------------------------- */

static const char *const event_topics[] = {"ketenhub.aanmelding.v1", "ketenhub.tlv.v1",
                                           "ketenhub.beschikking.v1", "ketenhub.verwijzing.v1"};

int rh_caught_up(const char *bootstrap, const char *prefix, const char *group) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    ck_assert_msg(rk != NULL, "%s", err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(32);
    for (int t = 0; t < 4; t++) {
        const char *topic = rh_topic(prefix, event_topics[t], t);
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == 0) {
            for (int i = 0; md->topic_cnt == 1 && i < md->topics[0].partition_cnt; i++)
                rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id);
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
    }
    int done = l->cnt > 0 && rd_kafka_committed(rk, l, 10000) == 0;
    for (int i = 0; done && i < l->cnt; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, l->elems[i].topic, l->elems[i].partition, &lo, &hi,
                                             5000) ||
            (hi > 0 && l->elems[i].offset < hi))
            done = 0;
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return done;
}

void rh_wait_caught_up(const char *bootstrap, const char *prefix, const char *group,
                       int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 500) {
        if (rh_caught_up(bootstrap, prefix, group))
            return;
        rh_sleep_ms(500);
    }
    ck_abort_msg("group %s did not commit to the end of its input within %d ms", group, timeout_ms);
}

typedef struct reading {
    rh_ids *got;
    size_t bad;
    char first_bad[400];
} reading;

static void on_melding(const rd_kafka_message_t *m, void *ud) {
    reading *r = ud;
    char err[256], hdr[64], to[40];
    const kh_schema *which;
    avro_value_t v;
    if (kh_codec_decode(schemas, m->payload, m->len, &which, &v, err, sizeof err) != KH_DECODE_OK) {
        if (!r->bad++)
            snprintf(r->first_bad, sizeof r->first_bad, "undecodable melding: %s", err);
        return;
    }
    json_t *j = kh_codec_to_json(which, &v, err, sizeof err);
    avro_value_decref(&v);
    const char *id = json_string_value(json_object_get(j, "melding_id"));
    json_t *o = json_object_get(j, "ontvanger");
    const char *code = json_string_value(json_object_get(o, "code"));
    kh_orgid_from_json(o, to, sizeof to);
    const char *why = NULL;
    rd_kafka_message_t *mm = (rd_kafka_message_t *)m;
    if (!id || strcmp(kh_schema_name(which), "melding") != 0)
        why = "not a melding";
    else if (m->key_len != strlen(code) || memcmp(m->key, code, m->key_len) != 0)
        why = "key is not the recipient's code";
    else if (kh_kafka_header_get(mm, "event-type", hdr, sizeof hdr) || strcmp(hdr, "melding"))
        why = "event-type header";
    else if (kh_kafka_header_get(mm, "melding-id", hdr, sizeof hdr) || strcmp(hdr, id))
        why = "melding-id header";
    else if (kh_kafka_header_get(mm, "ontvanger", hdr, sizeof hdr) || strcmp(hdr, to))
        why = "ontvanger header";
    if (why && !r->bad++)
        snprintf(r->first_bad, sizeof r->first_bad, "melding %s: %s", id ? id : "?", why);
    if (id)
        rh_ids_add(r->got, id);
    json_decref(j);
}

size_t rh_read_meldingen(const char *bootstrap, const char *prefix, size_t expect, rh_ids *got) {
    reading r = {got, 0, ""};
    load();
    size_t n = kh_test_read_topic_expect(bootstrap, rh_topic(prefix, "ketenhub.grensverkeer.v1", 0),
                                         expect, 3000, 120000, on_melding, &r);
    ck_assert_msg(r.bad == 0, "%zu bad meldingen; first: %s", r.bad, r.first_bad);
    return n;
}

/* ---- the real broker down and up again ------------------------------------ */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    char *buf = kh_calloc(1, 65536);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

static void state_path(char *buf, size_t len, const char *name) {
    const char *state = getenv("KH_KAFKA_STATE");
    ck_assert_msg(state != NULL, "KH_KAFKA_STATE is not set: run under tests/with-kafka.sh");
    snprintf(buf, len, "%s/%s", state, name);
}

void rh_broker_find(rh_broker *b) {
    char pidfile[300], path[64];
    size_t len, n = 0;
    state_path(pidfile, sizeof pidfile, "pid");
    char *text = slurp(pidfile, &len);
    b->pid = (pid_t)atoi(text);
    free(text);
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)b->pid);
    b->cmdline = slurp(path, &len);
    b->argv = kh_calloc(len + 1, sizeof *b->argv);
    for (size_t i = 0; i < len; i += strlen(b->cmdline + i) + 1)
        b->argv[n++] = b->cmdline + i;
    ck_assert_msg(n > 2 && strstr(b->argv[n - 2], "kafka.Kafka"), "pid %d is not the broker",
                  (int)b->pid);
}

void rh_broker_kill(rh_broker *b) {
    ck_assert_int_eq(kill(b->pid, SIGKILL), 0);
    for (int i = 0; i < 100 && kill(b->pid, 0) == 0; i++)
        rh_sleep_ms(100);
    ck_assert_msg(kill(b->pid, 0) != 0, "the broker did not die");
}

/* Like kafka.sh: its own session, output appended to its log, and the pid
 * file updated so that with-kafka.sh stops the new process. */
void rh_broker_restart(rh_broker *b, const char *bootstrap) {
    char pidfile[300], logfile[300];
    state_path(pidfile, sizeof pidfile, "pid");
    state_path(logfile, sizeof logfile, "kafka.log");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setsid();
        int fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT, 0644),
            in = open("/dev/null", O_RDONLY);
        dup2(in, 0), dup2(fd, 1), dup2(fd, 2);
        execvp(b->argv[0], b->argv);
        _exit(127);
    }
    FILE *f = fopen(pidfile, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%d\n", (int)pid);
    fclose(f);
    b->pid = pid;
    rd_kafka_t *p = kh_test_producer(bootstrap);
    const rd_kafka_metadata_t *md = NULL;
    for (int waited = 0; rd_kafka_metadata(p, 0, NULL, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
                         md->broker_cnt < 1;
         waited += 500) {
        if (md)
            rd_kafka_metadata_destroy(md);
        md = NULL;
        ck_assert_msg(waited < 120000, "the restarted broker does not answer");
        rh_sleep_ms(500);
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(p);
}

void rh_broker_free(rh_broker *b) {
    free(b->argv);
    free(b->cmdline);
}
