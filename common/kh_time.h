/*
 * kh_time — calendar dates and timestamps as ketenhub stores them.
 *
 * Dates are Avro `date`: days since 1970-01-01 (int32). Timestamps are Avro
 * `timestamp-millis`: milliseconds since the epoch, UTC (int64). The natural
 * JSON forms are `YYYY-MM-DD` and RFC 3339 (`2026-03-01T08:30:00Z`,
 * `2026-03-01T09:30:00.250+01:00`). Everything here is pure and thread-safe.
 */
#ifndef KH_TIME_H
#define KH_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Buffer sizes that always fit the formatted forms, terminator included. */
#define KH_DATE_LEN 11
#define KH_TS_LEN 30

/* Days since 1970-01-01 for a proleptic Gregorian date; no range check. */
int32_t kh_date_from_ymd(int year, int month, int day);

/* The calendar date of a day number. */
void kh_date_to_ymd(int32_t days, int *year, int *month, int *day);

/* Parses exactly `YYYY-MM-DD` (a real calendar date). Returns 0 or -1. */
int kh_date_parse(const char *s, int32_t *days);

/* Writes `YYYY-MM-DD` into buf (at least KH_DATE_LEN bytes). Returns buf. */
char *kh_date_format(int32_t days, char *buf);

/* Parses an RFC 3339 date-time with `Z` or a numeric offset and an optional
 * fraction (milliseconds kept, finer digits must be zero-free of meaning and
 * are truncated). Returns 0 or -1. */
int kh_ts_parse(const char *s, int64_t *millis);

/* Writes the canonical UTC form: `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` before
 * the `Z` only when the milliseconds are not zero. buf >= KH_TS_LEN. */
char *kh_ts_format(int64_t millis, char *buf);

/* The timestamp's UTC calendar day. */
int32_t kh_ts_to_date(int64_t millis);

/* Wall-clock now in milliseconds, and today's UTC date. */
int64_t kh_now_millis(void);
int32_t kh_today(void);

/* Whole years between birth and `on` (age on a date), as a birthday counts. */
int kh_age_years(int32_t birth, int32_t on);

#endif
