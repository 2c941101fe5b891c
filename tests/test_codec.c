/*
 * test_codec — the codec's own behaviour beyond the examples: the wire
 * header, poison records, every problem reported in one pass, canonical
 * output, and the schema registry.
 */
#include "kh_codec.h"
#include "kh_schema.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kh_schemas *schemas;

static const char *const aanmelding_json =
    "{\"envelope\":{\"event_id\":\"3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01\","
    "\"occurred_at\":\"2026-03-02T09:15:00.5+01:00\",\"bron\":{\"type\":\"SCHOOL\",\"code\":\"12AB00\"},"
    "\"correlatie_id\":null},"
    "\"jeugdige\":{\"bsn\":\"111222333\",\"geboortedatum\":\"2014-05-17\",\"woonplaatsgemeente\":\"GM0502\"},"
    "\"aanmelding_id\":\"A-1\",\"soort\":\"ONDERWIJS\",\"bij\":{\"type\":\"SCHOOL\",\"code\":\"12AB00\"},"
    "\"vestigingsgemeente\":\"GM0599\",\"onderwijssoort\":\"PO\",\"ondersteuningsbehoefte\":false,"
    "\"datum\":\"2026-03-02\",\"status\":\"GEPLAATST\"}";

static void setup(void) {
    char err[256];
    ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "%s", err);
}

static void teardown(void) { kh_schemas_free(schemas); }

static json_t *parse(const char *text) {
    kh_problems p;
    kh_problems_init(&p);
    json_t *j = kh_codec_parse(text, strlen(text), &p);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Encodes the test aanmelding; the caller frees *wire. */
static size_t encode_aanmelding(char **wire) {
    const kh_schema *s = kh_schemas_by_name(schemas, "aanmelding");
    json_t *j = parse(aanmelding_json);
    avro_value_t v;
    kh_problems p;
    kh_problems_init(&p);
    char err[256];
    size_t len;
    ck_assert_int_eq(kh_schema_new_value(s, &v), 0);
    ck_assert_int_eq(kh_codec_from_json(s, j, &v, &p), 0);
    ck_assert_int_eq(kh_codec_encode(s, &v, wire, &len, err, sizeof err), 0);
    avro_value_decref(&v);
    json_decref(j);
    return len;
}

START_TEST(manifest_ids_and_topics) {
    ck_assert_uint_eq(kh_schemas_count(schemas), 7);
    const kh_schema *s = kh_schemas_by_id(schemas, 1002);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(kh_schema_name(s), "tlv");
    ck_assert_str_eq(kh_schema_topic(s), "ketenhub.tlv.v1");
    ck_assert_ptr_null(kh_schemas_by_id(schemas, 999));
    ck_assert_ptr_null(kh_schemas_by_name(schemas, "nope"));
    /* The resolved schema is self-contained: shared types are inlined. */
    ck_assert_ptr_nonnull(strstr(kh_schema_json(s), "\"name\":\"Jeugdige\""));
}
END_TEST

START_TEST(wire_header_carries_the_schema_id) {
    char *wire;
    size_t len = encode_aanmelding(&wire);
    ck_assert_int_eq(wire[0], 0);
    ck_assert_int_eq(kh_codec_schema_id(wire, len), 1001);
    ck_assert_int_eq((unsigned char)wire[3], 1001 >> 8);
    ck_assert_int_eq((unsigned char)wire[4], 1001 & 0xFF);
    free(wire);
}
END_TEST

START_TEST(output_is_canonical) {
    char *wire, err[256];
    size_t len = encode_aanmelding(&wire);
    const kh_schema *which;
    avro_value_t v;
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &v, err, sizeof err), KH_DECODE_OK);
    json_t *out = kh_codec_to_json(which, &v, err, sizeof err);
    json_t *env = json_object_get(out, "envelope");
    /* +01:00 with half a second becomes UTC with milliseconds; a null optional is left out. */
    ck_assert_str_eq(json_string_value(json_object_get(env, "occurred_at")), "2026-03-02T08:15:00.500Z");
    ck_assert_ptr_null(json_object_get(env, "correlatie_id"));
    ck_assert_ptr_null(json_object_get(env, "received_at"));
    json_decref(out);
    avro_value_decref(&v);
    free(wire);
}
END_TEST

