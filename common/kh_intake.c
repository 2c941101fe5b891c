/*
 * kh_intake — schema, rules, encoding, in that order: the rules read fields
 * the schema has already vouched for.
 */
#include "kh_intake.h"

#include "kh_codec.h"
#include "kh_validate.h"

int kh_intake_encode(const kh_schemas *all, const kh_event_type *t, const json_t *ev,
                     const kh_ref *ref, int64_t now_ms, char **wire, size_t *len, kh_problems *p) {
    const kh_schema *s = kh_schemas_by_name(all, t->name);
    avro_value_t value;
    char err[KH_DETAIL_LEN];
    if (!s || kh_schema_new_value(s, &value)) {
        kh_problems_add(p, "", KH_R_TYPE, "no schema for event type %s", t->name);
        return -1;
    }
    int rc = kh_codec_from_json(s, ev, &value, p);
    if (rc == 0)
        rc = kh_validate_event(t, ev, ref, now_ms, p);
    if (rc == 0 && kh_codec_encode(s, &value, wire, len, err, sizeof err)) {
        kh_problems_add(p, "", KH_R_FORMAT, "%s", err);
        rc = -1;
    }
    avro_value_decref(&value);
    return rc;
}
