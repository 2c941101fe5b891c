/*
 * route_rules — the grensverkeer rules of DESIGN.md as a table, and their
 * evaluation: decoded event + reference snapshot -> meldingen. Pure: no
 * Kafka, no clock, no globals, so the same event and snapshot always give
 * the same meldingen (a replay is byte-identical) and tests need no broker.
 *
 * Evaluation has two steps:
 *   1. resolve (route_facts.c): every organisation or region the event's
 *      rules may need is looked up at the event's own date and put in a
 *      slot (WOON = the woonplaatsgemeente, SWV_SCHOOL = the school's SWV
 *      for its sector, ...). A gemeente code dissolved by a herindeling is
 *      followed to its successor and the slot remembers the old code. A
 *      code unknown at that date makes the event poison.
 *   2. the table: a rule fires when the event is of its type, its status is
 *      one of the rule's statuses, and its two "differ" slots are both
 *      known and have different codes. It gives one melding per recipient
 *      slot, with the rule's betrokkenen and its toelichting template
 *      filled in (route_text.c).
 *
 * Adding a rule: one entry in the table of route_rules.c (plus, if it needs
 * an organisation no slot holds yet, a slot in route_slot.h and its lookup
 * in route_facts.c), its symbol in the Regel enum of schemas/avro/melding.avsc,
 * and its cases in tests/route/test_route_rules.c.
 */
#ifndef ROUTE_RULES_H
#define ROUTE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "kh_ref.h"
#include "route_event.h"
#include "route_id.h"
#include "route_slot.h"

size_t route_rule_count(void);
const route_rule *route_rule_at(size_t i);
/* The index of a rule by its regel symbol, or -1. */
int route_rule_index(const char *regel);

#define ROUTE_MAX_MELDINGEN 12 /* every rule of one event type firing */

/* One melding as the rules decided it; the encoder adds the cause. */
typedef struct route_melding {
    int rule; /* index in the table */
    char melding_id[ROUTE_ID_LEN];
    route_slot ontvanger; /* its party is the recipient */
    char toelichting[4 * ROUTE_TOELICHTING_CHARS + 1];
} route_melding;

typedef struct route_result {
    route_party party[ROUTE_SLOTS];
    unsigned facts; /* route_fact bits */
    size_t n;
    route_melding m[ROUTE_MAX_MELDINGEN];
    /* On poison: a DeadLetterReason symbol and a reason without payload. */
    const char *reason_code;
    char reason[256];
} route_result;

/* Evaluates every rule for ev with reference data ref at ev->peildatum.
 * Returns 0 with out->n meldingen (possibly none), or -1 when the event is
 * poison: out->reason_code is "UNKNOWN_REFERENCE_CODE" (a code the rules
 * need is unknown at that date) or "INVALID_EVENT" (fields that contradict
 * each other so no rule can be judged), with out->reason naming the field,
 * code and date. */
int route_rules_apply(const route_event *ev, const kh_ref *ref, route_result *out);

/* Step 1 alone (route_facts.c): fills out->party. Same return as above. */
int route_facts_resolve(const route_event *ev, const kh_ref *ref, route_result *out);

#endif
