/*
 * kh_kafka — librdkafka clients configured the ketenhub way.
 *
 * Every config key `kafka.X` is handed to librdkafka as property `X`, so
 * brokers, TLS and SASL are configuration, not code: kafka.bootstrap.servers
 * (default 127.0.0.1:9092), kafka.security.protocol, kafka.ssl.ca.location,
 * kafka.sasl.password, ... or their KETENHUB_KAFKA_* environment overrides.
 * Consequently no non-librdkafka setting may live under `kafka.`: an unknown
 * property makes client creation fail, naming the key.
 *
 * Settings are applied in this order, later winning:
 *   1. ketenhub defaults (listed per function), which config may change;
 *   2. the kafka.* config keys, except a property librdkafka knows for the
 *      other client type only (the pre-fetch caps for a producer,
 *      queue.buffering.* for a consumer, ...: kh_kafka.c's two lists),
 *      which it would ignore with a warning;
 *   3. required settings (listed per function): these carry ketenhub's
 *      delivery guarantees, and a config key giving one a different value
 *      is an error rather than silently ignored;
 *   4. identity arguments (group id, transactional id);
 *   5. librdkafka's log callback, routed to kh_log as JSON lines (its debug
 *      output, enabled by kafka.debug, at level debug), and for producers a
 *      delivery report callback (see kh_kafka_produce_sync);
 *   6. the caller's hook, which may set anything on the rd_kafka_conf_t.
 */
#ifndef KH_KAFKA_H
#define KH_KAFKA_H

#include "kh_config.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Default bootstrap when kafka.bootstrap.servers is not configured. */
#define KH_KAFKA_DEFAULT_BOOTSTRAP "127.0.0.1:9092"

/* A caller's last word on a configuration before the client is created:
 * set callbacks (rd_kafka_conf_set_dr_msg_cb, _rebalance_cb, _stats_cb,
 * ...), an opaque (rd_kafka_conf_set_opaque) or any property. ud is the
 * pointer given next to the hook. Return 0, or -1 with a message in err to
 * abort the creation. */
typedef int kh_kafka_conf_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen);

/* An idempotent producer. Defaults: linger.ms=5, compression.codec=none,
 * acks=all (librdkafka refuses any other acks with idempotence). Required:
 * enable.idempotence=true. hook may be NULL. Without a dr_msg_cb set by the
 * hook, failed deliveries are logged (topic, partition, error; never key or
 * value), kh_kafka_produce_sync() may be used on the producer, and records
 * produced otherwise must carry no per-message opaque (RD_KAFKA_V_OPAQUE):
 * it is reserved for kh_kafka_produce_sync(). As with
 * any librdkafka producer, the caller must serve delivery reports with
 * rd_kafka_poll() or rd_kafka_flush().
 * Returns the handle (the caller's, free with rd_kafka_destroy()) or NULL
 * with a message in err. */
rd_kafka_t *kh_kafka_producer_new(const kh_config *c, kh_kafka_conf_hook *hook, void *ud, char *err,
                                  size_t errlen);

/* A transactional producer: as kh_kafka_producer_new() plus
 * transactional.id = transactional_id, on which rd_kafka_init_transactions()
 * has succeeded, so the caller can begin a transaction at once. The wait for
 * the transaction coordinator is 2 * transaction.timeout.ms (set by
 * kafka.transaction.timeout.ms; librdkafka's default 60000 makes it two
 * minutes), deaf to signals: for tools and tests. A service uses
 * kh_kafka_txn_producer_create() and kh_kafka_txn_init() with its stop flag.
 * Returns the handle or NULL with a message in err. */
rd_kafka_t *kh_kafka_txn_producer_new(const kh_config *c, const char *transactional_id,
                                      kh_kafka_conf_hook *hook, void *ud, char *err, size_t errlen);

/* As kh_kafka_txn_producer_new() but without init_transactions: the caller
 * calls kh_kafka_txn_init() before its first transaction. */
rd_kafka_t *kh_kafka_txn_producer_create(const kh_config *c, const char *transactional_id,
                                         kh_kafka_conf_hook *hook, void *ud, char *err,
                                         size_t errlen);

