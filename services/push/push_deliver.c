/*
 * push_deliver — per-partner queues, attempts, responses and backoff.
 */
#include "push_deliver.h"

#include "kh_alloc.h"
#include "kh_log.h"
#include "kh_time.h"
#include "push_policy.h"
#include "push_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDLE_WAIT_MS 100 /* longest sleep when nothing is due */

static int wanted(const push_sub *sub, const push_job *job) {
    return sub && (job->is_event ? push_sub_wants_event(sub, job->what)
                                 : push_sub_wants_regel(sub, job->what));
}

static push_partner *partner_of(push_deliverer *d, const char *name) {
    push_partner *p = push_partners_get(d->partners, name);
    if (p && !p->sub)
        p->sub = push_subs_find(d->subs, name);
    return p;
}

static void no_subscription(push_deliverer *d, push_job *job) {
    char why[160];
    snprintf(why, sizeof why, "%s has no subscription for %s %s", job->partner->name,
             job->is_event ? "event type" : "regel", job->what);
    push_outcome_finish(d->outcomes, job, PUSH_FINAL_NO_SUBSCRIPTION, why);
}

/* The partner's state, or NULL (job freed, the loop stopped) when the
 * name cannot be a partner. */
static push_partner *take(push_deliverer *d, const char *partner, push_job *job) {
    push_partner *p = partner_of(d, partner);
    if (!p) {
        push_job_free(job);
        *d->outcomes->failed = 1;
        return NULL;
    }
    job->partner = p;
    return p;
}

void push_deliver_fresh(push_deliverer *d, const char *partner, push_job *job) {
    push_partner *p = take(d, partner, job);
    if (!p)
        return;
    if (!wanted(p->sub, job)) {
        no_subscription(d, job);
        return;
    }
    push_partner_add_fresh(p, job);
    push_partners_activate(d->partners, p);
    d->nfresh++;
}

void push_deliver_waiting(push_deliverer *d, const char *partner, push_job *job) {
    push_partner *p = take(d, partner, job);
    if (!p)
        return;
    push_partner_returned(p, job);
    push_partner_add_waiting(p, job);
    push_partners_activate(d->partners, p);
    d->nwaiting++;
}

void push_deliver_subs(push_deliverer *d, const push_subs *subs) {
    d->subs = subs;
    for (push_partner *p = push_partners_first(d->partners); p; p = p->next)
        p->sub = push_subs_find(subs, p->name);
}

/* ---- attempts ------------------------------------------------------------ */

static void on_response(void *ctx, void *ud, const push_http_result *r);

static void sign_headers(const push_sub *sub, const push_job *job, int64_t now, char *id_h,
                         size_t id_len, char *ts_h, size_t ts_len, char *sig_h, size_t sig_len,
                         int *rc) {
    char sig[PUSH_SIGN_LEN];
    snprintf(id_h, id_len, "webhook-id: %s", job->id);
    snprintf(ts_h, ts_len, "webhook-timestamp: %lld", (long long)(now / 1000));
    *rc = push_sign(sub->secret, sub->secret_len, job->id, now / 1000, job->body, job->body_len,
                    sig);
    snprintf(sig_h, sig_len, "webhook-signature: %s", sig);
}

static void attempt(push_deliverer *d, push_partner *p, push_job *job) {
    const push_sub *sub = p->sub;
    int64_t now = kh_now_millis();
    char id_h[64], ts_h[48], sig_h[PUSH_SIGN_LEN + 32], err[256];
    int rc;
    free(job->endpoint);
    job->endpoint = kh_strdup(sub->endpoint);
    if (!job->first_attempt_ms)
        job->first_attempt_ms = now;
    push_partner_fly(p, job);
    job->failing_slot = p->failures > 0;
    d->failing_in_flight += job->failing_slot;
    sign_headers(sub, job, now, id_h, sizeof id_h, ts_h, sizeof ts_h, sig_h, sizeof sig_h, &rc);
    const char *headers[] = {
        "Content-Type: application/json", id_h, ts_h, sig_h, sub->authorization, NULL};
    push_http_request rq = {.url = sub->url,
                            .body = job->body,
                            .body_len = job->body_len,
                            .headers = headers,
                            .timeout_ms = sub->timeout_ms,
                            .ca_file = sub->ca_file,
                            .cert = sub->cert,
                            .key = sub->key};
    if (rc == 0 && push_http_start(d->http, &rq, on_response, job, err, sizeof err) == 0)
        return;
    push_http_result failed = {.retry_after_ms = -1};
    snprintf(failed.error, sizeof failed.error, "%.159s", rc ? "cannot sign the request" : err);
    on_response(d, job, &failed);
}

