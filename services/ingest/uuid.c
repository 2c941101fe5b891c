/*
 * uuid — version 4 UUIDs from RAND_bytes, and parsing for the idempotency key.
 */
#include "uuid.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>

int uuid_v4(char out[37]) {
    unsigned char b[16];
    out[0] = '\0';
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return 0;
}

static int hex_value(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int uuid_parse(const char *s, unsigned char out[16]) {
    size_t n = 0;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash) {
            if (s[i] != '-')
                return -1;
            continue;
        }
        int hi = hex_value((unsigned char)s[i]);
        int lo = hi < 0 ? -1 : hex_value((unsigned char)s[++i]);
        if (lo < 0)
            return -1;
        out[n++] = (unsigned char)(hi << 4 | lo);
    }
    return s[36] == '\0' ? 0 : -1;
}
