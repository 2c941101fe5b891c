/*
 * push_metrics — the Prometheus series of ketenhub-push (README.md,
 * "Metrics"): counters the loop and the outcome writer add to as things
 * happen, and gauges refreshed from the partner state each tick.
 * Single-threaded like the loop; the families belong to the service's
 * kh_metrics registry, which serves them to the ops thread.
 */
#ifndef PUSH_METRICS_H
#define PUSH_METRICS_H

#include "kh_metrics.h"
#include "push_partner.h"

typedef struct push_metrics {
    kh_family *records, *deadletters, *deliveries, *attempts, *retries, *deferred, *in_flight,
        *queued, *latency, *oldest, *subscriptions, *reloads, *paused, *assigned;
} push_metrics;

/* Registers every family in r. */
void push_metrics_init(push_metrics *m, kh_metrics *r);

/* Adds 1 to the series of f labelled a (and b, when f has two labels). */
void push_metrics_count(kh_family *f, const char *a, const char *b);

/* The result label of an HTTP attempt: "2xx", "408", "timeout", ... */
const char *push_metrics_result(long status, int timed_out);

/* The gauges that describe state rather than events: per partner its
 * queues, requests in flight and oldest delivery; and which topic kinds
 * are paused. */
void push_metrics_refresh(push_metrics *m, push_partners *ps, int64_t now_ms, int main_paused,
                          int retry_paused);

#endif
