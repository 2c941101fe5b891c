/*
 * test_config — kh_config: file parsing, malformed lines, environment
 * overrides, kh_config_each merging, typed getters.
 */
#include "kh_config.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

/* Writes text to a fresh temp file whose name is left in path. */
static void write_file(const char *text) {
    snprintf(path, sizeof(path), "/tmp/kh_test_config.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void teardown(void) {
    if (path[0])
        unlink(path);
    path[0] = '\0';
    unsetenv("KETENHUB_KAFKA_BOOTSTRAP_SERVERS");
    unsetenv("KETENHUB_KAFKA_SECURITY_PROTOCOL");
    unsetenv("KETENHUB_KAFKA_CLIENT_ID");
    unsetenv("KETENHUB_HTTP_PORT");
    unsetenv("KETENHUB_EMPTY_KEY");
}

START_TEST(test_file_parsing) {
    char err[256] = "";
    write_file("# ketenhub test config\n"
               "\n"
               "  kafka.bootstrap.servers =  broker1:9092,broker2:9092  \n"
               "\thttp.port=8080\r\n"
               "   # indented comment\n"
               "secret = a#b=c\n"
               "empty.value =\n"
               "http.port = 8081\n");
    kh_config *c = kh_config_new();
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(kh_config_load_file(c, path, err, sizeof(err)), 0);
    ck_assert_str_eq(kh_config_get(c, "kafka.bootstrap.servers", NULL),
                     "broker1:9092,broker2:9092");
    /* a later line for the same key wins */
    ck_assert_str_eq(kh_config_get(c, "http.port", NULL), "8081");
    /* no inline comments: '#' and '=' belong to the value */
    ck_assert_str_eq(kh_config_get(c, "secret", NULL), "a#b=c");
    ck_assert_str_eq(kh_config_get(c, "empty.value", "def"), "");
    ck_assert_str_eq(kh_config_get(c, "missing", "def"), "def");
    ck_assert_ptr_null(kh_config_get(c, "missing", NULL));
    kh_config_free(c);
}
END_TEST

START_TEST(test_later_file_and_set_win) {
    char err[256] = "";
    kh_config *c = kh_config_new();
    write_file("a = 1\nb = 1\n");
    ck_assert_int_eq(kh_config_load_file(c, path, err, sizeof(err)), 0);
    unlink(path);
    write_file("b = 2\n");
    ck_assert_int_eq(kh_config_load_file(c, path, err, sizeof(err)), 0);
    ck_assert_str_eq(kh_config_get(c, "a", NULL), "1");
    ck_assert_str_eq(kh_config_get(c, "b", NULL), "2");
    ck_assert_int_eq(kh_config_set(c, "b", "3"), 0);
    ck_assert_str_eq(kh_config_get(c, "b", NULL), "3");
    ck_assert_int_eq(kh_config_set_arg(c, " c.d = x=y ", err, sizeof(err)), 0);
    ck_assert_str_eq(kh_config_get(c, "c.d", NULL), "x=y");
    ck_assert_int_eq(kh_config_set_arg(c, "novalue", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "key = value"));
    ck_assert_int_eq(kh_config_set(c, "bad key", "v"), -1);
    ck_assert_int_eq(kh_config_set(c, "", "v"), -1);
    kh_config_free(c);
}
END_TEST

START_TEST(test_malformed_line_names_file_and_line) {
    char err[256] = "", want[128];
    write_file("good = 1\n# comment\n\nthis line has no equals sign 123456782\nlater = 2\n");
    kh_config *c = kh_config_new();
    ck_assert_int_eq(kh_config_load_file(c, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:4:", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "error '%s' does not start with '%s'", err,
                  want);
    /* the line's content may be a secret or a BSN: never quoted */
    ck_assert_ptr_null(strstr(err, "123456782"));
    ck_assert_str_eq(kh_config_get(c, "good", NULL), "1");
    ck_assert_ptr_null(kh_config_get(c, "later", NULL));
    kh_config_free(c);

    unlink(path);
    write_file("ok = 1\n = value without key\n");
    c = kh_config_new();
    ck_assert_int_eq(kh_config_load_file(c, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2:", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "error '%s'", err);
    unlink(path);
    write_file("key with space = 1\n");
    ck_assert_int_eq(kh_config_load_file(c, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:1:", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "error '%s'", err);
    kh_config_free(c);
}
END_TEST

START_TEST(test_missing_file) {
    char err[256] = "";
    kh_config *c = kh_config_new();
    ck_assert_int_eq(kh_config_load_file(c, "/nonexistent/kh.conf", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/kh.conf"));
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    kh_config_free(c);
}
END_TEST

START_TEST(test_env_override) {
    char err[256] = "";
    write_file("kafka.bootstrap.servers = file:9092\nkafka.client-id = file\n");
    setenv("KETENHUB_KAFKA_BOOTSTRAP_SERVERS", "env:9092", 1);
    setenv("KETENHUB_KAFKA_CLIENT_ID", "env-client", 1);
    setenv("KETENHUB_EMPTY_KEY", "", 1);
    kh_config *c = kh_config_new();
    ck_assert_int_eq(kh_config_load_file(c, path, err, sizeof(err)), 0);
    ck_assert_str_eq(kh_config_get(c, "kafka.bootstrap.servers", NULL), "env:9092");
    /* '-' maps to '_' as well */
    ck_assert_str_eq(kh_config_get(c, "kafka.client-id", NULL), "env-client");
    /* the environment beats kh_config_set too */
    kh_config_set(c, "kafka.bootstrap.servers", "set:9092");
    ck_assert_str_eq(kh_config_get(c, "kafka.bootstrap.servers", NULL), "env:9092");
    /* and applies to keys no file mentions */
    ck_assert_str_eq(kh_config_get(c, "kafka.client.id", "def"), "env-client");
    /* an empty variable counts as unset */
    ck_assert_str_eq(kh_config_get(c, "empty.key", "def"), "def");
    /* the environment is a snapshot taken by kh_config_new */
    setenv("KETENHUB_KAFKA_BOOTSTRAP_SERVERS", "changed:9092", 1);
    ck_assert_str_eq(kh_config_get(c, "kafka.bootstrap.servers", NULL), "env:9092");
    kh_config_free(c);
}
END_TEST

typedef struct seen {
    int n;
    char keys[8][64];
    char values[8][64];
} seen;

static void collect(const char *key, const char *value, void *ud) {
    seen *s = ud;
    ck_assert_int_lt(s->n, 8);
    snprintf(s->keys[s->n], 64, "%s", key);
    snprintf(s->values[s->n], 64, "%s", value);
    s->n++;
}

static const char *seen_value(const seen *s, const char *key) {
    const char *found = NULL;
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->keys[i], key) == 0) {
            ck_assert_msg(found == NULL, "key %s reported twice", key);
            found = s->values[i];
        }
    }
    return found;
}

START_TEST(test_each_merges_env_and_file) {
    char err[256] = "";
    write_file("kafka.bootstrap.servers = file:9092\n"
               "kafka.linger.ms = 10\n"
               "http.port = 8080\n");
    setenv("KETENHUB_KAFKA_BOOTSTRAP_SERVERS", "env:9092", 1);
    setenv("KETENHUB_KAFKA_SECURITY_PROTOCOL", "SSL", 1);
    setenv("KETENHUB_HTTP_PORT", "9090", 1);
    kh_config *c = kh_config_new();
    ck_assert_int_eq(kh_config_load_file(c, path, err, sizeof(err)), 0);
    kh_config_set(c, "kafka.client.id", "set-client");
    seen s = {0};
    kh_config_each(c, "kafka.", collect, &s);
    ck_assert_int_eq(s.n, 4);
    ck_assert_str_eq(seen_value(&s, "kafka.bootstrap.servers"), "env:9092");
    ck_assert_str_eq(seen_value(&s, "kafka.linger.ms"), "10");
    ck_assert_str_eq(seen_value(&s, "kafka.client.id"), "set-client");
    ck_assert_str_eq(seen_value(&s, "kafka.security.protocol"), "SSL");
    ck_assert_ptr_null(seen_value(&s, "http.port"));

    seen all = {0};
    kh_config_each(c, "", collect, &all);
    ck_assert_str_eq(seen_value(&all, "http.port"), "9090");
    ck_assert_int_eq(all.n, 5);
    kh_config_free(c);
}
END_TEST

START_TEST(test_get_int) {
    char err[256] = "";
    long long v = -1;
    kh_config *c = kh_config_new();
    kh_config_set(c, "n.ok", "42");
    kh_config_set(c, "n.neg", "-7");
    kh_config_set(c, "n.word", "forty");
    kh_config_set(c, "n.trailing", "10ms");
    kh_config_set(c, "n.empty", "");
    kh_config_set(c, "n.huge", "99999999999999999999999");
    ck_assert_int_eq(kh_config_get_int(c, "n.ok", 0, &v, err, sizeof(err)), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(kh_config_get_int(c, "n.neg", 0, &v, err, sizeof(err)), 0);
    ck_assert_int_eq(v, -7);
    ck_assert_int_eq(kh_config_get_int(c, "n.missing", 5, &v, err, sizeof(err)), 0);
    ck_assert_int_eq(v, 5);
    const char *bad[] = {"n.word", "n.trailing", "n.empty", "n.huge"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 123;
        err[0] = '\0';
        ck_assert_int_eq(kh_config_get_int(c, bad[i], 0, &v, err, sizeof(err)), -1);
        ck_assert_int_eq(v, 123);
        ck_assert_msg(strstr(err, bad[i]) != NULL, "error '%s' does not name %s", err, bad[i]);
    }
    kh_config_free(c);
}
END_TEST

START_TEST(test_get_bool) {
    char err[256] = "";
    int b = -1;
    kh_config *c = kh_config_new();
    const char *yes[] = {"true", "TRUE", "yes", "Yes", "1"};
    const char *no[] = {"false", "False", "no", "NO", "0"};
    for (int i = 0; i < 5; i++) {
        kh_config_set(c, "b", yes[i]);
        ck_assert_int_eq(kh_config_get_bool(c, "b", 0, &b, err, sizeof(err)), 0);
        ck_assert_int_eq(b, 1);
        kh_config_set(c, "b", no[i]);
        ck_assert_int_eq(kh_config_get_bool(c, "b", 1, &b, err, sizeof(err)), 0);
        ck_assert_int_eq(b, 0);
    }
    ck_assert_int_eq(kh_config_get_bool(c, "b.missing", 1, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b, 1);
    kh_config_set(c, "b.bad", "maybe");
    b = 7;
    ck_assert_int_eq(kh_config_get_bool(c, "b.bad", 1, &b, err, sizeof(err)), -1);
    ck_assert_int_eq(b, 7);
    ck_assert_ptr_nonnull(strstr(err, "b.bad"));
    kh_config_free(c);
}
END_TEST

static Suite *config_suite(void) {
    Suite *s = suite_create("kh_config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_file_parsing);
    tcase_add_test(tc, test_later_file_and_set_win);
    tcase_add_test(tc, test_malformed_line_names_file_and_line);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_env_override);
    tcase_add_test(tc, test_each_merges_env_and_file);
    tcase_add_test(tc, test_get_int);
    tcase_add_test(tc, test_get_bool);
    suite_add_tcase(s, tc);
    return s;
}

/* Stray KETENHUB_* variables of the calling shell would change the results. */
static void clear_ketenhub_env(void) {
    extern char **environ;
    char name[256];
    for (int i = 0; environ[i];) {
        const char *eq = strchr(environ[i], '=');
        size_t n = eq ? (size_t)(eq - environ[i]) : 0;
        if (n > 0 && n < sizeof(name) && strncmp(environ[i], "KETENHUB_", 9) == 0) {
            memcpy(name, environ[i], n);
            name[n] = '\0';
            unsetenv(name);
        } else {
            i++;
        }
    }
}

int main(void) {
    clear_ketenhub_env();
    return kh_test_run(config_suite());
}
