/*
 * push_named — the addressees of a raw event, from the kh_event table.
 */
#include "push_named.h"

size_t push_named_orgs(const char *event_type, const json_t *ev,
                       char out[PUSH_NAMED_MAX][PUSH_ORG_LEN]) {
    const kh_event_type *t = kh_event_type_by_name(event_type);
    return t ? kh_event_addressees(t, ev, out) : 0;
}
