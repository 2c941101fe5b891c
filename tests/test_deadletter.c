/*
 * test_deadletter — a dead letter carries its origin and reason in both the
 * value and the headers, and the original record survives byte for byte.
 */
#include "kh_codec.h"
#include "kh_deadletter.h"
#include "testlib.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *header(rd_kafka_headers_t *h, const char *name, char *buf, size_t len) {
    const void *v;
    size_t n;
    ck_assert_msg(rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  "header %s missing", name);
    ck_assert_uint_lt(n, len);
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

START_TEST(value_and_headers_describe_the_origin) {
    char err[512], buf[64];
    kh_schemas *schemas;
    ck_assert_int_eq(kh_schemas_open(&schemas, err, sizeof err), 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "ketenhub.tlv.v1", NULL);
    const unsigned char payload[] = {1, 0, 0, 3, 0xE9, 0xFF};
    rd_kafka_message_t origin = {.rkt = rkt, .partition = 2, .offset = 4711,
                                 .payload = (void *)payload, .len = sizeof payload,
                                 .key = "abc", .key_len = 3};
    kh_deadletter dl = {.reason_code = "BAD_MAGIC_BYTE", .reason = "magic byte is not 0",
                        .service = "route", .origin = &origin};
    char *value;
    size_t len;
    rd_kafka_headers_t *h;
    ck_assert_msg(kh_deadletter_build(schemas, &dl, &value, &len, &h, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(header(h, "dlq-reason", buf, sizeof buf), "BAD_MAGIC_BYTE");
    ck_assert_str_eq(header(h, "dlq-service", buf, sizeof buf), "route");
    ck_assert_str_eq(header(h, "dlq-origin-topic", buf, sizeof buf), "ketenhub.tlv.v1");
    ck_assert_str_eq(header(h, "dlq-origin-partition", buf, sizeof buf), "2");
    ck_assert_str_eq(header(h, "dlq-origin-offset", buf, sizeof buf), "4711");
    const kh_schema *which;
    avro_value_t v;
    ck_assert_int_eq(kh_codec_decode(schemas, value, len, &which, &v, err, sizeof err), KH_DECODE_OK);
    ck_assert_str_eq(kh_schema_name(which), "deadletter");
    json_t *j = kh_codec_to_json(which, &v, err, sizeof err);
    ck_assert_str_eq(json_string_value(json_object_get(j, "origin_value")), "AQAAA+n/");
    ck_assert_str_eq(json_string_value(json_object_get(j, "origin_key")), "YWJj");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "origin_offset")), 4711);
    ck_assert_ptr_null(json_object_get(j, "ontvanger"));
    json_decref(j);
    avro_value_decref(&v);
    free(value);
    rd_kafka_headers_destroy(h);

    dl.reason_code = "NOT_A_REASON";
    ck_assert_int_eq(kh_deadletter_build(schemas, &dl, &value, &len, &h, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "reason_code"));

    dl.reason_code = "DELIVERY_REJECTED";
    dl.ontvanger_type = "GEMEENTE";
    dl.ontvanger_code = "GM0599";
    ck_assert_int_eq(kh_deadletter_build(schemas, &dl, &value, &len, &h, err, sizeof err), 0);
    ck_assert_str_eq(header(h, "dlq-ontvanger", buf, sizeof buf), "GEMEENTE:GM0599");
    free(value);
    rd_kafka_headers_destroy(h);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    kh_schemas_free(schemas);
}
END_TEST

int main(void) {
    Suite *s = suite_create("deadletter");
    TCase *tc = tcase_create("deadletter");
    tcase_add_test(tc, value_and_headers_describe_the_origin);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
