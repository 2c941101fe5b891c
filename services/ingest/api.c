/*
 * api — libmicrohttpd daemon, routing, the checks made on the headers
 * alone (before any body is read), answers and the ops endpoints.
 */
#include "request.h"

#include "answer.h"
#include "http_check.h"
#include "submit.h"

#include "kh_alloc.h"
#include "kh_file.h"
#include "kh_log.h"
#include "kh_ops.h"
#include "kh_uuid.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static enum MHD_Result respond_text(request *r, unsigned status, const char *type,
                                    const char *text) {
    return ingest_answer_respond(r, status, type, kh_strdup(text), strlen(text), NULL);
}

static enum MHD_Result problemf(request *r, ingest_problem_class c, const char *const *headers,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result problemf(request *r, ingest_problem_class c, const char *const *headers,
                                const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return ingest_answer_problem(r, c, detail, NULL, headers);
}

/* ---- routing -------------------------------------------------------------- */

static void find_endpoint(request *r, const char *url) {
    static const struct {
        const char *path;
        ingest_endpoint id;
    } fixed[] = {
        {"/v1/batch", ENDPOINT_BATCH},  {"/openapi.json", ENDPOINT_OPENAPI},
        {"/healthz", ENDPOINT_HEALTHZ}, {"/readyz", ENDPOINT_READYZ},
        {"/metrics", ENDPOINT_METRICS},
    };
    r->endpoint = ENDPOINT_UNKNOWN;
    r->label = "unknown";
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(url, fixed[i].path) == 0) {
            r->endpoint = fixed[i].id;
            r->label = fixed[i].path;
            return;
        }
    for (size_t i = 0; i < kh_event_type_count(); i++)
        if (strcmp(url, r->api->event_paths[i]) == 0) {
            r->endpoint = ENDPOINT_EVENT;
            r->type = kh_event_type_at(i);
            r->label = r->api->event_paths[i];
            return;
        }
}

/* ---- the ops endpoints ------------------------------------------------------ */

int ingest_api_ready(ingest_api *a, char *why, size_t len) {
    size_t open = a->conns ? ingest_conns_open(a->conns) : 0;
    size_t limit = (size_t)a->d.cfg->connection_limit;
    if (atomic_load(&a->draining)) {
        snprintf(why, len, "shutting down");
        return 0;
    }
    if (open * 10 >= limit * 9) {
        snprintf(why, len, "saturated: %zu of at most %zu connections open", open, limit);
        return 0;
    }
    return ingest_publisher_ready(a->pub, why, len);
}

