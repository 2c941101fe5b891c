/*
 * push_loop — read, decide, deliver, record, commit. One thread: librdkafka
 * and libcurl both wake the same poll (push_http_run), so a record read, a
 * response received and a write acknowledged are all handled as they come.
 */
#include "push_loop.h"

#include "kh_codec.h"
#include "kh_deadletter.h"
#include "kh_event.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_retry.h"
#include "kh_time.h"
#include "push_aflevering.h"
#include "push_http.h"
#include "push_offsets.h"
#include "push_output.h"
#include "push_partner.h"
#include "push_policy.h"
#include "push_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 500          /* records read per turn of the loop */
#define IDLE_WAIT_MS 100   /* longest sleep when nothing is due */
#define TOPIC_LEN 256
#define NEVENTS 8

typedef struct metrics {
    kh_family *records, *deadletters, *deliveries, *attempts, *retries, *deferred, *in_flight,
        *queued, *latency, *oldest, *subscriptions, *reloads, *paused;
} metrics;

typedef struct loop {
    kh_service *svc;
    const push_settings *set;
    kh_schemas *schemas;
    push_subs *subs;
    push_partners *partners;
    push_http *http;
    push_offsets *offsets;
    push_output *out;
    rd_kafka_t *consumer;
    int wake[2];                  /* readable when Kafka has something for us */
    char t_melding[TOPIC_LEN], t_retry[TOPIC_LEN], t_aflevering[TOPIC_LEN],
        t_deadletter[TOPIC_LEN];
    char t_events[NEVENTS][TOPIC_LEN]; /* by kh_event_type index */
    unsigned subscribed_events;   /* the raw event types in the current subscription */
    size_t nfresh, nwaiting;      /* jobs in all partners' fresh / waiting lists */
    int main_paused, retry_paused;
    int stopping;
    int failed;                   /* a write could not even be queued: stop, commit nothing more */
    unsigned rng;
    atomic_int ready;             /* read by the ops thread */
    metrics m;
} loop;

static int64_t now_ms(void) { return kh_now_millis(); }

/* ---- metrics -------------------------------------------------------------- */

static void metrics_init(loop *l) {
    static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25,  0.5,    1,     2.5,  5,    10,   30};
    kh_metrics *r = l->svc->metrics;
    metrics *m = &l->m;
    m->records = kh_metrics_counter(r, "ketenhub_push_records_total",
                                    "Records read, by source (melding, event, retry).", "source");
    m->deadletters = kh_metrics_counter(r, "ketenhub_push_deadletters_total",
                                        "Dead letters written, by reason.", "reason");
    m->deliveries = kh_metrics_counter(r, "ketenhub_push_deliveries_total",
                                       "Final delivery outcomes, by partner and outcome.",
                                       "partner,outcome");
    m->attempts = kh_metrics_counter(r, "ketenhub_push_attempts_total",
                                     "HTTP attempts, by partner and result (2xx, 3xx, 4xx, 408, "
                                     "429, 5xx, timeout, error).", "partner,result");
    m->retries = kh_metrics_counter(r, "ketenhub_push_retries_total",
                                    "Failed attempts handed to the retry topic, by partner.",
                                    "partner");
    m->deferred = kh_metrics_counter(r, "ketenhub_push_deferred_total",
                                     "Jobs handed to the retry topic without an attempt, by "
                                     "partner and reason (backoff, overflow).", "partner,reason");
    m->in_flight = kh_metrics_gauge(r, "ketenhub_push_in_flight", "Requests in flight, by partner.",
                                    "partner");
    m->queued = kh_metrics_gauge(r, "ketenhub_push_queued",
                                 "Jobs waiting in memory, by partner and queue (fresh, waiting).",
                                 "partner,queue");
    m->latency = kh_metrics_histogram(r, "ketenhub_push_request_duration_seconds",
                                      "Duration of HTTP attempts, by partner.", "partner", bounds,
                                      sizeof bounds / sizeof bounds[0]);
    m->oldest = kh_metrics_gauge(r, "ketenhub_push_oldest_undelivered_age_seconds",
                                 "Age of the oldest delivery not yet final that push holds, by "
                                 "partner (0 when none).", "partner");
    m->subscriptions = kh_metrics_gauge(r, "ketenhub_push_subscriptions",
                                        "Subscriptions loaded.", NULL);
    m->reloads = kh_metrics_counter(r, "ketenhub_push_reloads_total",
                                    "Subscription file reloads, by result (ok, error).", "result");
    m->paused = kh_metrics_gauge(r, "ketenhub_push_paused",
                                 "1 while reading is paused because the memory bound is reached, "
                                 "by topic kind (main, retry).", "topic");
}

static void count(kh_family *f, const char *a, const char *b) {
    const char *v[] = {a, b};
    kh_metric_add(f, v, 1);
}

static const char *result_class(long status, int timed_out) {
    if (timed_out)
        return "timeout";
    if (status == 0)
        return "error";
    if (status == 408 || status == 429)
        return status == 408 ? "408" : "429";
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    return status >= 100 && status < 600 ? classes[status / 100 - 1] : "error";
}

