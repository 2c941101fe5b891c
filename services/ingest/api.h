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
#include "kh_config.h"
#include "kh_metrics.h"
#include "partners.h"
#include "publisher.h"
#include "settings.h"
#include "telemetry.h"
#include "window.h"

typedef struct ingest_api ingest_api;

typedef struct ingest_api_deps {
    const settings *cfg;
    const ingest_event_ctx *events;
    partners_store *partners;
    window *window;
    telemetry *telemetry;
    kh_metrics *metrics;
    const char *openapi;    /* the OpenAPI document served at /openapi.json */
    const kh_config *kafka; /* the kafka.* settings, for looking on a topic (lookup.h) */
} ingest_api_deps;

/* An API that is not listening yet. The deps must outlive it. */
ingest_api *ingest_api_new(const ingest_api_deps *deps);

/* Listens on cfg->listen (TLS when configured) and serves. Returns 0, or
 * -1 with a message in err. */
int ingest_api_start(ingest_api *a, publisher *pub, char *err, size_t errlen);

/* The port actually bound. */
int ingest_api_port(const ingest_api *a);

/* Stops accepting connections; requests arriving on open connections get
 * 503 shutting-down, requests in progress go on. */
void ingest_api_quiesce(ingest_api *a);

/* 1 when the API takes events; else 0 with why (shutting down; saturated:
 * 90% of http.connection_limit connections open; the broker's state). */
int ingest_api_ready(ingest_api *a, char *why, size_t len);

/* Requests received and not yet answered. */
int64_t ingest_api_in_flight(const ingest_api *a);

/* Stops the daemon (after the in-flight requests are answered) and frees. */
void ingest_api_free(ingest_api *a);

#endif
