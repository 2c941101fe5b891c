/*
 * kh_ref_internal — private to kh_ref: what a snapshot is made of, shared
 * by the lookups (kh_ref.c) and the loader that fills it (kh_ref_load.c).
 *
 * A dated table is an array of facts plus an index sorted by (code,
 * valid_from), so a lookup is one binary search: the router does several
 * per event and must not scan. Tables are filled by one thread and read
 * only after kh_ref_table_index.
 */
#ifndef KH_REF_INTERNAL_H
#define KH_REF_INTERNAL_H

#include "kh_ref.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ref_key {
    uint64_t code;
    int32_t from, to;
    uint32_t row;
} ref_key;

typedef struct ref_table {
    char *rows;    /* n facts of `size` bytes, code first, in load order */
    int *lines;    /* source line of each fact, for messages */
    ref_key *keys; /* sorted by (code, from) */
    size_t n, cap, size, from_off, to_off;
} ref_table;

typedef struct herindeling {
    uint64_t key; /* of oud */
    int32_t datum;
    int line;
    char oud[7], nieuw[7];
} herindeling;

struct kh_ref {
    ref_table gemeenten, scholen, aanbieders, swvs, rmcs;
    kh_ref_afspraak *afspraken; /* in file order */
    size_t nafspraken;
    herindeling *her; /* sorted by (oud, datum) */
    size_t nher;
    char *dir;      /* the directory loaded, for kh_ref_summarize */
    int first_year; /* of the oldest gebieden_YYYY.csv */
    int last_year;  /* of the newest */
    int32_t first;  /* 1 January of first_year */
    int refs;       /* kh_refstore's count of holders */
};

/* An empty snapshot whose tables are ready to be filled. */
kh_ref *kh_ref_new(const char *dir);

/* qsort, minus the undefined behaviour of a NULL base for empty arrays. */
void kh_ref_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* p grown (kh_realloc) to hold at least need items of size bytes; *cap is
 * the capacity in items. */
void *kh_ref_grow(void *p, size_t *cap, size_t need, size_t size);

/* A code of at most 8 bytes as a big-endian word, so that comparing keys
 * compares codes. Returns -1 for an empty or longer code. */
int kh_ref_code_key(const char *code, uint64_t *key);

/* Fact i of t. */
void *kh_ref_table_row(const ref_table *t, size_t i);

/* Appends a zeroed fact read on line and returns it. */
void *kh_ref_table_add(ref_table *t, int line);

/* (Re)builds the sorted index after facts were added or changed. */
void kh_ref_table_index(ref_table *t);

#endif
