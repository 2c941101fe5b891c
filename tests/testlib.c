/*
 * testlib — process, broker and topic helpers for service tests.
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int kh_test_run(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

const char *kh_test_bin(const char *program) {
    static char path[1024];
    const char *dir = getenv("KH_BIN_DIR");
    ck_assert_msg(dir != NULL, "KH_BIN_DIR is not set (run the tests through ctest)");
    snprintf(path, sizeof path, "%s/%s", dir, program);
    return path;
}

const char *kh_test_source_dir(void) {
    const char *dir = getenv("KH_SOURCE_DIR");
    ck_assert_msg(dir != NULL, "KH_SOURCE_DIR is not set (run the tests through ctest)");
    return dir;
}

pid_t kh_test_spawn(const char *const argv[], const char *const env[], const char *log_path) {
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid > 0)
        return pid;
    /* A test that dies must not leave its programs running. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    for (size_t i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    if (log_path) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
    }
    execve(argv[0], (char *const *)argv, environ);
    fprintf(stderr, "testlib: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int kh_test_stop(pid_t pid, int sig, int timeout_ms) {
    int status = 0;
    kill(pid, sig);
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        sleep_ms(20);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t kh_test_devbroker(char *bootstrap, size_t len) {
    char file[] = "/tmp/kh-devbroker-XXXXXX";
    int fd = mkstemp(file);
    ck_assert_int_ge(fd, 0);
    close(fd);
    unlink(file);
    const char *argv[] = {kh_test_bin("ketenhub-devbroker"), "--bootstrap-file", file, NULL};
    pid_t pid = kh_test_spawn(argv, NULL, "/dev/null");
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(file, "r");
        if (f) {
            char *got = fgets(bootstrap, (int)len, f);
            fclose(f);
            if (got && strlen(bootstrap) > 0) {
                bootstrap[strcspn(bootstrap, "\r\n")] = '\0';
                unlink(file);
                return pid;
            }
        }
        sleep_ms(50);
    }
    kh_test_stop(pid, SIGKILL, 1000);
    ck_abort_msg("ketenhub-devbroker did not write its bootstrap address");
    return -1;
}

const char *kh_test_kafka(void) {
    const char *b = getenv("KH_KAFKA_BOOTSTRAP");
    ck_assert_msg(b && *b, "KH_KAFKA_BOOTSTRAP is not set: this test needs a real Apache Kafka; "
                           "run it through `make test` or tests/with-kafka.sh");
    return b;
}

const char *kh_test_unique_prefix(char *buf, size_t len) {
    static int n;
    snprintf(buf, len, "t%dx%dx%lld.", (int)getpid(), ++n, now_ms() % 100000);
    return buf;
}

typedef struct body {
    char *data;
    size_t len;
} body;

static size_t collect(char *d, size_t s, size_t n, void *ud) {
    body *b = ud;
    char *grown = realloc(b->data, b->len + s * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, d, s * n);
    b->len += s * n;
    grown[b->len] = '\0';
    b->data = grown;
    return s * n;
}

long kh_test_http(int port, const char *method, const char *path, char **out) {
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    body b = {0};
    long status = 0;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (out)
        *out = b.data;
    else
        free(b.data);
    return status;
}

static size_t discard(char *d, size_t s, size_t n, void *u) {
    (void)d;
    (void)u;
    return s * n;
}

int kh_test_wait_http(int port, const char *path, long status, int timeout_ms) {
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    long long deadline = now_ms() + timeout_ms;
    long got = 0;
    while (now_ms() < deadline) {
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &got);
        curl_easy_cleanup(c);
        if (got == status)
            return 0;
        sleep_ms(50);
    }
    ck_abort_msg("%s did not answer %ld within %d ms (last: %ld)", url, status, timeout_ms, got);
    return -1;
}

int kh_test_file_contains(const char *path, const char *needle) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ssize_t n = getdelim(&text, &len, '\0', f);
    ck_assert_msg(n >= 0 || feof(f), "cannot read %s", path);
    fclose(f);
    int found = n >= 0 && strstr(text, needle) != NULL; /* n < 0: the file is empty */
    free(text);
    return found;
}

int kh_test_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static rd_kafka_conf_t *conf_for(const char *bootstrap) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err),
                     RD_KAFKA_CONF_OK);
    return conf;
}

rd_kafka_t *kh_test_producer(const char *bootstrap) {
    char err[256];
    rd_kafka_conf_t *conf = conf_for(bootstrap);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ck_assert_msg(rk != NULL, "%s", err);
    return rk;
}

/* Assigns every partition from the beginning: no group join to wait for. */
static void assign_all(rd_kafka_t *rk, const char *topic) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_UNKNOWN;
    for (int tries = 0; tries < 50; tries++) {
        e = rd_kafka_metadata(rk, 0, t, &md, 5000);
        if (!e && md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->topics[0].partition_cnt > 0)
            break;
        if (!e)
            rd_kafka_metadata_destroy(md);
        md = NULL;
        sleep_ms(100);
    }
    ck_assert_msg(md != NULL, "no metadata for topic %s: %s", topic, rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
}

size_t kh_test_read_topic(const char *bootstrap, const char *topic, int idle_ms, int total_ms,
                          kh_test_record_fn fn, void *ud) {
    return kh_test_read_topic_expect(bootstrap, topic, 0, idle_ms, total_ms, fn, ud);
}

size_t kh_test_read_topic_expect(const char *bootstrap, const char *topic, size_t expect,
                                 int idle_ms, int total_ms, kh_test_record_fn fn, void *ud) {
    char err[256], prefix[64], group[96];
    rd_kafka_conf_t *conf = conf_for(bootstrap);
    snprintf(group, sizeof group, "%sreader", kh_test_unique_prefix(prefix, sizeof prefix));
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    ck_assert_msg(rk != NULL, "%s", err);
    rd_kafka_poll_set_consumer(rk);
    assign_all(rk, topic);
    size_t count = 0;
    long long start = now_ms(), last = now_ms();
    while ((count < expect || now_ms() - last < idle_ms) && now_ms() - start < total_ms) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            count++;
            last = now_ms();
            if (fn)
                fn(m, ud);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return count;
}

void kh_test_create_topic(const char *bootstrap, const char *topic, int partitions) {
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf_for(bootstrap), err, sizeof err);
    ck_assert_msg(rk != NULL, "%s", err);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    ck_assert_msg(ev != NULL, "CreateTopics %s timed out", topic);
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t n;
    const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(res, &n);
    ck_assert_uint_eq(n, 1);
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[0]);
    ck_assert_msg(e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
                  "CreateTopics %s: %s", topic, rd_kafka_err2str(e));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}
