/*
 * request — the types shared by api.c (connection, routing, header checks),
 * answer.c (responses and problems) and submit.c (events to the broker):
 * the api itself and the state of one HTTP request. Types only, so the
 * three modules depend on it and never on each other in a circle
 * (api.c -> submit.c -> answer.c). Internal to the ingest service.
 */
#ifndef INGEST_REQUEST_H
#define INGEST_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>

#include "api.h"
#include "conns.h"
#include "front.h"
#include "kh_event.h"
#include "problem.h"

struct ingest_api {
    ingest_api_deps d;
    char event_paths[KH_EVENT_TYPES_MAX][40]; /* "/v1/<plural>": routes and metric labels */
    publisher *pub;
    struct MHD_Daemon *daemon;
    ingest_conns *conns;
    ingest_front *front; /* the listening socket and the first heads */
    atomic_int draining;
    atomic_llong in_flight;
    int port;
    char *tls_cert, *tls_key; /* PEM text, kept while front.c runs */
};

typedef enum ingest_endpoint {
    ENDPOINT_EVENT,
    ENDPOINT_BATCH,
    ENDPOINT_OPENAPI,
    ENDPOINT_HEALTHZ,
    ENDPOINT_READYZ,
    ENDPOINT_METRICS,
    ENDPOINT_UNKNOWN
} ingest_endpoint;

typedef enum item_state {
    ITEM_REJECTED, /* problem says why; nothing produced */
    ITEM_SENT,     /* produced by this item; the delivery report finishes it */
    ITEM_WAITING,  /* a resubmission waiting for the first submission's outcome */
    ITEM_REPLAYED  /* answered from the idempotency window */
} item_state;

/* One event of a request: the single event, or one line of a batch. */
typedef struct item {
    window_ticket ticket; /* first member: a finished ticket leads back to its item */
    struct request *req;
    const kh_event_type *type;
    size_t line; /* 1-based line of a batch, 0 for a single event */
    item_state state;
    json_t *problem; /* ITEM_REJECTED */
    char event_id[37];
    char key[65];
    rd_kafka_resp_err_t err; /* ITEM_SENT: the delivery error, if any */
    int possibly_persisted;
    int64_t sent_ms; /* ITEM_SENT: when the record was handed to the producer */
} item;

typedef enum phase { PHASE_RECEIVING, PHASE_WAITING } phase;

typedef struct request {
    ingest_api *api;
    struct MHD_Connection *conn;
    ingest_endpoint endpoint;
    const kh_event_type *type; /* ENDPOINT_EVENT */
    const char *label;         /* route label for metrics and logs */
    phase phase;
    partners *table;
    partner *partner;
    char *body;
    size_t len, cap, limit;
    int over_limit;
    int64_t started_ns;
    /* One per item still waiting for the broker, plus one held by the
     * handler until it has suspended the connection: whoever drops it to 0
     * resumes the connection. */
    atomic_int pending;
    item *items;
    size_t nitems;
} request;

#endif
