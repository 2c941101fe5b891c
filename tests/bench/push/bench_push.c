/*
 * bench_push — helpers of the push benchmark (tests/bench/push/run.sh):
 *
 *   bench_push fill --bootstrap B --topic T --partners N --per-partner C
 *                   [--extra TYPE:CODE=COUNT] [--partitions P] [--body-out FILE]
 *       Creates topic T (P partitions, default 8) and fills it with
 *       meldingen in the wire format, round robin over partners
 *       GEMEENTE:GM0100.. (N of them, C each) and, spread evenly among
 *       them, COUNT for the extra partner. --body-out writes the natural
 *       JSON of one melding: the body push sends, for wrk.
 *
 *   bench_push watch --port P --prefix /b --expect N [--timeout S]
 *       Polls kh-test-receiver's stats every 10 ms until the 2xx answers on
 *       paths starting with the prefix reach N; prints
 *       "<count> <seconds from the first to the last> <per second>".
 *       With KH_BENCH_TRACE=FILE set, writes "<seconds> <count>" to FILE at
 *       every change (where a run stalls).
 */
#include "kh_codec.h"
#include "kh_orgid.h"

#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what) {
    fprintf(stderr, "bench_push: %s\n", what);
    return 1;
}

static json_t *melding(int n, const char *ontvanger) {
    char id[37], type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN];
    snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", 0xbe4c4u, (unsigned)n);
    if (kh_orgid_split(ontvanger, type, code))
        return NULL;
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:i, s:i}, s:[{s:s, s:s, s:s, s:s},"
        " {s:s, s:s, s:s, s:s}], s:s, s:{s:s, s:s}, s:s, s:s}",
        "melding_id", id, "regel", "ONDERWIJS_BUITEN_WOONGEMEENTE", "ontvanger", "type", type,
        "code", code, "oorzaak", "event_type", "AANMELDING", "event_id", id, "topic",
        "ketenhub.aanmelding.v1", "partition", 0, "offset", n, "betrokkenen", "rol",
        "WOONPLAATSGEMEENTE", "type", "GEMEENTE", "code", "GM0502", "naam",
        "Capelle aan den IJssel", "rol", "SCHOOLGEMEENTE", "type", "GEMEENTE", "code", "GM0599",
        "naam", "Rotterdam", "peildatum", "2025-09-01", "jeugdige", "bsn", "999990111",
        "geboortedatum", "2014-05-01", "toelichting",
        "Leerling woont in Capelle aan den IJssel (GM0502) en is geplaatst op een school in "
        "Rotterdam (GM0599). Volgens het woonplaatsbeginsel is Capelle aan den IJssel "
        "verantwoordelijk voor individuele jeugdhulp; Rotterdam voert de regie op hulp op school.",
        "aangemaakt_op", "2025-09-01T08:00:00Z");
}

