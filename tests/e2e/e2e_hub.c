/*
 * e2e_hub — starting, crashing and restarting the hub's processes.
 */
#include "e2e_hub.h"

#include "sim_subs.h"
#include "testlib.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECRET "e2e-pseudonym-secret-0123456789abcdef"

static const char *const NAMES[E2E_SERVICES] = {"ingest", "route", "push"};
static const char *const TOPICS[] = {"ketenhub.aanmelding.v1",   "ketenhub.tlv.v1",
                                     "ketenhub.beschikking.v1",  "ketenhub.verwijzing.v1",
                                     "ketenhub.grensverkeer.v1", "ketenhub.deadletter.v1",
                                     "ketenhub.afleveringen.v1", "ketenhub.push.retry.v1"};

long long e2e_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void e2e_sleep_ms(int ms) {
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

const char *e2e_path(const e2e_hub *h, const char *name, int slot) {
    static char buf[4][400];
    snprintf(buf[slot & 3], sizeof buf[0], "%s/%s", h->dir, name);
    return buf[slot & 3];
}

const char *e2e_topic(const e2e_hub *h, const char *topic, int slot) {
    static char buf[4][200];
    snprintf(buf[slot & 3], sizeof buf[0], "%s%s", h->prefix, topic);
    return buf[slot & 3];
}

int e2e_receiver_of(const char *org) { return strncmp(org, "GEMEENTE:", 9) == 0 ? 0 : 1; }

/* Runs the CLI to completion; fails the test unless it exits 0. */
static void cli(const e2e_hub *h, const char *const *args) {
    const char *argv[24];
    int a = 0;
    argv[a++] = kh_test_bin("ketenhub");
    for (size_t i = 0; args[i] && a < 23; i++)
        argv[a++] = args[i];
    argv[a] = NULL;
    pid_t pid = kh_test_spawn(argv, NULL, e2e_path(h, "cli.log", 3));
    ck_assert_msg(e2e_wait_exit(pid, 120000) == 0, "ketenhub %s failed; see %s/cli.log", args[0],
                  h->dir);
}

/* Gemeenten stay on receiver 0; every other organisation moves to 1. */
static void split_receivers(const e2e_hub *h) {
    const char *path = e2e_path(h, "subscriptions.json", 0);
    json_t *doc = json_load_file(path, 0, NULL), *s;
    ck_assert_ptr_nonnull(doc);
    size_t i;
    json_array_foreach(json_object_get(doc, "subscriptions"), i, s) {
        const char *org = json_string_value(json_object_get(s, "partner"));
        char url[300], p[64];
        sim_subs_path(org, p, sizeof p);
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", h->recv_port[e2e_receiver_of(org)], p);
        json_object_set_new(s, "url", json_string(url));
    }
    ck_assert_int_eq(json_dump_file(doc, path, JSON_COMPACT), 0);
    json_decref(doc);
}

static void write_config(e2e_hub *h) {
    char receiver[64];
    snprintf(receiver, sizeof receiver, "http://127.0.0.1:%d", h->recv_port[0]);
    const char *args[] = {"simulate",
                          "-q",
                          "--write-partners",
                          e2e_path(h, "partners.json", 0),
                          "--keys",
                          e2e_path(h, "keys.txt", 1),
                          "--write-subscriptions",
                          e2e_path(h, "subscriptions.json", 2),
                          "--receiver",
                          receiver,
                          NULL};
    cli(h, args);
    split_receivers(h);
}

static void start_receivers(e2e_hub *h) {
    for (int r = 0; r < 2; r++) {
        char port[16], record[32];
        snprintf(port, sizeof port, "%d", h->recv_port[r]);
        snprintf(record, sizeof record, "receiver-%d.jsonl", r);
        const char *argv[] = {kh_test_bin("kh-test-receiver"), "--port", port, "--record",
                              e2e_path(h, record, 0),          NULL};
        snprintf(record, sizeof record, "receiver-%d.log", r);
        h->recv[r] = kh_test_spawn(argv, NULL, e2e_path(h, record, 1));
        kh_test_wait_http(h->recv_port[r], "/_control/stats", 200, 20000);
    }
}

void e2e_hub_init(e2e_hub *h) {
    memset(h, 0, sizeof *h);
    snprintf(h->bootstrap, sizeof h->bootstrap, "%s", kh_test_kafka());
    kh_test_unique_prefix(h->prefix, sizeof h->prefix);
    snprintf(h->dir, sizeof h->dir, "%s/kh-e2e.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(h->dir));
    for (size_t i = 0; i < sizeof TOPICS / sizeof TOPICS[0]; i++)
        kh_test_create_topic(h->bootstrap, e2e_topic(h, TOPICS[i], 0), 4);
    for (int s = 0; s < E2E_SERVICES; s++)
        h->port[s] = kh_test_free_port();
    for (int r = 0; r < 2; r++)
        h->recv_port[r] = kh_test_free_port();
    write_config(h);
    start_receivers(h);
}

/* The settings of one service, beside the common ones. */
static int service_sets(const e2e_hub *h, int service, char sets[][512]) {
    int n = 0;
    if (service == E2E_INGEST) {
        snprintf(sets[n++], 512, "http.listen=127.0.0.1:%d", h->port[service]);
        snprintf(sets[n++], 512, "partners.file=%s/partners.json", h->dir);
        snprintf(sets[n++], 512, "pseudonym.secret=%s", SECRET);
        snprintf(sets[n++], 512, "rate.per_second=0");
        if (h->refdir[0])
            snprintf(sets[n++], 512, "reference.dir=%s", h->refdir);
    } else if (service == E2E_ROUTE) {
        snprintf(sets[n++], 512, "ops.listen=127.0.0.1:%d", h->port[service]);
        snprintf(sets[n++], 512, "group.id=%sroute", h->prefix);
        snprintf(sets[n++], 512, "route.instance=%se2e", h->prefix);
        snprintf(sets[n++], 512, "route.batch.ms=100");
        if (h->refdir[0]) {
            snprintf(sets[n++], 512, "reference.dir=%s", h->refdir);
            snprintf(sets[n++], 512, "reference.watch.ms=0");
        }
    } else {
        snprintf(sets[n++], 512, "ops.listen=127.0.0.1:%d", h->port[service]);
        snprintf(sets[n++], 512, "group.id=%spush", h->prefix);
        snprintf(sets[n++], 512, "subscriptions.file=%s/subscriptions.json", h->dir);
        snprintf(sets[n++], 512, "retry.initial.ms=200");
        snprintf(sets[n++], 512, "retry.max.ms=1000");
        snprintf(sets[n++], 512, "commit.interval.ms=200");
    }
    snprintf(sets[n++], 512, "kafka.bootstrap.servers=%s", h->bootstrap);
    snprintf(sets[n++], 512, "topic.prefix=%s", h->prefix);
    snprintf(sets[n++], 512, "log.level=info");
    if (service != E2E_INGEST) /* a member killed with -9 leaves its group quickly */
        snprintf(sets[n++], 512, "kafka.session.timeout.ms=6000");
    return n;
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    ck_assert_msg(in && out, "cannot copy %s to %s", from, to);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

void e2e_reference_copy(e2e_hub *h) {
    char src[400], from[700], to[700];
    snprintf(src, sizeof src, "%s/deploy/reference", kh_test_source_dir());
    snprintf(h->refdir, sizeof h->refdir, "%s/reference", h->dir);
    ck_assert_int_eq(mkdir(h->refdir, 0700), 0);
    DIR *d = opendir(src);
    struct dirent *ent;
    ck_assert_ptr_nonnull(d);
    while ((ent = readdir(d)))
        if (strstr(ent->d_name, ".csv")) {
            snprintf(from, sizeof from, "%s/%s", src, ent->d_name);
            snprintf(to, sizeof to, "%s/%s", h->refdir, ent->d_name);
            copy_file(from, to);
        }
    closedir(d);
}

/* Removes the files of a directory and the directory. */
static void remove_dir(const char *dir) {
    char path[700];
    DIR *d = opendir(dir);
    struct dirent *ent;
    while (d && (ent = readdir(d)))
        if (ent->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

void e2e_start(e2e_hub *h, int service) {
    char sets[16][512], log[64];
    const char *argv[40];
    char program[32];
    snprintf(program, sizeof program, "ketenhub-%s", NAMES[service]);
    int a = 0, n = service_sets(h, service, sets);
    argv[a++] = kh_test_bin(program);
    for (int i = 0; i < n; i++) {
        argv[a++] = "--set";
        argv[a++] = sets[i];
    }
    argv[a] = NULL;
    snprintf(log, sizeof log, "%s-%d.log", NAMES[service], ++h->runs[service]);
    h->pid[service] = kh_test_spawn(argv, NULL, e2e_path(h, log, 0));
    kh_test_wait_http(h->port[service], "/readyz", 200, 60000);
}

int e2e_stop(e2e_hub *h, int service, int sig) {
    int rc = kh_test_stop(h->pid[service], sig, 30000);
    h->pid[service] = 0;
    return rc;
}

void e2e_hub_done(e2e_hub *h, int keep) {
    for (int s = E2E_SERVICES; s-- > 0;)
        if (h->pid[s] > 0)
            e2e_stop(h, s, SIGTERM);
    for (int r = 0; r < 2; r++)
        if (h->recv[r] > 0)
            kh_test_stop(h->recv[r], SIGTERM, 5000);
    if (keep)
        return;
    if (h->refdir[0])
        remove_dir(h->refdir);
    remove_dir(h->dir);
}

pid_t e2e_simulate(e2e_hub *h, unsigned long seed, unsigned long events) {
    return e2e_simulate_phase(h, seed, events, NULL, NULL);
}

pid_t e2e_simulate_phase(e2e_hub *h, unsigned long seed, unsigned long events, const char *refdir,
                         const char *tag) {
    static char url[64], s[32], n[32], expect[64], results[64], log[64], ref[400];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", h->port[E2E_INGEST]);
    snprintf(s, sizeof s, "%lu", seed);
    snprintf(n, sizeof n, "%lu", events);
    if (refdir)
        snprintf(ref, sizeof ref, "%s", refdir);
    else if (h->refdir[0])
        snprintf(ref, sizeof ref, "%s", h->refdir);
    else
        snprintf(ref, sizeof ref, "%s/deploy/reference", kh_test_source_dir());
    snprintf(expect, sizeof expect, "expect%s%s.json", tag ? "-" : "", tag ? tag : "");
    snprintf(results, sizeof results, "results%s%s.jsonl", tag ? "-" : "", tag ? tag : "");
    snprintf(log, sizeof log, "simulate%s%s.log", tag ? "-" : "", tag ? tag : "");
    const char *argv[] = {kh_test_bin("ketenhub"),
                          "simulate",
                          "-r",
                          ref,
                          "--url",
                          url,
                          "--keys",
                          e2e_path(h, "keys.txt", 0),
                          "--seed",
                          s,
                          "--events",
                          n,
                          "--invalid-share",
                          "0.05",
                          "--connections",
                          "8",
                          "--retry-for",
                          "120",
                          "--expect",
                          e2e_path(h, expect, 1),
                          "--results",
                          e2e_path(h, results, 2),
                          NULL};
    return kh_test_spawn(argv, NULL, e2e_path(h, log, 3));
}

int e2e_wait_exit(pid_t pid, int ms) {
    long long deadline = e2e_now_ms() + ms;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (e2e_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ck_abort_msg("process %d did not finish in %d ms", (int)pid, ms);
        }
        e2e_sleep_ms(50);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

size_t e2e_lines(const char *path) {
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;
    while (f && (c = getc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

long e2e_delivered(const e2e_hub *h) {
    long total = 0;
    for (int r = 0; r < 2; r++) {
        char *body = NULL;
        ck_assert_int_eq(kh_test_http(h->recv_port[r], "GET", "/_control/stats", &body), 200);
        json_t *stats = json_loads(body, 0, NULL), *p;
        const char *path;
        json_object_foreach(json_object_get(stats, "paths"), path, p)
            total += (long)json_integer_value(json_object_get(p, "2xx"));
        json_decref(stats);
        free(body);
    }
    return total;
}

void e2e_receiver_rule(const e2e_hub *h, const char *org, const char *mode) {
    char p[64], url[200];
    sim_subs_path(org, p, sizeof p);
    snprintf(url, sizeof url, "/_control/rule?path=%s&mode=%s", p, mode);
    ck_assert_int_eq(kh_test_http(h->recv_port[e2e_receiver_of(org)], "POST", url, NULL), 200);
}

/* ---- the broker down and up again ----------------------------------------- */

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    char *buf = malloc(65536);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

/* The broker's argv from /proc (NUL-separated), into a NULL-ended array. */
static char **broker_argv(pid_t pid, char **text) {
    char path[64];
    size_t len, n = 0;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    *text = read_all(path, &len);
    char **argv = calloc(len + 1, sizeof *argv);
    ck_assert_ptr_nonnull(argv);
    for (size_t i = 0; i < len; i += strlen(*text + i) + 1)
        argv[n++] = *text + i;
    ck_assert_msg(n > 2 && strstr(argv[n - 2], "kafka.Kafka"), "pid %d is not the Kafka broker",
                  (int)pid);
    return argv;
}

static void broker_ready(const e2e_hub *h) {
    long long deadline = e2e_now_ms() + 120000;
    rd_kafka_t *p = kh_test_producer(h->bootstrap);
    const rd_kafka_metadata_t *md = NULL;
    while (rd_kafka_metadata(p, 0, NULL, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
           md->broker_cnt < 1) {
        if (md)
            rd_kafka_metadata_destroy(md);
        md = NULL;
        ck_assert_msg(e2e_now_ms() < deadline, "the restarted broker does not answer");
        e2e_sleep_ms(500);
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(p);
}

void e2e_broker_restart(const e2e_hub *h, int down_ms) {
    const char *state = getenv("KH_KAFKA_STATE");
    ck_assert_msg(state != NULL, "KH_KAFKA_STATE is not set: run under tests/with-kafka.sh");
    char pidfile[300], logfile[300], *text, *cmd;
    size_t len;
    snprintf(pidfile, sizeof pidfile, "%s/pid", state);
    snprintf(logfile, sizeof logfile, "%s/kafka.log", state);
    text = read_all(pidfile, &len);
    pid_t old = (pid_t)atoi(text);
    free(text);
    char **argv = broker_argv(old, &cmd);
    ck_assert_int_eq(kill(old, SIGTERM), 0);
    for (int i = 0; i < 600 && kill(old, 0) == 0; i++)
        e2e_sleep_ms(100);
    ck_assert_msg(kill(old, 0) != 0, "the broker did not stop");
    e2e_sleep_ms(down_ms);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* like kafka.sh: its own session, output to its log */
        setsid();
        int fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT, 0644),
            in = open("/dev/null", O_RDONLY);
        dup2(in, 0), dup2(fd, 1), dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    FILE *f = fopen(pidfile, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%d\n", (int)pid);
    fclose(f);
    free(argv);
    free(cmd);
    broker_ready(h);
}
