/*
 * kh_ref_load — fills a kh_ref snapshot from a directory of CSV files: CBS
 * "Gebieden in Nederland" per year, the CBS herindelingen, DUO
 * samenwerkingsverbanden, gemeenten per SWV and vestigingen, an AGB
 * register extract, and two optional files of our own: the RMC
 * contactgemeenten and the regions' agreements (layouts in
 * deploy/reference/README.md).
 *
 * Loading is strict on purpose: a malformed code, a date that does not parse,
 * a gemeente without an SWV, or a school in a gemeente that no longer exists
 * fails the whole load with "file:line: problem", and kh_refstore keeps
 * serving the previous snapshot. Wrong reference data would route meldingen
 * to the wrong parties, which is worse than routing with yesterday's data.
 */
#include "kh_ref.h"

#include "kh_code.h"
#include "kh_ref_csv.h"
#include "kh_ref_internal.h"
#include "kh_time.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *fmt_date(int32_t d, char *buf) {
    if (d == KH_REF_FOREVER)
        return strcpy(buf, "(open)");
    return kh_date_format(d, buf);
}

/* One row of a gebieden_YYYY.csv, before the SWV's are joined in. */
typedef struct gebied {
    kh_ref_gemeente g;
    int year, line;
} gebied;

/* One row of swv_gemeenten.csv: gemeente belongs to swv during [from, to). */
typedef struct lid {
    char gemeente[7], swv[7];
    int32_t from, to;
    int line;
} lid;

typedef struct loader {
    const char *dir;
    kh_ref *ref;
    gebied *geb;
    size_t ngeb, capgeb;
    lid *leden; /* sorted by (gemeente, from) */
    size_t nleden, capleden;
    int *years;
    size_t nyears;
    char *err;
    size_t errlen;
} loader;

