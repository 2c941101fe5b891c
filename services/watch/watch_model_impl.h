/*
 * watch_model_impl — the inside of watch_model, shared by its two files:
 * watch_model.c (what records and offsets do to it) and watch_view.c (the
 * JSON views). Not for other modules.
 */
#ifndef WATCH_MODEL_IMPL_H
#define WATCH_MODEL_IMPL_H

#include "watch_lag.h"
#include "watch_model.h"
#include "watch_pending.h"
#include "watch_region.h"
#include "watch_series.h"
#include "watch_termijn.h"

#include <pthread.h>

typedef struct watch_partition {
    int64_t high;
    watch_offidx idx;
} watch_partition;

typedef struct watch_topic {
    char name[64];
    int npart;
    watch_partition *parts[WATCH_MAX_PARTITIONS];
} watch_topic;

typedef struct watch_group {
    char service[32], group[128];
    int64_t committed[WATCH_MAX_TOPICS][WATCH_MAX_PARTITIONS];
    int read_error, sampled;
    int64_t last_sum[WATCH_MAX_TOPICS];
    watch_window window;
    watch_status status;
} watch_group;

typedef struct watch_dl {
    int32_t partition;
    int64_t offset, failed_at, redriven_at;
    char reason[32], service[32], partner[32], origin[96], redriven_by[64];
} watch_dl;

struct watch_model {
    pthread_mutex_t lock;
    watch_limits lim;
    const kh_schemas *schemas;
    const kh_ref *ref;
    watch_stats *stats;
    watch_region *region;
    watch_pending *pending;
    watch_termijn *termijn;
    size_t ntopics, ngroups;
    watch_topic topics[WATCH_MAX_TOPICS];
    watch_group groups[WATCH_MAX_GROUPS];
    watch_dl dls[WATCH_DEADLETTERS_KEPT];
    size_t ndl, dlhead;
    uint64_t undecodable;
};

/* The topic index of a short name; -1 when not read. */
int watch_model_topic_index(const watch_model *m, const char *topic);

/* The lag of group g on topic t, partition p (records -1: no commit). */
watch_lag watch_model_lag(const watch_model *m, const watch_group *g, size_t t, int p,
                          int64_t now_ms);

#endif
