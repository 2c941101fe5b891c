/*
 * termijn_store — chained hash maps of dossiers, one per partition.
 */
#include "termijn_store.h"

#include "kh_alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    char key[TERMIJN_KEY_LEN];
    termijn_dossier d;
} entry;

typedef struct part {
    entry **buckets;
    size_t nbuckets, count;
    int loaded;
} part;

struct termijn_store {
    part *parts;
    size_t nparts;
};

termijn_store *termijn_store_new(void) { return kh_calloc(1, sizeof(termijn_store)); }

static void clear(part *p) {
    for (size_t b = 0; b < p->nbuckets; b++)
        for (entry *e = p->buckets[b], *next; e; e = next) {
            next = e->next;
            termijn_dossier_free(&e->d);
            free(e);
        }
    free(p->buckets);
    memset(p, 0, sizeof *p);
}

void termijn_store_free(termijn_store *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->nparts; i++)
        clear(&s->parts[i]);
    free(s->parts);
    free(s);
}

/* FNV-1a: pseudonyms are already uniform hex, any cheap mix will do. */
static size_t hash(const char *key) {
    uint64_t h = 1469598103934665603ull;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return (size_t)h;
}

static part *part_at(termijn_store *s, int32_t p, int create) {
    if (p < 0)
        return NULL;
    if ((size_t)p >= s->nparts) {
        if (!create)
            return NULL;
        part *np = kh_realloc(s->parts, ((size_t)p + 1) * sizeof *np);
        memset(np + s->nparts, 0, ((size_t)p + 1 - s->nparts) * sizeof *np);
        s->parts = np;
        s->nparts = (size_t)p + 1;
    }
    return &s->parts[p];
}

static int grow(part *p) {
    size_t n = p->nbuckets ? p->nbuckets * 2 : 1024;
    entry **nb = kh_calloc(n, sizeof *nb);
    for (size_t b = 0; b < p->nbuckets; b++)
        for (entry *e = p->buckets[b], *next; e; e = next) {
            next = e->next;
            size_t i = hash(e->key) & (n - 1);
            e->next = nb[i];
            nb[i] = e;
        }
    free(p->buckets);
    p->buckets = nb;
    p->nbuckets = n;
    return 0;
}

static int key_of(const void *key, size_t keylen, char out[TERMIJN_KEY_LEN]) {
    if (keylen >= TERMIJN_KEY_LEN)
        return -1;
    memcpy(out, key, keylen);
    out[keylen] = '\0';
    return 0;
}

termijn_dossier *termijn_store_get(termijn_store *s, int32_t p, const void *key, size_t keylen,
                                   int create) {
    char k[TERMIJN_KEY_LEN];
    part *pt = part_at(s, p, create);
    if (!pt || key_of(key, keylen, k))
        return NULL;
    if (pt->nbuckets) {
        for (entry *e = pt->buckets[hash(k) & (pt->nbuckets - 1)]; e; e = e->next)
            if (strcmp(e->key, k) == 0)
                return &e->d;
    }
    if (!create || (pt->count >= pt->nbuckets && grow(pt)))
        return NULL;
    entry *e = kh_calloc(1, sizeof *e);
    memcpy(e->key, k, sizeof k);
    size_t i = hash(k) & (pt->nbuckets - 1);
    e->next = pt->buckets[i];
    pt->buckets[i] = e;
    pt->count++;
    return &e->d;
}

void termijn_store_delete(termijn_store *s, int32_t p, const void *key, size_t keylen) {
    char k[TERMIJN_KEY_LEN];
    part *pt = part_at(s, p, 0);
    if (!pt || !pt->nbuckets || key_of(key, keylen, k))
        return;
    for (entry **pe = &pt->buckets[hash(k) & (pt->nbuckets - 1)]; *pe; pe = &(*pe)->next)
        if (strcmp((*pe)->key, k) == 0) {
            entry *e = *pe;
            *pe = e->next;
            termijn_dossier_free(&e->d);
            free(e);
            pt->count--;
            return;
        }
}

void termijn_store_drop(termijn_store *s, int32_t p) {
    part *pt = part_at(s, p, 0);
    if (pt)
        clear(pt);
}

int termijn_store_loaded(const termijn_store *s, int32_t p) {
    return p >= 0 && (size_t)p < s->nparts && s->parts[p].loaded;
}

void termijn_store_mark_loaded(termijn_store *s, int32_t p) {
    part *pt = part_at(s, p, 1);
    if (pt)
        pt->loaded = 1;
}

static void each_in(part *pt, int32_t p, termijn_store_fn *fn, void *ud) {
    for (size_t b = 0; b < pt->nbuckets; b++)
        for (entry **pe = &pt->buckets[b]; *pe;) {
            entry *e = *pe;
            if (fn(ud, p, e->key, &e->d)) {
                *pe = e->next;
                termijn_dossier_free(&e->d);
                free(e);
                pt->count--;
            } else {
                pe = &e->next;
            }
        }
}

void termijn_store_each(termijn_store *s, termijn_store_fn *fn, void *ud) {
    for (size_t p = 0; p < s->nparts; p++)
        if (s->parts[p].loaded)
            each_in(&s->parts[p], (int32_t)p, fn, ud);
}

size_t termijn_store_dossiers(const termijn_store *s) {
    size_t n = 0;
    for (size_t p = 0; p < s->nparts; p++)
        n += s->parts[p].count;
    return n;
}

size_t termijn_store_termijnen(const termijn_store *s) {
    size_t n = 0;
    for (size_t p = 0; p < s->nparts; p++)
        for (size_t b = 0; b < s->parts[p].nbuckets; b++)
            for (const entry *e = s->parts[p].buckets[b]; e; e = e->next)
                n += e->d.n;
    return n;
}