/* The gauges that describe state rather than events, refreshed each tick. */
static void refresh_gauges(loop *l) {
    int64_t now = now_ms();
    for (push_partner *p = push_partners_first(l->partners); p; p = p->next) {
        const char *fresh[] = {p->name, "fresh"}, *waiting[] = {p->name, "waiting"};
        const char *name[] = {p->name};
        int64_t oldest = push_partner_oldest(p);
        kh_metric_set(l->m.queued, fresh, (double)p->nfresh);
        kh_metric_set(l->m.queued, waiting, (double)p->nwaiting);
        kh_metric_set(l->m.in_flight, name, p->in_flight);
        kh_metric_set(l->m.oldest, name, oldest ? (double)(now - oldest) / 1000.0 : 0);
    }
    const char *main_t[] = {"main"}, *retry_t[] = {"retry"};
    kh_metric_set(l->m.paused, main_t, l->main_paused);
    kh_metric_set(l->m.paused, retry_t, l->retry_paused);
}

/* ---- writing outcomes ---------------------------------------------------- */

/* A write that cannot even be queued leaves the job unfinished for good:
 * the loop stops and the record is read again after a restart. */
static void give_up_job(loop *l, push_job *job, const char *err) {
    kh_log_error("cannot write an outcome; stopping so the work is redone after a restart",
                 json_pack("{s:s}", "error", err));
    l->failed = 1;
    if (job->pending)
        push_pending_abandon(job->pending); /* never finished, so never committed */
    job->pending = NULL;
}

static rd_kafka_headers_t *melding_headers(const push_job *job) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_header_add(h, "event-type", -1, "aflevering", -1);
    rd_kafka_header_add(h, "melding-id", -1, job->id, -1);
    rd_kafka_header_add(h, "ontvanger", -1, job->partner->name, -1);
    return h;
}

/* The original record, as the dead-letter builder wants it. */
static int dead_letter_for(loop *l, push_job *job, const char *reason_code, const char *reason,
                           const char *ontvanger, char *err, size_t errlen) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(l->consumer, job->origin_topic, NULL);
    rd_kafka_message_t origin = {.rkt = rkt, .partition = job->origin_partition,
                                 .offset = job->origin_offset, .payload = job->value,
                                 .len = job->value_len, .key = job->key, .key_len = job->key_len};
    char type[16] = "", *code = NULL;
    if (ontvanger) {
        snprintf(type, sizeof type, "%.*s", (int)strcspn(ontvanger, ":"), ontvanger);
        code = strchr(ontvanger, ':') + 1;
    }
    kh_deadletter dl = {.reason_code = reason_code, .reason = reason, .service = "push",
                        .origin = &origin, .ontvanger_type = ontvanger ? type : NULL,
                        .ontvanger_code = code};
    char *value = NULL;
    size_t len = 0;
    rd_kafka_headers_t *h = NULL;
    int rc = kh_deadletter_build(l->schemas, &dl, &value, &len, &h, err, errlen);
    if (rc == 0)
        rc = push_output_send(l->out, job, l->t_deadletter, job->key, job->key_len, value, len, h,
                              err, errlen);
    free(value);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (rc == 0)
        count(l->m.deadletters, reason_code, NULL);
    return rc;
}

/* Final outcome: the aflevering, plus a dead letter unless delivered. */
static void finish(loop *l, push_job *job, const char *outcome, const char *dlq_reason,
                   const char *why) {
    const char *partner = job->partner->name;
    push_aflevering a = {.melding_id = job->id, .ontvanger = partner,
                         .endpoint = job->endpoint, .attempts = job->attempts,
                         .http_status = job->last_status,
                         .first_attempt_ms = job->first_attempt_ms,
                         .last_attempt_ms = job->last_attempt_ms, .outcome = outcome,
                         .error = job->last_error[0] ? job->last_error : why};
    char err[512], *value = NULL;
    size_t len = 0;
    push_output_hold(job);
    int rc = push_aflevering_encode(l->schemas, &a, &value, &len, err, sizeof err);
    if (rc == 0)
        rc = push_output_send(l->out, job, l->t_aflevering, kh_retry_key(partner),
                              strlen(kh_retry_key(partner)), value, len, melding_headers(job), err,
                              sizeof err);
    free(value);
    if (rc == 0 && dlq_reason)
        rc = dead_letter_for(l, job, dlq_reason, why, partner, err, sizeof err);
    count(l->m.deliveries, partner, outcome);
    if (rc)
        give_up_job(l, job, err);
    else if (dlq_reason)
        kh_log_info("delivery failed for good",
                    json_pack("{s:s, s:s, s:s, s:i, s:I, s:s}", "melding_id", job->id, "partner",
                              partner, "outcome", outcome, "attempts", job->attempts,
                              "http_status", (json_int_t)job->last_status, "reason", why));
    else if (kh_log_enabled(KH_LOG_DEBUG))
        kh_log_debug("delivered", json_pack("{s:s, s:s, s:i}", "melding_id", job->id, "partner",
                                            partner, "attempts", job->attempts));
    push_output_release(l->out, job);
}

