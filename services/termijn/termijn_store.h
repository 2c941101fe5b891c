/*
 * termijn_store — the open termijnen in memory: per partition a hash map
 * from the child's pseudonym (the record key) to its dossier. Partitions
 * are loaded (restored from the changelog) and dropped as the consumer
 * group assigns and revokes them.
 *
 * The store owns the dossiers; a pointer returned by termijn_store_get stays
 * valid until that key is deleted or its partition dropped. Not thread-safe.
 */
#ifndef TERMIJN_STORE_H
#define TERMIJN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "termijn_core.h"

#define TERMIJN_KEY_LEN 65 /* a pseudonym: 64 hex characters */

typedef struct termijn_store termijn_store;

/* NULL when out of memory. */
termijn_store *termijn_store_new(void);
void termijn_store_free(termijn_store *s);

/* The dossier of key (keylen bytes, at most 64) in partition p; with
 * create, a new empty one when absent (NULL only when out of memory, or
 * key too long). */
termijn_dossier *termijn_store_get(termijn_store *s, int32_t p, const void *key, size_t keylen,
                                   int create);

/* Removes key's dossier (freeing it). */
void termijn_store_delete(termijn_store *s, int32_t p, const void *key, size_t keylen);

/* Forgets every dossier of partition p. */
void termijn_store_drop(termijn_store *s, int32_t p);

/* Whether partition p is loaded; marks it loaded. */
int termijn_store_loaded(const termijn_store *s, int32_t p);
void termijn_store_mark_loaded(termijn_store *s, int32_t p);

/* Calls fn for every dossier of every loaded partition; fn returns 1 to
 * have the dossier deleted afterwards (it is then empty). */
typedef int termijn_store_fn(void *ud, int32_t p, const char *key, termijn_dossier *d);
void termijn_store_each(termijn_store *s, termijn_store_fn *fn, void *ud);

/* Dossiers and termijnen held. */
size_t termijn_store_dossiers(const termijn_store *s);
size_t termijn_store_termijnen(const termijn_store *s);

#endif
