/*
 * push_output — the producer and the acknowledgement bookkeeping of jobs.
 */
#include "push_output.h"

#include "kh_alloc.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_service.h"
#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* librdkafka's own limit (100,000 records, each also copied here for a
 * rewrite at ~2 kB) let a slow broker hold ~400 MB; at national volume
 * ~800 writes are outstanding, so this cap binds only when the broker
 * lags, and then push waits (delivers no more) until it catches up. */
#define QUEUE_MESSAGES "5000"

/* One record in flight to the broker; kept until acknowledged so it can be
 * written again. */
typedef struct ack {
    push_job *job;
    char *topic;
    void *key;
    size_t keylen;
    void *value;
    size_t len;
    rd_kafka_headers_t *headers; /* a copy: librdkafka takes the ones it is given */
    struct ack *next;            /* in the rewrite list */
} ack;

struct push_output {
    rd_kafka_t *rk;
    size_t outstanding;
    /* writes the broker did not acknowledge, in report order: written
     * again by push_output_poll, never from the delivery report itself */
    ack *rewrite, **rewrite_tail;
    int cap_queue; /* kafka.queue.buffering.max.messages not configured */
    int fatal;
};

static void free_ack(ack *a) {
    free(a->topic);
    free(a->key);
    free(a->value);
    rd_kafka_headers_destroy(a->headers);
    free(a);
}

static void finish_ack(push_output *o, ack *a) {
    o->outstanding--;
    push_output_release(o, a->job);
    free_ack(a);
}

static rd_kafka_resp_err_t produce_once(push_output *o, ack *a) {
    rd_kafka_headers_t *h = rd_kafka_headers_copy(a->headers);
    rd_kafka_resp_err_t e = rd_kafka_producev(o->rk, RD_KAFKA_V_TOPIC(a->topic),
                                              RD_KAFKA_V_KEY(a->key, a->keylen),
                                              RD_KAFKA_V_VALUE(a->value, a->len),
                                              RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(a),
                                              RD_KAFKA_V_END);
    if (e)
        rd_kafka_headers_destroy(h);
    return e;
}

/* Writes the unacknowledged records again while the queue has room. One
 * that cannot be queued at all makes the producer fatal; it stays in the
 * list (freed by push_output_free), its job unfinished. */
static void rewrite(push_output *o) {
    while (o->rewrite && !o->fatal) {
        ack *a = o->rewrite;
        rd_kafka_resp_err_t e = produce_once(o, a);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return;
        if (e) {
            o->fatal = 1;
            kh_log_error("kafka write failed for good",
                         json_pack("{s:s, s:s}", "topic", a->topic, "error", rd_kafka_err2str(e)));
            return;
        }
        o->rewrite = a->next;
        if (!o->rewrite)
            o->rewrite_tail = &o->rewrite;
    }
}

/* Queues a, waiting while the queue is full, unless a stop was asked:
 * then a full queue (a broker that lags or is gone) is given up at once,
 * so SIGTERM is never held up by it. */
static rd_kafka_resp_err_t produce(push_output *o, ack *a) {
    rd_kafka_resp_err_t e;
    while ((e = produce_once(o, a)) == RD_KAFKA_RESP_ERR__QUEUE_FULL && !kh_service_stop) {
        rd_kafka_poll(o->rk, 10);
        rewrite(o);
    }
    return e;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    push_output *o = opaque;
    ack *a = m->_private;
    (void)rk;
    if (!m->err) {
        finish_ack(o, a);
        return;
    }
    kh_log_warn("kafka write not acknowledged; writing it again",
                json_pack("{s:s, s:s}", "topic", a->topic, "error", rd_kafka_err2str(m->err)));
    a->next = NULL;
    *o->rewrite_tail = a;
    o->rewrite_tail = &a->next;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    push_output *o = opaque;
    char why[256];
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, why, sizeof why);
        o->fatal = 1;
        kh_log_error("kafka producer fatal error", json_pack("{s:s}", "error", why));
        return;
    }
    kh_log_warn("kafka producer error",
                json_pack("{s:s, s:s}", "error", rd_kafka_err2str((rd_kafka_resp_err_t)err),
                          "reason", reason));
}

