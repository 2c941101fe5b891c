/*
 * route_event — the fields the grensverkeer rules read, taken straight from
 * a decoded Avro event (no JSON on the hot path).
 *
 * A route_event is a view: its strings point into the avro value it was
 * read from and stay valid until that value is released or reset.
 */
#ifndef ROUTE_EVENT_H
#define ROUTE_EVENT_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_schema.h"

/* The event types route consumes, one topic each. */
typedef enum route_kind {
    ROUTE_AANMELDING,
    ROUTE_TLV,
    ROUTE_BESCHIKKING,
    ROUTE_VERWIJZING,
    ROUTE_KINDS
} route_kind;

typedef struct route_event {
    route_kind kind;
    const char *event_id;
    const char *bron_type, *bron_code; /* envelope.bron: with event_id, the event's identity */
    int64_t aangemaakt_op;             /* envelope.received_at, else occurred_at */
    int32_t peildatum;                 /* the event's own date (kh_event_type date_field) */
    const char *bsn;
    int32_t geboortedatum;
    const char *woonplaatsgemeente;
    const char *status; /* the status symbol; NULL for a verwijzing (it has none) */
    /* aanmelding */
    const char *soort, *bij_type, *bij_code;
    const char *onderwijssoort; /* NULL when absent */
    /* tlv */
    const char *swv, *tlv_soort;
    int eerste_inschrijving; /* 1 when the tlv says true; 0 when false or absent */
    /* beschikking */
    const char *gemeente, *aanbieder;
    const char *categorie; /* product.categorie */
    int zorg_in_onderwijstijd;
    const char *school; /* NULL when absent */
    /* verwijzing */
    const char *naar_type, *naar_code;
    const char *verwijzer_type, *domein;
    /* beschikking and verwijzing: verantwoordelijke_gemeente, NULL when absent */
    const char *verantw_gemeente, *verantw_reden;
} route_event;

/* "aanmelding" -> ROUTE_AANMELDING; ROUTE_KINDS when it is none of ours. */
route_kind route_kind_by_name(const char *schema_name);

/* The schema / event-type name of a kind ("aanmelding"), and the
 * oorzaak.event_type symbol of melding.avsc ("AANMELDING"). */
const char *route_kind_name(route_kind kind);
const char *route_kind_symbol(route_kind kind);

/* The field positions of each event schema, looked up by name once so a
 * read walks by index. */
#define ROUTE_FIELD_DEPTH 3 /* records nested in the path, "envelope.bron.code" */
#define ROUTE_FIELDS 32     /* room for the fields route reads */
typedef struct route_event_reader {
    int index[ROUTE_KINDS][ROUTE_FIELDS][ROUTE_FIELD_DEPTH]; /* -1: not read */
} route_event_reader;

/* Returns 0, or -1 with err naming a field an event schema lacks. */
int route_event_reader_init(route_event_reader *r, const kh_schemas *all, char *err, size_t errlen);

/* Fills ev from v, a decoded value of kind's schema. Returns 0, or -1 with
 * err naming the field that could not be read (only possible when v is not
 * of that schema). */
int route_event_read(const route_event_reader *r, route_kind kind, avro_value_t *v, route_event *ev,
                     char *err, size_t errlen);

#endif
