/*
 * lookup — a backward search of one partition for an event's record.
 */
#include "lookup.h"

#include "kh_kafka.h"
#include "kh_time.h"

#include <stdio.h>
#include <string.h>

/* Records are looked at back to this long before the first write: clocks
 * of producers and brokers differ, and records of several producers
 * interleave. */
#define MARGIN_MS 60000
/* The first span read back from the high watermark; each next is 4 times
 * the one before. */
#define FIRST_SPAN 64

typedef struct search {
    rd_kafka_t *rk;
    const char *topic, *event_id, *bron;
    int32_t partition;
    int64_t since_ms, deadline_ms;
    int64_t found, oldest_ts; /* found: -1 until found; oldest_ts: of the span's first record */
} search;

static int matches(rd_kafka_message_t *m, const search *s) {
    char id[40], bron[40];
    return kh_kafka_header_get(m, "event-id", id, sizeof id) == 0 && strcmp(id, s->event_id) == 0 &&
           kh_kafka_header_get(m, "bron", bron, sizeof bron) == 0 && strcmp(bron, s->bron) == 0;
}

/* Reads [from, to). 0 when read whole (or found), -1 at the deadline or on
 * an error (err). */
static int read_span(search *s, int64_t from, int64_t to, char *err, size_t errlen) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, s->topic, s->partition)->offset = from;
    rd_kafka_resp_err_t e = rd_kafka_assign(s->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e) {
        snprintf(err, errlen, "cannot read the partition: %s", rd_kafka_err2str(e));
        return -1;
    }
    s->oldest_ts = INT64_MAX;
    for (int64_t next = from; next < to && s->found < 0;) {
        int64_t left = s->deadline_ms - kh_now_millis();
        if (left <= 0) {
            snprintf(err, errlen, "the partition was not read within the time allowed");
            return -1;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, left < 100 ? (int)left : 100);
        if (!m)
            continue;
        if (!m->err && m->offset >= next && m->offset < to) {
            rd_kafka_timestamp_type_t type;
            int64_t ts = rd_kafka_message_timestamp(m, &type);
            if (ts < s->oldest_ts)
                s->oldest_ts = ts;
            if (matches(m, s))
                s->found = m->offset;
            next = m->offset + 1;
        } else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            snprintf(err, errlen, "cannot read the partition: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return -1;
        }
        rd_kafka_message_destroy(m);
    }
    return 0;
}

/* Reads back span by span; 0 when decided (s->found), -1 when not. */
static int search_back(search *s, char *err, size_t errlen) {
    int64_t low, high;
    int left = (int)(s->deadline_ms - kh_now_millis());
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(s->rk, s->topic, s->partition, &low,
                                                             &high, left > 0 ? left : 1);
    if (e) {
        snprintf(err, errlen, "cannot read the partition's offsets: %s", rd_kafka_err2str(e));
        return -1;
    }
    for (int64_t span = FIRST_SPAN, to = high; to > low && s->found < 0; span *= 4) {
        int64_t from = to - span > low ? to - span : low;
        if (read_span(s, from, to, err, errlen))
            return -1;
        if (s->oldest_ts < s->since_ms - MARGIN_MS)
            break;
        to = from;
    }
    return 0;
}

ingest_lookup_result ingest_lookup_find(const kh_config *c, const char *topic, int32_t partition,
                                        int64_t sent_ms, const char *event_id, const char *bron,
                                        int timeout_ms, int64_t *offset, char *err, size_t errlen) {
    search s = {.topic = topic,
                .event_id = event_id,
                .bron = bron,
                .partition = partition,
                .since_ms = sent_ms,
                .deadline_ms = kh_now_millis() + timeout_ms,
                .found = -1};
    /* A group id is required by kh_kafka_consumer_new; the search only
     * assigns and never commits, so it joins no group. */
    s.rk = kh_kafka_consumer_new(c, "ketenhub-ingest-lookup", NULL, NULL, err, errlen);
    if (!s.rk)
        return INGEST_LOOKUP_UNKNOWN;
    int rc = search_back(&s, err, errlen);
    rd_kafka_destroy_flags(s.rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    if (rc)
        return INGEST_LOOKUP_UNKNOWN;
    *offset = s.found;
    return s.found >= 0 ? INGEST_LOOKUP_FOUND : INGEST_LOOKUP_ABSENT;
}
