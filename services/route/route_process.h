/*
 * route_process — one consumed record in, the records to produce out:
 * decode (kh_codec), read the fields (route_event), apply the rules with
 * the current reference snapshot (route_rules), encode each melding
 * (route_melding). A poison record becomes one dead letter (kh_deadletter)
 * instead. No Kafka calls: the loop produces the outputs.
 */
#ifndef ROUTE_PROCESS_H
#define ROUTE_PROCESS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "kh_ref.h"
#include "kh_schema.h"
#include "route_event.h"
#include "route_melding.h"
#include "route_rules.h"

#define ROUTE_SERVICE "route" /* dlq-service and DeadLetter.service */

/* One record to produce. value and headers belong to the output until the
 * loop hands them to librdkafka (then it sets them to NULL). */
typedef struct route_output {
    int deadletter;          /* 0: a melding for grensverkeer, 1: a dead letter */
    int rule;                /* a melding's rule index */
    const char *reason_code; /* a dead letter's reason */
    const void *key;         /* recipient code, or the poison record's own key */
    size_t keylen;
    char *value;
    size_t len;
    rd_kafka_headers_t *headers;
} route_output;

typedef struct route_processor {
    const kh_schemas *schemas;
    route_event_reader reader;
    kh_melding_encoder enc;
    route_result result;
    route_output out[ROUTE_MAX_MELDINGEN];
    size_t nout;
    char reason[512];
} route_processor;

/* Returns 0, or -1 with err filled. */
int route_processor_init(route_processor *p, const kh_schemas *schemas, char *err, size_t errlen);
void route_processor_free(route_processor *p);

/* Processes m, a record of the topic of event type kind, with reference
 * data ref, into p->out[0 .. p->nout). Poison is a result, not a failure:
 * one dead-letter output. Returns 0, or -1 with err filled when a melding
 * or dead letter cannot be built (out of memory; a bug), with no outputs. */
int route_process(route_processor *p, const rd_kafka_message_t *m, route_kind kind,
                  const kh_ref *ref, char *err, size_t errlen);

/* Frees outputs not handed over and empties the list. */
void route_process_discard(route_processor *p);

#endif
