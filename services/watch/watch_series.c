/*
 * watch_series — the two-resolution ring time series and the bounded
 * registry of series by family and key (see watch_series.h).
 */
#include "watch_series.h"

#include "kh_alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 96

static int64_t bucket_of(int64_t ts_ms, int64_t step_ms) {
    return ts_ms >= 0 ? ts_ms / step_ms : (ts_ms - step_ms + 1) / step_ms;
}

void watch_series_init(watch_series *s, watch_kind kind) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    for (size_t i = 0; i < WATCH_FINE_SLOTS; i++)
        s->fine_at[i] = -1;
    for (size_t i = 0; i < WATCH_COARSE_SLOTS; i++)
        s->coarse_at[i] = -1;
}

/* Puts v into the ring slot of bucket b, resetting the slot when it held an
 * older bucket. */
static void ring_put(int32_t *at, float *val, size_t slots, int64_t b, watch_kind kind, double v) {
    size_t i = (size_t)(b % (int64_t)slots);
    if (at[i] != (int32_t)b) {
        at[i] = (int32_t)b;
        val[i] = 0;
    }
    val[i] = kind == WATCH_SUM ? val[i] + (float)v : (float)v;
}

void watch_series_put(watch_series *s, int64_t ts_ms, double v, int64_t now_ms) {
    if (ts_ms > now_ms)
        ts_ms = now_ms;
    int64_t fine = bucket_of(ts_ms, WATCH_FINE_MS), coarse = bucket_of(ts_ms, WATCH_COARSE_MS);
    if (ts_ms < 0 || coarse <= bucket_of(now_ms, WATCH_COARSE_MS) - WATCH_COARSE_SLOTS)
        return;
    if (fine > bucket_of(now_ms, WATCH_FINE_MS) - WATCH_FINE_SLOTS)
        ring_put(s->fine_at, s->fine, WATCH_FINE_SLOTS, fine, s->kind, v);
    ring_put(s->coarse_at, s->coarse, WATCH_COARSE_SLOTS, coarse, s->kind, v);
}

size_t watch_series_points(const watch_series *s, int64_t step_ms, int64_t now_ms, double *out,
                           size_t n) {
    int fine = step_ms == WATCH_FINE_MS;
    size_t slots = fine ? WATCH_FINE_SLOTS : WATCH_COARSE_SLOTS;
    const int32_t *at = fine ? s->fine_at : s->coarse_at;
    const float *val = fine ? s->fine : s->coarse;
    if (n > slots)
        n = slots;
    int64_t last = bucket_of(now_ms, fine ? WATCH_FINE_MS : WATCH_COARSE_MS);
    for (size_t k = 0; k < n; k++) {
        int64_t b = last - (int64_t)(n - 1 - k);
        size_t i = (size_t)(b % (int64_t)slots);
        out[k] = b >= 0 && at[i] == (int32_t)b ? val[i] : s->kind == WATCH_SUM ? 0 : NAN;
    }
    return n;
}

double watch_series_rate(const watch_series *s, int64_t now_ms, int buckets) {
    double pts[WATCH_FINE_SLOTS], sum = 0;
    if (buckets < 1)
        buckets = 1;
    size_t n = watch_series_points(s, WATCH_FINE_MS, now_ms - WATCH_FINE_MS, pts, (size_t)buckets);
    for (size_t i = 0; i < n; i++)
        sum += pts[i];
    return sum / ((double)n * WATCH_FINE_MS / 1000.0);
}

double watch_series_last(const watch_series *s, int64_t now_ms) {
    double pts[WATCH_FINE_SLOTS];
    size_t n = watch_series_points(s, WATCH_FINE_MS, now_ms, pts, WATCH_FINE_SLOTS);
    for (size_t i = n; i-- > 0;)
        if (!isnan(pts[i]))
            return pts[i];
    return NAN;
}

/* ---- the registry ----------------------------------------------------------- */

