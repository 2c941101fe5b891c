/*
 * termijn_event — one consumed record to a termijn_event: decode the wire
 * format (kh_codec), check the schema is the topic's event type, and read
 * the fields the regels need straight from the decoded Avro record, by
 * field name (no JSON in between, as route_event). A record that
 * cannot be read is poison: the reason code and text say why (for the
 * dead letter); the text never holds a value of the record.
 */
#ifndef TERMIJN_EVENT_H
#define TERMIJN_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "kh_schema.h"
#include "termijn_core.h"

/* The schema / event-type name of a kind ("aanmelding"). */
const char *termijn_kind_name(termijn_kind kind);

/* Reads payload (len bytes) of a record of kind's topic into ev; oorzaak's
 * partition and offset are the caller's. Returns 0, or -1 with
 * *reason_code (static, a kh_deadletter reason name) and reason filled. */
int termijn_event_read(const kh_schemas *schemas, termijn_kind kind, const void *payload,
                       size_t len, termijn_event *ev, const char **reason_code, char *reason,
                       size_t reasonlen);

#endif