static double random01(push_deliverer *d) {
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 17;
    d->rng ^= d->rng << 5;
    return (double)(d->rng % 1000000u) / 1000000.0;
}

static void record_attempt(push_deliverer *d, push_job *job, const push_http_result *r) {
    push_partner *p = job->partner;
    const char *name[] = {p->name};
    push_partner_land(p, job);
    d->failing_in_flight -= job->failing_slot;
    job->failing_slot = 0;
    /* A partner at its limit left the queue of partners that may start. */
    if (p->fresh || p->waiting)
        push_partners_activate(d->partners, p);
    job->attempts++;
    job->last_attempt_ms = kh_now_millis();
    job->last_status = r->status;
    snprintf(job->last_error, sizeof job->last_error, "%s", r->error);
    kh_metric_observe(d->m->latency, name, r->seconds);
    push_metrics_count(d->m->attempts, p->name, push_metrics_result(r->status, r->timed_out));
}

static void partner_ok(push_partner *p) {
    if (push_partner_ok(p))
        kh_log_info("partner answers again", json_pack("{s:s}", "partner", p->name));
}

/* A retryable failure: back off (the partner too, when its breaker trips),
 * then retry through the retry topic, or give up past the maximum age. */
static void retry_later(push_deliverer *d, push_job *job, const push_http_result *r) {
    push_partner *p = job->partner;
    int64_t wait = push_policy_backoff_ms(job->attempts, d->set->retry_initial_ms,
                                          d->set->retry_max_ms, random01(d), r->retry_after_ms);
    int64_t due = job->last_attempt_ms + wait;
    if (push_partner_failed(p, due, r->retry_after_ms > 0, d->set->breaker_failures))
        kh_log_warn("partner failing; backing off",
                    json_pack("{s:s, s:I, s:s, s:I, s:i}", "partner", p->name, "http_status",
                              (json_int_t)r->status, "error", r->error, "retry_in_ms",
                              (json_int_t)wait, "failures", p->failures));
    long long max_age = p->sub ? p->sub->max_age_ms : d->set->defaults.max_age_ms;
    if (due > job->since_ms + max_age) {
        push_outcome_finish(d->outcomes, job, PUSH_FINAL_EXPIRED, r->error);
        return;
    }
    push_metrics_count(d->m->retries, p->name, NULL);
    /* At concurrency 1 the ones behind it wait until it is back (order). */
    if (!p->sub || p->sub->concurrency == 1)
        push_partner_handed_off(p, job, 1, kh_now_millis());
    push_outcome_hand_off(d->outcomes, job, due);
}

static void on_response(void *ctx, void *ud, const push_http_result *r) {
    push_deliverer *d = ctx;
    push_job *job = ud;
    record_attempt(d, job, r);
    switch (push_policy_classify(r->status)) {
    case PUSH_DELIVERED:
        partner_ok(job->partner);
        job->last_error[0] = '\0';
        push_outcome_finish(d->outcomes, job, PUSH_FINAL_DELIVERED, NULL);
        return;
    case PUSH_REJECTED:
        partner_ok(job->partner);
        push_outcome_finish(d->outcomes, job, PUSH_FINAL_REJECTED, r->error);
        return;
    case PUSH_RETRY: retry_later(d, job, r); return;
    }
}

/* ---- per-partner dispatch ----------------------------------------------- */

static void defer(push_deliverer *d, push_job *list, int64_t due, const char *reason) {
    int64_t now = kh_now_millis();
    while (list) {
        push_job *next = list->next;
        list->next = NULL;
        d->nfresh--;
        push_partner_handed_off(list->partner, list, 0, now);
        push_metrics_count(d->m->deferred, list->partner->name, reason);
        push_outcome_hand_off(d->outcomes, list, due);
        list = next;
    }
}

/* The next job the partner may start now, or NULL. The oldest waiting job
 * goes first, once it is due and no older one is on its way back through
 * the retry topic; it holds up the ones behind it (order). Fresh jobs go
 * only when the partner is not behind. */