/* Hands the job to the retry topic, due at due_ms. */
static void hand_off(loop *l, push_job *job, int64_t due_ms) {
    kh_retry r = {.attempts = job->attempts, .since_ms = job->since_ms,
                  .first_attempt_ms = job->first_attempt_ms,
                  .last_attempt_ms = job->last_attempt_ms, .due_ms = due_ms,
                  .last_status = job->last_status, .origin_partition = job->origin_partition,
                  .origin_offset = job->origin_offset};
    snprintf(r.ontvanger, sizeof r.ontvanger, "%s", job->partner->name);
    snprintf(r.last_error, sizeof r.last_error, "%s", job->last_error);
    snprintf(r.origin_topic, sizeof r.origin_topic, "%s", job->origin_topic);
    char err[512];
    const char *key = kh_retry_key(job->partner->name);
    push_output_hold(job);
    if (push_output_send(l->out, job, l->t_retry, key, strlen(key), job->value, job->value_len,
                         kh_retry_headers(&r, job->key, job->key_len), err, sizeof err))
        give_up_job(l, job, err);
    push_output_release(l->out, job);
}

/* Poison: a record nobody can be given. Dead-lettered with its own origin. */
static void poison(loop *l, const rd_kafka_message_t *m, push_pending *pending,
                   const char *reason_code, const char *reason) {
    push_job *job = push_job_new(now_ms());
    char err[512];
    if (!job) {
        l->failed = 1;
        return;
    }
    job->pending = pending;
    push_pending_ref(pending);
    job->origin_topic = strdup(rd_kafka_topic_name(m->rkt));
    job->origin_partition = m->partition;
    job->origin_offset = m->offset;
    job->value = malloc(m->len ? m->len : 1);
    job->key = m->key ? malloc(m->key_len) : NULL;
    if (job->value)
        memcpy(job->value, m->payload, m->len);
    if (job->key)
        memcpy(job->key, m->key, m->key_len);
    job->value_len = m->len;
    job->key_len = m->key ? m->key_len : 0;
    kh_log_warn("poison record dead-lettered",
                json_pack("{s:s, s:i, s:I, s:s, s:s}", "topic", rd_kafka_topic_name(m->rkt),
                          "partition", (int)m->partition, "offset", (json_int_t)m->offset,
                          "reason_code", reason_code, "reason", reason));
    push_output_hold(job);
    if (dead_letter_for(l, job, reason_code, reason, NULL, err, sizeof err))
        give_up_job(l, job, err);
    push_output_release(l->out, job);
}

/* ---- reading records ----------------------------------------------------- */

/* Decodes m; on success the caller owns *j (the natural JSON). Otherwise the
 * record is dead-lettered and -1 returned. */
static int decode(loop *l, const rd_kafka_message_t *m, push_pending *pending,
                  const kh_schema **s, json_t **j) {
    static const char *const reasons[] = {"", "BAD_MAGIC_BYTE", "UNKNOWN_SCHEMA_ID", "UNDECODABLE"};
    char err[256];
    avro_value_t v;
    kh_decode_status st = kh_codec_decode(l->schemas, m->payload, m->len, s, &v, err, sizeof err);
    if (st != KH_DECODE_OK) {
        poison(l, m, pending, reasons[st], err);
        return -1;
    }
    *j = kh_codec_to_json(*s, &v, err, sizeof err);
    avro_value_decref(&v);
    if (!*j) {
        poison(l, m, pending, "UNDECODABLE", err);
        return -1;
    }
    return 0;
}

static int wanted(const push_sub *sub, const push_job *job) {
    return sub && (job->is_event ? push_sub_wants_event(sub, job->what)
                                 : push_sub_wants_regel(sub, job->what));
}

