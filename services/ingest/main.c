/*
 * ketenhub-ingest — the partner-facing event API: authenticate the partner,
 * check it may send this event as itself, validate, publish, and answer 202
 * only once the broker has acknowledged the write. README.md beside this
 * file describes the API, the error catalogue and the configuration.
 */
#include "api.h"
#include "kh_alloc.h"
#include "kh_event.h"
#include "kh_log.h"
#include "kh_schema.h"
#include "kh_service.h"
#include "kh_time.h"
#include "submit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USAGE                                                                                    \
    "Usage: ketenhub-ingest [options]\n"                                                         \
    "\n"                                                                                         \
    "The partner-facing event API of ketenhub. POST /v1/aanmeldingen, /v1/tlvs,\n"               \
    "/v1/beschikkingen, /v1/verwijzingen (one event, application/json) and /v1/batch\n"          \
    "(application/x-ndjson, one {\"type\", \"event\"} per line); GET /openapi.json, /healthz,\n" \
    "/readyz and /metrics on the same port. An event is answered 202 only after the broker\n"    \
    "acknowledged it (acks=all, idempotent producer); errors are RFC 9457 problem+json.\n"       \
    "\n"                                                                                         \
    "Configuration keys (defaults in brackets):\n"                                               \
    "  http.listen            host:port of the API [127.0.0.1:8080]\n"                           \
    "  http.threads           libmicrohttpd epoll threads [2]\n"                                 \
    "  http.tls.cert          PEM certificate file: serve HTTPS (with http.tls.key) [plain "     \
    "HTTP]\n"                                                                                    \
    "  http.tls.key           PEM private key file of http.tls.cert\n"                           \
    "  http.max_body          largest body of one event, bytes [65536]\n"                        \
    "  http.max_batch_body    largest body of a batch, bytes [1048576]\n"                        \
    "  http.max_batch_lines   most events in one batch [1000]\n"                                 \
    "  http.idle_timeout      seconds an idle keep-alive connection stays open [60]\n"           \
    "  http.connection_limit  most connections at once [1000]; /readyz says saturated at 90%\n"  \
    "  http.per_address_limit most connections from one IP address [256]\n"                      \
    "  http.header_timeout    seconds a connection has for a complete request head [10]\n"       \
    "  http.retry_after       Retry-After seconds of a 503 [5]\n"                                \
    "  partners.file          the partners file (JSON; README.md) [partners.json]\n"             \
    "  reference.dir          reference data directory [" KH_DEFAULT_REFERENCE_DIR "]\n"         \
    "  pseudonym.secret       hub secret of the child pseudonym (the record key), >= 16 bytes\n" \
    "                         (required; use 32 random bytes)\n"                                 \
    "  idempotency.window     event ids remembered per instance for resubmissions [100000]\n"    \
    "  rate.per_second        requests per second per partner unless its entry says [100];\n"    \
    "                         0: no limit\n"                                                     \
    "  rate.burst             token bucket size per partner unless its entry says [200]\n"       \
    "  broker.probe_ms        how often readiness asks the broker for metadata [1000]\n"         \
    "  shutdown.grace_ms      how long SIGTERM waits for requests in flight [30000]\n"           \
    "  kafka.*                librdkafka settings; ingest defaults: linger.ms=1,\n"              \
    "                         message.timeout.ms=10000 (the longest wait before a 503),\n"       \
    "                         reconnect.backoff.max.ms=1000\n"                                   \
    "  ops.listen             optional second listener for /healthz, /readyz, /metrics\n"        \
    "\n"                                                                                         \
    "Signals: SIGTERM/SIGINT stop accepting, answer every request in flight, flush,\n"           \
    "exit 0. SIGHUP reloads the reference data and the partners file.\n"                         \
    "Exit status: 0 stopped by a signal; 1 could not start (the log says why) or the\n"          \
    "producer failed for good; 2 a usage error.\n"

/* The loop's tick: how quickly a signal is noticed. */
#define TICK_MS 50

typedef struct hub {
    kh_service svc;
    settings cfg;
    kh_schemas *schemas;
    kh_refstore *refs;
    partners_store *partners;
    window *window;
    telemetry tm;
    ingest_event_ctx events;
    ingest_api *api;
    publisher *pub;
} hub;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *what, const char *err) {
    kh_log_error(what, json_pack("{s:s}", "error", err));
    return -1;
}

static int open_data(hub *h) {
    char err[512];
    if (kh_schemas_open(&h->schemas, err, sizeof err))
        return fail("cannot compile the schemas", err);
    if (!(h->refs = kh_refstore_open(h->cfg.reference_dir, err, sizeof err)))
        return fail("cannot load the reference data", err);
    if (!(h->partners = ingest_partners_open(h->cfg.partners_file, (double)h->cfg.rate,
                                             (double)h->cfg.burst, err, sizeof err)))
        return fail("cannot load the partners file", err);
    if (!(h->window = ingest_window_new((size_t)h->cfg.window)))
        return fail("cannot allocate the idempotency window", "out of memory");
    h->events = (ingest_event_ctx){h->schemas, h->refs, (const unsigned char *)h->cfg.secret,
                                   strlen(h->cfg.secret)};
    return 0;
}

static int ops_ready(void *ud, char *why, size_t len) { return ingest_api_ready(ud, why, len); }

