/*
 * test_watch_units — the aggregation of ketenhub-watch without Kafka: rates
 * and time-series rollover, the memory bound, lag in seconds, the group
 * status table, the regional counts with "< 5" and totals that give nothing
 * away, pending deliveries, operator tokens.
 */
#include "testlib.h"
#include "watch_auth.h"
#include "watch_lag.h"
#include "watch_pending.h"
#include "watch_region.h"
#include "watch_series.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1795000000000LL /* a fixed "now", 2026-11-18 */

START_TEST(rate_counts_records_per_second) {
    watch_series s;
    watch_series_init(&s, WATCH_SUM);
    int64_t now = T0 + 1000; /* inside a bucket */
    for (int b = 1; b <= 5; b++)
        for (int i = 0; i < 10; i++)
            watch_series_put(&s, now - b * WATCH_FINE_MS, 1, now);
    watch_series_put(&s, now, 100, now); /* the bucket in progress is not counted */
    ck_assert_double_eq_tol(watch_series_rate(&s, now, 5), 5.0, 1e-9);
    ck_assert_double_eq_tol(watch_series_rate(&s, now, 10), 2.5, 1e-9);
}
END_TEST

START_TEST(series_rolls_over_and_keeps_24_hours_in_minutes) {
    watch_series s;
    watch_series_init(&s, WATCH_SUM);
    static double pts[WATCH_FINE_SLOTS];
    watch_series_put(&s, T0, 3, T0);
    /* An hour later the 2-second slot of T0 is reused: the old count is gone. */
    int64_t later = T0 + (int64_t)WATCH_FINE_SLOTS * WATCH_FINE_MS;
    watch_series_put(&s, later, 1, later);
    size_t n = watch_series_points(&s, WATCH_FINE_MS, later, pts, WATCH_FINE_SLOTS);
    ck_assert_uint_eq(n, WATCH_FINE_SLOTS);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += pts[i];
    ck_assert_double_eq(sum, 1);
    /* ... but the minute buckets still have it, for 24 hours. */
    n = watch_series_points(&s, WATCH_COARSE_MS, later, pts, WATCH_COARSE_SLOTS);
    sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += pts[i];
    ck_assert_double_eq(sum, 4);
    /* A point older than 24 hours is dropped; one from the future counts now. */
    watch_series_put(&s, later - 25LL * 3600 * 1000, 50, later);
    watch_series_put(&s, later + 60000, 2, later);
    n = watch_series_points(&s, WATCH_COARSE_MS, later, pts, WATCH_COARSE_SLOTS);
    ck_assert_double_eq(pts[n - 1], 3);
    int64_t day = T0 + 24LL * 3600 * 1000 + 1800 * 1000;
    n = watch_series_points(&s, WATCH_COARSE_MS, day, pts, WATCH_COARSE_SLOTS);
    sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += pts[i];
    ck_assert_double_eq(sum, 3); /* T0's 3 have rolled out; later's 1 + 2 remain */
}
END_TEST

START_TEST(gauge_keeps_last_value_and_nan_when_empty) {
    watch_series s;
    watch_series_init(&s, WATCH_LAST);
    ck_assert(isnan(watch_series_last(&s, T0)));
    watch_series_put(&s, T0 - 10000, 7, T0);
    watch_series_put(&s, T0 - 9000, 4, T0); /* same 2 s bucket: the last wins */
    ck_assert_double_eq(watch_series_last(&s, T0), 4);
    double pts[3];
    watch_series_points(&s, WATCH_FINE_MS, T0, pts, 3);
    ck_assert(isnan(pts[2]));
}
END_TEST

START_TEST(stats_memory_is_bounded) {
    watch_stats *st = watch_stats_new(8);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "partner-%d", i);
        watch_stats_add(st, "aflevering", key, T0, 1, T0);
    }
    ck_assert_uint_le(watch_stats_count(st), 8);
    ck_assert_uint_le(watch_stats_bytes(st), 8 * sizeof(watch_series) + 4096);
    double kept = watch_stats_total(st, "aflevering", WATCH_OVERIG);
    for (int i = 0; i < 7; i++) {
        snprintf(key, sizeof key, "partner-%d", i);
        kept += watch_stats_total(st, "aflevering", key);
    }
    ck_assert_double_eq(kept, 1000); /* nothing lost: the rest is counted as "overig" */
    watch_stats_free(st);
}
END_TEST

