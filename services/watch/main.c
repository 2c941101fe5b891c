/*
 * ketenhub-watch — the operators' live view of the flow: reads every
 * ketenhub topic read-only and the services' committed offsets, keeps
 * rates, lag, dead letters, deliveries and the regional monitoring in
 * bounded memory, and serves them as a web page, a JSON API and Prometheus
 * gauges. README.md beside this file describes it.
 */
#include "kh_alloc.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_ref.h"
#include "kh_retry.h"
#include "kh_schema.h"
#include "kh_service.h"
#include "watch_auth.h"
#include "watch_http.h"
#include "watch_kafka.h"
#include "watch_model.h"
#include "watch_termijn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE                                                                                    \
    "Usage: ketenhub-watch [options]\n"                                                          \
    "\n"                                                                                         \
    "The operators' live view of ketenhub: a web page (GET /), a JSON API (/api/v1/...,\n"       \
    "described by GET /openapi.json), /healthz, /readyz and /metrics on one port. Reads every\n" \
    "ketenhub topic read-only (assigned partitions, never committing) and the services'\n"       \
    "committed offsets; shows no child's data, only counts, codes and rules.\n"                  \
    "\n"                                                                                         \
    "Configuration keys (defaults in brackets):\n"                                               \
    "  http.listen               host:port of the page and API [127.0.0.1:8090]; an address\n"   \
    "                            other than loopback needs http.tls.* and operators.file\n"      \
    "  http.tls.cert             PEM certificate file: serve HTTPS (with http.tls.key)\n"        \
    "  http.tls.key              PEM private key of http.tls.cert\n"                             \
    "  operators.file            operator tokens, SHA-256 hashed (README.md) [none]\n"           \
    "  reference.dir             reference data, for the region filters\n"                       \
    "                            [" KH_DEFAULT_REFERENCE_DIR "]\n"                               \
    "  watch.groups              service=group.id pairs whose lag is watched\n"                  \
    "                            [route=ketenhub-route,push=ketenhub-push,\n"                    \
    "                            termijn=ketenhub-termijn]\n"                                    \
    "  watch.history.seconds     read from this long ago at start, found by timestamp\n"         \
    "                            (Apache Kafka; the devbroker answers with the end);\n"          \
    "                            0: the whole retained history [0]\n"                            \
    "  watch.sample.ms           how often committed offsets are sampled [2000]\n"               \
    "  watch.status.window       samples a group status is judged on [10]\n"                     \
    "  watch.status.err_seconds  a stall whose oldest record is older is ERR [300]\n"            \
    "  watch.partner.warn_seconds a partner whose oldest undelivered melding is older\n"         \
    "                            turns orange [300]\n"                                           \
    "  watch.max.series          time series kept at most (26 KB each, made on\n"                \
    "                            first use; one per partner and outcome) [2048]\n"               \
    "  watch.region.rows         rows of the regional monitoring at most [50000]\n"              \
    "  watch.pending.max         undelivered meldingen tracked at most [131072]\n"               \
    "  watch.termijn.max         children of termijn's state kept at most (about 45\n"           \
    "                            bytes each) [1000000]\n"                                        \
    "  kafka.*                   librdkafka settings\n"                                          \
    "\n"                                                                                         \
    "Signals: SIGTERM/SIGINT stop and exit 0; SIGHUP reloads the reference data.\n"              \
    "Exit status: 0 stopped by a signal; 1 could not start (the log says why); 2 usage.\n"

#define MAX_GROUPS 8
#define DEFAULT_GROUPS "route=ketenhub-route,push=ketenhub-push,termijn=ketenhub-termijn"

typedef struct watch {
    kh_service svc;
    kh_schemas *schemas;
    kh_refstore *refs;
    const kh_ref *ref;
    watch_model *model;
    watch_kafka *kafka;
    watch_http *http;
    watch_auth auth;
    rd_kafka_t *producer;
    watch_redrive_ctx redrive;
    char services[MAX_GROUPS][32], groups[MAX_GROUPS][128];
    const char *service_p[MAX_GROUPS], *group_p[MAX_GROUPS];
    size_t ngroups;
    const char *topics[WATCH_MAX_TOPICS];
    size_t ntopics;
    char dl_topic[256], retry_topic[256], prefix[256];
} watch;