typedef struct entry {
    char family[NAME_LEN], key[NAME_LEN];
    double total;
    watch_series *series;
} entry;

struct watch_stats {
    size_t max, count, slots; /* slots: the hash index, a power of two > 2 * max */
    entry *entries;           /* in order of first use */
    size_t *index;            /* entry number + 1, 0 when free */
};

watch_stats *watch_stats_new(size_t max_series) {
    watch_stats *st = kh_calloc(1, sizeof *st);
    st->max = max_series < 2 ? 2 : max_series;
    for (st->slots = 16; st->slots < 2 * st->max; st->slots *= 2)
        ;
    st->entries = kh_calloc(st->max, sizeof *st->entries);
    st->index = kh_calloc(st->slots, sizeof *st->index);
    return st;
}

void watch_stats_free(watch_stats *st) {
    if (!st)
        return;
    for (size_t i = 0; i < st->count; i++)
        free(st->entries[i].series);
    free(st->entries);
    free(st->index);
    free(st);
}

static size_t hash(const char *family, const char *key) {
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = family; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '/') * 1099511628211ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)h;
}

/* The index slot of family/key: holding it, or the free slot where it goes. */
static size_t *slot_of(const watch_stats *st, const char *family, const char *key) {
    for (size_t i = hash(family, key) & (st->slots - 1);; i = (i + 1) & (st->slots - 1)) {
        size_t e = st->index[i];
        if (!e || (strcmp(st->entries[e - 1].family, family) == 0 &&
                   strcmp(st->entries[e - 1].key, key) == 0))
            return &st->index[i];
    }
}

/* The entry of family/key, made when there is room. The last free entry is
 * kept for family/"overig" so a family always has somewhere to count. */
static entry *entry_of(watch_stats *st, const char *family, const char *key, watch_kind kind) {
    size_t *slot = slot_of(st, family, key);
    if (*slot)
        return &st->entries[*slot - 1];
    int overig = strcmp(key, WATCH_OVERIG) == 0;
    if (st->count + (overig ? 0 : 1) >= st->max)
        return overig ? NULL : entry_of(st, family, WATCH_OVERIG, kind);
    entry *e = &st->entries[st->count++];
    snprintf(e->family, sizeof e->family, "%s", family);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->series = kh_malloc(sizeof *e->series);
    watch_series_init(e->series, kind);
    *slot = st->count;
    return e;
}

void watch_stats_add(watch_stats *st, const char *family, const char *key, int64_t ts_ms, double v,
                     int64_t now_ms) {
    entry *e = entry_of(st, family, key, WATCH_SUM);
    if (!e)
        return;
    e->total += v;
    watch_series_put(e->series, ts_ms, v, now_ms);
}

void watch_stats_set(watch_stats *st, const char *family, const char *key, int64_t ts_ms, double v,
                     int64_t now_ms) {
    entry *e = entry_of(st, family, key, WATCH_LAST);
    if (!e)
        return;
    e->total = v;
    watch_series_put(e->series, ts_ms, v, now_ms);
}

const watch_series *watch_stats_get(const watch_stats *st, const char *family, const char *key) {
    size_t *slot = slot_of(st, family, key);
    return *slot ? st->entries[*slot - 1].series : NULL;
}

double watch_stats_total(const watch_stats *st, const char *family, const char *key) {
    size_t *slot = slot_of(st, family, key);
    return *slot ? st->entries[*slot - 1].total : 0;
}

void watch_stats_each(const watch_stats *st, const char *family, watch_stats_fn fn, void *ud) {
    for (size_t i = 0; i < st->count; i++)
        if (strcmp(st->entries[i].family, family) == 0)
            fn(st->entries[i].key, st->entries[i].series, st->entries[i].total, ud);
}

size_t watch_stats_count(const watch_stats *st) { return st->count; }

size_t watch_stats_bytes(const watch_stats *st) {
    return sizeof *st + st->max * sizeof *st->entries + st->slots * sizeof *st->index +
           st->count * sizeof(watch_series);
}