/* ---- Bounded transactional calls -------------------------------------------
 *
 * librdkafka's transactional calls wait as long as their timeout (-1: up to
 * transaction.timeout.ms, and init_transactions twice that) and do not look
 * at signals, so a service whose broker is gone or silent would take
 * minutes to stop. kh_kafka_txn_init/_commit/_abort/_send_offsets make the
 * call in slices of KH_KAFKA_TXN_SLICE_MS (librdkafka resumes a call that
 * timed out when it is made again with the same arguments) and look at the
 * stop flag between slices:
 *   - while running (no stop seen), one call waits up to call_ms, asking
 *     again after a retriable error (at most once per slice: the
 *     coordinator refuses with CONCURRENT_TRANSACTIONS until the last
 *     transaction's markers are written, which takes as long as the
 *     partitions lack their in-sync replicas);
 *   - once *stop is seen, deadline_ms is set to now + shutdown_ms (once),
 *     and every call, this one and later ones, gives up at that deadline;
 *   - init gives up at once on a stop: there is nothing to finish.
 * They return NULL on success, else librdkafka's last error, which the
 * caller owns (rd_kafka_error_destroy): a retriable one (often
 * RD_KAFKA_RESP_ERR__TIMED_OUT) when the time ran out. librdkafka 2.0.2 does not always
 * honour the slice (send_offsets_to_transaction waits without a deadline
 * while the coordinator is gone), so a caller that must end by the
 * deadline runs its last calls on a thread of their own and stops waiting
 * for it at kh_kafka_txn_past(). */
#define KH_KAFKA_TXN_SLICE_MS 500

/* The caller's, one per producer, used by one thread at a time; the
 * kh_kafka_txn_* functions write only deadline_ms. Zero-initialise, then
 * set stop and shutdown_ms; all zero ({0}) is a bound without a stop: each
 * call waits up to transaction.timeout.ms (init twice that), as librdkafka's
 * timeout -1 would, but never longer. */
typedef struct kh_kafka_txn_bound {
    const volatile sig_atomic_t *stop; /* nonzero once a stop is asked; NULL: never */
    long long shutdown_ms;             /* from the stop on, everything ends within this */
    /* while running, the most one call waits; 0: the producer's
     * transaction.timeout.ms (twice that for init) */
    long long call_ms;
    int64_t deadline_ms; /* on kh_kafka_now_ms()'s clock; 0: running, no deadline yet */
} kh_kafka_txn_bound;

rd_kafka_error_t *kh_kafka_txn_init(rd_kafka_t *producer, kh_kafka_txn_bound *b);
rd_kafka_error_t *kh_kafka_txn_commit(rd_kafka_t *producer, kh_kafka_txn_bound *b);
rd_kafka_error_t *kh_kafka_txn_abort(rd_kafka_t *producer, kh_kafka_txn_bound *b);
/* offsets and cgmd stay the caller's. */
rd_kafka_error_t *kh_kafka_txn_send_offsets(rd_kafka_t *producer,
                                            const rd_kafka_topic_partition_list_t *offsets,
                                            const rd_kafka_consumer_group_metadata_t *cgmd,
                                            kh_kafka_txn_bound *b);

/* Milliseconds on CLOCK_MONOTONIC, the clock of deadline_ms. */
int64_t kh_kafka_now_ms(void);

/* Starts the deadline when *stop is set and none runs yet; with force, also
 * without a stop (a shutdown for another reason, e.g. a fatal error). */
void kh_kafka_txn_note_stop(kh_kafka_txn_bound *b, int force);

/* What is left until the deadline, at least 1 ms; -1 (wait as long as
 * needed) while no deadline runs. For librdkafka calls that take a
 * timeout: rd_kafka_flush(p, kh_kafka_txn_left_ms(b)). */
int kh_kafka_txn_left_ms(const kh_kafka_txn_bound *b);

/* 1 when a deadline runs and has passed, else 0. */
int kh_kafka_txn_past(const kh_kafka_txn_bound *b);

/* A service's last transactional calls and the closing of its clients, run
 * within b's shutdown bound: starts the deadline (as kh_kafka_txn_note_stop
 * with force), runs close(arg) on a thread of its own and waits until it
 * returns or the deadline passes. Returns 0 when close returned; -1 (and
 * logs it) when it is still blocked in librdkafka at the deadline: the thread goes on using
 * arg, so the caller frees nothing it reaches and ends the process. When no
 * thread can be started, close runs on the caller's. */
int kh_kafka_txn_close_bounded(kh_kafka_txn_bound *b, void (*close)(void *arg), void *arg);

