/*
 * route_stats — the metrics of route (/metrics). Counts of records in,
 * meldingen and dead letters are kept per batch and added to the Prometheus
 * families only when the batch commits, so the counters show committed
 * work: an aborted and replayed batch is not counted twice. Per-record
 * updates are plain increments, off the registry's locks.
 *
 * Families:
 *   ketenhub_route_records_in_total{topic}
 *   ketenhub_route_meldingen_total{regel}
 *   ketenhub_route_deadletters_total{topic,reason}
 *   ketenhub_route_batches_total{mode,outcome}   mode transaction|offsets,
 *                                                outcome committed|aborted
 *   ketenhub_route_record_seconds                decode+rules+encode+enqueue
 *   ketenhub_route_batch_seconds                 first record to committed
 *   ketenhub_route_reference_reloads_total{outcome}   ok|failed
 *   ketenhub_route_reference_facts{kind}         gemeenten|scholen|aanbieders
 *   ketenhub_route_assigned_partitions
 *   ketenhub_route_rebalances_total{kind}        assign|revoke|lost
 */
#ifndef ROUTE_STATS_H
#define ROUTE_STATS_H

#include <stdint.h>

#include "kh_metrics.h"
#include "kh_ref.h"
#include "route_event.h"

#define ROUTE_STATS_RULES 32
#define ROUTE_STATS_REASONS 5

typedef struct route_stats {
    kh_family *records_in, *meldingen, *deadletters, *batches, *record_seconds, *batch_seconds,
        *reloads, *facts, *assigned, *rebalances;
    const char *topics[ROUTE_KINDS]; /* label values; the caller's strings */
    const char *mode;
    /* The open batch. */
    uint64_t in[ROUTE_KINDS];
    uint64_t out[ROUTE_STATS_RULES];
    uint64_t dead[ROUTE_KINDS][ROUTE_STATS_REASONS];
} route_stats;

/* topics: the full topic name of each kind (kept by pointer). */
void route_stats_init(route_stats *s, kh_metrics *m, const char *const topics[ROUTE_KINDS],
                      int transactional);

void route_stats_in(route_stats *s, route_kind kind);
void route_stats_melding(route_stats *s, int rule);
void route_stats_deadletter(route_stats *s, route_kind kind, const char *reason_code);
void route_stats_record_time(route_stats *s, double seconds);

/* The batch committed (its counts are published) or was aborted (they are
 * dropped). */
void route_stats_commit(route_stats *s, double seconds);
void route_stats_abort(route_stats *s);

void route_stats_reload(route_stats *s, int ok);
/* The sizes of the reference data in use. */
void route_stats_facts(route_stats *s, const kh_ref *ref);
void route_stats_rebalance(route_stats *s, const char *kind, int assigned_partitions);

#endif
