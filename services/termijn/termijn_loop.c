/*
 * termijn_loop — batching, transactions, offsets, rebalances, restores and
 * the timer of ketenhub-termijn. Per record: read -> termijn_apply ->
 * termijn_tick -> produce meldingen and the dossier's changelog record.
 */
#include "termijn_loop.h"

#include "kh_alloc.h"
#include "kh_deadletter.h"
#include "kh_kafka.h"
#include "kh_kalender.h"
#include "kh_log.h"
#include "kh_metrics.h"
#include "kh_time.h"
#include "termijn_clock.h"
#include "termijn_event.h"
#include "termijn_melding.h"
#include "termijn_restore.h"
#include "termijn_state.h"
#include "termijn_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMMITTED_WAIT_MS 10000
#define IDLE_POLL_MS 100
#define SERVICE "termijn"

typedef struct metrics {
    kh_family *events, *meldingen, *deadletters, *open, *dossiers, *restore_seconds, *restored,
        *transactions, *clock_date, *scanned_date, *reloads;
} metrics;

typedef struct loop {
    kh_service *svc;
    const termijn_loop_config *cfg;
    const termijn_ctx *ctx;
    termijn_refdata *refs;
    atomic_int *phase; /* termijn_phase, for /readyz */
    const kh_schemas *schemas;
    kh_melding_encoder enc;
    rd_kafka_t *consumer, *producer;
    kh_kafka_waker waker; /* keeps the capped pre-fetch fetching */
    rd_kafka_topic_t *melding_rkt, *dead_rkt, *state_rkt;
    rd_kafka_topic_t *inputs[TERMIJN_EV_KINDS];
    termijn_store *store;
    termijn_clock clock;
    termijn_uit uit;
    metrics m;
    int open, consumed, failed, recover;
    int restored; /* a restore has completed: the fired-through gauge means something */
    long long batch_count;
    int64_t batch_start, next_tick;
    kh_kafka_txn_bound txn; /* SIGTERM: every Kafka call ends within shutdown_ms */
    int32_t today, scanned;
    int last_commit; /* at shutdown: 0, or -1 when the last batch did not commit */
    int dropped;     /* the open transaction was given up at a stop (drop_at_stop) */
} loop;

static const char *const phase_names[] = {"starting", "running", "restoring", "shutting down"};

