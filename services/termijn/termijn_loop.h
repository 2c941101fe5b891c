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

typedef struct termijn_loop_config {
    const char *group_id;
    const char *transactional_id;
    long long batch_records;
    long long batch_ms;
    long long tick_ms;      /* how often the clock is read */
    const char *clock_file; /* tests only; NULL: the wall clock */
    const char *topics[TERMIJN_EV_KINDS];
    const char *melding_topic, *deadletter_topic, *state_topic;
} termijn_loop_config;

/* Runs until kh_service_stop (commits, returns 0) or a fatal error
 * (returns 1). ctx's reference data stay valid throughout. *ready is 1
 * while consuming. */
int termijn_loop_run(kh_service *svc, const termijn_loop_config *cfg, const termijn_ctx *ctx,
                     const kh_schemas *schemas, atomic_int *ready);

#endif
