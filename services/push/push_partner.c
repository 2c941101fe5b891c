/*
 * push_partner — partner table (a chained hash on the name), the job lists
 * of each partner, and its circuit breaker.
 */
#include "push_partner.h"

#include "kh_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

struct push_partners {
    push_partner *buckets[BUCKETS];
    push_partner *all;
    push_partner *active, *active_tail; /* first in, first out: each gets its turn */
    size_t nactive;
};

static unsigned hash(const char *s) {
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

push_partners *push_partners_new(void) { return kh_calloc(1, sizeof(push_partners)); }

void push_partners_activate(push_partners *ps, push_partner *p) {
    if (p->active)
        return;
    p->active = 1;
    p->anext = NULL;
    if (ps->active_tail)
        ps->active_tail->anext = p;
    else
        ps->active = p;
    ps->active_tail = p;
    ps->nactive++;
}

push_partner *push_partners_pop_active(push_partners *ps) {
    push_partner *p = ps->active;
    if (!p)
        return NULL;
    ps->active = p->anext;
    if (!ps->active)
        ps->active_tail = NULL;
    p->anext = NULL;
    p->active = 0;
    ps->nactive--;
    return p;
}

size_t push_partners_active_count(const push_partners *ps) { return ps->nactive; }

static void free_list(push_job *j) {
    while (j) {
        push_job *next = j->next;
        push_job_free(j);
        j = next;
    }
}

void push_partners_free(push_partners *ps) {
    if (!ps)
        return;
    for (push_partner *p = ps->all, *next; p; p = next) {
        next = p->next;
        free_list(p->fresh);
        free_list(p->waiting);
        free(p);
    }
    free(ps);
}

push_partner *push_partners_get(push_partners *ps, const char *name) {
    unsigned b = hash(name);
    for (push_partner *p = ps->buckets[b]; p; p = p->hnext)
        if (strcmp(p->name, name) == 0)
            return p;
    if (strlen(name) >= PUSH_ORG_LEN)
        return NULL;
    push_partner *p = kh_calloc(1, sizeof *p);
    strcpy(p->name, name);
    p->hnext = ps->buckets[b];
    ps->buckets[b] = p;
    p->next = ps->all;
    ps->all = p;
    return p;
}

push_partner *push_partners_first(push_partners *ps) { return ps->all; }

push_job *push_job_new(int64_t now_ms) {
    push_job *j = kh_calloc(1, sizeof *j);
    j->since_ms = j->due_ms = now_ms;
    return j;
}

void push_job_shed(push_job *j) {
    free(j->body);
    free(j->value);
    free(j->key);
    free(j->origin_topic);
    free(j->endpoint);
    j->body = j->value = j->key = j->origin_topic = j->endpoint = NULL;
    j->body_len = j->value_len = j->key_len = 0;
}

void push_job_free(push_job *j) {
    if (!j)
        return;
    if (j->pending)
        push_pending_done(j->pending);
    push_job_shed(j);
    free(j);
}

void push_job_to_retry(const push_job *job, int64_t due_ms, kh_retry *r) {
    *r = (kh_retry){.attempts = job->attempts,
                    .since_ms = job->since_ms,
                    .first_attempt_ms = job->first_attempt_ms,
                    .last_attempt_ms = job->last_attempt_ms,
                    .due_ms = due_ms,
                    .last_status = job->last_status,
                    .origin_partition = job->origin_partition,
                    .origin_offset = job->origin_offset};
    snprintf(r->ontvanger, sizeof r->ontvanger, "%s", job->partner->name);
    snprintf(r->last_error, sizeof r->last_error, "%s", job->last_error);
    snprintf(r->origin_topic, sizeof r->origin_topic, "%s", job->origin_topic);
}

void push_job_from_retry(push_job *job, const kh_retry *r, const void *key, size_t keylen) {
    free(job->key);
    job->key = key ? kh_malloc(keylen ? keylen : 1) : NULL;
    if (key && keylen)
        memcpy(job->key, key, keylen);
    job->key_len = key ? keylen : 0;
    free(job->origin_topic);
    job->origin_topic = kh_strdup(r->origin_topic);
    job->origin_partition = r->origin_partition;
    job->origin_offset = r->origin_offset;
    job->attempts = r->attempts;
    job->since_ms = r->since_ms ? r->since_ms : job->since_ms;
    job->first_attempt_ms = r->first_attempt_ms;
    job->last_attempt_ms = r->last_attempt_ms;
    job->due_ms = r->due_ms;
    job->last_status = r->last_status;
    snprintf(job->last_error, sizeof job->last_error, "%s", r->last_error);
}

void push_partner_add_fresh(push_partner *p, push_job *j) {
    j->next = NULL;
    if (p->fresh_tail)
        p->fresh_tail->next = j;
    else
        p->fresh = j;
    p->fresh_tail = j;
    p->nfresh++;
}

push_job *push_partner_pop_fresh(push_partner *p) {
    push_job *j = p->fresh;
    if (!j)
        return NULL;
    p->fresh = j->next;
    if (!p->fresh)
        p->fresh_tail = NULL;
    j->next = NULL;
    p->nfresh--;
    return j;
}

push_job *push_partner_cut_fresh(push_partner *p, size_t keep) {
    if (p->nfresh <= keep)
        return NULL;
    if (keep == 0) {
        push_job *all = p->fresh;
        p->fresh = p->fresh_tail = NULL;
        p->nfresh = 0;
        return all;
    }
    push_job *last = p->fresh;
    for (size_t i = 1; i < keep; i++)
        last = last->next;
    push_job *rest = last->next;
    last->next = NULL;
    p->fresh_tail = last;
    p->nfresh = keep;
    return rest;
}

/* Whether a is older than b: the offset within one topic partition, else
 * when push took them on (positions in different partitions say nothing). */
static int older(const push_job *a, const push_job *b) {
    if (a->origin_partition == b->origin_partition && a->origin_topic && b->origin_topic &&
        strcmp(a->origin_topic, b->origin_topic) == 0)
        return a->origin_offset < b->origin_offset;
    return a->since_ms < b->since_ms;
}

/* Jobs from the retry topic mostly arrive oldest first, so the usual case
 * appends at the tail; a failed head comes back in front, found at once. */
void push_partner_add_waiting(push_partner *p, push_job *j) {
    p->nwaiting++;
    if (!p->waiting_tail || !older(j, p->waiting_tail)) {
        j->next = NULL;
        if (p->waiting_tail)
            p->waiting_tail->next = j;
        else
            p->waiting = j;
        p->waiting_tail = j;
        return;
    }
    push_job **at = &p->waiting;
    while (!older(j, *at))
        at = &(*at)->next;
    j->next = *at;
    *at = j;
}

push_job *push_partner_pop_waiting(push_partner *p) {
    push_job *j = p->waiting;
    if (!j)
        return NULL;
    p->waiting = j->next;
    if (!p->waiting)
        p->waiting_tail = NULL;
    j->next = NULL;
    p->nwaiting--;
    return j;
}

void push_partner_fly(push_partner *p, push_job *j) {
    j->next = p->flying;
    p->flying = j;
    p->in_flight++;
}

void push_partner_land(push_partner *p, push_job *j) {
    for (push_job **at = &p->flying; *at; at = &(*at)->next)
        if (*at == j) {
            *at = j->next;
            j->next = NULL;
            p->in_flight--;
            return;
        }
}

int push_partner_awaits_retry(const push_partner *p, int64_t now_ms) {
    return p->transit_id[0] && now_ms - p->transit_ms < PUSH_TRANSIT_WAIT_MS;
}

int push_partner_behind(const push_partner *p, int64_t now_ms) {
    return p->waiting || push_partner_awaits_retry(p, now_ms) ||
           (p->deferred_transit && now_ms - p->deferred_ms < PUSH_TRANSIT_WAIT_MS);
}

void push_partner_handed_off(push_partner *p, const push_job *j, int failed, int64_t now_ms) {
    if (failed) {
        snprintf(p->transit_id, sizeof p->transit_id, "%s", j->id);
        p->transit_ms = now_ms;
        return;
    }
    p->deferred_transit++;
    p->deferred_ms = now_ms;
}

void push_partner_returned(push_partner *p, const push_job *j) {
    if (p->transit_id[0] && strcmp(p->transit_id, j->id) == 0)
        p->transit_id[0] = '\0';
    else if (p->deferred_transit)
        p->deferred_transit--;
}

void push_partner_forget_transit(push_partner *p) {
    p->transit_id[0] = '\0';
    p->deferred_transit = 0;
}

static int64_t oldest_in(const push_job *j, int64_t oldest) {
    for (; j; j = j->next)
        if (oldest == 0 || j->since_ms < oldest)
            oldest = j->since_ms;
    return oldest;
}

int64_t push_partner_oldest(const push_partner *p) {
    int64_t oldest = p->fresh ? p->fresh->since_ms : 0;
    oldest = oldest_in(p->waiting, oldest);
    return oldest_in(p->flying, oldest);
}

int push_partner_failed(push_partner *p, int64_t due_ms, int retry_after,
                        long long breaker_failures) {
    p->failures++;
    if (!retry_after && p->failures < breaker_failures)
        return 0;
    int starts = !p->failing;
    p->failing = 1;
    if (due_ms > p->blocked_until)
        p->blocked_until = due_ms;
    return starts;
}

int push_partner_ok(push_partner *p) {
    int was = p->failing;
    p->failing = 0;
    p->failures = 0;
    p->blocked_until = 0;
    return was;
}
