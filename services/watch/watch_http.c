/*
 * watch_http — routes of the page and API (see watch_http.h).
 */
#include "watch_http.h"

#include "kh_alloc.h"
#include "kh_file.h"
#include "kh_log.h"
#include "kh_time.h"
#include "watch_termijn.h"
#include "watch_web.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX 4096

struct watch_http {
    watch_http_deps d;
    struct MHD_Daemon *daemon;
    char *cert, *key;
    int port;
    kh_family *lag, *status, *group_lag, *group_age, *pending, *oldest, *records, *redrives;
    kh_family *termijn_open, *termijn_verlopen, *termijn_niet_gelezen;
};

typedef struct request {
    char body[BODY_MAX + 1];
    size_t len;
    int too_big;
} request;

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body, size_t len, int copy) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
                                                             copy ? MHD_RESPMEM_MUST_COPY
                                                                  : MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"ketenhub-watch\"");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned status, json_t *j) {
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text ? respond(c, status, "application/json", text, strlen(text), 0) : MHD_NO;
}

static enum MHD_Result problem(struct MHD_Connection *c, unsigned status, const char *slug,
                               const char *title, const char *detail) {
    char type[128];
    snprintf(type, sizeof type, "https://ketenhub.nl/problems/%s", slug);
    json_t *j = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", title, "status",
                          (int)status, "detail", detail);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text ? respond(c, status, "application/problem+json", text, strlen(text), 0) : MHD_NO;
}

static const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot && !strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (dot && !strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (dot && !strcmp(dot, ".json"))
        return "application/json";
    if (dot && !strcmp(dot, ".svg"))
        return "image/svg+xml";
    return "text/html; charset=utf-8";
}

