/*
 * push_named — the addressees of a raw event, read from its natural JSON.
 */
#include "push_named.h"

#include <stdio.h>
#include <string.h>

static size_t add(char out[][PUSH_ORG_LEN], size_t n, const char *type, const char *code) {
    char org[PUSH_ORG_LEN];
    if (!type || !code || snprintf(org, sizeof org, "%s:%s", type, code) >= (int)sizeof org)
        return n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i], org) == 0)
            return n;
    if (n < PUSH_NAMED_MAX)
        memcpy(out[n++], org, sizeof org);
    return n;
}

static const char *str(const json_t *ev, const char *a, const char *b) {
    const json_t *v = json_object_get(ev, a);
    if (b)
        v = json_object_get(v, b);
    return json_string_value(v);
}

static size_t add_org(char out[][PUSH_ORG_LEN], size_t n, const json_t *ev, const char *field) {
    return add(out, n, str(ev, field, "type"), str(ev, field, "code"));
}

size_t push_named_orgs(const char *event_type, const json_t *ev, char out[][PUSH_ORG_LEN]) {
    size_t n = 0;
    const json_t *env = json_object_get(ev, "envelope");
    if (strcmp(event_type, "aanmelding") == 0) {
        n = add_org(out, n, env, "bron");
        n = add_org(out, n, ev, "bij");
    } else if (strcmp(event_type, "tlv") == 0) {
        n = add_org(out, n, env, "bron");
        n = add(out, n, "SWV", str(ev, "swv", NULL));
        n = add(out, n, "SCHOOL", str(ev, "aanvragende_school", NULL));
    } else if (strcmp(event_type, "beschikking") == 0) {
        n = add_org(out, n, env, "bron");
        n = add(out, n, "GEMEENTE", str(ev, "gemeente", NULL));
        n = add(out, n, "AANBIEDER", str(ev, "aanbieder", NULL));
        n = add(out, n, "SCHOOL", str(ev, "school", NULL));
    } else if (strcmp(event_type, "verwijzing") == 0) {
        n = add_org(out, n, env, "bron");
        n = add_org(out, n, ev, "naar");
    }
    return n;
}
