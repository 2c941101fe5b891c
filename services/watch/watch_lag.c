/*
 * watch_lag — lag in records and seconds, and the Burrow-like group status
 * (see watch_lag.h).
 */
#include "watch_lag.h"

#include "watch_series.h"

#include <string.h>

void watch_offidx_init(watch_offidx *x) { memset(x, 0, sizeof *x); }

static int at(const watch_offidx *x, int k) {
    /* k-th oldest entry's slot */
    return (x->head - x->n + k + WATCH_OFFIDX_SLOTS) % WATCH_OFFIDX_SLOTS;
}

void watch_offidx_note(watch_offidx *x, int64_t offset, int64_t ts_ms) {
    if (x->n > 0) {
        int last = at(x, x->n - 1);
        if (offset <= x->off[last] || ts_ms / WATCH_FINE_MS == x->ts[last] / WATCH_FINE_MS)
            return;
    }
    x->off[x->head] = offset;
    x->ts[x->head] = ts_ms;
    x->head = (x->head + 1) % WATCH_OFFIDX_SLOTS;
    if (x->n < WATCH_OFFIDX_SLOTS)
        x->n++;
}

int64_t watch_offidx_ts_at(const watch_offidx *x, int64_t offset) {
    if (x->n == 0)
        return -1;
    int lo = 0, hi = x->n - 1; /* binary search for the last point with off <= offset */
    if (x->off[at(x, 0)] > offset)
        return x->ts[at(x, 0)];
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (x->off[at(x, mid)] <= offset)
            lo = mid;
        else
            hi = mid - 1;
    }
    return x->ts[at(x, lo)];
}

watch_lag watch_lag_of(const watch_offidx *x, int64_t committed, int64_t high, int64_t now_ms) {
    watch_lag l = {-1, -1};
    if (committed < 0)
        return l;
    l.records = high > committed ? high - committed : 0;
    l.age_ms = 0;
    if (l.records > 0) {
        int64_t ts = watch_offidx_ts_at(x, committed);
        l.age_ms = ts >= 0 && now_ms > ts ? now_ms - ts : 0;
    }
    return l;
}

const char *watch_status_name(watch_status s) {
    static const char *const names[] = {"OK", "WARN", "STALL", "ERR", "UNKNOWN"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "UNKNOWN";
}

void watch_window_init(watch_window *w, int size) {
    memset(w, 0, sizeof *w);
    w->size = size < 2 ? 2 : size > WATCH_LAG_WINDOW_MAX ? WATCH_LAG_WINDOW_MAX : size;
}

void watch_window_add(watch_window *w, int64_t committed, int64_t lag) {
    w->committed[w->head] = committed;
    w->lag[w->head] = lag;
    w->head = (w->head + 1) % w->size;
    if (w->n < w->size)
        w->n++;
}

/* The k-th oldest sample's slot. */
static int sample(const watch_window *w, int k) { return (w->head - w->n + k + w->size) % w->size; }

watch_status watch_window_status(const watch_window *w, int read_error, int has_commits,
                                 int64_t oldest_age_ms, int64_t err_ms) {
    if (read_error)
        return WATCH_ERR;
    if (!has_commits)
        return WATCH_UNKNOWN;
    if (w->n < w->size || w->lag[sample(w, w->n - 1)] == 0)
        return WATCH_OK;
    int growing = 1;
    for (int k = 0; k < w->n; k++) {
        if (w->lag[sample(w, k)] <= 0)
            return WATCH_OK;
        if (k > 0 && w->lag[sample(w, k)] < w->lag[sample(w, k - 1)])
            growing = 0;
    }
    if (w->committed[sample(w, 0)] == w->committed[sample(w, w->n - 1)])
        return oldest_age_ms > err_ms ? WATCH_ERR : WATCH_STALL;
    return growing && w->lag[sample(w, w->n - 1)] > w->lag[sample(w, 0)] ? WATCH_WARN : WATCH_OK;
}
