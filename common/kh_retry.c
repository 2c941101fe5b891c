/*
 * kh_retry — headers of the push retry record, as text so they read well
 * in any Kafka tool.
 */
#include "kh_retry.h"

#include "kh_orgid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_num(rd_kafka_headers_t *h, const char *name, long long v) {
    char num[24];
    snprintf(num, sizeof num, "%lld", v);
    rd_kafka_header_add(h, name, -1, num, -1);
}

rd_kafka_headers_t *kh_retry_headers(const kh_retry *r, const void *origin_key, size_t keylen) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(12);
    rd_kafka_header_add(h, "ontvanger", -1, r->ontvanger, -1);
    add_num(h, "push-attempts", r->attempts);
    add_num(h, "push-since", r->since_ms);
    add_num(h, "push-first-attempt", r->first_attempt_ms);
    add_num(h, "push-last-attempt", r->last_attempt_ms);
    add_num(h, "push-due", r->due_ms);
    add_num(h, "push-last-status", r->last_status);
    rd_kafka_header_add(h, "push-last-error", -1, r->last_error, -1);
    rd_kafka_header_add(h, "push-origin-topic", -1, r->origin_topic, -1);
    add_num(h, "push-origin-partition", r->origin_partition);
    add_num(h, "push-origin-offset", r->origin_offset);
    if (origin_key)
        rd_kafka_header_add(h, "push-origin-key", -1, origin_key, keylen);
    return h;
}

/* Copies header name into buf (NUL-terminated); -1 when absent or too long. */
static int text(const rd_kafka_headers_t *h, const char *name, char *buf, size_t len) {
    const void *v;
    size_t n;
    if (rd_kafka_header_get_last(h, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || n >= len)
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return 0;
}

static int number(const rd_kafka_headers_t *h, const char *name, long long *out) {
    char buf[24], *end;
    if (text(h, name, buf, sizeof buf) || !buf[0])
        return -1;
    errno = 0;
    *out = strtoll(buf, &end, 10);
    return *end || errno ? -1 : 0;
}

int kh_retry_parse(const rd_kafka_headers_t *h, kh_retry *r, const void **origin_key,
                   size_t *keylen, char *err, size_t errlen) {
    static const char *const nums[] = {
        "push-attempts", "push-since",       "push-first-attempt",    "push-last-attempt",
        "push-due",      "push-last-status", "push-origin-partition", "push-origin-offset"};
    long long v[8];
    memset(r, 0, sizeof *r);
    char type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN];
    if (!h || text(h, "ontvanger", r->ontvanger, sizeof r->ontvanger) ||
        kh_orgid_split(r->ontvanger, type, code)) {
        snprintf(err, errlen, "retry record without a valid ontvanger header");
        return -1;
    }
    if (text(h, "push-origin-topic", r->origin_topic, sizeof r->origin_topic)) {
        snprintf(err, errlen, "retry record without a valid push-origin-topic header");
        return -1;
    }
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (number(h, nums[i], &v[i])) {
            snprintf(err, errlen, "retry record without a valid %s header", nums[i]);
            return -1;
        }
    r->attempts = (int)v[0];
    r->since_ms = v[1];
    r->first_attempt_ms = v[2];
    r->last_attempt_ms = v[3];
    r->due_ms = v[4];
    r->last_status = (long)v[5];
    r->origin_partition = (int32_t)v[6];
    r->origin_offset = v[7];
    if (text(h, "push-last-error", r->last_error, sizeof r->last_error))
        r->last_error[0] = '\0';
    if (rd_kafka_header_get_last(h, "push-origin-key", origin_key, keylen) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        *origin_key = NULL;
        *keylen = 0;
    }
    return 0;
}

const char *kh_retry_key(const char *ontvanger) {
    const char *code = kh_orgid_code(ontvanger);
    return code ? code : ontvanger;
}

void kh_retry_for_deadletter(const json_t *d, const char *partner, int64_t now_ms, kh_retry *out) {
    const char *topic = json_string_value(json_object_get(d, "origin_topic"));
    memset(out, 0, sizeof *out);
    out->since_ms = out->due_ms = now_ms;
    out->origin_partition = (int32_t)json_integer_value(json_object_get(d, "origin_partition"));
    out->origin_offset = json_integer_value(json_object_get(d, "origin_offset"));
    snprintf(out->ontvanger, sizeof out->ontvanger, "%s", partner);
    snprintf(out->origin_topic, sizeof out->origin_topic, "%s", topic ? topic : "");
}