static enum MHD_Result serve_get(request *r) {
    ingest_api *a = r->api;
    char why[256];
    switch (r->endpoint) {
    case ENDPOINT_OPENAPI: return respond_text(r, 200, "application/json", a->d.openapi);
    case ENDPOINT_HEALTHZ: return respond_text(r, 200, "text/plain", "ok\n");
    case ENDPOINT_READYZ:
        if (!ingest_api_ready(a, why, sizeof why - 1)) {
            strcat(why, "\n");
            return respond_text(r, 503, "text/plain", why);
        }
        return respond_text(r, 200, "text/plain", "ready\n");
    default: {
        telemetry *t = a->d.telemetry;
        kh_metric_set(t->requests_in_flight, NULL, (double)atomic_load(&a->in_flight));
        kh_metric_set(t->records_in_flight, NULL, (double)ingest_publisher_in_flight(a->pub));
        kh_metric_set(t->broker_ready, NULL, ingest_publisher_ready(a->pub, why, sizeof why));
        kh_metric_set(t->window_ids, NULL, (double)ingest_window_size(a->d.window));
        kh_metric_set(t->connections_open, NULL, (double)ingest_conns_open(a->conns));
        char *text = kh_metrics_render(a->d.metrics);
        return text ? ingest_answer_respond(r, 200, "text/plain; version=0.0.4", text, strlen(text),
                                            NULL)
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
    return ingest_answer_problem(r, INGEST_PROBLEM_UNAUTHORIZED, detail, NULL, headers);
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
    r->table = ingest_partners_acquire(r->api->d.partners);
    r->partner = len ? ingest_partners_find_key(r->table, key, len) : NULL;
    if (!r->partner)
        return unauthorized(r, "the API key is not known",
                            "Bearer realm=\"ketenhub\", error=\"invalid_token\"");
    return MHD_YES;
}

static enum MHD_Result forbidden_type(request *r) {
    char allowed[128] = "";
    for (size_t i = 0; i < kh_event_type_count(); i++)
        if (ingest_partner_may_send(r->partner, kh_event_type_at(i)))
            snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                     allowed[0] ? ", " : "", kh_event_type_at(i)->name);
    return problemf(r, INGEST_PROBLEM_FORBIDDEN_TYPE, NULL,
                    "partner %s (%s) may not send %s events; it may send: %s", r->partner->name,
                    r->partner->org_type, r->type->name, allowed);
}

/* Everything decided before reading the body. Returns MHD_YES with no
 * answer queued when the body is wanted; an answer queued now means the body
 * is never read (libmicrohttpd then closes the connection after answering). */
static enum MHD_Result admit_post(request *r) {
    ingest_api *a = r->api;
    char why[256], retry[16];
    snprintf(retry, sizeof retry, "%lld", a->d.cfg->retry_after_s);
    if (atomic_load(&a->draining)) {
        const char *const h[] = {MHD_HTTP_HEADER_RETRY_AFTER, retry, NULL};
        return problemf(r, INGEST_PROBLEM_SHUTTING_DOWN, h,
                        "this instance is stopping; send again (to another instance)");
    }
    enum MHD_Result rc = authenticate(r);
    if (!r->partner)
        return rc; /* the 401 */
    if (r->endpoint == ENDPOINT_EVENT && !ingest_partner_may_send(r->partner, r->type))
        return forbidden_type(r);
    int wait_s;
    if (ingest_partner_take_token(r->partner, ingest_answer_now_ns() / 1000000, &wait_s)) {
        char after[16];
        snprintf(after, sizeof after, "%d", wait_s);
        const char *const h[] = {MHD_HTTP_HEADER_RETRY_AFTER, after, NULL};
        return problemf(r, INGEST_PROBLEM_RATE_LIMITED, h,
                        "partner %s may send %.0f requests per second (burst %.0f)",
                        r->partner->name, r->partner->rate, r->partner->burst);
    }
    const char *want = r->endpoint == ENDPOINT_BATCH ? "application/x-ndjson" : "application/json";
    if (!media_type_is(header(r, MHD_HTTP_HEADER_CONTENT_TYPE), want))
        return problemf(r, INGEST_PROBLEM_MEDIA_TYPE, NULL, "send Content-Type: %s", want);
    r->limit = (size_t)(r->endpoint == ENDPOINT_BATCH ? a->d.cfg->max_batch_body
                                                      : a->d.cfg->max_body);
    const char *length = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, NULL, 10) > r->limit)
        return problemf(r, INGEST_PROBLEM_TOO_LARGE, NULL, "the body may be at most %zu bytes",
                        r->limit);
    if (!ingest_publisher_ready(a->pub, why, sizeof why)) {
        const char *const h[] = {MHD_HTTP_HEADER_RETRY_AFTER, retry, NULL};
        return problemf(r, INGEST_PROBLEM_UNAVAILABLE, h,
                        "the broker is not reachable (%s); nothing was stored, send again later",
                        why);
    }
    return MHD_YES;
}

typedef struct fields {
    ingest_http_field *items;
    size_t count, cap;
} fields;

static enum MHD_Result keep_field(void *cls, enum MHD_ValueKind kind, const char *name,
                                  size_t name_len, const char *value, size_t value_len) {
    (void)kind;
    fields *f = cls;
    if (f->count == f->cap)
        f->items = kh_realloc(f->items, (f->cap = f->cap ? f->cap * 2 : 32) * sizeof *f->items);
    f->items[f->count++] = (ingest_http_field){name, value ? value : "", name_len,
                                               value ? value_len : 0};
    return MHD_YES;
}

/* The head as libmicrohttpd parsed it, every field line of it, checked by
 * http_check: a second look, as front.c's guard checked the raw bytes of
 * every head before the library read them (the raw target and the head's
 * size are only checked there). Returns 0 when it holds, or -1 with the
 * rejection queued and its result in *answered. */
