/*
 * kh_orgid — joining and splitting `TYPE:CODE` (see kh_orgid.h).
 */
#include "kh_orgid.h"

#include <stdio.h>
#include <string.h>

int kh_orgid_join(const char *type, const char *code, char *out, size_t outlen) {
    if (outlen)
        out[0] = '\0';
    if (!type || !code || !*type || !*code)
        return -1;
    int n = snprintf(out, outlen, "%s:%s", type, code);
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen)
            out[0] = '\0';
        return -1;
    }
    return 0;
}

int kh_orgid_from_json(const json_t *org, char *out, size_t outlen) {
    return kh_orgid_join(json_string_value(json_object_get(org, "type")),
                         json_string_value(json_object_get(org, "code")), out, outlen);
}

int kh_orgid_split(const char *orgid, char type[KH_ORGID_TYPE_LEN], char code[KH_ORGID_CODE_LEN]) {
    type[0] = code[0] = '\0';
    const char *colon = orgid ? strchr(orgid, ':') : NULL;
    if (!colon)
        return -1;
    size_t tl = (size_t)(colon - orgid), cl = strlen(colon + 1);
    if (tl == 0 || cl == 0 || tl >= KH_ORGID_TYPE_LEN || cl >= KH_ORGID_CODE_LEN)
        return -1;
    memcpy(type, orgid, tl);
    type[tl] = '\0';
    memcpy(code, colon + 1, cl + 1);
    return 0;
}

const char *kh_orgid_code(const char *orgid) {
    const char *colon = orgid ? strchr(orgid, ':') : NULL;
    return colon ? colon + 1 : NULL;
}
