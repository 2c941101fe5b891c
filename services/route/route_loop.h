/*
 * route_loop — consume, transform, produce: the event topics in, meldingen
 * and dead letters out, in batches.
 *
 * With transactions (exactly once): a batch is one Kafka transaction. Its
 * meldingen, its dead letters and the consumer group's offsets of its
 * records (rd_kafka_send_offsets_to_transaction with the group metadata,
 * KIP-447) commit together or not at all, so a crash at any point neither
 * loses nor duplicates a melding: the records of an unfinished transaction
 * are consumed again from the committed offsets and their meldingen are
 * written again, while the first attempt is aborted and never seen by a
 * read_committed reader.
 *   - abortable errors: abort, seek the assignment back to the committed
 *     offsets, carry on;
 *   - retriable errors: call again;
 *   - fatal errors (e.g. fenced by another instance with the same
 *     transactional.id): return 1, so a supervisor restarts the process.
 *   - rebalance: before partitions are revoked the open transaction is
 *     committed (aborted when the assignment was lost), so the next owner
 *     starts exactly where this one stopped.
 *
 * Without transactions (at least once, for comparison): produce, flush
 * (every delivery acknowledged), then commit the offsets. A crash between
 * the flush and the commit writes the batch's meldingen again; consumers
 * de-duplicate on melding_id.
 *
 * A batch ends after batch_records records, batch_ms milliseconds from its
 * first record, or (batch_idle_ms > 0) batch_idle_ms without a new record,
 * whichever comes first, and on shutdown: at a trickle each commit releases
 * the meldingen at once, under a backlog batches stay large. Reference data
 * is reloaded between records (SIGHUP, or a changed file when watching), so
 * no record is dropped or half-routed.
 */
#ifndef ROUTE_LOOP_H
#define ROUTE_LOOP_H

#include <stdatomic.h>

#include "kh_ref.h"
#include "kh_schema.h"
#include "kh_service.h"
#include "route_event.h"

typedef struct route_loop_config {
    const char *group_id;
    const char *transactional_id; /* NULL: no transactions (at least once) */
    long long batch_records;
    long long batch_ms;
    long long batch_idle_ms; /* 0: batches end only by size and age */
    const char *reference_dir;
    long long watch_ms;              /* 0: reload only on SIGHUP */
    const char *topics[ROUTE_KINDS]; /* full names, topic.prefix applied */
    const char *melding_topic;
    const char *deadletter_topic;
    long long shutdown_ms; /* SIGTERM: commit (else abort) and close within this */
} route_loop_config;

/* route_loop_run's answer when the shutdown bound passed while a Kafka
 * call was still blocked (librdkafka does not always honour its timeouts):
 * another thread still uses the clients and everything the loop was given,
 * so the caller must end the process at once (_exit) without freeing. */
#define ROUTE_LOOP_ABANDONED 3

/* Runs until kh_service_stop (then commits the open batch, leaves the group
 * and returns 0) or a fatal error (returns 1, after logging it). *ready is
 * 1 while the loop consumes (for /readyz), 0 otherwise.
 *
 * Shutdown is bounded by cfg->shutdown_ms from the stop on, also when Kafka
 * is unreachable, gone or silent (every transactional call runs in slices,
 * see kh_kafka_txn_bound; a stop during init_transactions ends it at once
 * and returns 0): the open batch is committed, or when that does not finish
 * in time aborted, or left for the broker to abort (transaction.timeout.ms)
 * and for the restart's init_transactions to fence; its records were not
 * committed, so the restart consumes them again. Returns 1 when the last
 * batch did not commit, ROUTE_LOOP_ABANDONED (above) when a call was still
 * blocked at the bound. */
int route_loop_run(kh_service *svc, const route_loop_config *cfg, kh_refstore *store,
                   const kh_schemas *schemas, atomic_int *ready);

#endif
