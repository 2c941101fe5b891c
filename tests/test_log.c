/*
 * test_log — kh_log JSON lines (format, fields, level filter, one write per
 * line under threads) and kh_bsn (elfproef, masking), including that no
 * valid BSN survives into a log line.
 */
#include "kh_bsn.h"
#include "kh_log.h"
#include "testlib.h"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 111222333 and 123456782 pass the elfproef; 123456789 does not. */
#define BSN1 "111222333"
#define BSN2 "123456782"
#define NOT_BSN "123456789"

static int pipe_fds[2];
static char captured[65536];

static void setup(void) {
    ck_assert_int_eq(pipe(pipe_fds), 0);
    fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
    kh_log_setup("ingest", KH_LOG_DEBUG, pipe_fds[1]);
}

static void teardown(void) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

/* Everything logged since the last call. */
static const char *drain(void) {
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(captured) - 1 &&
           (r = read(pipe_fds[0], captured + n, sizeof(captured) - 1 - n)) > 0)
        n += (size_t)r;
    captured[n] = '\0';
    return captured;
}

static int count_lines(const char *text) {
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* Logs one line and returns it parsed; the raw text stays in captured. */
static json_t *log_one(int level, const char *msg, json_t *fields) {
    kh_log(level, msg, fields);
    const char *text = drain();
    ck_assert_int_eq(count_lines(text), 1);
    ck_assert_int_eq(text[strlen(text) - 1], '\n');
    json_error_t jerr;
    json_t *line = json_loads(text, JSON_ALLOW_NUL, &jerr);
    ck_assert_msg(line != NULL, "not JSON (%s): %s", jerr.text, text);
    ck_assert(json_is_object(line));
    return line;
}

static const char *str_member(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_string(v), "member %s missing or not a string", key);
    return json_string_value(v);
}

START_TEST(test_line_format) {
    json_t *line = log_one(KH_LOG_INFO, "event published",
                           json_pack("{s:s, s:i, s:{s:b}}", "topic", "ketenhub.tlv.v1", "partition",
                                     3, "detail", "retried", 0));
    ck_assert_msg(strncmp(captured, "{\"ts\":\"", 7) == 0, "line does not start with ts: %s",
                  captured);
    const char *ts = str_member(line, "ts");
    ck_assert_int_eq(strlen(ts), 24); /* 2026-11-23T15:14:51.123Z */
    ck_assert(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' &&
              ts[19] == '.' && ts[23] == 'Z');
    ck_assert_str_eq(str_member(line, "level"), "info");
    ck_assert_str_eq(str_member(line, "service"), "ingest");
    ck_assert_str_eq(str_member(line, "msg"), "event published");
    ck_assert_str_eq(str_member(line, "topic"), "ketenhub.tlv.v1");
    ck_assert_int_eq(json_integer_value(json_object_get(line, "partition")), 3);
    ck_assert(json_is_false(json_object_get(json_object_get(line, "detail"), "retried")));
    json_decref(line);

    line = log_one(KH_LOG_ERROR, "no fields", NULL);
    ck_assert_str_eq(str_member(line, "level"), "error");
    ck_assert_int_eq(json_object_size(line), 4);
    json_decref(line);
}
END_TEST

START_TEST(test_reserved_and_odd_fields) {
    json_t *line = log_one(KH_LOG_WARN, "real",
                           json_pack("{s:s, s:s, s:s}", "msg", "fake", "level", "debug", "x", "y"));
    ck_assert_str_eq(str_member(line, "msg"), "real");
    ck_assert_str_eq(str_member(line, "level"), "warn");
    ck_assert_str_eq(str_member(line, "x"), "y");
    json_decref(line);

    line = log_one(KH_LOG_INFO, "array fields", json_pack("[i, i]", 1, 2));
    ck_assert(json_is_array(json_object_get(line, "fields")));
    json_decref(line);

    /* invalid UTF-8 in msg must not lose the line */
    line = log_one(KH_LOG_INFO, "bad \xff byte", NULL);
    ck_assert_str_eq(str_member(line, "msg"), "bad ? byte");
    json_decref(line);
}
END_TEST

