/*
 * sim_rules — the simulator's own expectation of the grensverkeer
 * meldingen: a second, small implementation of the twelve rules, written from
 * DESIGN.md and services/route/README.md and sharing no code with route, so
 * an end-to-end run can check route against it by id.
 *
 * The rule table is in sim_rules.c only. Pure: an event and reference data
 * in, (regel, recipient) pairs out; thread-safe.
 */
#ifndef SIM_RULES_H
#define SIM_RULES_H

#include "kh_event.h"
#include "kh_ref.h"

#include <jansson.h>
#include <stddef.h>

#define SIM_MAX_MELDINGEN 16

typedef struct sim_melding {
    const char *regel;  /* ONDERWIJS_BUITEN_WOONGEMEENTE, ... (static) */
    char ontvanger[24]; /* TYPE:CODE */
} sim_melding;

/* The meldingen route must publish for the valid event ev (natural JSON) of
 * type t, reading ref at the event's own date. Returns their number. */
size_t sim_rules_expect(const kh_ref *ref, const kh_event_type *t, const json_t *ev,
                        sim_melding out[SIM_MAX_MELDINGEN]);

/* The rule names, in the order of melding.avsc's Regel enum. */
size_t sim_rules_count(void);
const char *sim_rules_name(size_t i);

#endif
