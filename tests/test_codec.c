/*
 * test_codec — the codec's own behaviour beyond the examples: the wire
 * header, poison records, every problem reported in one pass, canonical
 * output, the schema manifest, and schema versions: a record of an older id
 * resolves to the current version, a truncated record never does.
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
    "\"occurred_at\":\"2026-03-02T09:15:00.5+01:00\",\"bron\":{\"type\":\"SCHOOL\",\"code\":"
    "\"12AB00\"},"
    "\"correlatie_id\":null},"
    "\"jeugdige\":{\"bsn\":\"111222333\",\"geboortedatum\":\"2014-05-17\",\"woonplaatsgemeente\":"
    "\"GM0502\"},"
    "\"aanmelding_id\":\"A-1\",\"soort\":\"ONDERWIJS\",\"bij\":{\"type\":\"SCHOOL\",\"code\":"
    "\"12AB00\"},"
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
    ck_assert_uint_eq(kh_schemas_id_count(schemas), 13);
    const kh_schema *s = kh_schemas_by_id(schemas, 1002);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(kh_schema_name(s), "tlv");
    ck_assert_str_eq(kh_schema_topic(s), "ketenhub.tlv.v1");
    ck_assert_int_eq(kh_schema_current(s), 0);
    ck_assert_ptr_eq(kh_schema_reader(s), kh_schemas_by_name(schemas, "tlv"));
    ck_assert_int_eq(kh_schema_id(kh_schemas_by_name(schemas, "tlv")), 1008);
    /* Every id reads as the current version of its name, on that name's topic. */
    for (size_t i = 0; i < kh_schemas_id_count(schemas); i++) {
        const kh_schema *v = kh_schemas_id_at(schemas, i);
        const kh_schema *cur = kh_schema_reader(v);
        ck_assert_ptr_eq(cur, kh_schemas_by_name(schemas, kh_schema_name(v)));
        ck_assert_int_eq(kh_schema_current(cur), 1);
        ck_assert_int_eq(kh_schema_current(v), v == cur);
        ck_assert_str_eq(kh_schema_topic(v), kh_schema_topic(cur));
    }
    for (size_t i = 0; i < kh_schemas_count(schemas); i++)
        ck_assert_int_eq(kh_schema_current(kh_schemas_at(schemas, i)), 1);
    ck_assert_ptr_null(kh_schemas_by_id(schemas, 999));
    ck_assert_ptr_null(kh_schemas_by_name(schemas, "nope"));
    /* The resolved schema is self-contained: shared types are inlined. */
    ck_assert_ptr_nonnull(strstr(kh_schema_json(s), "\"name\":\"Jeugdige\""));
}
END_TEST

/* Encodes natural JSON with schema s (any version); the caller frees *wire. */
static size_t encode_with(const kh_schema *s, const json_t *j, char **wire) {
    avro_value_t v;
    kh_problems p;
    kh_problems_init(&p);
    char err[256], shown[2048];
    size_t len;
    ck_assert_int_eq(kh_schema_new_value(s, &v), 0);
    ck_assert_msg(kh_codec_from_json(s, j, &v, &p) == 0, "id %d: %s", (int)kh_schema_id(s),
                  kh_problems_format(&p, shown, sizeof shown));
    ck_assert_int_eq(kh_codec_encode(s, &v, wire, &len, err, sizeof err), 0);
    avro_value_decref(&v);
    return len;
}

static json_t *example(const char *name, const char *file) {
    char path[1024];
    snprintf(path, sizeof path, "%s/schemas/examples/%s/valid/%s", kh_test_source_dir(), name,
             file);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    ck_assert_msg(j != NULL, "%s: %s", path, jerr.text);
    return j;
}

