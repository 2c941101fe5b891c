/*
 * route_loop — the Kafka side of route: batching, transactions, offsets,
 * rebalances, reloads. The data path per record is process() -> produce().
 */
#include "route_loop.h"

#include "kh_alloc.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "route_process.h"
#include "route_stats.h"
#include "route_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMMITTED_WAIT_MS 10000
#define IDLE_POLL_MS 100

typedef struct loop {
    kh_service *svc;
    const route_loop_config *cfg;
    kh_refstore *store;
    const kh_ref *ref;
    rd_kafka_t *consumer, *producer;
    rd_kafka_topic_t *melding_rkt, *dead_rkt;
    rd_kafka_topic_t *inputs[ROUTE_KINDS]; /* the consumer's handle of each event topic */
    route_processor proc;
    route_stats stats;
    int transactional;
    int open; /* a batch (transaction) has begun */
    long long batch_count;
    kh_kafka_waker waker; /* keeps the capped pre-fetch fetching */
    int64_t batch_start;
    int64_t last_record;   /* when the open batch last took a record */
    int failed;            /* a fatal error: leave the loop, exit 1 */
    int delivery_failures; /* in the open batch (without transactions) */
    int assigned;          /* partitions */
    int rewind_kept;       /* a rebalance aborted the batch: rewind what stays */
    /* SIGTERM: every Kafka call ends within shutdown_ms */
    kh_kafka_txn_bound txn;
    int dropped; /* a batch was aborted after the stop: exit 1 */
    uint64_t watch_sig;
    int64_t next_watch;
    int last_commit; /* at shutdown: 0, or -1 when the last batch did not commit */
} loop;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fatal(loop *L, const char *what, const char *error) {
    kh_log_error("fatal error: exiting so a supervisor restarts route",
                 json_pack("{s:s,s:s}", "during", what, "error", error));
    L->failed = 1;
    L->open = 0;
}

/* ---- Offsets ------------------------------------------------------------ */

/* Back to the start of the aborted batch (see kh_kafka_rewind_to_committed).
 * Not once stopping: nothing more is consumed, and the restart starts from
 * the committed offsets anyway. */
static void rewind_consumer(loop *L) {
    char err[256];
    kh_kafka_txn_note_stop(&L->txn, 0);
    if (L->txn.deadline_ms)
        return;
    if (kh_kafka_rewind_to_committed(L->consumer, COMMITTED_WAIT_MS, err, sizeof err))
        fatal(L, "rewinding to the committed offsets", err);
    else
        kh_log_info("rewound to the committed offsets", NULL);
}

/* ---- Batches ------------------------------------------------------------ */

