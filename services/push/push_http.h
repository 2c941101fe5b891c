/*
 * push_http — the delivery engine: many HTTP POSTs in flight on one libcurl
 * multi handle, with connections kept alive and reused per endpoint, TLS
 * verification on (libcurl's default, never turned off here), and a
 * timeout per request. Single-threaded: push_http_run() does the network
 * work and calls each request's done callback from the caller's thread.
 *
 * Connection cache: http.max.connections idle connections are kept
 * (CURLMOPT_MAXCONNECTS); http.max.host.connections caps connections per
 * host (CURLMOPT_MAX_HOST_CONNECTIONS, 0 = no cap: partners sharing a host
 * are limited by their own concurrency instead).
 */
#ifndef PUSH_HTTP_H
#define PUSH_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct push_http push_http;

typedef struct push_http_request {
    const char *url;
    const char *body; /* not copied: must stay valid until done */
    size_t body_len;
    const char *const *headers; /* "Name: value" lines, NULL-terminated; copied */
    long timeout_ms;            /* whole request, connect included */
    const char *ca_file;        /* NULL: the system's CA store */
    const char *cert, *key;     /* TLS client certificate and key, or NULL */
} push_http_request;

typedef struct push_http_result {
    long status;            /* HTTP status; 0 when no response was received */
    int timed_out;          /* the request ran out of time */
    int64_t retry_after_ms; /* the response's Retry-After (seconds or HTTP date), -1 when none */
    double seconds;         /* duration of the request */
    char error[160];        /* status line, or libcurl's error text; never the response body */
} push_http_result;

/* Called once per request, from push_http_run(), with the ctx given to
 * push_http_new() and the request's ud. */
typedef void push_http_done_fn(void *ctx, void *ud, const push_http_result *r);

/* Returns NULL with err filled when libcurl cannot be set up. */
push_http *push_http_new(void *ctx, long max_connections, long max_host_connections, char *err,
                         size_t errlen);

/* Ends all transfers without calling their callbacks, and frees h. */
void push_http_free(push_http *h);

/* Starts a POST. Returns 0, or -1 with err filled (done is then not called). */
int push_http_start(push_http *h, const push_http_request *rq, push_http_done_fn *done, void *ud,
                    char *err, size_t errlen);

/* Progresses every transfer and calls the callbacks of those that
 * finished; when none had, waits at most timeout_ms for network activity
 * or for one of the extra file descriptors to become readable and does so
 * again. Returns 0, or -1 on a libcurl error. */
int push_http_run(push_http *h, int timeout_ms, const int *wake_fds, int nfds);

/* Requests started and not yet finished. */
int push_http_in_flight(const push_http *h);

/* Ends every transfer now, calling abandoned(ud) for each instead of done. */
void push_http_abandon_all(push_http *h, void (*abandoned)(void *ud));

#endif
