/*
 * watch_kafka — reading every topic and sampling committed offsets (see
 * watch_kafka.h).
 */
#include "watch_kafka.h"

#include "kh_alloc.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_time.h"
#include "watch_termijn.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define METADATA_EVERY_MS 10000

struct watch_kafka {
    watch_kafka_opts o;
    watch_model *model;
    rd_kafka_t *reader;
    rd_kafka_t *group[WATCH_MAX_GROUPS];
    char prefix[256];
    char full[WATCH_MAX_TOPICS][256]; /* topic names with the prefix */
    char state[256];                  /* termijn's state topic with the prefix */
    int assigned[WATCH_MAX_TOPICS];   /* partitions assigned so far */
    int64_t next_sample, next_metadata;
    atomic_int ready;
    char why[256];
};

watch_kafka *watch_kafka_new(const watch_kafka_opts *o, watch_model *m, char *err, size_t errlen) {
    watch_kafka *k = kh_calloc(1, sizeof *k);
    k->o = *o;
    snprintf(k->prefix, sizeof k->prefix, "%s", o->prefix);
    k->o.prefix = k->prefix;
    k->model = m;
    snprintf(k->why, sizeof k->why, "partitions not yet assigned");
    for (size_t t = 0; t < o->ntopics && t < WATCH_MAX_TOPICS; t++)
        snprintf(k->full[t], sizeof k->full[t], "%s%s", o->prefix, o->topics[t]);
    snprintf(k->state, sizeof k->state, "%s%s", o->prefix, WATCH_TERMIJN_TOPIC);
    char reader_group[64];
    snprintf(reader_group, sizeof reader_group, "ketenhub-watch-reader-%ld", (long)getpid());
    k->reader = kh_kafka_consumer_new(o->config, reader_group, NULL, NULL, err, errlen);
    for (size_t g = 0; k->reader && g < o->ngroups && g < WATCH_MAX_GROUPS; g++)
        if (!(k->group[g] = kh_kafka_consumer_new(o->config, o->groups[g], NULL, NULL, err,
                                                  errlen))) {
            watch_kafka_free(k);
            return NULL;
        }
    if (!k->reader) {
        free(k);
        return NULL;
    }
    return k;
}

void watch_kafka_free(watch_kafka *k) {
    if (!k)
        return;
    for (size_t g = 0; g < WATCH_MAX_GROUPS; g++)
        if (k->group[g])
            rd_kafka_destroy(k->group[g]); /* never subscribed: nothing to close */
    if (k->reader) {
        rd_kafka_consumer_close(k->reader);
        rd_kafka_destroy(k->reader);
    }
    free(k);
}

/* The partition count of topic (0 when it does not exist yet); -1 on error. */
static int partitions_of(rd_kafka_t *rk, const char *topic) {
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 5000);
    rd_kafka_topic_destroy(t);
    if (e)
        return -1;
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    return n < WATCH_MAX_PARTITIONS ? n : WATCH_MAX_PARTITIONS;
}

/* Sets the start offsets of parts: the beginning, or the first record at
 * or after now - history_ms (the end when there is none). termijn's state
 * is compacted keyed state, not a log of the last day: always from the
 * beginning, or children whose dossier did not change lately are missed. */
static void start_offsets(watch_kafka *k, rd_kafka_topic_partition_list_t *parts) {
    for (int i = 0; i < parts->cnt; i++)
        parts->elems[i].offset = k->o.history_ms > 0 ? kh_now_millis() - k->o.history_ms
                                                     : RD_KAFKA_OFFSET_BEGINNING;
    if (k->o.history_ms <= 0)
        return;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(k->reader, parts, 5000);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *x = &parts->elems[i];
        int64_t lo = -1, hi = -1;
        if (e || x->err || x->offset < 0)
            rd_kafka_query_watermark_offsets(k->reader, x->topic, x->partition, &lo, &hi, 5000);
        /* No record that recent: start at the current end, as a number, so
         * nothing written between now and the first fetch is skipped. */
        x->offset = e || x->err      ? RD_KAFKA_OFFSET_BEGINNING
                    : x->offset >= 0 ? x->offset
                    : hi >= 0        ? hi
                                     : RD_KAFKA_OFFSET_BEGINNING;
        if (strcmp(x->topic, k->state) == 0)
            x->offset = RD_KAFKA_OFFSET_BEGINNING;
        x->err = 0;
    }
}

