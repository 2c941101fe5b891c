/*
 * push_named — which organisations a raw event is addressed to, and so who
 * may receive it through a subscription. The addressees of each event type
 * are a column of the kh_event table (its source, envelope.bron, and the
 * organisations it names as the other party); this is push's view of it,
 * by event type name.
 */
#ifndef PUSH_NAMED_H
#define PUSH_NAMED_H

#include "kh_event.h"
#include "kh_orgid.h"

#include <jansson.h>
#include <stddef.h>

#define PUSH_NAMED_MAX KH_EVENT_ADDRESSEES_MAX
#define PUSH_ORG_LEN KH_ORGID_LEN /* "AANBIEDER:12345678" and a NUL fit */

/* Fills out with the distinct organisations ("TYPE:CODE") event ev (natural
 * JSON of event type event_type) is addressed to. Returns their number;
 * 0 for an unknown event type. */
size_t push_named_orgs(const char *event_type, const json_t *ev,
                       char out[PUSH_NAMED_MAX][PUSH_ORG_LEN]);

#endif
