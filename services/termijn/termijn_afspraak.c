/*
 * termijn_afspraak — termijnafspraken.csv: agreed terms per region.
 */
#include "termijn_afspraak.h"

#include "kh_alloc.h"
#include "kh_ref_csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct row {
    char regio[7];
    char onderwerp[32];
    int maanden;
    int32_t from, to;
} row;

struct termijn_afspraken {
    row *rows;
    size_t n;
};

void termijn_afspraken_free(termijn_afspraken *a) {
    if (!a)
        return;
    free(a->rows);
    free(a);
}

/* An agreement from an undated document holds from no stated date: an
 * empty DATUM INGANG is "always", as in afspraken.csv. */
static int read_period(kh_ref_csv *c, row *r) {
    int32_t last;
    r->from = INT32_MIN;
    r->to = INT32_MAX;
    if (*kh_ref_csv_val(c, "DATUM INGANG"))
        return kh_ref_csv_period(c, "DATUM INGANG", "DATUM EINDE", &r->from, &r->to);
    if (!*kh_ref_csv_val(c, "DATUM EINDE"))
        return 0;
    if (kh_ref_csv_date(c, "DATUM EINDE", &last))
        return -1;
    r->to = last + 1;
    return 0;
}

static int read_row(kh_ref_csv *c, row *r) {
    char buf[8];
    memset(r, 0, sizeof *r);
    if (kh_ref_csv_text(c, "REGIO", r->regio, sizeof r->regio) ||
        kh_ref_csv_text(c, "ONDERWERP", r->onderwerp, sizeof r->onderwerp) ||
        kh_ref_csv_text(c, "TERMIJN MAANDEN", buf, sizeof buf) || read_period(c, r))
        return -1;
    char *end;
    long m = strtol(buf, &end, 10);
    if (*buf == '\0' || *end != '\0' || m < 1 || m > 120)
        return kh_ref_csv_fail(c, "TERMIJN MAANDEN '%s' is not a number of months from 1 to 120",
                               buf);
    r->maanden = (int)m;
    return 0;
}

static int read_rows(kh_ref_csv *c, termijn_afspraken *a) {
    static const char *const cols[] = {"REGIO",        "ONDERWERP",   "TERMIJN MAANDEN",
                                       "DATUM INGANG", "DATUM EINDE", NULL};
    size_t cap = 0;
    int rc;
    if (kh_ref_csv_require(c, cols))
        return -1;
    while ((rc = kh_ref_csv_row(c)) == 1) {
        if (a->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            a->rows = kh_realloc(a->rows, ncap * sizeof *a->rows);
            cap = ncap;
        }
        if (read_row(c, &a->rows[a->n]))
            return -1;
        a->n++;
    }
    return rc;
}

int termijn_afspraken_load(const char *dir, termijn_afspraken **out, char *err, size_t errlen) {
    char path[4096];
    struct stat st;
    kh_ref_csv c;
    *out = kh_calloc(1, sizeof **out);
    snprintf(path, sizeof path, "%s/%s", dir, TERMIJN_AFSPRAAK_FILE);
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    if (kh_ref_csv_open(&c, dir, TERMIJN_AFSPRAAK_FILE, err, errlen))
        goto fail;
    int rc = read_rows(&c, *out);
    kh_ref_csv_close(&c);
    if (rc == 0)
        return 0;
fail:
    termijn_afspraken_free(*out);
    *out = NULL;
    return -1;
}

int termijn_afspraak_maanden(const termijn_afspraken *a, const char *regio, const char *onderwerp,
                             int32_t date) {
    for (size_t i = 0; a && i < a->n; i++) {
        const row *r = &a->rows[i];
        if (date >= r->from && date < r->to && strcmp(r->regio, regio) == 0 &&
            strcmp(r->onderwerp, onderwerp) == 0)
            return r->maanden;
    }
    return 0;
}
