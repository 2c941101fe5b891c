/*
 * api — libmicrohttpd daemon, routing, the checks made on the headers
 * alone (before any body is read), answers and the ops endpoints.
 */
#include "request.h"

#include "kh_log.h"
#include "kh_ops.h"
#include "uuid.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *api_partner_name(const request *r) { return r->partner ? r->partner->name : "-"; }

/* ---- answers -------------------------------------------------------------- */

enum MHD_Result api_respond(request *r, unsigned status, const char *content_type, char *body,
                            size_t len, const char *const *headers) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (size_t i = 0; headers && headers[i]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    if (atomic_load(&r->api->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    telemetry_request(r->api->d.telemetry, r->label, status, api_partner_name(r),
                      (double)(now_ns() - r->started_ns) / 1e9);
    return rc;
}

static enum MHD_Result respond_text(request *r, unsigned status, const char *type, const char *text) {
    return api_respond(r, status, type, strdup(text), strlen(text), NULL);
}

/* The rejection in the log: who, what, which fields; never a value. */
static void log_rejection(const request *r, const problem_info *info, const char *instance,
                          size_t line, const kh_problems *fields) {
    json_t *f = json_pack("{s:s, s:s, s:i, s:s, s:s}", "route", r->label, "partner",
                          api_partner_name(r), "status", (int)info->status, "problem", info->slug,
                          "instance", instance);
    if (line)
        json_object_set_new(f, "line", json_integer((json_int_t)line));
    if (fields && fields->count) {
        json_t *list = json_array();
        for (size_t i = 0; i < fields->count; i++)
            json_array_append_new(list, json_pack("{s:s, s:s}", "pointer", fields->items[i].pointer,
                                                  "reason", kh_reason_name(fields->items[i].reason)));
        json_object_set_new(f, "errors", list);
    }
    kh_log_info(line ? "batch line rejected" : "request rejected", f);
}

json_t *api_line_problem(request *r, size_t line, problem_class c, const char *detail,
                         const kh_problems *fields) {
    char id[37];
    uuid_v4(id);
    const problem_info *info = problem_info_of(c);
    log_rejection(r, info, id, line, fields);
    telemetry_rejection(r->api->d.telemetry, info->slug, api_partner_name(r));
    return problem_new(c, detail, id, fields);
}

enum MHD_Result api_problem(request *r, problem_class c, const char *detail,
                            const kh_problems *fields, const char *const *headers) {
    char id[37];
    uuid_v4(id);
    const problem_info *info = problem_info_of(c);
    log_rejection(r, info, id, 0, fields);
    telemetry_rejection(r->api->d.telemetry, info->slug, api_partner_name(r));
    json_t *body = problem_new(c, detail, id, fields);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return MHD_NO;
    return api_respond(r, info->status, "application/problem+json", text, strlen(text), headers);
}

static enum MHD_Result problemf(request *r, problem_class c, const char *const *headers,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result problemf(request *r, problem_class c, const char *const *headers,
                                const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return api_problem(r, c, detail, NULL, headers);
}

/* ---- routing -------------------------------------------------------------- */

static void route(request *r, const char *url) {
    static const struct { const char *path; route_id id; } fixed[] = {
        {"/v1/batch", ROUTE_BATCH},     {"/openapi.json", ROUTE_OPENAPI},
        {"/healthz", ROUTE_HEALTHZ},    {"/readyz", ROUTE_READYZ},
        {"/metrics", ROUTE_METRICS},
    };
    r->route = ROUTE_UNKNOWN;
    r->label = "unknown";
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(url, fixed[i].path) == 0) {
            r->route = fixed[i].id;
            r->label = fixed[i].path;
            return;
        }
    for (size_t i = 0; i < kh_event_type_count() && i < API_MAX_TYPES; i++)
        if (strcmp(url, r->api->event_paths[i]) == 0) {
            r->route = ROUTE_EVENT;
            r->type = kh_event_type_at(i);
            r->label = r->api->event_paths[i];
            return;
        }
}

/* ---- the ops endpoints ------------------------------------------------------ */

static enum MHD_Result serve_get(request *r) {
    api *a = r->api;
    char why[256];
    switch (r->route) {
    case ROUTE_OPENAPI:
        return respond_text(r, 200, "application/json", a->d.openapi);
    case ROUTE_HEALTHZ:
        return respond_text(r, 200, "text/plain", "ok\n");
    case ROUTE_READYZ:
        if (atomic_load(&a->draining))
            return respond_text(r, 503, "text/plain", "shutting down\n");
        if (!publisher_ready(a->pub, why, sizeof why - 1)) {
            strcat(why, "\n");
            return respond_text(r, 503, "text/plain", why);
        }
        return respond_text(r, 200, "text/plain", "ready\n");
    default: {
        telemetry *t = a->d.telemetry;
        kh_metric_set(t->requests_in_flight, NULL, (double)atomic_load(&a->in_flight));
        kh_metric_set(t->records_in_flight, NULL, (double)publisher_in_flight(a->pub));
        kh_metric_set(t->broker_ready, NULL, publisher_ready(a->pub, why, sizeof why));
        kh_metric_set(t->window_ids, NULL, (double)window_size(a->d.window));
        char *text = kh_metrics_render(a->d.metrics);
        return text ? api_respond(r, 200, "text/plain; version=0.0.4", text, strlen(text), NULL)
                    : MHD_NO;
    }
    }
}

/* ---- checks on the headers ---------------------------------------------------- */

static const char *header(const request *r, const char *name) {
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* The media type must be `want`, with no parameter but charset=utf-8. */
static int media_type_is(const char *value, const char *want) {
    if (!value)
        return 0;
    size_t n = strlen(want);
    if (strncasecmp(value, want, n) != 0)
        return 0;
    const char *p = value + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 1;
    if (*p++ != ';')
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    return strcasecmp(p, "charset=utf-8") == 0 || strcasecmp(p, "charset=\"utf-8\"") == 0;
}

static enum MHD_Result unauthorized(request *r, const char *detail, const char *challenge) {
    const char *const headers[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge, NULL};
    return api_problem(r, PROBLEM_UNAUTHORIZED, detail, NULL, headers);
}

/* Who is calling: Authorization: Bearer <key>. */
static enum MHD_Result authenticate(request *r) {
    const char *auth = header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return unauthorized(r, "send the partner's API key as: Authorization: Bearer <key>",
                            "Bearer realm=\"ketenhub\"");
    const char *key = auth + 7;
    while (*key == ' ')
        key++;
    size_t len = strlen(key);
    while (len && key[len - 1] == ' ')
        len--;
    r->table = partners_acquire(r->api->d.partners);
    r->partner = len ? partners_find_key(r->table, key, len) : NULL;
    if (!r->partner)
        return unauthorized(r, "the API key is not known",
                            "Bearer realm=\"ketenhub\", error=\"invalid_token\"");
    return MHD_YES;
}

static enum MHD_Result forbidden_type(request *r) {
    char allowed[128] = "";
    for (size_t i = 0; i < kh_event_type_count(); i++)
        if (partner_may_send(r->partner, kh_event_type_at(i)))
            snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                     allowed[0] ? ", " : "", kh_event_type_at(i)->name);
    return problemf(r, PROBLEM_FORBIDDEN_TYPE, NULL,
                    "partner %s (%s) may not send %s events; it may send: %s", r->partner->name,
                    r->partner->org_type, r->type->name, allowed);
}

/* Everything decided before reading the body. Returns MHD_YES with no
 * answer queued when the body is wanted; an answer queued now means the body
 * is never read (libmicrohttpd then closes the connection after answering). */
static enum MHD_Result admit_post(request *r) {
    api *a = r->api;
    char why[256], retry[16];
    snprintf(retry, sizeof retry, "%lld", a->d.cfg->retry_after_s);
    if (atomic_load(&a->draining)) {
        const char *const h[] = {MHD_HTTP_HEADER_RETRY_AFTER, retry, NULL};
        return problemf(r, PROBLEM_SHUTTING_DOWN, h, "this instance is stopping; send again (to another instance)");
    }
    enum MHD_Result rc = authenticate(r);
    if (!r->partner)
        return rc; /* the 401 */
    if (r->route == ROUTE_EVENT && !partner_may_send(r->partner, r->type))
        return forbidden_type(r);
    int wait_s;
    if (partner_take_token(r->partner, now_ns() / 1000000, &wait_s)) {
        char after[16];
        snprintf(after, sizeof after, "%d", wait_s);
        const char *const h[] = {MHD_HTTP_HEADER_RETRY_AFTER, after, NULL};
        return problemf(r, PROBLEM_RATE_LIMITED, h, "partner %s may send %.0f requests per second (burst %.0f)",
                        r->partner->name, r->partner->rate, r->partner->burst);
    }
    const char *want = r->route == ROUTE_BATCH ? "application/x-ndjson" : "application/json";
    if (!media_type_is(header(r, MHD_HTTP_HEADER_CONTENT_TYPE), want))
        return problemf(r, PROBLEM_MEDIA_TYPE, NULL, "send Content-Type: %s", want);
    r->limit = (size_t)(r->route == ROUTE_BATCH ? a->d.cfg->max_batch_body : a->d.cfg->max_body);
    const char *length = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, NULL, 10) > r->limit)
        return problemf(r, PROBLEM_TOO_LARGE, NULL, "the body may be at most %zu bytes", r->limit);
    if (!publisher_ready(a->pub, why, sizeof why)) {
        const char *const h[] = {MHD_HTTP_HEADER_RETRY_AFTER, retry, NULL};
        return problemf(r, PROBLEM_UNAVAILABLE, h, "the broker is not reachable (%s); nothing was stored, send again later", why);
    }
    return MHD_YES;
}

