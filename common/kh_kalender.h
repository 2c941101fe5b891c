/*
 * kh_kalender — the calendar deadlines are counted in: the date in
 * Europe/Amsterdam, working days (not a Saturday, Sunday or algemeen erkende
 * feestdag) and month arithmetic.
 *
 * The feestdagen come from a dated table in the reference data,
 * `feestdagen.csv` (see deploy/reference/README.md): one row per day that
 * the Algemene termijnenwet (art. 3 lid 1 and 2) names. A date outside the
 * years the table covers counts as a working day when it is a weekday;
 * kh_kalender_covers() tells the caller whether it is inside.
 *
 * The Amsterdam date follows the EU summer-time rule (CET, UTC+1; CEST,
 * UTC+2 from the last Sunday of March 01:00 UTC to the last Sunday of
 * October 01:00 UTC), which holds since 1996; no tz database is read, so
 * the answer does not depend on the machine's TZ.
 *
 * A loaded kh_kalender is immutable and may be read from any thread.
 */
#ifndef KH_KALENDER_H
#define KH_KALENDER_H

#include <stddef.h>
#include <stdint.h>

#define KH_KALENDER_FILE "feestdagen.csv"

typedef struct kh_kalender kh_kalender;

/* Loads dir/feestdagen.csv. Returns 0, or -1 with "file:line: problem" in
 * err. The caller owns *out (kh_kalender_free). */
int kh_kalender_load(const char *dir, kh_kalender **out, char *err, size_t errlen);

/* A kalender with exactly the n given feestdagen (days since 1970-01-01,
 * any order), for tests and tools. NULL when out of memory. */
kh_kalender *kh_kalender_new(const int32_t *feestdagen, size_t n);
void kh_kalender_free(kh_kalender *k);

/* 1 when day is a feestdag in the table, else 0. */
int kh_kalender_feestdag(const kh_kalender *k, int32_t day);

/* 1 when day is not a Saturday, Sunday or feestdag. */
int kh_kalender_werkdag(const kh_kalender *k, int32_t day);

/* The n-th working day after day (n >= 1): day + 5 werkdagen. */
int32_t kh_kalender_werkdagen_na(const kh_kalender *k, int32_t day, int n);

/* day itself when it is a working day, else the next working day (how the
 * Algemene termijnenwet art. 1 extends a term ending on a non-working day). */
int32_t kh_kalender_werkdag_vanaf(const kh_kalender *k, int32_t day);

/* 1 when the table has rows in day's calendar year. */
int kh_kalender_covers(const kh_kalender *k, int32_t day);

/* The calendar date in Europe/Amsterdam of a UTC timestamp in milliseconds. */
int32_t kh_kalender_amsterdam_date(int64_t millis);

/* day plus months calendar months (negative: minus); a day that does not
 * exist in the target month becomes its last day (31 May - 3 months =
 * 28 or 29 February). */
int32_t kh_kalender_plus_maanden(int32_t day, int months);

/* 0 = Monday ... 6 = Sunday. */
int kh_kalender_weekdag(int32_t day);

#endif
