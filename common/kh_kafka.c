/*
 * kh_kafka — builds librdkafka configurations from kh_config and creates
 * the three kinds of client every service uses, so the delivery guarantees
 * (idempotence, manual offsets, read_committed) live in one place.
 */
#include "kh_kafka.h"

#include "kh_alloc.h"
#include "kh_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Key/value pairs, NULL-terminated. */
static const char *const producer_defaults[] = {"bootstrap.servers",
                                                KH_KAFKA_DEFAULT_BOOTSTRAP,
                                                "linger.ms",
                                                "5",
                                                "compression.codec",
                                                "none",
                                                "acks",
                                                "all",
                                                NULL};
static const char *const producer_required[] = {"enable.idempotence", "true", NULL};
static const char *const consumer_defaults[] = {"bootstrap.servers", KH_KAFKA_DEFAULT_BOOTSTRAP,
                                                "auto.offset.reset", "earliest", NULL};
static const char *const consumer_required[] = {
    "enable.auto.commit", "false", "enable.auto.offset.store", "false", "isolation.level",
    "read_committed",     NULL};

static int set_one(rd_kafka_conf_t *conf, const char *name, const char *value, const char *key,
                   char *err, size_t errlen) {
    char why[256];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "config %s: %s", key, why);
    return -1;
}

static int set_pairs(rd_kafka_conf_t *conf, const char *const *kv, char *err, size_t errlen) {
    for (; *kv; kv += 2)
        if (set_one(conf, kv[0], kv[1], kv[0], err, errlen))
            return -1;
    return 0;
}

/* A required setting may be restated in config, never changed. */
static int check_required(const kh_config *c, const char *const *kv, char *err, size_t errlen) {
    char key[128];
    for (; *kv; kv += 2) {
        snprintf(key, sizeof(key), "kafka.%s", kv[0]);
        const char *v = kh_config_get(c, key, NULL);
        if (v && strcasecmp(v, kv[1]) != 0) {
            snprintf(err, errlen, "config %s: must be %s (ketenhub relies on it)", key, kv[1]);
            return -1;
        }
    }
    return 0;
}

/* Properties of one client type that librdkafka ignores, with a warning at
 * every start, on the other: a service configures its producer and its
 * consumer with one set of kafka.* keys. */
static const char *const consumer_only[] = {"queued.min.messages",
                                            "queued.max.messages.kbytes",
                                            "max.partition.fetch.bytes",
                                            "fetch.message.max.bytes",
                                            "fetch.max.bytes",
                                            "fetch.wait.max.ms",
                                            "fetch.min.bytes",
                                            "session.timeout.ms",
                                            "heartbeat.interval.ms",
                                            "max.poll.interval.ms",
                                            "partition.assignment.strategy",
                                            "group.instance.id",
                                            "auto.offset.reset",
                                            "auto.commit.interval.ms",
                                            NULL};
static const char *const producer_only[] = {"queue.buffering.max.messages",
                                            "queue.buffering.max.kbytes",
                                            "queue.buffering.max.ms",
                                            "linger.ms",
                                            "message.timeout.ms",
                                            "delivery.timeout.ms",
                                            "transaction.timeout.ms",
                                            "compression.codec",
                                            "compression.type",
                                            "batch.num.messages",
                                            "batch.size",
                                            "message.send.max.retries",
                                            "retries",
                                            "acks",
                                            "request.required.acks",
                                            NULL};

static int listed(const char *const *names, const char *name) {
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return 1;
    return 0;
}

typedef struct passthrough {
    rd_kafka_conf_t *conf;
    const char *const *other_only; /* the other client type's properties: skipped */
    char *err;
    size_t errlen;
    int failed;
} passthrough;

static void pass_key(const char *key, const char *value, void *ud) {
    passthrough *p = ud;
    const char *name = key + strlen("kafka.");
    if (!p->failed && !listed(p->other_only, name))
        p->failed = set_one(p->conf, name, value, key, p->err, p->errlen);
}

/* librdkafka logs with syslog levels: 0-3 error, 4 warning, 5-6 notice and
 * info, 7 debug. */
