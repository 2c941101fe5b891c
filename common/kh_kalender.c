/*
 * kh_kalender — feestdagen table, working days, Amsterdam date, months.
 */
#include "kh_kalender.h"

#include "kh_alloc.h"

#include "kh_ref_csv.h"
#include "kh_time.h"

#include <stdlib.h>
#include <string.h>

struct kh_kalender {
    int32_t *dagen; /* sorted */
    size_t n;
    int first_year, last_year; /* 0, 0: empty */
};

static int cmp_day(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void finish(kh_kalender *k) {
    int y, m, d;
    qsort(k->dagen, k->n, sizeof *k->dagen, cmp_day);
    if (k->n == 0)
        return;
    kh_date_to_ymd(k->dagen[0], &y, &m, &d);
    k->first_year = y;
    kh_date_to_ymd(k->dagen[k->n - 1], &y, &m, &d);
    k->last_year = y;
}

kh_kalender *kh_kalender_new(const int32_t *feestdagen, size_t n) {
    kh_kalender *k = kh_calloc(1, sizeof *k);
    k->dagen = kh_malloc((n ? n : 1) * sizeof *k->dagen);
    if (n)
        memcpy(k->dagen, feestdagen, n * sizeof *feestdagen);
    k->n = n;
    finish(k);
    return k;
}

void kh_kalender_free(kh_kalender *k) {
    if (!k)
        return;
    free(k->dagen);
    free(k);
}

static int add_day(kh_kalender *k, size_t *cap, int32_t day) {
    if (k->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        k->dagen = kh_realloc(k->dagen, ncap * sizeof *k->dagen);
        *cap = ncap;
    }
    k->dagen[k->n++] = day;
    return 0;
}

static int read_rows(kh_ref_csv *c, kh_kalender *k) {
    static const char *const cols[] = {"DATUM", "NAAM", NULL};
    size_t cap = 0;
    int rc;
    if (kh_ref_csv_require(c, cols))
        return -1;
    while ((rc = kh_ref_csv_row(c)) == 1) {
        int32_t day;
        if (kh_ref_csv_date(c, "DATUM", &day))
            return -1;
        if (add_day(k, &cap, day))
            return kh_ref_csv_fail(c, "out of memory");
    }
    return rc;
}

int kh_kalender_load(const char *dir, kh_kalender **out, char *err, size_t errlen) {
    kh_ref_csv c;
    *out = NULL;
    kh_kalender *k = kh_calloc(1, sizeof *k);
    if (kh_ref_csv_open(&c, dir, KH_KALENDER_FILE, err, errlen)) {
        free(k);
        return -1;
    }
    int rc = read_rows(&c, k);
    kh_ref_csv_close(&c);
    if (rc) {
        kh_kalender_free(k);
        return -1;
    }
    finish(k);
    *out = k;
    return 0;
}

int kh_kalender_feestdag(const kh_kalender *k, int32_t day) {
    return k && k->n && bsearch(&day, k->dagen, k->n, sizeof day, cmp_day) != NULL;
}

int kh_kalender_weekdag(int32_t day) {
    /* 1970-01-01 was a Thursday (3). */
    int w = (int)((day % 7 + 7) % 7);
    return (w + 3) % 7;
}

int kh_kalender_werkdag(const kh_kalender *k, int32_t day) {
    return kh_kalender_weekdag(day) < 5 && !kh_kalender_feestdag(k, day);
}

int32_t kh_kalender_werkdagen_na(const kh_kalender *k, int32_t day, int n) {
    while (n > 0) {
        day++;
        if (kh_kalender_werkdag(k, day))
            n--;
    }
    return day;
}

int32_t kh_kalender_werkdag_vanaf(const kh_kalender *k, int32_t day) {
    while (!kh_kalender_werkdag(k, day))
        day++;
    return day;
}

int kh_kalender_covers(const kh_kalender *k, int32_t day) {
    int y, m, d;
    if (!k || !k->n)
        return 0;
    kh_date_to_ymd(day, &y, &m, &d);
    return y >= k->first_year && y <= k->last_year;
}

/* The last Sunday of month (3 or 10) of year, as a day number. */
static int32_t last_sunday(int year, int month) {
    int32_t last = kh_date_from_ymd(year, month + 1, 1) - 1;
    return last - (kh_kalender_weekdag(last) + 1) % 7;
}

int32_t kh_kalender_amsterdam_date(int64_t millis) {
    int y, m, d;
    int32_t utc_day = kh_ts_to_date(millis);
    kh_date_to_ymd(utc_day, &y, &m, &d);
    int64_t start = ((int64_t)last_sunday(y, 3) * 86400 + 3600) * 1000;
    int64_t end = ((int64_t)last_sunday(y, 10) * 86400 + 3600) * 1000;
    int64_t offset = (millis >= start && millis < end) ? 7200000 : 3600000;
    return kh_ts_to_date(millis + offset);
}

static int days_in_month(int y, int m) {
    return (int)(kh_date_from_ymd(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
                 kh_date_from_ymd(y, m, 1));
}

int32_t kh_kalender_plus_maanden(int32_t day, int months) {
    int y, m, d;
    kh_date_to_ymd(day, &y, &m, &d);
    int total = y * 12 + (m - 1) + months;
    int ny = total / 12, nm = total % 12 + 1;
    int dim = days_in_month(ny, nm);
    return kh_date_from_ymd(ny, nm, d > dim ? dim : d);
}