static void *dup_bytes(const void *p, size_t n) {
    void *c = malloc(n ? n : 1);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

/* A job for one delivery of record m (body: its natural JSON text). */
static push_job *new_job(loop *l, const rd_kafka_message_t *m, push_pending *pending,
                         const char *id, const char *what, int is_event, const char *body) {
    push_job *job = push_job_new(now_ms());
    if (!job)
        return NULL;
    job->pending = pending;
    push_pending_ref(pending);
    snprintf(job->id, sizeof job->id, "%s", id ? id : "");
    snprintf(job->what, sizeof job->what, "%s", what ? what : "");
    job->is_event = is_event;
    job->body_len = strlen(body);
    job->body = dup_bytes(body, job->body_len);
    job->value = dup_bytes(m->payload, m->len);
    job->value_len = m->len;
    if (m->key) {
        job->key = dup_bytes(m->key, m->key_len);
        job->key_len = m->key_len;
    }
    job->origin_topic = strdup(rd_kafka_topic_name(m->rkt));
    job->origin_partition = m->partition;
    job->origin_offset = m->offset;
    if (!job->body || !job->value || (m->key && !job->key) || !job->origin_topic) {
        push_job_free(job);
        l->failed = 1;
        return NULL;
    }
    return job;
}

static push_partner *partner_of(loop *l, const char *name) {
    push_partner *p = push_partners_get(l->partners, name);
    if (p && !p->sub)
        p->sub = push_subs_find(l->subs, name);
    return p;
}

static void no_subscription(loop *l, push_job *job) {
    char why[160];
    snprintf(why, sizeof why, "%s has no subscription for %s %s", job->partner->name,
             job->is_event ? "event type" : "regel", job->what);
    finish(l, job, "NO_SUBSCRIPTION", "NO_SUBSCRIPTION", why);
}

static void enqueue_fresh(loop *l, const char *partner, push_job *job) {
    push_partner *p = partner_of(l, partner);
    if (!p) {
        push_job_free(job);
        l->failed = 1;
        return;
    }
    job->partner = p;
    if (!wanted(p->sub, job)) {
        no_subscription(l, job);
        return;
    }
    push_partner_add_fresh(p, job);
    l->nfresh++;
}

static const char *org_of(const json_t *j, const char *field, char *buf, size_t len) {
    const json_t *o = json_object_get(j, field);
    snprintf(buf, len, "%s:%s", json_string_value(json_object_get(o, "type")),
             json_string_value(json_object_get(o, "code")));
    return buf;
}

static void on_melding(loop *l, const rd_kafka_message_t *m, push_pending *pending,
                       const kh_schema *s, const json_t *j, const char *body) {
    char org[PUSH_ORG_LEN * 2];
    if (strcmp(kh_schema_name(s), "melding") != 0) {
        char why[128];
        snprintf(why, sizeof why, "a record of schema %s on the melding topic", kh_schema_name(s));
        poison(l, m, pending, "INVALID_EVENT", why);
        return;
    }
    push_job *job = new_job(l, m, pending, json_string_value(json_object_get(j, "melding_id")),
                            json_string_value(json_object_get(j, "regel")), 0, body);
    if (job)
        enqueue_fresh(l, org_of(j, "ontvanger", org, sizeof org), job);
}

static const kh_event_type *event_type_of(const kh_schema *s) {
    return kh_event_type_by_name(kh_schema_name(s));
}

/* A raw event goes to every subscriber it is addressed to that asked for
 * its type; to nobody else. */
static void on_event(loop *l, const rd_kafka_message_t *m, push_pending *pending,
                     const kh_schema *s, const json_t *j, const char *body,
                     const kh_event_type *topic_type) {
    if (event_type_of(s) != topic_type) {
        char why[128];
        snprintf(why, sizeof why, "a record of schema %s on the %s topic", kh_schema_name(s), topic_type->name);
        poison(l, m, pending, "INVALID_EVENT", why);
        return;
    }
    char orgs[PUSH_NAMED_MAX][PUSH_ORG_LEN];
    size_t n = push_named_orgs(topic_type->name, j, orgs);
    const char *id = json_string_value(json_object_get(json_object_get(j, "envelope"), "event_id"));
    for (size_t i = 0; i < n; i++) {
        const push_sub *sub = push_subs_find(l->subs, orgs[i]);
        if (!sub || !push_sub_wants_event(sub, topic_type->name))
            continue;
        push_job *job = new_job(l, m, pending, id, topic_type->name, 1, body);
        if (job)
            enqueue_fresh(l, orgs[i], job);
    }
}

/* Whether the record value j (of schema s) may go to partner at all: a
 * melding only to its ontvanger, a raw event only to an addressee. Guards
 * the retry topic, which anyone with write access to Kafka could fill. */
static int addressed_to(const kh_schema *s, const json_t *j, const char *partner) {
    char org[PUSH_ORG_LEN * 2];
    if (strcmp(kh_schema_name(s), "melding") == 0)
        return strcmp(org_of(j, "ontvanger", org, sizeof org), partner) == 0;
    const kh_event_type *t = event_type_of(s);
    char orgs[PUSH_NAMED_MAX][PUSH_ORG_LEN];
    size_t n = t ? push_named_orgs(t->name, j, orgs) : 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(orgs[i], partner) == 0)
            return 1;
    return 0;
}

static void on_retry(loop *l, const rd_kafka_message_t *m, push_pending *pending,
                     const kh_schema *s, const json_t *j, const char *body) {
    kh_retry r;
    const void *key;
    size_t keylen;
    char err[256];
    rd_kafka_headers_t *h = NULL;
    rd_kafka_message_headers(m, &h);
    if (kh_retry_parse(h, &r, &key, &keylen, err, sizeof err)) {
        poison(l, m, pending, "INVALID_EVENT", err);
        return;
    }
    if (!addressed_to(s, j, r.ontvanger)) {
        poison(l, m, pending, "INVALID_EVENT", "retry record for a partner the record is not addressed to");
        return;
    }
    int is_event = strcmp(kh_schema_name(s), "melding") != 0;
    const char *id = is_event ? json_string_value(json_object_get(json_object_get(j, "envelope"), "event_id"))
                              : json_string_value(json_object_get(j, "melding_id"));
    push_job *job = new_job(l, m, pending, id,
                            is_event ? kh_schema_name(s) : json_string_value(json_object_get(j, "regel")),
                            is_event, body);
    push_partner *p = job ? partner_of(l, r.ontvanger) : NULL;
    if (!p) {
        push_job_free(job);
        l->failed = 1;
        return;
    }
    free(job->key);
    job->key = key ? dup_bytes(key, keylen) : NULL;
    job->key_len = key ? keylen : 0;
    free(job->origin_topic);
    job->origin_topic = strdup(r.origin_topic);
    job->origin_partition = r.origin_partition;
    job->origin_offset = r.origin_offset;
    job->attempts = r.attempts;
    job->since_ms = r.since_ms ? r.since_ms : job->since_ms;
    job->first_attempt_ms = r.first_attempt_ms;
    job->last_attempt_ms = r.last_attempt_ms;
    job->due_ms = r.due_ms;
    job->last_status = r.last_status;
    snprintf(job->last_error, sizeof job->last_error, "%s", r.last_error);
    job->partner = p;
    push_partner_add_waiting(p, job);
    l->nwaiting++;
}

