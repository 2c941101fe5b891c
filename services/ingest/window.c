/*
 * window — a fixed array of slots used as a FIFO ring, with a chained hash
 * index over it. The ring cursor names the slot to reuse next, so eviction is
 * O(chain length) and memory is allocated once.
 */
#include "window.h"

#include "kh_alloc.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

enum { FREE, PENDING, DONE, UNSURE };

typedef struct slot {
    window_key key;
    uint32_t chain; /* next slot in the same bucket */
    uint8_t state;
    window_ticket *owner; /* PENDING: the submission being written or checked */
    window_result result; /* DONE; UNSURE: where the first write may be */
} slot;

struct window {
    pthread_mutex_t lock;
    slot *slots;
    uint32_t capacity, cursor, used;
    uint32_t *buckets;
    uint32_t mask;
    uint64_t seed; /* random, so a partner cannot choose ids that collide */
};

window *ingest_window_new(size_t capacity) {
    if (capacity < 1 || capacity > (1u << 30))
        return NULL;
    window *w = kh_calloc(1, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    uint32_t nb = 1;
    while (nb < capacity * 2)
        nb <<= 1;
    w->slots = kh_calloc(capacity, sizeof *w->slots);
    w->buckets = kh_malloc(nb * sizeof *w->buckets);
    if (RAND_bytes((unsigned char *)&w->seed, sizeof w->seed) != 1) {
        ingest_window_free(w);
        return NULL;
    }
    memset(w->buckets, 0xff, nb * sizeof *w->buckets);
    w->capacity = (uint32_t)capacity;
    w->mask = nb - 1;
    return w;
}

void ingest_window_free(window *w) {
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    free(w->slots);
    free(w->buckets);
    free(w);
}

/* A seeded multiply-xorshift mix of the id's 16 bytes and the bron's 32. */
static uint32_t bucket_of(const window *w, const window_key *k) {
    uint64_t h = w->seed, part;
    for (size_t i = 0; i < sizeof k->id; i += 8) {
        memcpy(&part, k->id + i, 8);
        h = (h ^ part) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    for (size_t i = 0; i < sizeof k->bron; i += 8) {
        memcpy(&part, k->bron + i, 8);
        h = (h ^ part) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 32;
    }
    return (uint32_t)h & w->mask;
}

static int same_key(const window_key *a, const window_key *b) {
    return memcmp(a->id, b->id, sizeof a->id) == 0 && memcmp(a->bron, b->bron, sizeof a->bron) == 0;
}

static uint32_t lookup(const window *w, const window_key *k) {
    for (uint32_t i = w->buckets[bucket_of(w, k)]; i != NONE; i = w->slots[i].chain)
        if (same_key(&w->slots[i].key, k))
            return i;
    return NONE;
}

static void unlink_slot(window *w, uint32_t i) {
    uint32_t *link = &w->buckets[bucket_of(w, &w->slots[i].key)];
    while (*link != i)
        link = &w->slots[*link].chain;
    *link = w->slots[i].chain;
    w->slots[i].state = FREE;
    w->slots[i].owner = NULL;
    w->used--;
}

/* Takes the slot at the cursor, forgetting what it held: the oldest id. An
 * evicted pending owner keeps its waiters; they live in its ticket. */
static uint32_t take_slot(window *w, const window_key *k) {
    uint32_t i = w->cursor;
    w->cursor = (w->cursor + 1) % w->capacity;
    if (w->slots[i].state != FREE)
        unlink_slot(w, i);
    slot *s = &w->slots[i];
    s->key = *k;
    uint32_t b = bucket_of(w, k);
    s->chain = w->buckets[b];
    w->buckets[b] = i;
    w->used++;
    return i;
}

window_claim ingest_window_claim_id(window *w, const window_key *key, window_ticket *t) {
    memset(t, 0, sizeof *t);
    pthread_mutex_lock(&w->lock);
    window_claim claim;
    uint32_t i = lookup(w, key);
    if (i == NONE) {
        i = take_slot(w, key);
        w->slots[i].state = PENDING;
        w->slots[i].owner = t;
        t->slot = i;
        claim = WINDOW_NEW;
    } else if (memcmp(w->slots[i].key.digest, key->digest, sizeof key->digest) != 0) {
        claim = WINDOW_CONFLICT;
    } else if (w->slots[i].state == DONE) {
        t->ok = 1;
        t->result = w->slots[i].result;
        claim = WINDOW_DONE;
    } else if (w->slots[i].state == UNSURE) {
        w->slots[i].state = PENDING;
        w->slots[i].owner = t;
        t->slot = i;
        t->result = w->slots[i].result;
        claim = WINDOW_UNSURE;
    } else {
        window_ticket *owner = w->slots[i].owner;
        t->next = owner->waiters;
        owner->waiters = t;
        claim = WINDOW_PENDING;
    }
    pthread_mutex_unlock(&w->lock);
    return claim;
}

/* Called with the lock held: the outcome into the owner and its waiters. */
static window_ticket *hand_out(window_ticket *owner, int ok, int unsure,
                               const window_result *result) {
    window_ticket *waiters = owner->waiters;
    owner->waiters = NULL;
    for (window_ticket *t = owner; t; t = t == owner ? waiters : t->next) {
        t->ok = ok;
        t->unsure = unsure;
        if (result)
            t->result = *result;
    }
    return waiters;
}

window_ticket *ingest_window_finish(window *w, window_ticket *owner, int ok,
                                    const window_result *result) {
    pthread_mutex_lock(&w->lock);
    slot *s = &w->slots[owner->slot];
    if (s->state == PENDING && s->owner == owner) {
        if (ok) {
            s->state = DONE;
            s->owner = NULL;
            s->result = *result;
        } else {
            unlink_slot(w, owner->slot);
        }
    }
    window_ticket *waiters = hand_out(owner, ok, 0, ok ? result : NULL);
    pthread_mutex_unlock(&w->lock);
    return waiters;
}

window_ticket *ingest_window_finish_unsure(window *w, window_ticket *owner,
                                           const window_result *result) {
    pthread_mutex_lock(&w->lock);
    slot *s = &w->slots[owner->slot];
    if (s->state == PENDING && s->owner == owner) {
        s->state = UNSURE;
        s->owner = NULL;
        s->result = *result;
    }
    window_ticket *waiters = hand_out(owner, 0, 1, result);
    pthread_mutex_unlock(&w->lock);
    return waiters;
}

size_t ingest_window_size(window *w) {
    pthread_mutex_lock(&w->lock);
    size_t n = w->used;
    pthread_mutex_unlock(&w->lock);
    return n;
}
