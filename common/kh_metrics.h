/*
 * kh_metrics — counters, gauges and histograms in the Prometheus text
 * exposition format, for every service's /metrics.
 *
 * A family has a name, a help text and fixed label names; its children are
 * made on first use of a label-value tuple. All updates are thread-safe.
 * Label values must never carry a BSN or a child's data: use partner codes,
 * routes, statuses, rules — values drawn from small, known sets.
 *
 * Families belong to the registry; the registry frees them.
 */
#ifndef KH_METRICS_H
#define KH_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct kh_metrics kh_metrics;
typedef struct kh_family kh_family;

kh_metrics *kh_metrics_new(void);
void kh_metrics_free(kh_metrics *m);

/* labels: comma-separated label names ("route,status,partner"), or NULL for
 * a family without labels. Names follow Prometheus conventions
 * (ketenhub_ingest_requests_total). */
kh_family *kh_metrics_counter(kh_metrics *m, const char *name, const char *help,
                              const char *labels);
kh_family *kh_metrics_gauge(kh_metrics *m, const char *name, const char *help, const char *labels);

/* Histogram with the given upper bounds (ascending, +Inf is implied). */
kh_family *kh_metrics_histogram(kh_metrics *m, const char *name, const char *help,
                                const char *labels, const double *bounds, size_t nbounds);

/* values: one per label name, in order (NULL when the family has none). */
void kh_metric_add(kh_family *f, const char *const *values, double n);
void kh_metric_set(kh_family *f, const char *const *values, double v);
void kh_metric_observe(kh_family *f, const char *const *values, double v);

/* The current value of a counter or gauge child (0 when it does not exist). */
double kh_metric_value(kh_family *f, const char *const *values);

/* Renders every family; the caller frees the text. */
char *kh_metrics_render(kh_metrics *m);

#endif
