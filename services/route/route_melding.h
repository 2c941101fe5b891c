/*
 * route_melding — a melding as Kafka sees it: the Melding Avro value of
 * schemas/avro/melding.avsc in the wire format, the record key (the
 * recipient's code) and the headers (event-type=melding, melding-id,
 * ontvanger "TYPE:CODE").
 *
 * Everything in the value comes from the cause event, the reference data at
 * its date and the cause's place on Kafka; aangemaakt_op is the cause's
 * received_at (else occurred_at), never the clock, so replaying an event
 * gives a byte-identical melding. The encoding is kh_melding's.
 */
#ifndef ROUTE_MELDING_H
#define ROUTE_MELDING_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_melding.h"
#include "route_event.h"
#include "route_rules.h"

/* Where the cause event is on Kafka. */
typedef struct route_cause {
    const char *topic;
    int32_t partition;
    int64_t offset;
} route_cause;

/* Encodes melding m of result r (for event ev) into *wire (the caller frees
 * it, or hands it to librdkafka with RD_KAFKA_MSG_F_FREE). Returns 0, or -1
 * with err filled. */
int route_melding_encode(kh_melding_encoder *e, const route_event *ev, const route_result *r,
                         const route_melding *m, const route_cause *cause, char **wire, size_t *len,
                         char *err, size_t errlen);

/* The recipient: its OrganisatieType and code (pointers into r). */
const char *route_melding_ontvanger_type(const route_melding *m);
const char *route_melding_ontvanger_code(const route_result *r, const route_melding *m);

/* The record headers of m; the caller owns them (rd_kafka_producev takes
 * them over on success). */
rd_kafka_headers_t *route_melding_headers(const route_result *r, const route_melding *m);

#endif
