/*
 * test_watch_cli — the CLI subcommands that go with the watch, run as a
 * program against a devbroker and ketenhub-ingest: send (accepted,
 * rejected, no key, unreachable), tail (masked BSN, --reveal and its audit
 * line, filters, --follow, unknown topic), topics, lag (STALL of a group whose
 * committed offset does not move, UNKNOWN, bad options) and Kafka
 * unreachable; each with its exit code and message. On Apache Kafka too:
 * lag through OffsetFetch and retention through the admin API.
 */
#include "harness.h"
#include "kh_kafka.h"
#include "testlib.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXAMPLE "/schemas/examples/aanmelding/valid/01-geplaatst-rotterdam.json"
#define BAD_BSN "/schemas/examples/aanmelding/invalid/07-bsn-elfproef.json"
#define RAW_BSN "111222333"

static char bootstrap[512];
static pid_t broker;
static ih_ingest in;
static char env_bootstrap[600], env_prefix[128], env_url[128];

typedef struct cli_result {
    int status;
    char out[65536], err[16384];
} cli_result;

static void slurp(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
    unlink(path);
}

/* Runs `ketenhub args...` with the test's environment plus env (NULL-ended
 * "K=V", may be NULL). */
static void run(cli_result *r, const char *const *env, const char *const *args) {
    char out[] = "/tmp/kh-cli-out-XXXXXX", err[] = "/tmp/kh-cli-err-XXXXXX";
    int fo = mkstemp(out), fe = mkstemp(err);
    const char *argv[32] = {kh_test_bin("ketenhub")};
    size_t n = 1;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fo, 1);
        dup2(fe, 2);
        putenv(env_bootstrap);
        putenv(env_prefix);
        putenv(env_url);
        unsetenv("KETENHUB_API_KEY");
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    close(fo);
    close(fe);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
}

static const char *path_of(const char *rel) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s%s", kh_test_source_dir(), rel);
    return buf[k];
}

static void setup(void) {
    broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    ih_start(&in, bootstrap, NULL, 0);
    snprintf(env_bootstrap, sizeof env_bootstrap, "KETENHUB_KAFKA_BOOTSTRAP_SERVERS=%s", bootstrap);
    snprintf(env_prefix, sizeof env_prefix, "KETENHUB_TOPIC_PREFIX=%s", in.prefix);
    snprintf(env_url, sizeof env_url, "KETENHUB_INGEST_URL=http://127.0.0.1:%d", in.port);
}

static void teardown(void) {
    ih_stop(&in, SIGTERM);
    ih_cleanup(&in);
    kh_test_stop(broker, SIGTERM, 5000);
}

static const char *const KEY[] = {"KETENHUB_API_KEY=key-12AB00", NULL};

