/*
 * kh_event — the event types of ketenhub and who may issue them.
 *
 * One row per event type. Adding an event type: its `.avsc` under
 * schemas/avro/, a line in schemas/ids.tsv, a row here (with its
 * addressees), its rules in kh_validate.c, and examples under
 * schemas/examples/<name>/.
 */
#ifndef KH_EVENT_H
#define KH_EVENT_H

#include "kh_orgid.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Organisation types as bits, for the issuers mask. */
#define KH_ORG_GEMEENTE 1u
#define KH_ORG_SWV 2u
#define KH_ORG_SCHOOL 4u
#define KH_ORG_AANBIEDER 8u

/* One organisation an event names as the other party: a member of the
 * event that is either an organisatie ({"type", "code"}; type NULL here) or
 * a bare code of organisation type `type`. */
typedef struct kh_event_addressee {
    const char *field;
    const char *type;
} kh_event_addressee;

#define KH_EVENT_ADDRESSEES 3 /* most named parties of one type (beschikking) */

/* Most organisations kh_event_addressees() returns: the bron and the named. */
#define KH_EVENT_ADDRESSEES_MAX (KH_EVENT_ADDRESSEES + 1)

typedef struct kh_event_type {
    const char *name;       /* schema name and event-type header: "aanmelding" */
    const char *plural;     /* the ingest path segment: POST /v1/aanmeldingen */
    const char *date_field; /* the event's own date, at which reference data is read */
    unsigned issuers;       /* KH_ORG_* bits of the organisations that may issue it */
    /* Who a raw event is addressed to, so who may receive it through a
     * subscription, besides its source (envelope.bron); unused entries
     * have field NULL. Nobody else: not the woonplaatsgemeente (it hears
     * through meldingen), not the vestigingsgemeente of a school, not a
     * verwijzer other than the bron. */
    kh_event_addressee addressees[KH_EVENT_ADDRESSEES];
} kh_event_type;

const kh_event_type *kh_event_type_by_name(const char *name);
const kh_event_type *kh_event_type_by_plural(const char *plural);
size_t kh_event_type_count(void);
const kh_event_type *kh_event_type_at(size_t i);

/* Fills out with the distinct organisations ("TYPE:CODE") event ev
 * (natural JSON of type t) is addressed to: envelope.bron, then the
 * addressees column in order; a member that is absent or not text is
 * skipped. Returns their number (at most KH_EVENT_ADDRESSEES_MAX). */
size_t kh_event_addressees(const kh_event_type *t, const json_t *ev,
                           char out[KH_EVENT_ADDRESSEES_MAX][KH_ORGID_LEN]);

/* The KH_ORG_* bit of "GEMEENTE", "SWV", "SCHOOL" or "AANBIEDER"; 0 otherwise. */
unsigned kh_org_bit(const char *type);

/* The event's own date (its date_field; occurred_at's UTC day when that is
 * missing or malformed) as an Avro day number. ev is natural JSON. */
int32_t kh_event_date(const kh_event_type *t, const json_t *ev);

#endif
