/*
 * kh_event — the event type table (see DESIGN.md, "Events").
 */
#include "kh_event.h"

#include "kh_time.h"

#include <string.h>

static const kh_event_type event_types[] = {
    {"aanmelding", "aanmeldingen", "datum", KH_ORG_SCHOOL | KH_ORG_AANBIEDER},
    {"tlv", "tlvs", "ingangsdatum", KH_ORG_SWV},
    {"beschikking", "beschikkingen", "ingangsdatum", KH_ORG_GEMEENTE},
    {"verwijzing", "verwijzingen", "datum", KH_ORG_GEMEENTE | KH_ORG_SCHOOL | KH_ORG_SWV},
};

#define EVENT_TYPE_COUNT (sizeof event_types / sizeof event_types[0])
_Static_assert(EVENT_TYPE_COUNT <= KH_EVENT_TYPES_MAX,
               "more event types than KH_EVENT_TYPES_MAX in kh_event.h: raise it");

const kh_event_type *kh_event_type_by_name(const char *name) {
    for (size_t i = 0; i < EVENT_TYPE_COUNT; i++)
        if (strcmp(event_types[i].name, name) == 0)
            return &event_types[i];
    return NULL;
}

const kh_event_type *kh_event_type_by_plural(const char *plural) {
    for (size_t i = 0; i < EVENT_TYPE_COUNT; i++)
        if (strcmp(event_types[i].plural, plural) == 0)
            return &event_types[i];
    return NULL;
}

size_t kh_event_type_count(void) { return EVENT_TYPE_COUNT; }
const kh_event_type *kh_event_type_at(size_t i) { return i < EVENT_TYPE_COUNT ? &event_types[i] : NULL; }

unsigned kh_org_bit(const char *type) {
    if (!type)
        return 0;
    if (strcmp(type, "GEMEENTE") == 0)
        return KH_ORG_GEMEENTE;
    if (strcmp(type, "SWV") == 0)
        return KH_ORG_SWV;
    if (strcmp(type, "SCHOOL") == 0)
        return KH_ORG_SCHOOL;
    if (strcmp(type, "AANBIEDER") == 0)
        return KH_ORG_AANBIEDER;
    return 0;
}

int32_t kh_event_date(const kh_event_type *t, const json_t *ev) {
    int32_t days;
    const char *d = json_string_value(json_object_get(ev, t->date_field));
    if (d && kh_date_parse(d, &days) == 0)
        return days;
    int64_t ms;
    const char *ts = json_string_value(json_object_get(json_object_get(ev, "envelope"), "occurred_at"));
    if (ts && kh_ts_parse(ts, &ms) == 0)
        return kh_ts_to_date(ms);
    return kh_today();
}
