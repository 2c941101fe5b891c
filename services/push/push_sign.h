/*
 * push_sign — Standard Webhooks signatures (https://www.standardwebhooks.com):
 * the secret is "whsec_" + base64 of the key bytes, and a request is signed
 * as "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")).
 * Pure functions, thread-safe.
 */
#ifndef PUSH_SIGN_H
#define PUSH_SIGN_H

#include <stddef.h>

/* Key sizes the spec allows (24 to 64 bytes). */
#define PUSH_SIGN_KEY_MIN 24
#define PUSH_SIGN_KEY_MAX 64

/* "v1," + 44 base64 characters + NUL. */
#define PUSH_SIGN_LEN 48

/* Decodes a "whsec_<base64>" secret into key (PUSH_SIGN_KEY_MAX bytes).
 * Returns 0 with *keylen set, or -1 with a message in err (the secret is
 * never quoted in it). */
int push_sign_parse_secret(const char *whsec, unsigned char *key, size_t *keylen, char *err,
                           size_t errlen);

/* Writes the webhook-signature header value for one request into out.
 * Returns 0, or -1 when the id is too long or OpenSSL fails. */
int push_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
              const char *body, size_t body_len, char out[PUSH_SIGN_LEN]);

#endif
