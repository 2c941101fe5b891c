/*
 * test_examples — the examples under schemas/examples/ are the contract:
 * every valid one passes the rules and round-trips JSON -> Avro -> wire ->
 * Avro -> JSON unchanged; every invalid one is rejected with the pointer and
 * reason its line in expected.tsv names, and produces no bytes. Events are
 * written with the current schema version; a valid example written with an
 * older version (when it fits it) reads back the same through the current one.
 */
#include "kh_codec.h"
#include "kh_event.h"
#include "kh_intake.h"
#include "kh_ref.h"
#include "kh_schema.h"
#include "kh_time.h"
#include "testlib.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kh_schemas *schemas;
static kh_ref *ref;
static char examples[1024];

static void setup(void) {
    char err[512], refdir[1024];
    const char *src = getenv("KH_SOURCE_DIR");
    ck_assert_msg(src != NULL, "KH_SOURCE_DIR must point at the repository");
    snprintf(examples, sizeof examples, "%s/schemas/examples", src);
    snprintf(refdir, sizeof refdir, "%s/deploy/reference", src);
    ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "schemas: %s", err);
    ck_assert_msg(kh_ref_load(refdir, &ref, err, sizeof err) == 0, "reference: %s", err);
}

static void teardown(void) {
    kh_schemas_free(schemas);
    kh_ref_free(ref);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    *len = fread(buf, 1, (size_t)size, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* The sorted .json files of a directory; returns how many. */
static size_t list_json(const char *dir, char names[][256], size_t max) {
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0)
            snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* Writes the canonical JSON with every older version of t's schema it fits
 * and reads it back as the current version; returns how many versions. */
static int check_older_versions(const kh_event_type *t, const json_t *canon, const char *path) {
    int tested = 0;
    for (size_t i = 0; i < kh_schemas_id_count(schemas); i++) {
        const kh_schema *old = kh_schemas_id_at(schemas, i), *which;
        if (kh_schema_current(old) || strcmp(kh_schema_name(old), t->name) != 0)
            continue;
        avro_value_t v, d;
        kh_problems p;
        kh_problems_init(&p);
        char *wire, err[256];
        size_t len;
        ck_assert_int_eq(kh_schema_new_value(old, &v), 0);
        int fits = kh_codec_from_json(old, canon, &v, &p) == 0;
        /* Only what the version lacks may keep an example out: a newer
         * field or enum symbol. */
        for (size_t k = 0; k < p.count; k++)
            ck_assert_msg(p.items[k].reason == KH_R_UNKNOWN_FIELD || p.items[k].reason == KH_R_ENUM,
                          "%s: id %d: %s %s", path, (int)kh_schema_id(old), p.items[k].pointer,
                          p.items[k].detail);
        if (fits) {
            ck_assert_int_eq(kh_codec_encode(old, &v, &wire, &len, err, sizeof err), 0);
            ck_assert_msg(kh_codec_decode(schemas, wire, len, &which, &d, err, sizeof err) ==
                              KH_DECODE_OK,
                          "%s: id %d: %s", path, (int)kh_schema_id(old), err);
            json_t *out = kh_codec_to_json(which, &d, err, sizeof err);
            ck_assert_msg(json_equal(canon, out), "%s: id %d reads differently", path,
                          (int)kh_schema_id(old));
            json_decref(out);
            avro_value_decref(&d);
            free(wire);
            tested++;
        }
        avro_value_decref(&v);
    }
    return tested;
}

static int has_older_versions(const kh_event_type *t) {
    for (size_t i = 0; i < kh_schemas_id_count(schemas); i++)
        if (!kh_schema_current(kh_schemas_id_at(schemas, i)) &&
            strcmp(kh_schema_name(kh_schemas_id_at(schemas, i)), t->name) == 0)
            return 1;
    return 0;
}

/* Returns how many older versions the example was also read back from. */
static int check_valid(const kh_event_type *t, const char *path) {
    size_t len;
    char *text = slurp(path, &len);
    kh_problems p;
    kh_problems_init(&p);
    json_t *in = kh_codec_parse(text, len, &p);
    ck_assert_msg(in != NULL, "%s: does not parse", path);
    char *wire = NULL, err[256], shown[4096];
    size_t wire_len;
    int rc = kh_intake_encode(schemas, t, in, ref, kh_now_millis(), &wire, &wire_len, &p);
    ck_assert_msg(rc == 0, "%s rejected:\n%s", path, kh_problems_format(&p, shown, sizeof shown));
    const kh_schema *which;
    avro_value_t value;
    ck_assert_int_eq(kh_codec_decode(schemas, wire, wire_len, &which, &value, err, sizeof err),
                     KH_DECODE_OK);
    ck_assert_str_eq(kh_schema_name(which), t->name);
    /* Producers write the current version. */
    ck_assert_int_eq(kh_schema_current(which), 1);
    ck_assert_int_eq(kh_codec_schema_id(wire, wire_len), kh_schema_id(which));
    json_t *out = kh_codec_to_json(which, &value, err, sizeof err);
    ck_assert_msg(out != NULL, "%s: %s", path, err);
    char *a = json_dumps(in, JSON_SORT_KEYS), *b = json_dumps(out, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(in, out), "%s does not round-trip:\n in: %s\nout: %s", path, a, b);
    free(a);
    free(b);
    int older = check_older_versions(t, out, path);
    json_decref(out);
    avro_value_decref(&value);
    json_decref(in);
    free(wire);
    free(text);
    return older;
}

static int has_problem(const kh_problems *p, const char *pointer, const char *reason) {
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].pointer, pointer) == 0 &&
            strcmp(kh_reason_name(p->items[i].reason), reason) == 0)
            return 1;
    return 0;
}