static const kh_event_type *raw_topic(const loop *l, const char *topic) {
    for (size_t i = 0; i < kh_event_type_count() && i < NEVENTS; i++)
        if (strcmp(l->t_events[i], topic) == 0)
            return kh_event_type_at(i);
    return NULL;
}

static void handle(loop *l, const rd_kafka_message_t *m) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    push_pending *pending = push_offsets_track(l->offsets, topic, m->partition, m->offset);
    if (!pending) {
        l->failed = 1;
        return;
    }
    int is_melding = strcmp(topic, l->t_melding) == 0, is_retry = strcmp(topic, l->t_retry) == 0;
    const kh_event_type *et = is_melding || is_retry ? NULL : raw_topic(l, topic);
    count(l->m.records, is_melding ? "melding" : is_retry ? "retry" : "event", NULL);
    const kh_schema *s;
    json_t *j;
    if ((is_melding || is_retry || et) && decode(l, m, pending, &s, &j) == 0) {
        char *body = json_dumps(j, JSON_COMPACT);
        if (!body)
            l->failed = 1;
        else if (is_melding)
            on_melding(l, m, pending, s, j, body);
        else if (is_retry)
            on_retry(l, m, pending, s, j, body);
        else
            on_event(l, m, pending, s, j, body, et);
        free(body);
        json_decref(j);
    }
    push_pending_done(pending);
}

/* ---- attempts ------------------------------------------------------------ */

static void on_response(void *ctx, void *ud, const push_http_result *r);

static void attempt(loop *l, push_partner *p, push_job *job) {
    const push_sub *sub = p->sub;
    int64_t now = now_ms();
    char ts[24], id_h[64], ts_h[48], sig_h[PUSH_SIGN_LEN + 32], sig[PUSH_SIGN_LEN], err[256];
    snprintf(ts, sizeof ts, "%lld", (long long)(now / 1000));
    snprintf(id_h, sizeof id_h, "webhook-id: %s", job->id);
    snprintf(ts_h, sizeof ts_h, "webhook-timestamp: %s", ts);
    free(job->endpoint);
    job->endpoint = strdup(sub->endpoint);
    if (!job->first_attempt_ms)
        job->first_attempt_ms = now;
    push_partner_fly(p, job);
    int rc = push_sign(sub->secret, sub->secret_len, job->id, now / 1000, job->body, job->body_len, sig);
    snprintf(sig_h, sizeof sig_h, "webhook-signature: %s", sig);
    const char *headers[] = {"Content-Type: application/json", id_h, ts_h, sig_h,
                             sub->authorization, NULL};
    push_http_request rq = {.url = sub->url, .body = job->body, .body_len = job->body_len,
                            .headers = headers, .timeout_ms = sub->timeout_ms,
                            .ca_file = sub->ca_file, .cert = sub->cert, .key = sub->key};
    if (rc == 0 && push_http_start(l->http, &rq, on_response, job, err, sizeof err) == 0)
        return;
    push_http_result failed = {.retry_after_ms = -1};
    snprintf(failed.error, sizeof failed.error, "%.159s", rc ? "cannot sign the request" : err);
    on_response(l, job, &failed);
}

static double random01(loop *l) {
    l->rng ^= l->rng << 13;
    l->rng ^= l->rng >> 17;
    l->rng ^= l->rng << 5;
    return (double)(l->rng % 1000000u) / 1000000.0;
}

static void partner_ok(push_partner *p) {
    if (p->failing)
        kh_log_info("partner answers again", json_pack("{s:s}", "partner", p->name));
    p->failing = 0;
    p->failures = 0;
    p->blocked_until = 0;
}

static void on_response(void *ctx, void *ud, const push_http_result *r) {
    push_job *job = ud;
    loop *l = ctx;
    push_partner *p = job->partner;
    int64_t now = now_ms();
    const char *name[] = {p->name};
    push_partner_land(p, job);
    job->attempts++;
    job->last_attempt_ms = now;
    job->last_status = r->status;
    snprintf(job->last_error, sizeof job->last_error, "%s", r->error);
    kh_metric_observe(l->m.latency, name, r->seconds);
    count(l->m.attempts, p->name, result_class(r->status, r->timed_out));
    switch (push_policy_classify(r->status)) {
    case PUSH_DELIVERED:
        partner_ok(p);
        job->last_error[0] = '\0';
        finish(l, job, "DELIVERED", NULL, NULL);
        return;
    case PUSH_REJECTED:
        partner_ok(p);
        finish(l, job, "REJECTED", "DELIVERY_REJECTED", r->error);
        return;
    case PUSH_RETRY:
        break;
    }
    int64_t wait = push_policy_backoff_ms(job->attempts, l->set->retry_initial_ms,
                                          l->set->retry_max_ms, random01(l), r->retry_after_ms);
    int64_t due = now + wait;
    /* One failure is the delivery's problem; a run of them, or a partner
     * asking us to wait (Retry-After), makes the whole partner back off. */
    p->failures++;
    if (r->retry_after_ms > 0 || p->failures >= l->set->breaker_failures) {
        if (!p->failing)
            kh_log_warn("partner failing; backing off",
                        json_pack("{s:s, s:I, s:s, s:I, s:i}", "partner", p->name, "http_status",
                                  (json_int_t)r->status, "error", r->error, "retry_in_ms",
                                  (json_int_t)wait, "failures", p->failures));
        p->failing = 1;
        if (due > p->blocked_until)
            p->blocked_until = due;
    }
    long long max_age = p->sub ? p->sub->max_age_ms : l->set->defaults.max_age_ms;
    if (due > job->since_ms + max_age) {
        finish(l, job, "EXPIRED", "DELIVERY_EXPIRED", r->error);
        return;
    }
    count(l->m.retries, p->name, NULL);
    hand_off(l, job, due);
}