START_TEST(send_answers_with_exit_codes) {
    static cli_result r;
    run(&r, KEY, (const char *[]){"send", "aanmelding", path_of(EXAMPLE), NULL});
    ck_assert_msg(r.status == 0, "%d %s %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "geaccepteerd: event_id"));
    run(&r, KEY, (const char *[]){"send", "aanmelding", path_of(EXAMPLE), "--json", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "\"event_id\""));
    run(&r, KEY, (const char *[]){"send", "aanmelding", path_of(BAD_BSN), NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "422"));
    ck_assert_ptr_nonnull(strstr(r.out, "/jeugdige/bsn: "));
    ck_assert_ptr_nonnull(strstr(r.out, "(elfproef)"));
    run(&r, NULL, (const char *[]){"send", "aanmelding", path_of(EXAMPLE), NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "set KETENHUB_API_KEY"));
    run(&r, KEY, (const char *[]){"send", "inschrijving", path_of(EXAMPLE), NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown event type 'inschrijving'"));
    run(&r, KEY, (const char *[]){"send", "aanmelding", "/nonexistent.json", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent.json"));
    run(&r, KEY,
        (const char *[]){"send", "aanmelding", path_of(EXAMPLE), "--url", "http://127.0.0.1:1",
                         NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "cannot reach ingest"));
}
END_TEST

START_TEST(tail_masks_the_bsn_unless_revealed_and_audited) {
    static cli_result r;
    run(&r, KEY, (const char *[]){"send", "aanmelding", path_of(EXAMPLE), NULL});
    ck_assert_int_eq(r.status, 0);
    run(&r, NULL, (const char *[]){"tail", "aanmelding", "--from-beginning", "--json", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "\"bsn\":\"*********\""));
    ck_assert_ptr_null(strstr(r.out, RAW_BSN));
    ck_assert_ptr_nonnull(strstr(r.out, "\"woonplaatsgemeente\":\"GM0502\""));
    char audit[] = "/tmp/kh-cli-audit-XXXXXX", env_audit[64];
    close(mkstemp(audit));
    snprintf(env_audit, sizeof env_audit, "KETENHUB_AUDIT_LOG=%s", audit);
    run(&r, (const char *[]){env_audit, NULL},
        (const char *[]){"tail", "aanmelding", "--from-beginning", "--json", "--reveal", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, RAW_BSN));
    ck_assert_ptr_nonnull(strstr(r.err, "\"event\":\"bsn-reveal\""));
    char line[1024];
    slurp(audit, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "\"event\":\"bsn-reveal\""));
    ck_assert_ptr_nonnull(strstr(line, "aanmelding"));
    /* filters */
    run(&r, NULL,
        (const char *[]){"tail", "aanmelding", "--from-beginning", "--json", "--partner",
                         "SCHOOL:12AB00", NULL});
    ck_assert_ptr_nonnull(strstr(r.out, "12AB00"));
    run(&r, NULL,
        (const char *[]){"tail", "aanmelding", "--from-beginning", "--partner", "GEMEENTE:GM9999",
                         NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "");
    run(&r, NULL, (const char *[]){"tail", "aanmelding", "--since", "2999-01-01T00:00:00Z", NULL});
    ck_assert_str_eq(r.out, "");
    /* mistakes */
    run(&r, NULL, (const char *[]){"tail", "inschrijving", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "no ketenhub topic 'inschrijving'; one of: aanmelding "
                                        "afleveringen beschikking deadletter"));
    run(&r, NULL, (const char *[]){"tail", "aanmelding", "--partner", "GM0599", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--partner wants TYPE:CODE"));
    run(&r, NULL, (const char *[]){"tail", "aanmelding", "--since", "gisteren", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--since wants an RFC 3339 time"));
    run(&r, NULL, (const char *[]){"tail", NULL});
    ck_assert_int_eq(r.status, 2);
}
END_TEST

START_TEST(tail_follow_shows_new_records) {
    static cli_result r;
    char out[] = "/tmp/kh-cli-follow-XXXXXX";
    close(mkstemp(out));
    const char *argv[] = {
        kh_test_bin("ketenhub"), "tail", "aanmelding", "--follow", "--json", NULL};
    pid_t pid = kh_test_spawn(argv, (const char *[]){env_bootstrap, env_prefix, NULL}, out);
    sleep(3); /* assigned at the end of the (empty) topic */
    run(&r, KEY, (const char *[]){"send", "aanmelding", path_of(EXAMPLE), NULL});
    ck_assert_int_eq(r.status, 0);
    char text[8192] = "";
    for (int i = 0; i < 100 && !strstr(text, "\"offset\":0"); i++) {
        usleep(100000);
        FILE *f = fopen(out, "r");
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = 0;
        fclose(f);
    }
    kh_test_stop(pid, SIGTERM, 5000);
    unlink(out);
    ck_assert_msg(strstr(text, "\"topic\":\"") && strstr(text, "aanmelding.v1\",\"partition\":"),
                  "%s", text);
    ck_assert_ptr_nonnull(strstr(text, "\"bsn\":\"*********\""));
    ck_assert_ptr_null(strstr(text, RAW_BSN));
}
END_TEST

START_TEST(topics_lists_every_topic) {
    static cli_result r;
    run(&r, KEY, (const char *[]){"send", "aanmelding", path_of(EXAMPLE), NULL});
    run(&r, NULL, (const char *[]){"topics", "--json", "--interval-ms", "200", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    int lines = 0;
    for (const char *p = r.out; (p = strchr(p, '\n')); p++)
        lines++;
    ck_assert_int_eq(lines, 8);
    ck_assert_ptr_nonnull(strstr(r.out, "aanmelding.v1\",\"partitions\":4"));
    run(&r, NULL, (const char *[]){"topics", "extra", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "takes no arguments"));
    run(&r, (const char *[]){"KETENHUB_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1", NULL},
        (const char *[]){"topics", "--timeout-ms", "1500", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "cannot reach Kafka"));
}
END_TEST

/* Commits offset 0 for group on every partition of topic: a consumer that
 * has not processed anything. */
static void commit_zero(const char *group, const char *topic, int partitions) {
    char err[512];
    kh_config *c = kh_config_new();
    kh_config_set(c, "kafka.bootstrap.servers", bootstrap);
    rd_kafka_t *rk = kh_kafka_consumer_new(c, group, NULL, NULL, err, sizeof err);
    ck_assert_ptr_nonnull(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = 0;
    ck_assert_int_eq(rd_kafka_commit(rk, l, 0), 0);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    kh_config_free(c);
}

START_TEST(lag_reports_a_stalled_group) {
    static cli_result r;
    char topic[256], group[128];
    run(&r, KEY, (const char *[]){"send", "aanmelding", path_of(EXAMPLE), NULL});
    ck_assert_int_eq(r.status, 0);
    ih_topic(&in, "aanmelding", topic, sizeof topic);
    snprintf(group, sizeof group, "%sstuck", in.prefix);
    commit_zero(group, topic, 4);
    char spec[160];
    snprintf(spec, sizeof spec, "stuck=%s", group);
    run(&r, NULL, (const char *[]){"lag", "--group", spec, "--interval-ms", "300", "--json", NULL});
    ck_assert_msg(r.status == 1, "%d %s %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "\"status\":\"STALL\""));
    ck_assert_ptr_nonnull(strstr(r.out, "\"lag\":1"));
    run(&r, NULL, (const char *[]){"lag", "--group", spec, "--interval-ms", "300", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "stuck ("));
    ck_assert_ptr_nonnull(strstr(r.out, ": STALL, lag 1"));
    run(&r, NULL,
        (const char *[]){"lag", "--group", "nobody=never-committed", "--interval-ms", "100", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "UNKNOWN"));
    run(&r, NULL, (const char *[]){"lag", "--group", "justaname", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--group wants SERVICE=GROUP"));
}
END_TEST

/* On Apache Kafka: the committed offsets through OffsetFetch, the lag in
 * seconds of a record written before, and retention.ms from the admin API
 * (which the devbroker does not answer). */
START_TEST(lag_and_topics_on_apache_kafka) {
    static cli_result r;
    const char *kafka = kh_test_kafka();
    char prefix[64], topic[256], group[128], spec[160], env_k[600], env_p[128];
    kh_test_unique_prefix(prefix, sizeof prefix);
    snprintf(topic, sizeof topic, "%sketenhub.aanmelding.v1", prefix);
    kh_test_create_topic(kafka, topic, 2);
    rd_kafka_t *p = kh_test_producer(kafka);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                           RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END),
                         0);
    ck_assert_int_eq(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
    snprintf(group, sizeof group, "%sstuck", prefix);
    snprintf(bootstrap, sizeof bootstrap, "%s", kafka);
    commit_zero(group, topic, 2);
    sleep(1);
    snprintf(env_k, sizeof env_k, "KETENHUB_KAFKA_BOOTSTRAP_SERVERS=%s", kafka);
    snprintf(env_p, sizeof env_p, "KETENHUB_TOPIC_PREFIX=%s", prefix);
    snprintf(spec, sizeof spec, "stuck=%s", group);
    run(&r, (const char *[]){env_k, env_p, NULL},
        (const char *[]){"lag", "--group", spec, "--interval-ms", "300", "--json", NULL});
    ck_assert_msg(r.status == 1, "%d %s %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "\"status\":\"STALL\""));
    ck_assert_ptr_nonnull(strstr(r.out, "\"lag\":3"));
    ck_assert_ptr_null(strstr(r.out, "\"lag_seconds\":0.0,"));
    run(&r, (const char *[]){env_k, env_p, NULL},
        (const char *[]){"topics", "--json", "--interval-ms", "100", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "aanmelding.v1\",\"partitions\":2"));
    ck_assert_ptr_nonnull(strstr(r.out, "\"retention_ms\":\"604800000\""));
}
END_TEST

int main(void) {
    Suite *s = suite_create("watch_cli");
    TCase *kafka = tcase_create("kafka");
    tcase_set_timeout(kafka, 120);
    tcase_add_test(kafka, lag_and_topics_on_apache_kafka);
    suite_add_tcase(s, kafka);
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, send_answers_with_exit_codes);
    tcase_add_test(tc, tail_masks_the_bsn_unless_revealed_and_audited);
    tcase_add_test(tc, tail_follow_shows_new_records);
    tcase_add_test(tc, topics_lists_every_topic);
    tcase_add_test(tc, lag_reports_a_stalled_group);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