static int start(hub *h) {
    char err[512], names[KH_EVENT_TYPES_MAX][256];
    const char *topics[KH_EVENT_TYPES_MAX];
    size_t n = kh_event_type_count();
    for (size_t i = 0; i < n; i++) {
        const kh_schema *s = kh_schemas_by_name(h->schemas, kh_event_type_at(i)->name);
        topics[i] = kh_service_topic(&h->svc, kh_schema_topic(s), names[i], sizeof names[i]);
    }
    ingest_telemetry_init(&h->tm, h->svc.metrics);
    ingest_api_deps deps = {&h->cfg,
                            &h->events,
                            h->partners,
                            h->window,
                            &h->tm,
                            h->svc.metrics,
                            kh_schemas_file("openapi.json"),
                            h->svc.config};
    h->api = ingest_api_new(&deps);
    h->pub = ingest_publisher_new(h->svc.config, topics, n, ingest_submit_delivered, h->api, err,
                                  sizeof err);
    if (!h->pub)
        return fail("cannot create the Kafka producer", err);
    ingest_publisher_probe(h->pub, (int)h->cfg.probe_ms);
    if (ingest_api_start(h->api, h->pub, err, sizeof err))
        return fail("cannot start the API", err);
    if (kh_config_get(h->svc.config, "ops.listen", NULL) &&
        kh_service_start_ops(&h->svc, NULL, ops_ready, h->api))
        return -1;
    kh_log_info("ingest listening",
                json_pack("{s:s, s:i, s:b, s:I, s:I, s:s}", "listen", h->cfg.listen, "port",
                          ingest_api_port(h->api), "tls", h->cfg.tls_cert != NULL, "partners",
                          (json_int_t)ingest_partners_count_current(h->partners),
                          "idempotency_window", (json_int_t)h->cfg.window, "topic_aanmelding",
                          topics[0]));
    return 0;
}

static void reload(hub *h) {
    char err[512];
    const char *const ok[] = {"reference", "ok"}, *const failed[] = {"reference", "failed"};
    int rc = kh_refstore_reload(h->refs, err, sizeof err);
    kh_metric_add(h->tm.reloads, rc ? failed : ok, 1);
    if (rc)
        kh_log_error("reference data not reloaded; the old data stays",
                     json_pack("{s:s}", "error", err));
    else
        kh_log_info("reference data reloaded", NULL);
    rc = ingest_partners_reload(h->partners, err, sizeof err);
    kh_metric_add(h->tm.reloads, (const char *[]){"partners", rc ? "failed" : "ok"}, 1);
    if (rc)
        kh_log_error("partners file not reloaded; the old table stays",
                     json_pack("{s:s}", "error", err));
    else
        kh_log_info("partners file reloaded",
                    json_pack("{s:I}", "partners",
                              (json_int_t)ingest_partners_count_current(h->partners)));
}

/* Until SIGTERM, or a producer that can no longer write (exit 1). */
static int serve(hub *h) {
    int64_t next_probe = mono_ms() + h->cfg.probe_ms;
    char why[256];
    while (!kh_service_stop) {
        if (kh_service_reload) {
            kh_service_reload = 0;
            reload(h);
        }
        if (ingest_publisher_failed(h->pub, why, sizeof why)) {
            kh_log_error("stopping: the Kafka producer failed", json_pack("{s:s}", "error", why));
            return 1;
        }
        if (mono_ms() >= next_probe) {
            ingest_publisher_probe(h->pub, (int)h->cfg.probe_ms);
            next_probe = mono_ms() + h->cfg.probe_ms;
        }
        sleep_ms(TICK_MS);
    }
    return 0;
}

static int wait_answered(hub *h, int64_t ms) {
    int64_t deadline = mono_ms() + ms;
    while (ingest_api_in_flight(h->api) > 0 && mono_ms() < deadline)
        sleep_ms(TICK_MS / 5);
    return ingest_api_in_flight(h->api) == 0;
}

/* Stop accepting, answer what is in flight, flush. */
static void drain(hub *h) {
    kh_log_info("stopping: no new connections, answering requests in flight",
                json_pack("{s:I}", "in_flight", (json_int_t)ingest_api_in_flight(h->api)));
    ingest_api_quiesce(h->api);
    if (!wait_answered(h, h->cfg.grace_ms)) {
        kh_log_error("requests still in flight after shutdown.grace_ms; failing their records",
                     json_pack("{s:I}", "in_flight", (json_int_t)ingest_api_in_flight(h->api)));
        ingest_publisher_purge(h->pub);
        wait_answered(h, 5000);
    }
}

int main(int argc, char **argv) {
    hub h = {0};
    /* One out-of-memory policy: jansson allocates through kh_alloc too, so
     * no json_* call returns NULL for want of memory (kh_alloc.h). */
    json_set_alloc_funcs(kh_malloc, free);
    int rc = kh_service_init(&h.svc, "ingest", USAGE, argc, argv);
    if (rc)
        return rc < 0 ? 2 : 0;
    int status = 1;
    if (ingest_settings_load(&h.svc, &h.cfg) == 0 && kh_service_kafka_check(&h.svc) == 0 &&
        open_data(&h) == 0 && start(&h) == 0) {
        status = serve(&h);
        drain(&h);
    }
    ingest_api_free(h.api);
    ingest_publisher_close(h.pub, 10000);
    ingest_window_free(h.window);
    ingest_partners_close(h.partners);
    kh_refstore_close(h.refs);
    kh_schemas_free(h.schemas);
    kh_log_info("stopped", json_pack("{s:i}", "exit_status", status));
    kh_service_shutdown(&h.svc);
    return status;
}