/* ---- per-partner dispatch ----------------------------------------------- */

static void defer(loop *l, push_job *list, int64_t due, const char *reason) {
    while (list) {
        push_job *next = list->next;
        list->next = NULL;
        l->nfresh--;
        count(l->m.deferred, list->partner->name, reason);
        hand_off(l, list, due);
        list = next;
    }
}

/* The next job the partner may start now, or NULL. Retries that are due go
 * first (they are older); fresh jobs keep their order among themselves. */
static push_job *next_job(loop *l, push_partner *p, int64_t now) {
    if (p->blocked_until > now)
        return NULL;
    if (p->waiting && p->waiting->due_ms <= now) {
        l->nwaiting--;
        return push_partner_pop_waiting(p);
    }
    if (p->fresh) {
        l->nfresh--;
        return push_partner_pop_fresh(p);
    }
    return NULL;
}

/* Starts what each partner may start; returns ms until something is due. */
static int64_t dispatch(loop *l) {
    int64_t now = now_ms(), next = IDLE_WAIT_MS;
    for (push_partner *p = push_partners_first(l->partners); p; p = p->next) {
        if (!p->fresh && !p->waiting)
            continue;
        if (p->blocked_until > now && p->fresh)
            defer(l, push_partner_cut_fresh(p, 0), p->blocked_until, "backoff");
        long limit = p->sub ? p->sub->concurrency : 1;
        push_job *job;
        while (p->in_flight < limit && (job = next_job(l, p, now))) {
            if (push_pending_orphan(job->pending))
                push_job_free(job); /* its partition moved to another consumer */
            else if (!wanted(p->sub, job))
                no_subscription(l, job);
            else if (now >= job->since_ms + p->sub->max_age_ms)
                finish(l, job, "EXPIRED", "DELIVERY_EXPIRED",
                       job->last_error[0] ? job->last_error : "maximum age reached");
            else
                attempt(l, p, job);
        }
        /* A partner at its limit is woken by its responses, not by a timer. */
        if (p->in_flight >= limit)
            continue;
        int64_t at = p->blocked_until > now ? p->blocked_until
                     : p->waiting          ? p->waiting->due_ms : now + IDLE_WAIT_MS;
        if (at - now < next)
            next = at - now;
    }
    return next < 0 ? 0 : next;
}

/* When the fresh jobs fill the buffer and one partner holds most of them,
 * that partner is too slow for its traffic: its newest jobs go to the retry
 * topic, so reading (and the other partners) can go on. */
static void relieve(loop *l) {
    if ((long long)l->nfresh < l->set->buffer_max)
        return;
    push_partner *big = NULL;
    for (push_partner *p = push_partners_first(l->partners); p; p = p->next)
        if (!big || p->nfresh > big->nfresh)
            big = p;
    if (!big || (long long)big->nfresh <= l->set->buffer_max / 2)
        return;
    kh_log_warn("partner too slow for its traffic; deferring its newest jobs to the retry topic",
                json_pack("{s:s, s:I}", "partner", big->name, "queued", (json_int_t)big->nfresh));
    defer(l, push_partner_cut_fresh(big, (size_t)(l->set->buffer_max / 4)), now_ms(), "overflow");
}

/* ---- consumer: subscription, rebalance, flow control, commit ------------- */

static void set_paused(loop *l, int retry_topic, int pause) {
    rd_kafka_topic_partition_list_t *a = NULL, *sel;
    if (rd_kafka_assignment(l->consumer, &a) || !a)
        return;
    sel = rd_kafka_topic_partition_list_new(a->cnt ? a->cnt : 1);
    for (int i = 0; i < a->cnt; i++)
        if ((strcmp(a->elems[i].topic, l->t_retry) == 0) == retry_topic)
            rd_kafka_topic_partition_list_add(sel, a->elems[i].topic, a->elems[i].partition);
    if (sel->cnt)
        (pause ? rd_kafka_pause_partitions : rd_kafka_resume_partitions)(l->consumer, sel);
    rd_kafka_topic_partition_list_destroy(sel);
    rd_kafka_topic_partition_list_destroy(a);
    *(retry_topic ? &l->retry_paused : &l->main_paused) = pause;
}

/* Pauses reading while the memory bounds are reached, resumes at half. */
static void flow_control(loop *l) {
    long long fmax = l->set->buffer_max, wmax = l->set->retry_buffer_max;
    if (!l->main_paused && (long long)l->nfresh >= fmax)
        set_paused(l, 0, 1);
    else if (l->main_paused && (long long)l->nfresh <= fmax / 2)
        set_paused(l, 0, 0);
    if (!l->retry_paused && (long long)l->nwaiting >= wmax)
        set_paused(l, 1, 1);
    else if (l->retry_paused && (long long)l->nwaiting <= wmax / 2)
        set_paused(l, 1, 0);
}

