/*
 * lookup — is an event on its topic? The answer for an id whose first write
 * failed while the broker may have stored it all the same (window.h,
 * UNSURE): before a resubmission of that id is produced, ingest looks for
 * the first write on the partition it went to.
 *
 * A record is the event when its headers event-id and bron are the
 * event's. The search reads the partition backwards from its high
 * watermark (what a consumer can read now) in growing spans, until a
 * record older than the first write (its timestamp, the producer's
 * CreateTime, before sent_ms minus a margin) or the start of the
 * partition: records are appended in about the order they were produced,
 * so the first write, if stored, is among the records read. Each call makes
 * its own short-lived consumer with the kafka.* settings (no group
 * membership, nothing committed); rare, so nothing is kept between calls.
 * Thread-safe: calls share nothing.
 */
#ifndef INGEST_LOOKUP_H
#define INGEST_LOOKUP_H

#include <stdint.h>

#include "kh_config.h"

typedef enum ingest_lookup_result {
    INGEST_LOOKUP_FOUND,  /* stored: *offset is where */
    INGEST_LOOKUP_ABSENT, /* not among the records up to the high watermark */
    INGEST_LOOKUP_UNKNOWN /* the broker did not answer in time: err says why */
} ingest_lookup_result;

/* Looks on topic's partition for the record with headers event-id and
 * bron, written at or after sent_ms (milliseconds since the epoch), within
 * timeout_ms. */
ingest_lookup_result ingest_lookup_find(const kh_config *c, const char *topic, int32_t partition,
                                        int64_t sent_ms, const char *event_id, const char *bron,
                                        int timeout_ms, int64_t *offset, char *err, size_t errlen);

#endif