START_TEST(test_bsn_masked_everywhere) {
    json_t *line = log_one(KH_LOG_INFO, "aanmelding for " BSN1 " rejected",
                           json_pack("{s:s, s:I, s:f, s:[s, {s:s}], s:s, s:s%}", "bsn", BSN2,
                                     "as_number", (json_int_t)123456782, "as_real", 123456782.0,
                                     "nested", "x" BSN1 "y", "deep", "bsn=" BSN2, "key_" BSN1,
                                     "in a key", "after_nul", "a\0" BSN1, (size_t)11));
    ck_assert_ptr_null(strstr(captured, BSN1));
    ck_assert_ptr_null(strstr(captured, BSN2));
    ck_assert_str_eq(str_member(line, "msg"), "aanmelding for ********* rejected");
    ck_assert_str_eq(str_member(line, "bsn"), "*********");
    /* a number holding a BSN becomes a string so the line stays JSON */
    ck_assert_str_eq(str_member(line, "as_number"), "*********");
    ck_assert_str_eq(str_member(line, "as_real"), "*********.0");
    json_t *nested = json_object_get(line, "nested");
    ck_assert_str_eq(json_string_value(json_array_get(nested, 0)), "x*********y");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(nested, 1), "deep")),
                     "bsn=*********");
    ck_assert_str_eq(str_member(line, "key_*********"), "in a key");
    ck_assert_int_eq(json_string_length(json_object_get(line, "after_nul")), 11);
    json_decref(line);

    /* right after a control character jansson writes \u0001: the escape's
     * hex digits must not hide the BSN from the masking */
    line = log_one(KH_LOG_INFO, "\x01" BSN1, NULL);
    ck_assert_ptr_null(strstr(captured, BSN1));
    ck_assert_str_eq(str_member(line, "msg"), "\x01*********");
    json_decref(line);

    kh_log_setup(BSN2, KH_LOG_DEBUG, pipe_fds[1]);
    line = log_one(KH_LOG_INFO, "service name", NULL);
    ck_assert_str_eq(str_member(line, "service"), "*********");
    json_decref(line);
}
END_TEST

START_TEST(test_non_bsn_numbers_kept) {
    json_t *line = log_one(KH_LOG_INFO, "order " NOT_BSN " and 1" BSN2 " and " BSN2 "0",
                           json_pack("{s:s, s:I, s:s, s:s}", "fails_elfproef", NOT_BSN,
                                     "ten_digits", (json_int_t)1234567820, "zeros", "000000000",
                                     "eight", "12345678"));
    ck_assert_str_eq(str_member(line, "msg"), "order " NOT_BSN " and 1" BSN2 " and " BSN2 "0");
    ck_assert_str_eq(str_member(line, "fails_elfproef"), NOT_BSN);
    ck_assert_int_eq(json_integer_value(json_object_get(line, "ten_digits")), 1234567820);
    ck_assert_str_eq(str_member(line, "zeros"), "000000000");
    ck_assert_str_eq(str_member(line, "eight"), "12345678");
    json_decref(line);
}
END_TEST

START_TEST(test_min_level) {
    kh_log_setup("route", KH_LOG_WARN, pipe_fds[1]);
    ck_assert(!kh_log_enabled(KH_LOG_INFO));
    ck_assert(kh_log_enabled(KH_LOG_WARN));
    /* dropped lines still release their fields (LeakSanitizer checks) */
    kh_log_debug("dropped debug", json_pack("{s:s}", "a", "b"));
    kh_log_info("dropped info", json_pack("{s:s}", "a", "b"));
    ck_assert_str_eq(drain(), "");
    kh_log_warn("kept warn", NULL);
    kh_log_error("kept error", json_pack("{s:s}", "a", "b"));
    const char *text = drain();
    ck_assert_int_eq(count_lines(text), 2);
    ck_assert_ptr_nonnull(strstr(text, "\"level\":\"warn\""));
    ck_assert_ptr_nonnull(strstr(text, "\"level\":\"error\""));
    ck_assert_ptr_nonnull(strstr(text, "\"service\":\"route\""));
    ck_assert_ptr_null(strstr(text, "dropped"));
}
END_TEST

