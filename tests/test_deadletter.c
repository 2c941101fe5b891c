/*
 * test_deadletter — a dead letter carries its origin and reason in both the
 * value and the headers, and the original record survives byte for byte.
 */
#include "kh_codec.h"
#include "kh_deadletter.h"
#include "kh_file.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
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
    rd_kafka_message_t origin = {.rkt = rkt,
                                 .partition = 2,
                                 .offset = 4711,
                                 .payload = (void *)payload,
                                 .len = sizeof payload,
                                 .key = "abc",
                                 .key_len = 3};
    kh_deadletter dl = {.reason_code = "BAD_MAGIC_BYTE",
                        .reason = "magic byte is not 0",
                        .service = "route",
                        .origin = &origin};
    char *value;
    size_t len;
    rd_kafka_headers_t *h;
    ck_assert_msg(kh_deadletter_build(schemas, &dl, &value, &len, &h, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_str_eq(header(h, "dlq-reason", buf, sizeof buf), "BAD_MAGIC_BYTE");
    ck_assert_str_eq(header(h, "dlq-service", buf, sizeof buf), "route");
    ck_assert_str_eq(header(h, "dlq-origin-topic", buf, sizeof buf), "ketenhub.tlv.v1");
    ck_assert_str_eq(header(h, "dlq-origin-partition", buf, sizeof buf), "2");
    ck_assert_str_eq(header(h, "dlq-origin-offset", buf, sizeof buf), "4711");
    const kh_schema *which;
    avro_value_t v;
    ck_assert_int_eq(kh_codec_decode(schemas, value, len, &which, &v, err, sizeof err),
                     KH_DECODE_OK);
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

/* The enum's table, the schema's DeadLetterReason symbols and the README's
 * dead-letter table name the same reasons (the schema in the same order). */
static char *slurp(const char *rel) {
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", kh_test_source_dir(), rel);
    char *text = kh_file_read(path, 0, NULL, err, sizeof err);
    ck_assert_msg(text != NULL, "%s", err);
    return text;
}

START_TEST(reason_table_matches_schema_and_readme) {
    char *avsc = slurp("schemas/avro/deadletter.avsc"), *readme = slurp("README.md");
    json_error_t je;
    json_t *schema = json_loads(avsc, 0, &je);
    ck_assert_msg(schema != NULL, "deadletter.avsc: %s", je.text);
    json_t *symbols = json_object_get(
        json_object_get(json_array_get(json_object_get(schema, "fields"), 0), "type"), "symbols");
    ck_assert_uint_eq(json_array_size(symbols), KH_DL_REASONS);
    const char *table = strstr(readme, "| reason_code | meaning |");
    ck_assert_ptr_nonnull(table);
    const char *end = strstr(table, "\n\n");
    for (int r = 0; r < KH_DL_REASONS; r++) {
        const kh_dl_reason_desc *d = kh_dl_reason_desc_of((kh_dl_reason)r);
        ck_assert_ptr_nonnull(d);
        ck_assert_str_eq(d->name, json_string_value(json_array_get(symbols, (size_t)r)));
        ck_assert_int_eq(kh_dl_reason_by_name(d->name), r);
        ck_assert_msg(d->meaning && d->meaning[0], "%s has no meaning", d->name);
        char cell[64];
        snprintf(cell, sizeof cell, "`%s`", d->name);
        const char *at = strstr(table, cell);
        ck_assert_msg(at && at < end, "README's dead-letter table lacks %s", d->name);
    }
    ck_assert_int_eq(kh_dl_reason_by_name("NO_SUCH_REASON"), -1);
    ck_assert_ptr_null(kh_dl_reason_desc_of(KH_DL_REASONS));
    json_decref(schema);
    free(avsc);
    free(readme);
}
END_TEST

int main(void) {
    Suite *s = suite_create("deadletter");
    TCase *tc = tcase_create("deadletter");
    tcase_add_test(tc, value_and_headers_describe_the_origin);
    tcase_add_test(tc, reason_table_matches_schema_and_readme);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
