/*
 * publisher — producer, delivery-report thread and readiness.
 */
#include "publisher.h"

#include "event.h"
#include "kh_alloc.h"
#include "kh_kafka.h"
#include "kh_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct publisher {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt[KH_EVENT_TYPES_MAX];
    char *topics[KH_EVENT_TYPES_MAX];
    size_t ntopics;
    publisher_done_fn done;
    void *ud;
    pthread_t poller;
    atomic_int stopping;
    atomic_int ready;
    atomic_int fatal;
    atomic_llong in_flight;
    pthread_mutex_t why_lock;
    char why[320]; /* why not ready, or the fatal error */
};

static void set_ready(publisher *p, int ready, const char *why) {
    int was = atomic_exchange(&p->ready, ready);
    if (!ready) {
        pthread_mutex_lock(&p->why_lock);
        snprintf(p->why, sizeof p->why, "%s", why);
        pthread_mutex_unlock(&p->why_lock);
    }
    if (was != ready) {
        if (ready)
            kh_log_info("broker reachable", NULL);
        else
            kh_log_warn("broker unreachable", json_pack("{s:s}", "reason", why));
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    publisher *p = opaque;
    publisher_report r = {
        .err = m->err,
        .possibly_persisted = rd_kafka_message_status(m) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED,
        .partition = m->partition,
        .offset = m->offset,
    };
    atomic_fetch_sub(&p->in_flight, 1);
    p->done(m->_private, &r, p->ud);
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque) {
    publisher *p = opaque;
    char fatal[200];
    if (code == RD_KAFKA_RESP_ERR__FATAL &&
        rd_kafka_fatal_error(rk, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        pthread_mutex_lock(&p->why_lock);
        snprintf(p->why, sizeof p->why, "fatal producer error: %s", fatal);
        pthread_mutex_unlock(&p->why_lock);
        atomic_store(&p->fatal, 1);
        atomic_store(&p->ready, 0);
        kh_log_error("kafka producer failed for good", json_pack("{s:s}", "error", fatal));
        return;
    }
    /* librdkafka's log callback has already said what went wrong. */
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        set_ready(p, 0, "all brokers are down");
    else if (kh_log_enabled(KH_LOG_DEBUG))
        kh_log_debug("kafka error",
                     json_pack("{s:s, s:s}", "error", rd_kafka_err2name(code), "reason", reason));
}

static int hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    rd_kafka_conf_set_opaque(conf, ud);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    return 0;
}

static void *poll_loop(void *arg) {
    publisher *p = arg;
    while (!atomic_load(&p->stopping))
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

publisher *ingest_publisher_new(const kh_config *c, const char *const *topics, size_t ntopics,
                                publisher_done_fn done, void *ud, char *err, size_t errlen) {
    if (ntopics > KH_EVENT_TYPES_MAX) {
        snprintf(err, errlen, "%zu topics; at most KH_EVENT_TYPES_MAX (%d)", ntopics,
                 KH_EVENT_TYPES_MAX);
        return NULL;
    }
    publisher *p = kh_calloc(1, sizeof *p);
    p->done = done;
    p->ud = ud;
    pthread_mutex_init(&p->why_lock, NULL);
    snprintf(p->why, sizeof p->why, "no answer from the broker yet");
    p->rk = kh_kafka_producer_new(c, hook, p, err, errlen);
    if (!p->rk) {
        pthread_mutex_destroy(&p->why_lock);
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < ntopics; i++) {
        p->topics[i] = kh_strdup(topics[i]);
        p->rkt[i] = rd_kafka_topic_new(p->rk, topics[i], NULL);
    }
    p->ntopics = ntopics;
    pthread_create(&p->poller, NULL, poll_loop, p);
    return p;
}

const char *ingest_publisher_topic(const publisher *p, size_t i) { return p->topics[i]; }

rd_kafka_resp_err_t ingest_publisher_produce(publisher *p, size_t topic, const char *key,
                                             char *value, size_t len, const char *event_type,
                                             const char *event_id, const char *bron, void *opaque) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_header_add(h, "event-type", -1, event_type, -1);
    rd_kafka_header_add(h, "event-id", -1, event_id, -1);
    rd_kafka_header_add(h, "bron", -1, bron, -1);
    atomic_fetch_add(&p->in_flight, 1);
    rd_kafka_resp_err_t e = rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(p->rkt[topic]),
                                              RD_KAFKA_V_KEY(key, strlen(key)),
                                              RD_KAFKA_V_VALUE(value, len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                              RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(opaque),
                                              RD_KAFKA_V_END);
    if (e) {
        atomic_fetch_sub(&p->in_flight, 1);
        rd_kafka_headers_destroy(h);
    }
    return e;
}

int ingest_publisher_ready(publisher *p, char *why, size_t whylen) {
    if (atomic_load(&p->ready))
        return 1;
    pthread_mutex_lock(&p->why_lock);
    snprintf(why, whylen, "%s", p->why);
    pthread_mutex_unlock(&p->why_lock);
    return 0;
}

void ingest_publisher_probe(publisher *p, int timeout_ms) {
    if (atomic_load(&p->fatal))
        return;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, 0, p->rkt[0], &md, timeout_ms);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(md);
        set_ready(p, 1, NULL);
        return;
    }
    char why[256];
    snprintf(why, sizeof why, "no metadata from the broker: %s", rd_kafka_err2str(e));
    set_ready(p, 0, why);
}

int ingest_publisher_failed(publisher *p, char *why, size_t whylen) {
    if (!atomic_load(&p->fatal))
        return 0;
    pthread_mutex_lock(&p->why_lock);
    snprintf(why, whylen, "%s", p->why);
    pthread_mutex_unlock(&p->why_lock);
    return 1;
}

int64_t ingest_publisher_in_flight(publisher *p) { return atomic_load(&p->in_flight); }

void ingest_publisher_purge(publisher *p) {
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

void ingest_publisher_close(publisher *p, int timeout_ms) {
    if (!p)
        return;
    atomic_store(&p->stopping, 1);
    pthread_join(p->poller, NULL);
    if (rd_kafka_flush(p->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        kh_log_error("records left unflushed at shutdown",
                     json_pack("{s:i}", "records", rd_kafka_outq_len(p->rk)));
    for (size_t i = 0; i < p->ntopics; i++) {
        rd_kafka_topic_destroy(p->rkt[i]);
        free(p->topics[i]);
    }
    rd_kafka_destroy(p->rk);
    pthread_mutex_destroy(&p->why_lock);
    free(p);
}
