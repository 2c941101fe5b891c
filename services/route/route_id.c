/*
 * route_id — version-5 UUIDs with OpenSSL's SHA-1.
 */
#include "route_id.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* ROUTE_ID_NAMESPACE as bytes. */
static const unsigned char namespace_bytes[16] = {0x8f, 0x9a, 0x67, 0xde, 0xb4, 0x82,
                                                  0x5b, 0x01, 0x91, 0x79, 0x0e, 0xc6,
                                                  0xb2, 0x2c, 0x02, 0x28};

int route_melding_id(const char *event_id, const char *regel, const char *type,
                     const char *code, char out[ROUTE_ID_LEN]) {
    unsigned char buf[16 + 256], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    memcpy(buf, namespace_bytes, 16);
    int n = snprintf((char *)buf + 16, sizeof buf - 16, "%s|%s|%s:%s", event_id, regel, type,
                     code);
    if (n < 0 || (size_t)n >= sizeof buf - 16 ||
        !EVP_Digest(buf, 16 + (size_t)n, md, &mdlen, EVP_sha1(), NULL) || mdlen < 16)
        return -1;
    md[6] = (unsigned char)((md[6] & 0x0F) | 0x50); /* version 5 */
    md[8] = (unsigned char)((md[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[md[i] >> 4];
        *o++ = hex[md[i] & 0x0F];
    }
    *o = '\0';
    return 0;
}
