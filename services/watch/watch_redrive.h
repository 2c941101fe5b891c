/*
 * watch_redrive — the page's redrive button: hands one failed delivery on
 * ketenhub.deadletter.v1 back to ketenhub-push, exactly as `ketenhub
 * deadletters replay` does for each dead letter it replays: the original
 * melding (or raw event) goes to ketenhub.push.retry.v1 for its own partner
 * only, due now, with its age counted afresh, so the partner gets the same
 * webhook-id as before. Only DELIVERY_REJECTED, DELIVERY_EXPIRED and
 * NO_SUBSCRIPTION dead letters have a partner and can be redriven.
 */
#ifndef WATCH_REDRIVE_H
#define WATCH_REDRIVE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_config.h"
#include "kh_schema.h"

typedef struct watch_redrive_ctx {
    const kh_config *config;
    const kh_schemas *schemas;
    rd_kafka_t *producer; /* shared, thread-safe; from kh_kafka_producer_new */
    const char *deadletter_topic, *retry_topic; /* full names */
} watch_redrive_ctx;

/* Whether a dead letter with this reason code can be redriven. */
int watch_redrive_allowed(const char *reason_code);

/* Reads the dead letter at partition/offset and writes its retry record.
 * Returns 0 with the partner ("TYPE:CODE") in partner; -1 with err filled:
 * not found, not a delivery, or Kafka refused. Blocks up to ~10 s. */
int watch_redrive(const watch_redrive_ctx *c, int32_t partition, int64_t offset, char *partner,
                  size_t plen, char *err, size_t errlen);

#endif