START_TEST(every_problem_in_one_pass) {
    const kh_schema *s = kh_schemas_by_name(schemas, "aanmelding");
    json_t *j = parse(aanmelding_json);
    json_object_set_new(j, "soort", json_string("onderwijs"));
    json_object_set_new(j, "datum", json_string("2026-02-30"));
    json_object_del(j, "status");
    json_object_set_new(j, "extra/field~", json_true());
    json_object_set_new(json_object_get(j, "jeugdige"), "bsn", json_integer(111222333));
    avro_value_t v;
    kh_problems p;
    kh_problems_init(&p);
    kh_schema_new_value(s, &v);
    ck_assert_int_eq(kh_codec_from_json(s, j, &v, &p), -1);
    ck_assert_uint_eq(p.count, 5);
    ck_assert(kh_problems_has(&p, "/soort"));
    ck_assert(kh_problems_has(&p, "/datum"));
    ck_assert(kh_problems_has(&p, "/status"));
    ck_assert(kh_problems_has(&p, "/extra~1field~0")); /* RFC 6901 escaping */
    ck_assert(kh_problems_has(&p, "/jeugdige/bsn"));
    /* A wrong type names the field, never its value. */
    for (size_t i = 0; i < p.count; i++)
        ck_assert_ptr_null(strstr(p.items[i].detail, "111222333"));
    avro_value_decref(&v);
    json_decref(j);
}
END_TEST

START_TEST(syntax_errors_give_line_and_column) {
    kh_problems p;
    kh_problems_init(&p);
    ck_assert_ptr_null(kh_codec_parse("{\n  \"a\": tru\n}", 14, &p));
    ck_assert_uint_eq(p.count, 1);
    ck_assert_int_eq(p.items[0].reason, KH_R_SYNTAX);
    ck_assert_ptr_nonnull(strstr(p.items[0].detail, "line 2"));
    kh_problems_init(&p);
    ck_assert_ptr_null(kh_codec_parse("{\"a\":\"\xC3\x28\"}", 10, &p));
    ck_assert_int_eq(p.items[0].reason, KH_R_ENCODING);
    kh_problems_init(&p);
    ck_assert_ptr_null(kh_codec_parse("{\"a\":1,\"a\":2}", 13, &p));
    ck_assert_int_eq(p.items[0].reason, KH_R_SYNTAX);
}
END_TEST

START_TEST(poison_records_are_classified) {
    char *wire, err[256];
    size_t len = encode_aanmelding(&wire);
    const kh_schema *which;
    avro_value_t v;
    ck_assert_int_eq(kh_codec_decode(schemas, wire, 3, &which, &v, err, sizeof err), KH_DECODE_BAD_MAGIC);
    wire[0] = 1;
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &v, err, sizeof err), KH_DECODE_BAD_MAGIC);
    wire[0] = 0;
    wire[4] = 99; /* id 1001 -> 867 */
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &v, err, sizeof err), KH_DECODE_UNKNOWN_ID);
    ck_assert_ptr_nonnull(strstr(err, "unknown schema id"));
    wire[4] = (char)(1001 & 0xFF);
    for (size_t cut = KH_WIRE_HEADER; cut < len; cut++)
        ck_assert_int_eq(kh_codec_decode(schemas, wire, cut, &which, &v, err, sizeof err),
                         KH_DECODE_UNDECODABLE);
    /* Trailing bytes are as wrong as missing ones. */
    char *longer = malloc(len + 1);
    memcpy(longer, wire, len);
    longer[len] = 0;
    ck_assert_int_eq(kh_codec_decode(schemas, longer, len + 1, &which, &v, err, sizeof err),
                     KH_DECODE_UNDECODABLE);
    free(longer);
    free(wire);
}
END_TEST

/* A record written before verantwoordelijke_gemeente was appended to
 * beschikking.avsc (same schema id) lacks its one union byte at the end: it
 * decodes, with the field null. One byte less is a truncated record. */