/* Leaves consumer's group until b's deadline, serving its rebalance
 * callbacks meanwhile; a consumer that cannot reach its coordinator would
 * wait up to session.timeout.ms, so after the deadline it is destroyed
 * without leaving (the group notices by the session timeout). Destroys the
 * n topic handles of the consumer in topics (NULL ones skipped) first, then
 * the consumer. */
void kh_kafka_consumer_close_bounded(rd_kafka_t *consumer, const kh_kafka_txn_bound *b,
                                     rd_kafka_topic_t *const *topics, size_t n);

/* The shutdown of a consume-transform-produce loop (route, termijn):
 * kh_kafka_txn_close_bounded(b, close, arg), where close commits the open
 * transaction (else aborts it), sets *last_commit (0 committed, -1 not) and
 * closes the clients. Warns "the last <what> did not commit before the
 * shutdown bound; its records are consumed again after the restart" when
 * it did not (unless *failed: a fatal error, logged already) or when close
 * is still blocked. Returns 0 with *rc set to 1 when the last commit did
 * not happen or *failed (else *rc is kept), or -1 when close is still
 * blocked (as kh_kafka_txn_close_bounded). */
int kh_kafka_txn_shut_down(kh_kafka_txn_bound *b, void (*close)(void *arg), void *arg,
                           const int *last_commit, const int *failed, const char *what, int *rc);

/* A group consumer in group group_id; the caller subscribes (or assigns).
 * Defaults: auto.offset.reset=earliest. Required: enable.auto.commit=false,
 * enable.auto.offset.store=false, isolation.level=read_committed: a record
 * counts as consumed only once the caller has processed it, stored its
 * offset (rd_kafka_offset_store(m->rkt, m->partition, m->offset)) and
 * committed, or sent the offsets to a transaction. The main queue is
 * redirected to the consumer queue, so rd_kafka_consumer_poll() serves all
 * callbacks. Returns the handle (close with rd_kafka_consumer_close(), then
 * rd_kafka_destroy()) or NULL with a message in err. */
rd_kafka_t *kh_kafka_consumer_new(const kh_config *c, const char *group_id,
                                  kh_kafka_conf_hook *hook, void *ud, char *err, size_t errlen);

/* What a rebalance did: partitions added, given up, or lost (taken away
 * without a chance to finish, e.g. after the session timed out). */
typedef enum { KH_KAFKA_ASSIGNED, KH_KAFKA_REVOKED, KH_KAFKA_LOST } kh_kafka_rebalance_kind;

/* A service's own work when partitions go away, called while they are
 * still assigned: finish or abandon what it holds for them (commit or
 * abort a transaction, commit finished offsets, drop per-partition state).
 * parts are the partitions going away (all of them with the eager
 * protocol, only those moving with the cooperative one). */
typedef void kh_kafka_revoke_fn(void *ud, kh_kafka_rebalance_kind kind,
                                const rd_kafka_topic_partition_list_t *parts);

/* Handles one rebalance callback (rd_kafka_conf_set_rebalance_cb) for
 * either protocol: with "COOPERATIVE" (cooperative-sticky) it changes the
 * assignment incrementally (rd_kafka_incremental_assign/_unassign), with
 * the eager assignors (range, roundrobin) it replaces it (rd_kafka_assign
 * of parts or NULL). On revoke (or loss) it calls revoke(ud, ...) first,
 * when revoke is not NULL. Sets *kind and *assigned (the partitions held
 * afterwards). Returns 0, or -1 with a message in err when librdkafka
 * refused the change (the caller should stop: its assignment is unknown). */
int kh_kafka_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t *parts, kh_kafka_revoke_fn *revoke, void *ud,
                       kh_kafka_rebalance_kind *kind, int *assigned, char *errbuf, size_t errlen);

/* The consumed positions of rk's current assignment (the next offset to
 * read per partition), leaving out partitions nothing was read from: what a
 * consume-transform-produce loop sends with its transaction. NULL when there
 * are none; the caller destroys the list. */
rd_kafka_topic_partition_list_t *kh_kafka_positions(rd_kafka_t *rk);

/* A small pre-fetch (route, termijn, push): sets
 * kafka.queued.min.messages=records, kafka.queued.max.messages.kbytes=8192
 * and kafka.max.partition.fetch.bytes=262144 in c, each unless configured.
 * librdkafka's own (100,000 messages, 64 MB) put a replay over 100 MB RSS;
 * its byte count leaves out ~300 bytes of bookkeeping per message, hence
 * the number cap, and 256 KB per partition keeps one fetch answer from
 * overshooting the caps by much. A reader with capped pre-fetch needs a
 * kh_kafka_waker. */
