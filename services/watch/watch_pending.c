/*
 * watch_pending — pending meldingen per partner in a linear-probing table
 * with backward-shift deletion (no tombstones, so the table never clogs).
 */
#include "watch_pending.h"

#include "kh_alloc.h"
#include "watch_seen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint64_t h; /* 0: free */
    int64_t ts;
    int32_t partner;
} slot;

struct watch_pending {
    size_t cap, slots, n;
    slot *table;
    watch_seen *done;
    char partners[WATCH_PENDING_PARTNERS][32];
    int npartners;
    uint64_t untracked;
};

watch_pending *watch_pending_new(size_t cap) {
    watch_pending *p = kh_calloc(1, sizeof *p);
    p->cap = cap ? cap : 1;
    for (p->slots = 16; p->slots < 2 * p->cap; p->slots *= 2)
        ;
    p->table = kh_calloc(p->slots, sizeof *p->table);
    p->done = watch_seen_new(p->cap);
    return p;
}

void watch_pending_free(watch_pending *p) {
    if (!p)
        return;
    free(p->table);
    watch_seen_free(p->done);
    free(p);
}

static int partner_of(watch_pending *p, const char *name) {
    for (int i = 0; i < p->npartners; i++)
        if (strcmp(p->partners[i], name) == 0)
            return i;
    if (p->npartners >= WATCH_PENDING_PARTNERS)
        return -1;
    snprintf(p->partners[p->npartners], sizeof p->partners[0], "%s", name);
    return p->npartners++;
}

static size_t find(const watch_pending *p, uint64_t h) {
    size_t i = h & (p->slots - 1);
    while (p->table[i].h && p->table[i].h != h)
        i = (i + 1) & (p->slots - 1);
    return i;
}

void watch_pending_melding(watch_pending *p, const char *melding_id, const char *partner,
                           int64_t ts_ms) {
    uint64_t h = watch_hash(WATCH_HASH_SEED, melding_id) | 1;
    int who = partner_of(p, partner);
    if (watch_seen_has(p->done, h))
        return;
    size_t i = find(p, h);
    if (p->table[i].h)
        return;
    if (p->n >= p->cap || who < 0) {
        p->untracked++;
        return;
    }
    p->table[i] = (slot){h, ts_ms, who};
    p->n++;
}

void watch_pending_done(watch_pending *p, const char *melding_id) {
    uint64_t h = watch_hash(WATCH_HASH_SEED, melding_id) | 1;
    watch_seen_add(p->done, h);
    size_t i = find(p, h), mask = p->slots - 1;
    if (!p->table[i].h)
        return;
    p->table[i].h = 0;
    p->n--;
    /* Backward shift: move later members of the probe run into the hole
     * when their home slot does not lie cyclically in (hole, j]. */
    for (size_t j = (i + 1) & mask; p->table[j].h; j = (j + 1) & mask) {
        size_t home = p->table[j].h & mask;
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            p->table[i] = p->table[j];
            p->table[j].h = 0;
            i = j;
        }
    }
}

void watch_pending_each(const watch_pending *p, watch_pending_fn fn, void *ud) {
    size_t count[WATCH_PENDING_PARTNERS] = {0};
    int64_t oldest[WATCH_PENDING_PARTNERS];
    for (int k = 0; k < p->npartners; k++)
        oldest[k] = -1;
    for (size_t i = 0; i < p->slots; i++) {
        const slot *s = &p->table[i];
        if (!s->h)
            continue;
        count[s->partner]++;
        if (oldest[s->partner] < 0 || s->ts < oldest[s->partner])
            oldest[s->partner] = s->ts;
    }
    for (int k = 0; k < p->npartners; k++)
        fn(p->partners[k], count[k], oldest[k], ud);
}

uint64_t watch_pending_untracked(const watch_pending *p) { return p->untracked; }