/* First call: headers only. */
static enum MHD_Result start(request *r, const char *url, const char *method) {
    route(r, url);
    int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (r->route == ROUTE_UNKNOWN)
        return problemf(r, PROBLEM_NOT_FOUND, NULL,
                        "no such resource; the API is described at /openapi.json");
    int api_route = r->route == ROUTE_EVENT || r->route == ROUTE_BATCH;
    if (api_route ? !is_post : !is_get) {
        const char *const h[] = {MHD_HTTP_HEADER_ALLOW, api_route ? "POST" : "GET, HEAD", NULL};
        return problemf(r, PROBLEM_METHOD, h, "%s is not allowed here; use %s", method,
                        api_route ? "POST" : "GET");
    }
    /* A GET is answered on the next call: an answer queued with the headers
     * makes libmicrohttpd close the connection, and keep-alive matters. */
    return api_route ? admit_post(r) : MHD_YES;
}

static void receive(request *r, const char *data, size_t size) {
    if (r->over_limit || r->len + size > r->limit) {
        r->over_limit = 1; /* the rest is read and dropped, then answered 413 */
        return;
    }
    if (r->len + size > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        while (cap < r->len + size)
            cap *= 2;
        if (cap > r->limit)
            cap = r->limit;
        r->body = realloc(r->body, cap + 1);
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, size);
    r->len += size;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    (void)version;
    request *r = *state;
    if (!r) {
        api *a = cls;
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->api = a;
        r->conn = conn;
        r->started_ns = now_ns();
        atomic_init(&r->pending, 1);
        atomic_fetch_add(&a->in_flight, 1);
        *state = r;
        return start(r, url, method);
    }
    if (*upload_size) {
        receive(r, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->route != ROUTE_EVENT && r->route != ROUTE_BATCH)
        return serve_get(r);
    if (r->phase == PHASE_WAITING)
        return submit_answer(r);
    if (r->over_limit)
        return problemf(r, PROBLEM_TOO_LARGE, NULL, "the body may be at most %zu bytes", r->limit);
    return submit_process(r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **state,
                      enum MHD_RequestTerminationCode why) {
    (void)conn;
    (void)why;
    api *a = cls;
    request *r = *state;
    if (!r)
        return;
    submit_free(r);
    partners_release(a->d.partners, r->table);
    free(r->body);
    free(r);
    *state = NULL;
    atomic_fetch_sub(&a->in_flight, 1);
}

/* ---- the daemon ------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    kh_log_warn("libmicrohttpd", json_pack("{s:s}", "message", text));
}

static char *slurp(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    size_t cap = 8192, len = 0, n;
    char *text = malloc(cap);
    while ((n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2)
            text = realloc(text, cap *= 2);
    }
    fclose(f);
    text[len] = '\0';
    return text;
}

api *api_new(const api_deps *deps) {
    api *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->d = *deps;
    a->quiesced = MHD_INVALID_SOCKET;
    for (size_t i = 0; i < kh_event_type_count() && i < API_MAX_TYPES; i++)
        snprintf(a->event_paths[i], sizeof a->event_paths[i], "/v1/%s", kh_event_type_at(i)->plural);
    return a;
}

int api_start(api *a, publisher *pub, char *err, size_t errlen) {
    const settings *cfg = a->d.cfg;
    struct sockaddr_in addr;
    if (kh_ops_parse_listen(cfg->listen, &addr)) {
        snprintf(err, errlen, "http.listen '%s' is not host:port (e.g. 127.0.0.1:8080)", cfg->listen);
        return -1;
    }
    a->pub = pub;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (cfg->tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "this libmicrohttpd has no TLS support");
            return -1;
        }
        if (!(a->tls_cert = slurp(cfg->tls_cert, err, errlen)) ||
            !(a->tls_key = slurp(cfg->tls_key, err, errlen)))
            return -1;
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    a->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, a, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit,
        MHD_OPTION_NOTIFY_COMPLETED, completed, a, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
        MHD_OPTION_ARRAY, a->tls_cert ? tls : tls + 2, MHD_OPTION_END);
    if (!a->daemon) {
        snprintf(err, errlen, "cannot listen on %s (in use, not a local address, or a bad TLS certificate/key?)",
                 cfg->listen);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->daemon, MHD_DAEMON_INFO_BIND_PORT);
    a->port = info ? info->port : ntohs(addr.sin_port);
    return 0;
}

int api_port(const api *a) { return a->port; }

void api_quiesce(api *a) {
    atomic_store(&a->draining, 1);
    if (a->daemon && a->quiesced == MHD_INVALID_SOCKET) {
        a->quiesced = MHD_quiesce_daemon(a->daemon);
        /* Refuse new connections at once rather than leave them in the
         * backlog; the socket itself is closed after MHD_stop_daemon, as
         * libmicrohttpd requires. */
        if (a->quiesced != MHD_INVALID_SOCKET)
            shutdown(a->quiesced, SHUT_RDWR);
    }
}

int64_t api_in_flight(const api *a) { return atomic_load(&a->in_flight); }

void api_free(api *a) {
    if (!a)
        return;
    if (a->daemon)
        MHD_stop_daemon(a->daemon);
    if (a->quiesced != MHD_INVALID_SOCKET)
        close(a->quiesced);
    free(a->tls_cert);
    free(a->tls_key);
    free(a);
}