static const char *const melding_1005_json =
    "{\"melding_id\":\"0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7e\",\"regel\":\"VERWIJZING_BUITEN_"
    "JEUGDREGIO\","
    "\"ontvanger\":{\"type\":\"GEMEENTE\",\"code\":\"GM0599\"},\"oorzaak\":{\"event_type\":"
    "\"VERWIJZING\","
    "\"event_id\":\"210c6d0c-8fff-4e80-9f1b-37a6a6a93557\",\"topic\":\"ketenhub.verwijzing.v1\","
    "\"partition\":2,\"offset\":41},\"betrokkenen\":[{\"rol\":\"JEUGDREGIO_AANBIEDER\",\"type\":"
    "\"JEUGDREGIO\",\"code\":\"JR01\",\"naam\":\"Rijnmond\"},{\"rol\":\"WOONPLAATSGEMEENTE\","
    "\"type\":"
    "\"GEMEENTE\",\"code\":\"GM0599\",\"naam\":\"Rotterdam\",\"opvolger_van\":\"GM0600\"}],"
    "\"peildatum\":\"2025-01-20\",\"jeugdige\":{\"bsn\":\"999990111\",\"geboortedatum\":\"2019-03-"
    "08\"},"
    "\"toelichting\":\"test\",\"aangemaakt_op\":\"2025-01-20T14:30:00.250Z\"}";

/* A record of each older version decodes as the current version of its
 * name: same values, the fields added since null. */
START_TEST(older_versions_decode_as_the_current_one) {
    static const struct {
        int32_t id;
        const char *name, *example, *added;
    } olds[] = {
        {1001, "aanmelding", "02-ingediend-castricum-alkmaar-vo.json", "informatie_opgevraagd_op"},
        {1002, "tlv", "01-afgegeven-so-capelle.json", "eerste_inschrijving"},
        {1003, "beschikking", "01-toegekend-rotterdam-ambulant.json", "verantwoordelijke_gemeente"},
        {1004, "verwijzing", "01-wijkteam-rotterdam-jeugdhulp.json", "verantwoordelijke_gemeente"},
        {1005, "melding", NULL, "termijn"},
        {1011, "melding", NULL, "termijn"},
    };
    for (size_t i = 0; i < sizeof olds / sizeof olds[0]; i++) {
        const kh_schema *old = kh_schemas_by_id(schemas, olds[i].id);
        ck_assert_ptr_nonnull(old);
        json_t *in = olds[i].example ? example(olds[i].name, olds[i].example)
                                     : parse(melding_1005_json);
        char *wire, err[256];
        size_t len = encode_with(old, in, &wire);
        ck_assert_int_eq(kh_codec_schema_id(wire, len), olds[i].id);
        const kh_schema *which;
        avro_value_t d, field;
        ck_assert_msg(kh_codec_decode(schemas, wire, len, &which, &d, err, sizeof err) ==
                          KH_DECODE_OK,
                      "id %d: %s", (int)olds[i].id, err);
        ck_assert_ptr_eq(which, kh_schemas_by_name(schemas, olds[i].name));
        ck_assert_int_ne(kh_schema_id(which), olds[i].id);
        json_t *out = kh_codec_to_json(which, &d, err, sizeof err);
        ck_assert_ptr_nonnull(out);
        char *a = json_dumps(in, JSON_SORT_KEYS), *b = json_dumps(out, JSON_SORT_KEYS);
        ck_assert_msg(json_equal(in, out), "id %d:\n in: %s\nout: %s", (int)olds[i].id, a, b);
        free(a);
        free(b);
        if (olds[i].added) {
            int disc;
            const kh_field *f = kh_node_field(kh_schema_root(which), olds[i].added);
            ck_assert_ptr_nonnull(f);
            ck_assert_int_eq(avro_value_get_by_name(&d, olds[i].added, &field, NULL), 0);
            ck_assert_int_eq(avro_value_get_discriminant(&field, &disc), 0);
            ck_assert_int_eq(disc, f->type->null_branch);
        }
        json_decref(out);
        avro_value_decref(&d);
        /* An older version is as strict as the current one about truncation. */
        for (size_t cut = KH_WIRE_HEADER; cut < len; cut++)
            ck_assert_int_eq(kh_codec_decode(schemas, wire, cut, &which, &d, err, sizeof err),
                             KH_DECODE_UNDECODABLE);
        free(wire);
        json_decref(in);
    }
}
END_TEST