static enum MHD_Result serve_file(struct MHD_Connection *c, const char *url) {
    const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
    for (const watch_web_file *f = watch_web_files; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return respond(c, 200, content_type(path), f->text, strlen(f->text), 1);
    return problem(c, 404, "not-found", "Not Found",
                   "no such path; the page is at /, the API under /api/v1/");
}

static const char *arg(struct MHD_Connection *c, const char *name) {
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;
}

/* ---- /metrics -------------------------------------------------------------------- */

static void g_lag(void *ud, const char *group, const char *topic, int partition, int64_t records) {
    watch_http *h = ud;
    char p[16];
    snprintf(p, sizeof p, "%d", partition);
    const char *v[] = {group, topic, p};
    kh_metric_set(h->lag, v, (double)records);
}

static void g_group(void *ud, const char *group, const char *service, watch_status s, int64_t lag,
                    double age) {
    watch_http *h = ud;
    const char *v[] = {group, service};
    kh_metric_set(h->group_lag, v, (double)lag);
    kh_metric_set(h->group_age, v, age);
    for (int k = WATCH_OK; k <= WATCH_UNKNOWN; k++) {
        const char *sv[] = {group, service, watch_status_name((watch_status)k)};
        kh_metric_set(h->status, sv, k == (int)s);
    }
}

static void g_partner(void *ud, const char *partner, size_t pending, double oldest) {
    watch_http *h = ud;
    const char *v[] = {partner};
    kh_metric_set(h->pending, v, (double)pending);
    kh_metric_set(h->oldest, v, oldest);
}

static void g_topic(void *ud, const char *topic, double total) {
    watch_http *h = ud;
    const char *v[] = {topic};
    kh_metric_set(h->records, v, total);
}

/* National per regel only, rounded as the tables are (1-4 read 0): no
 * region label, so no series of a small region counts single children. */
static void g_termijn(void *ud, const char *regel, int64_t open, int64_t verlopen) {
    watch_http *h = ud;
    const char *v[] = {regel};
    kh_metric_set(h->termijn_open, v, (double)watch_region_rounded(open));
    kh_metric_set(h->termijn_verlopen, v, (double)watch_region_rounded(verlopen));
}

static void g_termijn_niet(void *ud, const char *reden, uint64_t n) {
    watch_http *h = ud;
    const char *v[] = {reden};
    kh_metric_set(h->termijn_niet_gelezen, v, (double)n);
}

static void make_termijn_families(watch_http *h) {
    kh_metrics *m = h->d.metrics;
    h->termijn_open = kh_metrics_gauge(
        m, "ketenhub_watch_termijnen_open",
        "Open termijnen nationally per regel, rounded down to a multiple of 5 (1-4 read 0)",
        "regel");
    h->termijn_verlopen = kh_metrics_gauge(
        m, "ketenhub_watch_termijnen_verlopen",
        "Overdue termijnen nationally per regel, rounded down to a multiple of 5 (1-4 read 0)",
        "regel");
    h->termijn_niet_gelezen = kh_metrics_gauge(
        m, "ketenhub_watch_termijn_state_unread_records",
        "Records of the termijn state topic not read, by reason (json, versie, vorm, "
        "onbekende_regel, vol)",
        "reden");
}

static void make_families(watch_http *h) {
    kh_metrics *m = h->d.metrics;
    h->lag = kh_metrics_gauge(m, "ketenhub_watch_lag_records",
                              "Records not yet consumed, per group and partition",
                              "group,topic,partition");
    h->group_lag = kh_metrics_gauge(m, "ketenhub_watch_group_lag_records",
                                    "Records not yet consumed by the group", "group,service");
    h->group_age = kh_metrics_gauge(m, "ketenhub_watch_group_lag_seconds",
                                    "Age of the group's oldest unconsumed record", "group,service");
    h->status = kh_metrics_gauge(m, "ketenhub_watch_group_status",
                                 "1 for the group's current status (OK, WARN, STALL, ERR, UNKNOWN)",
                                 "group,service,status");
    h->pending = kh_metrics_gauge(m, "ketenhub_watch_partner_pending",
                                  "Meldingen read but not yet delivered or given up, per partner",
                                  "partner");
    h->oldest = kh_metrics_gauge(m, "ketenhub_watch_partner_oldest_pending_seconds",
                                 "Age of the partner's oldest undelivered melding", "partner");
    h->records = kh_metrics_gauge(
        m, "ketenhub_watch_topic_records",
        "Records read per topic since the watch started (including retained history)", "topic");
    make_termijn_families(h);
    h->redrives = kh_metrics_counter(m, "ketenhub_watch_redrives_total",
                                     "Redrives asked for on the page, by outcome", "outcome");
}

static enum MHD_Result serve_metrics(watch_http *h, struct MHD_Connection *c) {
    watch_gauges g = {g_lag, g_group, g_partner, g_topic, g_termijn, g_termijn_niet, h};
    watch_model_gauges(h->d.model, &g, kh_now_millis());
    char *text = kh_metrics_render(h->d.metrics);
    return text ? respond(c, 200, "text/plain; version=0.0.4", text, strlen(text), 0) : MHD_NO;
}

/* ---- the API -------------------------------------------------------------------------- */

static int paar_arg(struct MHD_Connection *c) {
    const char *p = arg(c, "paar");
    return p ? watch_paar_parse(p) : WATCH_PAAR_GEMEENTE;
}

static enum MHD_Result serve_region(watch_http *h, struct MHD_Connection *c, int csv) {
    int paar = paar_arg(c);
    if (paar < 0)
        return problem(c, 400, "bad-parameter", "Bad Request",
                       "paar must be gemeente, swv or jeugdregio");
    const char *jr = arg(c, "jeugdregio"), *swv = arg(c, "swv");
    if (!csv)
        return respond_json(c, 200, watch_model_region(h->d.model, paar, jr, swv));
    char *text = watch_model_region_csv(h->d.model, paar, jr, swv);
    return respond(c, 200, "text/csv; charset=utf-8", text, strlen(text), 0);
}

static enum MHD_Result serve_termijnen(watch_http *h, struct MHD_Connection *c, int csv) {
    const char *name = arg(c, "indeling");
    int ind = name ? watch_indeling_parse(name) : WATCH_INDELING_JEUGDREGIO;
    if (ind < 0)
        return problem(c, 400, "bad-parameter", "Bad Request",
                       "indeling must be jeugdregio or swv");
    const char *jr = arg(c, "jeugdregio"), *swv = arg(c, "swv");
    if (!csv)
        return respond_json(c, 200,
                            watch_model_termijnen(h->d.model, ind, jr, swv, kh_now_millis()));
    char *text = watch_model_termijnen_csv(h->d.model, ind, jr, swv, kh_now_millis());
    return respond(c, 200, "text/csv; charset=utf-8", text, strlen(text), 0);
}

static enum MHD_Result serve_series(watch_http *h, struct MHD_Connection *c) {
    const char *fam = arg(c, "familie"), *key = arg(c, "sleutel"), *res = arg(c, "resolutie");
    if (!fam || !key)
        return problem(c, 400, "bad-parameter", "Bad Request", "familie and sleutel are required");
    json_t *s = watch_model_series(h->d.model, fam, key, res && !strcmp(res, "1m"),
                                   kh_now_millis());
    return s ? respond_json(c, 200, s)
             : problem(c, 404, "not-found", "Not Found",
                       "no such series; /api/v1/overzicht lists them");
}

static enum MHD_Result serve_get(watch_http *h, struct MHD_Connection *c, const char *url) {
    char why[256] = "";
    if (!strcmp(url, "/healthz"))
        return respond(c, 200, "text/plain", "ok\n", 3, 1);
    if (!strcmp(url, "/readyz")) {
        int ok = !h->d.ready || h->d.ready(h->d.ready_ud, why, sizeof why - 1);
        strcat(why, "\n");
        return ok ? respond(c, 200, "text/plain", "ready\n", 6, 1)
                  : respond(c, 503, "text/plain", why, strlen(why), 1);
    }
    if (!strcmp(url, "/metrics"))
        return serve_metrics(h, c);
    if (!strcmp(url, "/api/v1/overzicht"))
        return respond_json(c, 200, watch_model_overview(h->d.model, kh_now_millis()));
    if (!strcmp(url, "/api/v1/deadletters"))
        return respond_json(c, 200,
                            json_pack("{s:o}", "deadletters",
                                      watch_model_deadletters(h->d.model, kh_now_millis())));
    if (!strcmp(url, "/api/v1/regio"))
        return serve_region(h, c, 0);
    if (!strcmp(url, "/api/v1/regio.csv"))
        return serve_region(h, c, 1);
    if (!strcmp(url, "/api/v1/termijnen"))
        return serve_termijnen(h, c, 0);
    if (!strcmp(url, "/api/v1/termijnen.csv"))
        return serve_termijnen(h, c, 1);
    if (!strcmp(url, "/api/v1/reeks"))
        return serve_series(h, c);
    return serve_file(c, url);
}

/* POST /api/v1/deadletters/redrive {"partition", "offset", "operator"} */
static enum MHD_Result serve_redrive(watch_http *h, struct MHD_Connection *c, const request *r,
                                     const watch_operator *op) {
    json_error_t je;
    json_t *b = json_loadb(r->body, r->len, 0, &je);
    json_int_t partition = -1, offset = -1;
    const char *name = NULL;
    char partner[48] = "", reason[48] = "", err[512];
    if (!b ||
        json_unpack(b, "{s:I, s:I, s?s}", "partition", &partition, "offset", &offset, "operator",
                    &name) ||
        partition < 0 || offset < 0) {
        json_decref(b);
        return problem(c, 400, "bad-request", "Bad Request",
                       "want {\"partition\": n, \"offset\": n, \"operator\": \"your name\"}");
    }
    if (op)
        name = op->name;
    if (!name || !*name || strlen(name) > 63) {
        json_decref(b);
        return problem(
            c, 400, "operator-required", "Bad Request",
            "say who redrives: \"operator\" (1-63 characters) is logged with the redrive");
    }
    char who[64];
    snprintf(who, sizeof who, "%s", name);
    json_decref(b);
    if (watch_model_deadletter(h->d.model, (int32_t)partition, offset, partner, sizeof partner,
                               reason, sizeof reason))
        return problem(c, 404, "not-found", "Not Found",
                       "no such dead letter among the latest kept");
    if (!watch_redrive_allowed(reason) || !partner[0])
        return problem(c, 409, "not-redrivable", "Conflict",
                       "only failed deliveries (DELIVERY_REJECTED, DELIVERY_EXPIRED, "
                       "NO_SUBSCRIPTION) can be redriven");
    int rc = watch_redrive(h->d.redrive, (int32_t)partition, offset, partner, sizeof partner, err,
                           sizeof err);
    const char *outcome[] = {rc ? "failed" : "ok"};
    kh_metric_add(h->redrives, outcome, 1);
    kh_log_info(rc ? "redrive failed" : "redrive",
                json_pack("{s:s, s:i, s:I, s:s, s:s, s:s}", "operator", who, "partition",
                          (int)partition, "offset", (json_int_t)offset, "partner", partner,
                          "reason_code", reason, "error", rc ? err : ""));
    if (rc)
        return problem(c, 502, "redrive-failed", "Bad Gateway", err);
    watch_model_redriven(h->d.model, (int32_t)partition, offset, who, kh_now_millis());
    return respond_json(c, 200,
                        json_pack("{s:s, s:s, s:i, s:I}", "redriven", partner, "operator", who,
                                  "partition", (int)partition, "offset", (json_int_t)offset));
}

static const watch_operator *authenticate(watch_http *h, struct MHD_Connection *c, const char *url,
                                          int *denied) {
    *denied = 0;
    if (!h->d.auth || !strcmp(url, "/healthz") || !strcmp(url, "/readyz"))
        return NULL;
    const watch_operator *op =
        watch_auth_check(h->d.auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                                MHD_HTTP_HEADER_AUTHORIZATION));
    *denied = op == NULL;
    return op;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    (void)version;
    watch_http *h = cls;
    int is_post = !strcmp(method, "POST");
    if (!*state) {
        *state = kh_calloc(1, sizeof(request));
        return MHD_YES;
    }
    request *r = *state;
    if (*upload_size) {
        if (r->len + *upload_size > BODY_MAX) {
            r->too_big = 1;
        } else {
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    int denied;
    const watch_operator *op = authenticate(h, c, url, &denied);
    if (denied)
        return problem(c, 401, "unauthorized", "Unauthorized",
                       "an operator token is required (Bearer, or Basic with name and token)");
    if (is_post && !strcmp(url, "/api/v1/deadletters/redrive")) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!ct || strncmp(ct, "application/json", 16) != 0)
            return problem(c, 415, "unsupported-media-type", "Unsupported Media Type",
                           "send application/json");
        if (r->too_big)
            return problem(c, 413, "payload-too-large", "Payload Too Large",
                           "the body is over 4096 bytes");
        return serve_redrive(h, c, r, op);
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return problem(c, 405, "method-not-allowed", "Method Not Allowed",
                       "GET, or POST to /api/v1/deadletters/redrive");
    return serve_get(h, c, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode why) {
    (void)cls, (void)c, (void)why;
    free(*state);
    *state = NULL;
}

watch_http *watch_http_start(const watch_http_deps *deps, char *err, size_t errlen) {
    struct sockaddr_in addr;
    if (kh_ops_parse_listen(deps->listen, &addr)) {
        snprintf(err, errlen, "http.listen '%s' is not host:port (e.g. 127.0.0.1:8090)",
                 deps->listen);
        return NULL;
    }
    watch_http *h = kh_calloc(1, sizeof *h);
    h->d = *deps;
    make_families(h);
    size_t n;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (deps->tls_cert) {
        if (!(h->cert = kh_file_read(deps->tls_cert, 1 << 20, &n, err, errlen)) ||
            !(h->key = kh_file_read(deps->tls_key, 1 << 20, &n, err, errlen))) {
            watch_http_stop(h);
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert},
                                   {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
                                   {MHD_OPTION_END, 0, NULL}};
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, &addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT,
                                 60u, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                                 MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_ARRAY,
                                 h->cert ? tls : tls + 2, MHD_OPTION_END);
    if (!h->daemon) {
        snprintf(err, errlen,
                 "cannot listen on %s (in use, not a local address, or a bad TLS certificate/key?)",
                 deps->listen);
        watch_http_stop(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : ntohs(addr.sin_port);
    return h;
}

int watch_http_port(const watch_http *h) { return h->port; }

void watch_http_stop(watch_http *h) {
    if (!h)
        return;
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    free(h->cert);
    free(h->key);
    free(h);
}
