/*
 * push_metrics — registering push's series and refreshing its gauges.
 */
#include "push_metrics.h"

static void init_flow(push_metrics *m, kh_metrics *r) {
    m->records = kh_metrics_counter(r, "ketenhub_push_records_total",
                                    "Records read, by source (melding, event, retry).", "source");
    m->deadletters = kh_metrics_counter(r, "ketenhub_push_deadletters_total",
                                        "Dead letters written, by reason.", "reason");
    m->deliveries = kh_metrics_counter(r, "ketenhub_push_deliveries_total",
                                       "Final delivery outcomes, by partner and outcome.",
                                       "partner,outcome");
    m->attempts = kh_metrics_counter(r, "ketenhub_push_attempts_total",
                                     "HTTP attempts, by partner and result (2xx, 3xx, 4xx, 408, "
                                     "429, 5xx, timeout, error).",
                                     "partner,result");
    m->retries = kh_metrics_counter(r, "ketenhub_push_retries_total",
                                    "Failed attempts handed to the retry topic, by partner.",
                                    "partner");
    m->deferred = kh_metrics_counter(r, "ketenhub_push_deferred_total",
                                     "Jobs handed to the retry topic without an attempt, by "
                                     "partner and reason (backoff, overflow).",
                                     "partner,reason");
}

static void init_state(push_metrics *m, kh_metrics *r) {
    static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25,  0.5,    1,     2.5,  5,     10,   30};
    m->in_flight = kh_metrics_gauge(r, "ketenhub_push_in_flight", "Requests in flight, by partner.",
                                    "partner");
    m->queued = kh_metrics_gauge(r, "ketenhub_push_queued",
                                 "Jobs waiting in memory, by partner and queue (fresh, waiting).",
                                 "partner,queue");
    m->latency = kh_metrics_histogram(r, "ketenhub_push_request_duration_seconds",
                                      "Duration of HTTP attempts, by partner.", "partner", bounds,
                                      sizeof bounds / sizeof bounds[0]);
    m->oldest = kh_metrics_gauge(r, "ketenhub_push_oldest_undelivered_age_seconds",
                                 "Age of the oldest delivery not yet final that push holds, by "
                                 "partner (0 when none).",
                                 "partner");
    m->subscriptions = kh_metrics_gauge(r, "ketenhub_push_subscriptions", "Subscriptions loaded.",
                                        NULL);
    m->reloads = kh_metrics_counter(r, "ketenhub_push_reloads_total",
                                    "Subscription file reloads, by result (ok, error).", "result");
    m->paused = kh_metrics_gauge(r, "ketenhub_push_paused",
                                 "1 while reading is paused because the memory bound is reached, "
                                 "by topic kind (main, retry).",
                                 "topic");
    m->assigned = kh_metrics_gauge(r, "ketenhub_push_assigned_partitions",
                                   "Partitions assigned to this instance by the consumer group.",
                                   NULL);
}

void push_metrics_init(push_metrics *m, kh_metrics *r) {
    init_flow(m, r);
    init_state(m, r);
}

void push_metrics_count(kh_family *f, const char *a, const char *b) {
    const char *v[] = {a, b};
    kh_metric_add(f, v, 1);
}

const char *push_metrics_result(long status, int timed_out) {
    if (timed_out)
        return "timeout";
    if (status == 0)
        return "error";
    if (status == 408 || status == 429)
        return status == 408 ? "408" : "429";
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    return status >= 100 && status < 600 ? classes[status / 100 - 1] : "error";
}

/* A partner's gauge is set once it is not 0, and from then on: a series
 * of zeros for each of thousands of partners would cost memory (a few
 * hundred bytes each) and say nothing; absent reads as 0. */
static void set_gauge(push_partner *p, unsigned bit, kh_family *f, const char *const *labels,
                      double v) {
    if (v == 0 && !(p->gauges & bit))
        return;
    p->gauges |= bit;
    kh_metric_set(f, labels, v);
}

void push_metrics_refresh(push_metrics *m, push_partners *ps, int64_t now_ms, int main_paused,
                          int retry_paused) {
    for (push_partner *p = push_partners_first(ps); p; p = p->next) {
        const char *fresh[] = {p->name, "fresh"}, *waiting[] = {p->name, "waiting"};
        const char *name[] = {p->name};
        int64_t oldest = push_partner_oldest(p);
        set_gauge(p, 1u, m->queued, fresh, (double)p->nfresh);
        set_gauge(p, 2u, m->queued, waiting, (double)p->nwaiting);
        set_gauge(p, 4u, m->in_flight, name, p->in_flight);
        set_gauge(p, 8u, m->oldest, name, oldest ? (double)(now_ms - oldest) / 1000.0 : 0);
    }
    const char *main_t[] = {"main"}, *retry_t[] = {"retry"};
    kh_metric_set(m->paused, main_t, main_paused);
    kh_metric_set(m->paused, retry_t, retry_paused);
}
