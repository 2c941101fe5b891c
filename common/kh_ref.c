/*
 * kh_ref — the dated reference data: which gemeente, jeugdregio, SWV and RMC
 * region a code stood for on a given day, where a school location lies and
 * where a youth-care provider is established.
 *
 * This file holds the snapshot and its lookups: dated tables (an array of
 * facts plus an index sorted by (code, valid_from), so a lookup is one
 * binary search) and the herindelingen a dissolved code is followed
 * through. kh_ref_load.c fills a snapshot from the CSV files (read by
 * kh_ref_csv.c); kh_refstore.c swaps snapshots for a running service.
 */
#include "kh_ref.h"

#include "kh_alloc.h"
#include "kh_ref_internal.h"
#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HOPS 8 /* herindeling chains longer than this are data errors */

void kh_ref_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    if (n > 1)
        qsort(base, n, size, cmp);
}

void *kh_ref_grow(void *p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return p;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    *cap = ncap;
    return kh_realloc(p, ncap * size);
}

/* Codes are at most 8 ASCII bytes, so a big-endian 64-bit word compares
 * exactly like the string and the binary search compares integers. */
int kh_ref_code_key(const char *code, uint64_t *key) {
    uint64_t k = 0;
    size_t i = 0;
    for (; i < 8 && code[i]; i++)
        k = (k << 8) | (unsigned char)code[i];
    if (i == 0 || code[i])
        return -1;
    *key = k << (8 * (8 - i));
    return 0;
}

static void table_init(ref_table *t, size_t size, size_t from_off, size_t to_off) {
    memset(t, 0, sizeof *t);
    t->size = size;
    t->from_off = from_off;
    t->to_off = to_off;
}

static void table_free(ref_table *t) {
    free(t->rows);
    free(t->lines);
    free(t->keys);
}

void *kh_ref_table_row(const ref_table *t, size_t i) { return t->rows + i * t->size; }

static int32_t *row_from(const ref_table *t, size_t i) {
    return (int32_t *)((char *)kh_ref_table_row(t, i) + t->from_off);
}

static int32_t *row_to(const ref_table *t, size_t i) {
    return (int32_t *)((char *)kh_ref_table_row(t, i) + t->to_off);
}

void *kh_ref_table_add(ref_table *t, int line) {
    size_t cap = t->cap;
    t->rows = kh_ref_grow(t->rows, &cap, t->n + 1, t->size);
    cap = t->cap;
    t->lines = kh_ref_grow(t->lines, &cap, t->n + 1, sizeof *t->lines);
    t->cap = cap;
    t->lines[t->n] = line;
    memset(kh_ref_table_row(t, t->n), 0, t->size);
    return kh_ref_table_row(t, t->n++);
}

static int key_cmp(const void *a, const void *b) {
    const ref_key *x = a, *y = b;
    if (x->code != y->code)
        return x->code < y->code ? -1 : 1;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

void kh_ref_table_index(ref_table *t) {
    free(t->keys);
    ref_key *keys = t->keys = kh_malloc((t->n ? t->n : 1) * sizeof *keys);
    for (size_t i = 0; i < t->n; i++) {
        kh_ref_code_key(kh_ref_table_row(t, i), &keys[i].code);
        keys[i].from = *row_from(t, i);
        keys[i].to = *row_to(t, i);
        keys[i].row = (uint32_t)i;
    }
    kh_ref_sort(keys, t->n, sizeof *keys, key_cmp);
}

/* Index of the first key >= (code, from). */
static size_t lower_bound(const ref_table *t, uint64_t code, int32_t from) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ref_key *k = &t->keys[mid];
        if (k->code < code || (k->code == code && k->from < from))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The fact for code valid on date: the last key with (code, from <= date). */
static const void *table_at(const ref_table *t, const char *code, int32_t date) {
    uint64_t k;
    if (!code || kh_ref_code_key(code, &k) < 0 || date == INT32_MAX)
        return NULL;
    size_t i = lower_bound(t, k, date + 1);
    if (i == 0)
        return NULL;
    const ref_key *e = &t->keys[i - 1];
    if (e->code != k || date >= e->to)
        return NULL;
    return kh_ref_table_row(t, e->row);
}

const kh_ref_gemeente *kh_ref_gemeente_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->gemeenten, code, date);
}

const kh_ref_school *kh_ref_school_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->scholen, code, date);
}

const kh_ref_aanbieder *kh_ref_aanbieder_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->aanbieders, code, date);
}

const kh_ref_swv *kh_ref_swv_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->swvs, code, date);
}

const kh_ref_rmc *kh_ref_rmc_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->rmcs, code, date);
}

const kh_ref_afspraak *kh_ref_afspraak_at(const kh_ref *ref, const char *regio,
                                          const char *onderwerp, int32_t date) {
    for (size_t i = 0; i < ref->nafspraken; i++) {
        const kh_ref_afspraak *a = &ref->afspraken[i];
        if (date >= a->valid_from && date < a->valid_to && strcmp(a->regio, regio) == 0 &&
            strcmp(a->onderwerp, onderwerp) == 0)
            return a;
    }
    return NULL;
}

size_t kh_ref_count_gemeenten(const kh_ref *ref) { return ref->gemeenten.n; }

size_t kh_ref_count_scholen(const kh_ref *ref) { return ref->scholen.n; }

size_t kh_ref_count_aanbieders(const kh_ref *ref) { return ref->aanbieders.n; }

