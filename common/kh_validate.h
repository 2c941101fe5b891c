/*
 * kh_validate — the consistency rules every producer path enforces
 * (DESIGN.md, "Events"): BSN elfproef; codes well-formed and known in the
 * reference data at the event's date; einddatum >= ingangsdatum;
 * geboortedatum not in the future and the child 0-23 at the event date;
 * fields that must agree with each other.
 *
 * Runs on natural JSON that already passed kh_codec_from_json, so types and
 * enums are known to be right. Every failing field is added to the problem
 * list; details never contain the BSN.
 */
#ifndef KH_VALIDATE_H
#define KH_VALIDATE_H

#include <jansson.h>
#include <stdint.h>

#include "kh_event.h"
#include "kh_problem.h"
#include "kh_ref.h"

/* How far occurred_at may lie ahead of the hub's clock (clock skew). */
#define KH_CLOCK_SKEW_MS (5 * 60 * 1000)

/* Returns 0 when the event passes every rule, -1 otherwise. `now_ms` is the
 * hub's clock (kh_now_millis), a parameter so tests can fix it. */
int kh_validate_event(const kh_event_type *t, const json_t *ev, const kh_ref *ref, int64_t now_ms,
                      kh_problems *p);

#endif