static int log_level(int syslog_level) {
    if (syslog_level <= 3)
        return KH_LOG_ERROR;
    if (syslog_level == 4)
        return KH_LOG_WARN;
    return syslog_level <= 6 ? KH_LOG_INFO : KH_LOG_DEBUG;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    int kl = log_level(level);
    if (kh_log_enabled(kl))
        kh_log(kl, buf,
               json_pack("{s:s, s:s, s:s}", "component", "librdkafka", "client", rd_kafka_name(rk),
                         "facility", fac));
}

/* What a waiting kh_kafka_produce_sync() learns from the delivery report;
 * done is written last (release) so the other fields are visible to the
 * waiter once it reads done (acquire), whichever thread served the report. */
typedef struct sync_report {
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
    atomic_int done;
} sync_report;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)opaque;
    sync_report *r = m->_private;
    if (r) {
        r->err = m->err;
        r->partition = m->partition;
        r->offset = m->offset;
        atomic_store_explicit(&r->done, 1, memory_order_release);
    } else if (m->err) {
        kh_log(KH_LOG_WARN, "kafka delivery failed",
               json_pack("{s:s, s:s, s:i, s:s}", "client", rd_kafka_name(rk), "topic",
                         rd_kafka_topic_name(m->rkt), "partition", (int)m->partition, "error",
                         rd_kafka_err2str(m->err)));
    }
}