size_t kh_ref_count_swvs(const kh_ref *ref) { return ref->swvs.n; }

/* The i-th fact of a table in load order, or NULL past its end. */
static const void *table_nth(const ref_table *t, size_t i) {
    return i < t->n ? kh_ref_table_row(t, i) : NULL;
}

const kh_ref_gemeente *kh_ref_gemeente_nth(const kh_ref *ref, size_t i) {
    return table_nth(&ref->gemeenten, i);
}

const kh_ref_school *kh_ref_school_nth(const kh_ref *ref, size_t i) {
    return table_nth(&ref->scholen, i);
}

const kh_ref_aanbieder *kh_ref_aanbieder_nth(const kh_ref *ref, size_t i) {
    return table_nth(&ref->aanbieders, i);
}

const kh_ref_swv *kh_ref_swv_nth(const kh_ref *ref, size_t i) { return table_nth(&ref->swvs, i); }

/* The herindeling that dissolved code most recently on or before date, or
 * NULL. A gemeente split over several successors has no single answer, so
 * it resolves to none: the caller must then ask for an address. */
static const herindeling *successor(const kh_ref *ref, const char *code, int32_t date) {
    uint64_t k;
    if (kh_ref_code_key(code, &k) < 0)
        return NULL;
    size_t lo = 0, hi = ref->nher;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const herindeling *h = &ref->her[mid];
        if (h->key < k || (h->key == k && h->datum <= date))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || ref->her[lo - 1].key != k)
        return NULL;
    const herindeling *h = &ref->her[lo - 1];
    for (size_t i = lo - 1; i-- > 0 && ref->her[i].key == k && ref->her[i].datum == h->datum;)
        if (strcmp(ref->her[i].nieuw, h->nieuw) != 0)
            return NULL;
    return h;
}

const kh_ref_gemeente *kh_ref_gemeente_resolve(const kh_ref *ref, const char *code, int32_t date,
                                               const char **merged_from) {
    if (merged_from)
        *merged_from = NULL;
    const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, code, date);
    if (g || !code)
        return g;
    const char *first_old = NULL;
    for (int hop = 0; hop < MAX_HOPS; hop++) {
        const herindeling *h = successor(ref, code, date);
        if (!h)
            return NULL;
        if (!first_old)
            first_old = h->oud;
        g = kh_ref_gemeente_at(ref, h->nieuw, date);
        if (g) {
            if (merged_from)
                *merged_from = first_old;
            return g;
        }
        code = h->nieuw;
    }
    return NULL;
}

kh_ref *kh_ref_new(const char *dir) {
    kh_ref *ref = kh_calloc(1, sizeof *ref);
    ref->dir = kh_strdup(dir);
    table_init(&ref->gemeenten, sizeof(kh_ref_gemeente), offsetof(kh_ref_gemeente, valid_from),
               offsetof(kh_ref_gemeente, valid_to));
    table_init(&ref->scholen, sizeof(kh_ref_school), offsetof(kh_ref_school, valid_from),
               offsetof(kh_ref_school, valid_to));
    table_init(&ref->aanbieders, sizeof(kh_ref_aanbieder), offsetof(kh_ref_aanbieder, valid_from),
               offsetof(kh_ref_aanbieder, valid_to));
    table_init(&ref->rmcs, sizeof(kh_ref_rmc), offsetof(kh_ref_rmc, valid_from),
               offsetof(kh_ref_rmc, valid_to));
    table_init(&ref->swvs, sizeof(kh_ref_swv), offsetof(kh_ref_swv, valid_from),
               offsetof(kh_ref_swv, valid_to));
    return ref;
}

void kh_ref_free(kh_ref *ref) {
    if (!ref)
        return;
    table_free(&ref->gemeenten);
    table_free(&ref->scholen);
    table_free(&ref->aanbieders);
    table_free(&ref->swvs);
    table_free(&ref->rmcs);
    free(ref->afspraken);
    free(ref->her);
    free(ref->dir);
    free(ref);
}

void kh_ref_summarize(const kh_ref *ref, kh_ref_summary *out) {
    *out = (kh_ref_summary){
        .dir = ref->dir,
        .first_year = ref->first_year,
        .last_year = ref->last_year,
        .gemeenten = ref->gemeenten.n,
        .scholen = ref->scholen.n,
        .aanbieders = ref->aanbieders.n,
        .swvs = ref->swvs.n,
        .herindelingen = ref->nher,
        .rmcs = ref->rmcs.n,
        .afspraken = ref->nafspraken,
    };
}

json_t *kh_ref_summary_json(const kh_ref *ref) {
    kh_ref_summary s;
    kh_ref_summarize(ref, &s);
    char from[KH_DATE_LEN], years[32];
    kh_date_format(kh_date_from_ymd(s.first_year, 1, 1), from);
    snprintf(years, sizeof years, "%04d-%04d", s.first_year, s.last_year);
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "reference_dir", s.dir,
                     "gebieden_from", from, "gebieden_years", years, "gemeenten",
                     (json_int_t)s.gemeenten, "scholen", (json_int_t)s.scholen, "aanbieders",
                     (json_int_t)s.aanbieders, "swvs", (json_int_t)s.swvs, "herindelingen",
                     (json_int_t)s.herindelingen, "rmcs", (json_int_t)s.rmcs, "afspraken",
                     (json_int_t)s.afspraken);
}
