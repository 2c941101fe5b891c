/*
 * sim_termijn_kal — working days, months, the Amsterdam date and agreed
 * terms for sim_termijn (the simulator's second implementation).
 */
#include "sim_termijn_kal.h"

#include "kh_alloc.h"
#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct afspraak {
    char regio[8], onderwerp[32];
    int maanden;
    int32_t van, tot; /* [van, tot]: DATUM EINDE is the last day */
} afspraak;

struct sim_kal {
    int32_t *feest;
    size_t nfeest;
    afspraak *afs;
    size_t nafs;
};

static int by_day(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The `;`-separated field i of line (copied into out, quotes not handled:
 * the fields read here hold none). */
static void field(const char *line, int i, char *out, size_t outlen) {
    while (i-- > 0 && line) {
        line = strchr(line, ';');
        line = line ? line + 1 : NULL;
    }
    size_t n = line ? strcspn(line, ";\r\n") : 0;
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), line ? line : "");
}

static int read_feestdagen(sim_kal *k, const char *dir, char *err, size_t errlen) {
    char path[1024], line[512], d[16];
    snprintf(path, sizeof path, "%s/feestdagen.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        int32_t day;
        field(line, 0, d, sizeof d);
        if (kh_date_parse(d, &day) != 0)
            continue; /* the header */
        if (k->nfeest == cap)
            k->feest = kh_realloc(k->feest, (cap = cap ? cap * 2 : 64) * sizeof *k->feest);
        k->feest[k->nfeest++] = day;
    }
    fclose(f);
    qsort(k->feest, k->nfeest, sizeof *k->feest, by_day);
    return 0;
}

static void read_afspraken(sim_kal *k, const char *dir) {
    char path[1024], line[2048], m[8], van[16], tot[16];
    snprintf(path, sizeof path, "%s/termijnafspraken.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return; /* optional: no agreements */
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        afspraak a = {.van = INT32_MIN, .tot = INT32_MAX};
        field(line, 0, a.regio, sizeof a.regio);
        field(line, 1, a.onderwerp, sizeof a.onderwerp);
        field(line, 2, m, sizeof m);
        field(line, 3, van, sizeof van);
        field(line, 4, tot, sizeof tot);
        a.maanden = atoi(m);
        if (a.maanden <= 0)
            continue; /* the header */
        if (van[0])
            kh_date_parse(van, &a.van);
        if (tot[0])
            kh_date_parse(tot, &a.tot);
        if (k->nafs == cap)
            k->afs = kh_realloc(k->afs, (cap = cap ? cap * 2 : 8) * sizeof *k->afs);
        k->afs[k->nafs++] = a;
    }
    fclose(f);
}

sim_kal *sim_kal_load(const char *dir, char *err, size_t errlen) {
    sim_kal *k = kh_calloc(1, sizeof *k);
    if (read_feestdagen(k, dir, err, errlen) < 0) {
        sim_kal_free(k);
        return NULL;
    }
    read_afspraken(k, dir);
    return k;
}

void sim_kal_free(sim_kal *k) {
    if (!k)
        return;
    free(k->feest);
    free(k->afs);
    free(k);
}

int sim_kal_werkdag(const sim_kal *k, int32_t day) {
    int wd = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday: 0 = Monday */
    if (wd >= 5)
        return 0;
    return bsearch(&day, k->feest, k->nfeest, sizeof *k->feest, by_day) == NULL;
}

int32_t sim_kal_werkdagen_na(const sim_kal *k, int32_t day, int n) {
    while (n > 0)
        n -= sim_kal_werkdag(k, ++day);
    return day;
}

int32_t sim_kal_werkdag_vanaf(const sim_kal *k, int32_t day) {
    while (!sim_kal_werkdag(k, day))
        day++;
    return day;
}

static int month_days(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int32_t sim_kal_plus_maanden(int32_t day, int months) {
    int y, m, d;
    kh_date_to_ymd(day, &y, &m, &d);
    int total = y * 12 + (m - 1) + months;
    y = total / 12;
    m = total % 12 + 1;
    if (d > month_days(y, m))
        d = month_days(y, m);
    return kh_date_from_ymd(y, m, d);
}

/* The last Sunday of month m in year y. */
static int32_t last_sunday(int y, int m) {
    int32_t day = kh_date_from_ymd(y, m, month_days(y, m));
    while (((day % 7) + 7 + 3) % 7 != 6)
        day--;
    return day;
}

int32_t sim_kal_amsterdam(int64_t millis) {
    const int64_t hour = 3600000, dayms = 24 * hour;
    int y, m, d;
    kh_date_to_ymd(kh_ts_to_date(millis), &y, &m, &d);
    int64_t zomer = (int64_t)last_sunday(y, 3) * dayms + hour;
    int64_t winter = (int64_t)last_sunday(y, 10) * dayms + hour;
    int64_t local = millis + (millis >= zomer && millis < winter ? 2 : 1) * hour;
    return kh_ts_to_date(local);
}

int sim_kal_afspraak(const sim_kal *k, const char *regio, const char *onderwerp, int32_t date) {
    for (size_t i = 0; i < k->nafs; i++) {
        const afspraak *a = &k->afs[i];
        if (strcmp(a->regio, regio) == 0 && strcmp(a->onderwerp, onderwerp) == 0 &&
            date >= a->van && date <= a->tot)
            return a->maanden;
    }
    return 0;
}