/* The configuration up to the identity arguments (steps 1-3 of kh_kafka.h). */
static rd_kafka_conf_t *conf_base(const kh_config *c, rd_kafka_type_t type, char *err,
                                  size_t errlen) {
    int producer = type == RD_KAFKA_PRODUCER;
    const char *const *defaults = producer ? producer_defaults : consumer_defaults;
    const char *const *required = producer ? producer_required : consumer_required;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    passthrough p = {conf, producer ? consumer_only : producer_only, err, errlen, 0};
    if (set_pairs(conf, defaults, err, errlen) == 0 &&
        check_required(c, required, err, errlen) == 0) {
        kh_config_each(c, "kafka.", pass_key, &p);
        if (!p.failed && set_pairs(conf, required, err, errlen) == 0)
            return conf;
    }
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Steps 5-6 and the handle; conf is consumed either way. */
static rd_kafka_t *client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, kh_kafka_conf_hook *hook,
                              void *ud, char *err, size_t errlen) {
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    if (hook && hook(conf, ud, err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, errlen);
    if (rk == NULL)
        rd_kafka_conf_destroy(conf);
    return rk;
}

rd_kafka_t *kh_kafka_producer_new(const kh_config *c, kh_kafka_conf_hook *hook, void *ud, char *err,
                                  size_t errlen) {
    rd_kafka_conf_t *conf = conf_base(c, RD_KAFKA_PRODUCER, err, errlen);
    return conf ? client_new(RD_KAFKA_PRODUCER, conf, hook, ud, err, errlen) : NULL;
}

rd_kafka_t *kh_kafka_txn_producer_create(const kh_config *c, const char *transactional_id,
                                         kh_kafka_conf_hook *hook, void *ud, char *err,
                                         size_t errlen) {
    rd_kafka_conf_t *conf = conf_base(c, RD_KAFKA_PRODUCER, err, errlen);
    if (conf == NULL)
        return NULL;
    if (set_one(conf, "transactional.id", transactional_id, "transactional id", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return client_new(RD_KAFKA_PRODUCER, conf, hook, ud, err, errlen);
}

rd_kafka_t *kh_kafka_txn_producer_new(const kh_config *c, const char *transactional_id,
                                      kh_kafka_conf_hook *hook, void *ud, char *err,
                                      size_t errlen) {
    rd_kafka_t *rk = kh_kafka_txn_producer_create(c, transactional_id, hook, ud, err, errlen);
    if (rk == NULL)
        return NULL;
    kh_kafka_txn_bound unbounded = {0};
    rd_kafka_error_t *e = kh_kafka_txn_init(rk, &unbounded);
    if (e) {
        snprintf(err, errlen, "kafka init_transactions (transactional.id %s): %s", transactional_id,
                 rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

rd_kafka_t *kh_kafka_consumer_new(const kh_config *c, const char *group_id,
                                  kh_kafka_conf_hook *hook, void *ud, char *err, size_t errlen) {
    rd_kafka_conf_t *conf = conf_base(c, RD_KAFKA_CONSUMER, err, errlen);
    if (conf == NULL)
        return NULL;
    if (set_one(conf, "group.id", group_id, "group id", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = client_new(RD_KAFKA_CONSUMER, conf, hook, ud, err, errlen);
    if (rk)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Assigns or unassigns parts the way the group's protocol wants. */
static rd_kafka_error_t *change(rd_kafka_t *rk, int coop, int assign,
                                rd_kafka_topic_partition_list_t *parts) {
    if (coop)
        return assign ? rd_kafka_incremental_assign(rk, parts)
                      : rd_kafka_incremental_unassign(rk, parts);
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign ? parts : NULL);
    return e ? rd_kafka_error_new(e, "%s", rd_kafka_err2str(e)) : NULL;
}

static int assignment_size(rd_kafka_t *rk) {
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(rk, &a) || !a)
        return 0;
    int n = a->cnt;
    rd_kafka_topic_partition_list_destroy(a);
    return n;
}

int kh_kafka_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t *parts, kh_kafka_revoke_fn *revoke, void *ud,
                       kh_kafka_rebalance_kind *kind, int *assigned, char *errbuf, size_t errlen) {
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    int coop = protocol && strcmp(protocol, "COOPERATIVE") == 0;
    int assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    *kind = assign                         ? KH_KAFKA_ASSIGNED
            : rd_kafka_assignment_lost(rk) ? KH_KAFKA_LOST
                                           : KH_KAFKA_REVOKED;
    if (!assign && revoke)
        revoke(ud, *kind, parts);
    rd_kafka_error_t *e = change(rk, coop, assign, parts);
    *assigned = assignment_size(rk);
    if (!e)
        return 0;
    snprintf(errbuf, errlen, "kafka %s of %d partitions: %s", kh_kafka_rebalance_name(*kind),
             parts->cnt, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}

const char *kh_kafka_rebalance_name(kh_kafka_rebalance_kind kind) {
    static const char *const names[] = {"assign", "revoke", "lost"};
    return names[kind];
}

int kh_kafka_header_get(rd_kafka_message_t *m, const char *name, char *buf, size_t buflen) {
    rd_kafka_headers_t *hdrs;
    const void *value;
    size_t size;
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(hdrs, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    if (size >= buflen)
        return -2;
    if (size)
        memcpy(buf, value, size);
    buf[size] = '\0';
    return 0;
}

int kh_kafka_produce_sync(rd_kafka_t *rk, const char *topic, const void *key, size_t keylen,
                          const void *value, size_t len, rd_kafka_headers_t *headers,
                          int32_t *partition, int64_t *offset, char *err, size_t errlen) {
    sync_report r = {.err = RD_KAFKA_RESP_ERR_NO_ERROR};
    atomic_init(&r.done, 0);
    /* RD_KAFKA_V_VALUE wants a mutable pointer; with F_COPY it is only read. */
    rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                              RD_KAFKA_V_KEY(key, keylen),
                                              RD_KAFKA_V_VALUE((void *)value, len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                              RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(&r),
                                              RD_KAFKA_V_END);
    if (e) {
        /* On failure librdkafka leaves the headers with the caller. */
        if (headers)
            rd_kafka_headers_destroy(headers);
        snprintf(err, errlen, "kafka produce to %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    while (!atomic_load_explicit(&r.done, memory_order_acquire))
        rd_kafka_poll(rk, 50);
    if (r.err) {
        snprintf(err, errlen, "kafka delivery to %s: %s", topic, rd_kafka_err2str(r.err));
        return -1;
    }
    if (partition)
        *partition = r.partition;
    if (offset)
        *offset = r.offset;
    return 0;
}

/* What the error callback of kh_kafka_check_credentials() saw. */
typedef struct cred_probe {
    rd_kafka_resp_err_t refused; /* __AUTHENTICATION or __SSL, else 0 */
    char reason[400];
    int64_t down_at; /* when all brokers were first reported down, 0 if not */
} cred_probe;

static void cred_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    cred_probe *p = opaque;
    if ((err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL) &&
        !p->refused) {
        p->refused = err;
        snprintf(p->reason, sizeof p->reason, "%s", reason);
    } else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !p->down_at) {
        p->down_at = kh_kafka_now_ms();
    }
}

/* The service's producer settings would each warn on the probe, a consumer. */
static void cred_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    if (strcmp(fac, "CONFWARN") != 0)
        log_cb(rk, level, fac, buf);
}

/* Polls metadata until it comes, a login is refused, or the wait is over. */
static void cred_wait(rd_kafka_t *rk, cred_probe *p, int timeout_ms) {
    int64_t deadline = kh_kafka_now_ms() + timeout_ms;
    while (!p->refused && kh_kafka_now_ms() < deadline) {
        const struct rd_kafka_metadata *md;
        if (rd_kafka_metadata(rk, 0, NULL, &md, 500) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
            return;
        }
        rd_kafka_poll(rk, 0);
        if (p->down_at && kh_kafka_now_ms() - p->down_at > 2000)
            return;
    }
}

int kh_kafka_check_credentials(const kh_config *c, int timeout_ms, char *err, size_t errlen) {
    rd_kafka_conf_t *conf = conf_base(c, RD_KAFKA_CONSUMER, err, errlen);
    if (conf == NULL)
        return -1;
    cred_probe p = {0};
    rd_kafka_conf_set_log_cb(conf, cred_log_cb);
    rd_kafka_conf_set_error_cb(conf, cred_error_cb);
    rd_kafka_conf_set_opaque(conf, &p);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    cred_wait(rk, &p, timeout_ms);
    rd_kafka_destroy(rk);
    if (!p.refused)
        return 0;
    snprintf(err, errlen, "%s: %s",
             p.refused == RD_KAFKA_RESP_ERR__SSL
                 ? "the TLS handshake with Kafka failed (check kafka.ssl.ca.location and the "
                   "broker's certificate)"
                 : "Kafka refused this service's login (check kafka.sasl.username, "
                   "kafka.sasl.password and kafka.sasl.mechanisms)",
             p.reason);
    return -1;
}

rd_kafka_topic_partition_list_t *kh_kafka_positions(rd_kafka_t *rk) {
    rd_kafka_topic_partition_list_t *a = NULL, *out;
    if (rd_kafka_assignment(rk, &a))
        return NULL;
    if (rd_kafka_position(rk, a)) {
        rd_kafka_topic_partition_list_destroy(a);
        return NULL;
    }
    out = rd_kafka_topic_partition_list_new(a->cnt);
    for (int i = 0; i < a->cnt; i++)
        if (a->elems[i].offset >= 0)
            rd_kafka_topic_partition_list_add(out, a->elems[i].topic, a->elems[i].partition)
                ->offset = a->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(a);
    if (out->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(out);
        return NULL;
    }
    return out;
}

void kh_kafka_small_prefetch(kh_config *c, long long records) {
    char n[32];
    snprintf(n, sizeof n, "%lld", records);
    const char *const caps[][2] = {
        {"kafka.queued.min.messages", n},
        {"kafka.queued.max.messages.kbytes", "8192"},
        {"kafka.max.partition.fetch.bytes", "262144"},
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (!kh_config_get(c, caps[i][0], NULL))
            kh_config_set(c, caps[i][0], caps[i][1]);
}

int kh_kafka_consumer_wake(rd_kafka_t *rk, int timeout_ms) {
    rd_kafka_topic_partition_list_t *a = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(rk, &a);
    if (!e && a->cnt > 0) {
        for (int i = 0; i < a->cnt; i++)
            a->elems[i].offset = -1; /* a timestamp: -1 asks for the end offset */
        e = rd_kafka_offsets_for_times(rk, a, timeout_ms);
    }
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    return e ? -1 : 0;
}

void kh_kafka_waker_init(kh_kafka_waker *w, rd_kafka_t *rk) {
    char v[32];
    size_t len = sizeof v;
    long long min = 100000; /* librdkafka's default */
    if (rd_kafka_conf_get(rd_kafka_conf(rk), "queued.min.messages", v, &len) == RD_KAFKA_CONF_OK)
        min = strtoll(v, NULL, 10);
    w->every = min >= 4 ? min / 4 : 1;
    w->since = 0;
}

void kh_kafka_waker_count(kh_kafka_waker *w, rd_kafka_t *rk, long long n) {
    w->since += n;
    if (w->since < w->every)
        return;
    w->since = 0;
    kh_kafka_consumer_wake(rk, 0);
}

int kh_kafka_rewind_to_committed(rd_kafka_t *rk, int timeout_ms, char *err, size_t errlen) {
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(rk, &a) || a->cnt == 0) {
        if (a)
            rd_kafka_topic_partition_list_destroy(a);
        return 0;
    }
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, a, timeout_ms);
    if (e) {
        rd_kafka_topic_partition_list_destroy(a);
        snprintf(err, errlen, "reading committed offsets to rewind: %s", rd_kafka_err2str(e));
        return -1;
    }
    for (int i = 0; i < a->cnt; i++)
        if (a->elems[i].offset < 0)
            a->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *se = rd_kafka_seek_partitions(rk, a, -1);
    rd_kafka_topic_partition_list_destroy(a);
    if (se) {
        snprintf(err, errlen, "seeking to the committed offsets: %s", rd_kafka_error_string(se));
        rd_kafka_error_destroy(se);
        return -1;
    }
    return 0;
}

/* ---- Bounded transactional calls ------------------------------------------ */

int64_t kh_kafka_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kh_kafka_txn_note_stop(kh_kafka_txn_bound *b, int force) {
    if (!b->deadline_ms && (force || (b->stop && *b->stop)))
        b->deadline_ms = kh_kafka_now_ms() + b->shutdown_ms;
}

int kh_kafka_txn_left_ms(const kh_kafka_txn_bound *b) {
    if (!b->deadline_ms)
        return -1;
    int64_t left = b->deadline_ms - kh_kafka_now_ms();
    return left > INT32_MAX ? INT32_MAX : left > 1 ? (int)left : 1;
}

int kh_kafka_txn_past(const kh_kafka_txn_bound *b) {
    return b->deadline_ms && kh_kafka_now_ms() >= b->deadline_ms;
}

typedef struct closing {
    void (*close)(void *arg);
    void *arg;
    atomic_int done;
} closing;

static void *run_closing(void *p) {
    closing *c = p;
    c->close(c->arg);
    atomic_store(&c->done, 1);
    return NULL;
}

int kh_kafka_txn_close_bounded(kh_kafka_txn_bound *b, void (*close)(void *arg), void *arg) {
    kh_kafka_txn_note_stop(b, 1);
    closing *c = kh_calloc(1, sizeof *c);
    c->close = close;
    c->arg = arg;
    pthread_t t;
    if (pthread_create(&t, NULL, run_closing, c) != 0) {
        run_closing(c);
        free(c);
        return 0;
    }
    while (!atomic_load(&c->done) && !kh_kafka_txn_past(b))
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    if (!atomic_load(&c->done)) {
        pthread_detach(t); /* c stays with the thread */
        kh_log_error("a Kafka call is still blocked at the shutdown bound; ending now",
                     json_pack("{s:I}", "shutdown_ms", (json_int_t)b->shutdown_ms));
        return -1;
    }
    pthread_join(t, NULL);
    free(c);
    return 0;
}

void kh_kafka_consumer_close_bounded(rd_kafka_t *consumer, const kh_kafka_txn_bound *b,
                                     rd_kafka_topic_t *const *topics, size_t n) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(consumer);
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(consumer, q);
    if (e)
        rd_kafka_error_destroy(e);
    while (!e && !rd_kafka_consumer_closed(consumer) && !kh_kafka_txn_past(b))
        rd_kafka_queue_poll_callback(q, 100);
    int closed = !e && rd_kafka_consumer_closed(consumer);
    rd_kafka_queue_destroy(q);
    for (size_t i = 0; i < n; i++)
        if (topics[i])
            rd_kafka_topic_destroy(topics[i]);
    rd_kafka_destroy_flags(consumer, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

static void warn_uncommitted(const kh_kafka_txn_bound *b, const char *what) {
    char msg[160];
    snprintf(msg, sizeof msg,
             "the last %s did not commit before the shutdown bound; its records are consumed "
             "again after the restart",
             what);
    kh_log_warn(msg, json_pack("{s:I}", "shutdown_ms", (json_int_t)b->shutdown_ms));
}

int kh_kafka_txn_shut_down(kh_kafka_txn_bound *b, void (*close)(void *arg), void *arg,
                           const int *last_commit, const int *failed, const char *what, int *rc) {
    if (kh_kafka_txn_close_bounded(b, close, arg)) {
        warn_uncommitted(b, what);
        return -1;
    }
    if (*last_commit && !*failed)
        warn_uncommitted(b, what);
    *rc = *rc || *last_commit || *failed ? 1 : 0;
    return 0;
}

/* How long one call may wait while running. */
static long long call_limit_ms(rd_kafka_t *producer, const kh_kafka_txn_bound *b) {
    char buf[32];
    size_t len = sizeof buf;
    if (b->call_ms > 0)
        return b->call_ms;
    if (rd_kafka_conf_get(rd_kafka_conf(producer), "transaction.timeout.ms", buf, &len) ==
        RD_KAFKA_CONF_OK)
        return atoll(buf);
    return 60000; /* librdkafka's default */
}

typedef enum { TXN_INIT, TXN_COMMIT, TXN_ABORT, TXN_OFFSETS } txn_op;

typedef struct txn_args {
    const rd_kafka_topic_partition_list_t *offsets;
    const rd_kafka_consumer_group_metadata_t *cgmd;
} txn_args;

static rd_kafka_error_t *txn_once(rd_kafka_t *p, txn_op op, const txn_args *a, int ms) {
    switch (op) {
    case TXN_INIT: return rd_kafka_init_transactions(p, ms);
    case TXN_COMMIT: return rd_kafka_commit_transaction(p, ms);
    case TXN_ABORT: return rd_kafka_abort_transaction(p, ms);
    default: return rd_kafka_send_offsets_to_transaction(p, a->offsets, a->cgmd, ms);
    }
}

/* Waits until at, or until a stop is seen (which may set the deadline). */
static void pause_until(kh_kafka_txn_bound *b, int64_t at) {
    for (int64_t now; (now = kh_kafka_now_ms()) < at;) {
        kh_kafka_txn_note_stop(b, 0);
        if (b->deadline_ms && b->deadline_ms < at)
            at = b->deadline_ms;
        int64_t step = at - now < 50 ? at - now : 50;
        nanosleep(&(struct timespec){0, (long)step * 1000000}, NULL);
    }
}

/* The sliced call of kh_kafka.h's "Bounded transactional calls". */
static rd_kafka_error_t *txn_call(rd_kafka_t *p, txn_op op, const txn_args *a,
                                  kh_kafka_txn_bound *b) {
    int64_t limit = kh_kafka_now_ms() + call_limit_ms(p, b) * (op == TXN_INIT ? 2 : 1);
    for (;;) {
        kh_kafka_txn_note_stop(b, 0);
        int64_t start = kh_kafka_now_ms();
        int64_t until = b->deadline_ms ? b->deadline_ms : limit, left = until - start;
        rd_kafka_error_t *e = txn_once(p, op, a,
                                       left > KH_KAFKA_TXN_SLICE_MS ? KH_KAFKA_TXN_SLICE_MS
                                       : left > 1                   ? (int)left
                                                                    : 1);
        if (!e || !rd_kafka_error_is_retriable(e) || kh_kafka_now_ms() >= until ||
            (op == TXN_INIT && b->stop && *b->stop))
            return e;
        /* A quick refusal (the coordinator still finishing the last
         * transaction, or electing a leader) is asked again after the rest
         * of the slice, not at once. */
        if (rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR__TIMED_OUT)
            pause_until(b, start + KH_KAFKA_TXN_SLICE_MS < until ? start + KH_KAFKA_TXN_SLICE_MS
                                                                 : until);
        rd_kafka_error_destroy(e);
    }
}

rd_kafka_error_t *kh_kafka_txn_init(rd_kafka_t *producer, kh_kafka_txn_bound *b) {
    return txn_call(producer, TXN_INIT, NULL, b);
}

rd_kafka_error_t *kh_kafka_txn_commit(rd_kafka_t *producer, kh_kafka_txn_bound *b) {
    return txn_call(producer, TXN_COMMIT, NULL, b);
}

rd_kafka_error_t *kh_kafka_txn_abort(rd_kafka_t *producer, kh_kafka_txn_bound *b) {
    return txn_call(producer, TXN_ABORT, NULL, b);
}

rd_kafka_error_t *kh_kafka_txn_send_offsets(rd_kafka_t *producer,
                                            const rd_kafka_topic_partition_list_t *offsets,
                                            const rd_kafka_consumer_group_metadata_t *cgmd,
                                            kh_kafka_txn_bound *b) {
    txn_args a = {offsets, cgmd};
    return txn_call(producer, TXN_OFFSETS, &a, b);
}
