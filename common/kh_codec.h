/*
 * kh_codec — natural JSON <-> Avro generic values <-> Confluent wire format.
 *
 * Natural JSON is what partners write: records are objects, an optional
 * field is its plain value (or left out, or null), enums are their symbol
 * strings, `date` is "YYYY-MM-DD", `timestamp-millis` is RFC 3339, bytes are
 * base64. Going to Avro, every problem is collected with its JSON pointer
 * (see kh_problem.h), so one pass names every failing field. Going back to
 * JSON gives the canonical form: optional fields that are null are left out,
 * timestamps are UTC with milliseconds only when not zero.
 *
 * Wire format: byte 0 is the magic 0, bytes 1-4 the schema id big-endian,
 * then the Avro binary encoding. Decoding walks the compiled schema with
 * bounds checks on every length, so a poison record cannot make it allocate
 * more than the record's own size or read past its end.
 *
 * Schema versions: the id names the one schema the record was written with
 * (kh_schema.h). A record of an older, read-only version is read with that
 * writer schema and resolved to the current version of its name, so every
 * caller sees values of the current schema whatever id a record carries.
 * A record that ends early, or has bytes left over, is undecodable under
 * every version.
 */
#ifndef KH_CODEC_H
#define KH_CODEC_H

#include <avro.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_problem.h"
#include "kh_schema.h"

#define KH_WIRE_HEADER 5 /* magic byte + schema id */

/* Parses JSON text. On a syntax error returns NULL and adds a problem with
 * pointer "" whose detail gives line and column; invalid UTF-8 is reported
 * as KH_R_ENCODING. The caller owns the result (json_decref). */
json_t *kh_codec_parse(const char *text, size_t len, kh_problems *p);

/* Fills `out` (a value of the schema's class, see kh_schema_new_value) from
 * natural JSON. Returns 0, or -1 with every problem added to p. On -1 the
 * value holds a partial result and must not be encoded. */
int kh_codec_from_json(const kh_schema *s, const json_t *in, avro_value_t *out, kh_problems *p);

/* The canonical natural JSON of a value; NULL with err filled on failure.
 * The caller owns the result. */
json_t *kh_codec_to_json(const kh_schema *s, avro_value_t *in, char *err, size_t errlen);

/* Encodes a value in the wire format into a new buffer (caller frees).
 * Returns 0 or -1 with err filled. */
int kh_codec_encode(const kh_schema *s, avro_value_t *in, char **out, size_t *outlen, char *err,
                    size_t errlen);

typedef enum kh_decode_status {
    KH_DECODE_OK = 0,
    KH_DECODE_BAD_MAGIC,  /* empty, shorter than the header, or magic byte not 0 */
    KH_DECODE_UNKNOWN_ID, /* schema id not in the manifest */
    KH_DECODE_UNDECODABLE /* the payload does not match the schema */
} kh_decode_status;

/* Decodes a wire-format record. On KH_DECODE_OK *which is the current
 * version of its schema's name and *out a new value of it, resolved from
 * the record's own version; the caller releases it with avro_value_decref
 * (kh_codec_schema_id gives the id the record carries). Otherwise err says
 * what is wrong (never the payload). */
kh_decode_status kh_codec_decode(const kh_schemas *all, const void *data, size_t len,
                                 const kh_schema **which, avro_value_t *out, char *err,
                                 size_t errlen);

/* The natural JSON of Avro bytes: a base64 string (json null for NULL
 * data). */
json_t *kh_codec_bytes_json(const void *data, size_t len);

/* Decodes padded base64 text of len characters into a new buffer (caller
 * frees) of *out_len bytes; NULL when it is not base64. */
unsigned char *kh_codec_base64_decode(const char *b64, size_t len, size_t *out_len);

/* Reads the schema id of a wire-format record without decoding; -1 when
 * the header is missing or the magic byte is wrong. */
int64_t kh_codec_schema_id(const void *data, size_t len);

#endif