static int batch_begin(loop *L) {
    if (L->transactional) {
        rd_kafka_error_t *e = rd_kafka_begin_transaction(L->producer);
        if (e) {
            fatal(L, "begin_transaction", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return -1;
        }
    }
    L->open = 1;
    L->batch_count = 0;
    L->batch_start = now_ms();
    L->delivery_failures = 0;
    return 0;
}

static void abort_transaction(loop *L) {
    rd_kafka_error_t *e = kh_kafka_txn_abort(L->producer, &L->txn);
    if (e) {
        fatal(L, "abort_transaction", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

/* Ends the open batch without committing it: the transaction is aborted
 * (without transactions, what was produced stays: at least once), the
 * counts are dropped and, when asked, the assignment is rewound so its
 * records are processed again. */
static void batch_abort(loop *L, int rewind, const char *why) {
    if (!L->open)
        return;
    L->open = 0;
    kh_log_warn("batch aborted",
                json_pack("{s:s,s:I}", "reason", why, "records", (json_int_t)L->batch_count));
    if (L->transactional)
        abort_transaction(L);
    route_stats_abort(&L->stats);
    L->dropped |= kh_service_stop != 0;
    if (rewind && !L->failed)
        rewind_consumer(L);
}

/* A failed transaction call: abortable (-1, after aborting) or fatal (-2). */
static int txn_failed(loop *L, const char *what, rd_kafka_error_t *e) {
    int abortable = rd_kafka_error_txn_requires_abort(e) && !rd_kafka_error_is_fatal(e);
    if (abortable)
        kh_log_warn("transaction must be aborted",
                    json_pack("{s:s,s:s}", "during", what, "error", rd_kafka_error_string(e)));
    else
        fatal(L, what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    if (!abortable)
        return -2;
    abort_transaction(L);
    return -1;
}

static int txn_commit(loop *L) {
    rd_kafka_error_t *e = NULL;
    rd_kafka_topic_partition_list_t *offsets = kh_kafka_positions(L->consumer);
    if (!offsets) {
        kh_log_warn("no consumed positions to commit (assignment lost): aborting", NULL);
        abort_transaction(L);
        return -1;
    }
    rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(L->consumer);
    e = kh_kafka_txn_send_offsets(L->producer, offsets, cgmd, &L->txn);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (e)
        return txn_failed(L, "send_offsets_to_transaction", e);
    e = kh_kafka_txn_commit(L->producer, &L->txn);
    return e ? txn_failed(L, "commit_transaction", e) : 0;
}

/* Without transactions: every output acknowledged, then the offsets. Once
 * stopping, only until the shutdown bound: what is not acknowledged by
 * then is processed again after the restart. */
static int offsets_commit(loop *L) {
    kh_kafka_txn_note_stop(&L->txn, 0);
    while (rd_kafka_outq_len(L->producer) > 0 && !kh_kafka_txn_past(&L->txn)) {
        int left = kh_kafka_txn_left_ms(&L->txn);
        rd_kafka_flush(L->producer, left < 0 || left > 1000 ? 1000 : left);
    }
    if (rd_kafka_outq_len(L->producer) > 0) {
        kh_log_warn("deliveries not acknowledged within the shutdown bound", NULL);
        return -1;
    }
    if (L->delivery_failures) {
        kh_log_warn("deliveries failed: processing the batch again",
                    json_pack("{s:i}", "failed", L->delivery_failures));
        return -1;
    }
    rd_kafka_topic_partition_list_t *offsets = kh_kafka_positions(L->consumer);
    if (!offsets)
        return 0;
    rd_kafka_resp_err_t e = rd_kafka_commit(L->consumer, offsets, 0);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (e) /* the output is durable; the next commit covers these offsets */
        kh_log_warn("offset commit failed; a later commit covers it",
                    json_pack("{s:s}", "error", rd_kafka_err2str(e)));
    return 0;
}

/* Commits the open batch; returns 0, or -1 when that failed and the batch
 * was aborted (then, if rewind, the assignment goes back to the committed
 * offsets). */
static int batch_commit(loop *L, int rewind) {
    if (!L->open)
        return 0;
    int rc = L->transactional ? txn_commit(L) : offsets_commit(L);
    L->open = 0;
    if (rc == 0) {
        route_stats_commit(&L->stats, (double)(now_ms() - L->batch_start) / 1000.0);
        return 0;
    }
    route_stats_abort(&L->stats);
    L->dropped |= kh_service_stop != 0;
    if (rc == -1 && rewind && !L->failed)
        rewind_consumer(L);
    return -1;
}

/* ---- Callbacks ---------------------------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    loop *L = opaque;
    (void)rk;
    if (!m->err)
        return;
    L->delivery_failures++;
    kh_log_warn("delivery failed",
                json_pack("{s:s,s:i,s:s}", "topic", rd_kafka_topic_name(m->rkt), "partition",
                          (int)m->partition, "error", rd_kafka_err2str(m->err)));
}

/* Finish the batch while the partitions going away are still ours; the
 * partitions kept (cooperative protocol) go back to the committed offsets
 * after the change, like after any abort (on_rebalance). */
static void on_revoke(void *ud, kh_kafka_rebalance_kind kind,
                      const rd_kafka_topic_partition_list_t *parts) {
    loop *L = ud;
    (void)parts;
    if (kind == KH_KAFKA_LOST) {
        L->rewind_kept = L->open;
        batch_abort(L, 0, "partitions lost");
    } else {
        L->rewind_kept = batch_commit(L, 0) != 0;
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    loop *L = opaque;
    kh_kafka_rebalance_kind kind;
    char why[512];
    L->rewind_kept = 0;
    if (kh_kafka_rebalance(rk, err, parts, on_revoke, L, &kind, &L->assigned, why, sizeof why))
        fatal(L, "rebalance", why);
    else if (L->rewind_kept && L->assigned > 0 && !L->failed)
        rewind_consumer(L);
    route_stats_rebalance(&L->stats, kh_kafka_rebalance_name(kind), L->assigned);
    kh_log_info("rebalance", json_pack("{s:s,s:i,s:i}", "kind", kh_kafka_rebalance_name(kind),
                                       "partitions", parts->cnt, "assigned", L->assigned));
}

static int producer_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, ud);
    return 0;
}

static int consumer_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, ud);
    return 0;
}

/* ---- The data path ------------------------------------------------------ */

/* The event type of a record's topic: librdkafka gives one handle per
 * topic name, held open by L->inputs, so a pointer comparison usually
 * settles it. */
static route_kind kind_of(const loop *L, const rd_kafka_message_t *m) {
    for (int k = 0; k < ROUTE_KINDS; k++)
        if (L->inputs[k] == m->rkt)
            return (route_kind)k;
    const char *name = rd_kafka_topic_name(m->rkt);
    for (int k = 0; k < ROUTE_KINDS; k++)
        if (strcmp(name, L->cfg->topics[k]) == 0)
            return (route_kind)k;
    return ROUTE_KINDS;
}

/* Hands one output to the producer (inside the transaction). */
static int produce(loop *L, route_output *o) {
    rd_kafka_topic_t *rkt = o->deadletter ? L->dead_rkt : L->melding_rkt;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(L->producer, RD_KAFKA_V_RKT(rkt),
                                                  RD_KAFKA_V_KEY(o->key, o->keylen),
                                                  RD_KAFKA_V_VALUE(o->value, o->len),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                                  RD_KAFKA_V_HEADERS(o->headers), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            o->value = NULL; /* librdkafka's now */
            o->headers = NULL;
            return 0;
        }
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !kh_service_stop) { /* full while Kafka is away */
            rd_kafka_poll(L->producer, 50);
            continue;
        }
        char why[256];
        if (!L->transactional || rd_kafka_fatal_error(L->producer, why, sizeof why))
            fatal(L, "produce", rd_kafka_err2str(e));
        else
            batch_abort(L, 1, rd_kafka_err2str(e));
        return -1;
    }
}

