/*
 * bench_e2e — the end-to-end latency driver of tests/bench/run.sh: what a
 * partner experiences, from its POST to ingest to the melding arriving at
 * the other partner's endpoint.
 *
 *   bench_e2e topics --bootstrap B --prefix P
 *       Creates ketenhub's topics under prefix P (4 partitions each).
 *
 *   bench_e2e run --url INGEST --keys FILE --events FILE --port N
 *                 --rate R [--count C] [--settle S] [--senders T (32)]
 *       Serves as every partner's endpoint on 127.0.0.1:N (answers 200 and
 *       notes when each melding arrives, by its oorzaak.event_id), and posts
 *       the valid events of FILE (`ketenhub simulate --out` lines, with the
 *       meldingen each must give) to ingest at R events/s, open loop: event
 *       i is due at t0 + i/R, and its latency is counted from that moment,
 *       so a sender falling behind adds to the latency instead of hiding it.
 *       After sending it waits up to S seconds (default 15) for the
 *       expected meldingen. Prints one line:
 *       "sent= accepted= expected= received= missing= p50_ms= p99_ms= max_ms= late_ms="
 *       (late_ms: the most any POST started after its due time).
 */
#define _GNU_SOURCE /* memmem */
#include "kh_event.h"
#include "sim_keys.h"

#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const TOPICS[] = {"ketenhub.aanmelding.v1",   "ketenhub.tlv.v1",
                                     "ketenhub.beschikking.v1",  "ketenhub.verwijzing.v1",
                                     "ketenhub.grensverkeer.v1", "ketenhub.deadletter.v1",
                                     "ketenhub.afleveringen.v1", "ketenhub.push.retry.v1"};

typedef struct event {
    char id[37];
    char path[48];
    const char *key;
    char *body;
    int expected;
    double due;     /* seconds since t0 */
    double started; /* when the POST began, seconds since t0 */
    int accepted;
} event;