void kh_kafka_small_prefetch(kh_config *c, long long records);

/* Wakes the fetchers of consumer rk: asks the leader of every assigned
 * partition for its end offset (one ListOffsets request per leader, waiting
 * at most timeout_ms; the answer is not used). librdkafka 2.0.2 stops
 * fetching for a partition once its pre-fetch queue holds
 * queued.min.messages or queued.max.messages.kbytes, and looks again only
 * when its broker thread next wakes, up to a second later; a request to
 * that broker wakes it at once. Newer librdkafka has fetch.queue.backoff.ms
 * for this (2.3). With timeout_ms 0 it does not wait: the requests are
 * queued, which is what wakes the broker threads, and the late answers are
 * dropped (librdkafka 2.0.2's callback ignores them once the call has
 * returned). Returns 0, or -1 when the request failed or was not answered
 * within timeout_ms (always, for 0; nothing else changes). */
int kh_kafka_consumer_wake(rd_kafka_t *rk, int timeout_ms);

/* Calls kh_kafka_consumer_wake every quarter of a consumer's
 * queued.min.messages that the reader consumes: often enough that the
 * fetchers never idle on a drained queue, with no request per record. */
typedef struct kh_kafka_waker {
    long long every; /* consumed records between wakes */
    long long since; /* consumed since the last wake */
} kh_kafka_waker;

/* Sets w up for consumer rk (its effective queued.min.messages). */
void kh_kafka_waker_init(kh_kafka_waker *w, rd_kafka_t *rk);

/* Counts n consumed records; each time w->every are reached wakes rk's
 * fetchers, without waiting for the answers: a wait would hold the reader
 * (an answer can queue behind a Fetch the broker holds for
 * fetch.wait.max.ms; a 100 ms bound stopped push's deliveries ~100 ms at
 * every wake). */
void kh_kafka_waker_count(kh_kafka_waker *w, rd_kafka_t *rk, long long n);

/* Seeks every partition assigned to rk back to its committed offset (the
 * start of an aborted transaction's batch), waiting at most timeout_ms for
 * the committed offsets; a partition never committed goes to its
 * beginning, as auto.offset.reset=earliest does. Returns 0, or -1 with a
 * message in err. */
int kh_kafka_rewind_to_committed(rd_kafka_t *rk, int timeout_ms, char *err, size_t errlen);

/* "assign", "revoke" or "lost", for logs and metric labels. */
const char *kh_kafka_rebalance_name(kh_kafka_rebalance_kind kind);

/* Copies the value of the last header called name in m into buf with a NUL
 * (a value with NUL bytes is copied whole but reads as the part before the
 * first). Returns 0 when found, -1 when m has no such header, -2 when the
 * value does not fit in buflen - 1 bytes (buf is then untouched). */
int kh_kafka_header_get(rd_kafka_message_t *m, const char *name, char *buf, size_t buflen);

/* Produces one record and blocks until its delivery report: for the CLI and
 * tests, where waiting per record is fine. The partitioner picks the
 * partition from the key; key, value and headers may be NULL. Key and value
 * are copied; headers are taken over in every case. The wait is bounded by
 * the producer's message.timeout.ms. Safe from several threads at once.
 * rk must come from kh_kafka_producer_new() or kh_kafka_txn_producer_new()
 * without a hook-set dr_msg_cb (else this never returns). On success
 * returns 0 and sets *partition and *offset (each may be NULL); else -1 with
 * a message in err. */
int kh_kafka_produce_sync(rd_kafka_t *rk, const char *topic, const void *key, size_t keylen,
                          const void *value, size_t len, rd_kafka_headers_t *headers,
                          int32_t *partition, int64_t *offset, char *err, size_t errlen);

/* At a service's start: connects with the kafka.* settings (a short-lived
 * client without a group) and waits up to timeout_ms for the cluster's
 * metadata. librdkafka retries a refused login or TLS handshake for ever,
 * so a service with a wrong password or CA would run without ever working;
 * this turns those into a start failure: returns -1 with the broker's
 * reason in err when authentication (SASL) or TLS failed. Returns 0 when
 * the metadata came, and also when the brokers were merely unreachable
 * (reported 2 s after librdkafka says all brokers are down) or the time ran
 * out: those heal, and the services wait for them as before. */
int kh_kafka_check_credentials(const kh_config *c, int timeout_ms, char *err, size_t errlen);

#endif
