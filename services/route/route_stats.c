/*
 * route_stats — batch-local counters published on commit.
 */
#include "route_stats.h"

#include "kh_deadletter.h"
#include "route_rules.h"

#include <string.h>

/* The reasons route dead-letters for (kh_deadletter's table names them). */
static const kh_dl_reason reasons[ROUTE_STATS_REASONS] = {
    KH_DL_BAD_MAGIC_BYTE, KH_DL_UNKNOWN_SCHEMA_ID, KH_DL_UNDECODABLE, KH_DL_UNKNOWN_REFERENCE_CODE,
    KH_DL_INVALID_EVENT};

void route_stats_init(route_stats *s, kh_metrics *m, const char *const topics[ROUTE_KINDS],
                      int transactional) {
    static const double record_bounds[] = {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 1e-2};
    static const double batch_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
    memset(s, 0, sizeof *s);
    for (int k = 0; k < ROUTE_KINDS; k++)
        s->topics[k] = topics[k];
    s->mode = transactional ? "transaction" : "offsets";
    s->records_in = kh_metrics_counter(m, "ketenhub_route_records_in_total",
                                       "Event records consumed and committed, per topic.", "topic");
    s->meldingen = kh_metrics_counter(m, "ketenhub_route_meldingen_total",
                                      "Meldingen produced and committed, per rule.", "regel");
    s->deadletters = kh_metrics_counter(m, "ketenhub_route_deadletters_total",
                                        "Poison records sent to the dead-letter topic.",
                                        "topic,reason");
    s->batches = kh_metrics_counter(m, "ketenhub_route_batches_total",
                                    "Batches (transactions, or offset commits without "
                                    "transactions) committed or aborted and replayed.",
                                    "mode,outcome");
    s->record_seconds = kh_metrics_histogram(
        m, "ketenhub_route_record_seconds",
        "Processing time of one record: decode, rules, encode, hand to the producer.", NULL,
        record_bounds, sizeof record_bounds / sizeof record_bounds[0]);
    s->batch_seconds = kh_metrics_histogram(
        m, "ketenhub_route_batch_seconds",
        "From the first record of a batch until its meldingen and offsets are committed.", NULL,
        batch_bounds, sizeof batch_bounds / sizeof batch_bounds[0]);
    s->reloads = kh_metrics_counter(m, "ketenhub_route_reference_reloads_total",
                                    "Reference data reloads (SIGHUP or a changed file).",
                                    "outcome");
    s->facts = kh_metrics_gauge(m, "ketenhub_route_reference_facts",
                                "Facts in the reference data in use.", "kind");
    s->assigned = kh_metrics_gauge(m, "ketenhub_route_assigned_partitions",
                                   "Event partitions assigned to this instance.", NULL);
    s->rebalances = kh_metrics_counter(m, "ketenhub_route_rebalances_total",
                                       "Consumer group rebalance events.", "kind");
}

void route_stats_in(route_stats *s, route_kind kind) { s->in[kind]++; }

void route_stats_melding(route_stats *s, int rule) {
    if (rule >= 0 && rule < ROUTE_STATS_RULES)
        s->out[rule]++;
}

void route_stats_deadletter(route_stats *s, route_kind kind, const char *reason_code) {
    for (int r = 0; r < ROUTE_STATS_REASONS; r++)
        if (strcmp(kh_dl_reason_name(reasons[r]), reason_code) == 0)
            s->dead[kind][r]++;
}

void route_stats_record_time(route_stats *s, double seconds) {
    kh_metric_observe(s->record_seconds, NULL, seconds);
}

static void clear(route_stats *s) {
    memset(s->in, 0, sizeof s->in);
    memset(s->out, 0, sizeof s->out);
    memset(s->dead, 0, sizeof s->dead);
}

void route_stats_commit(route_stats *s, double seconds) {
    for (int k = 0; k < ROUTE_KINDS; k++) {
        if (s->in[k])
            kh_metric_add(s->records_in, &s->topics[k], (double)s->in[k]);
        for (int r = 0; r < ROUTE_STATS_REASONS; r++)
            if (s->dead[k][r])
                kh_metric_add(s->deadletters,
                              (const char *const[]){s->topics[k], kh_dl_reason_name(reasons[r])},
                              (double)s->dead[k][r]);
    }
    for (size_t r = 0; r < ROUTE_STATS_RULES && r < route_rule_count(); r++)
        if (s->out[r])
            kh_metric_add(s->meldingen, &route_rule_at(r)->regel, (double)s->out[r]);
    kh_metric_add(s->batches, (const char *const[]){s->mode, "committed"}, 1);
    kh_metric_observe(s->batch_seconds, NULL, seconds);
    clear(s);
}

void route_stats_abort(route_stats *s) {
    kh_metric_add(s->batches, (const char *const[]){s->mode, "aborted"}, 1);
    clear(s);
}

void route_stats_reload(route_stats *s, int ok) {
    kh_metric_add(s->reloads, (const char *const[]){ok ? "ok" : "failed"}, 1);
}

void route_stats_facts(route_stats *s, const kh_ref *ref) {
    kh_metric_set(s->facts, (const char *const[]){"gemeenten"},
                  (double)kh_ref_count_gemeenten(ref));
    kh_metric_set(s->facts, (const char *const[]){"scholen"}, (double)kh_ref_count_scholen(ref));
    kh_metric_set(s->facts, (const char *const[]){"aanbieders"},
                  (double)kh_ref_count_aanbieders(ref));
}

void route_stats_rebalance(route_stats *s, const char *kind, int assigned_partitions) {
    kh_metric_add(s->rebalances, &kind, 1);
    kh_metric_set(s->assigned, NULL, assigned_partitions);
}
