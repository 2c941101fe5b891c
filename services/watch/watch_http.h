/*
 * watch_http — ketenhub-watch's HTTP side (libmicrohttpd, its own
 * threads): the page, the JSON API (openapi.json beside this file),
 * /healthz, /readyz, /metrics, and the redrive of a dead letter, with the
 * access rules of watch_auth. Errors are RFC 9457 problem+json.
 */
#ifndef WATCH_HTTP_H
#define WATCH_HTTP_H

#include "kh_metrics.h"
#include "kh_ops.h"
#include "watch_auth.h"
#include "watch_model.h"
#include "watch_redrive.h"
#include "watch_region.h"

typedef struct watch_http_deps {
    const char *listen;
    const char *tls_cert, *tls_key; /* PEM file paths, or NULL for plain HTTP */
    const watch_auth *auth;         /* NULL: no tokens (loopback only) */
    watch_model *model;
    kh_metrics *metrics;
    const watch_redrive_ctx *redrive;
    kh_ops_ready_fn ready;
    void *ready_ud;
} watch_http_deps;

typedef struct watch_http watch_http;

/* Starts serving; NULL with err filled. deps and what it points to must
 * outlive the server. */
watch_http *watch_http_start(const watch_http_deps *deps, char *err, size_t errlen);
int watch_http_port(const watch_http *h);
void watch_http_stop(watch_http *h);

#endif
