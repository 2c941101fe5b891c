/*
 * kh_uuid — UUID text forms over libuuid (see kh_uuid.h).
 */
#include "kh_uuid.h"

#include <ctype.h>
#include <string.h>
#include <uuid/uuid.h>

int kh_uuid_valid(const char *s, size_t len) {
    if (!s || len != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

int kh_uuid_parse(const char *s, unsigned char out[16]) {
    /* libuuid alone would also accept what strlen cuts short at a NUL; the
     * length check makes "exactly the form" explicit. */
    if (!s || !kh_uuid_valid(s, strnlen(s, 37)))
        return -1;
    return uuid_parse(s, out) == 0 ? 0 : -1;
}

void kh_uuid_v4(char out[KH_UUID_LEN]) {
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

int kh_uuid_v5(const char *ns, const void *name, size_t len, char out[KH_UUID_LEN]) {
    uuid_t nsu, u;
    out[0] = '\0';
    if (kh_uuid_parse(ns, nsu) < 0)
        return -1;
    uuid_generate_sha1(u, nsu, name, len);
    uuid_unparse_lower(u, out);
    return 0;
}
