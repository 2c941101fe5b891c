/*
 * harness — ketenhub-ingest under test: partners, process, HTTP, topics.
 */
#include "harness.h"

#include "kh_event.h"
#include "kh_kafka.h"
#include "kh_pseudo.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void ih_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *ih_example(const char *rel, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/schemas/examples/%s", kh_test_source_dir(), rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *text = malloc((size_t)size + 1);
    size_t n = fread(text, 1, (size_t)size, f);
    text[n] = '\0';
    fclose(f);
    if (len)
        *len = n;
    return text;
}

/* ---- partners --------------------------------------------------------------- */

static json_t *partner(const char *name, const char *type, const char *code, const char *key,
                       json_t *types, double rate, double burst) {
    char hash[65];
    ck_assert_int_eq(kh_sha256_hex(key, strlen(key), hash), 0);
    json_t *p = json_pack("{s:s, s:{s:s, s:s}, s:s, s:o, s:f}", "name", name, "organisatie", "type",
                          type, "code", code, "api_key_sha256", hash, "event_types", types,
                          "rate_per_second", rate);
    if (burst > 0)
        json_object_set_new(p, "burst", json_real(burst));
    return p;
}

static json_t *types_of(const char *org_type) {
    json_t *list = json_array();
    for (size_t i = 0; i < kh_event_type_count(); i++)
        if (kh_event_type_at(i)->issuers & kh_org_bit(org_type))
            json_array_append_new(list, json_string(kh_event_type_at(i)->name));
    return list;
}

static void add_example_brons(json_t *list, const char *event) {
    char dir[1024], rel[512];
    snprintf(dir, sizeof dir, "%s/schemas/examples/%s/valid", kh_test_source_dir(), event);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".json"))
            continue;
        snprintf(rel, sizeof rel, "%s/valid/%s", event, e->d_name);
        char *text = ih_example(rel, NULL);
        json_t *doc = json_loads(text, 0, NULL);
        json_t *bron = json_object_get(json_object_get(doc, "envelope"), "bron");
        const char *type = json_string_value(json_object_get(bron, "type"));
        const char *code = json_string_value(json_object_get(bron, "code"));
        char name[64], key[64];
        snprintf(name, sizeof name, "p-%s", code);
        snprintf(key, sizeof key, "key-%s", code);
        int known = 0;
        size_t i;
        json_t *p;
        json_array_foreach(list, i, p)
            known |= strcmp(json_string_value(json_object_get(p, "name")), name) == 0;
        if (!known)
            json_array_append_new(list, partner(name, type, code, key, types_of(type), 0, 0));
        json_decref(doc);
        free(text);
    }
    closedir(d);
}

void ih_write_partners(const char *path, json_t *extra) {
    json_t *list = json_array();
    for (size_t i = 0; i < kh_event_type_count(); i++)
        add_example_brons(list, kh_event_type_at(i)->name);
    json_array_append_new(list, partner("limited", "SCHOOL", "14CA00", "key-limited",
                                        types_of("SCHOOL"), 1, 2));
    json_array_append_new(list, partner("only-besch", "GEMEENTE", "GM0599", "key-only-besch",
                                        json_pack("[s]", "beschikking"), 0, 0));
    if (extra)
        json_array_extend(list, extra);
    json_t *doc = json_pack("{s:o}", "partners", list);
    ck_assert_int_eq(json_dump_file(doc, path, JSON_INDENT(2)), 0);
    json_decref(doc);
}

