/*
 * telemetry — the ingest metrics (Prometheus, via kh_metrics) and the
 * record of every answer in the log. Labels are routes, statuses, problem
 * classes, event types and partner names: never anything a partner sent.
 */
#ifndef INGEST_TELEMETRY_H
#define INGEST_TELEMETRY_H

#include <stdint.h>

#include "kh_metrics.h"

typedef struct telemetry {
    kh_family *requests;       /* route, status, partner */
    kh_family *rejections;     /* class, partner */
    kh_family *events;         /* type, partner, outcome */
    kh_family *duration;       /* route */
    kh_family *produce_errors; /* error */
    kh_family *requests_in_flight;
    kh_family *records_in_flight;
    kh_family *broker_ready;
    kh_family *window_ids;
    kh_family *reloads; /* what, result */
    kh_family *connections_open;
    kh_family *connections_closed; /* reason: header-deadline */
    kh_family *accept_errors;      /* reason: EMFILE, ENFILE, ENOBUFS, ENOMEM */
    kh_family *unsure_lookups;     /* result: found, absent, unknown */
} telemetry;

/* Registers the families in m. */
void ingest_telemetry_init(telemetry *t, kh_metrics *m);

/* One answered request. partner is "-" before authentication. */
void ingest_telemetry_request(telemetry *t, const char *route, unsigned status, const char *partner,
                              double seconds);

/* One rejection (a whole request, or one batch line) of problem class slug. */
void ingest_telemetry_rejection(telemetry *t, const char *slug, const char *partner);

/* One event outcome: accepted, duplicate or rejected. */
void ingest_telemetry_event(telemetry *t, const char *type, const char *partner,
                            const char *outcome);

void ingest_telemetry_produce_error(telemetry *t, const char *error);

#endif
