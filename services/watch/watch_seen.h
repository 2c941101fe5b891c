/*
 * watch_seen — "have I seen this recently?" in fixed memory: a set of 64-bit
 * hashes in two generations. When the young generation holds `cap` hashes
 * it becomes the old one and a fresh young one starts, so the set remembers
 * at least the last `cap` and at most the last 2 * `cap` hashes added.
 * Used to count a case once although route writes a melding per recipient,
 * and to remember delivered meldingen. Pure and unsynchronised.
 */
#ifndef WATCH_SEEN_H
#define WATCH_SEEN_H

#include <stddef.h>
#include <stdint.h>

#define WATCH_HASH_SEED 1469598103934665603ULL

/* FNV-1a of s (NULL counts as empty) continued from h, with a separator. */
uint64_t watch_hash(uint64_t h, const char *s);

typedef struct watch_seen watch_seen;

watch_seen *watch_seen_new(size_t cap);
void watch_seen_free(watch_seen *s);

/* Adds h; returns 1 when it is new, 0 when it was seen. */
int watch_seen_add(watch_seen *s, uint64_t h);

/* Whether h was seen (and not yet forgotten). */
int watch_seen_has(const watch_seen *s, uint64_t h);

#endif