typedef struct bench {
    event *ev;
    size_t n;
    size_t *table; /* open addressing: event_id -> index + 1 */
    size_t mask;
    double rate, t0;
    atomic_size_t next;
    const char *url;
    pthread_mutex_t lock;
    double *lat; /* ms, one per melding received */
    size_t nlat, caplat;
    size_t stray; /* requests that are no melding of an event of this run */
} bench;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t hash(const char *s, size_t len) {
    size_t h = 1469598103934665603u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

static long find(const bench *b, const char *id, size_t len) {
    for (size_t i = hash(id, len) & b->mask; b->table[i]; i = (i + 1) & b->mask) {
        const event *e = &b->ev[b->table[i] - 1];
        if (strlen(e->id) == len && memcmp(e->id, id, len) == 0)
            return (long)(b->table[i] - 1);
    }
    return -1;
}

/* ---- The receiving partner --------------------------------------------- */

/* The cause event id in a melding body, without parsing all of it. */
static int cause_of(const char *body, size_t len, const char **id) {
    const char *o = memmem(body, len, "\"oorzaak\"", 9);
    if (!o)
        return -1;
    const char *k = memmem(o, len - (size_t)(o - body), "\"event_id\"", 10);
    if (!k)
        return -1;
    const char *q = memchr(k + 10, '"', len - (size_t)(k + 10 - body));
    if (!q || (size_t)(q + 37 - body) > len)
        return -1;
    *id = q + 1;
    return 0;
}

static void arrived(bench *b, const char *body, size_t len) {
    const char *id;
    double t = now_s() - b->t0;
    long i = -1;
    pthread_mutex_lock(&b->lock);
    if (cause_of(body, len, &id) == 0)
        i = find(b, id, 36);
    /* Not waiting for ->accepted: under load a melding can arrive before
     * its sender thread has looked at ingest's answer. */
    if (i >= 0 && b->nlat < b->caplat)
        b->lat[b->nlat++] = (t - b->ev[i].due) * 1000.0;
    else
        b->stray++;
    pthread_mutex_unlock(&b->lock);
}

typedef struct upload {
    char *data;
    size_t len;
} upload;

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state) {
    (void)url, (void)method, (void)version;
    upload *u = *state;
    if (!u) {
        *state = calloc(1, sizeof(upload));
        return *state ? MHD_YES : MHD_NO;
    }
    if (*size) {
        char *grown = realloc(u->data, u->len + *size + 1);
        if (!grown)
            return MHD_NO;
        memcpy(grown + u->len, data, *size);
        u->data = grown;
        u->len += *size;
        *size = 0;
        return MHD_YES;
    }
    if (u->data)
        arrived(cls, u->data, u->len);
    struct MHD_Response *r = MHD_create_response_from_buffer(2, "{}", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode code) {
    (void)cls, (void)c, (void)code;
    upload *u = *state;
    if (u)
        free(u->data);
    free(u);
}

/* ---- The sending partners ------------------------------------------------ */

static void wait_until(double t) {
    double d = t - now_s();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

static size_t discard(char *p, size_t s, size_t n, void *ud) {
    (void)p, (void)ud;
    return s * n;
}

static void *sender(void *arg) {
    bench *b = arg;
    CURL *e = curl_easy_init();
    char url[512], auth[200];
    for (size_t i; e && (i = atomic_fetch_add(&b->next, 1)) < b->n;) {
        event *ev = &b->ev[i];
        wait_until(b->t0 + ev->due);
        ev->started = now_s() - b->t0;
        snprintf(url, sizeof url, "%s%s", b->url, ev->path);
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", ev->key);
        struct curl_slist *h = curl_slist_append(NULL, auth);
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, ev->body);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
        long status = 0;
        if (curl_easy_perform(e) == CURLE_OK)
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        pthread_mutex_lock(&b->lock);
        ev->accepted = status == 202;
        pthread_mutex_unlock(&b->lock);
    }
    curl_easy_cleanup(e);
    return NULL;
}

/* ---- Loading the events --------------------------------------------------- */

static int load_event(bench *b, json_t *line, const sim_keys *keys) {
    json_t *ev = json_object_get(line, "event");
    const char *type = json_string_value(json_object_get(line, "type"));
    const char *bron = json_string_value(json_object_get(line, "bron"));
    const char *id = json_string_value(json_object_get(json_object_get(ev, "envelope"),
                                                       "event_id"));
    const kh_event_type *t = type ? kh_event_type_by_name(type) : NULL;
    if (!ev || !t || !bron || !id || strlen(id) != 36)
        return 0; /* an invalid event: not part of a latency run */
    event *e = &b->ev[b->n];
    memset(e, 0, sizeof *e);
    for (size_t k = 0; k < keys->n && !e->key; k++)
        if (strcmp(keys->keys[k].org, bron) == 0)
            e->key = keys->keys[k].key;
    if (!e->key)
        return fprintf(stderr, "bench_e2e: no key for %s\n", bron), -1;
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->path, sizeof e->path, "/v1/%s", t->plural);
    e->body = json_dumps(ev, JSON_COMPACT);
    e->expected = (int)json_array_size(json_object_get(json_object_get(line, "expect"),
                                                       "meldingen"));
    b->n++;
    return 0;
}

static int load(bench *b, const char *path, const sim_keys *keys, size_t max) {
    FILE *f = fopen(path, "r");
    if (!f)
        return perror(path), -1;
    b->ev = calloc(max, sizeof *b->ev);
    char *line = NULL;
    size_t cap = 0;
    while (b->n < max && getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        int rc = j ? load_event(b, j, keys) : -1;
        json_decref(j);
        if (rc) {
            free(line);
            fclose(f);
            return -1;
        }
    }
    free(line);
    fclose(f);
    size_t size = 16;
    while (size < 2 * b->n)
        size *= 2;
    b->mask = size - 1;
    b->table = calloc(size, sizeof *b->table);
    for (size_t i = 0; i < b->n; i++) {
        size_t h = hash(b->ev[i].id, 36) & b->mask;
        while (b->table[h])
            h = (h + 1) & b->mask;
        b->table[h] = i + 1;
        b->ev[i].due = (double)i / b->rate;
    }
    return 0;
}