static int check_head(request *r, const char *method, const char *version,
                      enum MHD_Result *answered) {
    fields f = {0};
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, keep_field, &f);
    ingest_http_head head = {method, version, 0, 0, f.items, f.count};
    ingest_http_verdict v;
    int rc = ingest_http_check(&head, &v);
    free(f.items);
    if (rc == 0)
        return 0;
    const char *const identity[] = {MHD_HTTP_HEADER_ACCEPT_ENCODING, "identity", NULL};
    *answered = problemf(r, v.cls, v.accept_encoding ? identity : NULL, "%s", v.detail);
    return -1;
}

/* First call: headers only. */
static enum MHD_Result start(request *r, const char *url, const char *method, const char *version) {
    enum MHD_Result answered;
    if (check_head(r, method, version, &answered))
        return answered;
    find_endpoint(r, ingest_http_origin_path(url));
    if (!ingest_http_method_known(method))
        return problemf(r, INGEST_PROBLEM_NOT_IMPLEMENTED, NULL,
                        "ingest knows no such method; the API uses GET, HEAD and POST");
    int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                 strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (r->endpoint == ENDPOINT_UNKNOWN)
        return problemf(r, INGEST_PROBLEM_NOT_FOUND, NULL,
                        "no such resource; the API is described at /openapi.json");
    int api_route = r->endpoint == ENDPOINT_EVENT || r->endpoint == ENDPOINT_BATCH;
    if (api_route ? !is_post : !is_get) {
        const char *const h[] = {MHD_HTTP_HEADER_ALLOW, api_route ? "POST" : "GET, HEAD", NULL};
        return problemf(r, INGEST_PROBLEM_METHOD, h, "%s is not allowed here; use %s", method,
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
        r->body = kh_realloc(r->body, cap + 1);
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, size);
    r->len += size;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    request *r = *state;
    if (!r) {
        ingest_api *a = cls;
        r = kh_calloc(1, sizeof *r);
        r->api = a;
        r->conn = conn;
        r->started_ns = ingest_answer_now_ns();
        atomic_init(&r->pending, 1);
        atomic_fetch_add(&a->in_flight, 1);
        *state = r;
        return start(r, url, method, version);
    }
    if (*upload_size) {
        receive(r, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->endpoint != ENDPOINT_EVENT && r->endpoint != ENDPOINT_BATCH)
        return serve_get(r);
    if (r->phase == PHASE_WAITING)
        return ingest_submit_answer(r);
    if (r->over_limit)
        return problemf(r, INGEST_PROBLEM_TOO_LARGE, NULL, "the body may be at most %zu bytes",
                        r->limit);
    return ingest_submit_process(r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **state,
                      enum MHD_RequestTerminationCode why) {
    (void)why;
    (void)conn;
    ingest_api *a = cls;
    request *r = *state;
    if (!r)
        return;
    ingest_submit_free(r);
    ingest_partners_release(a->d.partners, r->table);
    free(r->body);
    free(r);
    *state = NULL;
    atomic_fetch_sub(&a->in_flight, 1);
}

/* ---- the daemon ------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* libmicrohttpd answers some bad requests itself, before the access
 * handler sees them, with a fixed HTML page ingest cannot replace in
 * 0.9.75. front.c's guard lets none of those reach it (front.h); should
 * one still come, its log line is the one place that learns of it: it is
 * logged and counted here like ingest's own rejections. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    ingest_api *a = cls;
    /* The library's end of each connection is a local socket (front.h),
     * which 0.9.75 takes for TCP when it is added: setting TCP_NODELAY and
     * TCP_CORK on it fails harmlessly (no Nagle delay on a local socket),
     * with these lines for every answer. */
    static const char nodelay[] = "Setting %s option to %s state failed",
                      push[] = "Failed to push the data from buffers";
    if (strncmp(fmt, nodelay, sizeof nodelay - 1) == 0 || strncmp(fmt, push, sizeof push - 1) == 0)
        return;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    const char *code = strstr(text, "HTTP response code is ");
    unsigned status = code ? (unsigned)strtoul(code + 22, NULL, 10) : 0;
    if (status < 400 || status > 599) {
        kh_log_warn("libmicrohttpd", json_pack("{s:s}", "message", text));
        return;
    }
    char *title = strstr(text, "<title>"), *end = title ? strstr(title, "</title>") : NULL;
    if (end)
        *end = '\0';
    ingest_telemetry_request(a->d.telemetry, "library", status, "-", 0);
    ingest_telemetry_rejection(a->d.telemetry, "http-library", "-");
    kh_log_info("request rejected by libmicrohttpd",
                json_pack("{s:s, s:s, s:i, s:s, s:s}", "route", "library", "partner", "-", "status",
                          (int)status, "problem", "http-library", "reason",
                          title ? title + 7 : text));
}

ingest_api *ingest_api_new(const ingest_api_deps *deps) {
    ingest_api *a = kh_calloc(1, sizeof *a);
    a->d = *deps;
    for (size_t i = 0; i < kh_event_type_count(); i++)
        snprintf(a->event_paths[i], sizeof a->event_paths[i], "/v1/%s",
                 kh_event_type_at(i)->plural);
    return a;
}

/* The certificate and key as PEM text, kept while front.c runs (it
 * terminates TLS; front.h). */
static int load_tls(ingest_api *a, char *err, size_t errlen) {
    if (!(a->tls_cert = kh_file_read(a->d.cfg->tls_cert, 1 << 20, NULL, err, errlen)) ||
        !(a->tls_key = kh_file_read(a->d.cfg->tls_key, 1 << 20, NULL, err, errlen)))
        return -1;
    return 0;
}

int ingest_api_start(ingest_api *a, publisher *pub, char *err, size_t errlen) {
    const settings *cfg = a->d.cfg;
    struct sockaddr_in addr;
    if (kh_ops_parse_listen(cfg->listen, &addr)) {
        snprintf(err, errlen, "http.listen '%s' is not host:port (e.g. 127.0.0.1:8080)",
                 cfg->listen);
        return -1;
    }
    a->pub = pub;
    char why[200];
    if (!(a->front = ingest_front_listen(&addr, why, sizeof why))) {
        snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen, why);
        return -1;
    }
    a->port = ingest_front_port(a->front);
    if (!(a->conns = ingest_conns_new(cfg->header_timeout_s, cfg->idle_timeout_s,
                                      (size_t)cfg->connection_limit, (size_t)cfg->per_address_limit,
                                      a->d.telemetry, err, errlen)))
        return -1;
    /* front.c accepts the connections (and applies the limits, checks the
     * framing, terminates TLS), so the library has no listening socket of
     * its own and no TLS. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    if (cfg->tls_cert && load_tls(a, err, errlen))
        return -1;
    /* The logger first, so it sees every message; strictness 0, so a
     * missing Host reaches ingest's own check (libmicrohttpd's strict mode
     * answers it with a doubled status line); the rest is http_check. The
     * library's connection limit is per thread (the total divided by the
     * threads, each socket going to one by its number): conns.c applies
     * the real limits, so the library's only has to stay out of the way. */
    a->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, a, MHD_OPTION_EXTERNAL_LOGGER,
                                 mhd_log, a, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout_s,
                                 MHD_OPTION_CONNECTION_LIMIT,
                                 (unsigned)(cfg->connection_limit * cfg->threads),
                                 MHD_OPTION_STRICT_FOR_CLIENT, 0, MHD_OPTION_NOTIFY_COMPLETED,
                                 completed, a, MHD_OPTION_END);
    if (!a->daemon) {
        snprintf(err, errlen, "cannot start libmicrohttpd on %s", cfg->listen);
        return -1;
    }
    ingest_front_cfg fc = {a->tls_cert, a->tls_key,
                           (unsigned long long)(cfg->max_body > cfg->max_batch_body
                                                    ? cfg->max_body
                                                    : cfg->max_batch_body),
                           (unsigned)cfg->threads, (size_t)cfg->connection_limit};
    return ingest_front_run(a->front, a->daemon, a->conns, a->d.telemetry, &fc, err, errlen);
}

int ingest_api_port(const ingest_api *a) { return a->port; }

void ingest_api_quiesce(ingest_api *a) {
    atomic_store(&a->draining, 1);
    /* Refuse new connections at once rather than leave them in the backlog. */
    ingest_front_refuse(a->front);
}

int64_t ingest_api_in_flight(const ingest_api *a) { return atomic_load(&a->in_flight); }

void ingest_api_free(ingest_api *a) {
    if (!a)
        return;
    ingest_front_free(a->front); /* first: nothing is handed to the daemon after this */
    if (a->daemon)
        MHD_stop_daemon(a->daemon);
    ingest_conns_free(a->conns);
    free(a->tls_cert);
    free(a->tls_key);
    free(a);
}
