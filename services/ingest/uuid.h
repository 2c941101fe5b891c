/*
 * uuid — random (version 4) UUIDs: the event_id the hub assigns when a
 * partner sends none, and the `instance` of every problem answer.
 */
#ifndef INGEST_UUID_H
#define INGEST_UUID_H

/* Writes a fresh lowercase UUID v4 and a NUL to out, from OpenSSL's CSPRNG.
 * Returns 0, or -1 when the generator fails (out is then ""). */
int uuid_v4(char out[37]);

/* Parses the 8-4-4-4-12 hex form (either case) into 16 bytes. Returns 0, or
 * -1 when s is not exactly that form. */
int uuid_parse(const char *s, unsigned char out[16]);

#endif
