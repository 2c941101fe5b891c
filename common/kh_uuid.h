/*
 * kh_uuid — UUIDs as ketenhub uses them: event ids (random, version 4),
 * deterministic ids derived from other ids (name-based, version 5), and the
 * strict parsing of ids partners send.
 *
 * A thin layer over libuuid (util-linux), which does the generating,
 * parsing and formatting; this module fixes the text form (lowercase,
 * 8-4-4-4-12) and the strictness ketenhub needs. Pure and thread-safe.
 */
#ifndef KH_UUID_H
#define KH_UUID_H

#include <stddef.h>

#define KH_UUID_LEN 37 /* 36 characters and the NUL */

/* Returns 1 when the first len bytes of s are exactly the 8-4-4-4-12 hex
 * form (either case), else 0. s need not be NUL-terminated. */
int kh_uuid_valid(const char *s, size_t len);

/* Parses the NUL-terminated 8-4-4-4-12 form into 16 bytes. Returns 0, or -1
 * when s is not exactly that form (nothing before, after or inside it). */
int kh_uuid_parse(const char *s, unsigned char out[16]);

/* Writes a fresh random (version 4) UUID, lowercase, into out. */
void kh_uuid_v4(char out[KH_UUID_LEN]);

/* Writes the name-based (version 5, SHA-1) UUID of name (len bytes) in the
 * namespace ns (itself a UUID in text form), lowercase, into out. Returns 0,
 * or -1 when ns is not a UUID (out is then ""). */
int kh_uuid_v5(const char *ns, const void *name, size_t len, char out[KH_UUID_LEN]);

#endif
