/*
 * kh_ops — /healthz, /readyz and /metrics on libmicrohttpd's internal thread.
 */
#include "kh_ops.h"

#include "kh_alloc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kh_ops {
    struct MHD_Daemon *daemon;
    kh_metrics *metrics;
    kh_ops_ready_fn ready;
    void *ud;
    int port;
};

int kh_ops_parse_listen(const char *listen, struct sockaddr_in *out) {
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -1;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
                     &out->sin_addr) == 1
               ? 0
               : -1;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, enum MHD_ResponseMemoryMode mode) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, mode);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    (void)version;
    (void)upload;
    kh_ops *ops = cls;
    if (*state == NULL) { /* first call: headers only */
        *state = ops;
        return MHD_YES;
    }
    *upload_size = 0;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, 405, "application/problem+json",
                     "{\"type\":\"https://ketenhub.nl/problems/method-not-allowed\","
                     "\"title\":\"Method not allowed\",\"status\":405}",
                     MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/healthz") == 0)
        return reply(conn, 200, "text/plain", "ok\n", MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/readyz") == 0) {
        char why[256] = "not ready";
        if (!ops->ready || ops->ready(ops->ud, why, sizeof why))
            return reply(conn, 200, "text/plain", "ready\n", MHD_RESPMEM_PERSISTENT);
        char *body = kh_malloc(strlen(why) + 2);
        sprintf(body, "%s\n", why);
        return reply(conn, 503, "text/plain", body, MHD_RESPMEM_MUST_FREE);
    }
    if (strcmp(url, "/metrics") == 0 && ops->metrics) {
        char *text = kh_metrics_render(ops->metrics);
        return reply(conn, 200, "text/plain; version=0.0.4", text, MHD_RESPMEM_MUST_FREE);
    }
    return reply(conn, 404, "application/problem+json",
                 "{\"type\":\"https://ketenhub.nl/problems/not-found\",\"title\":\"Not found\","
                 "\"status\":404,\"detail\":\"this port serves /healthz, /readyz and /metrics\"}",
                 MHD_RESPMEM_PERSISTENT);
}

kh_ops *kh_ops_start(const char *listen, kh_metrics *metrics, kh_ops_ready_fn ready, void *ud,
                     char *err, size_t errlen) {
    struct sockaddr_in addr;
    if (kh_ops_parse_listen(listen, &addr)) {
        snprintf(err, errlen, "ops listen address '%s' is not host:port (e.g. 127.0.0.1:9101)",
                 listen);
        return NULL;
    }
    kh_ops *ops = kh_calloc(1, sizeof *ops);
    ops->metrics = metrics;
    ops->ready = ready;
    ops->ud = ud;
    ops->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY, 0,
                                   NULL, NULL, handle, ops, MHD_OPTION_SOCK_ADDR, &addr,
                                   MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!ops->daemon) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?)", listen);
        free(ops);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(ops->daemon, MHD_DAEMON_INFO_BIND_PORT);
    ops->port = info ? info->port : ntohs(addr.sin_port);
    return ops;
}

int kh_ops_port(const kh_ops *ops) { return ops->port; }

void kh_ops_stop(kh_ops *ops) {
    if (!ops)
        return;
    MHD_stop_daemon(ops->daemon);
    free(ops);
}
