/*
 * watch_kafka — the Kafka side of ketenhub-watch, read-only towards every
 * service:
 *   - one consumer reads every ketenhub topic with assigned partitions from
 *     the retained history (or from watch.history.seconds ago, found with
 *     rd_kafka_offsets_for_times); it never subscribes and never commits,
 *     so it belongs to no group and disturbs none;
 *   - per watched consumer group one more handle with that group.id that
 *     only asks for the group's committed offsets (rd_kafka_committed, an
 *     OffsetFetch); it never subscribes, so it never joins the group and
 *     never commits. This works on Apache Kafka and on the devbroker alike
 *     (the librdkafka 2.0.2 mock answers no admin requests, so the admin
 *     API's ListConsumerGroupOffsets is not used);
 *   - high watermarks from the reading consumer's fetch responses.
 * Everything it reads goes into the watch_model. One thread (the caller's)
 * drives it with watch_kafka_poll.
 */
#ifndef WATCH_KAFKA_H
#define WATCH_KAFKA_H

#include "kh_config.h"
#include "watch_model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct watch_kafka watch_kafka;

typedef struct watch_kafka_opts {
    const kh_config *config;   /* kafka.* keys */
    const char *prefix;        /* topic.prefix; copied */
    const char *const *topics; /* short names, as given to watch_model_new */
    size_t ntopics;
    const char *const *groups; /* group ids, as given to watch_model_new */
    size_t ngroups;
    int64_t history_ms; /* 0: the whole retained history */
    int64_t sample_ms;  /* how often committed offsets are sampled */
} watch_kafka_opts;

/* Returns NULL with err filled when a client cannot be made. */
watch_kafka *watch_kafka_new(const watch_kafka_opts *o, watch_model *m, char *err, size_t errlen);

/* Reads for up to timeout_ms, and samples offsets when due. */
void watch_kafka_poll(watch_kafka *k, int timeout_ms);

/* 1 once partitions are assigned and offsets were sampled; else 0 with why. */
int watch_kafka_ready(watch_kafka *k, char *why, size_t whylen);

void watch_kafka_free(watch_kafka *k);

#endif
