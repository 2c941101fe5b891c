/*
 * kh-test-receiver — a partner's REST endpoint for the push tests and the
 * benchmark: a real HTTP(S) server (libmicrohttpd, a thread per connection)
 * that records every request and answers per path as it is told.
 *
 *   kh-test-receiver --port N [--record FILE] [--rule PATH=MODE]...
 *                    [--tls-cert PEM --tls-key PEM [--client-ca PEM]]
 *                    [--exit-with-parent]
 *
 * Modes (default ok):
 *   ok                     200
 *   status:CODE            always CODE
 *   fail:N                 503 to the first N requests of each webhook-id, then 200
 *   retry-after:S[:N]      429 with "Retry-After: S" to the first N (default 1)
 *                          requests of each webhook-id, then 200
 *   retry-after-date:S[:N] the same with an HTTP date S seconds ahead
 *   hang:MS                wait MS milliseconds, then 200 (past a client's timeout)
 *   close                  close the connection without answering
 *
 * Control (same port): POST /_control/rule?path=P&mode=M, POST /_control/reset
 * (counters and rules), GET /_control/stats (requests counted on arrival, 2xx
 * when answered: {"requests":n,"paths":{P:{"requests":
 * n,"2xx":n}}}). With --client-ca the server asks for a client certificate
 * and answers 403 to requests without a valid one.
 *
 * --record FILE appends one JSON line per request: t_ms (wall clock, ms,
 * fractional), path, status, client_port, webhook_id, webhook_timestamp,
 * webhook_signature, authorization, content_type, client_cert (subject DN)
 * and body.
 */
#include <fcntl.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_RULES 64
#define MAX_PATHS 256
#define MAX_BODY (4 * 1024 * 1024)
#define ID_BUCKETS 4096

typedef enum { M_OK, M_STATUS, M_FAIL, M_RETRY_AFTER, M_RETRY_DATE, M_HANG, M_CLOSE } mode_kind;

typedef struct rule {
    char path[128];
    mode_kind kind;
    long a, b;
} rule;

typedef struct path_stats {
    char path[128];
    long requests, ok;
} path_stats;

/* Requests seen per (path, webhook-id), for fail:N and retry-after:S:N. */
typedef struct seen {
    struct seen *next;
    char *key;
    long n;
} seen;

typedef struct server {
    pthread_mutex_t lock;
    rule rules[MAX_RULES];
    int nrules;
    path_stats paths[MAX_PATHS];
    int npaths;
    long requests;
    seen *ids[ID_BUCKETS];
    int record_fd;
    int require_client_cert;
} server;

typedef struct request {
    char *body;
    size_t len, cap;
    int too_big;
} request;

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static int parse_mode(const char *m, rule *r) {
    r->a = r->b = 0;
    if (strcmp(m, "ok") == 0)
        r->kind = M_OK;
    else if (strcmp(m, "close") == 0)
        r->kind = M_CLOSE;
    else if (sscanf(m, "status:%ld", &r->a) == 1)
        r->kind = M_STATUS;
    else if (sscanf(m, "fail:%ld", &r->a) == 1)
        r->kind = M_FAIL;
    else if (sscanf(m, "retry-after-date:%ld:%ld", &r->a, &r->b) >= 1)
        r->kind = M_RETRY_DATE;
    else if (sscanf(m, "retry-after:%ld:%ld", &r->a, &r->b) >= 1)
        r->kind = M_RETRY_AFTER;
    else if (sscanf(m, "hang:%ld", &r->a) == 1)
        r->kind = M_HANG;
    else
        return -1;
    if ((r->kind == M_RETRY_AFTER || r->kind == M_RETRY_DATE) && r->b == 0)
        r->b = 1;
    return 0;
}

/* Called with the lock held. */
static int set_rule(server *s, const char *path, const char *mode) {
    rule r;
    if (strlen(path) >= sizeof r.path || parse_mode(mode, &r))
        return -1;
    strcpy(r.path, path);
    for (int i = 0; i < s->nrules; i++)
        if (strcmp(s->rules[i].path, path) == 0) {
            s->rules[i] = r;
            return 0;
        }
    if (s->nrules == MAX_RULES)
        return -1;
    s->rules[s->nrules++] = r;
    return 0;
}

