/*
 * route_bench_fill — pre-fills the four event topics for the route
 * benchmark with a realistic mix: the good cases of tests/route's case
 * table (every event type and rule), most of them not crossing a border.
 * Each case that gives meldingen has weight 1, each that gives none weight
 * 8, so about one event in seven crosses a border. Every event has its own
 * event id and one of CHILDREN children (keyed by pseudonym, so all
 * partitions are used), in the wire format with the event headers. Each
 * case is checked by kh_intake once; the events are then made by changing
 * the event id and the child in the Avro value and encoding again.
 *
 *   route_bench_fill -b BOOTSTRAP -p PREFIX -n EVENTS [-P PARTITIONS]
 *
 * Creates the topics (also the output topics) with PARTITIONS partitions
 * (default 4), then prints the number of events and how many of them
 * should give meldingen.
 */
#include "kh_bsn.h"
#include "kh_codec.h"
#include "kh_config.h"
#include "kh_event.h"
#include "kh_intake.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_orgid.h"
#include "kh_pseudo.h"
#include "kh_time.h"
#include "route_cases.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHILDREN 10000
#define QUIET_WEIGHT 8
#define SECRET "route-bench-pseudonym-secret-0123456789"

typedef struct template {
    const route_case *c;
    const kh_schema *schema;
    avro_value_t value, event_id, bsn;
    char topic[256];
    char bron[32];
}
template;

static void die(const char *what, const char *why) {
    fprintf(stderr, "route_bench_fill: %s: %s\n", what, why);
    exit(1);
}

