/*
 * push_offsets — which consumed records are finished, per partition, so the
 * committed offset never passes a record whose deliveries are not yet
 * delivered, dead-lettered or durably handed to the retry topic.
 *
 * Every consumed record gets a push_pending with one reference per piece of
 * work it causes (a delivery per recipient, a dead letter, ...); the work
 * drops its reference when its result is acknowledged by the broker. The
 * committable offset of a partition is the offset of its oldest unfinished
 * record, or the next offset after the last record consumed when all are
 * finished. Completion may come in any order.
 *
 * When a partition is revoked its unfinished records become orphans: their
 * references stay valid and may still be dropped, but no longer count, and
 * push_pending_orphan() tells queued work it need not be done (the new owner
 * of the partition reads it again). Single-threaded: the loop owns it.
 */
#ifndef PUSH_OFFSETS_H
#define PUSH_OFFSETS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

typedef struct push_offsets push_offsets;
typedef struct push_pending push_pending;

push_offsets *push_offsets_new(void);

/* Frees the tracker; pending records still referenced become orphans that
 * are freed by their last push_pending_done(). */
void push_offsets_free(push_offsets *o);

/* Starts tracking a consumed record, with one reference. Records of a
 * partition must be tracked in offset order. Never NULL (kh_alloc). */
push_pending *push_offsets_track(push_offsets *o, const char *topic, int32_t partition,
                                 int64_t offset);

void push_pending_ref(push_pending *p);

/* Drops one reference; at zero the record is finished. */
void push_pending_done(push_pending *p);

/* Drops one reference without finishing the record: it stays unfinished
 * (so it is never committed, and is read again after a restart). */
void push_pending_abandon(push_pending *p);

/* Whether the record's partition was revoked after it was consumed. */
int push_pending_orphan(const push_pending *p);

/* The offsets that advanced since the last call (all when all is set),
 * as a list for rd_kafka_commit (caller destroys), or NULL when none. */
rd_kafka_topic_partition_list_t *push_offsets_committable(push_offsets *o, int all);

/* Forgets a revoked partition: its unfinished records become orphans. */
void push_offsets_revoke(push_offsets *o, const char *topic, int32_t partition);

/* Records tracked and not finished, over all partitions. */
size_t push_offsets_unfinished(const push_offsets *o);

#endif
