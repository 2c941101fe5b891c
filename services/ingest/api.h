/*
 * api — the partner-facing HTTP API on libmicrohttpd:
 *   POST /v1/aanmeldingen | /v1/tlvs | /v1/beschikkingen | /v1/verwijzingen
 *   POST /v1/batch
 *   GET  /openapi.json, /healthz, /readyz, /metrics
 *
 * libmicrohttpd runs http.threads epoll threads. A request whose records
 * are on their way to the broker is suspended (MHD_suspend_connection), so
 * no thread waits for a broker; the delivery report resumes it and the
 * answer goes out from the connection's own thread.
 */
#ifndef INGEST_API_H
#define INGEST_API_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "kh_metrics.h"
#include "partners.h"
#include "publisher.h"
#include "settings.h"
#include "telemetry.h"
#include "window.h"

typedef struct api api;

typedef struct api_deps {
    const settings *cfg;
    const event_ctx *events;
    partners_store *partners;
    window *window;
    telemetry *telemetry;
    kh_metrics *metrics;
    const char *openapi; /* the OpenAPI document served at /openapi.json */
} api_deps;

/* An API that is not listening yet. The deps must outlive it. */
api *api_new(const api_deps *deps);

/* The delivery callback to give the publisher, with the api as ud. */
void api_delivered(void *opaque, const publisher_report *report, void *ud);

/* Listens on cfg->listen (TLS when configured) and serves. Returns 0, or
 * -1 with a message in err. */
int api_start(api *a, publisher *pub, char *err, size_t errlen);

/* The port actually bound. */
int api_port(const api *a);

/* Stops accepting connections; requests arriving on open connections get
 * 503 shutting-down, requests in progress go on. */
void api_quiesce(api *a);

/* Requests received and not yet answered. */
int64_t api_in_flight(const api *a);

/* Stops the daemon (after the in-flight requests are answered) and frees. */
void api_free(api *a);

#endif
