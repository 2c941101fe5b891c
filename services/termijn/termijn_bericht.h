/*
 * termijn_bericht — the meldingen of a termijn: who must act (recipients),
 * who is involved (betrokkenen, with names from the reference data at the
 * due date), the deterministic melding_id and the Dutch toelichting saying
 * what was due, since when and who must act.
 *
 * melding_id is the version-5 UUID (kh_uuid) in namespace
 * TERMIJN_ID_NAMESPACE of
 *   bron "|" zaak "|" regel "|" TYPE ":" code "|" due date (YYYY-MM-DD)
 * and, for the follow-up saying a melding is achterhaald, the same name
 * plus "|ACHTERHAALD": a replay, or a restart that fires the same step
 * again, gives the same ids. TERMIJN_ID_NAMESPACE is the version-5 UUID of
 * the URL https://ketenhub.nl/termijn/melding, fixed for ever.
 */
#ifndef TERMIJN_BERICHT_H
#define TERMIJN_BERICHT_H

#include "termijn_core.h"

#define TERMIJN_ID_NAMESPACE "751650db-408a-56cf-9a14-2d7f90b9b0c3"
#define TERMIJN_TOELICHTING_CHARS 1024 /* melding.avsc maxLength */

/* Appends one melding per recipient of step `stap` of t (the term passed). */
void termijn_bericht_verstreken(const termijn_dossier *d, const termijn *t, int stap,
                                const termijn_ctx *ctx, termijn_uit *out);

/* Appends one melding per recipient of step `stap` of t saying that its
 * melding is achterhaald by event ev (dated before the due date). */
void termijn_bericht_achterhaald(const termijn_dossier *d, const termijn *t, int stap,
                                 const termijn_event *ev, const termijn_ctx *ctx, termijn_uit *out);

/* Appends one melding per recipient of step `stap` of t saying that its
 * melding is achterhaald because aanmelding ev reports that the term was
 * paused (informatie_opgevraagd_op, t->pauze_sinds) before it ran out. */
void termijn_bericht_opgeschort(const termijn_dossier *d, const termijn *t, int stap,
                                const termijn_event *ev, const termijn_ctx *ctx, termijn_uit *out);

/* The agreed aanbod term in months for a thuiszitter of woonplaats, looked
 * up for the gemeente, then its SWV of the sector, then its jeugdregio, at
 * date; 0 when none is registered. */
int termijn_bericht_aanbod_maanden(const termijn_ctx *ctx, const char *woonplaats,
                                   const char *onderwijssoort, int32_t date);

/* The sector ("PO", "VO") of an onderwijssoort or tlv soort; NULL for MBO
 * or an empty one. */
const char *termijn_sector(const char *soort);

/* 1 when the range test of DREIGENDE_THUISZITTER holds on `op`. */
int termijn_leeftijd_in_bereik(int32_t geboortedatum, int32_t op);

#endif