static void log_deadletter(const rd_kafka_message_t *m, const route_output *o, const char *reason) {
    kh_log_warn("poison record sent to the dead-letter topic",
                json_pack("{s:s,s:i,s:I,s:s,s:s}", "topic", rd_kafka_topic_name(m->rkt),
                          "partition", (int)m->partition, "offset", (json_int_t)m->offset,
                          "reason_code", o->reason_code, "reason", reason));
}

static void handle(loop *L, rd_kafka_message_t *m) {
    char err[512];
    route_kind kind = kind_of(L, m);
    if (kind == ROUTE_KINDS || (!L->open && batch_begin(L)))
        return;
    double started = now_s();
    if (route_process(&L->proc, m, kind, L->ref, err, sizeof err)) {
        fatal(L, "building the output of a record", err);
        return;
    }
    for (size_t i = 0; i < L->proc.nout; i++)
        if (produce(L, &L->proc.out[i])) {
            route_process_discard(&L->proc);
            return;
        }
    route_stats_in(&L->stats, kind);
    for (size_t i = 0; i < L->proc.nout; i++) {
        const route_output *o = &L->proc.out[i];
        if (o->deadletter) {
            route_stats_deadletter(&L->stats, kind, o->reason_code);
            log_deadletter(m, o, L->proc.reason);
        } else {
            route_stats_melding(&L->stats, o->rule);
        }
    }
    L->proc.nout = 0;
    L->batch_count++;
    L->last_record = now_ms();
    route_stats_record_time(&L->stats, now_s() - started);
}

static void consumer_error(loop *L, const rd_kafka_message_t *m) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_fatal_error(L->consumer, why, sizeof why);
        fatal(L, "consume", why);
        return;
    }
    kh_log_warn("consumer error",
                json_pack("{s:s,s:s}", "topic", m->rkt ? rd_kafka_topic_name(m->rkt) : "", "error",
                          rd_kafka_message_errstr(m)));
}

/* ---- Reference data ----------------------------------------------------- */

