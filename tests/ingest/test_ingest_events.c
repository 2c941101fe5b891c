/*
 * test_ingest_events — ketenhub-ingest over real HTTP on an embedded broker:
 * every valid example is stored on its topic under the child pseudonym with
 * the agreed headers; every invalid example is rejected with its expected
 * pointer and nothing is published; a resubmitted event_id is stored once,
 * also when the submissions race; concurrent clients each get a 202 that
 * names their record; a batch answers line by line; the OpenAPI document
 * matches the schemas; /metrics counts what happened.
 */
#include "harness.h"
#include "kh_codec.h"
#include "kh_event.h"
#include "kh_pseudo.h"
#include "kh_schema.h"
#include "kh_time.h"
#include "testlib.h"

#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pid_t broker;
static char bootstrap[512];

static void broker_up(void) { broker = kh_test_devbroker(bootstrap, sizeof bootstrap); }
static void broker_down(void) { kh_test_stop(broker, SIGTERM, 5000); }

/* The sorted .json files of an examples directory. */
static size_t list_examples(const char *rel, char names[][128], size_t max) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/schemas/examples/%s", kh_test_source_dir(), rel);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max)
        if (strlen(e->d_name) > 5 && strcmp(e->d_name + strlen(e->d_name) - 5, ".json") == 0)
            snprintf(names[n++], 128, "%.127s", e->d_name);
    closedir(d);
    qsort(names, n, 128, (int (*)(const void *, const void *))strcmp);
    return n;
}

static const char *path_of(const kh_event_type *t, char *buf, size_t len) {
    snprintf(buf, len, "/v1/%s", t->plural);
    return buf;
}

