/*
 * push_loop — the Kafka side of ketenhub-push: read, hand each record to
 * the decision step (push_process) and the work to the partners' queues
 * (push_deliver), pause and resume reading, commit, follow rebalances and
 * reloads. One thread: librdkafka and libcurl both wake the same poll
 * (push_http_run), so a record read, a response received and a write
 * acknowledged are all handled as they come.
 */
#include "push_loop.h"

#include "kh_alloc.h"
#include "kh_deadletter.h"
#include "kh_event.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_retry.h"
#include "kh_time.h"
#include "push_aflevering.h"
#include "push_deliver.h"
#include "push_metrics.h"
#include "push_offsets.h"
#include "push_outcome.h"
#include "push_output.h"
#include "push_process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 500 /* records read per turn of the loop */
/* How long the fresh jobs may fill the buffer before the main partitions
 * are paused (see flow_control). */
#define FULL_PAUSE_MS 5000
#define TOPIC_LEN 256
/* After the requests in flight: how long the last acknowledgements, the
 * final commit and leaving the group may take. */
#define CLOSE_MS 5000

typedef struct loop {
    kh_service *svc;
    const push_settings *set;
    kh_schemas *schemas;
    push_subs *subs;
    push_offsets *offsets;
    push_output *out;
    push_outcomes outcomes; /* writes outcomes; its failed points at ours */
    push_deliverer deliver; /* the partners and their requests */
    rd_kafka_t *consumer;
    int wake[2]; /* readable when Kafka has something for us */
    char t_melding[TOPIC_LEN], t_retry[TOPIC_LEN], t_aflevering[TOPIC_LEN], t_deadletter[TOPIC_LEN];
    char t_events[KH_EVENT_TYPES_MAX][TOPIC_LEN]; /* by kh_event_type index */
    unsigned subscribed_events; /* the raw event types in the current subscription */
    int main_paused, retry_paused;
    int64_t full_since;         /* when the fresh jobs filled the buffer; 0 when they do not */
    kh_kafka_waker waker;       /* keeps the capped pre-fetch fetching */
    int failed;                 /* a write could not even be queued: stop, commit nothing more */
    kh_kafka_txn_bound closing; /* the bound of close_kafka */
    atomic_int ready;           /* read by the ops thread */
    push_metrics m;
} loop;

/* ---- reading records ----------------------------------------------------- */