const char *termijn_phase_name(termijn_phase phase) {
    return phase <= TERMIJN_STOPPING ? phase_names[phase] : "";
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fatal(loop *L, const char *what, const char *error) {
    kh_log_error("fatal error: exiting so a supervisor restarts termijn",
                 json_pack("{s:s,s:s}", "during", what, "error", error));
    L->failed = 1;
    L->open = 0;
}

static void metrics_init(metrics *m, kh_metrics *k) {
    m->events = kh_metrics_counter(k, "ketenhub_termijn_events_total",
                                   "Event records processed, per event type", "event_type");
    m->meldingen = kh_metrics_counter(k, "ketenhub_termijn_meldingen_total",
                                      "Meldingen committed, per regel and kind", "regel,soort");
    m->deadletters = kh_metrics_counter(k, "ketenhub_termijn_deadletters_total",
                                        "Poison records sent to the dead-letter topic", "reason");
    m->open = kh_metrics_gauge(k, "ketenhub_termijn_open", "Termijnen held in memory", NULL);
    m->dossiers = kh_metrics_gauge(k, "ketenhub_termijn_dossiers",
                                   "Children with an open termijn held in memory", NULL);
    m->restore_seconds = kh_metrics_gauge(k, "ketenhub_termijn_restore_seconds",
                                          "Duration of the last restore from the changelog", NULL);
    m->restored = kh_metrics_counter(k, "ketenhub_termijn_restored_records_total",
                                     "Changelog records read by restores", NULL);
    m->transactions = kh_metrics_counter(k, "ketenhub_termijn_transactions_total",
                                         "Transactions, per outcome", "outcome");
    m->clock_date = kh_metrics_gauge(k, "ketenhub_termijn_clock_date_days",
                                     "The hub's date in Europe/Amsterdam (days since 1970)", NULL);
    m->scanned_date = kh_metrics_gauge(k, "ketenhub_termijn_fired_through_days",
                                       "Every step due on or before this date (days since 1970) "
                                       "has been fired and committed",
                                       NULL);
    m->reloads = kh_metrics_counter(k, "ketenhub_termijn_reference_reloads_total",
                                    "Reference data reloads (SIGHUP), per outcome", "outcome");
}

/* ---- Offsets ------------------------------------------------------------ */

/* Back to the start of the aborted batch (see kh_kafka_rewind_to_committed). */
static void rewind_consumer(loop *L) {
    char err[256];
    if (kh_kafka_rewind_to_committed(L->consumer, COMMITTED_WAIT_MS, err, sizeof err))
        fatal(L, "rewinding to the committed offsets", err);
}

/* ---- Restores -------------------------------------------------------------- */

/* The distinct partition numbers of a list, into out (cap entries). */
static size_t distinct(const rd_kafka_topic_partition_list_t *l, int32_t *out, size_t cap) {
    size_t n = 0;
    for (int i = 0; l && i < l->cnt; i++) {
        size_t k = 0;
        while (k < n && out[k] != l->elems[i].partition)
            k++;
        if (k == n && n < cap)
            out[n++] = l->elems[i].partition;
    }
    return n;
}

static void restore(loop *L, const int32_t *parts, size_t n, const char *why) {
    char err[512], group[300];
    termijn_restore_stats st;
    if (n == 0 || L->failed)
        return;
    snprintf(group, sizeof group, "%s-restore", L->cfg->group_id);
    kh_metric_set(L->m.scanned_date, NULL, 0); /* until the restored steps are fired */
    atomic_store(L->phase, TERMIJN_RESTORING);
    int rc = termijn_restore(L->svc->config, group, L->cfg->state_topic, parts, n, L->store, &st,
                             err, sizeof err);
    atomic_store(L->phase, TERMIJN_RUNNING);
    if (rc) {
        fatal(L, "restoring from the changelog", err);
        return;
    }
    L->scanned = INT32_MIN; /* restored steps may be due: scan */
    L->restored = 1;
    kh_metric_set(L->m.restore_seconds, NULL, st.seconds);
    kh_metric_add(L->m.restored, NULL, (double)st.records);
    kh_log_info("restored from the changelog",
                json_pack("{s:s,s:i,s:I,s:I,s:I,s:f}", "trigger", why, "partitions", (int)n,
                          "records", (json_int_t)st.records, "dossiers", (json_int_t)st.dossiers,
                          "skipped", (json_int_t)st.bad, "seconds", st.seconds));
}

/* Memory went ahead of Kafka (an aborted transaction): back to the
 * committed state, records and changelog alike. */
static void recover(loop *L) {
    int32_t parts[1024];
    rd_kafka_topic_partition_list_t *a = NULL;
    L->recover = 0;
    if (L->failed || rd_kafka_assignment(L->consumer, &a))
        return;
    size_t n = distinct(a, parts, sizeof parts / sizeof *parts);
    rd_kafka_topic_partition_list_destroy(a);
    restore(L, parts, n, "aborted transaction");
    if (!L->failed)
        rewind_consumer(L);
}

/* ---- Transactions ------------------------------------------------------------ */

static int batch_begin(loop *L) {
    rd_kafka_error_t *e = rd_kafka_begin_transaction(L->producer);
    if (e) {
        fatal(L, "begin_transaction", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    L->open = 1;
    L->consumed = 0;
    L->batch_count = 0;
    L->batch_start = now_ms();
    return 0;
}

static void abort_transaction(loop *L) {
    rd_kafka_error_t *e = kh_kafka_txn_abort(L->producer, &L->txn);
    if (e) {
        fatal(L, "abort_transaction", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void batch_abort(loop *L, const char *why) {
    if (!L->open)
        return;
    L->open = 0;
    kh_log_warn("transaction aborted", json_pack("{s:s}", "reason", why));
    kh_metric_add(L->m.transactions, (const char *[]){"aborted"}, 1);
    abort_transaction(L);
    L->recover = 1;
}

static int txn_failed(loop *L, const char *what, rd_kafka_error_t *e) {
    int abortable = rd_kafka_error_txn_requires_abort(e) && !rd_kafka_error_is_fatal(e);
    char why[512];
    snprintf(why, sizeof why, "%s: %s", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    if (!abortable) {
        fatal(L, what, why);
        return -1;
    }
    L->open = 1;
    batch_abort(L, why);
    return -1;
}

static int send_offsets(loop *L) {
    rd_kafka_topic_partition_list_t *offsets = kh_kafka_positions(L->consumer);
    if (!offsets)
        return 0;
    rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(L->consumer);
    rd_kafka_error_t *e = kh_kafka_txn_send_offsets(L->producer, offsets, cgmd, &L->txn);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(offsets);
    return e ? txn_failed(L, "send_offsets_to_transaction", e) : 0;
}

/* Commits the open transaction, with the consumed offsets when records
 * were consumed. Returns 0, or -1 (then aborted, and L->recover set). */
static int batch_commit(loop *L) {
    rd_kafka_error_t *e = NULL;
    if (!L->open)
        return 0;
    L->open = 0;
    if (L->consumed && send_offsets(L))
        return -1;
    if ((e = kh_kafka_txn_commit(L->producer, &L->txn)))
        return txn_failed(L, "commit_transaction", e);
    kh_metric_add(L->m.transactions, (const char *[]){"committed"}, 1);
    return 0;
}

/* ---- Producing ----------------------------------------------------------------- */

/* A stop came while the producer queue was full (Kafka away or slow): the
 * queue may never drain, so the open transaction is given up instead of
 * waited on. It is not aborted here (abort_transaction would wait on the
 * same broker, on the main thread, outside the shutdown's bounded thread):
 * nothing of it is visible to read_committed readers, the broker aborts it
 * after transaction.timeout.ms or the restart's init_transactions fences
 * and aborts it, and the restart consumes its records again from the
 * committed offsets. */
static void drop_at_stop(loop *L) {
    kh_log_warn("producer queue full at shutdown: the open transaction is left uncommitted",
                json_pack("{s:I}", "records", (json_int_t)L->batch_count));
    kh_metric_add(L->m.transactions, (const char *[]){"dropped"}, 1);
    kh_kafka_txn_note_stop(&L->txn, 0);
    L->open = 0;
    L->dropped = 1;
}

static int produce(loop *L, rd_kafka_topic_t *rkt, int32_t partition, const void *key,
                   size_t keylen, char *value, size_t len, rd_kafka_headers_t *headers) {
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(L->producer, RD_KAFKA_V_RKT(rkt),
                                                  RD_KAFKA_V_PARTITION(partition),
                                                  RD_KAFKA_V_KEY(key, keylen),
                                                  RD_KAFKA_V_VALUE(value, len),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                                  RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        if (!e)
            return 0;
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !kh_service_stop) {
            rd_kafka_poll(L->producer, 50);
            continue;
        }
        free(value);
        if (headers)
            rd_kafka_headers_destroy(headers);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            drop_at_stop(L);
        else
            batch_abort(L, rd_kafka_err2str(e));
        return -1;
    }
}

/* The meldingen in L->uit onto the melding topic; empties the list. */
static int produce_meldingen(loop *L) {
    char err[512];
    for (size_t i = 0; i < L->uit.n; i++) {
        const termijn_melding *m = &L->uit.m[i];
        char *wire = NULL;
        size_t len = 0;
        if (termijn_melding_encode(&L->enc, m, L->cfg->topics, &wire, &len, err, sizeof err)) {
            fatal(L, "encoding a melding", err);
            return -1;
        }
        if (produce(L, L->melding_rkt, RD_KAFKA_PARTITION_UA, m->ontvanger_code,
                    strlen(m->ontvanger_code), wire, len, termijn_melding_headers(m)))
            return -1;
        kh_metric_add(L->m.meldingen,
                      (const char *[]){termijn_regel_naam(m->regel),
                                       m->achterhaalt[0] ? "achterhaald" : "verstreken"},
                      1);
    }
    L->uit.n = 0;
    return 0;
}

/* The dossier's changelog record (a tombstone when it is empty). */
static int produce_state(loop *L, int32_t p, const void *key, size_t keylen,
                         const termijn_dossier *d) {
    size_t len = 0;
    char *v = NULL;
    if (!termijn_dossier_leeg(d) && !(v = termijn_state_encode(d, &len))) {
        fatal(L, "encoding a dossier", "out of memory");
        return -1;
    }
    return produce(L, L->state_rkt, p, key, keylen, v, len, NULL);
}

/* Ticks d on L->today, producing what fires. Returns 1 when d changed,
 * 0 when not, -1 on failure. */
static int tick(loop *L, termijn_dossier *d) {
    int more, changed = 0;
    do {
        L->uit.gewijzigd = 0;
        more = termijn_tick(d, L->today, L->ctx, &L->uit);
        changed |= L->uit.gewijzigd;
        if (produce_meldingen(L))
            return -1;
    } while (more);
    return changed;
}

/* ---- Records --------------------------------------------------------------------- */

static void deadletter(loop *L, const rd_kafka_message_t *m, const char *code, const char *why) {
    char err[512];
    char *value = NULL;
    size_t len = 0;
    rd_kafka_headers_t *h = NULL;
    kh_deadletter dl = {.reason_code = code, .reason = why, .service = SERVICE, .origin = m};
    if (kh_deadletter_build(L->schemas, &dl, &value, &len, &h, err, sizeof err)) {
        fatal(L, "building a dead letter", err);
        return;
    }
    if (produce(L, L->dead_rkt, RD_KAFKA_PARTITION_UA, m->key, m->key_len, value, len, h))
        return;
    kh_metric_add(L->m.deadletters, (const char *[]){code}, 1);
    kh_log_warn("poison record sent to the dead-letter topic",
                json_pack("{s:s,s:i,s:I,s:s,s:s}", "topic", rd_kafka_topic_name(m->rkt),
                          "partition", (int)m->partition, "offset", (json_int_t)m->offset,
                          "reason_code", code, "reason", why));
}

static void process(loop *L, const rd_kafka_message_t *m, termijn_event *ev) {
    termijn_dossier *d = termijn_store_get(L->store, m->partition, m->key, m->key_len, 1);
    if (!d) {
        fatal(L, "holding a dossier", "out of memory");
        return;
    }
    int existed = !termijn_dossier_leeg(d);
    ev->oorzaak.partition = m->partition;
    ev->oorzaak.offset = m->offset;
    L->uit.n = 0;
    L->uit.gewijzigd = 0;
    if (termijn_apply(d, ev, L->ctx, &L->uit)) {
        fatal(L, "applying an event", "out of memory");
        return;
    }
    int changed = L->uit.gewijzigd;
    if (produce_meldingen(L))
        return;
    int t = tick(L, d);
    if (t < 0)
        return;
    if ((changed || t) && (existed || !termijn_dossier_leeg(d)) &&
        produce_state(L, m->partition, m->key, m->key_len, d))
        return;
    if (termijn_dossier_leeg(d))
        termijn_store_delete(L->store, m->partition, m->key, m->key_len);
}

static termijn_kind kind_of(const loop *L, const rd_kafka_message_t *m) {
    for (int k = 0; k < TERMIJN_EV_KINDS; k++)
        if (L->inputs[k] == m->rkt || !strcmp(rd_kafka_topic_name(m->rkt), L->cfg->topics[k]))
            return (termijn_kind)k;
    return TERMIJN_EV_KINDS;
}

static void handle(loop *L, rd_kafka_message_t *m) {
    char why[512];
    const char *code;
    termijn_event ev;
    termijn_kind kind = kind_of(L, m);
    if (kind == TERMIJN_EV_KINDS || (!L->open && batch_begin(L)))
        return;
    L->consumed = 1;
    L->batch_count++;
    if (!m->key || m->key_len == 0 || m->key_len >= TERMIJN_KEY_LEN)
        deadletter(L, m, kh_dl_reason_name(KH_DL_INVALID_EVENT),
                   "the record key is not a child pseudonym (empty, or longer than 64 bytes)");
    else if (termijn_event_read(L->schemas, kind, m->payload, m->len, &ev, &code, why, sizeof why))
        deadletter(L, m, code, why);
    else
        process(L, m, &ev);
    kh_metric_add(L->m.events, (const char *[]){termijn_kind_name(kind)}, 1);
}

/* ---- The timer ------------------------------------------------------------------- */

static int scan_one(void *ud, int32_t p, const char *key, termijn_dossier *d) {
    loop *L = ud;
    if (L->failed || !L->open || termijn_volgende(d) > L->today)
        return 0;
    int t = tick(L, d);
    rd_kafka_poll(L->producer, 0); /* frees what was delivered: a day can fire a million */
    if (t > 0 && produce_state(L, p, key, strlen(key), d) == 0 &&
        ++L->batch_count >= L->cfg->batch_records && batch_commit(L) == 0)
        batch_begin(L); /* a day with many due steps: bounded transactions */
    return t >= 0 && termijn_dossier_leeg(d);
}

/* Reads the clock; when the Amsterdam date moved (or a restore asked for
 * it), fires every due step, in transactions of at most batch_records
 * changed dossiers (one huge transaction would outlive
 * transaction.timeout.ms after an outage). */
static void timer(loop *L) {
    if (now_ms() < L->next_tick && L->scanned != INT32_MIN)
        return;
    L->next_tick = now_ms() + L->cfg->tick_ms;
    L->today = kh_kalender_amsterdam_date(termijn_clock_now(&L->clock));
    kh_metric_set(L->m.clock_date, NULL, L->today);
    kh_metric_set(L->m.open, NULL, (double)termijn_store_termijnen(L->store));
    kh_metric_set(L->m.dossiers, NULL, (double)termijn_store_dossiers(L->store));
    if (L->today == L->scanned)
        return;
    if (L->open && batch_commit(L))
        return;
    if (batch_begin(L))
        return;
    termijn_store_each(L->store, scan_one, L);
    if (!L->failed && L->open && batch_commit(L) == 0) {
        L->scanned = L->today;
        if (L->restored)
            kh_metric_set(L->m.scanned_date, NULL, L->today);
        char d[KH_DATE_LEN];
        kh_log_info("due termijnen fired", json_pack("{s:s}", "date", kh_date_format(L->today, d)));
    }
}

/* ---- Rebalances ------------------------------------------------------------------- */

static void on_revoke(void *ud, kh_kafka_rebalance_kind kind,
                      const rd_kafka_topic_partition_list_t *parts) {
    loop *L = ud;
    int32_t ps[1024];
    if (kind == KH_KAFKA_LOST)
        batch_abort(L, "partitions lost");
    else
        batch_commit(L);
    size_t n = distinct(parts, ps, sizeof ps / sizeof *ps);
    for (size_t i = 0; i < n; i++)
        termijn_store_drop(L->store, ps[i]);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    loop *L = opaque;
    kh_kafka_rebalance_kind kind;
    int assigned;
    int32_t ps[1024], todo[1024];
    char why[512];
    if (kh_kafka_rebalance(rk, err, parts, on_revoke, L, &kind, &assigned, why, sizeof why)) {
        fatal(L, "rebalance", why);
        return;
    }
    kh_log_info("rebalance", json_pack("{s:s,s:i,s:i}", "kind", kh_kafka_rebalance_name(kind),
                                       "partitions", parts->cnt, "assigned", assigned));
    if (kind != KH_KAFKA_ASSIGNED)
        return;
    size_t n = distinct(parts, ps, sizeof ps / sizeof *ps), k = 0;
    for (size_t i = 0; i < n; i++)
        if (!termijn_store_loaded(L->store, ps[i]))
            todo[k++] = ps[i];
    restore(L, todo, k, "assigned");
    /* ready from the first assignment on, its state restored (an instance
     * given no partition is ready too) */
    if (!L->failed)
        atomic_store(L->phase, TERMIJN_RUNNING);
}

static int producer_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    rd_kafka_conf_set_opaque(conf, ud);
    return 0;
}

/* The range assignor gives one member partition p of every topic: a
 * child's events of all four types meet in one instance. */
static int consumer_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, ud);
    return rd_kafka_conf_set(conf, "partition.assignment.strategy", "range", err, errlen) ==
                   RD_KAFKA_CONF_OK
               ? 0
               : -1;
}

/* ---- Setup and the loop ------------------------------------------------------------- */

/* init_transactions as one -1 call waits 2 * transaction.timeout.ms (two
 * minutes by default) when Kafka is unreachable, deaf to SIGTERM; in
 * slices it gives up after that same time, or at once on a stop. Returns
 * 0, 1 when stopped, -1 on error (err filled). */
static int init_transactions(loop *L, char *err, size_t errlen) {
    rd_kafka_error_t *e = kh_kafka_txn_init(L->producer, &L->txn);
    if (!e)
        return 0;
    snprintf(err, errlen, "kafka init_transactions (transactional.id %s): %s",
             L->cfg->transactional_id, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return kh_service_stop ? 1 : -1;
}

/* Returns 0, 1 when stopped while connecting, -1 on error (logged). */
static int open_clients(loop *L) {
    char err[512];
    const kh_config *c = L->svc->config;
    int rc = -1;
    L->producer = kh_kafka_txn_producer_create(c, L->cfg->transactional_id, producer_hook, L, err,
                                               sizeof err);
    if (L->producer && (rc = init_transactions(L, err, sizeof err)) == 0)
        L->consumer = kh_kafka_consumer_new(c, L->cfg->group_id, consumer_hook, L, err, sizeof err);
    if (rc > 0)
        return 1;
    if (!L->producer || !L->consumer) {
        kh_log_error("cannot create the Kafka clients", json_pack("{s:s}", "error", err));
        return -1;
    }
    kh_kafka_waker_init(&L->waker, L->consumer);
    L->melding_rkt = rd_kafka_topic_new(L->producer, L->cfg->melding_topic, NULL);
    L->dead_rkt = rd_kafka_topic_new(L->producer, L->cfg->deadletter_topic, NULL);
    L->state_rkt = rd_kafka_topic_new(L->producer, L->cfg->state_topic, NULL);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(TERMIJN_EV_KINDS);
    for (int k = 0; k < TERMIJN_EV_KINDS; k++) {
        L->inputs[k] = rd_kafka_topic_new(L->consumer, L->cfg->topics[k], NULL);
        rd_kafka_topic_partition_list_add(t, L->cfg->topics[k], RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(L->consumer, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (e)
        kh_log_error("cannot subscribe", json_pack("{s:s}", "error", rd_kafka_err2str(e)));
    return e ? -1 : 0;
}

/* Leaving the group revokes the partitions, which commits nothing more:
 * the last transaction is done. */
static void close_clients(loop *L) {
    kh_kafka_txn_note_stop(&L->txn, 1);
    if (L->consumer)
        kh_kafka_consumer_close_bounded(L->consumer, &L->txn, L->inputs, TERMIJN_EV_KINDS);
    rd_kafka_topic_t *outs[] = {L->melding_rkt, L->dead_rkt, L->state_rkt};
    for (size_t i = 0; i < 3; i++)
        if (outs[i])
            rd_kafka_topic_destroy(outs[i]);
    if (L->producer) {
        if (!L->failed && !L->dropped) /* a dropped transaction's records need not go */
            rd_kafka_flush(L->producer, kh_kafka_txn_left_ms(&L->txn));
        rd_kafka_destroy(L->producer);
    }
}

/* SIGHUP: the reference data again, all or nothing. */
static void reload(loop *L) {
    char err[512];
    kh_service_reload = 0;
    if (termijn_refdata_reload(L->refs, err, sizeof err)) {
        kh_metric_add(L->m.reloads, (const char *[]){"failed"}, 1);
        kh_log_error("reference data not reloaded; the old data stay in use",
                     json_pack("{s:s}", "error", err));
        return;
    }
    kh_metric_add(L->m.reloads, (const char *[]){"ok"}, 1);
    kh_log_info("reference data reloaded", NULL);
}

/* The shutdown: the last transaction (committed, else aborted), then the
 * clients. It runs on its own thread because librdkafka 2.0.2 does not
 * always honour the timeouts we give it: send_offsets_to_transaction
 * waits without a deadline while the coordinator is gone or silent (seen
 * with gdb; it returned after 59 s), and destroying a consumer waits for
 * its in-flight group requests. */
static void close_all(void *arg) {
    loop *L = arg;
    L->last_commit = L->failed || L->dropped || (L->producer && batch_commit(L)) ? -1 : 0;
    close_clients(L);
}

/* Returns 0 (done; *rc 1 when the last transaction did not commit), or -1 when
 * the closing thread is still blocked in librdkafka at the deadline: it
 * still uses L and the clients, so nothing may be freed. */
static int shut_down(loop *L, int *rc) {
    return kh_kafka_txn_shut_down(&L->txn, close_all, L, &L->last_commit, &L->failed, "transaction",
                                  rc);
}

static int run(loop *L) {
    while (!kh_service_stop && !L->failed) {
        if (kh_service_reload)
            reload(L);
        if (L->recover)
            recover(L);
        timer(L);
        int64_t left = IDLE_POLL_MS;
        if (L->open) {
            left = L->batch_start + L->cfg->batch_ms - now_ms();
            if (left <= 0 || L->batch_count >= L->cfg->batch_records) {
                batch_commit(L);
                continue;
            }
            if (left > IDLE_POLL_MS)
                left = IDLE_POLL_MS;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(L->consumer, (int)left);
        rd_kafka_poll(L->producer, 0);
        if (!m)
            continue;
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            kh_log_warn("consumer error", json_pack("{s:s}", "error", rd_kafka_message_errstr(m)));
        else if (!m->err && !L->recover) {
            handle(L, m);
            kh_kafka_waker_count(&L->waker, L->consumer, 1);
        }
        rd_kafka_message_destroy(m);
    }
    kh_kafka_txn_note_stop(&L->txn, 0);
    return L->failed ? 1 : 0;
}

int termijn_loop_run(kh_service *svc, const termijn_loop_config *cfg, termijn_refdata *refs,
                     const kh_schemas *schemas, atomic_int *phase) {
    loop *L = kh_calloc(1, sizeof *L);
    L->store = termijn_store_new();
    L->svc = svc;
    L->cfg = cfg;
    L->refs = refs;
    L->ctx = termijn_refdata_ctx(refs);
    L->phase = phase;
    L->schemas = schemas;
    L->txn.stop = &kh_service_stop;
    L->txn.shutdown_ms = cfg->shutdown_ms;
    L->clock.file = cfg->clock_file;
    L->scanned = INT32_MIN;
    L->today = kh_kalender_amsterdam_date(termijn_clock_now(&L->clock));
    metrics_init(&L->m, svc->metrics);
    atomic_store(phase, TERMIJN_STARTING);
    char err[256];
    int rc = kh_melding_encoder_init(&L->enc, schemas, err, sizeof err);
    if (rc)
        kh_log_error("cannot start", json_pack("{s:s}", "error", err));
    else
        rc = open_clients(L);
    if (rc == 0) {
        kh_log_info("watching termijnen",
                    json_pack("{s:s,s:s,s:s,s:s?}", "group", cfg->group_id, "transactional_id",
                              cfg->transactional_id, "changelog", cfg->state_topic, "clock_file",
                              cfg->clock_file));
        rc = run(L) || L->failed ? 1 : 0;
    } else {
        rc = rc > 0 ? 0 : 1; /* stopped while connecting: nothing was consumed */
    }
    atomic_store(phase, TERMIJN_STOPPING);
    if (shut_down(L, &rc))
        return TERMIJN_LOOP_ABANDONED;
    kh_melding_encoder_free(&L->enc);
    termijn_store_free(L->store);
    free(L);
    return rc;
}