/* Assigns the partitions that appeared since the last look. */
static void assign_new(watch_kafka *k) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    for (size_t t = 0; t < k->o.ntopics; t++) {
        int n = partitions_of(k->reader, k->full[t]);
        for (int p = k->assigned[t]; p < n; p++) {
            rd_kafka_topic_partition_list_add(parts, k->full[t], p);
            watch_model_high(k->model, k->o.topics[t], p, 0);
        }
        if (n > k->assigned[t])
            k->assigned[t] = n;
    }
    if (parts->cnt > 0) {
        start_offsets(k, parts);
        rd_kafka_error_t *e = rd_kafka_incremental_assign(k->reader, parts);
        if (e) {
            kh_log_error("cannot assign partitions",
                         json_pack("{s:s}", "error", rd_kafka_error_string(e)));
            rd_kafka_error_destroy(e);
        } else {
            kh_log_info("reading partitions", json_pack("{s:i}", "partitions", parts->cnt));
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

static void on_message(watch_kafka *k, const rd_kafka_message_t *m) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    size_t plen = strlen(k->o.prefix);
    if (strncmp(topic, k->o.prefix, plen) != 0)
        return;
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    watch_input in = {topic + plen, m->partition, m->offset, ts >= 0 ? ts : kh_now_millis(),
                      m->payload,   m->len,       m->key,    m->key_len};
    watch_model_record(k->model, &in, kh_now_millis());
}

/* High watermarks from the reader's fetch responses. */
static void sample_highs(watch_kafka *k) {
    for (size_t t = 0; t < k->o.ntopics; t++)
        for (int p = 0; p < k->assigned[t]; p++) {
            int64_t lo, hi;
            if (rd_kafka_get_watermark_offsets(k->reader, k->full[t], p, &lo, &hi) == 0 && hi >= 0)
                watch_model_high(k->model, k->o.topics[t], p, hi);
        }
}

/* The committed offsets of every group on every known partition. */
static void sample_groups(watch_kafka *k) {
    int64_t committed[WATCH_MAX_TOPICS * WATCH_MAX_PARTITIONS]; /* 4 KB */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(32);
    for (size_t t = 0; t < k->o.ntopics; t++)
        for (int p = 0; p < k->assigned[t]; p++)
            rd_kafka_topic_partition_list_add(parts, k->full[t], p);
    for (size_t g = 0; g < k->o.ngroups && g < WATCH_MAX_GROUPS; g++) {
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        rd_kafka_resp_err_t e = parts->cnt ? rd_kafka_committed(k->group[g], parts, 2000) : 0;
        for (size_t i = 0; i < sizeof committed / sizeof committed[0]; i++)
            committed[i] = -1;
        for (int i = 0; i < parts->cnt && !e; i++) {
            const rd_kafka_topic_partition_t *x = &parts->elems[i];
            for (size_t t = 0; t < k->o.ntopics; t++)
                if (strcmp(x->topic, k->full[t]) == 0 && !x->err && x->offset >= 0)
                    committed[t * WATCH_MAX_PARTITIONS + (size_t)x->partition] = x->offset;
        }
        if (e)
            kh_log_warn("cannot read committed offsets",
                        json_pack("{s:s, s:s}", "group", k->o.groups[g], "error",
                                  rd_kafka_err2str(e)));
        watch_model_committed(k->model, g, committed, e != 0, kh_now_millis());
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

void watch_kafka_poll(watch_kafka *k, int timeout_ms) {
    int64_t now = kh_now_millis();
    if (now >= k->next_metadata) {
        assign_new(k);
        k->next_metadata = now + METADATA_EVERY_MS;
    }
    int64_t until = now + timeout_ms;
    while (kh_now_millis() < until && kh_now_millis() < k->next_sample) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->reader, 100);
        if (!m)
            continue;
        if (!m->err)
            on_message(k, m);
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            kh_log_debug("consumer", json_pack("{s:s}", "error", rd_kafka_message_errstr(m)));
        rd_kafka_message_destroy(m);
    }
    if (kh_now_millis() >= k->next_sample) {
        sample_highs(k);
        sample_groups(k);
        k->next_sample = kh_now_millis() + k->o.sample_ms;
        atomic_store(&k->ready, 1);
    }
}

int watch_kafka_ready(watch_kafka *k, char *why, size_t whylen) {
    if (atomic_load(&k->ready))
        return 1;
    snprintf(why, whylen, "%s", k->why);
    return 0;
}
