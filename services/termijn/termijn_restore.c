/*
 * termijn_restore — changelog partitions into the store.
 */
#include "termijn_restore.h"

#include "kh_kafka.h"
#include "kh_log.h"
#include "termijn_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESTORE_POLL_MS 500

static int eof_hook(rd_kafka_conf_t *conf, void *ud, char *err, size_t errlen) {
    (void)ud;
    return rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, errlen) == RD_KAFKA_CONF_OK
               ? 0
               : -1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void apply(const rd_kafka_message_t *m, termijn_store *s, termijn_restore_stats *st) {
    char why[256];
    st->records++;
    if (!m->key || m->key_len == 0 || m->key_len >= TERMIJN_KEY_LEN) {
        st->bad++;
        return;
    }
    termijn_store_delete(s, m->partition, m->key, m->key_len);
    if (!m->payload)
        return; /* tombstone */
    termijn_dossier *d = termijn_store_get(s, m->partition, m->key, m->key_len, 1);
    if (!d || termijn_state_decode(m->payload, m->len, d, why, sizeof why)) {
        st->bad++;
        kh_log_error("changelog record skipped",
                     json_pack("{s:i,s:I,s:s}", "partition", (int)m->partition, "offset",
                               (json_int_t)m->offset, "error", d ? why : "out of memory"));
        termijn_store_delete(s, m->partition, m->key, m->key_len);
    }
}

/* Reads until every partition reported its end. Returns 0 or -1. */
static int drain(rd_kafka_t *rk, size_t n, termijn_store *s, termijn_restore_stats *st, char *err,
                 size_t errlen) {
    size_t ended = 0;
    kh_kafka_waker waker;
    kh_kafka_waker_init(&waker, rk);
    while (ended < n) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, RESTORE_POLL_MS);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            ended++;
        } else if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                   m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                   m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
            kh_log_warn("changelog topic or partition missing: restoring it as empty",
                        json_pack("{s:s}", "error", rd_kafka_message_errstr(m)));
            ended++;
        } else if (m->err) {
            snprintf(err, errlen, "reading the changelog: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return -1;
        } else {
            apply(m, s, st);
            kh_kafka_waker_count(&waker, rk, 1);
        }
        rd_kafka_message_destroy(m);
    }
    return 0;
}

int termijn_restore(const kh_config *c, const char *group_id, const char *topic,
                    const int32_t *parts, size_t n, termijn_store *s, termijn_restore_stats *st,
                    char *err, size_t errlen) {
    double started = now_s();
    memset(st, 0, sizeof *st);
    if (n == 0)
        return 0;
    rd_kafka_t *rk = kh_kafka_consumer_new(c, group_id, eof_hook, NULL, err, errlen);
    if (!rk)
        return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        termijn_store_drop(s, parts[i]);
        rd_kafka_topic_partition_list_add(l, topic, parts[i])->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int rc = -1;
    if (e)
        snprintf(err, errlen, "assigning the changelog: %s", rd_kafka_err2str(e));
    else
        rc = drain(rk, n, s, st, err, errlen);
    rd_kafka_assign(rk, NULL);
    rd_kafka_destroy(rk); /* never subscribed or committed: nothing to close */
    for (size_t i = 0; rc == 0 && i < n; i++)
        termijn_store_mark_loaded(s, parts[i]);
    st->dossiers = termijn_store_dossiers(s);
    st->seconds = now_s() - started;
    return rc;
}
