/*
 * watch_series — one time series in bounded memory: 2-second buckets for the
 * last hour and 1-minute buckets for the last 24 hours, each a ring indexed
 * by time, so a slot is reused (and reset) when its time comes round again.
 * A series either sums what is added in a bucket (records, dead letters:
 * rates) or keeps the last value set in it (lag: a gauge).
 *
 * watch_stats keeps many series by family and key ("topic" /
 * "ketenhub.tlv.v1") with totals since the start, up to a fixed number of
 * series: past it, new keys of a family share that family's key "overig", so
 * memory never grows with the data.
 *
 * Pure and unsynchronised: the caller serialises access (ketenhub-watch
 * holds one lock around its model).
 */
#ifndef WATCH_SERIES_H
#define WATCH_SERIES_H

#include <stddef.h>
#include <stdint.h>

#define WATCH_FINE_MS 2000
#define WATCH_FINE_SLOTS 1800 /* one hour */
#define WATCH_COARSE_MS 60000
#define WATCH_COARSE_SLOTS 1440 /* 24 hours */

/* The key every family falls back on once watch_stats is full. */
#define WATCH_OVERIG "overig"

typedef enum watch_kind { WATCH_SUM, WATCH_LAST } watch_kind;

typedef struct watch_series {
    watch_kind kind;
    int32_t fine_at[WATCH_FINE_SLOTS]; /* bucket number (ms / WATCH_FINE_MS) held by the slot */
    float fine[WATCH_FINE_SLOTS];
    int32_t coarse_at[WATCH_COARSE_SLOTS];
    float coarse[WATCH_COARSE_SLOTS];
} watch_series;

void watch_series_init(watch_series *s, watch_kind kind);

/* Adds (WATCH_SUM) or sets (WATCH_LAST) v at time ts_ms. A point more than
 * 24 hours before now_ms is dropped; one more than an hour old only reaches
 * the minute buckets; one after now_ms counts as now_ms. */
void watch_series_put(watch_series *s, int64_t ts_ms, double v, int64_t now_ms);

/* The last n buckets of resolution step_ms (WATCH_FINE_MS or
 * WATCH_COARSE_MS) up to and including the one holding now_ms, oldest
 * first, into out[n]. An empty bucket is 0 for a sum and NAN for a gauge.
 * n is capped at the ring's length; returns the number written. */
size_t watch_series_points(const watch_series *s, int64_t step_ms, int64_t now_ms, double *out,
                           size_t n);

/* Records per second over the last `buckets` complete 2-second buckets
 * before the one holding now_ms (a sum series). */
double watch_series_rate(const watch_series *s, int64_t now_ms, int buckets);

/* The newest value of a gauge within the last hour; NAN when none. */
double watch_series_last(const watch_series *s, int64_t now_ms);

typedef struct watch_stats watch_stats;

/* A registry for at most max_series series (at least 2); series are
 * allocated on first use. Allocation failure aborts (kh_alloc). */
watch_stats *watch_stats_new(size_t max_series);
void watch_stats_free(watch_stats *st);

/* Adds v at ts_ms to family/key (made as a sum series on first use; past
 * the limit: family/"overig"), and v to its total. */
void watch_stats_add(watch_stats *st, const char *family, const char *key, int64_t ts_ms, double v,
                     int64_t now_ms);

/* Sets the gauge family/key to v at ts_ms (made as a gauge on first use). */
void watch_stats_set(watch_stats *st, const char *family, const char *key, int64_t ts_ms, double v,
                     int64_t now_ms);

/* The series of family/key, or NULL; valid until st is freed. */
const watch_series *watch_stats_get(const watch_stats *st, const char *family, const char *key);

/* The total added to family/key since the start (0 when unknown). */
double watch_stats_total(const watch_stats *st, const char *family, const char *key);

/* Calls fn for every series of family in the order first seen. */
typedef void (*watch_stats_fn)(const char *key, const watch_series *s, double total, void *ud);
void watch_stats_each(const watch_stats *st, const char *family, watch_stats_fn fn, void *ud);

/* The number of series, and the bytes the registry holds: never more than
 * max_series * sizeof(watch_series) plus its index. */
size_t watch_stats_count(const watch_stats *st);
size_t watch_stats_bytes(const watch_stats *st);

#endif