START_TEST(records_written_before_an_appended_optional_field_decode) {
    const kh_schema *s = kh_schemas_by_name(schemas, "beschikking");
    json_t *j = parse("{\"envelope\":{\"event_id\":\"3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01\","
                      "\"occurred_at\":\"2026-02-01T09:00:00Z\",\"bron\":{\"type\":\"GEMEENTE\","
                      "\"code\":\"GM0361\"}},\"jeugdige\":{\"bsn\":\"111222333\",\"geboortedatum\":"
                      "\"2014-05-17\",\"woonplaatsgemeente\":\"GM0450\"},\"beschikking_id\":\"B-1\","
                      "\"gemeente\":\"GM0361\",\"aanbieder\":\"98290429\",\"product\":{\"categorie\":"
                      "\"45\"},\"omvang\":{\"volume\":2,\"eenheid\":\"UUR\",\"frequentie\":"
                      "\"PER_WEEK\"},\"ingangsdatum\":\"2026-02-01\",\"status\":\"TOEGEKEND\","
                      "\"zorg_in_onderwijstijd\":false}");
    avro_value_t v, d;
    kh_problems p;
    kh_problems_init(&p);
    char *wire, err[256];
    size_t len;
    const kh_schema *which;
    kh_schema_new_value(s, &v);
    ck_assert_int_eq(kh_codec_from_json(s, j, &v, &p), 0);
    ck_assert_int_eq(kh_codec_encode(s, &v, &wire, &len, err, sizeof err), 0);
    ck_assert_int_eq(wire[len - 1], 0); /* the null branch of the appended field */
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len - 1, &which, &d, err, sizeof err),
                     KH_DECODE_OK);
    json_t *out = kh_codec_to_json(which, &d, err, sizeof err);
    ck_assert(json_equal(j, out));
    ck_assert_ptr_null(json_object_get(out, "verantwoordelijke_gemeente"));
    json_decref(out);
    avro_value_decref(&d);
    /* Ending inside the required fields stays undecodable. */
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len - 4, &which, &d, err, sizeof err),
                     KH_DECODE_UNDECODABLE);
    avro_value_decref(&v);
    free(wire);
    json_decref(j);
}
END_TEST

START_TEST(huge_lengths_do_not_allocate) {
    /* Schema 1001, then an event_id string claiming 2^62 bytes. */
    const unsigned char poison[] = {0, 0, 0, 0x03, 0xE9, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0x7F, 'x'};
    const kh_schema *which;
    avro_value_t v;
    char err[256];
    ck_assert_int_eq(kh_codec_decode(schemas, poison, sizeof poison, &which, &v, err, sizeof err),
                     KH_DECODE_UNDECODABLE);
    ck_assert_ptr_nonnull(strstr(err, "exceeds"));
}
END_TEST

START_TEST(array_count_of_int64_min_is_refused) {
    /* Found by fuzz_codec: a melding whose betrokkenen block count is
     * -2^63, which cannot be negated. */
    const unsigned char poison[] = {
        0x00, 0x00, 0x00, 0x03, 0xed, 0x00, 0x00, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
        0x02, 0x36, 0x02, 0x02, 0x02, 0x02, 0x00, 0x02, 0xd4, 0x02, 0x00, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x73, 0x00, 0x00, 0x00, 0x02, 0x03, 0x02,
        0x02, 0x02, 0x00, 0x02, 0x00, 0x01, 0x02, 0x02, 0x02};
    const kh_schema *which;
    avro_value_t v;
    char err[256];
    ck_assert_int_eq(kh_codec_decode(schemas, poison, sizeof poison, &which, &v, err, sizeof err),
                     KH_DECODE_UNDECODABLE);
}
END_TEST

START_TEST(bytes_and_longs_round_trip) {
    const kh_schema *s = kh_schemas_by_name(schemas, "deadletter");
    json_t *j = parse("{\"reason_code\":\"UNDECODABLE\",\"reason\":\"truncated varint\","
                      "\"service\":\"route\",\"origin_topic\":\"ketenhub.tlv.v1\","
                      "\"origin_partition\":3,\"origin_offset\":12345678901,"
                      "\"origin_value\":\"AAAD6f8=\",\"failed_at\":\"2026-11-23T10:00:00Z\"}");
    avro_value_t v, d;
    kh_problems p;
    kh_problems_init(&p);
    char *wire, err[256];
    size_t len;
    const kh_schema *which;
    kh_schema_new_value(s, &v);
    ck_assert_int_eq(kh_codec_from_json(s, j, &v, &p), 0);
    ck_assert_int_eq(kh_codec_encode(s, &v, &wire, &len, err, sizeof err), 0);
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &d, err, sizeof err), KH_DECODE_OK);
    json_t *out = kh_codec_to_json(which, &d, err, sizeof err);
    ck_assert(json_equal(j, out));
    json_decref(out);
    avro_value_decref(&d);
    avro_value_decref(&v);
    free(wire);
    json_decref(j);
}
END_TEST

int main(void) {
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, manifest_ids_and_topics);
    tcase_add_test(tc, records_written_before_an_appended_optional_field_decode);
    tcase_add_test(tc, wire_header_carries_the_schema_id);
    tcase_add_test(tc, output_is_canonical);
    tcase_add_test(tc, every_problem_in_one_pass);
    tcase_add_test(tc, syntax_errors_give_line_and_column);
    tcase_add_test(tc, poison_records_are_classified);
    tcase_add_test(tc, huge_lengths_do_not_allocate);
    tcase_add_test(tc, array_count_of_int64_min_is_refused);
    tcase_add_test(tc, bytes_and_longs_round_trip);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