START_TEST(test_level_parse) {
    ck_assert_int_eq(kh_log_level_parse("debug"), KH_LOG_DEBUG);
    ck_assert_int_eq(kh_log_level_parse("INFO"), KH_LOG_INFO);
    ck_assert_int_eq(kh_log_level_parse("Warn"), KH_LOG_WARN);
    ck_assert_int_eq(kh_log_level_parse("error"), KH_LOG_ERROR);
    ck_assert_int_eq(kh_log_level_parse("verbose"), -1);
}
END_TEST

#define THREADS 8
#define LINES_PER_THREAD 400

static void *log_many(void *arg) {
    char msg[600];
    memset(msg, 'x', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    for (int i = 0; i < LINES_PER_THREAD; i++)
        kh_log_info(msg, json_pack("{s:i, s:i}", "thread", (int)(size_t)arg, "i", i));
    return NULL;
}

START_TEST(test_threads_do_not_interleave) {
    char path[] = "/tmp/kh_test_log.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    kh_log_setup("watch", KH_LOG_INFO, fd);
    pthread_t t[THREADS];
    for (size_t i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, log_many, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    close(fd);

    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *buf = NULL;
    size_t cap = 0;
    int lines = 0, per_thread[THREADS] = {0};
    while (getline(&buf, &cap, f) > 0) {
        json_error_t jerr;
        json_t *line = json_loads(buf, 0, &jerr);
        ck_assert_msg(line != NULL, "line %d is not JSON: %s", lines + 1, jerr.text);
        json_int_t th = json_integer_value(json_object_get(line, "thread"));
        ck_assert(th >= 0 && th < THREADS);
        /* each thread's lines keep their order */
        ck_assert_int_eq(json_integer_value(json_object_get(line, "i")), per_thread[th]++);
        json_decref(line);
        lines++;
    }
    free(buf);
    fclose(f);
    unlink(path);
    ck_assert_int_eq(lines, THREADS * LINES_PER_THREAD);
}
END_TEST

START_TEST(test_bsn_valid) {
    ck_assert(kh_bsn_valid(BSN1));
    ck_assert(kh_bsn_valid(BSN2));
    ck_assert(kh_bsn_valid("999999990"));
    ck_assert(!kh_bsn_valid(NOT_BSN));
    ck_assert(!kh_bsn_valid("000000000"));
    ck_assert(!kh_bsn_valid("12345678"));
    ck_assert(!kh_bsn_valid("1234567820"));
    ck_assert(!kh_bsn_valid(" 123456782"));
    ck_assert(!kh_bsn_valid("12345678a"));
    ck_assert(!kh_bsn_valid(""));
    ck_assert(!kh_bsn_valid(NULL));
}
END_TEST

START_TEST(test_bsn_mask) {
    char text[] = BSN1 " a" BSN2 "b " NOT_BSN " 1" BSN1 " " BSN2 "9 000000000 " BSN2;
    kh_bsn_mask(text);
    ck_assert_str_eq(text,
                     "********* a*********b " NOT_BSN " 1" BSN1 " " BSN2 "9 000000000 *********");
    char empty[] = "";
    kh_bsn_mask(empty);
    ck_assert_str_eq(empty, "");
}
END_TEST

static Suite *log_suite(void) {
    Suite *s = suite_create("kh_log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_line_format);
    tcase_add_test(tc, test_reserved_and_odd_fields);
    tcase_add_test(tc, test_bsn_masked_everywhere);
    tcase_add_test(tc, test_non_bsn_numbers_kept);
    tcase_add_test(tc, test_min_level);
    tcase_add_test(tc, test_level_parse);
    tcase_add_test(tc, test_threads_do_not_interleave);
    suite_add_tcase(s, tc);
    TCase *bsn = tcase_create("bsn");
    tcase_add_test(bsn, test_bsn_valid);
    tcase_add_test(bsn, test_bsn_mask);
    suite_add_tcase(s, bsn);
    return s;
}

int main(void) { return kh_test_run(log_suite()); }
