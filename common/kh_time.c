/*
 * kh_time — date and timestamp conversions for the Avro logical types.
 * Day numbers use Howard Hinnant's civil-from-days algorithm, so no libc
 * time zone state is touched and every function is reentrant.
 */
#include "kh_time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int32_t kh_date_from_ymd(int year, int month, int day) {
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void kh_date_to_ymd(int32_t days, int *year, int *month, int *day) {
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = y + (*month <= 2);
}

static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int year, int month) {
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : dim[month - 1];
}

/* Parses the `YYYY-MM-DD` prefix of s; the caller checks what follows. */
static int parse_ymd(const char *s, int32_t *days) {
    int y, m, d;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    *days = kh_date_from_ymd(y, m, d);
    return 0;
}

int kh_date_parse(const char *s, int32_t *days) {
    if (strlen(s) != 10)
        return -1;
    return parse_ymd(s, days);
}

/* Writes v as exactly n digits; the formatters below sit on hot paths and
 * their field widths are fixed, so snprintf buys nothing here. */
static char *put_digits(char *p, unsigned v, int n) {
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

char *kh_date_format(int32_t days, char *buf) {
    int y, m, d;
    kh_date_to_ymd(days, &y, &m, &d);
    char *p = put_digits(buf, (unsigned)(y < 0 ? 0 : y % 10000), 4);
    *p++ = '-';
    p = put_digits(p, (unsigned)m, 2);
    *p++ = '-';
    p = put_digits(p, (unsigned)d, 2);
    *p = '\0';
    return buf;
}

int kh_ts_parse(const char *s, int64_t *millis) {
    int32_t days;
    int hh, mm, ss, ms = 0;
    if (strlen(s) < 20 || parse_ymd(s, &days))
        return -1;
    if ((s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &hh) || s[13] != ':' ||
        digits(s + 14, 2, &mm) || s[16] != ':' || digits(s + 17, 2, &ss))
        return -1;
    if (hh > 23 || mm > 59 || ss > 59)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0;
        p++;
        while (isdigit((unsigned char)p[n])) {
            if (n < 3)
                ms = ms * 10 + (p[n] - '0');
            n++;
        }
        if (n == 0)
            return -1;
        for (int i = n; i < 3; i++)
            ms *= 10;
        p += n;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    int64_t secs = (int64_t)days * 86400 + hh * 3600 + mm * 60 + ss - offset_min * 60;
    *millis = secs * 1000 + ms;
    return 0;
}

char *kh_ts_format(int64_t millis, char *buf) {
    int64_t secs = millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000);
    int ms = (int)(millis - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int rem = (int)(secs - days * 86400);
    kh_date_format((int32_t)days, buf);
    char *p = buf + 10;
    *p++ = 'T';
    p = put_digits(p, (unsigned)(rem / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(rem / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(rem % 60), 2);
    if (ms) {
        *p++ = '.';
        p = put_digits(p, (unsigned)ms, 3);
    }
    *p++ = 'Z';
    *p = '\0';
    return buf;
}

int32_t kh_ts_to_date(int64_t millis) {
    int64_t secs = millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000);
    return (int32_t)(secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400));
}

int64_t kh_now_millis(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t kh_today(void) { return kh_ts_to_date(kh_now_millis()); }

int kh_age_years(int32_t birth, int32_t on) {
    int by, bm, bd, oy, om, od;
    kh_date_to_ymd(birth, &by, &bm, &bd);
    kh_date_to_ymd(on, &oy, &om, &od);
    int age = oy - by;
    if (om < bm || (om == bm && od < bd))
        age--;
    return age;
}
