/*
 * pushlib — helpers of the push tests (see pushlib.h).
 */
#include "pushlib.h"

#include "kh_alloc.h"
#include "kh_codec.h"
#include "kh_orgid.h"
#include "testlib.h"

#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

long long pt_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *pt_fmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = kh_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void pt_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

pid_t pt_devbroker_for_program(void) {
    static char env[300];
    char file[] = "/tmp/kh-push-devbroker-XXXXXX";
    int fd = mkstemp(file);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(file);
    const char *dir = getenv("KH_BIN_DIR");
    char bin[512];
    snprintf(bin, sizeof bin, "%s/ketenhub-devbroker", dir ? dir : ".");
    const char *argv[] = {bin, "--bootstrap-file", file, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(file, "r");
        char line[256] = "";
        if (f) {
            int got = fgets(line, sizeof line, f) != NULL;
            fclose(f);
            if (got && line[0]) {
                line[strcspn(line, "\r\n")] = '\0';
                snprintf(env, sizeof env, "KH_PUSH_DEVBROKER=%s", line);
                putenv(env);
                unlink(file);
                return pid;
            }
        }
        pt_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    return -1;
}

static void env_common(pt_env *e) {
    char err[256];
    ck_assert_int_eq(kh_schemas_open(&e->schemas, err, sizeof err), 0);
    kh_test_unique_prefix(e->prefix, sizeof e->prefix);
    snprintf(e->dir, sizeof e->dir, "/tmp/kh-push-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(e->dir));
    e->producer = kh_test_producer(e->bootstrap);
}

void pt_env_devbroker(pt_env *e) {
    memset(e, 0, sizeof *e);
    const char *b = getenv("KH_PUSH_DEVBROKER");
    ck_assert_msg(b && *b, "no devbroker: pt_devbroker_for_program() was not called");
    snprintf(e->bootstrap, sizeof e->bootstrap, "%s", b);
    env_common(e);
}

pid_t pt_env_own_devbroker(pt_env *e) {
    memset(e, 0, sizeof *e);
    pid_t pid = kh_test_devbroker(e->bootstrap, sizeof e->bootstrap);
    env_common(e);
    return pid;
}

/* The input topics first, then push's own outputs (n_topics 2 or 4). */
static void real_kafka(pt_env *e, int partitions, size_t n_topics) {
    static const char *const topics[] = {"ketenhub.grensverkeer.v1", "ketenhub.deadletter.v1",
                                         "ketenhub.push.retry.v1", "ketenhub.afleveringen.v1"};
    char t[256];
    memset(e, 0, sizeof *e);
    snprintf(e->bootstrap, sizeof e->bootstrap, "%s", kh_test_kafka());
    e->real_kafka = 1;
    env_common(e);
    for (size_t i = 0; i < n_topics; i++)
        kh_test_create_topic(e->bootstrap, pt_topic(e, topics[i], t, sizeof t), partitions);
}

void pt_env_real_kafka(pt_env *e, int partitions) { real_kafka(e, partitions, 4); }

void pt_env_real_kafka_inputs(pt_env *e, int partitions) { real_kafka(e, partitions, 2); }

void pt_env_done(pt_env *e) {
    if (e->push > 0)
        pt_push_stop(e, SIGTERM);
    if (e->producer) {
        rd_kafka_flush(e->producer, 5000);
        rd_kafka_destroy(e->producer);
    }
    kh_schemas_free(e->schemas);
    e->producer = NULL;
    e->schemas = NULL;
    /* Reached only when the test passed: a failed one keeps its files (logs,
     * records) for a look. */
    DIR *d = opendir(e->dir);
    struct dirent *ent;
    while (d && (ent = readdir(d))) {
        char path[512];
        if (ent->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", e->dir, ent->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(e->dir);
}

const char *pt_topic(const pt_env *e, const char *topic, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", e->prefix, topic);
    return buf;
}

/* ---- receiver ------------------------------------------------------------- */

void pt_receiver_start(pt_env *e, pt_receiver *r, const char *const *rules,
                       const char *const *extra) {
    static int n;
    const char *argv[64];
    char port[16];
    int a = 0;
    memset(r, 0, sizeof *r);
    r->port = kh_test_free_port();
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(r->record, sizeof r->record, "%s/receiver-%d.jsonl", e->dir, ++n);
    argv[a++] = kh_test_bin("kh-test-receiver");
    argv[a++] = "--port";
    argv[a++] = port;
    argv[a++] = "--record";
    argv[a++] = r->record;
    for (size_t i = 0; rules && rules[i] && a < 56; i++) {
        argv[a++] = "--rule";
        argv[a++] = rules[i];
    }
    for (size_t i = 0; extra && extra[i] && a < 62; i++)
        argv[a++] = extra[i];
    argv[a] = NULL;
    char log[300];
    snprintf(log, sizeof log, "%s/receiver-%d.log", e->dir, n);
    r->pid = kh_test_spawn(argv, NULL, log);
    int tls = 0;
    for (size_t i = 0; extra && extra[i]; i++)
        tls |= strcmp(extra[i], "--tls-cert") == 0;
    if (!tls) {
        kh_test_wait_http(r->port, "/_control/stats", 200, 10000);
        return;
    }
    /* TLS: wait for the log line (the control endpoint is behind TLS too). */
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(log, "r");
        char line[256] = "";
        int up = 0;
        while (f && fgets(line, sizeof line, f))
            up |= strstr(line, "listening") != NULL;
        if (f)
            fclose(f);
        if (up)
            return;
        pt_sleep_ms(50);
    }
    ck_abort_msg("kh-test-receiver (TLS) did not start");
}

void pt_receiver_stop(pt_receiver *r) {
    if (r->pid > 0)
        kh_test_stop(r->pid, SIGTERM, 5000);
    r->pid = 0;
}

void pt_receiver_rule(const pt_receiver *r, const char *path, const char *mode) {
    char q[512];
    CURL *c = curl_easy_init();
    char *p = curl_easy_escape(c, path, 0), *m = curl_easy_escape(c, mode, 0);
    snprintf(q, sizeof q, "/_control/rule?path=%s&mode=%s", p, m);
    curl_free(p);
    curl_free(m);
    curl_easy_cleanup(c);
    ck_assert_int_eq(kh_test_http(r->port, "POST", q, NULL), 200);
}

long pt_receiver_count(const pt_receiver *r, const char *path, long *ok) {
    char *body = NULL;
    ck_assert_int_eq(kh_test_http(r->port, "GET", "/_control/stats", &body), 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    ck_assert_ptr_nonnull(j);
    json_t *p = json_object_get(json_object_get(j, "paths"), path);
    long n = (long)json_integer_value(json_object_get(p, "requests"));
    if (ok)
        *ok = (long)json_integer_value(json_object_get(p, "2xx"));
    json_decref(j);
    return n;
}

json_t *pt_receiver_records(const pt_receiver *r, const char *path) {
    json_t *all = json_array();
    FILE *f = fopen(r->record, "r");
    if (!f)
        return all;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        ck_assert_msg(j != NULL, "unreadable record line");
        if (!path || strcmp(json_string_value(json_object_get(j, "path")), path) == 0)
            json_array_append(all, j);
        json_decref(j);
    }
    free(line);
    fclose(f);
    return all;
}

/* ---- push ----------------------------------------------------------------- */

void pt_write_subs(pt_env *e, const char *fmt, ...) {
    char path[256], tmp[270];
    snprintf(path, sizeof path, "%s/subscriptions.json", e->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
    ck_assert_int_eq(rename(tmp, path), 0);
}

void pt_push_start(pt_env *e, const char *const *sets, const char *const *env) {
    static char setv[32][300];
    const char *argv[80];
    int a = 0, s = 0;
    e->ops_port = kh_test_free_port();
    argv[a++] = kh_test_bin("ketenhub-push");
#define SET(...)                                        \
    do {                                                \
        snprintf(setv[s], sizeof setv[s], __VA_ARGS__); \
        argv[a++] = "--set";                            \
        argv[a++] = setv[s++];                          \
    } while (0)
    SET("kafka.bootstrap.servers=%s", e->bootstrap);
    SET("topic.prefix=%s", e->prefix);
    SET("group.id=%spush", e->prefix);
    SET("subscriptions.file=%s/subscriptions.json", e->dir);
    SET("ops.listen=127.0.0.1:%d", e->ops_port);
    SET("commit.interval.ms=200");
    SET("log.level=debug");
#undef SET
    for (size_t i = 0; sets && sets[i] && a < 76; i++) {
        argv[a++] = "--set";
        argv[a++] = sets[i];
    }
    argv[a] = NULL;
    char log[300];
    snprintf(log, sizeof log, "%s/push-%d.log", e->dir, ++e->push_runs);
    e->push = kh_test_spawn(argv, env, log);
    kh_test_wait_http(e->ops_port, "/readyz", 200, 30000);
}

int pt_push_stop(pt_env *e, int sig) {
    int rc = kh_test_stop(e->push, sig, 20000);
    e->push = 0;
    return rc;
}

char *pt_push_metrics(const pt_env *e) {
    char *body = NULL;
    ck_assert_int_eq(kh_test_http(e->ops_port, "GET", "/metrics", &body), 200);
    return body;
}

double pt_metric(const char *metrics, const char *series) {
    size_t n = strlen(series);
    for (const char *p = metrics; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

/* ---- records -------------------------------------------------------------- */

const char *pt_uuid(int s, int n, char out[37]) {
    snprintf(out, 37, "%08x-0000-4000-8000-%012x", (unsigned)s, (unsigned)n);
    return out;
}

char *pt_melding(pt_env *e, const char *id, const char *ontvanger, const char *regel, size_t *len) {
    char type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN], err[512], cause[37];
    ck_assert_int_eq(kh_orgid_split(ontvanger, type, code), 0);
    json_t *j = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:i, s:i}, s:[{s:s, s:s, s:s, s:s},"
        " {s:s, s:s, s:s, s:s}], s:s, s:{s:s, s:s}, s:s, s:s}",
        "melding_id", id, "regel", regel, "ontvanger", "type", type, "code", code, "oorzaak",
        "event_type", "AANMELDING", "event_id", pt_uuid(0xca05e, (int)strlen(id), cause), "topic",
        "ketenhub.aanmelding.v1", "partition", 0, "offset", 42, "betrokkenen", "rol",
        "WOONPLAATSGEMEENTE", "type", "GEMEENTE", "code", "GM0502", "naam",
        "Capelle aan den IJssel", "rol", "SCHOOLGEMEENTE", "type", "GEMEENTE", "code", "GM0599",
        "naam", "Rotterdam", "peildatum", "2025-09-01", "jeugdige", "bsn", "999990111",
        "geboortedatum", "2014-05-01", "toelichting",
        "Leerling woont in Capelle aan den IJssel (GM0502) en is geplaatst op een school in "
        "Rotterdam (GM0599). Volgens het woonplaatsbeginsel is Capelle aan den IJssel "
        "verantwoordelijk voor individuele jeugdhulp; Rotterdam voert de regie op hulp op school.",
        "aangemaakt_op", "2025-09-01T08:00:00Z");
    const kh_schema *s = kh_schemas_by_name(e->schemas, "melding");
    avro_value_t v;
    kh_problems p;
    kh_problems_init(&p);
    ck_assert_int_eq(kh_schema_new_value(s, &v), 0);
    char shown[1024];
    ck_assert_msg(kh_codec_from_json(s, j, &v, &p) == 0, "melding: %s",
                  kh_problems_format(&p, shown, sizeof shown));
    char *wire;
    ck_assert_msg(kh_codec_encode(s, &v, &wire, len, err, sizeof err) == 0, "%s", err);
    avro_value_decref(&v);
    json_decref(j);
    return wire;
}

void pt_produce(pt_env *e, const char *topic, const char *key, const void *value, size_t len,
                int partition, const char *id, const char *ontvanger) {
    char t[256];
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    if (id) {
        rd_kafka_header_add(h, "event-type", -1, "melding", -1);
        rd_kafka_header_add(h, "melding-id", -1, id, -1);
        rd_kafka_header_add(h, "ontvanger", -1, ontvanger, -1);
    }
    rd_kafka_resp_err_t err;
    do {
        err = rd_kafka_producev(e->producer, RD_KAFKA_V_TOPIC(pt_topic(e, topic, t, sizeof t)),
                                RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA
                                                                   : partition),
                                RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                                RD_KAFKA_V_VALUE((void *)value, len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                                RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(e->producer, 50);
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s", rd_kafka_err2str(err));
    rd_kafka_poll(e->producer, 0);
}

void pt_flush(pt_env *e) {
    ck_assert_int_eq(rd_kafka_flush(e->producer, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

typedef struct reader {
    pt_env *e;
    json_t *out;
} reader;

static json_t *b64(const void *d, size_t n) {
    char *s = kh_malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)s, d, (int)n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static void on_record(const rd_kafka_message_t *m, void *ud) {
    reader *r = ud;
    json_t *o = json_object(), *hdrs = json_object();
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *v;
        size_t n;
        for (size_t i = 0;
             rd_kafka_header_get_all(h, i, &name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
            json_object_set_new(hdrs, name, json_stringn(v ? v : "", v ? n : 0));
    }
    json_object_set_new(o, "headers", hdrs);
    json_object_set_new(o, "key", m->key ? json_stringn(m->key, m->key_len) : json_null());
    json_object_set_new(o, "partition", json_integer(m->partition));
    json_object_set_new(o, "offset", json_integer(m->offset));
    json_object_set_new(o, "raw", b64(m->payload, m->len));
    const kh_schema *s;
    avro_value_t v;
    char err[256];
    json_t *value = json_null();
    if (kh_codec_decode(r->e->schemas, m->payload, m->len, &s, &v, err, sizeof err) ==
        KH_DECODE_OK) {
        value = kh_codec_to_json(s, &v, err, sizeof err);
        avro_value_decref(&v);
    }
    json_object_set_new(o, "value", value ? value : json_null());
    json_array_append_new(r->out, o);
}

json_t *pt_read(pt_env *e, const char *topic, size_t want, int idle_ms, int total_ms) {
    char t[256];
    long long deadline = pt_now_ms() + total_ms;
    for (;;) {
        reader r = {e, json_array()};
        kh_test_read_topic(e->bootstrap, pt_topic(e, topic, t, sizeof t), idle_ms, total_ms,
                           on_record, &r);
        if (json_array_size(r.out) >= want || pt_now_ms() >= deadline)
            return r.out;
        json_decref(r.out);
        /* A loaded machine can take longer than idle_ms just to join and
         * fetch: wait longer each time. */
        if (idle_ms < 4000)
            idle_ms *= 2;
        pt_sleep_ms(200);
    }
}

const char *pt_get(const json_t *obj, const char *path) {
    char part[64];
    const json_t *cur = obj;
    while (cur && *path) {
        size_t n = strcspn(path, ".");
        snprintf(part, sizeof part, "%.*s", (int)n, path);
        cur = json_object_get(cur, part);
        path += n + (path[n] == '.');
    }
    static char num[32];
    if (json_is_integer(cur)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(cur));
        return num;
    }
    return json_string_value(cur);
}

json_t *pt_find(const json_t *array, const char *path, const char *s) {
    size_t i;
    json_t *o;
    json_array_foreach(array, i, o) {
        const char *v = pt_get(o, path);
        if (v && strcmp(v, s) == 0)
            return o;
    }
    return NULL;
}

size_t pt_count(const json_t *array, const char *path, const char *s) {
    size_t i, n = 0;
    json_t *o;
    json_array_foreach(array, i, o) {
        const char *v = pt_get(o, path);
        n += v && strcmp(v, s) == 0;
    }
    return n;
}

int pt_signature_valid(const char *whsec, const json_t *rec) {
    const char *id = json_string_value(json_object_get(rec, "webhook_id"));
    const char *ts = json_string_value(json_object_get(rec, "webhook_timestamp"));
    const char *sig = json_string_value(json_object_get(rec, "webhook_signature"));
    const char *body = json_string_value(json_object_get(rec, "body"));
    if (!id || !ts || !sig || !body || strncmp(whsec, "whsec_", 6) != 0)
        return 0;
    unsigned char key[128], mac[EVP_MAX_MD_SIZE];
    const char *b = whsec + 6;
    int klen = EVP_DecodeBlock(key, (const unsigned char *)b, (int)strlen(b));
    for (const char *p = b + strlen(b); p > b && p[-1] == '='; p--)
        klen--;
    size_t n = strlen(id) + strlen(ts) + json_string_length(json_object_get(rec, "body")) + 2;
    char *content = kh_malloc(n + 1);
    snprintf(content, n + 1, "%s.%s.%s", id, ts, body);
    unsigned maclen = 0;
    HMAC(EVP_sha256(), key, klen, (unsigned char *)content, n, mac, &maclen);
    free(content);
    char expect[128] = "v1,";
    EVP_EncodeBlock((unsigned char *)expect + 3, mac, (int)maclen);
    /* The header may carry several space-separated signatures. */
    for (const char *p = sig; *p;) {
        size_t l = strcspn(p, " ");
        if (l == strlen(expect) && strncmp(p, expect, l) == 0)
            return 1;
        p += l + (p[l] == ' ');
    }
    return 0;
}

int pt_wait(int (*cond)(void *ud), void *ud, int ms) {
    long long deadline = pt_now_ms() + ms;
    while (pt_now_ms() < deadline) {
        if (cond(ud))
            return 1;
        pt_sleep_ms(50);
    }
    return cond(ud);
}

int pt_cli(pt_env *e, const char *const *args, char **out) {
    char outfile[300], bs[300], px[128];
    snprintf(outfile, sizeof outfile, "%s/cli-out.txt", e->dir);
    snprintf(bs, sizeof bs, "KETENHUB_KAFKA_BOOTSTRAP_SERVERS=%s", e->bootstrap);
    snprintf(px, sizeof px, "KETENHUB_TOPIC_PREFIX=%s", e->prefix);
    const char *argv[32];
    int a = 0;
    argv[a++] = kh_test_bin("ketenhub");
    for (size_t i = 0; args[i] && a < 31; i++)
        argv[a++] = args[i];
    argv[a] = NULL;
    unlink(outfile);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        putenv(bs);
        putenv(px);
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDOUT_FILENO);
        execve(argv[0], (char *const *)argv, environ);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    if (out) {
        FILE *f = fopen(outfile, "r");
        char *text = NULL;
        size_t cap = 0;
        if (f && getdelim(&text, &cap, '\0', f) < 0) { /* the whole file: it holds no NUL */
            free(text);
            text = NULL;
        }
        if (f)
            fclose(f);
        *out = text ? text : kh_strdup("");
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- test building blocks ------------------------------------------------ */

char *pt_sub(const char *partner, const pt_receiver *r, const char *path, const char *secret,
             const char *extra) {
    return pt_fmt("{\"partner\":\"%s\",\"url\":\"http://127.0.0.1:%d%s\",\"secret\":\"%s\"%s}",
                  partner, r->port, path, secret, extra);
}

void pt_meldingen(pt_env *e, int s, int n, const char *partner, int partition) {
    char id[37];
    for (int i = 0; i < n; i++) {
        size_t len;
        char *v = pt_melding(e, pt_uuid(s, i, id), partner, REGEL, &len);
        pt_produce(e, MELDING_TOPIC, kh_orgid_code(partner), v, len, partition, id, partner);
        free(v);
    }
    pt_flush(e);
}

typedef struct want_ok {
    const pt_receiver *r;
    const char *path;
    long n;
} want_ok;

static int has_ok(void *ud) {
    want_ok *w = ud;
    long ok = 0;
    pt_receiver_count(w->r, w->path, &ok);
    return ok >= w->n;
}

void pt_wait_ok(const pt_receiver *r, const char *path, long n, int ms) {
    want_ok w = {r, path, n};
    long ok = 0;
    int done = pt_wait(has_ok, &w, ms);
    pt_receiver_count(r, path, &ok);
    ck_assert_msg(done, "%s: %ld of %ld delivered within %d ms", path, ok, n, ms);
}