static void create_topics(rd_kafka_t *rk, const char *prefix, int partitions) {
    static const char *const names[] = {"aanmelding", "tlv",          "beschikking",
                                        "verwijzing", "grensverkeer", "deadletter"};
    char err[256], topic[256];
    rd_kafka_NewTopic_t *nt[7];
    int n = 0;
    for (; n < 6; n++) {
        snprintf(topic, sizeof topic, "%sketenhub.%s.v1", prefix, names[n]);
        nt[n] = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    }
    snprintf(topic, sizeof topic, "%sbench.passthrough.v1", prefix);
    nt[n++] = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, (size_t)n, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (!ev || rd_kafka_event_error(ev))
        die("create topics", ev ? rd_kafka_event_error_string(ev) : "timed out");
    size_t cnt;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++)
        if (rd_kafka_topic_result_error(res[i]) &&
            rd_kafka_topic_result_error(res[i]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            die(rd_kafka_topic_result_name(res[i]), rd_kafka_topic_result_error_string(res[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy_array(nt, (size_t)n);
    rd_kafka_queue_destroy(q);
}

/* Checks case c through intake and keeps its Avro value. */
static void make_template(template *t, const route_case *c, const kh_schemas *schemas,
                          const kh_ref *ref, const char *prefix) {
    char *wire, shown[512];
    size_t len;
    kh_problems p;
    kh_problems_init(&p);
    json_t *ev = route_case_event(c, "00000000-0000-4000-8000-000000000000", "111222333");
    if (kh_intake_encode(schemas, kh_event_type_by_name(c->event), ev, ref, kh_now_millis(), &wire,
                         &len, &p))
        die(c->name, kh_problems_format(&p, shown, sizeof shown));
    free(wire);
    t->c = c;
    t->schema = kh_schemas_by_name(schemas, c->event);
    kh_problems_init(&p);
    if (kh_schema_new_value(t->schema, &t->value) ||
        kh_codec_from_json(t->schema, ev, &t->value, &p))
        die(c->name, "cannot build the Avro value");
    avro_value_t env, kid;
    avro_value_get_by_name(&t->value, "envelope", &env, NULL);
    avro_value_get_by_name(&env, "event_id", &t->event_id, NULL);
    avro_value_get_by_name(&t->value, "jeugdige", &kid, NULL);
    avro_value_get_by_name(&kid, "bsn", &t->bsn, NULL);
    json_t *b = json_object_get(json_object_get(ev, "envelope"), "bron");
    kh_orgid_from_json(b, t->bron, sizeof t->bron);
    snprintf(t->topic, sizeof t->topic, "%sketenhub.%s.v1", prefix, c->event);
    json_decref(ev);
}

int main(int argc, char **argv) {
    const char *bootstrap = NULL, *prefix = "";
    long events = 0;
    int partitions = 4, opt;
    while ((opt = getopt(argc, argv, "b:p:n:P:")) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 'p': prefix = optarg; break;
        case 'n': events = atol(optarg); break;
        case 'P': partitions = atoi(optarg); break;
        default: die("usage", "see the comment at the top of fill.c");
        }
    }
    if (!bootstrap || events <= 0)
        die("usage", "-b BOOTSTRAP and -n EVENTS are required");
    kh_log_setup("route_bench_fill", KH_LOG_WARN, STDERR_FILENO);
    char err[512], dir[1024];
    snprintf(dir, sizeof dir, "%s", KH_DEFAULT_REFERENCE_DIR);
    kh_schemas *schemas;
    kh_ref *ref;
    if (kh_schemas_open(&schemas, err, sizeof err) || kh_ref_load(dir, &ref, err, sizeof err))
        die("start", err);
    kh_config *c = kh_config_new();
    kh_config_set(c, "kafka.bootstrap.servers", bootstrap);
    kh_config_set(c, "kafka.linger.ms", "20");
    rd_kafka_t *p = kh_kafka_producer_new(c, NULL, NULL, err, sizeof err);
    if (!p)
        die("producer", err);
    create_topics(p, prefix, partitions);

    /* The weighted deck of templates. */
    static template templates[256];
    static int deck[4096];
    size_t nt = 0, nd = 0;
    for (size_t i = 0; i < route_case_count && nt < 256; i++) {
        if (route_cases[i].poison)
            continue;
        make_template(&templates[nt], &route_cases[i], schemas, ref, prefix);
        int weight = route_case_want_count(&route_cases[i]) ? 1 : QUIET_WEIGHT;
        for (int w = 0; w < weight && nd < 4096; w++)
            deck[nd++] = (int)nt;
        nt++;
    }
    static char keys[CHILDREN][65], bsns[CHILDREN][10];
    for (size_t i = 0, n = 100000000; i < CHILDREN; n++) {
        snprintf(bsns[i], sizeof bsns[i], "%09zu", n);
        if (kh_bsn_valid(bsns[i]) &&
            kh_pseudo_bsn((const unsigned char *)SECRET, strlen(SECRET), bsns[i], keys[i]) == 0)
            i++;
    }

    long crossing = 0;
    for (long n = 0; n < events; n++) {
        template *t = &templates[deck[(size_t)n % nd]];
        char id[37];
        route_case_event_id((uint64_t)n, id);
        const char *bsn = bsns[(size_t)n * 7919 % CHILDREN];
        const char *key = keys[(size_t)n * 7919 % CHILDREN];
        char *wire;
        size_t len;
        avro_value_set_string(&t->event_id, id);
        avro_value_set_string(&t->bsn, bsn);
        if (kh_codec_encode(t->schema, &t->value, &wire, &len, err, sizeof err))
            die("encode", err);
        rd_kafka_headers_t *h = rd_kafka_headers_new(3);
        rd_kafka_header_add(h, "event-type", -1, t->c->event, -1);
        rd_kafka_header_add(h, "event-id", -1, id, -1);
        rd_kafka_header_add(h, "bron", -1, t->bron, -1);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(t->topic), RD_KAFKA_V_KEY(key, 64),
                                      RD_KAFKA_V_VALUE(wire, len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                      RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 10);
        if (e)
            die("produce", rd_kafka_err2str(e));
        crossing += route_case_want_count(t->c) > 0;
    }
    while (rd_kafka_outq_len(p) > 0)
        rd_kafka_flush(p, 1000);
    printf("filled events=%ld crossing=%ld\n", events, crossing);
    for (size_t i = 0; i < nt; i++)
        avro_value_decref(&templates[i].value);
    rd_kafka_destroy(p);
    kh_config_free(c);
    kh_ref_free(ref);
    kh_schemas_free(schemas);
    return 0;
}
