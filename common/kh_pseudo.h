/*
 * kh_pseudo — the child pseudonym and the hashes ketenhub needs (OpenSSL).
 *
 * The pseudonym of a child is HMAC-SHA256(hub secret, BSN) as lowercase
 * hex: stable for one secret, so all events of a child share a Kafka key and
 * partition, yet the BSN cannot be recovered or confirmed without the
 * secret. API keys are stored as their SHA-256; webhooks are signed with
 * HMAC-SHA256. All functions are thread-safe.
 */
#ifndef KH_PSEUDO_H
#define KH_PSEUDO_H

#include <stddef.h>

/* The shortest hub secret accepted. With only ~10^8 valid BSN's a short
 * secret would make every pseudonym easy to reverse by brute force; use 32
 * random bytes. */
#define KH_PSEUDO_MIN_KEYLEN 16

/* Writes the pseudonym of bsn, 64 lowercase hex digits and a NUL, to out.
 * Returns 0, or -1 when bsn is not a valid BSN (kh_bsn_valid: exactly 9
 * digits passing the elfproef, so one child has exactly one pseudonym), key
 * is shorter than KH_PSEUDO_MIN_KEYLEN, or OpenSSL fails; out is then "". */
int kh_pseudo_bsn(const unsigned char *key, size_t keylen, const char *bsn, char out[65]);

/* Writes SHA-256(data) as 64 lowercase hex digits and a NUL to out.
 * Returns 0, or -1 if OpenSSL fails (out is then ""). */
int kh_sha256_hex(const void *data, size_t len, char out[65]);

/* Writes the 32-byte HMAC-SHA256 of data under key to out. Returns 0 or -1
 * if OpenSSL fails. */
int kh_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   unsigned char out[32]);

#endif
