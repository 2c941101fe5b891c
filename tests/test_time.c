/*
 * test_time — calendar arithmetic and the JSON forms of dates and timestamps.
 */
#include "kh_time.h"
#include "testlib.h"

#include <check.h>
#include <stdlib.h>

START_TEST(date_round_trips_over_four_centuries) {
    char buf[KH_DATE_LEN];
    int32_t start = kh_date_from_ymd(1900, 1, 1), end = kh_date_from_ymd(2300, 1, 1);
    for (int32_t d = start; d < end; d++) {
        int32_t back;
        ck_assert_int_eq(kh_date_parse(kh_date_format(d, buf), &back), 0);
        ck_assert_int_eq(back, d);
    }
    ck_assert_int_eq(kh_date_from_ymd(1970, 1, 1), 0);
    ck_assert_int_eq(kh_date_from_ymd(2000, 3, 1), 11017);
}
END_TEST

START_TEST(date_rejects_non_dates) {
    int32_t d;
    const char *bad[] = {"2023-02-29", "2024-13-01", "2024-00-10",  "2024-04-31", "24-01-01",
                         "2024-1-01",  "2024/01/01", "2024-01-01T", "",           "abcd-ef-gh"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(kh_date_parse(bad[i], &d) == -1, "%s accepted", bad[i]);
    ck_assert_int_eq(kh_date_parse("2024-02-29", &d), 0);
}
END_TEST

START_TEST(timestamps_parse_offsets_and_fractions) {
    int64_t ms;
    char buf[KH_TS_LEN];
    ck_assert_int_eq(kh_ts_parse("2026-03-01T08:30:00Z", &ms), 0);
    ck_assert_str_eq(kh_ts_format(ms, buf), "2026-03-01T08:30:00Z");
    ck_assert_int_eq(kh_ts_parse("2026-03-01T09:30:00.25+01:00", &ms), 0);
    ck_assert_str_eq(kh_ts_format(ms, buf), "2026-03-01T08:30:00.250Z");
    ck_assert_int_eq(kh_ts_parse("2026-03-01T00:30:00-02:00", &ms), 0);
    ck_assert_str_eq(kh_ts_format(ms, buf), "2026-03-01T02:30:00Z");
    ck_assert_int_eq(kh_ts_parse("1969-12-31T23:59:59.999Z", &ms), 0);
    ck_assert_int_eq(ms, -1);
    ck_assert_str_eq(kh_ts_format(ms, buf), "1969-12-31T23:59:59.999Z");
    ck_assert_int_eq(kh_ts_to_date(-1), -1);
}
END_TEST

START_TEST(timestamps_reject_malformed) {
    int64_t ms;
    const char *bad[] = {"2026-03-01 08:30:00Z",     "2026-03-01T08:30:00",
                         "2026-03-01T24:00:00Z",     "2026-03-01T08:30:00.Z",
                         "2026-03-01T08:30:00+0100", "2026-03-01",
                         "2026-03-01T08:30:00Zjunk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(kh_ts_parse(bad[i], &ms) == -1, "%s accepted", bad[i]);
}
END_TEST

START_TEST(age_counts_birthdays) {
    int32_t birth = kh_date_from_ymd(2003, 6, 15);
    ck_assert_int_eq(kh_age_years(birth, kh_date_from_ymd(2026, 6, 14)), 22);
    ck_assert_int_eq(kh_age_years(birth, kh_date_from_ymd(2026, 6, 15)), 23);
    ck_assert_int_eq(kh_age_years(birth, kh_date_from_ymd(2027, 6, 15)), 24);
    ck_assert_int_eq(kh_age_years(birth, kh_date_from_ymd(2003, 6, 14)), -1);
}
END_TEST

int main(void) {
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("time");
    tcase_add_test(tc, date_round_trips_over_four_centuries);
    tcase_add_test(tc, date_rejects_non_dates);
    tcase_add_test(tc, timestamps_parse_offsets_and_fractions);
    tcase_add_test(tc, timestamps_reject_malformed);
    tcase_add_test(tc, age_counts_birthdays);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