static void commit(loop *l, int sync) {
    rd_kafka_topic_partition_list_t *list = push_offsets_committable(l->offsets, sync);
    if (!list)
        return;
    if (kh_log_enabled(KH_LOG_DEBUG)) {
        json_t *offsets = json_object();
        for (int i = 0; i < list->cnt; i++) {
            char k[300];
            snprintf(k, sizeof k, "%s[%d]", list->elems[i].topic, (int)list->elems[i].partition);
            json_object_set_new(offsets, k, json_integer(list->elems[i].offset));
        }
        kh_log_debug("committing offsets", json_pack("{s:o}", "offsets", offsets));
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(l->consumer, list, !sync);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        kh_log_warn("offset commit failed", json_pack("{s:s}", "error", rd_kafka_err2str(e)));
    rd_kafka_topic_partition_list_destroy(list);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    loop *l = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        if (l->main_paused)
            set_paused(l, 0, 1);
        if (l->retry_paused)
            set_paused(l, 1, 1);
        atomic_store(&l->ready, 1);
        kh_log_info("partitions assigned", json_pack("{s:i}", "partitions", parts->cnt));
        return;
    }
    /* Revoked: commit what is finished, then forget the rest; whoever gets
     * the partitions reads the unfinished records again. */
    commit(l, 1);
    for (int i = 0; i < parts->cnt; i++)
        push_offsets_revoke(l->offsets, parts->elems[i].topic, parts->elems[i].partition);
    rd_kafka_assign(rk, NULL);
    kh_log_info("partitions revoked", json_pack("{s:i}", "partitions", parts->cnt));
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque) {
    (void)rk;
    (void)offsets;
    (void)opaque;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        kh_log_warn("offset commit failed", json_pack("{s:s}", "error", rd_kafka_err2str(err)));
}

static int consumer_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    rd_kafka_conf_set_opaque(conf, ud);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    return 0;
}