static const char *str_at(const json_t *j, const char *a, const char *b) {
    const json_t *v = json_object_get(j, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

/* ---- every valid example -------------------------------------------------------- */

typedef struct expected {
    char topic[160];
    int32_t partition;
    int64_t offset;
    char event_id[37];
    char bsn[16];
    char bron[32];
    const char *type;
    int seen;
} expected;

START_TEST(every_valid_example_is_stored_under_the_pseudonym_with_headers) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    expected exp[128];
    size_t nexp = 0;
    for (size_t t = 0; t < kh_event_type_count(); t++) {
        const kh_event_type *type = kh_event_type_at(t);
        char rel[160], names[64][128], path[64], key[64], topic[160];
        snprintf(rel, sizeof rel, "%s/valid", type->name);
        size_t n = list_examples(rel, names, 64);
        for (size_t i = 0; i < n; i++) {
            char file[320];
            ck_assert_int_lt(snprintf(file, sizeof file, "%s/%s", rel, names[i]), sizeof file);
            size_t len;
            char *text = ih_example(file, &len);
            ih_reply r;
            ih_post(&in, path_of(type, path, sizeof path), ih_key_for(text, key, sizeof key),
                    "application/json", text, len, 0, &r);
            ck_assert_msg(r.status == 202, "%s: %ld %s", file, r.status, r.body);
            ck_assert_str_eq(r.content_type, "application/json");
            json_t *doc = json_loads(text, 0, NULL);
            expected *e = &exp[nexp++];
            memset(e, 0, sizeof *e);
            snprintf(e->topic, sizeof e->topic, "%s", str_at(r.json, "topic", NULL));
            ck_assert_str_eq(e->topic, ih_topic(&in, type->name, topic, sizeof topic));
            e->partition = (int32_t)json_integer_value(json_object_get(r.json, "partition"));
            e->offset = json_integer_value(json_object_get(r.json, "offset"));
            snprintf(e->event_id, sizeof e->event_id, "%s", str_at(r.json, "event_id", NULL));
            const char *sent_id = str_at(json_object_get(doc, "envelope"), "event_id", NULL);
            if (sent_id)
                ck_assert_str_eq(e->event_id, sent_id);
            else /* assigned by the hub */
                ck_assert_int_eq(strlen(e->event_id), 36);
            snprintf(e->bsn, sizeof e->bsn, "%s", str_at(doc, "jeugdige", "bsn"));
            const json_t *bron = json_object_get(json_object_get(doc, "envelope"), "bron");
            snprintf(e->bron, sizeof e->bron, "%s:%s", str_at(bron, "type", NULL),
                     str_at(bron, "code", NULL));
            e->type = type->name;
            json_decref(doc);
            ih_reply_free(&r);
            free(text);
        }
    }
    char err[256];
    kh_schemas *schemas;
    ck_assert_int_eq(kh_schemas_open(&schemas, err, sizeof err), 0);
    size_t total = 0;
    for (size_t t = 0; t < kh_event_type_count(); t++) {
        ih_records recs;
        ih_read(&in, kh_event_type_at(t)->name, &recs);
        total += recs.count;
        for (size_t i = 0; i < recs.count; i++) {
            ih_record *rec = &recs.items[i];
            expected *e = NULL;
            for (size_t k = 0; k < nexp && !e; k++)
                if (strcmp(exp[k].event_id, rec->event_id) == 0)
                    e = &exp[k];
            ck_assert_msg(e != NULL, "a record with an unexpected event-id %s", rec->event_id);
            ck_assert_int_eq(e->seen++, 0);
            ck_assert_int_eq(rec->partition, e->partition);
            ck_assert_int_eq(rec->offset, e->offset);
            char pseudonym[65];
            ck_assert_int_eq(kh_pseudo_bsn((const unsigned char *)IH_SECRET, strlen(IH_SECRET),
                                           e->bsn, pseudonym),
                             0);
            ck_assert_str_eq(rec->key, pseudonym);
            ck_assert_ptr_null(strstr(rec->key, e->bsn));
            ck_assert_str_eq(rec->event_type, e->type);
            ck_assert_str_eq(rec->bron, e->bron);
            const kh_schema *which;
            avro_value_t value;
            ck_assert_int_eq(kh_codec_decode(schemas, rec->value, rec->value_len, &which, &value,
                                             err, sizeof err),
                             KH_DECODE_OK);
            ck_assert_str_eq(kh_schema_name(which), e->type);
            json_t *ev = kh_codec_to_json(which, &value, err, sizeof err);
            ck_assert_str_eq(str_at(json_object_get(ev, "envelope"), "event_id", NULL),
                             e->event_id);
            ck_assert_ptr_nonnull(str_at(json_object_get(ev, "envelope"), "received_at", NULL));
            ck_assert_str_eq(str_at(ev, "jeugdige", "bsn"), e->bsn);
            json_decref(ev);
            avro_value_decref(&value);
        }
        ih_records_free(&recs);
    }
    ck_assert_uint_eq(total, nexp);
    for (size_t k = 0; k < nexp; k++)
        ck_assert_msg(exp[k].seen == 1, "no record for %s", exp[k].event_id);
    kh_schemas_free(schemas);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

START_TEST(the_hub_sets_received_at_and_assigns_a_missing_event_id) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char *text = ih_example("beschikking/valid/04-afgewezen-nijmegen.json", NULL), key[64];
    json_t *doc = json_loads(text, 0, NULL);
    json_t *env = json_object_get(doc, "envelope");
    json_object_del(env, "event_id");
    json_object_set_new(env, "received_at", json_string("2001-01-01T00:00:00Z"));
    char *body = json_dumps(doc, JSON_COMPACT);
    int64_t before = kh_now_millis();
    ih_reply r;
    ih_post(&in, "/v1/beschikkingen", ih_key_for(text, key, sizeof key), "application/json", body,
            strlen(body), 0, &r);
    int64_t after = kh_now_millis();
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    const char *id = str_at(r.json, "event_id", NULL);
    ck_assert_uint_eq(strlen(id), 36);
    ck_assert_int_eq(id[14], '4'); /* a version 4 UUID */
    ih_records recs;
    ih_read(&in, "beschikking", &recs);
    ck_assert_uint_eq(recs.count, 1);
    ck_assert_str_eq(recs.items[0].event_id, id);
    char err[256];
    kh_schemas *schemas;
    ck_assert_int_eq(kh_schemas_open(&schemas, err, sizeof err), 0);
    const kh_schema *which;
    avro_value_t value;
    ck_assert_int_eq(kh_codec_decode(schemas, recs.items[0].value, recs.items[0].value_len, &which,
                                     &value, err, sizeof err),
                     KH_DECODE_OK);
    json_t *ev = kh_codec_to_json(which, &value, err, sizeof err);
    int64_t received;
    ck_assert_int_eq(kh_ts_parse(str_at(json_object_get(ev, "envelope"), "received_at", NULL),
                                 &received),
                     0);
    ck_assert_int_ge(received, before - 1000); /* the hub's clock, not the 2001 sent */
    ck_assert_int_le(received, after + 1000);
    ck_assert_str_eq(str_at(json_object_get(ev, "envelope"), "event_id", NULL), id);
    json_decref(ev);
    avro_value_decref(&value);
    kh_schemas_free(schemas);
    ih_records_free(&recs);
    ih_reply_free(&r);
    free(body);
    json_decref(doc);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* ---- every invalid example ---------------------------------------------------------- */

/* Every BSN in the examples, so the log can be searched for them. */
static void collect_bsns(json_t *into) {
    for (size_t t = 0; t < kh_event_type_count(); t++)
        for (int valid = 0; valid < 2; valid++) {
            char rel[160], names[64][128];
            snprintf(rel, sizeof rel, "%s/%s", kh_event_type_at(t)->name,
                     valid ? "valid" : "invalid");
            size_t n = list_examples(rel, names, 64);
            for (size_t i = 0; i < n; i++) {
                char file[320];
                snprintf(file, sizeof file, "%s/%s", rel, names[i]);
                char *text = ih_example(file, NULL);
                json_t *doc = json_loads(text, 0, NULL);
                const char *bsn = doc ? str_at(doc, "jeugdige", "bsn") : NULL;
                if (bsn && strlen(bsn) >= 8)
                    json_array_append_new(into, json_string(bsn));
                json_decref(doc);
                free(text);
            }
        }
}

static int has_error(const json_t *problem, const char *pointer, const char *reason) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(problem, "errors"), i, e)
        if (strcmp(str_at(e, "pointer", NULL), pointer) == 0 &&
            strcmp(str_at(e, "reason", NULL), reason) == 0 && str_at(e, "detail", NULL))
            return 1;
    return 0;
}