static int hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    push_output *o = ud;
    if (o->cap_queue &&
        rd_kafka_conf_set(conf, "queue.buffering.max.messages", QUEUE_MESSAGES, err, errlen))
        return -1;
    rd_kafka_conf_set_opaque(conf, ud);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    return 0;
}

push_output *push_output_new(const kh_config *c, char *err, size_t errlen) {
    push_output *o = kh_calloc(1, sizeof *o);
    o->rewrite_tail = &o->rewrite;
    o->cap_queue = !kh_config_get(c, "kafka.queue.buffering.max.messages", NULL);
    o->rk = kh_kafka_producer_new(c, hook, o, err, errlen);
    if (!o->rk) {
        free(o);
        return NULL;
    }
    return o;
}

void push_output_ensure_topic(push_output *o, const char *topic, const char *unless) {
    rd_kafka_topic_t *t = rd_kafka_topic_new(o->rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int exists = 0;
    int64_t deadline = kh_now_millis() + 10000;
    while (t && !exists && kh_now_millis() < deadline) {
        if (rd_kafka_metadata(o->rk, 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            exists = md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0;
            rd_kafka_metadata_destroy(md);
        }
        if (!exists)
            usleep(200 * 1000);
    }
    if (t)
        rd_kafka_topic_destroy(t);
    if (!exists)
        kh_log_warn("topic does not exist and was not created; create it",
                    json_pack("{s:s, s:s}", "topic", topic, "until_then", unless));
}

void push_output_free(push_output *o) {
    if (!o)
        return;
    rd_kafka_destroy(o->rk);
    while (o->rewrite) {
        ack *next = o->rewrite->next;
        free_ack(o->rewrite);
        o->rewrite = next;
    }
    free(o);
}

void push_output_hold(push_job *job) { job->acks++; }

void push_output_release(push_output *o, push_job *job) {
    (void)o;
    if (--job->acks == 0)
        push_job_free(job);
}

static void *copy(const void *p, size_t n) {
    void *c = kh_malloc(n ? n : 1);
    if (n)
        memcpy(c, p, n);
    return c;
}

int push_output_send(push_output *o, push_job *job, const char *topic, const void *key,
                     size_t keylen, const void *value, size_t len, rd_kafka_headers_t *headers,
                     char *err, size_t errlen) {
    ack *a = kh_calloc(1, sizeof *a);
    a->job = job;
    a->topic = kh_strdup(topic);
    a->key = key ? copy(key, keylen) : NULL;
    a->keylen = keylen;
    a->value = copy(value, len);
    a->len = len;
    a->headers = headers ? headers : rd_kafka_headers_new(0);
    /* Counted before producing: a full queue makes produce() serve reports. */
    job->acks++;
    o->outstanding++;
    rd_kafka_resp_err_t e = produce(o, a);
    if (e) {
        job->acks--;
        o->outstanding--;
        snprintf(err, errlen, "kafka produce to %s: %s", topic,
                 e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? "producer queue full at shutdown"
                                                    : rd_kafka_err2str(e));
        free_ack(a);
        return -1;
    }
    return 0;
}

void push_output_poll(push_output *o) {
    rd_kafka_poll(o->rk, 0);
    rewrite(o);
}

void push_output_wake_fd(push_output *o, int fd) {
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(o->rk);
    rd_kafka_queue_io_event_enable(q, fd, "p", 1);
    rd_kafka_queue_destroy(q);
}

size_t push_output_outstanding(const push_output *o) { return o->outstanding; }

int push_output_fatal(const push_output *o) { return o->fatal; }

int push_output_flush(push_output *o, int timeout_ms) {
    int64_t deadline = kh_now_millis() + timeout_ms;
    while (o->outstanding && !o->fatal && kh_now_millis() < deadline) {
        rd_kafka_poll(o->rk, 50);
        rewrite(o);
    }
    return o->outstanding ? -1 : 0;
}
