/*
 * watch_region — cases per rule, month and region pair, with the
 * disclosure control of watch_region.h.
 */
#include "watch_region.h"

#include "kh_alloc.h"
#include "kh_time.h"
#include "watch_seen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    char regel[48], maand[16], a[12], b[12];
    watch_paar paar;
    int64_t count;
    char jr[WATCH_REGION_TAGS][8], swv[WATCH_REGION_TAGS][8];
} row;

struct watch_region {
    size_t max, n, slots;
    row *rows;
    size_t *index; /* row number + 1 */
    watch_seen *causes;
    uint64_t dropped;
};

watch_region *watch_region_new(size_t max_rows, size_t dedupe) {
    watch_region *r = kh_calloc(1, sizeof *r);
    r->max = max_rows ? max_rows : 1;
    for (r->slots = 16; r->slots < 2 * r->max; r->slots *= 2)
        ;
    r->rows = kh_calloc(r->max, sizeof *r->rows);
    r->index = kh_calloc(r->slots, sizeof *r->index);
    r->causes = watch_seen_new(dedupe);
    return r;
}

void watch_region_free(watch_region *r) {
    if (!r)
        return;
    free(r->rows);
    free(r->index);
    watch_seen_free(r->causes);
    free(r);
}

uint64_t watch_region_dropped(const watch_region *r) { return r->dropped; }

static void add_tag(char tags[WATCH_REGION_TAGS][8], const char *tag) {
    if (!tag || !*tag)
        return;
    for (int i = 0; i < WATCH_REGION_TAGS; i++) {
        if (strcmp(tags[i], tag) == 0)
            return;
        if (!tags[i][0]) {
            snprintf(tags[i], sizeof tags[i], "%s", tag);
            return;
        }
    }
}

/* The row of (regel, maand, paar, a, b), made when there is room. */
static row *row_of(watch_region *r, const char *regel, const char *maand, watch_paar p,
                   const char *a, const char *b) {
    uint64_t h = watch_hash(watch_hash(watch_hash(watch_hash(watch_hash(WATCH_HASH_SEED, regel),
                                                             maand),
                                                  watch_paar_name(p)),
                                       a),
                            b);
    size_t i = h & (r->slots - 1);
    for (; r->index[i]; i = (i + 1) & (r->slots - 1)) {
        row *x = &r->rows[r->index[i] - 1];
        if (x->paar == p && !strcmp(x->regel, regel) && !strcmp(x->maand, maand) &&
            !strcmp(x->a, a) && !strcmp(x->b, b))
            return x;
    }
    if (r->n >= r->max)
        return NULL;
    row *x = &r->rows[r->n++];
    snprintf(x->regel, sizeof x->regel, "%s", regel);
    snprintf(x->maand, sizeof x->maand, "%s", maand);
    snprintf(x->a, sizeof x->a, "%s", a);
    snprintf(x->b, sizeof x->b, "%s", b);
    x->paar = p;
    r->index[i] = r->n;
    return x;
}

int watch_region_add(watch_region *r, const watch_case *c) {
    if (!watch_seen_add(r->causes, watch_hash(watch_hash(WATCH_HASH_SEED, c->cause), c->regel)))
        return 0;
    char maand[16];
    int y, m, d;
    kh_date_to_ymd(c->peildatum, &y, &m, &d);
    snprintf(maand, sizeof maand, "%04d-%02d", y, m);
    for (int p = 0; p < WATCH_PAAR_COUNT; p++) {
        if (!c->a[p] || !c->b[p])
            continue;
        row *x = row_of(r, c->regel, maand, (watch_paar)p, c->a[p], c->b[p]);
        if (!x) {
            r->dropped++;
            continue;
        }
        x->count++;
        for (int t = 0; t < WATCH_REGION_TAGS; t++) {
            add_tag(x->jr, c->jeugdregio[t]);
            add_tag(x->swv, c->swv[t]);
        }
    }
    return 1;
}

const char *watch_paar_name(watch_paar p) {
    static const char *const names[] = {"gemeente", "swv", "jeugdregio"};
    return (unsigned)p < WATCH_PAAR_COUNT ? names[p] : "?";
}

int watch_paar_parse(const char *name) {
    for (int p = 0; p < WATCH_PAAR_COUNT; p++)
        if (name && strcmp(name, watch_paar_name((watch_paar)p)) == 0)
            return p;
    return -1;
}

int64_t watch_region_rounded(int64_t n) { return n - n % 5; }