/* Relabels a wire record with another schema id. */
static void set_id(char *wire, int32_t id) {
    wire[1] = (char)(id >> 24);
    wire[2] = (char)(id >> 16);
    wire[3] = (char)(id >> 8);
    wire[4] = (char)id;
}

/* The id names the one schema a record was written with: a current-version
 * record that ends before its optional fields is truncated, poison, even
 * though the same bytes under the older id are a good record; and a record
 * with the new field under the older id has bytes left over. */
START_TEST(a_record_truncated_before_optional_fields_is_poison) {
    static const struct {
        const char *name, *example, *added;
        int32_t old;
        size_t appended; /* optional fields appended since the old version */
    } cases[] = {
        {"beschikking", "01-toegekend-rotterdam-ambulant.json", "verantwoordelijke_gemeente", 1003,
         1},
        {"verwijzing", "01-wijkteam-rotterdam-jeugdhulp.json", "verantwoordelijke_gemeente", 1004,
         1},
        {"tlv", "01-afgegeven-so-capelle.json", "eerste_inschrijving", 1002, 1},
        {"aanmelding", "02-ingediend-castricum-alkmaar-vo.json", "informatie_ontvangen_op", 1001,
         2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const kh_schema *s = kh_schemas_by_name(schemas, cases[i].name), *which;
        json_t *in = example(cases[i].name, cases[i].example);
        char *wire, err[256];
        avro_value_t d;
        size_t len = encode_with(s, in, &wire);
        ck_assert_int_eq(wire[len - 1], 0); /* the null branch of the appended field */
        ck_assert_int_eq(kh_codec_decode(schemas, wire, len - 1, &which, &d, err, sizeof err),
                         KH_DECODE_UNDECODABLE);
        set_id(wire, cases[i].old);
        ck_assert_int_eq(kh_codec_decode(schemas, wire, len - cases[i].appended, &which, &d, err,
                                         sizeof err),
                         KH_DECODE_OK);
        avro_value_decref(&d);
        free(wire);
        json_object_set_new(in, cases[i].added,
                            strcmp(cases[i].added, "eerste_inschrijving") == 0 ? json_true()
                            : strcmp(cases[i].added, "informatie_ontvangen_op") == 0
                                ? json_string("2025-03-20")
                                : json_pack("{s:s,s:s}", "gemeente", "GM0599", "reden", "BRP"));
        len = encode_with(s, in, &wire);
        set_id(wire, cases[i].old);
        ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &d, err, sizeof err),
                         KH_DECODE_UNDECODABLE);
        ck_assert_ptr_nonnull(strstr(err, "trailing bytes"));
        free(wire);
        json_decref(in);
    }
}
END_TEST

/* A small schema set of two versions, for the resolution rules the real
 * schemas do not exercise: fields moved, removed and added, enum symbols
 * reordered, every kind skipped. */
static const char *const evo_ids = "# id\tname\tfile\ttopic\tstatus\n"
                                   "1\tx\tavro/x1.avsc\tt\tread-only\n"
                                   "2\tx\tavro/x2.avsc\tt\tcurrent\n";
static const char *const evo_x1 =
    "{\"type\":\"record\",\"name\":\"X\",\"namespace\":\"nl.ketenhub\",\"fields\":["
    "{\"name\":\"a\",\"type\":\"string\"},"
    "{\"name\":\"weg\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"W\","
    "\"fields\":[{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"by\",\"type\":\"bytes\"},"
    "{\"name\":\"l\",\"type\":\"long\"},{\"name\":\"o\",\"type\":[\"null\",\"string\"],\"default\":"
    "null},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"P\",\"Q\"]}},"
    "{\"name\":\"i\",\"type\":{\"type\":\"array\",\"items\":\"int\"}}]}}},"
    "{\"name\":\"kleur\",\"type\":{\"type\":\"enum\",\"name\":\"Kleur\",\"symbols\":[\"ROOD\","
    "\"GROEN\"]}},"
    "{\"name\":\"opt\",\"type\":[\"null\",\"long\"],\"default\":null}]}";
