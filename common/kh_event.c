/*
 * kh_event — the event type table (see DESIGN.md, "Events").
 */
#include "kh_event.h"

#include "kh_time.h"

#include <string.h>

static const kh_event_type event_types[] = {
    {"aanmelding",
     "aanmeldingen",
     "datum",
     KH_ORG_SCHOOL | KH_ORG_AANBIEDER,
     {{"bij", NULL}}}, /* the school or aanbieder */
    {"tlv", "tlvs", "ingangsdatum", KH_ORG_SWV, {{"swv", "SWV"}, {"aanvragende_school", "SCHOOL"}}},
    {"beschikking",
     "beschikkingen",
     "ingangsdatum",
     KH_ORG_GEMEENTE,
     /* school: present when the zorg is in onderwijstijd */
     {{"gemeente", "GEMEENTE"}, {"aanbieder", "AANBIEDER"}, {"school", "SCHOOL"}}},
    {"verwijzing",
     "verwijzingen",
     "datum",
     KH_ORG_GEMEENTE | KH_ORG_SCHOOL | KH_ORG_SWV,
     {{"naar", NULL}}}, /* the aanbieder or SWV */
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
const kh_event_type *kh_event_type_at(size_t i) {
    return i < EVENT_TYPE_COUNT ? &event_types[i] : NULL;
}

static size_t add_org(char out[][KH_ORGID_LEN], size_t n, const char *type, const char *code) {
    char org[KH_ORGID_LEN];
    if (kh_orgid_join(type, code, org, sizeof org))
        return n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i], org) == 0)
            return n;
    memcpy(out[n], org, sizeof org);
    return n + 1;
}

static size_t add_member(char out[][KH_ORGID_LEN], size_t n, const json_t *obj,
                         const kh_event_addressee *a) {
    const json_t *v = json_object_get(obj, a->field);
    if (a->type)
        return add_org(out, n, a->type, json_string_value(v));
    return add_org(out, n, json_string_value(json_object_get(v, "type")),
                   json_string_value(json_object_get(v, "code")));
}

size_t kh_event_addressees(const kh_event_type *t, const json_t *ev,
                           char out[KH_EVENT_ADDRESSEES_MAX][KH_ORGID_LEN]) {
    static const kh_event_addressee bron = {"bron", NULL};
    size_t n = add_member(out, 0, json_object_get(ev, "envelope"), &bron);
    for (size_t i = 0; i < KH_EVENT_ADDRESSEES && t->addressees[i].field; i++)
        n = add_member(out, n, ev, &t->addressees[i]);
    return n;
}

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
    const char *ts = json_string_value(json_object_get(json_object_get(ev, "envelope"),
                                                       "occurred_at"));
    if (ts && kh_ts_parse(ts, &ms) == 0)
        return kh_ts_to_date(ms);
    return kh_today();
}