/* ---- Results ----------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p) {
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void report(bench *b) {
    long accepted = 0, expected = 0;
    double late = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->ev[i].accepted) {
            accepted++;
            expected += b->ev[i].expected;
        }
        if (b->ev[i].started - b->ev[i].due > late)
            late = b->ev[i].started - b->ev[i].due;
    }
    qsort(b->lat, b->nlat, sizeof *b->lat, cmp_double);
    printf("sent=%zu accepted=%ld expected=%ld received=%zu missing=%ld p50_ms=%.1f p99_ms=%.1f "
           "max_ms=%.1f late_ms=%.1f stray=%zu\n",
           b->n, accepted, expected, b->nlat,
           expected > (long)b->nlat ? expected - (long)b->nlat : 0, pct(b->lat, b->nlat, 0.50),
           pct(b->lat, b->nlat, 0.99), b->nlat ? b->lat[b->nlat - 1] : 0.0, late * 1000.0,
           b->stray);
}

static long expected_so_far(bench *b) {
    long n = 0;
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->n; i++)
        if (b->ev[i].accepted)
            n += b->ev[i].expected;
    pthread_mutex_unlock(&b->lock);
    return n;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"url", 1, 0, 'u'},    {"keys", 1, 0, 'k'},    {"events", 1, 0, 'e'},
        {"port", 1, 0, 'p'},   {"rate", 1, 0, 'r'},    {"count", 1, 0, 'c'},
        {"settle", 1, 0, 's'}, {"senders", 1, 0, 't'}, {0, 0, 0, 0}};
    static bench b;
    const char *keysfile = NULL, *events = NULL;
    int port = 0, senders = 32, opt;
    double settle = 15;
    size_t count = 1000000;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': b.url = optarg; break;
        case 'k': keysfile = optarg; break;
        case 'e': events = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'r': b.rate = atof(optarg); break;
        case 'c': count = strtoul(optarg, NULL, 10); break;
        case 's': settle = atof(optarg); break;
        case 't': senders = atoi(optarg); break;
        default: return 2;
        }
    }
    char err[512];
    sim_keys keys = {0};
    if (!b.url || !keysfile || !events || port <= 0 || b.rate <= 0 || senders < 1 || senders > 64)
        return fprintf(stderr, "bench_e2e run: see the usage at the top of bench_e2e.c\n"), 2;
    if (sim_keys_load(&keys, keysfile, 0, err, sizeof err))
        return fprintf(stderr, "bench_e2e: %s\n", err), 1;
    if (load(&b, events, &keys, count))
        return 1;
    pthread_mutex_init(&b.lock, NULL);
    long total = 0;
    for (size_t i = 0; i < b.n; i++)
        total += b.ev[i].expected;
    b.caplat = (size_t)total * 2 + 16;
    b.lat = calloc(b.caplat, sizeof *b.lat);
    b.t0 = now_s() + 0.2;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
                                            (uint16_t)port, NULL, NULL, handle, &b,
                                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                                            MHD_OPTION_THREAD_POOL_SIZE, 2u,
                                            MHD_OPTION_CONNECTION_LIMIT, 4000u,
                                            MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
    if (!d)
        return fprintf(stderr, "bench_e2e: cannot listen on %d\n", port), 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t th[64];
    for (int i = 0; i < senders; i++)
        pthread_create(&th[i], NULL, sender, &b);
    for (int i = 0; i < senders; i++)
        pthread_join(th[i], NULL);
    double until = now_s() + settle;
    long want = expected_so_far(&b);
    for (;;) {
        pthread_mutex_lock(&b.lock);
        size_t got = b.nlat;
        pthread_mutex_unlock(&b.lock);
        if ((long)got >= want || now_s() > until)
            break;
        usleep(20000);
    }
    MHD_stop_daemon(d);
    report(&b);
    return 0;
}

/* ---- Topics ------------------------------------------------------------------ */

static int topics(int argc, char **argv) {
    const char *bootstrap = NULL, *prefix = "";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bootstrap") == 0)
            bootstrap = argv[i + 1];
        else if (strcmp(argv[i], "--prefix") == 0)
            prefix = argv[i + 1];
    }
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!bootstrap || rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) !=
                          RD_KAFKA_CONF_OK)
        return fprintf(stderr, "bench_e2e topics: --bootstrap B --prefix P\n"), 2;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        return fprintf(stderr, "bench_e2e: %s\n", err), 1;
    enum { N = sizeof TOPICS / sizeof TOPICS[0] };
    rd_kafka_NewTopic_t *nt[N];
    char name[256];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, TOPICS[i]);
        nt[i] = rd_kafka_NewTopic_new(name, 4, 1, err, sizeof err);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, N, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = 0;
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        ev ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            fprintf(stderr, "bench_e2e: %s: %s\n", rd_kafka_topic_result_name(res[i]),
                    rd_kafka_err2str(e));
            rc = 1;
        }
    }
    if (!ev)
        rc = fprintf(stderr, "bench_e2e: CreateTopics timed out\n") > 0;
    else
        rd_kafka_event_destroy(ev);
    for (int i = 0; i < N; i++)
        rd_kafka_NewTopic_destroy(nt[i]);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return run(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "topics") == 0)
        return topics(argc - 1, argv + 1);
    fprintf(stderr, "usage: bench_e2e run ... | bench_e2e topics ... (see bench_e2e.c)\n");
    return 2;
}