static void reload(loop *L, const char *trigger) {
    char err[512];
    if (kh_refstore_reload(L->store, err, sizeof err)) {
        route_stats_reload(&L->stats, 0);
        kh_log_error("reference data reload failed; the previous data stays in use",
                     json_pack("{s:s,s:s}", "trigger", trigger, "error", err));
        return;
    }
    kh_refstore_release(L->store, L->ref);
    L->ref = kh_refstore_acquire(L->store);
    route_stats_reload(&L->stats, 1);
    route_stats_facts(&L->stats, L->ref);
    kh_log_info("reference data reloaded",
                json_pack("{s:s,s:I,s:I,s:I}", "trigger", trigger, "gemeenten",
                          (json_int_t)kh_ref_count_gemeenten(L->ref), "scholen",
                          (json_int_t)kh_ref_count_scholen(L->ref), "aanbieders",
                          (json_int_t)kh_ref_count_aanbieders(L->ref)));
}

static void maybe_reload(loop *L) {
    if (kh_service_reload) {
        kh_service_reload = 0;
        reload(L, "SIGHUP");
    }
    if (L->cfg->watch_ms <= 0 || now_ms() < L->next_watch)
        return;
    L->next_watch = now_ms() + L->cfg->watch_ms;
    uint64_t sig = route_watch_signature(L->cfg->reference_dir);
    if (sig != L->watch_sig) {
        L->watch_sig = sig;
        reload(L, "file changed");
    }
}

/* ---- Setup and the loop ------------------------------------------------- */

