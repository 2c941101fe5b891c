/*
 * push_aflevering — natural JSON of the record, through the codec, so the
 * value always matches its schema.
 */
#include "push_aflevering.h"

#include "kh_codec.h"
#include "kh_orgid.h"
#include "kh_time.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define ENDPOINT_MAX 512
#define ERROR_MAX 256

static json_t *text_or_null(const char *s, size_t max) {
    if (!s)
        return json_null();
    size_t n = strlen(s);
    if (n > max)
        n = max;
    /* Never cut inside a UTF-8 sequence. */
    while (n > 0 && n < strlen(s) && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return json_stringn(s, n);
}

static json_t *ts_or_null(int64_t ms) {
    char ts[KH_TS_LEN];
    return ms ? json_string(kh_ts_format(ms, ts)) : json_null();
}

int push_aflevering_encode(const kh_schemas *schemas, const push_aflevering *a, char **value,
                           size_t *len, char *err, size_t errlen) {
    const kh_schema *s = kh_schemas_by_name(schemas, "aflevering");
    char type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN];
    if (!s || kh_orgid_split(a->ontvanger, type, code)) {
        snprintf(err, errlen, "no aflevering schema, or recipient not TYPE:CODE");
        return -1;
    }
    json_t *j = json_pack("{s:s, s:{s:s, s:s}, s:o, s:i, s:o, s:o, s:o, s:s, s:o}", "melding_id",
                          a->melding_id, "ontvanger", "type", type, "code", code, "endpoint",
                          text_or_null(a->endpoint, ENDPOINT_MAX), "attempts", a->attempts,
                          "http_status",
                          a->http_status ? json_integer(a->http_status) : json_null(),
                          "first_attempt_at", ts_or_null(a->first_attempt_ms), "last_attempt_at",
                          ts_or_null(a->last_attempt_ms), "outcome", a->outcome, "error",
                          text_or_null(a->error, ERROR_MAX));
    avro_value_t v;
    kh_problems p;
    kh_problems_init(&p);
    int rc = -1;
    if (!j || kh_schema_new_value(s, &v)) {
        snprintf(err, errlen, "cannot build an aflevering (out of memory)");
        json_decref(j);
        return -1;
    }
    if (kh_codec_from_json(s, j, &v, &p)) {
        char shown[512];
        snprintf(err, errlen, "aflevering does not match its schema: %s",
                 kh_problems_format(&p, shown, sizeof shown));
    } else {
        rc = kh_codec_encode(s, &v, value, len, err, errlen);
    }
    avro_value_decref(&v);
    json_decref(j);
    return rc;
}
