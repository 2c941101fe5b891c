/*
 * test_pseudo — kh_pseudo against published vectors (RFC 4231, FIPS 180-2)
 * and the pseudonym's properties.
 */
#include "kh_pseudo.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "ketenhub-test-secret-32-bytes!!!"
#define SECRET_LEN (sizeof(SECRET) - 1)

static void to_hex(const unsigned char *bin, size_t len, char *out) {
    for (size_t i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", bin[i]);
}

START_TEST(test_hmac_rfc4231) {
    unsigned char mac[32], key1[20], key6[131];
    char hexmac[65];
    memset(key1, 0x0b, sizeof(key1));
    memset(key6, 0xaa, sizeof(key6));

    /* RFC 4231 test case 1 */
    ck_assert_int_eq(kh_hmac_sha256(key1, sizeof(key1), "Hi There", 8, mac), 0);
    to_hex(mac, 32, hexmac);
    ck_assert_str_eq(hexmac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    /* test case 2 */
    const char *data2 = "what do ya want for nothing?";
    ck_assert_int_eq(kh_hmac_sha256("Jefe", 4, data2, strlen(data2), mac), 0);
    to_hex(mac, 32, hexmac);
    ck_assert_str_eq(hexmac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    /* test case 6: a key longer than the block size */
    const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    ck_assert_int_eq(kh_hmac_sha256(key6, sizeof(key6), data6, strlen(data6), mac), 0);
    to_hex(mac, 32, hexmac);
    ck_assert_str_eq(hexmac, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}
END_TEST

START_TEST(test_hmac_empty_inputs) {
    unsigned char mac[32];
    char hexmac[65];
    ck_assert_int_eq(kh_hmac_sha256(NULL, 0, NULL, 0, mac), 0);
    to_hex(mac, 32, hexmac);
    ck_assert_str_eq(hexmac, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}
END_TEST

START_TEST(test_sha256_vectors) {
    char out[65];
    ck_assert_int_eq(kh_sha256_hex("abc", 3, out), 0);
    ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(kh_sha256_hex("", 0, out), 0);
    ck_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ck_assert_int_eq(kh_sha256_hex(two_blocks, strlen(two_blocks), out), 0);
    ck_assert_str_eq(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_pseudonym_known_value) {
    char out[65];
    ck_assert_int_eq(kh_pseudo_bsn((const unsigned char *)SECRET, SECRET_LEN, "111222333", out), 0);
    /* HMAC-SHA256(SECRET, "111222333"), computed independently */
    ck_assert_str_eq(out, "c69b6ce6d722667f4a0daefafb484f793561dcd61c893f539a0b631981ba270a");
}
END_TEST

START_TEST(test_pseudonym_properties) {
    const unsigned char *key = (const unsigned char *)SECRET;
    const unsigned char other[] = "another-secret-of-32-bytes-long!";
    char a[65], b[65], c[65], d[65];
    ck_assert_int_eq(kh_pseudo_bsn(key, SECRET_LEN, "123456782", a), 0);
    ck_assert_int_eq(kh_pseudo_bsn(key, SECRET_LEN, "123456782", b), 0);
    ck_assert_int_eq(kh_pseudo_bsn(other, sizeof(other) - 1, "123456782", c), 0);
    ck_assert_int_eq(kh_pseudo_bsn(key, SECRET_LEN, "111222333", d), 0);
    ck_assert_str_eq(a, b); /* deterministic */
    ck_assert_str_ne(a, c); /* depends on the key */
    ck_assert_str_ne(a, d); /* depends on the BSN */
    ck_assert_int_eq(strlen(a), 64);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
    ck_assert_ptr_null(strstr(a, "123456782"));
    ck_assert_ptr_null(strstr(d, "111222333"));
}
END_TEST

START_TEST(test_pseudonym_rejects_bad_input) {
    const unsigned char *key = (const unsigned char *)SECRET;
    char out[65] = "junk";
    /* fails the elfproef / not exactly 9 digits: no pseudonym */
    ck_assert_int_eq(kh_pseudo_bsn(key, SECRET_LEN, "123456789", out), -1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(kh_pseudo_bsn(key, SECRET_LEN, "123456782 ", out), -1);
    ck_assert_int_eq(kh_pseudo_bsn(key, SECRET_LEN, "", out), -1);
    /* a short secret would make the pseudonyms reversible */
    ck_assert_int_eq(kh_pseudo_bsn(key, KH_PSEUDO_MIN_KEYLEN - 1, "123456782", out), -1);
    ck_assert_int_eq(kh_pseudo_bsn(key, KH_PSEUDO_MIN_KEYLEN, "123456782", out), 0);
}
END_TEST

static Suite *pseudo_suite(void) {
    Suite *s = suite_create("kh_pseudo");
    TCase *tc = tcase_create("pseudo");
    tcase_add_test(tc, test_hmac_rfc4231);
    tcase_add_test(tc, test_hmac_empty_inputs);
    tcase_add_test(tc, test_sha256_vectors);
    tcase_add_test(tc, test_pseudonym_known_value);
    tcase_add_test(tc, test_pseudonym_properties);
    tcase_add_test(tc, test_pseudonym_rejects_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kh_test_run(pseudo_suite()); }
