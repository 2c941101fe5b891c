/*
 * termijn_restore — rebuild the store's dossiers of some partitions from
 * the changelog topic: read each partition from its beginning to its end
 * (read_committed, so an aborted or unfinished transaction is never seen),
 * the last value per key wins, a tombstone deletes. Blocks until done; used
 * on assignment and after an aborted transaction.
 */
#ifndef TERMIJN_RESTORE_H
#define TERMIJN_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "kh_config.h"
#include "termijn_store.h"

typedef struct termijn_restore_stats {
    size_t records, dossiers, bad;
    double seconds;
} termijn_restore_stats;

/* Restores partitions parts[0..n) of topic into s (dropping what s held for
 * them first) and marks them loaded. group_id names the (never committing)
 * reader. Returns 0, or -1 with err filled. A missing topic counts as empty
 * (logged). */
int termijn_restore(const kh_config *c, const char *group_id, const char *topic,
                    const int32_t *parts, size_t n, termijn_store *s, termijn_restore_stats *stats,
                    char *err, size_t errlen);

#endif