static const char *const evo_x2 =
    "{\"type\":\"record\",\"name\":\"X\",\"namespace\":\"nl.ketenhub\",\"fields\":["
    "{\"name\":\"kleur\",\"type\":{\"type\":\"enum\",\"name\":\"Kleur\",\"symbols\":[\"BLAUW\","
    "\"GROEN\",\"ROOD\"]}},"
    "{\"name\":\"nieuw\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"opt\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"a\",\"type\":\"string\"}]}";

static int open_evo(kh_schemas **out, const char *ids, const char *x2, char *err, size_t errlen) {
    const kh_embedded_file files[] = {{"ids.tsv", ids},
                                      {"avro/common.avsc", "[]"},
                                      {"avro/x1.avsc", evo_x1},
                                      {"avro/x2.avsc", x2},
                                      {NULL, NULL}};
    return kh_schemas_open_files(out, files, err, errlen);
}

START_TEST(fields_resolve_by_name_and_removed_ones_are_skipped) {
    kh_schemas *evo;
    char err[256], *wire;
    ck_assert_msg(open_evo(&evo, evo_ids, evo_x2, err, sizeof err) == 0, "%s", err);
    json_t *in =
        parse("{\"a\":\"hallo\",\"kleur\":\"ROOD\",\"opt\":7,\"weg\":[{\"b\":true,\"d\":1.5,"
              "\"f\":2.5,\"by\":\"AAE=\",\"l\":-3,\"o\":\"x\",\"e\":\"Q\",\"i\":[1,2]},{\"b\":"
              "false,\"d\":0,\"f\":0,\"by\":\"\",\"l\":0,\"e\":\"P\",\"i\":[]}]}");
    size_t len = encode_with(kh_schemas_by_id(evo, 1), in, &wire);
    const kh_schema *which;
    avro_value_t d;
    ck_assert_msg(kh_codec_decode(evo, wire, len, &which, &d, err, sizeof err) == KH_DECODE_OK,
                  "%s", err);
    ck_assert_int_eq(kh_schema_id(which), 2);
    json_t *out = kh_codec_to_json(which, &d, err, sizeof err),
           *want = parse("{\"kleur\":\"ROOD\",\"opt\":7,\"a\":\"hallo\"}");
    ck_assert(json_equal(out, want));
    int e;
    avro_value_t kleur;
    ck_assert_int_eq(avro_value_get_by_name(&d, "kleur", &kleur, NULL), 0);
    ck_assert_int_eq(avro_value_get_enum(&kleur, &e), 0);
    ck_assert_int_eq(e, 2); /* ROOD: index 0 written, 2 read */
    avro_value_decref(&d);
    for (size_t cut = KH_WIRE_HEADER; cut < len; cut++)
        ck_assert_int_eq(kh_codec_decode(evo, wire, cut, &which, &d, err, sizeof err),
                         KH_DECODE_UNDECODABLE);
    json_decref(out);
    json_decref(want);
    json_decref(in);
    free(wire);
    kh_schemas_free(evo);
}
END_TEST

/* kh_schemas_open refuses versions the codec could not resolve, and a
 * manifest that does not say one current version per name. */
