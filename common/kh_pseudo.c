/*
 * kh_pseudo — HMAC-SHA256 and SHA-256 through OpenSSL's one-shot calls,
 * which are not deprecated in OpenSSL 3 (unlike HMAC_CTX and SHA256_Init).
 */
#include "kh_pseudo.h"

#include "kh_bsn.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static void hex(const unsigned char *bin, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
}

int kh_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   unsigned char out[32]) {
    /* OpenSSL 3.0 fails on NULL key and data pointers even with zero
     * lengths, which are valid inputs here. */
    static const unsigned char empty[1];
    unsigned int outlen = 0;
    if (keylen > (size_t)INT_MAX)
        return -1;
    if (HMAC(EVP_sha256(), keylen ? key : empty, (int)keylen, data ? data : empty, len, out,
             &outlen) == NULL)
        return -1;
    return outlen == 32 ? 0 : -1;
}

int kh_sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[32];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return -1;
    hex(md, 32, out);
    return 0;
}

int kh_pseudo_bsn(const unsigned char *key, size_t keylen, const char *bsn, char out[65]) {
    unsigned char mac[32];
    out[0] = '\0';
    if (keylen < KH_PSEUDO_MIN_KEYLEN || !kh_bsn_valid(bsn) ||
        kh_hmac_sha256(key, keylen, bsn, 9, mac))
        return -1;
    hex(mac, 32, out);
    return 0;
}