static void check_invalid(const kh_event_type *t, const char *path, const char *pointer,
                          const char *reason) {
    size_t len;
    char *text = slurp(path, &len);
    kh_problems p;
    kh_problems_init(&p);
    char *wire = NULL, shown[4096];
    size_t wire_len = 0;
    json_t *in = kh_codec_parse(text, len, &p);
    int rc = in ? kh_intake_encode(schemas, t, in, ref, kh_now_millis(), &wire, &wire_len, &p) : -1;
    ck_assert_msg(rc == -1, "%s was accepted", path);
    ck_assert_msg(wire == NULL, "%s produced bytes", path);
    ck_assert_msg(has_problem(&p, pointer, reason), "%s: expected %s (%s), got:\n%s", path,
                  pointer[0] ? pointer : "/", reason, kh_problems_format(&p, shown, sizeof shown));
    json_decref(in);
    free(text);
}

START_TEST(valid_examples_round_trip) {
    const kh_event_type *t = kh_event_type_at((size_t)_i);
    char dir[1200], path[1500], names[64][256];
    snprintf(dir, sizeof dir, "%s/%s/valid", examples, t->name);
    size_t n = list_json(dir, names, 64);
    ck_assert_msg(n >= 3, "%s: only %zu valid examples", dir, n);
    int older = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        older += check_valid(t, path);
    }
    ck_assert_msg(!has_older_versions(t) || older >= 3, "%s: only %d examples fit an older version",
                  t->name, older);
}
END_TEST

START_TEST(invalid_examples_rejected_with_their_pointer) {
    const kh_event_type *t = kh_event_type_at((size_t)_i);
    char dir[1200], path[1500], line[1024];
    snprintf(dir, sizeof dir, "%s/%s/invalid", examples, t->name);
    snprintf(path, sizeof path, "%s/expected.tsv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "missing %s", path);
    size_t count = 0;
    char reasons_seen[512] = "";
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        char *file = strtok(line, "\t"), *pointer = strtok(NULL, "\t"),
             *reason = strtok(NULL, "\t");
        ck_assert_msg(file && pointer && reason, "%s: bad line", path);
        char example[1500];
        snprintf(example, sizeof example, "%s/%s", dir, file);
        check_invalid(t, example, strcmp(pointer, "/") == 0 ? "" : pointer, reason);
        if (!strstr(reasons_seen, reason) &&
            strlen(reasons_seen) + strlen(reason) + 2 < sizeof reasons_seen) {
            strcat(reasons_seen, reason);
            strcat(reasons_seen, ",");
        }
        count++;
    }
    fclose(f);
    ck_assert_msg(count >= 10, "%s: only %zu invalid examples", t->name, count);
    /* The classes the foundation issue asks every event type to cover. */
    const char *classes[] = {"required",     "type",          "enum",     "elfproef", "format",
                             "unknown_code", "unknown_field", "too_long", "encoding", "age"};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        ck_assert_msg(strstr(reasons_seen, classes[i]), "%s: no invalid example of class %s",
                      t->name, classes[i]);
}
END_TEST

START_TEST(every_invalid_file_is_listed) {
    const kh_event_type *t = kh_event_type_at((size_t)_i);
    char dir[1200], path[1500], names[128][256];
    snprintf(dir, sizeof dir, "%s/%s/invalid", examples, t->name);
    snprintf(path, sizeof path, "%s/expected.tsv", dir);
    size_t len;
    char *tsv = slurp(path, &len);
    size_t n = list_json(dir, names, 128);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strstr(tsv, names[i]), "%s/%s has no line in expected.tsv", dir, names[i]);
    free(tsv);
}
END_TEST

int main(void) {
    Suite *s = suite_create("examples");
    TCase *tc = tcase_create("examples");
    tcase_add_checked_fixture(tc, setup, teardown);
    int n = (int)kh_event_type_count();
    tcase_add_loop_test(tc, valid_examples_round_trip, 0, n);
    tcase_add_loop_test(tc, invalid_examples_rejected_with_their_pointer, 0, n);
    tcase_add_loop_test(tc, every_invalid_file_is_listed, 0, n);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
