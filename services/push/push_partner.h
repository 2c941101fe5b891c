/*
 * push_partner — one state per partner (recipient "TYPE:CODE"): the work
 * waiting for it, its requests in flight, and whether it is backing off.
 * Each partner has its own queues and its own concurrency, so a partner
 * that is down or slow only ever holds up its own work.
 *
 *   fresh    jobs read from the main topics, first in first out: with
 *            concurrency 1 a partner receives them in topic order
 *   waiting  jobs read back from the retry topic, ordered by due time
 *   flying   jobs with a request in flight
 *
 * A job is one delivery of one record to one partner, and owns its
 * buffers. Single-threaded: the loop owns all of it.
 */
#ifndef PUSH_PARTNER_H
#define PUSH_PARTNER_H

#include "push_named.h"
#include "push_offsets.h"
#include "push_subs.h"

#include <stddef.h>
#include <stdint.h>

typedef struct push_partner push_partner;

typedef struct push_job {
    struct push_job *next;          /* in one partner list at a time */
    push_partner *partner;          /* NULL for work without a recipient (poison) */
    push_pending *pending;          /* the consumed record this work belongs to */
    char id[40];                    /* webhook-id: the melding_id or event_id */
    char what[48];                  /* a melding's regel, or a raw event's type */
    int is_event;                   /* a raw event rather than a melding */
    char *body;                     /* natural JSON, exactly as sent and signed */
    size_t body_len;
    char *value;                    /* the original record value (wire format) */
    size_t value_len;
    char *key;                      /* the original record key */
    size_t key_len;
    char *origin_topic;             /* where the original record is */
    int32_t origin_partition;
    int64_t origin_offset;
    char *endpoint;                 /* of the last attempt (no credentials), or NULL */
    int attempts;
    int64_t since_ms;               /* when push first took it on: the age counts from here */
    int64_t first_attempt_ms, last_attempt_ms; /* 0 when none */
    int64_t due_ms;                 /* not to be attempted before */
    long last_status;               /* 0 when no response */
    char last_error[160];
    int acks;                       /* produce acknowledgements still awaited */
} push_job;

struct push_partner {
    push_partner *hnext;            /* hash chain */
    push_partner *next;             /* the list of all partners */
    char name[PUSH_ORG_LEN];
    const push_sub *sub;            /* the current subscription, NULL when none */
    push_job *fresh, *fresh_tail;
    size_t nfresh;
    push_job *waiting, *waiting_tail;
    size_t nwaiting;
    push_job *flying;
    int in_flight;
    int64_t blocked_until;          /* backing off: no attempts, fresh jobs deferred */
    int failures;                   /* retryable failures in a row */
    int failing;                    /* backing off after failures (for logging the change) */
};

typedef struct push_partners push_partners;

push_partners *push_partners_new(void);

/* Frees every partner and every job still queued (not those in flight). */
void push_partners_free(push_partners *ps);

/* The partner called name ("TYPE:CODE"), created when new; NULL when out
 * of memory. */
push_partner *push_partners_get(push_partners *ps, const char *name);

/* The first partner; walk on with ->next. */
push_partner *push_partners_first(push_partners *ps);

/* A new, empty job (since_ms = due_ms = now_ms) or NULL. */
push_job *push_job_new(int64_t now_ms);
void push_job_free(push_job *j);

void push_partner_add_fresh(push_partner *p, push_job *j);
push_job *push_partner_pop_fresh(push_partner *p);

/* Detaches and returns the fresh jobs after the first keep (a list). */
push_job *push_partner_cut_fresh(push_partner *p, size_t keep);

void push_partner_add_waiting(push_partner *p, push_job *j);
push_job *push_partner_pop_waiting(push_partner *p);

void push_partner_fly(push_partner *p, push_job *j);
void push_partner_land(push_partner *p, push_job *j);

/* since_ms of the oldest job the partner holds in any list; 0 when none. */
int64_t push_partner_oldest(const push_partner *p);

#endif