static void create_topic(rd_kafka_t *rk, const char *topic, int partitions) {
    char err[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
}

static int fill(int argc, char **argv) {
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 't'},
        {"partners", required_argument, NULL, 'n'},  {"per-partner", required_argument, NULL, 'c'},
        {"extra", required_argument, NULL, 'e'},     {"partitions", required_argument, NULL, 'p'},
        {"body-out", required_argument, NULL, 'o'},  {NULL, 0, NULL, 0}};
    const char *bootstrap = NULL, *topic = NULL, *extra = NULL, *body_out = NULL;
    int partners = 16, per = 1000, partitions = 8, opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 'n': partners = atoi(optarg); break;
        case 'c': per = atoi(optarg); break;
        case 'e': extra = optarg; break;
        case 'p': partitions = atoi(optarg); break;
        case 'o': body_out = optarg; break;
        default: return die("bad option");
        }
    }
    if (!bootstrap || !topic || partners < 1 || per < 1)
        return die("fill needs --bootstrap, --topic, --partners, --per-partner");
    char extra_org[32] = "", err[512];
    int extra_n = 0;
    if (extra && sscanf(extra, "%31[^=]=%d", extra_org, &extra_n) != 2)
        return die("--extra wants TYPE:CODE=COUNT");
    kh_schemas *schemas;
    if (kh_schemas_open(&schemas, err, sizeof err))
        return die(err);
    const kh_schema *s = kh_schemas_by_name(schemas, "melding");
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "20", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        return die(err);
    create_topic(rk, topic, partitions);
    int total = partners * per + extra_n, every = extra_n ? (partners * per) / extra_n + 1 : 0;
    int made = 0, extra_made = 0;
    for (int i = 0; made < total; i++) {
        char org[KH_ORGID_LEN];
        int is_extra = extra_made < extra_n && (every == 0 || i % every == every - 1);
        if (is_extra)
            snprintf(org, sizeof org, "%s", extra_org), extra_made++;
        else if (made - extra_made < partners * per)
            snprintf(org, sizeof org, "GEMEENTE:GM%04d", 100 + (made - extra_made) % partners);
        else
            snprintf(org, sizeof org, "%s", extra_org), extra_made++;
        json_t *j = melding(made, org);
        if (!j)
            return die("a partner is not TYPE:CODE");
        avro_value_t v;
        kh_problems p;
        char *wire;
        size_t len;
        kh_problems_init(&p);
        if (kh_schema_new_value(s, &v) || kh_codec_from_json(s, j, &v, &p) ||
            kh_codec_encode(s, &v, &wire, &len, err, sizeof err))
            return die("cannot encode a melding");
        if (body_out && made == 0) {
            json_t *natural = kh_codec_to_json(s, &v, err, sizeof err);
            FILE *f = fopen(body_out, "w");
            if (!natural || !f || json_dumpf(natural, f, JSON_COMPACT))
                return die("cannot write --body-out");
            fclose(f);
            json_decref(natural);
        }
        const char *code = kh_orgid_code(org);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_KEY(code, strlen(code)),
                                      RD_KAFKA_V_VALUE(wire, len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e)
            return die(rd_kafka_err2str(e));
        rd_kafka_poll(rk, 0);
        avro_value_decref(&v);
        json_decref(j);
        made++;
    }
    if (rd_kafka_flush(rk, 120000))
        return die("not every melding was acknowledged");
    rd_kafka_destroy(rk);
    kh_schemas_free(schemas);
    printf("%d\n", made);
    return 0;
}

typedef struct buf {
    char data[65536];
    size_t len;
} buf;

static size_t collect(char *d, size_t s, size_t n, void *ud) {
    buf *b = ud;
    size_t k = s * n;
    if (b->len + k >= sizeof b->data)
        k = sizeof b->data - 1 - b->len;
    memcpy(b->data + b->len, d, k);
    b->len += k;
    b->data[b->len] = '\0';
    return s * n;
}

static long ok_with_prefix(CURL *c, const char *prefix) {
    buf b = {.len = 0};
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(c) != CURLE_OK)
        return -1;
    json_t *j = json_loads(b.data, 0, NULL);
    const char *path;
    json_t *v;
    long n = 0;
    json_object_foreach(json_object_get(j, "paths"), path, v)
        if (strncmp(path, prefix, strlen(prefix)) == 0)
            n += (long)json_integer_value(json_object_get(v, "2xx"));
    json_decref(j);
    return n;
}

static int watch(int argc, char **argv) {
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"prefix", required_argument, NULL, 'x'},
                                         {"expect", required_argument, NULL, 'e'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    int port = 0, opt;
    long expect = 0;
    double timeout = 600;
    const char *prefix = "/";
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'x': prefix = optarg; break;
        case 'e': expect = atol(optarg); break;
        case 't': timeout = atof(optarg); break;
        default: return die("bad option");
        }
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_control/stats", port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    double start = now_s(), first = 0, last = 0;
    long n = 0, before = -1;
    FILE *trace = getenv("KH_BENCH_TRACE") ? fopen(getenv("KH_BENCH_TRACE"), "w") : NULL;
    while (now_s() - start < timeout) {
        n = ok_with_prefix(c, prefix);
        if (n > 0 && before <= 0 && first == 0)
            first = now_s();
        if (n != before)
            last = now_s();
        if (trace && n != before)
            fprintf(trace, "%.3f %ld\n", last - start, n);
        before = n;
        if (n >= expect)
            break;
        usleep(10000);
    }
    curl_easy_cleanup(c);
    if (trace)
        fclose(trace);
    if (n < expect) {
        fprintf(stderr, "bench_push: only %ld of %ld delivered within %.0f s\n", n, expect,
                timeout);
        return 1;
    }
    double secs = last - first;
    printf("%ld %.3f %.0f\n", n, secs, secs > 0 ? (double)n / secs : 0.0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "fill") == 0)
        return fill(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "watch") == 0)
        return watch(argc - 1, argv + 1);
    fprintf(stderr, "usage: bench_push fill|watch [options] (see the top of bench_push.c)\n");
    return 2;
}
