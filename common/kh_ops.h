/*
 * kh_ops — the operations endpoints every service serves over HTTP:
 *   GET /healthz   200 "ok" while the process runs its loop
 *   GET /readyz    200 when the service can do its work (e.g. the broker is
 *                  reachable), else 503 with the reason
 *   GET /metrics   the Prometheus text of the service's kh_metrics
 * Anything else is 404 (problem+json). libmicrohttpd serves it from its own
 * thread, so a busy or stuck main loop still answers /metrics.
 */
#ifndef KH_OPS_H
#define KH_OPS_H

#include <stddef.h>

#include "kh_metrics.h"

typedef struct kh_ops kh_ops;

/* Returns 1 when ready; otherwise writes the reason into why. Called from
 * the HTTP thread. */
typedef int (*kh_ops_ready_fn)(void *ud, char *why, size_t whylen);

/* Starts serving on listen ("127.0.0.1:9101"; port 0 picks a free one).
 * ready may be NULL (always ready). Returns NULL with err filled. */
kh_ops *kh_ops_start(const char *listen, kh_metrics *metrics, kh_ops_ready_fn ready, void *ud,
                     char *err, size_t errlen);

/* The port actually bound. */
int kh_ops_port(const kh_ops *ops);

void kh_ops_stop(kh_ops *ops);

/* Parses "host:port" into an IPv4 socket address; 0 or -1. */
struct sockaddr_in;
int kh_ops_parse_listen(const char *listen, struct sockaddr_in *out);

#endif