const char *watch_region_shown(int64_t n, char *buf) {
    if (n > 0 && n < 5)
        snprintf(buf, 24, "< 5");
    else
        snprintf(buf, 24, "%lld", (long long)watch_region_rounded(n));
    return buf;
}

static int has_tag(const char tags[WATCH_REGION_TAGS][8], const char *tag) {
    if (!tag || !*tag)
        return 1;
    for (int i = 0; i < WATCH_REGION_TAGS; i++)
        if (strcmp(tags[i], tag) == 0)
            return 1;
    return 0;
}

static int row_cmp(const void *x, const void *y) {
    const row *a = *(row *const *)x, *b = *(row *const *)y;
    int c = strcmp(a->regel, b->regel);
    if (!c)
        c = strcmp(a->maand, b->maand);
    if (!c)
        c = strcmp(a->a, b->a);
    return c ? c : strcmp(a->b, b->b);
}

/* The rows of kind p passing the filters, in publication order; *n set.
 * Caller frees the array. */
static row **selected(const watch_region *r, watch_paar p, const char *jr, const char *swv,
                      size_t *n) {
    row **sel = kh_malloc((r->n ? r->n : 1) * sizeof *sel);
    *n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->rows[i].paar == p && has_tag(r->rows[i].jr, jr) && has_tag(r->rows[i].swv, swv))
            sel[(*n)++] = &r->rows[i];
    qsort(sel, *n, sizeof *sel, row_cmp);
    return sel;
}

/* Calls group() once per (regel, maand) with its rows. */
typedef void (*group_fn)(row **rows, size_t n, int64_t total, void *ud);

static void each_group(row **sel, size_t n, group_fn fn, void *ud) {
    for (size_t start = 0; start < n;) {
        size_t end = start;
        int64_t total = 0;
        while (end < n && !strcmp(sel[end]->regel, sel[start]->regel) &&
               !strcmp(sel[end]->maand, sel[start]->maand))
            total += sel[end++]->count;
        fn(sel + start, end - start, total, ud);
        start = end;
    }
}

static void group_json(row **rows, size_t n, int64_t total, void *ud) {
    char buf[24];
    json_t *rijen = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rijen, json_pack("{s:s, s:s, s:s}", "a", rows[i]->a, "b", rows[i]->b,
                                               "aantal", watch_region_shown(rows[i]->count, buf)));
    json_array_append_new(ud, json_pack("{s:s, s:s, s:s, s:o}", "regel", rows[0]->regel, "maand",
                                        rows[0]->maand, "totaal", watch_region_shown(total, buf),
                                        "rijen", rijen));
}

json_t *watch_region_table(const watch_region *r, watch_paar p, const char *jeugdregio,
                           const char *swv) {
    size_t n;
    row **sel = selected(r, p, jeugdregio, swv, &n);
    json_t *groepen = json_array();
    each_group(sel, n, group_json, groepen);
    free(sel);
    return json_pack("{s:s, s:s, s:o}", "paar", watch_paar_name(p), "afronding",
                     "aantallen naar beneden afgerond op een veelvoud van 5; 1 tot 4 als \"< 5\"",
                     "groepen", groepen);
}

typedef struct csv {
    char *text;
    size_t len, cap;
    const char *paar;
} csv;

static void csv_line(csv *c, const row *x, const char *a, const char *b, int64_t n) {
    char buf[24], line[192];
    int k = snprintf(line, sizeof line, "%s,%s,%s,%s,%s,%s\n", x->regel, x->maand, c->paar, a, b,
                     watch_region_shown(n, buf));
    if (c->len + (size_t)k + 1 > c->cap) {
        c->cap = 2 * c->cap + (size_t)k + 1;
        c->text = kh_realloc(c->text, c->cap);
    }
    memcpy(c->text + c->len, line, (size_t)k + 1);
    c->len += (size_t)k;
}

static void group_csv(row **rows, size_t n, int64_t total, void *ud) {
    for (size_t i = 0; i < n; i++)
        csv_line(ud, rows[i], rows[i]->a, rows[i]->b, rows[i]->count);
    csv_line(ud, rows[0], "totaal", "", total);
}

char *watch_region_csv(const watch_region *r, watch_paar p, const char *jeugdregio,
                       const char *swv) {
    size_t n;
    row **sel = selected(r, p, jeugdregio, swv, &n);
    csv c = {.paar = watch_paar_name(p), .cap = 256};
    c.text = kh_strdup("regel,maand,paar,a,b,aantal\n");
    c.len = strlen(c.text);
    c.text = kh_realloc(c.text, c.cap);
    each_group(sel, n, group_csv, &c);
    free(sel);
    return c.text;
}
