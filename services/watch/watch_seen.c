/*
 * watch_seen — the two-generation set of recently seen hashes.
 */
#include "watch_seen.h"

#include "kh_alloc.h"

#include <stdlib.h>
#include <string.h>

struct watch_seen {
    size_t cap, slots, young_n;
    uint64_t *young, *old; /* open addressing; 0 marks a free slot */
};

uint64_t watch_hash(uint64_t h, const char *s) {
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
}

watch_seen *watch_seen_new(size_t cap) {
    watch_seen *s = kh_calloc(1, sizeof *s);
    s->cap = cap ? cap : 1;
    for (s->slots = 16; s->slots < 2 * s->cap; s->slots *= 2)
        ;
    s->young = kh_calloc(s->slots, sizeof *s->young);
    s->old = kh_calloc(s->slots, sizeof *s->old);
    return s;
}

void watch_seen_free(watch_seen *s) {
    if (!s)
        return;
    free(s->young);
    free(s->old);
    free(s);
}

static int in(const uint64_t *set, size_t slots, uint64_t h) {
    for (size_t i = h & (slots - 1); set[i]; i = (i + 1) & (slots - 1))
        if (set[i] == h)
            return 1;
    return 0;
}

int watch_seen_has(const watch_seen *s, uint64_t h) {
    h |= 1;
    return in(s->young, s->slots, h) || in(s->old, s->slots, h);
}

int watch_seen_add(watch_seen *s, uint64_t h) {
    h |= 1;
    if (in(s->young, s->slots, h) || in(s->old, s->slots, h))
        return 0;
    if (s->young_n >= s->cap) {
        uint64_t *t = s->old;
        s->old = s->young;
        s->young = t;
        memset(s->young, 0, s->slots * sizeof *s->young);
        s->young_n = 0;
    }
    size_t i = h & (s->slots - 1);
    while (s->young[i])
        i = (i + 1) & (s->slots - 1);
    s->young[i] = h;
    s->young_n++;
    return 1;
}
