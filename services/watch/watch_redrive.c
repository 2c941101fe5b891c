/*
 * watch_redrive — one dead letter back to ketenhub-push (see
 * watch_redrive.h). The retry record is made with kh_retry, the same
 * contract `ketenhub deadletters replay` and push itself use.
 */
#include "watch_redrive.h"

#include "kh_alloc.h"
#include "kh_codec.h"
#include "kh_deadletter.h"
#include "kh_kafka.h"
#include "kh_orgid.h"
#include "kh_retry.h"
#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int watch_redrive_allowed(const char *reason_code) {
    int r = kh_dl_reason_by_name(reason_code);
    return r >= 0 && kh_dl_reason_is_delivery((kh_dl_reason)r);
}

/* A copy of the value of the record at partition/offset (caller frees),
 * or NULL with err filled. The message itself is released before the
 * consumer: librdkafka's destroy waits for every message it handed out. */
static void *fetch_one(const watch_redrive_ctx *c, int32_t partition, int64_t offset, size_t *len,
                       char *err, size_t errlen) {
    rd_kafka_t *rk = kh_kafka_consumer_new(c->config, "ketenhub-watch-redrive", NULL, NULL, err,
                                           errlen);
    if (!rk)
        return NULL;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, c->deadletter_topic, partition)->offset = offset;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    void *found = NULL;
    for (int64_t until = kh_now_millis() + 8000; !found && kh_now_millis() < until;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (m && !m->err && m->partition == partition && m->offset == offset && m->payload) {
            found = kh_malloc(m->len);
            memcpy(found, m->payload, m->len);
            *len = m->len;
        }
        if (m)
            rd_kafka_message_destroy(m);
    }
    if (!found)
        snprintf(err, errlen, "dead letter %d:%lld not found on %s", (int)partition,
                 (long long)offset, c->deadletter_topic);
    rd_kafka_destroy(rk);
    return found;
}

static unsigned char *b64(const json_t *d, const char *field, size_t *len) {
    const char *s = json_string_value(json_object_get(d, field));
    *len = 0;
    return s ? kh_codec_base64_decode(s, strlen(s), len) : NULL;
}

/* Writes the retry record of dead letter d for partner. */
static int hand_back(const watch_redrive_ctx *c, const json_t *d, const char *partner, char *err,
                     size_t errlen) {
    size_t vlen, klen;
    unsigned char *value = b64(d, "origin_value", &vlen), *key = b64(d, "origin_key", &klen);
    int rc = -1;
    if (!value) {
        snprintf(err, errlen, "the dead letter has no readable origin_value");
    } else {
        kh_retry r;
        kh_retry_for_deadletter(d, partner, kh_now_millis(), &r);
        const char *k = kh_retry_key(partner);
        rc = kh_kafka_produce_sync(c->producer, c->retry_topic, k, strlen(k), value, vlen,
                                   kh_retry_headers(&r, key, klen), NULL, NULL, err, errlen);
    }
    free(value);
    free(key);
    return rc;
}

int watch_redrive(const watch_redrive_ctx *c, int32_t partition, int64_t offset, char *partner,
                  size_t plen, char *err, size_t errlen) {
    size_t len = 0;
    void *value = fetch_one(c, partition, offset, &len, err, errlen);
    if (!value)
        return -1;
    const kh_schema *s;
    avro_value_t v;
    json_t *d = NULL;
    if (kh_codec_decode(c->schemas, value, len, &s, &v, err, errlen) == KH_DECODE_OK) {
        d = kh_codec_to_json(s, &v, err, errlen);
        avro_value_decref(&v);
    }
    free(value);
    int rc = -1;
    const char *reason = json_string_value(json_object_get(d, "reason_code"));
    if (d && (!reason || !watch_redrive_allowed(reason) ||
              kh_orgid_from_json(json_object_get(d, "ontvanger"), partner, plen)))
        snprintf(err, errlen,
                 "dead letter %d:%lld is not a failed delivery (reason %s); only "
                 "DELIVERY_REJECTED, DELIVERY_EXPIRED and NO_SUBSCRIPTION can be redriven",
                 (int)partition, (long long)offset, reason ? reason : "?");
    else if (d)
        rc = hand_back(c, d, partner, err, errlen);
    json_decref(d);
    return rc;
}