static void *dup_bytes(const void *p, size_t n) {
    void *c = kh_malloc(n ? n : 1);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* A job for the record m, holding a reference to its pending entry. */
static push_job *job_of(const rd_kafka_message_t *m, push_pending *pending) {
    push_job *job = push_job_new(kh_now_millis());
    job->pending = pending;
    push_pending_ref(pending);
    job->value = dup_bytes(m->payload, m->len);
    job->value_len = m->len;
    if (m->key) {
        job->key = dup_bytes(m->key, m->key_len);
        job->key_len = m->key_len;
    }
    job->origin_topic = kh_strdup(rd_kafka_topic_name(m->rkt));
    job->origin_partition = m->partition;
    job->origin_offset = m->offset;
    return job;
}

/* A job for one delivery the decision d names. */
static push_job *delivery_of(const rd_kafka_message_t *m, push_pending *pending,
                             const push_decision *d) {
    push_job *job = job_of(m, pending);
    snprintf(job->id, sizeof job->id, "%s", d->id);
    snprintf(job->what, sizeof job->what, "%s", d->what);
    job->is_event = d->is_event;
    job->body_len = strlen(d->body);
    job->body = dup_bytes(d->body, job->body_len);
    return job;
}

static const kh_event_type *raw_topic(const loop *l, const char *topic) {
    for (size_t i = 0; i < kh_event_type_count(); i++)
        if (strcmp(l->t_events[i], topic) == 0)
            return kh_event_type_at(i);
    return NULL;
}

/* What topic the record comes from; 0 when none push reads. */
static int source_of(const loop *l, const char *topic, push_record *r) {
    if (strcmp(topic, l->t_melding) == 0)
        r->source = PUSH_FROM_MELDING;
    else if (strcmp(topic, l->t_retry) == 0)
        r->source = PUSH_FROM_RETRY;
    else if ((r->event_type = raw_topic(l, topic)) != NULL)
        r->source = PUSH_FROM_EVENT;
    else
        return 0;
    return 1;
}

static void act(loop *l, const rd_kafka_message_t *m, push_pending *pending, push_source from,
                const push_decision *d) {
    if (d->poison) {
        push_outcome_poison(&l->outcomes, job_of(m, pending), d->reason, d->why);
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        push_job *job = delivery_of(m, pending, d);
        if (from != PUSH_FROM_RETRY) {
            push_deliver_fresh(&l->deliver, d->to[i], job);
            continue;
        }
        push_job_from_retry(job, &d->retry, d->retry_key, d->retry_keylen);
        push_deliver_waiting(&l->deliver, d->to[i], job);
    }
}

static void handle(loop *l, const rd_kafka_message_t *m) {
    static const char *const sources[] = {"melding", "event", "retry"};
    const char *topic = rd_kafka_topic_name(m->rkt);
    push_pending *pending = push_offsets_track(l->offsets, topic, m->partition, m->offset);
    push_record r = {.payload = m->payload, .len = m->len};
    int known = source_of(l, topic, &r);
    push_metrics_count(l->m.records, known ? sources[r.source] : "event", NULL);
    if (known) {
        rd_kafka_headers_t *h = NULL;
        push_decision d;
        if (r.source == PUSH_FROM_RETRY && rd_kafka_message_headers(m, &h) == 0)
            r.headers = h;
        push_process(l->schemas, l->subs, &r, &d);
        act(l, m, pending, r.source, &d);
        push_decision_clear(&d);
    }
    push_pending_done(pending);
}

/* ---- consumer: flow control, commit, rebalance, subscription ------------- */

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

static int buffer_full(const loop *l) { return (long long)l->deliver.nfresh >= l->set->buffer_max; }

/* At buffer.max fresh jobs the loop stops reading (read_batch) and
 * librdkafka's bounded pre-fetch waits, ready the moment there is room.
 * Pausing the partitions instead throws the pre-fetch away, and librdkafka
 * 2.0 picks a resumed partition up only on its next one-second turn: the
 * benchmark showed deliveries stopping for ~0.5 s after every resume. Only
 * a buffer full for FULL_PAUSE_MS pauses the main partitions (so the
 * consumer is polled, and its callbacks served, however long it lasts),
 * resuming at half. When the buffer fills, one partner holding most of it
 * is relieved (push_deliver_relieve). The retry topic pauses at its
 * bound, resuming at half. */
static void flow_control(loop *l) {
    long long fmax = l->set->buffer_max, wmax = l->set->retry_buffer_max;
    size_t nfresh = l->deliver.nfresh, nwaiting = l->deliver.nwaiting;
    int64_t now = kh_now_millis();
    if (!buffer_full(l))
        l->full_since = 0;
    else if (!l->full_since) {
        l->full_since = now;
        push_deliver_relieve(&l->deliver);
    }
    if (!l->main_paused && l->full_since && now - l->full_since >= FULL_PAUSE_MS)
        set_paused(l, 0, 1);
    else if (l->main_paused && (long long)nfresh <= fmax / 2)
        set_paused(l, 0, 0);
    if (!l->retry_paused && (long long)nwaiting >= wmax)
        set_paused(l, 1, 1);
    else if (l->retry_paused && (long long)nwaiting <= wmax / 2)
        set_paused(l, 1, 0);
}

static void log_commit(const rd_kafka_topic_partition_list_t *list) {
    json_t *offsets = json_object();
    for (int i = 0; i < list->cnt; i++) {
        char k[300];
        snprintf(k, sizeof k, "%s[%d]", list->elems[i].topic, (int)list->elems[i].partition);
        json_object_set_new(offsets, k, json_integer(list->elems[i].offset));
    }
    kh_log_debug("committing offsets", json_pack("{s:o}", "offsets", offsets));
}

static void commit(loop *l, int sync) {
    rd_kafka_topic_partition_list_t *list = push_offsets_committable(l->offsets, sync);
    if (!list)
        return;
    if (kh_log_enabled(KH_LOG_DEBUG))
        log_commit(list);
    rd_kafka_resp_err_t e = rd_kafka_commit(l->consumer, list, !sync);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        kh_log_warn("offset commit failed", json_pack("{s:s}", "error", rd_kafka_err2str(e)));
    rd_kafka_topic_partition_list_destroy(list);
}

/* Partitions going away: commit what is finished, then forget the rest;
 * whoever gets the partitions reads the unfinished records again. */
static void on_revoke(void *ud, kh_kafka_rebalance_kind kind,
                      const rd_kafka_topic_partition_list_t *parts) {
    loop *l = ud;
    (void)kind;
    commit(l, 1);
    for (int i = 0; i < parts->cnt; i++)
        push_offsets_revoke(l->offsets, parts->elems[i].topic, parts->elems[i].partition);
    push_deliver_forget_transit(&l->deliver);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    loop *l = opaque;
    kh_kafka_rebalance_kind kind;
    int assigned = 0;
    char why[512];
    if (kh_kafka_rebalance(rk, err, parts, on_revoke, l, &kind, &assigned, why, sizeof why)) {
        kh_log_error("rebalance failed; stopping", json_pack("{s:s}", "error", why));
        l->failed = 1;
        return;
    }
    if (kind == KH_KAFKA_ASSIGNED) {
        /* Newly assigned partitions start resumed: pause them too. */
        if (l->main_paused)
            set_paused(l, 0, 1);
        if (l->retry_paused)
            set_paused(l, 1, 1);
        atomic_store(&l->ready, 1);
    }
    kh_metric_set(l->m.assigned, NULL, assigned);
    kh_log_info(kind == KH_KAFKA_ASSIGNED ? "partitions assigned" : "partitions revoked",
                json_pack("{s:s, s:i, s:i}", "kind", kh_kafka_rebalance_name(kind), "partitions",
                          parts->cnt, "assigned", assigned));
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
    for (size_t i = 0; i < kh_event_type_count(); i++)
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
        push_metrics_count(l->m.reloads, "error", NULL);
        kh_log_error("subscriptions not reloaded; keeping the current ones",
                     json_pack("{s:s}", "error", err));
        return;
    }
    push_deliver_subs(&l->deliver, fresh);
    push_subs_free(l->subs);
    l->subs = fresh;
    push_metrics_count(l->m.reloads, "ok", NULL);
    kh_metric_set(l->m.subscriptions, NULL, (double)push_subs_count(fresh));
    kh_log_info("subscriptions reloaded",
                json_pack("{s:i}", "subscriptions", (int)push_subs_count(fresh)));
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
    kh_service_topic(svc, kh_schemas_topic(l->schemas, "melding"), l->t_melding, TOPIC_LEN);
    kh_service_topic(svc, KH_RETRY_TOPIC, l->t_retry, TOPIC_LEN);
    kh_service_topic(svc, kh_schemas_topic(l->schemas, "aflevering"), l->t_aflevering, TOPIC_LEN);
    kh_service_topic(svc, kh_schemas_topic(l->schemas, "deadletter"), l->t_deadletter, TOPIC_LEN);
    for (size_t i = 0; i < kh_event_type_count(); i++) {
        const kh_schema *s = kh_schemas_by_name(l->schemas, kh_event_type_at(i)->name);
        kh_service_topic(svc, s ? kh_schema_topic(s) : "", l->t_events[i], TOPIC_LEN);
    }
}