START_TEST(lag_seconds_is_the_age_of_the_oldest_unconsumed_record) {
    static watch_offidx x;
    watch_offidx_init(&x);
    for (int i = 0; i < 100; i++)
        watch_offidx_note(&x, i, T0 + i * 1000LL); /* a record a second */
    int64_t now = T0 + 100000;
    watch_lag l = watch_lag_of(&x, 50, 100, now);
    ck_assert_int_eq(l.records, 50);
    /* record 50 was written at T0 + 50 s: 50 s old, to a 2-second bucket */
    ck_assert_int_ge(l.age_ms, 50000);
    ck_assert_int_le(l.age_ms, 50000 + WATCH_FINE_MS);
    l = watch_lag_of(&x, 100, 100, now);
    ck_assert_int_eq(l.records, 0);
    ck_assert_int_eq(l.age_ms, 0);
    l = watch_lag_of(&x, -1, 100, now);
    ck_assert_int_eq(l.records, -1);
    /* The index stays bounded however many records pass. */
    for (int i = 100; i < 100000; i++)
        watch_offidx_note(&x, i, T0 + i * 1000LL);
    ck_assert_int_eq(x.n, WATCH_OFFIDX_SLOTS);
}
END_TEST

typedef struct status_case {
    const char *name;
    int64_t committed[5], lag[5];
    int read_error, has_commits;
    int64_t age_ms;
    watch_status want;
} status_case;

START_TEST(group_status_follows_burrows_rules) {
    static const status_case cases[] = {
        {"no lag", {1, 2, 3, 4, 5}, {0, 0, 0, 0, 0}, 0, 1, 0, WATCH_OK},
        {"keeping up with some lag", {1, 3, 5, 7, 9}, {4, 3, 4, 3, 4}, 0, 1, 1000, WATCH_OK},
        {"lag growing while committing", {1, 2, 3, 4, 5}, {2, 3, 3, 5, 8}, 0, 1, 5000, WATCH_WARN},
        {"committed offset stuck with lag",
         {7, 7, 7, 7, 7},
         {1, 2, 3, 4, 5},
         0,
         1,
         10000,
         WATCH_STALL},
        {"stuck, lag constant", {7, 7, 7, 7, 7}, {3, 3, 3, 3, 3}, 0, 1, 10000, WATCH_STALL},
        {"stuck past err_ms", {7, 7, 7, 7, 7}, {3, 3, 3, 3, 3}, 0, 1, 400000, WATCH_ERR},
        {"stuck but caught up once", {7, 7, 7, 7, 7}, {3, 0, 3, 3, 3}, 0, 1, 10000, WATCH_OK},
        {"offsets unreadable", {0}, {0}, 1, 0, 0, WATCH_ERR},
        {"never committed", {0}, {0}, 0, 0, 0, WATCH_UNKNOWN},
        {"lag shrinking", {1, 5, 9, 13, 17}, {9, 7, 5, 3, 2}, 0, 1, 3000, WATCH_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const status_case *c = &cases[i];
        watch_window w;
        watch_window_init(&w, 5);
        for (int k = 0; k < 5; k++) {
            if (k == 4 && !c->has_commits)
                break;
            watch_window_add(&w, c->committed[k], c->lag[k]);
        }
        watch_status got = watch_window_status(&w, c->read_error, c->has_commits, c->age_ms,
                                               300000);
        ck_assert_msg(got == c->want, "%s: %s, want %s", c->name, watch_status_name(got),
                      watch_status_name(c->want));
    }
    /* A window that is not yet full says OK, whatever the lag. */
    watch_window w;
    watch_window_init(&w, 5);
    watch_window_add(&w, 7, 9);
    watch_window_add(&w, 7, 10);
    ck_assert_int_eq(watch_window_status(&w, 0, 1, 10000, 300000), WATCH_OK);
}
END_TEST

/* n cases of rule R for the pair a x b in March 2026, each its own cause. */
static void add_cases(watch_region *r, const char *regel, const char *a, const char *b, int n,
                      const char *jr, int *serial) {
    char cause[64];
    for (int i = 0; i < n; i++) {
        snprintf(cause, sizeof cause, "ketenhub.aanmelding.v1:0:%d", (*serial)++);
        watch_case c = {.cause = cause, .regel = regel, .peildatum = 20513 /* 2026-03-01 */};
        c.a[WATCH_PAAR_GEMEENTE] = a;
        c.b[WATCH_PAAR_GEMEENTE] = b;
        c.jeugdregio[0] = jr;
        ck_assert_int_eq(watch_region_add(r, &c), 1);
        ck_assert_int_eq(watch_region_add(r, &c), 0); /* its second melding: the same case */
    }
}

static const json_t *group_of(const json_t *t, size_t i) {
    return json_array_get(json_object_get(t, "groepen"), i);
}

START_TEST(region_shows_small_counts_as_less_than_five_and_rounds) {
    watch_region *r = watch_region_new(100, 1000);
    int serial = 0;
    add_cases(r, "ONDERWIJS_BUITEN_WOONGEMEENTE", "GM0502", "GM0599", 3, "JZ29", &serial);
    add_cases(r, "ONDERWIJS_BUITEN_WOONGEMEENTE", "GM0383", "GM0361", 17, "JZ11", &serial);
    json_t *t = watch_region_table(r, WATCH_PAAR_GEMEENTE, NULL, NULL);
    const json_t *g = group_of(t, 0), *rows = json_object_get(g, "rijen");
    ck_assert_uint_eq(json_array_size(rows), 2);
    /* ordered by codes, never by count */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "a")), "GM0383");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "aantal")), "15");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 1), "aantal")), "< 5");
    ck_assert_str_eq(json_string_value(json_object_get(g, "totaal")), "20");
    json_decref(t);
    /* the filter keeps only the rows of that jeugdregio */
    t = watch_region_table(r, WATCH_PAAR_GEMEENTE, "JZ29", NULL);
    rows = json_object_get(group_of(t, 0), "rijen");
    ck_assert_uint_eq(json_array_size(rows), 1);
    ck_assert_str_eq(json_string_value(json_object_get(group_of(t, 0), "totaal")), "< 5");
    json_decref(t);
    char *csv = watch_region_csv(r, WATCH_PAAR_GEMEENTE, NULL, NULL);
    ck_assert_ptr_nonnull(
        strstr(csv, "ONDERWIJS_BUITEN_WOONGEMEENTE,2026-03,gemeente,GM0502,GM0599,< 5\n"));
    ck_assert_ptr_nonnull(strstr(csv,
                                 "ONDERWIJS_BUITEN_WOONGEMEENTE,2026-03,gemeente,totaal,,20\n"));
    ck_assert_ptr_null(strstr(csv, ",3\n"));
    ck_assert_ptr_null(strstr(csv, ",17\n"));
    free(csv);
    watch_region_free(r);
}
END_TEST