/* watch.groups: "route=ketenhub-route,push=ketenhub-push". */
static int parse_groups(watch *w, const char *spec) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1] || w->ngroups >= MAX_GROUPS) {
            kh_log_error(
                "watch.groups wants service=group.id pairs separated by commas (at most 8)",
                json_pack("{s:s}", "value", spec));
            return -1;
        }
        *eq = 0;
        snprintf(w->services[w->ngroups], sizeof w->services[0], "%s", tok);
        snprintf(w->groups[w->ngroups], sizeof w->groups[0], "%s", eq + 1);
        w->service_p[w->ngroups] = w->services[w->ngroups];
        w->group_p[w->ngroups] = w->groups[w->ngroups];
        w->ngroups++;
    }
    return 0;
}

/* The schema manifest's topics, push's retry topic and termijn's state. */
static void list_topics(watch *w) {
    for (size_t i = 0; i < kh_schemas_count(w->schemas) && w->ntopics < WATCH_MAX_TOPICS - 2; i++)
        w->topics[w->ntopics++] = kh_schema_topic(kh_schemas_at(w->schemas, i));
    w->topics[w->ntopics++] = KH_RETRY_TOPIC;
    w->topics[w->ntopics++] = WATCH_TERMIJN_TOPIC;
}

static int get_int(watch *w, const char *key, long long def, long long *out) {
    return kh_service_int(&w->svc, key, def, out);
}

static int make_model(watch *w) {
    long long series, rows, pending, window, err_s, warn_s, termijnen;
    if (get_int(w, "watch.max.series", 2048, &series) ||
        get_int(w, "watch.region.rows", 50000, &rows) ||
        get_int(w, "watch.pending.max", 131072, &pending) ||
        get_int(w, "watch.status.window", 10, &window) ||
        get_int(w, "watch.status.err_seconds", 300, &err_s) ||
        get_int(w, "watch.partner.warn_seconds", 300, &warn_s) ||
        get_int(w, "watch.termijn.max", 1000000, &termijnen))
        return -1;
    if (parse_groups(w, kh_config_get(w->svc.config, "watch.groups", DEFAULT_GROUPS)))
        return -1;
    list_topics(w);
    watch_limits lim = {(size_t)series, (size_t)rows,  (size_t)pending,  (int)window,
                        err_s * 1000,   warn_s * 1000, (size_t)termijnen};
    w->model = watch_model_new(&lim, w->topics, w->ntopics, w->service_p, w->group_p, w->ngroups,
                               w->schemas);
    w->ref = kh_refstore_acquire(w->refs);
    watch_model_set_ref(w->model, w->ref);
    return 0;
}

static int make_kafka(watch *w, char *err, size_t errlen) {
    long long history, sample;
    if (get_int(w, "watch.history.seconds", 0, &history) ||
        get_int(w, "watch.sample.ms", 2000, &sample))
        return -1;
    kh_service_topic(&w->svc, "", w->prefix, sizeof w->prefix);
    watch_kafka_opts o = {w->svc.config, w->prefix,  w->topics,      w->ntopics,
                          w->group_p,    w->ngroups, history * 1000, sample > 100 ? sample : 100};
    if (!(w->kafka = watch_kafka_new(&o, w->model, err, errlen)))
        return -1;
    if (!(w->producer = kh_kafka_producer_new(w->svc.config, NULL, NULL, err, errlen)))
        return -1;
    kh_service_topic(&w->svc, kh_schemas_topic(w->schemas, "deadletter"), w->dl_topic,
                     sizeof w->dl_topic);
    kh_service_topic(&w->svc, KH_RETRY_TOPIC, w->retry_topic, sizeof w->retry_topic);
    w->redrive = (watch_redrive_ctx){w->svc.config, w->schemas, w->producer, w->dl_topic,
                                     w->retry_topic};
    return 0;
}

