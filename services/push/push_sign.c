/*
 * push_sign — the Standard Webhooks signature over id, timestamp and body.
 */
#include "push_sign.h"

#include "kh_alloc.h"
#include "kh_codec.h"
#include "kh_pseudo.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "whsec_"

static int is_b64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int push_sign_parse_secret(const char *whsec, unsigned char *key, size_t *keylen, char *err,
                           size_t errlen) {
    if (strncmp(whsec, PREFIX, strlen(PREFIX)) != 0) {
        snprintf(err, errlen, "a signing secret must start with \"whsec_\"");
        return -1;
    }
    const char *b64 = whsec + strlen(PREFIX);
    size_t n = strlen(b64), pad = 0;
    while (pad < 2 && n > pad && b64[n - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++)
        if (!is_b64(b64[i])) {
            snprintf(err, errlen, "the signing secret after \"whsec_\" is not base64");
            return -1;
        }
    if (n == 0 || n % 4 != 0 || n / 4 * 3 - pad > PUSH_SIGN_KEY_MAX ||
        n / 4 * 3 - pad < PUSH_SIGN_KEY_MIN) {
        snprintf(err, errlen, "the signing secret must be whsec_ + padded base64 of %d to %d bytes",
                 PUSH_SIGN_KEY_MIN, PUSH_SIGN_KEY_MAX);
        return -1;
    }
    unsigned char *buf = kh_codec_base64_decode(b64, n, keylen);
    if (!buf) {
        snprintf(err, errlen, "the signing secret after \"whsec_\" is not base64");
        return -1;
    }
    memcpy(key, buf, *keylen);
    free(buf);
    return 0;
}

int push_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
              const char *body, size_t body_len, char out[PUSH_SIGN_LEN]) {
    char head[96];
    int hl = snprintf(head, sizeof head, "%s.%lld.", id, timestamp);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return -1;
    char *content = kh_malloc((size_t)hl + body_len);
    memcpy(content, head, (size_t)hl);
    memcpy(content + hl, body, body_len);
    unsigned char mac[32];
    int rc = kh_hmac_sha256(key, keylen, content, (size_t)hl + body_len, mac);
    free(content);
    if (rc)
        return -1;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, sizeof mac);
    return 0;
}