/* The message in the caller's err; returns -1. */
static int load_fail(loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int load_fail(loader *L, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kh_ref_vfail(L->err, L->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

typedef int (*row_fn)(loader *L, kh_ref_csv *c, void *arg);

/* Reads dir/name, checks its header has cols, and hands every row to fn. */
static int each_row(loader *L, const char *name, const char *const *cols, row_fn fn, void *arg) {
    kh_ref_csv c;
    if (kh_ref_csv_open(&c, L->dir, name, L->err, L->errlen) < 0)
        return -1;
    int rc = kh_ref_csv_require(&c, cols);
    while (rc == 0 && (rc = kh_ref_csv_row(&c)) == 1)
        rc = fn(L, &c, arg);
    kh_ref_csv_close(&c);
    return rc < 0 ? -1 : 0;
}

/* Two facts for one code whose periods overlap make lookups ambiguous. */
static int table_overlaps(const ref_table *t, const char *file, char *err, size_t errlen) {
    for (size_t i = 1; i < t->n; i++) {
        const ref_key *a = &t->keys[i - 1], *b = &t->keys[i];
        if (a->code == b->code && a->to > b->from) {
            char d[KH_DATE_LEN];
            return kh_ref_fail(err, errlen, "%s:%d: %s is already valid on %s (line %d)", file,
                               t->lines[b->row], (const char *)kh_ref_table_row(t, b->row),
                               fmt_date(b->from, d), t->lines[a->row]);
        }
    }
    return 0;
}

/* Sorts a table's index and rejects overlapping periods for one code. */
static int finish_table(loader *L, ref_table *t, const char *file) {
    kh_ref_table_index(t);
    return table_overlaps(t, file, L->err, L->errlen);
}

static int swv_row(loader *L, kh_ref_csv *c, void *arg) {
    (void)arg;
    kh_ref_swv *s = kh_ref_table_add(&L->ref->swvs, c->line);
    if (kh_ref_csv_swv(c, "SWV CODE", s->code) < 0 ||
        kh_ref_csv_text(c, "SWV NAAM", s->naam, sizeof s->naam) < 0 ||
        kh_ref_csv_text(c, "SECTOR", s->sector, sizeof s->sector) < 0 ||
        kh_ref_csv_period(c, "DATUM INGANG", "DATUM EINDE", &s->valid_from, &s->valid_to) < 0)
        return -1;
    if (strncmp(s->code, s->sector, 2) != 0)
        return kh_ref_csv_fail(c, "SECTOR '%s' does not match SWV CODE '%s'", s->sector, s->code);
    return 0;
}

/* samenwerkingsverbanden.csv (DUO). */
static int load_swvs(loader *L) {
    static const char *const cols[] = {"SWV CODE",     "SWV NAAM",    "SECTOR",
                                       "DATUM INGANG", "DATUM EINDE", NULL};
    if (each_row(L, "samenwerkingsverbanden.csv", cols, swv_row, NULL) < 0)
        return -1;
    return finish_table(L, &L->ref->swvs, "samenwerkingsverbanden.csv");
}

static int int_cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The years of the gebieden_YYYY.csv files in dir, ascending. */
static int find_years(loader *L) {
    DIR *d = opendir(L->dir);
    if (!d)
        return load_fail(L, "%s: cannot open directory: %s", L->dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int year;
        if (!kh_code_matches(e->d_name, "gebieden_DDDD.csv"))
            continue;
        year = atoi(e->d_name + 9);
        L->years = kh_ref_grow(L->years, &cap, L->nyears + 1, sizeof *L->years);
        L->years[L->nyears++] = year;
    }
    closedir(d);
    if (L->nyears == 0)
        return load_fail(L, "%s: no gebieden_YYYY.csv files", L->dir);
    kh_ref_sort(L->years, L->nyears, sizeof *L->years, int_cmp);
    L->ref->first_year = L->years[0];
    L->ref->last_year = L->years[L->nyears - 1];
    L->ref->first = kh_date_from_ymd(L->years[0], 1, 1);
    return 0;
}

typedef struct file_year {
    int year;
    int32_t from, to;
} file_year;

static int gebied_row(loader *L, kh_ref_csv *c, void *arg) {
    const file_year *fy = arg;
    L->geb = kh_ref_grow(L->geb, &L->capgeb, L->ngeb + 1, sizeof *L->geb);
    gebied *r = &L->geb[L->ngeb];
    memset(r, 0, sizeof *r);
    r->year = fy->year;
    r->line = c->line;
    r->g.valid_from = fy->from;
    r->g.valid_to = fy->to;
    kh_ref_gemeente *g = &r->g;
    if (kh_ref_csv_code(c, "GemeentecodeGM", "GMDDDD", "GM + 4 digits", g->code, sizeof g->code) <
            0 ||
        kh_ref_csv_text(c, "Gemeentenaam", g->naam, sizeof g->naam) < 0 ||
        kh_ref_csv_code(c, "JeugdzorgregioCode", "JZDD", "JZ + 2 digits", g->jeugdregio,
                        sizeof g->jeugdregio) < 0 ||
        kh_ref_csv_text(c, "JeugdzorgregioNaam", g->jeugdregio_naam, sizeof g->jeugdregio_naam) <
            0 ||
        kh_ref_csv_code(c, "RMCregioCode", "RMCDD", "RMC + 2 digits", g->rmc, sizeof g->rmc) < 0 ||
        kh_ref_csv_text(c, "RMCregioNaam", g->rmc_naam, sizeof g->rmc_naam) < 0)
        return -1;
    L->ngeb++;
    return 0;
}

/* gebieden_YYYY.csv: the gemeenten as on 1 January YYYY, valid until the
 * next file's year begins. */
static int load_gebieden_year(loader *L, size_t i) {
    static const char *const cols[] = {"GemeentecodeGM",
                                       "Gemeentenaam",
                                       "JeugdzorgregioCode",
                                       "JeugdzorgregioNaam",
                                       "RMCregioCode",
                                       "RMCregioNaam",
                                       NULL};
    char name[32];
    file_year fy = {.year = L->years[i], .to = KH_REF_FOREVER};
    fy.from = kh_date_from_ymd(fy.year, 1, 1);
    if (i + 1 < L->nyears)
        fy.to = kh_date_from_ymd(L->years[i + 1], 1, 1);
    snprintf(name, sizeof name, "gebieden_%04d.csv", fy.year);
    return each_row(L, name, cols, gebied_row, &fy);
}

static int gebied_cmp(const void *a, const void *b) {
    const gebied *x = a, *y = b;
    int c = strcmp(x->g.code, y->g.code);
    if (c)
        return c;
    return (x->g.valid_from > y->g.valid_from) - (x->g.valid_from < y->g.valid_from);
}

static int load_gebieden(loader *L) {
    for (size_t i = 0; i < L->nyears; i++)
        if (load_gebieden_year(L, i) < 0)
            return -1;
    kh_ref_sort(L->geb, L->ngeb, sizeof *L->geb, gebied_cmp);
    for (size_t i = 1; i < L->ngeb; i++) {
        const gebied *a = &L->geb[i - 1], *b = &L->geb[i];
        if (strcmp(a->g.code, b->g.code) == 0 && a->year == b->year)
            return load_fail(L,
                             "gebieden_%04d.csv:%d: GemeentecodeGM '%s' appears twice "
                             "(also line %d)",
                             b->year, b->line, b->g.code, a->line);
    }
    return 0;
}

static int lid_cmp(const void *a, const void *b) {
    const lid *x = a, *y = b;
    int c = strcmp(x->gemeente, y->gemeente);
    if (c)
        return c;
    return (x->from > y->from) - (x->from < y->from);
}

static int known_gemeente(const loader *L, const char *code) {
    for (size_t lo = 0, hi = L->ngeb; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(L->geb[mid].g.code, code);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* "gebieden_2021.csv to gebieden_2026.csv": the files the directory has. */
static const char *gebieden_files(const kh_ref *ref, char *buf, size_t len) {
    if (ref->first_year == ref->last_year)
        snprintf(buf, len, "only gebieden_%04d.csv", ref->last_year);
    else
        snprintf(buf, len, "gebieden_%04d.csv to gebieden_%04d.csv", ref->first_year,
                 ref->last_year);
    return buf;
}

/* A gemeente of swv_gemeenten.csv that no gebieden file lists is a wrong
 * number, or a gemeente missing from the files for the membership's years:
 * the year it begins (the first file's, if earlier) names the file to add
 * or to add it to. The value is quoted as the file wrote it. */
static int not_in_gebieden(loader *L, kh_ref_csv *c, const lid *m) {
    const kh_ref *ref = L->ref;
    const char *raw = kh_ref_csv_val(c, "GEMEENTENUMMER");
    char files[64], d[KH_DATE_LEN];
    int y, mon, day;
    kh_date_to_ymd(m->from, &y, &mon, &day);
    if (y < ref->first_year)
        y = ref->first_year;
    gebieden_files(ref, files, sizeof files);
    if (y > ref->last_year)
        return kh_ref_csv_fail(c,
                               "GEMEENTENUMMER '%s' is in no gebieden_YYYY.csv file (%s) and "
                               "this row begins on %s: add gebieden_%04d.csv, the gemeenten on 1 "
                               "January %d, or correct the number",
                               raw, files, fmt_date(m->from, d), y, y);
    return kh_ref_csv_fail(c,
                           "GEMEENTENUMMER '%s' is in no gebieden_YYYY.csv file (%s): add %s "
                           "to gebieden_%04d.csv and every later file, or correct the number",
                           raw, files, m->gemeente, y);
}

static int lid_row(loader *L, kh_ref_csv *c, void *arg) {
    (void)arg;
    L->leden = kh_ref_grow(L->leden, &L->capleden, L->nleden + 1, sizeof *L->leden);
    lid *m = &L->leden[L->nleden];
    memset(m, 0, sizeof *m);
    m->line = c->line;
    if (kh_ref_csv_swv(c, "SWV CODE", m->swv) < 0 ||
        kh_ref_csv_gemeente(c, "GEMEENTENUMMER", m->gemeente) < 0 ||
        kh_ref_csv_period(c, "DATUM INGANG", "DATUM EINDE", &m->from, &m->to) < 0)
        return -1;
    if (!kh_ref_swv_at(L->ref, m->swv, m->from)) {
        char d[KH_DATE_LEN];
        return kh_ref_csv_fail(c, "SWV CODE '%s' is not in samenwerkingsverbanden.csv on %s",
                               m->swv, fmt_date(m->from, d));
    }
    if (!known_gemeente(L, m->gemeente))
        return not_in_gebieden(L, c, m);
    L->nleden++;
    return 0;
}

/* swv_gemeenten.csv (DUO "gemeenten per samenwerkingsverband"). */
static int load_leden(loader *L) {
    static const char *const cols[] = {"SWV CODE", "GEMEENTENUMMER", "DATUM INGANG", "DATUM EINDE",
                                       NULL};
    if (each_row(L, "swv_gemeenten.csv", cols, lid_row, NULL) < 0)
        return -1;
    kh_ref_sort(L->leden, L->nleden, sizeof *L->leden, lid_cmp);
    return 0;
}

static int same_fact(const kh_ref_gemeente *a, const kh_ref_gemeente *b) {
    return strcmp(a->code, b->code) == 0 && strcmp(a->naam, b->naam) == 0 &&
           strcmp(a->jeugdregio, b->jeugdregio) == 0 &&
           strcmp(a->jeugdregio_naam, b->jeugdregio_naam) == 0 &&
           strcmp(a->swv_po, b->swv_po) == 0 && strcmp(a->swv_vo, b->swv_vo) == 0 &&
           strcmp(a->rmc, b->rmc) == 0 && strcmp(a->rmc_naam, b->rmc_naam) == 0;
}

/* Appends fact, or extends the previous fact when nothing but the dates
 * differ: six identical yearly rows become one fact. */
static void emit_gemeente(loader *L, const kh_ref_gemeente *fact) {
    ref_table *t = &L->ref->gemeenten;
    if (t->n > 0) {
        kh_ref_gemeente *prev = kh_ref_table_row(t, t->n - 1);
        if (prev->valid_to == fact->valid_from && same_fact(prev, fact)) {
            prev->valid_to = fact->valid_to;
            return;
        }
    }
    kh_ref_gemeente *g = kh_ref_table_add(t, 0);
    *g = *fact;
}

/* Joins the SWV PO and VO valid at `at` into fact; *next is lowered to the
 * first membership change after `at`. */
static int join_swvs(loader *L, const lid *m, size_t nm, kh_ref_gemeente *fact, int32_t at,
                     int32_t *next) {
    const lid *po = NULL, *vo = NULL;
    char d[KH_DATE_LEN];
    for (size_t i = 0; i < nm; i++) {
        if (m[i].from > at && m[i].from < *next)
            *next = m[i].from;
        if (m[i].to > at && m[i].to < *next)
            *next = m[i].to;
        if (m[i].from > at || at >= m[i].to)
            continue;
        const lid **slot = m[i].swv[0] == 'P' ? &po : &vo;
        if (*slot)
            return load_fail(L,
                             "swv_gemeenten.csv:%d: %s is in two SWV's %.2s on %s "
                             "(%s here, %s on line %d)",
                             m[i].line, fact->code, m[i].swv, fmt_date(at, d), m[i].swv,
                             (*slot)->swv, (*slot)->line);
        *slot = &m[i];
    }
    if (!po || !vo)
        return load_fail(L, "swv_gemeenten.csv: %s (%s) has no SWV %s on %s", fact->code,
                         fact->naam, po ? "VO" : "PO", fmt_date(at, d));
    memcpy(fact->swv_po, po->swv, sizeof fact->swv_po);
    memcpy(fact->swv_vo, vo->swv, sizeof fact->swv_vo);
    return 0;
}

/* The gemeente facts: each yearly row, split wherever its SWV membership
 * changes (a school year can start on 1 August), merged where unchanged. */
static int build_gemeenten(loader *L) {
    size_t j = 0;
    for (size_t i = 0; i < L->ngeb; i++) {
        const gebied *r = &L->geb[i];
        while (j < L->nleden && strcmp(L->leden[j].gemeente, r->g.code) < 0)
            j++;
        size_t nm = 0;
        while (j + nm < L->nleden && strcmp(L->leden[j + nm].gemeente, r->g.code) == 0)
            nm++;
        for (int32_t at = r->g.valid_from; at < r->g.valid_to;) {
            kh_ref_gemeente fact = r->g;
            int32_t next = r->g.valid_to;
            if (join_swvs(L, &L->leden[j], nm, &fact, at, &next) < 0)
                return -1;
            fact.valid_from = at;
            fact.valid_to = next;
            emit_gemeente(L, &fact);
            at = next;
        }
    }
    kh_ref_table_index(&L->ref->gemeenten);
    return 0;
}

static int her_cmp(const void *a, const void *b) {
    const herindeling *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->datum > y->datum) - (x->datum < y->datum);
}

/* Ends h->oud's yearly rows at the herindeling date before any fact is
 * built: the herindelingen file, not the 1 January snapshots, says when a
 * gemeente stopped (a herindeling may fall mid-year). A yearly file that
 * still lists it after that date contradicts the herindeling. */
static int cut_at_herindeling(loader *L, const herindeling *h) {
    char d[KH_DATE_LEN];
    for (size_t i = 0; i < L->ngeb; i++) {
        gebied *r = &L->geb[i];
        if (strcmp(r->g.code, h->oud) != 0)
            continue;
        if (r->g.valid_from >= h->datum)
            return load_fail(L,
                             "herindelingen.csv:%d: %s is dissolved on %s but still "
                             "in gebieden_%04d.csv (line %d)",
                             h->line, h->oud, fmt_date(h->datum, d), r->year, r->line);
        if (r->g.valid_to > h->datum)
            r->g.valid_to = h->datum;
    }
    return 0;
}

static int check_herindeling(loader *L, const herindeling *h) {
    const kh_ref *ref = L->ref;
    char d[KH_DATE_LEN];
    if (h->datum - 1 >= ref->first && !kh_ref_gemeente_at(ref, h->oud, h->datum - 1))
        return load_fail(L,
                         "herindelingen.csv:%d: GemeentecodeOud '%s' is not in the "
                         "gebieden files on the day before %s",
                         h->line, h->oud, fmt_date(h->datum, d));
    if (h->datum >= ref->first && !kh_ref_gemeente_at(ref, h->nieuw, h->datum))
        return load_fail(L,
                         "herindelingen.csv:%d: GemeentecodeNieuw '%s' is not in "
                         "the gebieden files on %s",
                         h->line, h->nieuw, fmt_date(h->datum, d));
    return 0;
}

static int her_row(loader *L, kh_ref_csv *c, void *arg) {
    size_t *cap = arg;
    herindeling h;
    memset(&h, 0, sizeof h);
    h.line = c->line;
    if (kh_ref_csv_date(c, "DatumIngang", &h.datum) < 0 ||
        kh_ref_csv_code(c, "GemeentecodeOud", "GMDDDD", "GM + 4 digits", h.oud, sizeof h.oud) < 0 ||
        kh_ref_csv_code(c, "GemeentecodeNieuw", "GMDDDD", "GM + 4 digits", h.nieuw,
                        sizeof h.nieuw) < 0)
        return -1;
    /* CBS also lists a gemeente that absorbs another under its own code;
     * it did not stop, so there is nothing to follow. */
    if (strcmp(h.oud, h.nieuw) == 0)
        return 0;
    kh_ref_code_key(h.oud, &h.key);
    L->ref->her = kh_ref_grow(L->ref->her, cap, L->ref->nher + 1, sizeof *L->ref->her);
    L->ref->her[L->ref->nher++] = h;
    return 0;
}

static int load_herindelingen(loader *L) {
    static const char *const cols[] = {"DatumIngang", "GemeentecodeOud", "GemeentecodeNieuw", NULL};
    size_t cap = 0;
    if (each_row(L, "herindelingen.csv", cols, her_row, &cap) < 0)
        return -1;
    kh_ref *ref = L->ref;
    kh_ref_sort(ref->her, ref->nher, sizeof *ref->her, her_cmp);
    for (size_t i = 0; i < ref->nher; i++)
        if (cut_at_herindeling(L, &ref->her[i]) < 0)
            return -1;
    return 0;
}

/* Runs once the gemeente facts exist. */
static int check_herindelingen(loader *L) {
    for (size_t i = 0; i < L->ref->nher; i++)
        if (check_herindeling(L, &L->ref->her[i]) < 0)
            return -1;
    return 0;
}

static int dissolved_on(const kh_ref *ref, uint64_t key, int32_t date) {
    for (size_t i = 0; i < ref->nher; i++)
        if (ref->her[i].key == key && ref->her[i].datum == date)
            return 1;
    return 0;
}

/* A gemeente only disappears through a herindeling; one that is missing from
 * a later gebieden file is a mistake in that file, and would make every
 * event of its children undeliverable. */
static int check_continuity(loader *L) {
    const ref_table *t = &L->ref->gemeenten;
    for (size_t i = 0; i < t->n; i++) {
        const ref_key *k = &t->keys[i];
        if (k->to == KH_REF_FOREVER)
            continue;
        if (i + 1 < t->n && t->keys[i + 1].code == k->code && t->keys[i + 1].from == k->to)
            continue;
        if (dissolved_on(L->ref, k->code, k->to))
            continue;
        const kh_ref_gemeente *g = kh_ref_table_row(t, k->row);
        int y, m, d;
        kh_date_to_ymd(k->to, &y, &m, &d);
        return load_fail(L,
                         "gebieden_%04d.csv: GemeentecodeGM '%s' (%s) is missing "
                         "and herindelingen.csv has no herindeling for it",
                         y, g->code, g->naam);
    }
    return 0;
}

/* A school or provider row must lie in a gemeente for its whole period (as
 * far as the gebieden files reach), so the router never finds a school whose
 * gemeente is unknown. */
static int check_gemeente_covers(const kh_ref *ref, kh_ref_csv *c, const char *col,
                                 const char *code, int32_t from, int32_t to) {
    int32_t at = from > ref->first ? from : ref->first;
    while (at < to) {
        const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, code, at);
        if (!g) {
            char d[KH_DATE_LEN];
            return kh_ref_csv_fail(c,
                                   "%s '%s' is not a gemeente on %s (after a herindeling, end this "
                                   "row the day before and add one for the new gemeente)",
                                   col, code, fmt_date(at, d));
        }
        at = g->valid_to;
    }
    return 0;
}

/* The optional CLUSTER column: 1 or 2 for an instelling of cluster 1 or 2
 * (outside the SWV's), empty otherwise. */
static int school_cluster(kh_ref_csv *c, kh_ref_school *s) {
    const char *v = kh_ref_csv_has(c, "CLUSTER") ? kh_ref_csv_val(c, "CLUSTER") : "";
    if (!*v)
        return 0;
    if (strcmp(v, "1") != 0 && strcmp(v, "2") != 0)
        return kh_ref_csv_fail(c, "CLUSTER '%s' is not 1, 2 or empty", v);
    if (!strstr(s->soorten, "SO"))
        return kh_ref_csv_fail(c, "CLUSTER %s for a location without SO or VSO", v);
    s->cluster = v[0] - '0';
    return 0;
}

static int school_row(loader *L, kh_ref_csv *c, void *arg) {
    (void)arg;
    kh_ref_school *s = kh_ref_table_add(&L->ref->scholen, c->line);
    char brin[5], vest[7];
    if (kh_ref_csv_code(c, "BRIN NUMMER", "DDAA", "2 digits + 2 uppercase letters", brin,
                        sizeof brin) < 0)
        return -1;
    /* DUO writes the vestigingsnummer either alone (00) or with the BRIN. */
    const char *v = kh_ref_csv_val(c, "VESTIGINGSNUMMER");
    if (kh_code_matches(v, "DD"))
        snprintf(vest, sizeof vest, "%s", v);
    else if (kh_code_matches(v, "DDAADD") && strncmp(v, brin, 4) == 0)
        snprintf(vest, sizeof vest, "%s", v + 4);
    else
        return kh_ref_csv_fail(c, "VESTIGINGSNUMMER '%s' is not 2 digits (or BRIN %s + 2 digits)",
                               v, brin);
    snprintf(s->code, sizeof s->code, "%s%.2s", brin, vest);
    if (kh_ref_csv_text(c, "VESTIGINGSNAAM", s->naam, sizeof s->naam) < 0 ||
        kh_ref_csv_gemeente(c, "GEMEENTENUMMER", s->gemeente) < 0 ||
        kh_ref_csv_soorten(c, "ONDERWIJSSOORT", s->soorten, sizeof s->soorten) < 0 ||
        kh_ref_csv_period(c, "DATUM INGANG", "DATUM EINDE", &s->valid_from, &s->valid_to) < 0 ||
        school_cluster(c, s) < 0)
        return -1;
    return check_gemeente_covers(L->ref, c, "GEMEENTENUMMER", s->gemeente, s->valid_from,
                                 s->valid_to);
}

/* vestigingen.csv (DUO "vestigingen"): school locations. */
static int load_scholen(loader *L) {
    static const char *const cols[] = {
        "BRIN NUMMER",    "VESTIGINGSNUMMER", "VESTIGINGSNAAM", "GEMEENTENUMMER",
        "ONDERWIJSSOORT", "DATUM INGANG",     "DATUM EINDE",    NULL};
    if (each_row(L, "vestigingen.csv", cols, school_row, NULL) < 0)
        return -1;
    return finish_table(L, &L->ref->scholen, "vestigingen.csv");
}

static int aanbieder_row(loader *L, kh_ref_csv *c, void *arg) {
    (void)arg;
    kh_ref_aanbieder *a = kh_ref_table_add(&L->ref->aanbieders, c->line);
    if (kh_ref_csv_code(c, "AGB-CODE", "DDDDDDDD", "8 digits", a->code, sizeof a->code) < 0 ||
        kh_ref_csv_text(c, "NAAM", a->naam, sizeof a->naam) < 0 ||
        kh_ref_csv_gemeente(c, "VESTIGINGSGEMEENTE", a->vestigingsgemeente) < 0 ||
        kh_ref_csv_period(c, "DATUM AANVANG", "DATUM EINDE", &a->valid_from, &a->valid_to) < 0)
        return -1;
    return check_gemeente_covers(L->ref, c, "VESTIGINGSGEMEENTE", a->vestigingsgemeente,
                                 a->valid_from, a->valid_to);
}

/* aanbieders.csv (an AGB register extract). */
static int load_aanbieders(loader *L) {
    static const char *const cols[] = {"AGB-CODE",      "NAAM",        "VESTIGINGSGEMEENTE",
                                       "DATUM AANVANG", "DATUM EINDE", NULL};
    if (each_row(L, "aanbieders.csv", cols, aanbieder_row, NULL) < 0)
        return -1;
    return finish_table(L, &L->ref->aanbieders, "aanbieders.csv");
}

/* A file of our own that a directory may lack (then its table is empty). */
static int present(const loader *L, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", L->dir, name);
    return access(path, F_OK) == 0;
}

static int rmc_row(loader *L, kh_ref_csv *c, void *arg) {
    (void)arg;
    kh_ref_rmc *r = kh_ref_table_add(&L->ref->rmcs, c->line);
    if (kh_ref_csv_code(c, "RMCregioCode", "RMCDD", "RMC + 2 digits", r->code, sizeof r->code) <
            0 ||
        kh_ref_csv_text(c, "RMCregioNaam", r->naam, sizeof r->naam) < 0 ||
        kh_ref_csv_gemeente(c, "Contactgemeente", r->contactgemeente) < 0 ||
        kh_ref_csv_period(c, "DATUM INGANG", "DATUM EINDE", &r->valid_from, &r->valid_to) < 0)
        return -1;
    return check_gemeente_covers(L->ref, c, "Contactgemeente", r->contactgemeente, r->valid_from,
                                 r->valid_to);
}

/* rmc_regio.csv: the contactgemeente of each RMC region (optional). */
static int load_rmcs(loader *L) {
    static const char *const cols[] = {"RMCregioCode", "RMCregioNaam", "Contactgemeente",
                                       "DATUM INGANG", "DATUM EINDE",  NULL};
    if (!present(L, "rmc_regio.csv"))
        return 0;
    if (each_row(L, "rmc_regio.csv", cols, rmc_row, NULL) < 0)
        return -1;
    return finish_table(L, &L->ref->rmcs, "rmc_regio.csv");
}

/* REGIO: a jeugdregio, an SWV or a gemeente code. */
static int afspraak_regio(kh_ref_csv *c, kh_ref_afspraak *a) {
    const char *v = kh_ref_csv_val(c, "REGIO");
    if (!kh_code_matches(v, "JZDD") && !kh_code_matches(v, "PODDDD") &&
        !kh_code_matches(v, "VODDDD") && !kh_code_matches(v, "GMDDDD"))
        return kh_ref_csv_fail(c, "REGIO '%s' is not a jeugdregio (JZ + 2 digits), SWV or GM code",
                               v);
    snprintf(a->regio, sizeof a->regio, "%s", v);
    return 0;
}

static int one_of(kh_ref_csv *c, const char *col, const char *const *known, char *dst, size_t cap) {
    if (kh_ref_csv_text(c, col, dst, cap) < 0)
        return -1;
    for (; *known; known++)
        if (strcmp(*known, dst) == 0)
            return 0;
    return kh_ref_csv_fail(c, "%s '%s' is not one of the values in deploy/reference/README.md", col,
                           dst);
}

/* An empty begin date: the document does not say since when. */
static int afspraak_period(kh_ref_csv *c, kh_ref_afspraak *a) {
    if (*kh_ref_csv_val(c, "DATUM INGANG"))
        return kh_ref_csv_period(c, "DATUM INGANG", "DATUM EINDE", &a->valid_from, &a->valid_to);
    a->valid_from = INT32_MIN;
    a->valid_to = KH_REF_FOREVER;
    int32_t last;
    if (*kh_ref_csv_val(c, "DATUM EINDE")) {
        if (kh_ref_csv_date(c, "DATUM EINDE", &last) < 0)
            return -1;
        a->valid_to = last + 1;
    }
    return 0;
}

static int afspraak_row(loader *L, kh_ref_csv *c, void *arg) {
    static const char *const onderwerpen[] = {"HULP_OP_SCHOOL",         "WOONPLAATSBEGINSEL",
                                              "THUISZITTER_AANBOD",     "THUISZITTER_REGISTRATIE",
                                              "GRENSVERKEER_CONVENANT", NULL};
    static const char *const statussen[] = {"AFSPRAAK", "ADVIES", NULL};
    size_t *cap = arg;
    L->ref->afspraken = kh_ref_grow(L->ref->afspraken, cap, L->ref->nafspraken + 1,
                                    sizeof *L->ref->afspraken);
    kh_ref_afspraak *a = &L->ref->afspraken[L->ref->nafspraken++];
    memset(a, 0, sizeof *a);
    int32_t d;
    const char *datum = kh_ref_csv_val(c, "BRON DATUM");
    if (afspraak_regio(c, a) < 0 ||
        one_of(c, "ONDERWERP", onderwerpen, a->onderwerp, sizeof a->onderwerp) < 0 ||
        one_of(c, "STATUS", statussen, a->status, sizeof a->status) < 0 ||
        kh_ref_csv_text(c, "TEKST", a->tekst, sizeof a->tekst) < 0 ||
        kh_ref_csv_text(c, "BRON TITEL", a->bron_titel, sizeof a->bron_titel) < 0 ||
        (*datum && kh_ref_csv_date(c, "BRON DATUM", &d) < 0) || afspraak_period(c, a) < 0)
        return -1;
    snprintf(a->bron_datum, sizeof a->bron_datum, "%s", datum);
    for (size_t i = 0; i + 1 < L->ref->nafspraken; i++) {
        const kh_ref_afspraak *b = &L->ref->afspraken[i];
        if (strcmp(a->regio, b->regio) == 0 && strcmp(a->onderwerp, b->onderwerp) == 0 &&
            a->valid_from < b->valid_to && b->valid_from < a->valid_to)
            return kh_ref_csv_fail(c, "%s already has an agreement on %s in this period", a->regio,
                                   a->onderwerp);
    }
    return 0;
}

/* afspraken.csv: the regions' own agreements, with their source (optional). */
static int load_afspraken(loader *L) {
    static const char *const cols[] = {"REGIO",        "ONDERWERP",   "STATUS",
                                       "TEKST",        "BRON TITEL",  "BRON DATUM",
                                       "DATUM INGANG", "DATUM EINDE", NULL};
    size_t cap = 0;
    if (!present(L, "afspraken.csv"))
        return 0;
    return each_row(L, "afspraken.csv", cols, afspraak_row, &cap);
}

/* The order matters: SWV's before the memberships that name them,
 * herindelingen before the gemeente facts they end, and those facts before
 * the herindelingen, schools and providers checked against them. */
static int load_all(loader *L) {
    if (find_years(L) < 0 || load_swvs(L) < 0 || load_gebieden(L) < 0 || load_leden(L) < 0 ||
        load_herindelingen(L) < 0 || build_gemeenten(L) < 0 || check_herindelingen(L) < 0 ||
        check_continuity(L) < 0 || load_scholen(L) < 0 || load_aanbieders(L) < 0 ||
        load_rmcs(L) < 0 || load_afspraken(L) < 0)
        return -1;
    return 0;
}

int kh_ref_load(const char *dir, kh_ref **out, char *err, size_t errlen) {
    *out = NULL;
    kh_ref *ref = kh_ref_new(dir);
    loader L = {.dir = dir, .ref = ref, .err = err, .errlen = errlen};
    int rc = load_all(&L);
    free(L.geb);
    free(L.leden);
    free(L.years);
    if (rc < 0) {
        kh_ref_free(ref);
        return -1;
    }
    *out = ref;
    return 0;
}
