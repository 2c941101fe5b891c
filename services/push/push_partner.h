/*
 * push_partner — one state per partner (recipient "TYPE:CODE"): the work
 * waiting for it, its requests in flight, and whether it is backing off
 * (its circuit breaker).
 * Each partner has its own queues and its own concurrency, so a partner
 * that is down or slow only ever holds up its own work.
 *
 *   fresh    jobs read from the main topics, first in first out: with
 *            concurrency 1 a partner receives them in topic order
 *   waiting  jobs read back from the retry topic, oldest first: by the
 *            original record's position (see push_partner_add_waiting)
 *   flying   jobs with a request in flight
 *
 * A job is one delivery of one record to one partner, and owns its
 * buffers. Single-threaded: the loop owns all of it.
 */
#ifndef PUSH_PARTNER_H
#define PUSH_PARTNER_H

#include "kh_retry.h"
#include "push_named.h"
#include "push_offsets.h"
#include "push_subs.h"

#include <stddef.h>
#include <stdint.h>

typedef struct push_partner push_partner;

typedef struct push_job {
    struct push_job *next; /* in one partner list at a time */
    push_partner *partner; /* NULL for work without a recipient (poison) */
    push_pending *pending; /* the consumed record this work belongs to */
    char id[40];           /* webhook-id: the melding_id, or a raw event's derived id */
    char what[48];         /* a melding's regel, or a raw event's type */
    int is_event;          /* a raw event rather than a melding */
    char *body;            /* natural JSON, exactly as sent and signed */
    size_t body_len;
    char *value; /* the original record value (wire format) */
    size_t value_len;
    char *key; /* the original record key */
    size_t key_len;
    char *origin_topic; /* where the original record is */
    int32_t origin_partition;
    int64_t origin_offset;
    char *endpoint; /* of the last attempt (no credentials), or NULL */
    int attempts;
    int64_t since_ms; /* when push first took it on: the age counts from here */
    int64_t first_attempt_ms, last_attempt_ms; /* 0 when none */
    int64_t due_ms;                            /* not to be attempted before */
    long last_status;                          /* 0 when no response */
    char last_error[160];
    int acks;         /* produce acknowledgements still awaited */
    int failing_slot; /* in flight in the share of partners whose last attempt failed */
} push_job;

struct push_partner {
    push_partner *hnext; /* hash chain */
    push_partner *next;  /* the list of all partners */
    push_partner *anext; /* the queue of partners that may start a request */
    int active;          /* on that list */
    char name[PUSH_ORG_LEN];
    const push_sub *sub; /* the current subscription, NULL when none */
    push_job *fresh, *fresh_tail;
    size_t nfresh;
    push_job *waiting, *waiting_tail;
    size_t nwaiting;
    push_job *flying;
    int in_flight;
    int64_t blocked_until; /* backing off: no attempts, fresh jobs deferred */
    int failures;          /* retryable failures in a row */
    int failing;           /* backing off after failures (for logging the change) */
    unsigned gauges;       /* per-partner gauges that have been shown (push_metrics) */
    /* Handed to the retry topic and not read back yet (order, see
     * push_partner_behind): the one failed attempt at concurrency 1 and
     * how many deferred jobs, with when each was last handed off. */
    char transit_id[40]; /* webhook-id of the failed attempt; "" when none */
    int64_t transit_ms;
    size_t deferred_transit;
    int64_t deferred_ms;
};

typedef struct push_partners push_partners;

/* A new, empty table (kh_alloc: never NULL). */
push_partners *push_partners_new(void);

/* Frees every partner and every job still queued (not those in flight). */
void push_partners_free(push_partners *ps);

/* The partner called name ("TYPE:CODE"), created when new; NULL when the
 * name is longer than PUSH_ORG_LEN - 1. */
push_partner *push_partners_get(push_partners *ps, const char *name);

