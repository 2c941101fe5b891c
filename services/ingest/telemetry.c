/*
 * telemetry — metric families of ingest.
 */
#include "telemetry.h"

#include <stdio.h>

void ingest_telemetry_init(telemetry *t, kh_metrics *m) {
    static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1,
                                    0.25,  0.5,    1,     2.5,  5,    10};
    t->requests = kh_metrics_counter(m, "ketenhub_ingest_requests_total",
                                     "HTTP requests answered, by route, status and partner.",
                                     "route,status,partner");
    t->rejections = kh_metrics_counter(
        m, "ketenhub_ingest_rejections_total",
        "Requests and batch lines rejected, by problem class and partner; none published anything.",
        "class,partner");
    t->events =
        kh_metrics_counter(m, "ketenhub_ingest_events_total",
                           "Events by type, partner and outcome (accepted, duplicate, rejected).",
                           "type,partner,outcome");
    t->duration = kh_metrics_histogram(m, "ketenhub_ingest_request_duration_seconds",
                                       "Time from the request's headers to its answer, by route.",
                                       "route", bounds, sizeof bounds / sizeof bounds[0]);
    t->produce_errors = kh_metrics_counter(m, "ketenhub_ingest_produce_errors_total",
                                           "Records the broker did not take, by librdkafka error.",
                                           "error");
    t->requests_in_flight = kh_metrics_gauge(m, "ketenhub_ingest_requests_in_flight",
                                             "Requests received and not yet answered.", NULL);
    t->records_in_flight =
        kh_metrics_gauge(m, "ketenhub_ingest_records_in_flight",
                         "Records handed to the producer and not yet acknowledged.", NULL);
    t->broker_ready = kh_metrics_gauge(m, "ketenhub_ingest_broker_ready",
                                       "1 when the broker is reachable (see /readyz).", NULL);
    t->window_ids = kh_metrics_gauge(m, "ketenhub_ingest_idempotency_window_ids",
                                     "Event ids held in the idempotency window.", NULL);
    t->reloads = kh_metrics_counter(m, "ketenhub_ingest_reloads_total",
                                    "Reloads on SIGHUP, by what (reference, partners) and result.",
                                    "what,result");
    t->connections_open = kh_metrics_gauge(m, "ketenhub_ingest_connections_open",
                                           "TCP connections open on the API port (see /readyz).",
                                           NULL);
    t->connections_closed =
        kh_metrics_counter(m, "ketenhub_ingest_connections_closed_total",
                           "Connections ingest closed itself, by reason "
                           "(header-deadline: no complete request head in time).",
                           "reason");
    t->accept_errors =
        kh_metrics_counter(m, "ketenhub_ingest_accept_errors_total",
                           "Connections left in the backlog because accept() failed, by errno "
                           "(EMFILE, ENFILE: out of descriptors; ENOBUFS, ENOMEM); the listener "
                           "pauses 100 ms or until a connection closes.",
                           "reason");
    t->unsure_lookups = kh_metrics_counter(
        m, "ketenhub_ingest_unsure_lookups_total",
        "Resubmissions of an event_id whose first write may have been stored, by what the "
        "look on the topic found (found: replayed; absent: written; unknown: 503).",
        "result");
}

void ingest_telemetry_request(telemetry *t, const char *route, unsigned status, const char *partner,
                              double seconds) {
    char code[8];
    snprintf(code, sizeof code, "%u", status);
    kh_metric_add(t->requests, (const char *[]){route, code, partner}, 1);
    kh_metric_observe(t->duration, (const char *[]){route}, seconds);
}

void ingest_telemetry_rejection(telemetry *t, const char *slug, const char *partner) {
    kh_metric_add(t->rejections, (const char *[]){slug, partner}, 1);
}

void ingest_telemetry_event(telemetry *t, const char *type, const char *partner,
                            const char *outcome) {
    kh_metric_add(t->events, (const char *[]){type, partner, outcome}, 1);
}

void ingest_telemetry_produce_error(telemetry *t, const char *error) {
    kh_metric_add(t->produce_errors, (const char *[]){error}, 1);
}