const char *ih_key_for(const char *example_text, char *buf, size_t len) {
    json_t *doc = json_loads(example_text, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    const char *code =
        json_string_value(json_object_get(json_object_get(json_object_get(doc, "envelope"), "bron"),
                                          "code"));
    ck_assert_ptr_nonnull(code);
    snprintf(buf, len, "key-%s", code);
    json_decref(doc);
    return buf;
}

char *ih_with_event_id(const char *example_text, const char *id, char id_out[37]) {
    char fresh[37];
    if (!id) {
        unsigned char b[16];
        FILE *f = fopen("/dev/urandom", "rb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fread(b, 1, sizeof b, f), sizeof b);
        fclose(f);
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
        snprintf(fresh, sizeof fresh,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                 b[15]);
        id = fresh;
    }
    if (id_out)
        snprintf(id_out, 37, "%s", id);
    json_t *doc = json_loads(example_text, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    json_object_set_new(json_object_get(doc, "envelope"), "event_id", json_string(id));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

/* ---- the process ---------------------------------------------------------------- */

/* Writes the certificate to in->ca (the client trusts it as its own CA) and
 * the key to key. */
static void make_certificate(ih_ingest *in, char *key, size_t len) {
    snprintf(in->ca, sizeof in->ca, "%s/cert.pem", in->dir);
    snprintf(key, len, "%s/key.pem", in->dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s -out %s -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             ">%s/openssl.log 2>&1",
             key, in->ca, in->dir);
    ck_assert_msg(system(cmd) == 0,
                  "the openssl CLI could not make a test certificate (see %s/openssl.log); "
                  "the TLS test needs it (Debian package openssl)",
                  in->dir);
}

static void wait_ready(const ih_ingest *in) {
    ih_reply r = {0};
    for (int i = 0; i < 300; i++) {
        ih_request(in, "GET", "/readyz", &r);
        long status = r.status;
        ih_reply_free(&r);
        if (status == 200)
            return;
        ck_assert_msg(kill(in->pid, 0) == 0, "ketenhub-ingest exited; see %s", in->log);
        ih_sleep_ms(50);
    }
    ck_abort_msg("ketenhub-ingest not ready within 15 s; see %s", in->log);
}

void ih_start(ih_ingest *in, const char *bootstrap, const char *const *sets, int tls) {
    memset(in, 0, sizeof *in);
    snprintf(in->dir, sizeof in->dir, "/tmp/kh-ingest-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(in->dir));
    snprintf(in->partners, sizeof in->partners, "%s/partners.json", in->dir);
    snprintf(in->log, sizeof in->log, "%s/ingest.log", in->dir);
    snprintf(in->bootstrap, sizeof in->bootstrap, "%s", bootstrap);
    kh_test_unique_prefix(in->prefix, sizeof in->prefix);
    ih_write_partners(in->partners, NULL);
    in->port = kh_test_free_port();
    in->tls = tls;
    char args[16][512];
    size_t n = 0;
    snprintf(args[n++], 512, "http.listen=127.0.0.1:%d", in->port);
    snprintf(args[n++], 512, "partners.file=%s", in->partners);
    snprintf(args[n++], 512, "pseudonym.secret=%s", IH_SECRET);
    snprintf(args[n++], 512, "topic.prefix=%s", in->prefix);
    snprintf(args[n++], 512, "kafka.bootstrap.servers=%s", bootstrap);
    if (tls) {
        char key[sizeof in->ca];
        make_certificate(in, key, sizeof key);
        snprintf(args[n++], 512, "http.tls.cert=%s", in->ca);
        snprintf(args[n++], 512, "http.tls.key=%s", key);
    }
    for (size_t i = 0; sets && sets[i]; i++)
        snprintf(args[n++], 512, "%s", sets[i]);
    const char *argv[40];
    size_t a = 0;
    argv[a++] = kh_test_bin("ketenhub-ingest");
    for (size_t i = 0; i < n; i++) {
        argv[a++] = "--set";
        argv[a++] = args[i];
    }
    argv[a] = NULL;
    in->pid = kh_test_spawn(argv, NULL, in->log);
    wait_ready(in);
}

int ih_stop(ih_ingest *in, int sig) {
    int status = kh_test_stop(in->pid, sig, 20000);
    in->pid = 0;
    return status;
}

void ih_cleanup(ih_ingest *in) {
    DIR *d = opendir(in->dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%.200s", in->dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(in->dir);
}

const char *ih_topic(const ih_ingest *in, const char *event, char *buf, size_t len) {
    snprintf(buf, len, "%sketenhub.%s.v1", in->prefix, event);
    return buf;
}

/* ---- HTTP ------------------------------------------------------------------------ */

void ih_reply_free(ih_reply *r) {
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
    ih_reply *r = ud;
    r->body = realloc(r->body, r->len + size * n + 1);
    memcpy(r->body + r->len, data, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static void keep_header(const char *line, size_t len, const char *name, char *out, size_t outlen) {
    size_t n = strlen(name);
    if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    const char *v = line + n + 1;
    while (*v == ' ')
        v++;
    size_t vlen = len - (size_t)(v - line);
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    snprintf(out, outlen, "%.*s", (int)vlen, v);
}

static size_t on_header(char *line, size_t size, size_t n, void *ud) {
    ih_reply *r = ud;
    size_t len = size * n;
    keep_header(line, len, "Content-Type", r->content_type, sizeof r->content_type);
    keep_header(line, len, "Retry-After", r->retry_after, sizeof r->retry_after);
    keep_header(line, len, "Allow", r->allow, sizeof r->allow);
    keep_header(line, len, "WWW-Authenticate", r->www_authenticate, sizeof r->www_authenticate);
    keep_header(line, len, "Idempotent-Replayed", r->replayed, sizeof r->replayed);
    keep_header(line, len, "Connection", r->connection, sizeof r->connection);
    return len;
}

typedef struct upload {
    const char *data;
    size_t len, at;
} upload;

static size_t on_read(char *buf, size_t size, size_t n, void *ud) {
    upload *u = ud;
    size_t take = u->len - u->at < size * n ? u->len - u->at : size * n;
    memcpy(buf, u->data + u->at, take);
    u->at += take;
    return take;
}

static void perform(CURL *c, const ih_ingest *in, const char *path, struct curl_slist *hdrs,
                    ih_reply *out) {
    char url[256];
    memset(out, 0, sizeof *out);
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", in->tls ? "https" : "http", in->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    if (in->tls)
        curl_easy_setopt(c, CURLOPT_CAINFO, in->ca);
    out->curl_error = (int)curl_easy_perform(c);
    if (out->curl_error == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &out->new_connections);
    }
    if (out->body)
        out->json = json_loads(out->body, 0, NULL);
}

static void post_with(CURL *c, const ih_ingest *in, const char *path, const char *key,
                      const char *type, const char *body, size_t len, int chunked, ih_reply *out) {
    struct curl_slist *hdrs = NULL;
    char line[256];
    if (key) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", key);
        hdrs = curl_slist_append(hdrs, line);
    }
    snprintf(line, sizeof line, "Content-Type: %s", type ? type : "");
    hdrs = curl_slist_append(hdrs, type ? line : "Content-Type:");
    upload u = {body, len, 0};
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    if (chunked) {
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &u);
    } else {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    perform(c, in, path, hdrs, out);
    curl_slist_free_all(hdrs);
}

void ih_post(const ih_ingest *in, const char *path, const char *key, const char *type,
             const char *body, size_t len, int chunked, ih_reply *out) {
    CURL *c = curl_easy_init();
    post_with(c, in, path, key, type, body, len, chunked, out);
    curl_easy_cleanup(c);
}

void ih_post_on(void *curl, const ih_ingest *in, const char *path, const char *key,
                const char *type, const char *body, size_t len, ih_reply *out) {
    curl_easy_reset(curl);
    post_with(curl, in, path, key, type, body, len, 0, out);
}

void ih_request(const ih_ingest *in, const char *method, const char *path, ih_reply *out) {
    CURL *c = curl_easy_init();
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    perform(c, in, path, NULL, out);
    curl_easy_cleanup(c);
}

double ih_metric(const ih_ingest *in, const char *series) {
    ih_reply r;
    ih_request(in, "GET", "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    double v = -1;
    size_t n = strlen(series);
    for (char *line = r.body; line && *line;) {
        char *end = strchr(line, '\n');
        if (strncmp(line, series, n) == 0 && line[n] == ' ')
            v = strtod(line + n + 1, NULL);
        line = end ? end + 1 : NULL;
    }
    ih_reply_free(&r);
    return v;
}

/* ---- topics ----------------------------------------------------------------------- */

static void keep_record(const rd_kafka_message_t *m, void *ud) {
    ih_records *out = ud;
    out->items = realloc(out->items, (out->count + 1) * sizeof *out->items);
    ih_record *r = &out->items[out->count++];
    memset(r, 0, sizeof *r);
    r->partition = m->partition;
    r->offset = m->offset;
    snprintf(r->key, sizeof r->key, "%.*s", (int)m->key_len, (const char *)m->key);
    kh_kafka_header_get((rd_kafka_message_t *)m, "event-type", r->event_type, sizeof r->event_type);
    kh_kafka_header_get((rd_kafka_message_t *)m, "event-id", r->event_id, sizeof r->event_id);
    kh_kafka_header_get((rd_kafka_message_t *)m, "bron", r->bron, sizeof r->bron);
    r->value = malloc(m->len);
    memcpy(r->value, m->payload, m->len);
    r->value_len = m->len;
}

/* Partition count and the number of records (high - low watermarks) of a
 * topic, through handle rk. */
static size_t topic_size(rd_kafka_t *rk, const char *topic, int *partitions) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    ck_assert_int_eq(rd_kafka_metadata(rk, 0, rkt, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    size_t total = 0;
    *partitions = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
    for (int p = 0; p < *partitions; p++) {
        int64_t lo, hi;
        ck_assert_int_eq(rd_kafka_query_watermark_offsets(rk, topic, md->topics[0].partitions[p].id,
                                                          &lo, &hi, 10000),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        total += (size_t)(hi - lo);
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return total;
}

/* Reads until every record the watermarks promise is in: exact, and no
 * waiting for the topic to go idle. */
void ih_read(const ih_ingest *in, const char *event, ih_records *out) {
    char topic[160], err[256], group[96];
    memset(out, 0, sizeof *out);
    ih_topic(in, event, topic, sizeof topic);
    rd_kafka_t *probe = kh_test_producer(in->bootstrap);
    int partitions;
    size_t want = topic_size(probe, topic, &partitions);
    rd_kafka_destroy(probe);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(group, sizeof group, "%sih-reader", kh_test_unique_prefix(group, sizeof group));
    ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers", in->bootstrap, err, sizeof err),
                     RD_KAFKA_CONF_OK);
    ck_assert_int_eq(rd_kafka_conf_set(conf, "group.id", group, err, sizeof err), RD_KAFKA_CONF_OK);
    ck_assert_int_eq(rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    ck_assert_msg(rk != NULL, "%s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    for (int waited = 0; out->count < want && waited < 30000;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            waited += 100;
            continue;
        }
        if (!m->err)
            keep_record(m, out);
        rd_kafka_message_destroy(m);
    }
    ck_assert_msg(out->count == want, "%s: read %zu of %zu records", topic, out->count, want);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

void ih_records_free(ih_records *r) {
    for (size_t i = 0; i < r->count; i++)
        free(r->items[i].value);
    free(r->items);
    memset(r, 0, sizeof *r);
}

size_t ih_count_all(const ih_ingest *in) {
    rd_kafka_t *rk = kh_test_producer(in->bootstrap);
    size_t total = 0;
    for (size_t t = 0; t < kh_event_type_count(); t++) {
        char topic[160];
        int partitions;
        total += topic_size(rk, ih_topic(in, kh_event_type_at(t)->name, topic, sizeof topic),
                            &partitions);
    }
    rd_kafka_destroy(rk);
    return total;
}

/* ---- raw bytes ---------------------------------------------------------------------- */

int ih_raw_connect(const ih_ingest *in, const char *src) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    if (src) {
        ck_assert_int_eq(inet_pton(AF_INET, src, &a.sin_addr), 1);
        ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind %s: %s", src,
                      strerror(errno));
    }
    a.sin_port = htons((uint16_t)in->port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s",
                  strerror(errno));
    return fd;
}

void ih_raw_send(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the server closed early: what it answered is read next */
        p += n;
        len -= (size_t)n;
    }
}

static void raw_header(const char *head, const char *name, char *out, size_t len) {
    size_t n = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line[2] != '\r';
         line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':') {
            const char *v = line + 3 + n;
            while (*v == ' ')
                v++;
            snprintf(out, len, "%.*s", (int)strcspn(v, "\r"), v);
            return;
        }
}

static void raw_parse(ih_raw *r) {
    if (sscanf(r->data, "HTTP/1.%*d %ld", &r->status) != 1)
        r->status = 0;
    r->status_lines = strncmp(r->data, "HTTP/1.", 7) == 0;
    for (const char *p = strstr(r->data, "\nHTTP/1."); p; p = strstr(p + 1, "\nHTTP/1."))
        r->status_lines++;
    char *end = strstr(r->data, "\r\n\r\n");
    if (!end)
        return;
    *end = '\0';
    raw_header(r->data, "Content-Type", r->content_type, sizeof r->content_type);
    raw_header(r->data, "Connection", r->connection, sizeof r->connection);
    raw_header(r->data, "Accept-Encoding", r->accept_encoding, sizeof r->accept_encoding);
    char length[32] = "";
    raw_header(r->data, "Content-Length", length, sizeof length);
    *end = '\r';
    size_t n = strtoul(length, NULL, 10), at = (size_t)(end + 4 - r->data);
    if (n && at + n <= r->len)
        r->json = json_loadb(r->data + at, n, 0, NULL);
}

void ih_raw_read(int fd, int wait_ms, ih_raw *out) {
    memset(out, 0, sizeof *out);
    out->data = calloc(1, 1);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, wait_ms) <= 0)
            break;
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            out->closed = 1;
            break;
        }
        out->data = realloc(out->data, out->len + (size_t)n + 1);
        memcpy(out->data + out->len, buf, (size_t)n);
        out->len += (size_t)n;
        out->data[out->len] = '\0';
    }
    raw_parse(out);
}

void ih_raw_exchange(const ih_ingest *in, const void *request, size_t len, ih_raw *out) {
    int fd = ih_raw_connect(in, NULL);
    ih_raw_send(fd, request, len);
    ih_raw_read(fd, 10000, out);
    close(fd);
}

void ih_raw_free(ih_raw *r) {
    free(r->data);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}