START_TEST(every_invalid_example_is_rejected_with_its_pointer_and_nothing_published) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    size_t rejected = 0;
    for (size_t t = 0; t < kh_event_type_count(); t++) {
        const kh_event_type *type = kh_event_type_at(t);
        char rel[160], names[64][128], key[64], path[64], line[512], tsv[256];
        snprintf(rel, sizeof rel, "%s/valid", type->name);
        list_examples(rel, names, 64);
        snprintf(tsv, sizeof tsv, "%s/valid/%s", type->name, names[0]);
        char *first = ih_example(tsv, NULL);
        ih_key_for(first, key, sizeof key); /* a partner that may send this type */
        free(first);
        snprintf(tsv, sizeof tsv, "%s/schemas/examples/%s/invalid/expected.tsv",
                 kh_test_source_dir(), type->name);
        FILE *f = fopen(tsv, "r");
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof line, f)) {
            if (line[0] == '#' || line[0] == '\n')
                continue;
            line[strcspn(line, "\r\n")] = '\0';
            char *file = strtok(line, "\t"), *pointer = strtok(NULL, "\t"),
                 *reason = strtok(NULL, "\t");
            char example[320];
            snprintf(example, sizeof example, "%s/invalid/%s", type->name, file);
            size_t len;
            char *text = ih_example(example, &len);
            ih_reply r;
            ih_post(&in, path_of(type, path, sizeof path), key, "application/json", text, len, 0,
                    &r);
            int syntax = strcmp(reason, "syntax") == 0 || strcmp(reason, "encoding") == 0;
            ck_assert_msg(r.status == (syntax ? 400 : 422), "%s: %ld %s", example, r.status,
                          r.body);
            ck_assert_str_eq(r.content_type, "application/problem+json");
            ck_assert_str_eq(str_at(r.json, "type", NULL),
                             syntax ? "https://ketenhub.nl/problems/syntax"
                                    : "https://ketenhub.nl/problems/validation");
            ck_assert_int_eq(json_integer_value(json_object_get(r.json, "status")), r.status);
            ck_assert_ptr_nonnull(str_at(r.json, "title", NULL));
            ck_assert_ptr_nonnull(str_at(r.json, "detail", NULL));
            ck_assert_int_eq(strncmp(str_at(r.json, "instance", NULL), "urn:uuid:", 9), 0);
            ck_assert_msg(has_error(r.json, strcmp(pointer, "/") == 0 ? "" : pointer, reason),
                          "%s: no error %s (%s) in %s", example, pointer, reason, r.body);
            if (syntax) /* line and column of the fault */
                ck_assert_ptr_nonnull(strstr(str_at(r.json, "detail", NULL), "line "));
            ih_reply_free(&r);
            free(text);
            rejected++;
        }
        fclose(f);
    }
    ck_assert_uint_ge(rejected, 40);
    ck_assert_uint_eq(ih_count_all(&in), 0);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    /* The log records every rejection and no BSN. */
    FILE *f = fopen(in.log, "r");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *log = calloc(1, (size_t)size + 1);
    ck_assert_uint_eq(fread(log, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    size_t lines = 0;
    for (char *p = log; (p = strstr(p, "\"msg\":\"request rejected\"")); p++)
        lines++;
    ck_assert_uint_eq(lines, rejected);
    json_t *bsns = json_array();
    collect_bsns(bsns);
    ck_assert_uint_ge(json_array_size(bsns), 40);
    size_t i;
    json_t *b;
    json_array_foreach(bsns, i, b)
        ck_assert_msg(strstr(log, json_string_value(b)) == NULL, "the log holds BSN %s",
                      json_string_value(b));
    json_decref(bsns);
    free(log);
    ih_cleanup(&in);
}
END_TEST

/* ---- idempotency ---------------------------------------------------------------------- */

typedef struct racer {
    const ih_ingest *in;
    const char *body;
    const char *key;
    pthread_barrier_t *start;
    ih_reply reply;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    pthread_barrier_wait(r->start);
    ih_post(r->in, "/v1/tlvs", r->key, "application/json", r->body, strlen(r->body), 0, &r->reply);
    return NULL;
}

static size_t records_with_id(const ih_ingest *in, const char *event, const char *id) {
    ih_records recs;
    ih_read(in, event, &recs);
    size_t n = 0;
    for (size_t i = 0; i < recs.count; i++)
        n += strcmp(recs.items[i].event_id, id) == 0;
    ih_records_free(&recs);
    return n;
}

START_TEST(a_resubmitted_event_id_is_stored_once_even_when_racing) {
    /* Records wait 300 ms in the producer, so the racers arrive while the
     * first submission is still in flight. */
    const char *const sets[] = {"kafka.linger.ms=300", NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    char *text = ih_example("tlv/valid/01-afgegeven-so-capelle.json", NULL), key[64], id[37];
    ih_key_for(text, key, sizeof key);

    char *once = ih_with_event_id(text, NULL, id);
    ih_reply first, again;
    ih_post(&in, "/v1/tlvs", key, "application/json", once, strlen(once), 0, &first);
    ih_post(&in, "/v1/tlvs", key, "application/json", once, strlen(once), 0, &again);
    ck_assert_int_eq(first.status, 202);
    ck_assert_int_eq(again.status, 202);
    ck_assert_str_eq(first.replayed, "");
    ck_assert_str_eq(again.replayed, "true");
    ck_assert_msg(json_equal(first.json, again.json), "%s vs %s", first.body, again.body);
    ih_reply_free(&first);
    ih_reply_free(&again);

    enum { RACERS = 8 };
    char raced_id[37];
    char *raced = ih_with_event_id(text, NULL, raced_id);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, RACERS);
    racer racers[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (racer){&in, raced, key, &start, {0}};
        pthread_create(&threads[i], NULL, race, &racers[i]);
    }
    int replayed = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_msg(racers[i].reply.status == 202, "%ld %s", racers[i].reply.status,
                      racers[i].reply.body);
        ck_assert(json_equal(racers[i].reply.json, racers[0].reply.json));
        replayed += strcmp(racers[i].reply.replayed, "true") == 0;
    }
    ck_assert_int_eq(replayed, RACERS - 1);
    for (int i = 0; i < RACERS; i++)
        ih_reply_free(&racers[i].reply);
    pthread_barrier_destroy(&start);
    ck_assert_uint_eq(records_with_id(&in, "tlv", id), 1);
    ck_assert_uint_eq(records_with_id(&in, "tlv", raced_id), 1);
    ck_assert_uint_eq(ih_count_all(&in), 2);
    free(once);
    free(raced);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

START_TEST(the_window_is_bounded_oldest_ids_are_forgotten_first) {
    const char *const sets[] = {"idempotency.window=2", NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    char *text = ih_example("tlv/valid/01-afgegeven-so-capelle.json", NULL), key[64], ids[3][37];
    ih_key_for(text, key, sizeof key);
    char *bodies[3];
    for (int i = 0; i < 3; i++) {
        bodies[i] = ih_with_event_id(text, NULL, ids[i]);
        ih_reply r;
        ih_post(&in, "/v1/tlvs", key, "application/json", bodies[i], strlen(bodies[i]), 0, &r);
        ck_assert_int_eq(r.status, 202);
        ih_reply_free(&r);
    }
    ih_reply r;
    ih_post(&in, "/v1/tlvs", key, "application/json", bodies[2], strlen(bodies[2]), 0, &r);
    ck_assert_str_eq(r.replayed, "true"); /* still held */
    ih_reply_free(&r);
    ih_post(&in, "/v1/tlvs", key, "application/json", bodies[0], strlen(bodies[0]), 0, &r);
    ck_assert_str_eq(r.replayed, ""); /* forgotten: stored again */
    ih_reply_free(&r);
    ck_assert_uint_eq(records_with_id(&in, "tlv", ids[0]), 2);
    ck_assert_uint_eq(ih_count_all(&in), 4);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_idempotency_window_ids"), 2);
    for (int i = 0; i < 3; i++)
        free(bodies[i]);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* ---- concurrent clients ---------------------------------------------------------------- */

enum { CLIENTS = 4, PER_CLIENT = 200 };

typedef struct sent {
    char event_id[37];
    char topic[160];
    int32_t partition;
    int64_t offset;
} sent;

typedef struct client {
    const ih_ingest *in;
    int index;
    sent results[PER_CLIENT];
    int ok;
    long connections;
    char failure[512];
} client;

static const char *const mix[] = {
    "aanmelding/valid/01-geplaatst-rotterdam.json",
    "tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json",
    "beschikking/valid/01-toegekend-rotterdam-ambulant.json",
    "verwijzing/valid/01-wijkteam-rotterdam-jeugdhulp.json",
    "aanmelding/valid/04-jeugdhulp-geplaatst-papendrecht-dordrecht.json",
};

static void *run_client(void *arg) {
    client *c = arg;
    CURL *curl = curl_easy_init();
    for (int i = 0; i < PER_CLIENT; i++) {
        const char *file = mix[(i + c->index) % (sizeof mix / sizeof mix[0])];
        char *text = ih_example(file, NULL), key[64], path[64];
        char *body = ih_with_event_id(text, NULL, c->results[i].event_id);
        const kh_event_type *t = NULL;
        for (size_t k = 0; k < kh_event_type_count(); k++)
            if (strncmp(file, kh_event_type_at(k)->name, strlen(kh_event_type_at(k)->name)) == 0 &&
                file[strlen(kh_event_type_at(k)->name)] == '/')
                t = kh_event_type_at(k);
        snprintf(path, sizeof path, "/v1/%s", t->plural);
        ih_reply r;
        ih_post_on(curl, c->in, path, ih_key_for(text, key, sizeof key), "application/json", body,
                   strlen(body), &r);
        if (r.status != 202) {
            snprintf(c->failure, sizeof c->failure, "%s: %ld (curl %d) %s", file, r.status,
                     r.curl_error, r.body ? r.body : "");
            ih_reply_free(&r);
            free(body);
            free(text);
            break;
        }
        sent *s = &c->results[i];
        c->connections += r.new_connections;
        ck_assert_str_eq(str_at(r.json, "event_id", NULL), s->event_id);
        snprintf(s->topic, sizeof s->topic, "%s", str_at(r.json, "topic", NULL));
        s->partition = (int32_t)json_integer_value(json_object_get(r.json, "partition"));
        s->offset = json_integer_value(json_object_get(r.json, "offset"));
        c->ok++;
        ih_reply_free(&r);
        free(body);
        free(text);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

START_TEST(concurrent_clients_every_202_names_its_record) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    static client clients[CLIENTS];
    pthread_t threads[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        memset(&clients[i], 0, sizeof clients[i]);
        clients[i].in = &in;
        clients[i].index = i;
        pthread_create(&threads[i], NULL, run_client, &clients[i]);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_msg(clients[i].ok == PER_CLIENT, "client %d: %d accepted; %s", i, clients[i].ok,
                      clients[i].failure);
        ck_assert_int_eq(clients[i].connections, 1); /* HTTP/1.1 keep-alive: one connection each */
    }
    size_t total = 0, matched = 0;
    for (size_t t = 0; t < kh_event_type_count(); t++) {
        ih_records recs;
        char topic[160];
        ih_read(&in, kh_event_type_at(t)->name, &recs);
        ih_topic(&in, kh_event_type_at(t)->name, topic, sizeof topic);
        total += recs.count;
        for (int c = 0; c < CLIENTS; c++)
            for (int i = 0; i < PER_CLIENT; i++) {
                sent *s = &clients[c].results[i];
                if (strcmp(s->topic, topic) != 0)
                    continue;
                int found = 0;
                for (size_t k = 0; k < recs.count && !found; k++)
                    found = recs.items[k].partition == s->partition &&
                            recs.items[k].offset == s->offset &&
                            strcmp(recs.items[k].event_id, s->event_id) == 0;
                ck_assert_msg(found, "no record %s at %s/%d/%lld", s->event_id, topic, s->partition,
                              (long long)s->offset);
                matched++;
            }
        ih_records_free(&recs);
    }
    ck_assert_uint_eq(matched, CLIENTS * PER_CLIENT);
    ck_assert_uint_eq(total, CLIENTS * PER_CLIENT);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_requests_in_flight"),
                        1); /* this /metrics request */
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_records_in_flight"), 0);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* ---- a batch ------------------------------------------------------------------------------ */

static void add_line(char **batch, const char *type, const char *event_text) {
    json_t *ev = json_loads(event_text, 0, NULL);
    json_t *line = json_pack("{s:s, s:o}", "type", type, "event", ev);
    char *text = json_dumps(line, JSON_COMPACT);
    size_t old = *batch ? strlen(*batch) : 0;
    *batch = realloc(*batch, old + strlen(text) + 2);
    sprintf(*batch + old, "%s\n", text);
    free(text);
    json_decref(line);
}

static void add_raw(char **batch, const char *raw) {
    size_t old = *batch ? strlen(*batch) : 0;
    *batch = realloc(*batch, old + strlen(raw) + 2);
    sprintf(*batch + old, "%s\n", raw);
}

static const json_t *result(const ih_reply *r, size_t i) {
    return json_array_get(json_object_get(r->json, "results"), i);
}

START_TEST(a_batch_answers_each_line_and_stores_only_the_good_ones) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char *besch = ih_example("beschikking/valid/01-toegekend-rotterdam-ambulant.json", NULL);
    char *verw = ih_example("verwijzing/valid/01-wijkteam-rotterdam-jeugdhulp.json", NULL);
    char *invalid = ih_example("beschikking/invalid/07-bsn-elfproef.json", NULL);
    char *tlv = ih_example("tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json", NULL);
    char *other_bron =
        ih_example("beschikking/valid/02-toegekend-capelle-zorg-op-school-rotterdam.json", NULL);
    char id_a[37], id_b[37];
    char *a = ih_with_event_id(besch, NULL, id_a), *b = ih_with_event_id(verw, NULL, id_b);
    char *batch = NULL;
    add_line(&batch, "beschikking", a);                        /* 1: stored */
    add_line(&batch, "beschikking", invalid);                  /* 2: 422 */
    add_raw(&batch, "");                                       /* 3: blank, skipped */
    add_line(&batch, "tlv", tlv);                              /* 4: 403 a gemeente sends no tlv */
    add_raw(&batch, "{\"type\": \"verwijzing\", \"event\": "); /* 5: 400 syntax */
    add_raw(&batch, "{\"type\": \"brief\", \"event\": {}}");   /* 6: 400 unknown type */
    add_line(&batch, "beschikking", other_bron);               /* 7: 403 not its own bron */
    add_line(&batch, "beschikking", a);                        /* 8: the same id again: replayed */
    add_line(&batch, "verwijzing", b);                         /* 9: stored */
    ih_reply r;
    ih_post(&in, "/v1/batch", "key-GM0599", "application/x-ndjson", batch, strlen(batch), 0, &r);
    ck_assert_msg(r.status == 207, "%ld %s", r.status, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "accepted")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "rejected")), 5);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "results")), 8);
    const struct {
        int line, status;
        const char *type;
    } want[] = {
        {1, 202, NULL},     {2, 422, "validation"}, {4, 403, "forbidden-event-type"},
        {5, 400, "syntax"}, {6, 400, "bad-batch"},  {7, 403, "forbidden-bron"},
        {8, 202, NULL},     {9, 202, NULL},
    };
    for (size_t i = 0; i < 8; i++) {
        const json_t *res = result(&r, i);
        ck_assert_int_eq(json_integer_value(json_object_get(res, "line")), want[i].line);
        ck_assert_int_eq(json_integer_value(json_object_get(res, "status")), want[i].status);
        if (want[i].type) {
            char uri[128];
            snprintf(uri, sizeof uri, "https://ketenhub.nl/problems/%s", want[i].type);
            ck_assert_str_eq(str_at(res, "type", NULL), uri);
        } else {
            ck_assert_ptr_nonnull(str_at(res, "topic", NULL));
        }
    }
    ck_assert(has_error(result(&r, 1), "/jeugdige/bsn", "elfproef"));
    ck_assert_str_eq(str_at(result(&r, 0), "event_id", NULL), id_a);
    ck_assert_str_eq(str_at(result(&r, 7), "event_id", NULL), id_b);
    ck_assert(json_is_true(json_object_get(result(&r, 6), "replayed")));
    ck_assert_int_eq(json_integer_value(json_object_get(result(&r, 6), "offset")),
                     json_integer_value(json_object_get(result(&r, 0), "offset")));
    ih_reply_free(&r);
    ck_assert_uint_eq(ih_count_all(&in), 2);
    ck_assert_uint_eq(records_with_id(&in, "beschikking", id_a), 1);
    ck_assert_uint_eq(records_with_id(&in, "verwijzing", id_b), 1);

    /* All good: 200. */
    char *good = NULL;
    char *c = ih_with_event_id(besch, NULL, NULL);
    add_line(&good, "beschikking", c);
    ih_post(&in, "/v1/batch", "key-GM0599", "application/x-ndjson", good, strlen(good), 0, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ih_reply_free(&r);
    /* Empty, and over the line limit. */
    ih_post(&in, "/v1/batch", "key-GM0599", "application/x-ndjson", "\n \n", 3, 0, &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(str_at(r.json, "type", NULL), "https://ketenhub.nl/problems/bad-batch");
    ih_reply_free(&r);
    ck_assert_uint_eq(ih_count_all(&in), 3);
    free(good);
    free(c);
    free(batch);
    free(a);
    free(b);
    free(besch);
    free(verw);
    free(invalid);
    free(tlv);
    free(other_bron);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* ---- OpenAPI and /metrics ---------------------------------------------------------------------
 */

/* The document's schema of an Avro record must have exactly its fields, and
 * require exactly the non-optional ones (except envelope.event_id, which
 * the hub assigns when it is left out). Nested named records likewise. */
static void same_fields(const json_t *components, const kh_node *node, int *checked) {
    const char *name = strrchr(node->name, '.') ? strrchr(node->name, '.') + 1 : node->name;
    const json_t *s = json_object_get(components, name);
    ck_assert_msg(s != NULL, "openapi.json has no schema %s", name);
    const json_t *props = json_object_get(s, "properties"),
                 *required = json_object_get(s, "required");
    ck_assert_uint_eq(json_object_size(props), node->nfields);
    size_t nrequired = 0;
    for (size_t i = 0; i < node->nfields; i++) {
        const kh_field *f = &node->fields[i];
        ck_assert_msg(json_object_get(props, f->name), "%s.%s missing from openapi.json", name,
                      f->name);
        int must = !f->optional &&
                   !(strcmp(name, "Envelope") == 0 && strcmp(f->name, "event_id") == 0);
        int listed = 0;
        size_t k;
        json_t *r;
        json_array_foreach(required, k, r)
            listed |= strcmp(json_string_value(r), f->name) == 0;
        ck_assert_msg(listed == must, "%s.%s: required in openapi.json is %d, in the schema %d",
                      name, f->name, listed, must);
        nrequired += (size_t)listed;
        const kh_node *type = f->type->kind == KH_OPTIONAL ? f->type->item : f->type;
        if (type->kind == KH_RECORD)
            same_fields(components, type, checked);
    }
    ck_assert_uint_eq(json_array_size(required), nrequired);
    (*checked)++;
}

START_TEST(openapi_describes_the_schemas_and_metrics_count_requests) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    ih_reply r;
    ih_request(&in, "GET", "/openapi.json", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "application/json");
    ck_assert_ptr_nonnull(r.json);
    ck_assert_str_eq(str_at(r.json, "openapi", NULL), "3.0.3");
    const json_t *paths = json_object_get(r.json, "paths");
    for (size_t t = 0; t < kh_event_type_count(); t++) {
        char path[64];
        ck_assert_ptr_nonnull(json_object_get(json_object_get(paths, path_of(kh_event_type_at(t),
                                                                             path, sizeof path)),
                                              "post"));
    }
    ck_assert_ptr_nonnull(json_object_get(json_object_get(paths, "/v1/batch"), "post"));
    char err[256];
    kh_schemas *schemas;
    ck_assert_int_eq(kh_schemas_open(&schemas, err, sizeof err), 0);
    int checked = 0;
    const json_t *components = json_object_get(json_object_get(r.json, "components"), "schemas");
    for (size_t t = 0; t < kh_event_type_count(); t++)
        same_fields(components,
                    kh_schema_root(kh_schemas_by_name(schemas, kh_event_type_at(t)->name)),
                    &checked);
    ck_assert_int_ge(checked, 12);
    kh_schemas_free(schemas);
    /* What is served is the file in the repository. */
    char file[1024];
    snprintf(file, sizeof file, "%s/schemas/openapi.json", kh_test_source_dir());
    json_t *repo = json_load_file(file, 0, NULL);
    ck_assert(json_equal(repo, r.json));
    json_decref(repo);
    ih_reply_free(&r);

    ih_request(&in, "GET", "/healthz", &r);
    ck_assert_int_eq(r.status, 200);
    ih_reply_free(&r);
    ih_request(&in, "HEAD", "/readyz", &r);
    ck_assert_int_eq(r.status, 200);
    ih_reply_free(&r);
    char *text = ih_example("tlv/valid/01-afgegeven-so-capelle.json", NULL), key[64];
    ih_post(&in, "/v1/tlvs", ih_key_for(text, key, sizeof key), "application/json", text,
            strlen(text), 0, &r);
    ck_assert_int_eq(r.status, 202);
    ih_reply_free(&r);
    ih_post(&in, "/v1/tlvs", "no-such-key", "application/json", text, strlen(text), 0, &r);
    ck_assert_int_eq(r.status, 401);
    ih_reply_free(&r);
    free(text);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_requests_total{route=\"/v1/"
                                       "tlvs\",status=\"202\",partner=\"p-PO2803\"}"),
                        1);
    ck_assert_double_eq(
        ih_metric(
            &in, "ketenhub_ingest_requests_total{route=\"/v1/tlvs\",status=\"401\",partner=\"-\"}"),
        1);
    ck_assert_double_eq(
        ih_metric(&in, "ketenhub_ingest_rejections_total{class=\"unauthorized\",partner=\"-\"}"),
        1);
    ck_assert_double_eq(
        ih_metric(
            &in,
            "ketenhub_ingest_events_total{type=\"tlv\",partner=\"p-PO2803\",outcome=\"accepted\"}"),
        1);
    ck_assert_double_eq(
        ih_metric(&in, "ketenhub_ingest_request_duration_seconds_count{route=\"/v1/tlvs\"}"), 2);
    ck_assert_double_eq(
        ih_metric(
            &in, "ketenhub_ingest_request_duration_seconds_bucket{route=\"/v1/tlvs\",le=\"+Inf\"}"),
        2);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_broker_ready"), 1);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_records_in_flight"), 0);
    ck_assert_double_eq(ih_metric(&in, "ketenhub_ingest_idempotency_window_ids"), 1);
    ih_request(&in, "GET", "/metrics", &r);
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE ketenhub_ingest_produce_errors_total counter"));
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE ketenhub_ingest_requests_in_flight gauge"));
    ck_assert_ptr_nonnull(strstr(r.body,
                                 "# TYPE ketenhub_ingest_request_duration_seconds histogram"));
    ih_reply_free(&r);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    Suite *s = suite_create("ingest_events");
    TCase *tc = tcase_create("ingest_events");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, broker_up, broker_down);
    tcase_add_test(tc, every_valid_example_is_stored_under_the_pseudonym_with_headers);
    tcase_add_test(tc, the_hub_sets_received_at_and_assigns_a_missing_event_id);
    tcase_add_test(tc, every_invalid_example_is_rejected_with_its_pointer_and_nothing_published);
    tcase_add_test(tc, a_resubmitted_event_id_is_stored_once_even_when_racing);
    tcase_add_test(tc, the_window_is_bounded_oldest_ids_are_forgotten_first);
    tcase_add_test(tc, concurrent_clients_every_202_names_its_record);
    tcase_add_test(tc, a_batch_answers_each_line_and_stores_only_the_good_ones);
    tcase_add_test(tc, openapi_describes_the_schemas_and_metrics_count_requests);
    suite_add_tcase(s, tc);
    int rc = kh_test_run(s);
    curl_global_cleanup();
    return rc;
}
