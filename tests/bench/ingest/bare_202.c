/*
 * bench_bare_202 — the benchmark's baseline: libmicrohttpd configured as
 * ketenhub-ingest configures it (epoll, an internal pool of 2 threads,
 * keep-alive) that reads each POST body and answers 202 with a body of the
 * size of ingest's, doing no work. The ratio ingest / this server is the
 * cost of ingest's work on top of HTTP.
 *
 *   bench_bare_202 PORT        (runs until SIGTERM or SIGINT)
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static const char answer[] =
    "{\"event_id\":\"3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01\",\"topic\":\"ketenhub.aanmelding.v1\","
    "\"partition\":3,\"offset\":123456}";

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    if (*state == NULL) {
        *state = conn;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof answer - 1, (void *)answer,
                                                             MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, 202, r);
    MHD_destroy_response(r);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: bench_bare_202 PORT\n");
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                                MHD_ALLOW_SUSPEND_RESUME,
                                            (uint16_t)atoi(argv[1]), NULL, NULL, handle, NULL,
                                            MHD_OPTION_THREAD_POOL_SIZE, 2u,
                                            MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                                            MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench_bare_202: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