static int subscribe(loop *L) {
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(ROUTE_KINDS);
    for (int k = 0; k < ROUTE_KINDS; k++)
        rd_kafka_topic_partition_list_add(t, L->cfg->topics[k], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(L->consumer, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (e)
        kh_log_error("cannot subscribe", json_pack("{s:s}", "error", rd_kafka_err2str(e)));
    return e ? -1 : 0;
}

/* The producer, transactional or not; init_transactions in slices, so that
 * a stop while Kafka is unreachable ends it at once (kh_kafka_txn_init).
 * Returns 0, 1 when stopped while connecting, -1 on error (err filled). */
static int open_producer(loop *L, char *err, size_t errlen) {
    const kh_config *c = L->svc->config;
    if (!L->transactional)
        return (L->producer = kh_kafka_producer_new(c, producer_hook, L, err, errlen)) ? 0 : -1;
    L->producer = kh_kafka_txn_producer_create(c, L->cfg->transactional_id, producer_hook, L, err,
                                               errlen);
    if (!L->producer)
        return -1;
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
    int rc = open_producer(L, err, sizeof err);
    if (rc > 0)
        return 1;
    if (rc == 0)
        L->consumer = kh_kafka_consumer_new(L->svc->config, L->cfg->group_id, consumer_hook, L, err,
                                            sizeof err);
    if (!L->producer || !L->consumer) {
        kh_log_error("cannot create the Kafka clients", json_pack("{s:s}", "error", err));
        return -1;
    }
    kh_kafka_waker_init(&L->waker, L->consumer);
    L->melding_rkt = rd_kafka_topic_new(L->producer, L->cfg->melding_topic, NULL);
    L->dead_rkt = rd_kafka_topic_new(L->producer, L->cfg->deadletter_topic, NULL);
    for (int k = 0; k < ROUTE_KINDS; k++)
        L->inputs[k] = rd_kafka_topic_new(L->consumer, L->cfg->topics[k], NULL);
    return L->melding_rkt && L->dead_rkt ? subscribe(L) : -1;
}

/* Leaving the group revokes the partitions, which commits nothing more:
 * the last batch is done. */
static void close_clients(loop *L) {
    if (L->consumer)
        kh_kafka_consumer_close_bounded(L->consumer, &L->txn, L->inputs, ROUTE_KINDS);
    if (L->melding_rkt)
        rd_kafka_topic_destroy(L->melding_rkt);
    if (L->dead_rkt)
        rd_kafka_topic_destroy(L->dead_rkt);
    if (L->producer) {
        if (!L->failed)
            rd_kafka_flush(L->producer, kh_kafka_txn_left_ms(&L->txn));
        rd_kafka_destroy(L->producer);
    }
}

/* How long to wait for the next record: the open batch closes at its age
 * limit or, when batch_idle_ms is set, once no record came for that long
 * (the input is drained: committing now releases its meldingen at once,
 * and under a backlog records keep coming, so batches still fill up). */
static int batch_due(const loop *L, int64_t *wait) {
    int64_t now = now_ms(), idle = L->cfg->batch_idle_ms;
    *wait = IDLE_POLL_MS;
    if (!L->open)
        return 0;
    int64_t left = L->batch_start + L->cfg->batch_ms - now;
    if (idle > 0 && L->last_record + idle - now < left)
        left = L->last_record + idle - now;
    if (left <= 0 || L->batch_count >= L->cfg->batch_records)
        return 1;
    if (left < *wait)
        *wait = left;
    return 0;
}

static void run(loop *L, atomic_int *ready) {
    atomic_store(ready, 1);
    while (!kh_service_stop && !L->failed) {
        maybe_reload(L);
        int64_t wait;
        if (batch_due(L, &wait)) {
            batch_commit(L, 1);
            continue;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(L->consumer, (int)wait);
        rd_kafka_poll(L->producer, 0);
        if (!m)
            continue;
        if (m->err) {
            consumer_error(L, m);
        } else {
            handle(L, m);
            kh_kafka_waker_count(&L->waker, L->consumer, 1);
        }
        rd_kafka_message_destroy(m);
    }
    atomic_store(ready, 0);
    kh_kafka_txn_note_stop(&L->txn, 0);
}

/* The shutdown: the last batch (committed, else aborted), then the
 * clients, on a thread of its own because librdkafka 2.0.2 does not
 * always honour the timeouts given to it (send_offsets_to_transaction
 * waits without a deadline while the coordinator is gone or silent, and
 * destroying a consumer waits for its in-flight group requests). */
static void close_all(void *arg) {
    loop *L = arg;
    L->last_commit = L->failed || (L->producer && batch_commit(L, 0)) || L->dropped ? -1 : 0;
    close_clients(L);
}

/* Returns 0 (done; *rc 1 when the last batch did not commit), or -1 when
 * the closing thread is still blocked in librdkafka at the deadline: it
 * still uses L and the clients, so nothing may be freed. */
static int shut_down(loop *L, int *rc) {
    return kh_kafka_txn_shut_down(&L->txn, close_all, L, &L->last_commit, &L->failed, "batch", rc);
}

int route_loop_run(kh_service *svc, const route_loop_config *cfg, kh_refstore *store,
                   const kh_schemas *schemas, atomic_int *ready) {
    char err[512];
    loop *L = kh_calloc(1, sizeof *L); /* the processor's buffers are large */
    L->svc = svc;
    L->cfg = cfg;
    L->store = store;
    L->transactional = cfg->transactional_id != NULL;
    L->ref = kh_refstore_acquire(store);
    L->watch_sig = cfg->watch_ms > 0 ? route_watch_signature(cfg->reference_dir) : 0;
    L->next_watch = now_ms() + cfg->watch_ms;
    route_stats_init(&L->stats, svc->metrics, cfg->topics, L->transactional);
    route_stats_facts(&L->stats, L->ref);
    L->txn.stop = &kh_service_stop;
    L->txn.shutdown_ms = cfg->shutdown_ms;
    int rc = 1;
    if (route_processor_init(&L->proc, schemas, err, sizeof err)) {
        kh_log_error("cannot start", json_pack("{s:s}", "error", err));
    } else if ((rc = open_clients(L)) != 0) {
        rc = rc > 0 ? 0 : 1; /* stopped while connecting: nothing was consumed */
    } else {
        kh_log_info("routing",
                    json_pack("{s:s,s:s,s:s?,s:I,s:I,s:I}", "group", cfg->group_id, "mode",
                              L->transactional ? "exactly once (transactions)"
                                               : "at least once (no transactions)",
                              "transactional_id", cfg->transactional_id, "batch_records",
                              (json_int_t)cfg->batch_records, "batch_ms", (json_int_t)cfg->batch_ms,
                              "batch_idle_ms", (json_int_t)cfg->batch_idle_ms));
        run(L, ready);
        rc = L->failed ? 1 : 0;
    }
    if (shut_down(L, &rc))
        return ROUTE_LOOP_ABANDONED;
    route_processor_free(&L->proc);
    kh_refstore_release(store, L->ref);
    free(L);
    return rc;
}