/* From a published total T and a published cell C (both rounded down to 5)
 * of a group of two cells, the other cell x, shown "< 5", could be any of
 * 1..4: for every true count of both cells, every x in 1..4 stays
 * consistent with what is published. */
START_TEST(region_totals_never_give_a_small_cell_away) {
    for (int big = 5; big <= 60; big++)
        for (int small = 1; small <= 4; small++) {
            watch_region *r = watch_region_new(10, 1000);
            int serial = 0;
            add_cases(r, "R", "GM0001", "GM0002", big, NULL, &serial);
            add_cases(r, "R", "GM0003", "GM0004", small, NULL, &serial);
            json_t *t = watch_region_table(r, WATCH_PAAR_GEMEENTE, NULL, NULL);
            const json_t *g = group_of(t, 0);
            int total = atoi(json_string_value(json_object_get(g, "totaal")));
            int cell = atoi(json_string_value(
                json_object_get(json_array_get(json_object_get(g, "rijen"), 0), "aantal")));
            ck_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(json_object_get(g, "rijen"), 1), "aantal")),
                             "< 5");
            for (int x = 1; x <= 4; x++) {
                int consistent = 0;
                for (int c = cell; c < cell + 5; c++)
                    consistent |= (c + x) - (c + x) % 5 == total;
                ck_assert_msg(consistent, "big %d small %d: x=%d excluded by total %d and cell %d",
                              big, small, x, total, cell);
            }
            json_decref(t);
            watch_region_free(r);
        }
}
END_TEST

START_TEST(region_rows_are_bounded) {
    watch_region *r = watch_region_new(4, 100);
    int serial = 0;
    char a[8];
    for (int i = 0; i < 10; i++) {
        snprintf(a, sizeof a, "GM%04d", i);
        add_cases(r, "R", a, "GM0599", 1, NULL, &serial);
    }
    ck_assert_uint_eq(watch_region_dropped(r), 6);
    watch_region_free(r);
}
END_TEST

