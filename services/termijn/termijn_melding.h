/*
 * termijn_melding — a termijn melding as Kafka sees it: the Melding value
 * of schemas/avro/melding.avsc (with its `termijn` record) in the wire
 * format, keyed by the recipient's code, with the headers route's meldingen
 * carry (event-type=melding, melding-id, ontvanger "TYPE:CODE"), so push
 * delivers both alike and partners subscribe to termijn regels by name.
 *
 * Everything in the value comes from the termijn and the reference data,
 * never the clock; the encoding is kh_melding's.
 */
#ifndef TERMIJN_MELDING_H
#define TERMIJN_MELDING_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "kh_melding.h"
#include "termijn_core.h"

/* Encodes m into *wire (the caller frees it, or hands it to librdkafka).
 * topics names the event topics by termijn_kind (the oorzaak's topic).
 * Returns 0, or -1 with err filled. */
int termijn_melding_encode(kh_melding_encoder *e, const termijn_melding *m,
                           const char *const topics[TERMIJN_EV_KINDS], char **wire, size_t *len,
                           char *err, size_t errlen);

/* The record headers of m; the caller owns them. */
rd_kafka_headers_t *termijn_melding_headers(const termijn_melding *m);

#endif
