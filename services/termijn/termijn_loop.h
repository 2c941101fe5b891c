/*
 * termijn_loop — the Kafka side of termijn: the four event topics in (one
 * consumer group, the range assignor so that partition p of every topic,
 * and so every event of one child, lands on one instance), meldingen, dead
 * letters and changelog records out, all in Kafka transactions with the
 * consumed offsets, like route_loop:
 *
 *   - a batch of records is one transaction: its meldingen, the changelog
 *     records of the dossiers it changed (to changelog partition = the
 *     event's partition) and its offsets commit together or not at all;
 *   - the timer: when the Amsterdam date of the clock changes (or after a
 *     restore), every dossier with a step due is ticked, and what fires is
 *     produced in the same way (a transaction without offsets);
 *   - an aborted transaction leaves memory ahead of Kafka, so the assigned
 *     partitions are restored from the changelog and the consumer rewound
 *     to its committed offsets; a fatal error exits 1 for a restart, after
 *     which the restore gives exactly the committed state: nothing lost,
 *     nothing repeated;
 *   - on assignment the new partitions are restored before any record of
 *     them is processed; on revocation the open batch commits and their
 *     dossiers are dropped.
 */
#ifndef TERMIJN_LOOP_H
#define TERMIJN_LOOP_H

#include <stdatomic.h>

#include "kh_schema.h"
#include "kh_service.h"
#include "termijn_core.h"
#include "termijn_refdata.h"

typedef struct termijn_loop_config {
    const char *group_id;
    const char *transactional_id;
    long long batch_records;
    long long batch_ms;
    long long tick_ms;      /* how often the clock is read */
    const char *clock_file; /* tests only; NULL: the wall clock */
    const char *topics[TERMIJN_EV_KINDS];
    const char *melding_topic, *deadletter_topic, *state_topic;
    long long shutdown_ms; /* SIGTERM: commit (else abort) and close within this */
} termijn_loop_config;

/* What the loop is doing, for /readyz (ready only in TERMIJN_RUNNING). */
typedef enum termijn_phase {
    TERMIJN_STARTING,  /* connecting to Kafka, until the first assignment */
    TERMIJN_RUNNING,   /* consuming */
    TERMIJN_RESTORING, /* reading the changelog for assigned partitions */
    TERMIJN_STOPPING
} termijn_phase;

/* A short reason for a phase: "starting", "restoring", ... (static). */
const char *termijn_phase_name(termijn_phase phase);

/* termijn_loop_run's answer when the shutdown bound passed while a Kafka
 * call was still blocked (librdkafka does not always honour its timeouts):
 * another thread still uses the clients and everything the loop was given,
 * so the caller must end the process at once (_exit) without freeing. */
#define TERMIJN_LOOP_ABANDONED 3

/* Runs until kh_service_stop (commits, returns 0) or a fatal error
 * (returns 1). SIGHUP (kh_service_reload) reloads refs; the reference data
 * stay valid throughout. *phase is a termijn_phase, kept current.
 *
 * Shutdown is bounded by cfg->shutdown_ms, also when Kafka is unreachable
 * (a stop during init_transactions ends it at once): the open transaction
 * is committed, or when that does not finish in time aborted, or left for
 * the broker to abort (transaction.timeout.ms) and for the restart's
 * init_transactions to fence; its records were not committed, so the
 * restart consumes them again. Returns 1 when the last transaction did not
 * commit, TERMIJN_LOOP_ABANDONED (above) when a call was still blocked. */
int termijn_loop_run(kh_service *svc, const termijn_loop_config *cfg, termijn_refdata *refs,
                     const kh_schemas *schemas, atomic_int *phase);

#endif