static int setup_kafka(loop *l, char *err, size_t errlen) {
    l->out = push_output_new(l->svc->config, err, errlen);
    if (!l->out)
        return -1;
    push_output_ensure_topic(l->out, l->t_retry,
                             "deliveries that need a retry cannot be handed off");
    /* Every delivery writes an aflevering and keeps its bookkeeping until
     * the broker acknowledges it: a topic created only by the first write
     * (~2 s) left ~13,000 of them in memory at the start of the national
     * benchmark: push peaked at 72 MB instead of ~57 MB. */
    push_output_ensure_topic(l->out, l->t_aflevering,
                             "afleveringen cannot be written, so no delivery finishes");
    l->consumer = kh_kafka_consumer_new(l->svc->config, l->set->group_id, consumer_hook, l, err,
                                        errlen);
    if (!l->consumer)
        return -1;
    kh_kafka_waker_init(&l->waker, l->consumer);
    if (pipe(l->wake) || fcntl(l->wake[0], F_SETFL, O_NONBLOCK) ||
        fcntl(l->wake[1], F_SETFL, O_NONBLOCK)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(l->consumer);
    rd_kafka_queue_io_event_enable(q, l->wake[1], "c", 1);
    rd_kafka_queue_destroy(q);
    push_output_wake_fd(l->out, l->wake[1]);
    l->outcomes = (push_outcomes){.schemas = l->schemas,
                                  .out = l->out,
                                  .consumer = l->consumer,
                                  .t_aflevering = l->t_aflevering,
                                  .t_retry = l->t_retry,
                                  .t_deadletter = l->t_deadletter,
                                  .m = &l->m,
                                  .failed = &l->failed};
    return subscribe(l);
}

static int setup(loop *l, char *err, size_t errlen) {
    if (kh_schemas_open(&l->schemas, err, errlen))
        return -1;
    if (push_subs_load(l->set->subscriptions_file, l->schemas, &l->set->defaults, &l->subs, err,
                       errlen))
        return -1;
    topics(l);
    push_metrics_init(&l->m, l->svc->metrics);
    kh_metric_set(l->m.subscriptions, NULL, (double)push_subs_count(l->subs));
    l->offsets = push_offsets_new();
    l->deliver = (push_deliverer){.set = l->set,
                                  .partners = push_partners_new(),
                                  .subs = l->subs,
                                  .outcomes = &l->outcomes,
                                  .m = &l->m,
                                  .rng = (unsigned)kh_now_millis() | 1u};
    l->deliver.http = push_http_new(&l->deliver, (long)l->set->max_connections,
                                    (long)l->set->max_host_connections, err, errlen);
    if (!l->deliver.http)
        return -1;
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
 * written) up to the shutdown bound and abandons the rest. Queued jobs are
 * simply not finished: they are read again. */
static void finish_in_flight(loop *l) {
    int64_t deadline = kh_now_millis() + l->set->shutdown_timeout_ms;
    push_http *http = l->deliver.http;
    while ((push_http_in_flight(http) || push_output_outstanding(l->out)) &&
           kh_now_millis() < deadline && !push_output_fatal(l->out)) {
        push_output_poll(l->out);
        push_http_run(http, 50, l->wake, 1);
        drain(l->wake[0]);
        /* Serves consumer callbacks; records read now are left unfinished. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(l->consumer, 0);
        if (m)
            rd_kafka_message_destroy(m);
    }
    if (push_http_in_flight(http))
        kh_log_warn("shutdown bound reached; requests in flight are abandoned and redone later",
                    json_pack("{s:i}", "in_flight", push_http_in_flight(http)));
    push_http_abandon_all(http, abandoned);
}

/* Leaves the group and destroys both Kafka clients (either may be absent). */
static void close_clients(loop *l) {
    if (l->consumer) {
        rd_kafka_consumer_close(l->consumer);
        rd_kafka_destroy(l->consumer);
        l->consumer = NULL;
    }
    push_output_free(l->out);
    l->out = NULL;
}

/* The last writes' acknowledgements, the commit of what is finished and
 * the clients' close; run on a thread of its own within CLOSE_MS, because
 * a silent broker holds a synchronous commit and a consumer's close for
 * minutes. */
static void close_kafka(void *arg) {
    loop *l = arg;
    if (push_output_flush(l->out, kh_kafka_txn_left_ms(&l->closing)))
        kh_log_warn("not every write was acknowledged before shutdown", NULL);
    if (!push_output_fatal(l->out))
        commit(l, 1);
    close_clients(l);
}

/* Reads up to BATCH records; returns how many. */
static int read_batch(loop *l) {
    int n = 0;
    rd_kafka_message_t *m;
    while (n < BATCH && (m = rd_kafka_consumer_poll(l->consumer, 0))) {
        if (!m->err)
            handle(l, m);
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            kh_log_warn("kafka consumer error",
                        json_pack("{s:s}", "error", rd_kafka_message_errstr(m)));
        rd_kafka_message_destroy(m);
        n++;
    }
    kh_kafka_waker_count(&l->waker, l->consumer, n);
    return n;
}

static void run(loop *l) {
    int64_t next_tick = 0;
    while (!kh_service_stop && !l->failed && !push_output_fatal(l->out)) {
        if (kh_service_reload)
            reload(l);
        int n = buffer_full(l) && !l->main_paused ? 0 : read_batch(l);
        flow_control(l);
        int64_t wait = push_deliver_dispatch(&l->deliver);
        push_output_poll(l->out);
        if (push_http_run(l->deliver.http, n == BATCH ? 0 : (int)wait, l->wake, 1))
            kh_log_warn("libcurl multi error", NULL);
        drain(l->wake[0]);
        int64_t now = kh_now_millis();
        if (now >= next_tick) {
            commit(l, 0);
            push_metrics_refresh(&l->m, l->deliver.partners, now, l->main_paused, l->retry_paused);
            next_tick = now + l->set->commit_interval_ms;
        }
    }
}

static void teardown(loop *l) {
    close_clients(l);
    push_http_free(l->deliver.http);
    push_partners_free(l->deliver.partners);
    push_offsets_free(l->offsets);
    push_subs_free(l->subs);
    kh_schemas_free(l->schemas);
    if (l->wake[0] > 0) {
        close(l->wake[0]);
        close(l->wake[1]);
    }
}

int push_loop_run(kh_service *svc, const push_settings *set) {
    /* on the heap: an abandoned close_kafka (see below) outlives this call */
    loop *l = kh_calloc(1, sizeof *l);
    *l = (loop){.svc = svc, .set = set, .wake = {-1, -1}, .closing = {.shutdown_ms = CLOSE_MS}};
    char err[2048];
    atomic_init(&l->ready, 0);
    int rc = setup(l, err, sizeof err);
    if (rc)
        kh_log_error("cannot start", json_pack("{s:s}", "error", err));
    else if (kh_service_start_ops(svc, "127.0.0.1:9103", ready, l))
        rc = -1;
    if (rc == 0) {
        kh_log_info("push started",
                    json_pack("{s:s, s:s, s:i}", "melding_topic", l->t_melding, "retry_topic",
                              l->t_retry, "subscriptions", (int)push_subs_count(l->subs)));
        run(l);
        atomic_store(&l->ready, 0);
        kh_log_info("stopping",
                    json_pack("{s:b}", "failed", l->failed || push_output_fatal(l->out)));
        finish_in_flight(l);
        rc = l->failed || push_output_fatal(l->out) ? -1 : 0;
        if (kh_kafka_txn_close_bounded(&l->closing, close_kafka, l))
            return 1; /* close_kafka still uses l: nothing may be freed */
    }
    teardown(l);
    free(l);
    return rc ? 1 : 0;
}
