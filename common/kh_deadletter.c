/*
 * kh_deadletter — the dead-letter record and its headers, built through the
 * codec so the value always matches its schema.
 */
#include "kh_deadletter.h"

#include "kh_codec.h"
#include "kh_orgid.h"
#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row per reason, as librdkafka's rd_kafka_err_descs: the enum value
 * (checked by kh_dl_reason_desc_of), its name and what it means. */
static const kh_dl_reason_desc reasons[KH_DL_REASONS] = {
    {KH_DL_BAD_MAGIC_BYTE, "BAD_MAGIC_BYTE",
     "empty, shorter than the 5-byte header, or magic byte not 0"},
    {KH_DL_UNKNOWN_SCHEMA_ID, "UNKNOWN_SCHEMA_ID",
     "schema id not in the manifest, or not the event type of this topic"},
    {KH_DL_UNDECODABLE, "UNDECODABLE", "the payload does not match its schema"},
    {KH_DL_UNKNOWN_REFERENCE_CODE, "UNKNOWN_REFERENCE_CODE",
     "a code the rules need is unknown in the reference data at the event's date"},
    {KH_DL_INVALID_EVENT, "INVALID_EVENT", "fields that contradict each other"},
    {KH_DL_DELIVERY_REJECTED, "DELIVERY_REJECTED",
     "the partner answered with a status that is not retried"},
    {KH_DL_DELIVERY_EXPIRED, "DELIVERY_EXPIRED", "not delivered within the partner's maximum age"},
    {KH_DL_NO_SUBSCRIPTION, "NO_SUBSCRIPTION", "the recipient has no subscription for it"},
};

const kh_dl_reason_desc *kh_dl_reason_desc_of(kh_dl_reason reason) {
    if ((unsigned)reason >= KH_DL_REASONS || reasons[reason].reason != reason)
        return NULL;
    return &reasons[reason];
}

const char *kh_dl_reason_name(kh_dl_reason reason) {
    const kh_dl_reason_desc *d = kh_dl_reason_desc_of(reason);
    return d ? d->name : "";
}

int kh_dl_reason_by_name(const char *name) {
    for (int i = 0; name && i < KH_DL_REASONS; i++)
        if (strcmp(reasons[i].name, name) == 0)
            return i;
    return -1;
}

int kh_dl_reason_is_delivery(kh_dl_reason reason) {
    return reason == KH_DL_DELIVERY_REJECTED || reason == KH_DL_DELIVERY_EXPIRED ||
           reason == KH_DL_NO_SUBSCRIPTION;
}

static json_t *as_json(const kh_deadletter *dl) {
    char ts[KH_TS_LEN];
    const rd_kafka_message_t *m = dl->origin;
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:o,s:o,s:s}", "reason_code", dl->reason_code,
                          "reason", dl->reason, "service", dl->service, "origin_topic",
                          rd_kafka_topic_name(m->rkt), "origin_partition", (int)m->partition,
                          "origin_offset", (json_int_t)m->offset, "origin_key",
                          kh_codec_bytes_json(m->key, m->key_len), "origin_value",
                          kh_codec_bytes_json(m->payload, m->len), "failed_at",
                          kh_ts_format(kh_now_millis(), ts));
    if (j && dl->ontvanger_type && dl->ontvanger_code)
        json_object_set_new(j, "ontvanger",
                            json_pack("{s:s,s:s}", "type", dl->ontvanger_type, "code",
                                      dl->ontvanger_code));
    return j;
}

static rd_kafka_headers_t *make_headers(const kh_deadletter *dl) {
    char num[24];
    const rd_kafka_message_t *m = dl->origin;
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    rd_kafka_header_add(h, "dlq-reason", -1, dl->reason_code, -1);
    rd_kafka_header_add(h, "dlq-service", -1, dl->service, -1);
    rd_kafka_header_add(h, "dlq-origin-topic", -1, rd_kafka_topic_name(m->rkt), -1);
    snprintf(num, sizeof num, "%d", (int)m->partition);
    rd_kafka_header_add(h, "dlq-origin-partition", -1, num, -1);
    snprintf(num, sizeof num, "%lld", (long long)m->offset);
    rd_kafka_header_add(h, "dlq-origin-offset", -1, num, -1);
    if (dl->ontvanger_type && dl->ontvanger_code) {
        char org[KH_ORGID_LEN];
        if (kh_orgid_join(dl->ontvanger_type, dl->ontvanger_code, org, sizeof org) == 0)
            rd_kafka_header_add(h, "dlq-ontvanger", -1, org, -1);
    }
    return h;
}

int kh_deadletter_build(const kh_schemas *schemas, const kh_deadletter *dl, char **value,
                        size_t *len, rd_kafka_headers_t **headers, char *err, size_t errlen) {
    const kh_schema *s = kh_schemas_by_name(schemas, "deadletter");
    json_t *j = as_json(dl);
    avro_value_t v;
    kh_problems p;
    kh_problems_init(&p);
    int rc = -1;
    if (kh_dl_reason_by_name(dl->reason_code) < 0) {
        snprintf(err, errlen, "dead letter with an unknown reason_code '%s'",
                 dl->reason_code ? dl->reason_code : "(none)");
        json_decref(j);
        return -1;
    }
    if (!s || !j || kh_schema_new_value(s, &v)) {
        snprintf(err, errlen, "cannot build a dead letter (out of memory or no schema)");
        json_decref(j);
        return -1;
    }
    if (kh_codec_from_json(s, j, &v, &p)) {
        char shown[512];
        snprintf(err, errlen, "dead letter does not match its schema: %s",
                 kh_problems_format(&p, shown, sizeof shown));
    } else if (kh_codec_encode(s, &v, value, len, err, errlen) == 0) {
        *headers = make_headers(dl);
        rc = 0;
    }
    avro_value_decref(&v);
    json_decref(j);
    return rc;
}