static int ready(void *ud, char *why, size_t whylen) { return watch_kafka_ready(ud, why, whylen); }

static int make_http(watch *w, char *err, size_t errlen) {
    const kh_config *c = w->svc.config;
    const char *listen = kh_config_get(c, "http.listen", "127.0.0.1:8090");
    const char *cert = kh_config_get(c, "http.tls.cert", NULL),
               *key = kh_config_get(c, "http.tls.key", NULL);
    const char *ops = kh_config_get(c, "operators.file", NULL);
    if (!watch_auth_is_loopback(listen) && (!cert || !key || !ops)) {
        snprintf(err, errlen,
                 "http.listen %s is not loopback: set http.tls.cert, http.tls.key and "
                 "operators.file, or listen on 127.0.0.1",
                 listen);
        return -1;
    }
    if ((cert != NULL) != (key != NULL)) {
        snprintf(err, errlen, "http.tls.cert and http.tls.key go together");
        return -1;
    }
    if (ops && watch_auth_load(&w->auth, ops, err, errlen))
        return -1;
    watch_http_deps d = {listen,   cert,           key,         ops ? &w->auth : NULL,
                         w->model, w->svc.metrics, &w->redrive, ready,
                         w->kafka};
    if (!(w->http = watch_http_start(&d, err, errlen)))
        return -1;
    kh_log_info("watch is serving", json_pack("{s:s, s:i, s:b}", "url", listen, "port",
                                              watch_http_port(w->http), "tokens", ops != NULL));
    return 0;
}

static void reload(watch *w) {
    char err[512];
    if (kh_refstore_reload(w->refs, err, sizeof err)) {
        kh_log_error("reference data not reloaded; the old data stays",
                     json_pack("{s:s}", "error", err));
        return;
    }
    const kh_ref *fresh = kh_refstore_acquire(w->refs);
    watch_model_set_ref(w->model, fresh);
    kh_refstore_release(w->refs, w->ref);
    w->ref = fresh;
    kh_log_info("reference data reloaded", NULL);
}

static int start(watch *w) {
    char err[512];
    const char *refdir = kh_config_get(w->svc.config, "reference.dir", KH_DEFAULT_REFERENCE_DIR);
    if (kh_schemas_open(&w->schemas, err, sizeof err) ||
        !(w->refs = kh_refstore_open(refdir, err, sizeof err)) || (err[0] = 0, make_model(w)) ||
        make_kafka(w, err, sizeof err) || make_http(w, err, sizeof err)) {
        if (err[0])
            kh_log_error("cannot start", json_pack("{s:s}", "error", err));
        return -1;
    }
    return 0;
}

static void stop(watch *w) {
    watch_http_stop(w->http);
    watch_kafka_free(w->kafka);
    if (w->producer) {
        rd_kafka_flush(w->producer, 5000);
        rd_kafka_destroy(w->producer);
    }
    watch_model_free(w->model);
    if (w->ref)
        kh_refstore_release(w->refs, w->ref);
    kh_refstore_close(w->refs);
    kh_schemas_free(w->schemas);
}

int main(int argc, char **argv) {
    watch *w = kh_calloc(1, sizeof *w);
    int rc = kh_service_init(&w->svc, "watch", USAGE, argc, argv);
    if (rc) {
        free(w);
        return rc < 0 ? 2 : 0;
    }
    if (start(w)) {
        stop(w);
        kh_service_shutdown(&w->svc);
        free(w);
        return 1;
    }
    const char *ops = kh_config_get(w->svc.config, "ops.listen", NULL);
    if (ops)
        kh_service_start_ops(&w->svc, ops, ready, w->kafka);
    while (!kh_service_stop) {
        if (kh_service_reload) {
            kh_service_reload = 0;
            reload(w);
        }
        watch_kafka_poll(w->kafka, 200);
    }
    kh_log_info("stopping", NULL);
    stop(w);
    kh_service_shutdown(&w->svc);
    free(w);
    return 0;
}