static rule find_rule(server *s, const char *path) {
    rule r = {.kind = M_OK};
    for (int i = 0; i < s->nrules; i++)
        if (strcmp(s->rules[i].path, path) == 0)
            r = s->rules[i];
    return r;
}

static unsigned hash(const char *k) {
    unsigned h = 2166136261u;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 16777619u;
    return h % ID_BUCKETS;
}

/* How many requests for this path and id came before this one. */
static long seen_before(server *s, const char *path, const char *id) {
    char key[512];
    snprintf(key, sizeof key, "%s\n%s", path, id ? id : "");
    unsigned b = hash(key);
    for (seen *e = s->ids[b]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e->n++;
    seen *e = calloc(1, sizeof *e);
    if (e && (e->key = strdup(key))) {
        e->n = 1;
        e->next = s->ids[b];
        s->ids[b] = e;
    } else {
        free(e);
    }
    return 0;
}

static void reset(server *s) {
    for (int b = 0; b < ID_BUCKETS; b++) {
        for (seen *e = s->ids[b], *n; e; e = n) {
            n = e->next;
            free(e->key);
            free(e);
        }
        s->ids[b] = NULL;
    }
    s->nrules = s->npaths = 0;
    s->requests = 0;
}

/* Requests are counted when they arrive, answers when they are sent. */
static path_stats *stats_of(server *s, const char *path) {
    for (int i = 0; i < s->npaths; i++)
        if (strcmp(s->paths[i].path, path) == 0)
            return &s->paths[i];
    if (s->npaths == MAX_PATHS)
        return NULL;
    path_stats *p = &s->paths[s->npaths++];
    snprintf(p->path, sizeof p->path, "%s", path);
    p->requests = p->ok = 0;
    return p;
}

static void count(server *s, const char *path) {
    path_stats *p = stats_of(s, path);
    s->requests++;
    if (p)
        p->requests++;
}

static void count_answer(server *s, const char *path, unsigned status) {
    path_stats *p = stats_of(s, path);
    if (p && status >= 200 && status < 300)
        p->ok++;
}

static double wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static json_t *header_or_null(struct MHD_Connection *c, const char *name) {
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    return v ? json_string(v) : json_null();
}

static int client_port(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
        return 0;
    return ntohs(((const struct sockaddr_in *)ci->client_addr)->sin_port);
}

/* The subject DN of a verified client certificate, or NULL. */
static char *client_cert(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return NULL;
    gnutls_session_t session = ci->tls_session;
    unsigned status = 1, n = 0;
    if (gnutls_certificate_verify_peers2(session, &status) != GNUTLS_E_SUCCESS || status != 0)
        return NULL;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
    gnutls_x509_crt_t crt;
    if (!certs || n == 0 || gnutls_x509_crt_init(&crt) < 0)
        return NULL;
    char dn[512];
    size_t len = sizeof dn;
    char *out = NULL;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
        gnutls_x509_crt_get_dn(crt, dn, &len) >= 0)
        out = strdup(dn);
    gnutls_x509_crt_deinit(crt);
    return out;
}

