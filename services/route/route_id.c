/*
 * route_id — the melding_id as a version-5 UUID (kh_uuid over libuuid).
 */
#include "route_id.h"

#include "kh_uuid.h"

#include <stdio.h>

int route_melding_id(const char *bron, const char *event_id, const char *regel, const char *type,
                     const char *code, char out[ROUTE_ID_LEN]) {
    char name[256];
    out[0] = '\0';
    int n = snprintf(name, sizeof name, "%s|%s|%s|%s:%s", bron, event_id, regel, type, code);
    if (n < 0 || (size_t)n >= sizeof name)
        return -1;
    return kh_uuid_v5(ROUTE_ID_NAMESPACE, name, (size_t)n, out);
}