typedef struct pend_seen {
    size_t pending;
    int64_t oldest;
} pend_seen;

static void pend_fn(const char *partner, size_t pending, int64_t oldest, void *ud) {
    if (strcmp(partner, "GEMEENTE:GM0599") == 0)
        *(pend_seen *)ud = (pend_seen){pending, oldest};
}

START_TEST(pending_tracks_the_oldest_undelivered_melding) {
    watch_pending *p = watch_pending_new(4096);
    char id[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "m-%d", i);
        watch_pending_melding(p, id, "GEMEENTE:GM0599", T0 + i);
    }
    for (int i = 0; i < 1000; i += 2) { /* deliver the even ones, and m-1 */
        snprintf(id, sizeof id, "m-%d", i);
        watch_pending_done(p, id);
    }
    watch_pending_done(p, "m-1");
    pend_seen s = {0, 0};
    watch_pending_each(p, pend_fn, &s);
    ck_assert_uint_eq(s.pending, 499);
    ck_assert_int_eq(s.oldest, T0 + 3);
    /* an aflevering read before its melding: the melding is not pending */
    watch_pending_done(p, "early");
    watch_pending_melding(p, "early", "GEMEENTE:GM0599", T0 - 5);
    watch_pending_each(p, pend_fn, &s);
    ck_assert_uint_eq(s.pending, 499);
    ck_assert_int_eq(s.oldest, T0 + 3);
    watch_pending_free(p);
}
END_TEST

START_TEST(operator_tokens_are_checked_against_their_hash) {
    char path[] = "/tmp/kh-watch-ops-XXXXXX";
    int fd = mkstemp(path);
    /* sha256("s3cret-token") */
    const char *text = "{\"operators\": [{\"name\": \"j.jansen\", \"token_sha256\": "
                       "\"a81e611a041b13f078bf8ebe5dab4d4fd63fcc5594661c918bec093a2f416a7e\"}]}";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    watch_auth a;
    char err[256];
    ck_assert_int_eq(watch_auth_load(&a, path, err, sizeof err), 0);
    const watch_operator *op = watch_auth_check(&a, "Bearer s3cret-token");
    ck_assert_ptr_nonnull(op);
    ck_assert_str_eq(op->name, "j.jansen");
    ck_assert_ptr_nonnull(watch_auth_check(&a, "Basic ai5qYW5zZW46czNjcmV0LXRva2Vu"));
    ck_assert_ptr_null(watch_auth_check(&a, "Basic c29tZW9uZTpzM2NyZXQtdG9rZW4="));
    ck_assert_ptr_null(watch_auth_check(&a, "Bearer wrong"));
    ck_assert_ptr_null(watch_auth_check(&a, NULL));
    ck_assert_ptr_null(watch_auth_check(&a, "Basic !!!"));
    unlink(path);
    FILE *f = fopen(path, "w");
    fputs("{\"operators\": [{\"name\": \"x\", \"token_sha256\": \"ABC\"}]}", f);
    fclose(f);
    ck_assert_int_eq(watch_auth_load(&a, path, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "operators[0].token_sha256"));
    unlink(path);
    ck_assert(watch_auth_is_loopback("127.0.0.1:8090"));
    ck_assert(!watch_auth_is_loopback("0.0.0.0:8090"));
    ck_assert(!watch_auth_is_loopback("10.1.2.3:8090"));
}
END_TEST

int main(void) {
    Suite *s = suite_create("watch_units");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rate_counts_records_per_second);
    tcase_add_test(tc, series_rolls_over_and_keeps_24_hours_in_minutes);
    tcase_add_test(tc, gauge_keeps_last_value_and_nan_when_empty);
    tcase_add_test(tc, stats_memory_is_bounded);
    tcase_add_test(tc, lag_seconds_is_the_age_of_the_oldest_unconsumed_record);
    tcase_add_test(tc, group_status_follows_burrows_rules);
    tcase_add_test(tc, region_shows_small_counts_as_less_than_five_and_rounds);
    tcase_add_test(tc, region_totals_never_give_a_small_cell_away);
    tcase_add_test(tc, region_rows_are_bounded);
    tcase_add_test(tc, pending_tracks_the_oldest_undelivered_melding);
    tcase_add_test(tc, operator_tokens_are_checked_against_their_hash);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
