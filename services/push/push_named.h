/*
 * push_named — which organisations a raw event is addressed to, and so who
 * may receive it through a subscription: its source (envelope.bron) and the
 * organisations it names as the other party:
 *
 *   aanmelding   bij                       (the school or aanbieder)
 *   tlv          swv, aanvragende_school
 *   beschikking  gemeente, aanbieder, school (when zorg in onderwijstijd)
 *   verwijzing   naar                      (the aanbieder or SWV)
 *
 * Nobody else: not the woonplaatsgemeente (it hears through meldingen), not
 * the vestigingsgemeente of a school, not a verwijzer other than the bron.
 */
#ifndef PUSH_NAMED_H
#define PUSH_NAMED_H

#include <jansson.h>
#include <stddef.h>

#define PUSH_NAMED_MAX 5
#define PUSH_ORG_LEN 32 /* "AANBIEDER:12345678" and a NUL fit */

/* Fills out with the distinct organisations ("TYPE:CODE") event ev (natural
 * JSON of event type event_type) is addressed to. Returns their number;
 * 0 for an unknown event type. */
size_t push_named_orgs(const char *event_type, const json_t *ev, char out[][PUSH_ORG_LEN]);

#endif