static int subscribe(loop *l) {
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(8);
    rd_kafka_topic_partition_list_add(t, l->t_melding, RD_KAFKA_PARTITION_UA);
    rd_kafka_topic_partition_list_add(t, l->t_retry, RD_KAFKA_PARTITION_UA);
    l->subscribed_events = push_subs_events(l->subs);
    for (size_t i = 0; i < kh_event_type_count() && i < NEVENTS; i++)
        if (l->subscribed_events & (1u << i))
            rd_kafka_topic_partition_list_add(t, l->t_events[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(l->consumer, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (e)
        kh_log_error("cannot subscribe", json_pack("{s:s}", "error", rd_kafka_err2str(e)));
    return e ? -1 : 0;
}

/* ---- reload --------------------------------------------------------------- */

static void reload(loop *l) {
    char err[2048];
    push_subs *fresh;
    kh_service_reload = 0;
    if (push_subs_load(l->set->subscriptions_file, l->schemas, &l->set->defaults, &fresh, err,
                       sizeof err)) {
        count(l->m.reloads, "error", NULL);
        kh_log_error("subscriptions not reloaded; keeping the current ones",
                     json_pack("{s:s}", "error", err));
        return;
    }
    for (push_partner *p = push_partners_first(l->partners); p; p = p->next)
        p->sub = push_subs_find(fresh, p->name);
    push_subs_free(l->subs);
    l->subs = fresh;
    count(l->m.reloads, "ok", NULL);
    kh_metric_set(l->m.subscriptions, NULL, (double)push_subs_count(fresh));
    kh_log_info("subscriptions reloaded", json_pack("{s:i}", "subscriptions", (int)push_subs_count(fresh)));
    if (push_subs_events(fresh) != l->subscribed_events && subscribe(l))
        l->failed = 1;
}

/* ---- setup and the loop -------------------------------------------------- */

static int ready(void *ud, char *why, size_t len) {
    loop *l = ud;
    if (atomic_load(&l->ready))
        return 1;
    snprintf(why, len, "not ready: waiting for a partition assignment from Kafka");
    return 0;
}

static void drain(int fd) {
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static void topics(loop *l) {
    kh_service *svc = l->svc;
    kh_service_topic(svc, kh_schema_topic(kh_schemas_by_name(l->schemas, "melding")), l->t_melding, TOPIC_LEN);
    kh_service_topic(svc, KH_RETRY_TOPIC, l->t_retry, TOPIC_LEN);
    kh_service_topic(svc, PUSH_AFLEVERING_TOPIC, l->t_aflevering, TOPIC_LEN);
    kh_service_topic(svc, KH_DEADLETTER_TOPIC, l->t_deadletter, TOPIC_LEN);
    for (size_t i = 0; i < kh_event_type_count() && i < NEVENTS; i++) {
        const kh_schema *s = kh_schemas_by_name(l->schemas, kh_event_type_at(i)->name);
        kh_service_topic(svc, s ? kh_schema_topic(s) : "", l->t_events[i], TOPIC_LEN);
    }
}

static int setup_kafka(loop *l, char *err, size_t errlen) {
    l->out = push_output_new(l->svc->config, err, errlen);
    if (!l->out)
        return -1;
    push_output_ensure_topic(l->out, l->t_retry);
    l->consumer = kh_kafka_consumer_new(l->svc->config, l->set->group_id, consumer_hook, l, err, errlen);
    if (!l->consumer)
        return -1;
    if (pipe(l->wake) || fcntl(l->wake[0], F_SETFL, O_NONBLOCK) ||
        fcntl(l->wake[1], F_SETFL, O_NONBLOCK)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(l->consumer);
    rd_kafka_queue_io_event_enable(q, l->wake[1], "c", 1);
    rd_kafka_queue_destroy(q);
    push_output_wake_fd(l->out, l->wake[1]);
    return subscribe(l);
}

static int setup(loop *l, char *err, size_t errlen) {
    if (kh_schemas_open(&l->schemas, err, errlen))
        return -1;
    if (push_subs_load(l->set->subscriptions_file, l->schemas, &l->set->defaults, &l->subs, err, errlen))
        return -1;
    topics(l);
    metrics_init(l);
    kh_metric_set(l->m.subscriptions, NULL, (double)push_subs_count(l->subs));
    l->partners = push_partners_new();
    l->offsets = push_offsets_new();
    l->http = push_http_new(l, (long)l->set->max_connections, (long)l->set->max_host_connections, err, errlen);
    if (!l->partners || !l->offsets || !l->http)
        return snprintf(err, errlen, "out of memory or no libcurl"), -1;
    return setup_kafka(l, err, errlen);
}

static void abandoned(void *ud) {
    push_job *job = ud;
    push_partner_land(job->partner, job);
    push_pending_abandon(job->pending); /* unfinished: read again after the restart */
    job->pending = NULL;
    push_job_free(job);
}

/* Stops reading, lets requests in flight finish (their outcomes are
 * written) up to the shutdown bound, abandons the rest, commits what is
 * finished. Queued jobs are simply not finished: they are read again. */
static void drain_and_commit(loop *l) {
    int64_t deadline = now_ms() + l->set->shutdown_timeout_ms;
    while ((push_http_in_flight(l->http) || push_output_outstanding(l->out)) &&
           now_ms() < deadline && !push_output_fatal(l->out)) {
        push_output_poll(l->out);
        push_http_run(l->http, 50, l->wake, 1);
        drain(l->wake[0]);
        /* Serves consumer callbacks; records read now are left unfinished. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(l->consumer, 0);
        if (m)
            rd_kafka_message_destroy(m);
    }
    if (push_http_in_flight(l->http))
        kh_log_warn("shutdown bound reached; requests in flight are abandoned and redone later",
                    json_pack("{s:i}", "in_flight", push_http_in_flight(l->http)));
    push_http_abandon_all(l->http, abandoned);
    if (push_output_flush(l->out, 5000))
        kh_log_warn("not every write was acknowledged before shutdown", NULL);
    if (!push_output_fatal(l->out))
        commit(l, 1);
}

static void run(loop *l) {
    int64_t next_tick = 0;
    while (!kh_service_stop && !l->failed && !push_output_fatal(l->out)) {
        if (kh_service_reload)
            reload(l);
        int n = 0;
        rd_kafka_message_t *m;
        while (n < BATCH && (m = rd_kafka_consumer_poll(l->consumer, 0))) {
            if (!m->err)
                handle(l, m);
            else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                kh_log_warn("kafka consumer error", json_pack("{s:s}", "error", rd_kafka_message_errstr(m)));
            rd_kafka_message_destroy(m);
            n++;
        }
        relieve(l);
        flow_control(l);
        int64_t wait = dispatch(l);
        push_output_poll(l->out);
        if (push_http_run(l->http, n == BATCH ? 0 : (int)wait, l->wake, 1))
            kh_log_warn("libcurl multi error", NULL);
        drain(l->wake[0]);
        int64_t now = now_ms();
        if (now >= next_tick) {
            commit(l, 0);
            refresh_gauges(l);
            next_tick = now + l->set->commit_interval_ms;
        }
    }
}

static void teardown(loop *l) {
    if (l->consumer) {
        rd_kafka_consumer_close(l->consumer);
        rd_kafka_destroy(l->consumer);
    }
    push_output_free(l->out);
    push_http_free(l->http);
    push_partners_free(l->partners);
    push_offsets_free(l->offsets);
    push_subs_free(l->subs);
    kh_schemas_free(l->schemas);
    if (l->wake[0] > 0) {
        close(l->wake[0]);
        close(l->wake[1]);
    }
}

int push_loop_run(kh_service *svc, const push_settings *set) {
    loop l = {.svc = svc, .set = set, .rng = (unsigned)now_ms() | 1u, .wake = {-1, -1}};
    char err[2048];
    atomic_init(&l.ready, 0);
    int rc = setup(&l, err, sizeof err);
    if (rc)
        kh_log_error("cannot start", json_pack("{s:s}", "error", err));
    else if (kh_service_start_ops(svc, "127.0.0.1:9103", ready, &l))
        rc = -1;
    if (rc == 0) {
        kh_log_info("push started",
                    json_pack("{s:s, s:s, s:i}", "melding_topic", l.t_melding, "retry_topic",
                              l.t_retry, "subscriptions", (int)push_subs_count(l.subs)));
        run(&l);
        atomic_store(&l.ready, 0);
        kh_log_info("stopping", json_pack("{s:b}", "failed", l.failed || push_output_fatal(l.out)));
        drain_and_commit(&l);
        rc = l.failed || push_output_fatal(l.out) ? -1 : 0;
    }
    teardown(&l);
    return rc ? 1 : 0;
}