START_TEST(unresolvable_versions_are_refused_at_start) {
    static const struct {
        const char *ids, *x2, *expected;
    } cases[] = {
        {NULL,
         "{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},"
         "{\"name\":\"kleur\",\"type\":{\"type\":\"enum\",\"name\":\"Kleur\",\"symbols\":[\"ROOD\","
         "\"GROEN\"]}},{\"name\":\"verplicht\",\"type\":\"string\"}]}",
         "verplicht: added without"},
        {NULL,
         "{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"kleur\",\"type\":{\"type\":"
         "\"enum\",\"name\":\"Kleur\",\"symbols\":[\"ROOD\"]}}]}",
         "kleur: symbol GROEN was removed"},
        {NULL,
         "{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"a\",\"type\":\"bytes\"}]}",
         "a: the type changed"},
        {NULL, "{\"type\":\"record\",\"name\":\"Y\",\"fields\":[]}", "record nl.ketenhub.X is now"},
        {"1\tx\tavro/x1.avsc\tt\tcurrent\n2\tx\tavro/x2.avsc\tt\tcurrent\n", NULL, "two current"},
        {"1\tx\tavro/x1.avsc\tt\tread-only\n", NULL, "x has no current id"},
        {"1\tx\tavro/x1.avsc\tt\tread-only\n1\tx\tavro/x2.avsc\tt\tcurrent\n", NULL,
         "listed twice"},
        {"1\tx\tavro/x1.avsc\tt\tread-only\n2\tx\tavro/x2.avsc\tu\tcurrent\n", NULL, "two topics"},
        {"1\tx\tavro/x1.avsc\tt\told\n2\tx\tavro/x2.avsc\tt\tcurrent\n", NULL,
         "ids.tsv:1: expected"},
        {"1\tx\tavro/x1.avsc\tt\n", NULL, "ids.tsv:1: expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kh_schemas *evo;
        char err[256] = "";
        ck_assert_int_eq(open_evo(&evo, cases[i].ids ? cases[i].ids : evo_ids,
                                  cases[i].x2 ? cases[i].x2 : evo_x2, err, sizeof err),
                         -1);
        ck_assert_ptr_null(evo);
        ck_assert_msg(strstr(err, cases[i].expected), "case %zu: %s", i, err);
    }
}
END_TEST

START_TEST(wire_header_carries_the_schema_id) {
    char *wire;
    size_t len = encode_aanmelding(&wire);
    ck_assert_int_eq(wire[0], 0);
    ck_assert_int_eq(kh_codec_schema_id(wire, len), 1013);
    ck_assert_int_eq((unsigned char)wire[3], 1013 >> 8);
    ck_assert_int_eq((unsigned char)wire[4], 1013 & 0xFF);
    free(wire);
}
END_TEST

START_TEST(output_is_canonical) {
    char *wire, err[256];
    size_t len = encode_aanmelding(&wire);
    const kh_schema *which;
    avro_value_t v;
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &v, err, sizeof err),
                     KH_DECODE_OK);
    json_t *out = kh_codec_to_json(which, &v, err, sizeof err);
    json_t *env = json_object_get(out, "envelope");
    /* +01:00 with half a second becomes UTC with milliseconds; a null optional is left out. */
    ck_assert_str_eq(json_string_value(json_object_get(env, "occurred_at")),
                     "2026-03-02T08:15:00.500Z");
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
    ck_assert_int_eq(kh_codec_decode(schemas, wire, 3, &which, &v, err, sizeof err),
                     KH_DECODE_BAD_MAGIC);
    wire[0] = 1;
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &v, err, sizeof err),
                     KH_DECODE_BAD_MAGIC);
    wire[0] = 0;
    wire[4] = 99; /* id 1013 -> 867 */
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &v, err, sizeof err),
                     KH_DECODE_UNKNOWN_ID);
    ck_assert_ptr_nonnull(strstr(err, "unknown schema id"));
    wire[4] = (char)(1013 & 0xFF);
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

START_TEST(huge_lengths_do_not_allocate) {
    /* Schema 1001 (read-only aanmelding), then an event_id string claiming 2^62 bytes. */
    const unsigned char poison[] = {0,    0,    0,    0x03, 0xE9, 0xFE, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 'x'};
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
        0x00, 0x00, 0x00, 0x03, 0xed, 0x00, 0x00, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
        0x02, 0x02, 0x36, 0x02, 0x02, 0x02, 0x02, 0x00, 0x02, 0xd4, 0x02, 0x00, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x73, 0x00, 0x00, 0x00,
        0x02, 0x03, 0x02, 0x02, 0x02, 0x00, 0x02, 0x00, 0x01, 0x02, 0x02, 0x02};
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
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &d, err, sizeof err),
                     KH_DECODE_OK);
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
    tcase_add_test(tc, older_versions_decode_as_the_current_one);
    tcase_add_test(tc, a_record_truncated_before_optional_fields_is_poison);
    tcase_add_test(tc, fields_resolve_by_name_and_removed_ones_are_skipped);
    tcase_add_test(tc, unresolvable_versions_are_refused_at_start);
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