static void record(server *s, struct MHD_Connection *c, const char *path, unsigned status,
                   const request *rq, const char *cert) {
    if (s->record_fd < 0)
        return;
    json_t *j = json_pack("{s:f, s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:s%}", "t_ms",
                          wall_ms(), "path", path, "status", (int)status, "client_port",
                          client_port(c), "webhook_id", header_or_null(c, "webhook-id"),
                          "webhook_timestamp", header_or_null(c, "webhook-timestamp"),
                          "webhook_signature", header_or_null(c, "webhook-signature"),
                          "authorization", header_or_null(c, "Authorization"), "content_type",
                          header_or_null(c, "Content-Type"), "client_cert",
                          cert ? json_string(cert) : json_null(), "body", rq->body ? rq->body : "",
                          rq->len);
    char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (line) {
        size_t n = strlen(line);
        line[n] = '\n';
        if (write(s->record_fd, line, n + 1) < 0)
            perror("kh-test-receiver: record");
    }
    free(line);
    json_decref(j);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
                             const char *retry_after) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after)
        MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result control(server *s, struct MHD_Connection *c, const char *url) {
    if (strcmp(url, "/_control/rule") == 0) {
        const char *path = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "path");
        const char *mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
        pthread_mutex_lock(&s->lock);
        int rc = path && mode ? set_rule(s, path, mode) : -1;
        pthread_mutex_unlock(&s->lock);
        return reply(c, rc ? 400 : 200, rc ? "{\"error\":\"bad path or mode\"}" : "{}", NULL);
    }
    if (strcmp(url, "/_control/reset") == 0) {
        pthread_mutex_lock(&s->lock);
        reset(s);
        pthread_mutex_unlock(&s->lock);
        return reply(c, 200, "{}", NULL);
    }
    if (strcmp(url, "/_control/stats") == 0) {
        pthread_mutex_lock(&s->lock);
        json_t *paths = json_object();
        for (int i = 0; i < s->npaths; i++)
            json_object_set_new(paths, s->paths[i].path,
                                json_pack("{s:I, s:I}", "requests",
                                          (json_int_t)s->paths[i].requests, "2xx",
                                          (json_int_t)s->paths[i].ok));
        json_t *j = json_pack("{s:I, s:o}", "requests", (json_int_t)s->requests, "paths", paths);
        pthread_mutex_unlock(&s->lock);
        char *text = json_dumps(j, JSON_COMPACT);
        enum MHD_Result rc = reply(c, 200, text, NULL);
        free(text);
        json_decref(j);
        return rc;
    }
    return reply(c, 404, "{}", NULL);
}