/* The first partner; walk on with ->next. */
push_partner *push_partners_first(push_partners *ps);

/* The partners that may be able to start a request, so a turn of the loop
 * looks at those and not at every partner (thousands at national scale).
 * A queue, first in first out, so every partner gets its turn when the
 * requests in flight are capped. activate puts p at the tail (once); pop
 * takes the head off (clearing ->active; NULL when empty); active_count
 * says how many are queued. */
void push_partners_activate(push_partners *ps, push_partner *p);
push_partner *push_partners_pop_active(push_partners *ps);
size_t push_partners_active_count(const push_partners *ps);

/* A new, empty job (since_ms = due_ms = now_ms; kh_alloc: never NULL). */
push_job *push_job_new(int64_t now_ms);
void push_job_free(push_job *j);

/* Frees the job's buffers (body, record, key, origin topic, endpoint) and
 * keeps the rest: for a job whose outcome is written and that only waits
 * for the broker's acknowledgements, thousands at a time. */
void push_job_shed(push_job *j);

/* The two directions of a retry hand-off. to_retry fills r with what the
 * retry record says about job (its partner, attempts, times, last result
 * and origin), due at due_ms. from_retry takes that over into job, with
 * the original record's key (NULL when it had none), replacing job's key
 * and origin. */
void push_job_to_retry(const push_job *job, int64_t due_ms, kh_retry *r);
void push_job_from_retry(push_job *job, const kh_retry *r, const void *key, size_t keylen);

void push_partner_add_fresh(push_partner *p, push_job *j);
push_job *push_partner_pop_fresh(push_partner *p);

/* Detaches and returns the fresh jobs after the first keep (a list). */
push_job *push_partner_cut_fresh(push_partner *p, size_t keep);

/* Waiting jobs are kept oldest first: by offset within one origin topic
 * partition (a partner's meldingen are all in one), else by when push
 * first took them on; equal ones in arrival order. Not by due time: the
 * head's due time gates the partner (push_deliver). */
void push_partner_add_waiting(push_partner *p, push_job *j);
push_job *push_partner_pop_waiting(push_partner *p);

/* Order through an outage. A partner is behind while it has waiting jobs
 * or jobs on their way through the retry topic (handed off, not read back
 * within PUSH_TRANSIT_WAIT_MS): its fresh jobs then go the same way, so
 * none overtakes an older one. push_partner_awaits_retry says whether the
 * failed attempt is still on its way (the waiting jobs wait for it).
 * handed_off records a hand-off (failed: an attempt that failed, at
 * concurrency 1; else deferred); returned a job read back from the retry
 * topic; forget_transit drops both (partitions moved: they may never come
 * back here). */
#define PUSH_TRANSIT_WAIT_MS 30000
int push_partner_behind(const push_partner *p, int64_t now_ms);
int push_partner_awaits_retry(const push_partner *p, int64_t now_ms);
void push_partner_handed_off(push_partner *p, const push_job *j, int failed, int64_t now_ms);
void push_partner_returned(push_partner *p, const push_job *j);
void push_partner_forget_transit(push_partner *p);

void push_partner_fly(push_partner *p, push_job *j);
void push_partner_land(push_partner *p, push_job *j);

/* The circuit breaker. One failure is the delivery's problem; a run of
 * breaker_failures of them, or a partner asking to wait (retry_after),
 * makes the whole partner back off until due_ms: no attempts, its fresh
 * jobs deferred. push_partner_failed returns 1 when the partner starts
 * backing off with this failure (for a log line), else 0;
 * push_partner_ok (an answer that is not a retryable failure) returns 1
 * when the partner was backing off, else 0. */
int push_partner_failed(push_partner *p, int64_t due_ms, int retry_after,
                        long long breaker_failures);
int push_partner_ok(push_partner *p);

/* since_ms of the oldest job the partner holds in any list; 0 when none. */
int64_t push_partner_oldest(const push_partner *p);

#endif
