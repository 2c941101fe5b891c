/*
 * watch_lag — consumer lag the way operators read it: in records (high
 * watermark minus committed offset) and in seconds (the age of the oldest
 * record not yet consumed), and a status per consumer group after Burrow's
 * evaluation rules, over a sliding window of samples.
 *
 * The age needs the timestamp of the record at the committed offset. The
 * watch reads every partition anyway, so watch_offidx keeps per partition
 * one (offset, timestamp) point per 2-second bucket of timestamps, at most
 * WATCH_OFFIDX_SLOTS of them (an hour of steady traffic): the age it gives
 * is at most one bucket younger than the truth.
 *
 * Status of a group, from its last `window` samples of summed committed
 * offsets and lag:
 *   ERR      the committed offsets could not be read, or the group has
 *            stalled with its oldest unconsumed record older than err_ms
 *   STALL    lag > 0 in every sample and the committed offset never moved
 *   WARN     lag > 0 in every sample and growing: never falling, and the
 *            last sample above the first
 *   OK       otherwise (also while the window is not yet full)
 *   UNKNOWN  no committed offset at all (a group that never committed; on
 *            the devbroker also a transactional one, see the README)
 * Pure and unsynchronised.
 */
#ifndef WATCH_LAG_H
#define WATCH_LAG_H

#include <stdint.h>

#define WATCH_OFFIDX_SLOTS 1800
#define WATCH_LAG_WINDOW_MAX 64

typedef struct watch_offidx {
    int n, head; /* entries held; the next slot to write */
    int64_t off[WATCH_OFFIDX_SLOTS], ts[WATCH_OFFIDX_SLOTS];
} watch_offidx;

void watch_offidx_init(watch_offidx *x);

/* Notes the record at offset with timestamp ts_ms (offsets come in
 * increasing order per partition); keeps a point only when its 2-second
 * bucket differs from the last kept. */
void watch_offidx_note(watch_offidx *x, int64_t offset, int64_t ts_ms);

/* The timestamp of the record at offset, to a bucket: the point with the
 * largest offset <= offset (the oldest point when offset is older than all
 * of them). -1 when nothing was noted. */
int64_t watch_offidx_ts_at(const watch_offidx *x, int64_t offset);

/* Lag of one partition: records and milliseconds. committed < 0 means
 * none; then both are -1. */
typedef struct watch_lag {
    int64_t records, age_ms;
} watch_lag;

watch_lag watch_lag_of(const watch_offidx *x, int64_t committed, int64_t high, int64_t now_ms);

typedef enum watch_status {
    WATCH_OK,
    WATCH_WARN,
    WATCH_STALL,
    WATCH_ERR,
    WATCH_UNKNOWN
} watch_status;

/* "OK", "WARN", "STALL", "ERR", "UNKNOWN". */
const char *watch_status_name(watch_status s);

typedef struct watch_window {
    int size, n, head;
    int64_t committed[WATCH_LAG_WINDOW_MAX], lag[WATCH_LAG_WINDOW_MAX];
} watch_window;

/* size: samples evaluated (2..WATCH_LAG_WINDOW_MAX, clamped). */
void watch_window_init(watch_window *w, int size);

/* One sample: the group's committed offsets and lags summed over its
 * partitions. */
void watch_window_add(watch_window *w, int64_t committed, int64_t lag);

/* The status after the rules above. read_error: the last read of the
 * committed offsets failed; has_commits: any partition has a committed
 * offset; oldest_age_ms: the largest lag in ms over the group's partitions. */
watch_status watch_window_status(const watch_window *w, int read_error, int has_commits,
                                 int64_t oldest_age_ms, int64_t err_ms);

#endif
