/*
 * test_primitives — the small shared modules every service leans on:
 * kh_uuid (against Python's uuid module and RFC 4122 forms), kh_orgid
 * (TYPE:CODE), kh_file (limits and error messages) and kh_alloc.
 */
#include "kh_alloc.h"
#include "kh_file.h"
#include "kh_orgid.h"
#include "kh_uuid.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(test_uuid_v5_known_vectors) {
    char out[KH_UUID_LEN];
    /* uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") */
    ck_assert_int_eq(kh_uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", 10, out), 0);
    ck_assert_str_eq(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    /* route's melding namespace is itself v5 of its URL in the URL namespace */
    const char *url = "https://ketenhub.nl/grensverkeer/melding";
    ck_assert_int_eq(kh_uuid_v5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", url, strlen(url), out), 0);
    ck_assert_str_eq(out, "8f9a67de-b482-5b01-9179-0ec6b22c0228");
    ck_assert_int_eq(kh_uuid_v5("not-a-uuid", "x", 1, out), -1);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_uuid_v4_form) {
    char a[KH_UUID_LEN], b[KH_UUID_LEN];
    kh_uuid_v4(a);
    kh_uuid_v4(b);
    ck_assert(kh_uuid_valid(a, strlen(a)));
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(a[14], '4');             /* version */
    ck_assert(strchr("89ab", a[19]) != NULL); /* RFC 4122 variant */
    for (const char *p = a; *p; p++)
        ck_assert(*p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
}
END_TEST

START_TEST(test_uuid_parse_is_strict) {
    unsigned char u[16];
    ck_assert_int_eq(kh_uuid_parse("0B6F6C1E-6d3e-4c1a-9a53-2f1f0d3c9b7e", u), 0);
    ck_assert_int_eq(u[0], 0x0b);
    ck_assert_int_eq(u[15], 0x7e);
    const char *bad[] = {"",
                         "0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7",
                         "0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7e0",
                         "0b6f6c1e6d3e-4c1a-9a53-2f1f0d3c9b7e0",
                         "{0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7e}",
                         " 0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7e",
                         "0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9bxe",
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        ck_assert_msg(kh_uuid_parse(bad[i], u) == -1, "accepted %s", bad[i]);
    ck_assert_int_eq(kh_uuid_valid("0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7e\0", 37), 0);
}
END_TEST

START_TEST(test_orgid_join_and_split) {
    char id[KH_ORGID_LEN], type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN];
    ck_assert_int_eq(kh_orgid_join("GEMEENTE", "GM0599", id, sizeof id), 0);
    ck_assert_str_eq(id, "GEMEENTE:GM0599");
    ck_assert_int_eq(kh_orgid_split(id, type, code), 0);
    ck_assert_str_eq(type, "GEMEENTE");
    ck_assert_str_eq(code, "GM0599");
    ck_assert_str_eq(kh_orgid_code("SWV:PO2801"), "PO2801");
    ck_assert_ptr_null(kh_orgid_code("SWV"));

    char small[8];
    ck_assert_int_eq(kh_orgid_join("GEMEENTE", "GM0599", small, sizeof small), -1);
    ck_assert_str_eq(small, "");
    ck_assert_int_eq(kh_orgid_join(NULL, "GM0599", id, sizeof id), -1);
    ck_assert_int_eq(kh_orgid_join("GEMEENTE", "", id, sizeof id), -1);

    const char *bad[] = {
        "GEMEENTE", ":GM0599", "GEMEENTE:", "A_VERY_LONG_TYPE_NAME:X", "SWV:0123456789ABCDEFG",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        ck_assert_msg(kh_orgid_split(bad[i], type, code) == -1, "accepted %s", bad[i]);
        ck_assert_str_eq(type, "");
    }

    json_t *o = json_pack("{s:s,s:s}", "type", "SCHOOL", "code", "12AB00");
    ck_assert_int_eq(kh_orgid_from_json(o, id, sizeof id), 0);
    ck_assert_str_eq(id, "SCHOOL:12AB00");
    json_object_set_new(o, "code", json_integer(1));
    ck_assert_int_eq(kh_orgid_from_json(o, id, sizeof id), -1);
    json_decref(o);
}
END_TEST

START_TEST(test_file_read_limits_and_errors) {
    char path[] = "/tmp/kh_file_XXXXXX", err[256];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    /* larger than the first buffer, so the growth path runs too */
    size_t want = 200000;
    char *data = kh_malloc(want);
    for (size_t i = 0; i < want; i++)
        data[i] = (char)('a' + i % 26);
    ck_assert_int_eq(write(fd, data, want), (ssize_t)want);
    close(fd);

    size_t len = 0;
    char *got = kh_file_read(path, 0, &len, err, sizeof err);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(len, want);
    ck_assert_int_eq(memcmp(got, data, want), 0);
    ck_assert_int_eq(got[len], '\0');
    free(got);

    ck_assert_ptr_null(kh_file_read(path, want - 1, &len, err, sizeof err));
    ck_assert_msg(strstr(err, "larger than 199999 bytes") != NULL, "%s", err);
    ck_assert_ptr_nonnull(got = kh_file_read(path, want, NULL, err, sizeof err));
    free(got);

    unlink(path);
    ck_assert_ptr_null(kh_file_read(path, 0, &len, err, sizeof err));
    ck_assert_msg(strstr(err, "cannot open: No such file") != NULL, "%s", err);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s", err);
    free(data);
}
END_TEST

START_TEST(test_alloc_copies) {
    char *s = kh_strdup("woonplaatsgemeente");
    ck_assert_str_eq(s, "woonplaatsgemeente");
    char *t = kh_strndup(s, 7);
    ck_assert_str_eq(t, "woonpla");
    s = kh_realloc(s, 1 << 20);
    ck_assert_str_eq(s, "woonplaatsgemeente");
    int *z = kh_calloc(16, sizeof *z);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(z[i], 0);
    free(z);
    free(t);
    free(s);
}
END_TEST

/* Under ASan with allocator_may_return_null=1 (as tests/run.sh sets it), an
 * absurd request fails like it would in production: the process must abort
 * with its one log line rather than go on with NULL. */
START_TEST(test_alloc_aborts_on_failure) { (void)kh_malloc((size_t)-1 / 2); }
END_TEST

static Suite *primitives_suite(void) {
    Suite *s = suite_create("primitives");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_uuid_v5_known_vectors);
    tcase_add_test(tc, test_uuid_v4_form);
    tcase_add_test(tc, test_uuid_parse_is_strict);
    tcase_add_test(tc, test_orgid_join_and_split);
    tcase_add_test(tc, test_file_read_limits_and_errors);
    tcase_add_test(tc, test_alloc_copies);
    tcase_add_test_raise_signal(tc, test_alloc_aborts_on_failure, 6 /* SIGABRT */);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kh_test_run(primitives_suite()); }
