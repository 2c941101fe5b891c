/*
 * sim_termijn — the simulator's own expectation of the termijn meldingen:
 * a second, small implementation of the six regels of ketenhub-termijn,
 * written from services/termijn/README.md and sharing no code with
 * termijn_core (it reads feestdagen.csv and termijnafspraken.csv itself),
 * so a run can be checked against the service by melding_id.
 *
 * The model: every event reaches the hub on its own date (the `datum` of an
 * aanmelding or verwijzing, the Amsterdam date of `occurred_at` of a tlv or
 * beschikking) and the hub's clock runs day by day up to `today`. So the
 * expectation for `today` is what such a hub has published by then: events
 * dated after `today` have not happened yet, and no melding is ever
 * achterhaald (a closing event always arrives before a later due date).
 *
 * Ownership: a sim_termijn keeps a compact copy of each event added (never
 * the JSON); results are the caller's (free). Not thread-safe.
 */
#ifndef SIM_TERMIJN_H
#define SIM_TERMIJN_H

#include "kh_event.h"
#include "kh_ref.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_TJ_REGELS 6

/* One expected termijn melding. */
typedef struct sim_tj_melding {
    const char *regel;  /* ZORGPLICHT_TERMIJN_VERSTREKEN, ... (static) */
    int stap;           /* 0, or 1 for the escalation */
    char bron[24];      /* TYPE:CODE of the event that opened the case */
    char zaak[65];      /* the case: aanmelding_id, tlv_id, ... */
    char ontvanger[24]; /* TYPE:CODE */
    int32_t geopend, vervaldatum;
    char melding_id[37]; /* UUID v5 of the README's recipe */
} sim_tj_melding;

/* Per regel: how many termijnen fired (at least one step) and how many are
 * open on `today` with a step still to come. */
typedef struct sim_tj_stats {
    size_t fired[SIM_TJ_REGELS], pending[SIM_TJ_REGELS];
} sim_tj_stats;

typedef struct sim_termijn sim_termijn;

/* Reads refdir/feestdagen.csv and (optional) refdir/termijnafspraken.csv;
 * ref must outlive it. NULL with err filled when a file cannot be read. */
sim_termijn *sim_termijn_new(const kh_ref *ref, const char *refdir, char *err, size_t errlen);
void sim_termijn_free(sim_termijn *st);

/* Keeps what the regels read of the valid event ev (natural JSON) of type t. */
void sim_termijn_add(sim_termijn *st, const kh_event_type *t, const json_t *ev);

/* The meldingen published by `today` (see the model above) into a new
 * array *out (the caller frees it; NULL when none); stats may be NULL.
 * Returns their number. */
size_t sim_termijn_expect(const sim_termijn *st, int32_t today, sim_tj_melding **out,
                          sim_tj_stats *stats);

/* The regel names, in the order of sim_tj_stats. */
const char *sim_termijn_regel(size_t i);

/* The agreed THUISZITTER_AANBOD term in months for a child of gemeente
 * `woon` (looked up for the gemeente, its SWV of sector, its jeugdregio)
 * on `date`; 0 when none is registered. */
int sim_termijn_aanbod_maanden(const sim_termijn *st, const char *woon, const char *sector,
                               int32_t date);

#endif