static void sleep_ms(long ms) {
    while (ms > 0 && !stop) {
        long step = ms < 50 ? ms : 50;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* What the rule says for this request: status (0 = close), Retry-After. */
static unsigned decide(server *s, const char *path, const char *id, char *retry_after, size_t ralen,
                       long *hang) {
    pthread_mutex_lock(&s->lock);
    rule r = find_rule(s, path);
    long before = r.kind == M_FAIL || r.kind == M_RETRY_AFTER || r.kind == M_RETRY_DATE
                      ? seen_before(s, path, id)
                      : 0;
    pthread_mutex_unlock(&s->lock);
    *hang = 0;
    switch (r.kind) {
    case M_STATUS: return (unsigned)r.a;
    case M_FAIL: return before < r.a ? 503 : 200;
    case M_RETRY_AFTER:
        if (before >= r.b)
            return 200;
        snprintf(retry_after, ralen, "%ld", r.a);
        return 429;
    case M_RETRY_DATE:
        if (before >= r.b)
            return 200;
        {
            time_t t = time(NULL) + r.a;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(retry_after, ralen, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        }
        return 429;
    case M_HANG: *hang = r.a; return 200;
    case M_CLOSE: return 0;
    case M_OK: break;
    }
    return 200;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    (void)version;
    server *s = cls;
    request *rq = *state;
    if (!rq) {
        *state = calloc(1, sizeof(request));
        return *state ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        if (rq->len + *upload_size > MAX_BODY) {
            rq->too_big = 1;
        } else {
            if (rq->len + *upload_size + 1 > rq->cap) {
                size_t cap = (rq->len + *upload_size + 1) * 2;
                char *b = realloc(rq->body, cap);
                if (!b)
                    return MHD_NO;
                rq->body = b;
                rq->cap = cap;
            }
            memcpy(rq->body + rq->len, upload, *upload_size);
            rq->len += *upload_size;
            rq->body[rq->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (strncmp(url, "/_control/", 10) == 0)
        return control(s, c, url);
    if (strcmp(method, "POST") != 0)
        return reply(c, 405, "{}", NULL);
    char *cert = s->require_client_cert ? client_cert(c) : NULL;
    char retry_after[64] = "";
    long hang = 0;
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
    unsigned status = s->require_client_cert && !cert ? 403
                      : rq->too_big                   ? 413
                                    : decide(s, url, id, retry_after, sizeof retry_after, &hang);
    pthread_mutex_lock(&s->lock);
    count(s, url);
    pthread_mutex_unlock(&s->lock);
    if (status == 200 && !(s->require_client_cert && !cert))
        sleep_ms(hang);
    pthread_mutex_lock(&s->lock);
    count_answer(s, url, status);
    record(s, c, url, status, rq, cert);
    pthread_mutex_unlock(&s->lock);
    free(cert);
    if (status == 0)
        return MHD_NO; /* closes the connection without a response */
    return reply(c, status, status < 300 ? "{\"ok\":true}" : "{\"error\":\"as told\"}",
                 retry_after[0] ? retry_after : NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode why) {
    (void)cls;
    (void)c;
    (void)why;
    request *rq = *state;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *state = NULL;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1))) {
        size_t n = fread(buf, 1, (size_t)st.st_size, f);
        buf[n] = '\0';
    }
    fclose(f);
    return buf;
}

static void usage(void) {
    fprintf(stderr, "usage: kh-test-receiver --port N [--record FILE] [--rule PATH=MODE]... "
                    "[--tls-cert PEM --tls-key PEM [--client-ca PEM]] [--exit-with-parent]\n");
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},       {"record", required_argument, NULL, 'r'},
        {"rule", required_argument, NULL, 'u'},       {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},    {"client-ca", required_argument, NULL, 'a'},
        {"exit-with-parent", no_argument, NULL, 'x'}, {NULL, 0, NULL, 0}};
    static server s;
    int port = 0, opt, with_parent = 0;
    const char *cert = NULL, *key = NULL, *ca = NULL;
    pthread_mutex_init(&s.lock, NULL);
    s.record_fd = -1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *eq;
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'x': with_parent = 1; break;
        case 'r':
            s.record_fd = open(optarg, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (s.record_fd < 0)
                return perror(optarg), 2;
            break;
        case 'u':
            eq = strchr(optarg, '=');
            if (!eq)
                return usage(), 2;
            *eq = '\0';
            if (set_rule(&s, optarg, eq + 1))
                return fprintf(stderr, "kh-test-receiver: bad rule %s\n", eq + 1), 2;
            break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'a': ca = optarg; break;
        default: return usage(), 2;
        }
    }
    if (port <= 0 || (!cert) != (!key))
        return usage(), 2;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    /* A demo that dies (kill -9) must not leave its receiver behind holding
     * the port; scripts that start it and return do not ask for this. */
    if (with_parent)
        prctl(PR_SET_PDEATHSIG, SIGTERM);
    char *cert_pem = cert ? slurp(cert) : NULL, *key_pem = key ? slurp(key) : NULL;
    char *ca_pem = ca ? slurp(ca) : NULL;
    if ((cert && (!cert_pem || !key_pem)) || (ca && !ca_pem))
        return fprintf(stderr, "kh-test-receiver: cannot read the TLS files\n"), 2;
    s.require_client_cert = ca_pem != NULL;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | (cert ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls[] = {
        {cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert_pem},
        {cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key_pem},
        {ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, ca_pem},
        {MHD_OPTION_END, 0, NULL}};
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, &s,
                                            MHD_OPTION_SOCK_ADDR, &addr,
                                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)900,
                                            MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!d)
        return fprintf(stderr, "kh-test-receiver: cannot listen on port %d\n", port), 1;
    fprintf(stderr, "kh-test-receiver: listening on 127.0.0.1:%d%s\n", port, cert ? " (TLS)" : "");
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    free(cert_pem);
    free(key_pem);
    free(ca_pem);
    pthread_mutex_lock(&s.lock);
    reset(&s);
    pthread_mutex_unlock(&s.lock);
    return 0;
}
