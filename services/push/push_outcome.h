/*
 * push_outcome — writing what became of a job: the aflevering of a final
 * outcome (with a dead letter unless delivered), the retry record that
 * hands a delivery to ketenhub.push.retry.v1, and the dead letter of a
 * poison record. Every write goes through push_output, so a job is
 * finished only once the broker acknowledged all that was written for it.
 *
 * Takes a push_outcomes context and never the loop: the loop, the
 * attempts and the dispatcher all call down into this file, nothing here
 * calls up. Single-threaded, like the loop.
 */
#ifndef PUSH_OUTCOME_H
#define PUSH_OUTCOME_H

#include "kh_deadletter.h"
#include "kh_schema.h"
#include "push_metrics.h"
#include "push_output.h"
#include "push_partner.h"

#include <librdkafka/rdkafka.h>

/* A delivery's final outcome (the aflevering's `outcome`) and the dead
 * letter it causes, one row each in push_outcome.c. */
typedef enum push_final {
    PUSH_FINAL_DELIVERED,       /* no dead letter */
    PUSH_FINAL_REJECTED,        /* DELIVERY_REJECTED */
    PUSH_FINAL_EXPIRED,         /* DELIVERY_EXPIRED */
    PUSH_FINAL_NO_SUBSCRIPTION, /* NO_SUBSCRIPTION */
} push_final;

/* "DELIVERED", "REJECTED", "EXPIRED", "NO_SUBSCRIPTION". */
const char *push_final_name(push_final f);

typedef struct push_outcomes {
    const kh_schemas *schemas;
    push_output *out;
    rd_kafka_t *consumer;                              /* names the origin topics of dead letters */
    const char *t_aflevering, *t_retry, *t_deadletter; /* with topic.prefix */
    push_metrics *m;
    int *failed; /* set to 1 when a write cannot even be queued */
} push_outcomes;

/* Writes job's final outcome (why: the error when there is no last one),
 * and frees it once acknowledged. job->partner must be set. */
void push_outcome_finish(push_outcomes *o, push_job *job, push_final f, const char *why);

/* Hands job to the retry topic, due at due_ms, and frees it once
 * acknowledged. */
void push_outcome_hand_off(push_outcomes *o, push_job *job, int64_t due_ms);

/* Dead-letters the record of job (no partner: nobody can be given it) for
 * reason, and frees job once acknowledged. */
void push_outcome_poison(push_outcomes *o, push_job *job, kh_dl_reason reason, const char *why);

#endif
