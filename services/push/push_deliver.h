/*
 * push_deliver — the work queued per partner and the HTTP attempts: takes
 * jobs in (fresh from the main topics, waiting from the retry topic),
 * starts what each partner may start within its concurrency and backoff,
 * classifies each response (delivered, rejected, retry later), trips the
 * partner's circuit breaker, and defers a slow or backing-off partner's
 * work to the retry topic so the others go on.
 *
 * Takes its own narrow context and never the loop: the loop calls down
 * into it, it calls down into push_outcome. Single-threaded: the
 * responses arrive through push_http_run in the loop's thread.
 */
#ifndef PUSH_DELIVER_H
#define PUSH_DELIVER_H

#include "push_http.h"
#include "push_metrics.h"
#include "push_outcome.h"
#include "push_partner.h"
#include "push_settings.h"

#include <stddef.h>
#include <stdint.h>

typedef struct push_deliverer {
    const push_settings *set;
    push_partners *partners;
    const push_subs *subs; /* the current subscriptions (swapped on reload) */
    push_http *http;       /* created with this deliverer as its context */
    push_outcomes *outcomes;
    push_metrics *m;
    size_t nfresh, nwaiting; /* jobs in all partners' fresh / waiting lists */
    long failing_in_flight;  /* requests in flight to partners whose last attempt failed */
    unsigned rng;            /* jitter of the backoff; never 0 */
} push_deliverer;

/* Queues job, a fresh delivery to partner ("TYPE:CODE"); without a
 * subscription that asks for it the job is finished NO_SUBSCRIPTION. */
void push_deliver_fresh(push_deliverer *d, const char *partner, push_job *job);

/* Queues job, read back from the retry topic, for partner until its due
 * time. */
void push_deliver_waiting(push_deliverer *d, const char *partner, push_job *job);

/* Starts what each partner may start, in turn, up to http.max.in.flight
 * requests in flight in all (of which partners whose last attempt failed
 * hold at most half, so partners that hang cannot take every slot);
 * returns ms until something is due. */
int64_t push_deliver_dispatch(push_deliverer *d);

/* When the fresh jobs fill the buffer and one partner holds most of them,
 * defers that partner's newest jobs to the retry topic. Looks at every
 * partner: call it when the buffer has just filled, not on every turn. */
void push_deliver_relieve(push_deliverer *d);

/* Forgets the jobs on their way through the retry topic (push_partner_behind)
 * of every partner: after a rebalance they may be read by another instance. */
void push_deliver_forget_transit(push_deliverer *d);

/* Points every partner at its subscription in subs (after a reload). */
void push_deliver_subs(push_deliverer *d, const push_subs *subs);

#endif
