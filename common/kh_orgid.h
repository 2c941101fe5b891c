/*
 * kh_orgid — the `TYPE:CODE` text form of an organisation (GEMEENTE:GM0599,
 * SWV:PO2801, SCHOOL:12AB00, AANBIEDER:12345678): how partners, recipients
 * and sources are named in configuration files, metric labels, record
 * headers and the CLI. One home for joining and splitting it.
 *
 * Only the form is checked here; whether TYPE is an organisation type and
 * CODE fits it is kh_code's job. Pure and thread-safe.
 */
#ifndef KH_ORGID_H
#define KH_ORGID_H

#include <jansson.h>
#include <stddef.h>

#define KH_ORGID_TYPE_LEN 16 /* longest type (AANBIEDER) and the NUL, with room */
#define KH_ORGID_CODE_LEN 16 /* longest code (8 characters) and the NUL, with room */
#define KH_ORGID_LEN (KH_ORGID_TYPE_LEN + KH_ORGID_CODE_LEN)

/* Writes "type:code" into out. Returns 0, or -1 when type or code is NULL
 * or empty, or the result does not fit (out is then ""). */
int kh_orgid_join(const char *type, const char *code, char *out, size_t outlen);

/* The same from a JSON object {"type": ..., "code": ...} (an `organisatie`
 * of the schemas). Returns 0, or -1 when either member is not a string. */
int kh_orgid_from_json(const json_t *org, char *out, size_t outlen);

/* Splits "TYPE:CODE" into its parts. Returns 0, or -1 when there is no ':',
 * either part is empty, or a part does not fit (type/code are then ""). */
int kh_orgid_split(const char *orgid, char type[KH_ORGID_TYPE_LEN], char code[KH_ORGID_CODE_LEN]);

/* The CODE part: a pointer into orgid just after the ':', or NULL when
 * there is none. */
const char *kh_orgid_code(const char *orgid);

#endif
