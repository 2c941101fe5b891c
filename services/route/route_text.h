/*
 * route_text — the toelichting of a melding: a rule's Dutch template with
 * the slots filled in, plus a sentence for every herindeling involved.
 *
 * Template placeholders name a slot (route_slot_describe(s)->name):
 *   {WOON}        "Capelle aan den IJssel (GM0502)"   naam and code
 *   {WOON.naam}   "Capelle aan den IJssel"
 *   {WOON.code}   "GM0502"
 * A slot the event did not fill renders as nothing (the rule tests check
 * that every template renders completely for its event type).
 *
 * When the rule names an agreement subject and the region registered an
 * agreement on it (kh_ref_afspraak, status AFSPRAAK), the text quotes it:
 * 'Volgens <bron> (<datum>|datum onbekend) is voor jeugdregio Alkmaar
 * (JZ06) afgesproken: "<tekst>"'. Never as law: it names its source.
 *
 * When a betrokkene of the rule was named by a dissolved gemeente code,
 * the text adds: "Brielle (GM0501) is per 1 januari 2023 opgegaan in
 * Voorne aan Zee (GM1992), dat in de plaats van Brielle treedt."
 *
 * The result is cut to ROUTE_TOELICHTING_CHARS characters (never inside a
 * UTF-8 sequence), the maxLength of melding.avsc.
 */
#ifndef ROUTE_TEXT_H
#define ROUTE_TEXT_H

#include <stddef.h>

#include "kh_ref.h"
#include "route_slot.h"

/* Writes the toelichting into out (outlen bytes, at least 4 *
 * ROUTE_TOELICHTING_CHARS + 1 to hold the longest text). afspraak (may be
 * NULL) is the agreement to quote, registered for the region in slot
 * regio. */
void route_text_render(const route_rule *rule, const route_party party[ROUTE_SLOTS],
                       const kh_ref_afspraak *afspraak, route_slot regio, char *out, size_t outlen);

/* "1 januari 2023" for a day number; buf of at least 32 bytes. Returns buf. */
char *route_text_date(int32_t day, char *buf, size_t len);

#endif