static push_job *next_job(push_deliverer *d, push_partner *p, int64_t now) {
    if (p->blocked_until > now)
        return NULL;
    if (p->waiting) {
        if (p->waiting->due_ms > now || push_partner_awaits_retry(p, now))
            return NULL;
        d->nwaiting--;
        return push_partner_pop_waiting(p);
    }
    if (p->fresh && !push_partner_behind(p, now)) {
        d->nfresh--;
        return push_partner_pop_fresh(p);
    }
    return NULL;
}

static int all_slots_taken(const push_deliverer *d) {
    return push_http_in_flight(d->http) >= d->set->max_in_flight;
}

/* Whether p may start one more request under the caps over all partners.
 * A partner whose last attempt failed (a dead partner hangs until its
 * timeout) draws on half of the slots only. */
static int may_start(const push_deliverer *d, const push_partner *p) {
    return !all_slots_taken(d) &&
           (p->failures == 0 || d->failing_in_flight < d->set->max_in_flight / 2);
}

/* Starts what partner p may start now; returns its limit. */
static long start_partner(push_deliverer *d, push_partner *p, int64_t now) {
    /* Fresh jobs of a partner that backs off, or that is behind, follow the
     * older ones through the retry topic: the others are not held up, and
     * none overtakes an older one of its own partner. */
    if (p->blocked_until > now && p->fresh)
        defer(d, push_partner_cut_fresh(p, 0), p->blocked_until, "backoff");
    else if (p->fresh && push_partner_behind(p, now))
        defer(d, push_partner_cut_fresh(p, 0), now, "backoff");
    long limit = p->sub ? p->sub->concurrency : 1;
    push_job *job;
    while (p->in_flight < limit && may_start(d, p) && (job = next_job(d, p, now))) {
        if (push_pending_orphan(job->pending))
            push_job_free(job); /* its partition moved to another consumer */
        else if (!wanted(p->sub, job))
            no_subscription(d, job);
        else if (now >= job->since_ms + p->sub->max_age_ms)
            push_outcome_finish(d->outcomes, job, PUSH_FINAL_EXPIRED,
                                job->last_error[0] ? job->last_error : "maximum age reached");
        else
            attempt(d, p, job);
    }
    return limit;
}

/* Only the partners that may start a request are looked at, each once, in
 * turn, until every slot is taken: the cost of a turn grows with the
 * requests started, not with every partner there is. */
int64_t push_deliver_dispatch(push_deliverer *d) {
    int64_t now = kh_now_millis(), next = IDLE_WAIT_MS;
    size_t n = push_partners_active_count(d->partners);
    for (size_t i = 0; i < n && !all_slots_taken(d); i++) {
        push_partner *p = push_partners_pop_active(d->partners);
        if (!p->fresh && !p->waiting)
            continue;
        long limit = start_partner(d, p, now);
        /* A partner at its limit is queued again when a request of it lands. */
        if (p->in_flight >= limit || (!p->fresh && !p->waiting))
            continue;
        push_partners_activate(d->partners, p);
        int64_t at = p->blocked_until > now              ? p->blocked_until
                     : push_partner_awaits_retry(p, now) ? now + IDLE_WAIT_MS
                     : p->waiting                        ? p->waiting->due_ms
                                                         : now + IDLE_WAIT_MS;
        if (at - now < next)
            next = at - now;
    }
    return next < 0 ? 0 : next;
}

/* When the fresh jobs fill the buffer and one partner holds most of them,
 * that partner is too slow for its traffic: its queue goes to the retry
 * topic, so reading (and the other partners) can go on. All of it, oldest
 * first, so that it comes back in order (push_partner_add_waiting). */
void push_deliver_relieve(push_deliverer *d) {
    if ((long long)d->nfresh < d->set->buffer_max)
        return;
    push_partner *big = NULL;
    for (push_partner *p = push_partners_first(d->partners); p; p = p->next)
        if (!big || p->nfresh > big->nfresh)
            big = p;
    if (!big || (long long)big->nfresh <= d->set->buffer_max / 2)
        return;
    kh_log_warn("partner too slow for its traffic; deferring its queue to the retry topic",
                json_pack("{s:s, s:I}", "partner", big->name, "queued", (json_int_t)big->nfresh));
    defer(d, push_partner_cut_fresh(big, 0), kh_now_millis(), "overflow");
}

void push_deliver_forget_transit(push_deliverer *d) {
    for (push_partner *p = push_partners_first(d->partners); p; p = p->next)
        push_partner_forget_transit(p);
}
