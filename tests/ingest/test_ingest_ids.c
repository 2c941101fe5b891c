/*
 * test_ingest_ids — an event's identity is its bron plus its event_id: the
 * same id with a different event is a 409 event-id-conflict naming the id,
 * alone, inside a batch and racing, and nothing is published for it; two
 * partners may use the same id and both events are stored; a write the
 * broker stored but did not confirm in time (503) is not stored again when
 * the partner sends it again.
 */
#include "harness.h"
#include "kh_bsn.h"
#include "testlib.h"

#include <check.h>
#include <curl/curl.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pid_t broker;
static char bootstrap[512];

static void broker_up(void) { broker = kh_test_devbroker(bootstrap, sizeof bootstrap); }
static void broker_down(void) { kh_test_stop(broker, SIGTERM, 5000); }

#define TLV "tlv/valid/01-afgegeven-so-capelle.json"                        /* SWV PO2803 */
#define OTHER_TLV "tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json" /* SWV PO2801 */

/* The example with event_id id and another child: the same id, another
 * event. */
static char *other_event(const char *text, const char *id) {
    char *with_id = ih_with_event_id(text, id, NULL);
    json_t *doc = json_loads(with_id, 0, NULL);
    const char *bsn = json_string_value(json_object_get(json_object_get(doc, "jeugdige"), "bsn"));
    const char *other = strcmp(bsn, "111222333") == 0 ? "123456782" : "111222333";
    json_object_set_new(json_object_get(doc, "jeugdige"), "bsn", json_string(other));
    char *out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    free(with_id);
    return out;
}

static void expect_conflict(const ih_reply *r, const char *id) {
    ck_assert_msg(r->status == 409, "%ld %s", r->status, r->body);
    ck_assert_str_eq(r->content_type, "application/problem+json");
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "type")),
                     "https://ketenhub.nl/problems/event-id-conflict");
    /* A random id can hold a run of nine digits passing the elfproef,
     * which no answer carries unmasked (kh_bsn_mask). */
    char named[37];
    snprintf(named, sizeof named, "%s", id);
    kh_bsn_mask(named);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r->json, "detail")), named));
    ck_assert_ptr_null(strstr(r->body, "111222333"));
    ck_assert_ptr_null(strstr(r->body, "123456782"));
}

START_TEST(an_event_id_reused_for_another_event_is_a_409_and_publishes_nothing) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char *text = ih_example(TLV, NULL), key[64], id[37];
    ih_key_for(text, key, sizeof key);
    char *first = ih_with_event_id(text, NULL, id), *second = other_event(text, id);
    ih_reply r;
    ih_post(&in, "/v1/tlvs", key, "application/json", first, strlen(first), 0, &r);
    ck_assert_int_eq(r.status, 202);
    ih_reply_free(&r);
    ih_post(&in, "/v1/tlvs", key, "application/json", second, strlen(second), 0, &r);
    expect_conflict(&r, id);
    ih_reply_free(&r);
    /* The same event with its members in another order is a resubmission. */
    json_t *doc = json_loads(first, 0, NULL);
    char *reordered = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    ih_post(&in, "/v1/tlvs", key, "application/json", reordered, strlen(reordered), 0, &r);
    ck_assert_int_eq(r.status, 202);
    ck_assert_str_eq(r.replayed, "true");
    ih_reply_free(&r);
    ck_assert_uint_eq(ih_count_all(&in), 1);
    ck_assert_double_eq(
        ih_metric(
            &in,
            "ketenhub_ingest_rejections_total{class=\"event-id-conflict\",partner=\"p-PO2803\"}"),
        1);
    free(reordered);
    free(first);
    free(second);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

static void add_line(char **batch, const char *event_text) {
    json_t *line = json_pack("{s:s, s:o}", "type", "tlv", "event", json_loads(event_text, 0, NULL));
    char *text = json_dumps(line, JSON_COMPACT);
    size_t old = *batch ? strlen(*batch) : 0;
    *batch = realloc(*batch, old + strlen(text) + 2);
    sprintf(*batch + old, "%s\n", text);
    free(text);
    json_decref(line);
}

START_TEST(inside_a_batch_a_reused_event_id_is_a_409_line) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char *text = ih_example(TLV, NULL), key[64], id[37], stored_id[37];
    ih_key_for(text, key, sizeof key);
    char *stored = ih_with_event_id(text, NULL, stored_id);
    ih_reply r;
    ih_post(&in, "/v1/tlvs", key, "application/json", stored, strlen(stored), 0, &r);
    ck_assert_int_eq(r.status, 202);
    ih_reply_free(&r);
    char *a = ih_with_event_id(text, NULL, id), *b = other_event(text, id);
    char *late = other_event(text, stored_id), *batch = NULL;
    add_line(&batch, a);
    add_line(&batch, b);
    add_line(&batch, late);
    ih_post(&in, "/v1/batch", key, "application/x-ndjson", batch, strlen(batch), 0, &r);
    ck_assert_msg(r.status == 207, "%ld %s", r.status, r.body);
    const json_t *results = json_object_get(r.json, "results");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(results, 0), "status")),
                     202);
    for (size_t i = 1; i < 3; i++) {
        const json_t *line = json_array_get(results, i);
        ck_assert_int_eq(json_integer_value(json_object_get(line, "status")), 409);
        ck_assert_str_eq(json_string_value(json_object_get(line, "type")),
                         "https://ketenhub.nl/problems/event-id-conflict");
        char named[37]; /* as answered: a run of nine digits passing the elfproef is masked */
        snprintf(named, sizeof named, "%s", i == 1 ? id : stored_id);
        kh_bsn_mask(named);
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(line, "detail")), named));
    }
    ck_assert_ptr_null(strstr(r.body, "111222333"));
    ih_reply_free(&r);
    ck_assert_uint_eq(ih_count_all(&in), 2);
    free(batch);
    free(late);
    free(a);
    free(b);
    free(stored);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

typedef struct racer {
    const ih_ingest *in;
    const char *body, *key;
    pthread_barrier_t *start;
    ih_reply reply;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    pthread_barrier_wait(r->start);
    ih_post(r->in, "/v1/tlvs", r->key, "application/json", r->body, strlen(r->body), 0, &r->reply);
    return NULL;
}

/* Two different events under one id, submitted at once while the first
 * record is still on its way: one of them is stored, every submission of
 * the other is a 409. */
START_TEST(racing_submissions_of_two_events_under_one_id_store_one) {
    const char *const sets[] = {"kafka.linger.ms=300", NULL};
    ih_ingest in;
    ih_start(&in, bootstrap, sets, 0);
    char *text = ih_example(TLV, NULL), key[64], id[37];
    ih_key_for(text, key, sizeof key);
    char *a = ih_with_event_id(text, NULL, id), *b = other_event(text, id);
    enum { RACERS = 8 };
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, RACERS);
    racer racers[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (racer){&in, i % 2 ? b : a, key, &start, {0}};
        pthread_create(&threads[i], NULL, race, &racers[i]);
    }
    const char *winner = NULL;
    int accepted = 0, conflicts = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        ih_reply *r = &racers[i].reply;
        if (r->status == 202) {
            ck_assert_msg(!winner || winner == racers[i].body, "both events were accepted");
            winner = racers[i].body;
            accepted++;
        } else {
            expect_conflict(r, id);
            conflicts++;
        }
    }
    ck_assert_int_eq(accepted, RACERS / 2);
    ck_assert_int_eq(conflicts, RACERS / 2);
    for (int i = 0; i < RACERS; i++)
        ih_reply_free(&racers[i].reply);
    pthread_barrier_destroy(&start);
    ck_assert_uint_eq(ih_count_all(&in), 1);
    free(a);
    free(b);
    free(text);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* The window is per bron: another partner's event with the same id is
 * another event, stored with its own bron header. */
START_TEST(two_partners_may_use_one_event_id) {
    ih_ingest in;
    ih_start(&in, bootstrap, NULL, 0);
    char *one = ih_example(TLV, NULL), *two = ih_example(OTHER_TLV, NULL), k1[64], k2[64], id[37];
    char *a = ih_with_event_id(one, NULL, id), *b = ih_with_event_id(two, id, NULL);
    ih_reply r;
    ih_post(&in, "/v1/tlvs", ih_key_for(one, k1, sizeof k1), "application/json", a, strlen(a), 0,
            &r);
    ck_assert_int_eq(r.status, 202);
    ih_reply_free(&r);
    ih_post(&in, "/v1/tlvs", ih_key_for(two, k2, sizeof k2), "application/json", b, strlen(b), 0,
            &r);
    ck_assert_int_eq(r.status, 202);
    ck_assert_str_eq(r.replayed, "");
    ih_reply_free(&r);
    ih_records recs;
    ih_read(&in, "tlv", &recs);
    ck_assert_uint_eq(recs.count, 2);
    ck_assert_str_eq(recs.items[0].event_id, id);
    ck_assert_str_eq(recs.items[1].event_id, id);
    ck_assert_str_ne(recs.items[0].bron, recs.items[1].bron);
    ih_records_free(&recs);
    free(a);
    free(b);
    free(one);
    free(two);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
}
END_TEST

/* ingest on librdkafka's mock cluster, in this process, so the test can
 * hold back the broker's answer to a produce request. */
static rd_kafka_t *mock_cluster(rd_kafka_mock_cluster_t **mc) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ck_assert_int_eq(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ck_assert_msg(rk != NULL, "%s", err);
    *mc = rd_kafka_handle_mock_cluster(rk);
    ck_assert_ptr_nonnull(*mc);
    return rk;
}

static void post_event(const ih_ingest *in, const char *key, const char *body, ih_reply *r) {
    ih_post(in, "/v1/tlvs", key, "application/json", body, strlen(body), 0, r);
}

/* The broker's answer to a write comes after kafka.message.timeout.ms, so
 * the partner gets 503 "may have been stored all the same"; in one case the
 * broker stored the record, in the other it refused it. The resubmission is
 * looked for on the topic: found, it is a replay of the stored record (202,
 * Idempotent-Replayed, its offset); absent, it is written. One record of
 * the event in both. */
static const struct unconfirmed {
    rd_kafka_resp_err_t broker; /* what the held-back answer says */
    const char *lookup;         /* the search's result, as counted */
    int stored;                 /* the broker stored the first write */
} unconfirmed[] = {
    {RD_KAFKA_RESP_ERR_NO_ERROR, "found", 1},
    {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, "absent", 0},
};

/* The offset of the record of event_id id on the tlv topic (-1: none) and
 * how many records the topic holds. */
static int64_t offset_of(const ih_ingest *in, const char *id, size_t *count) {
    ih_records recs;
    ih_read(in, "tlv", &recs);
    int64_t at = -1;
    for (size_t i = 0; i < recs.count; i++)
        if (strcmp(recs.items[i].event_id, id) == 0)
            at = recs.items[i].offset;
    *count = recs.count;
    ih_records_free(&recs);
    return at;
}

/* The held-back answer cost the connection: ready again, as a partner
 * waits Retry-After. */
static void wait_until_ready(const ih_ingest *in) {
    ih_reply r;
    long ready = 0;
    for (int i = 0; i < 300 && ready != 200; i++) {
        ih_request(in, "GET", "/readyz", &r);
        ready = r.status;
        ih_reply_free(&r);
        if (ready != 200)
            ih_sleep_ms(50);
    }
    ck_assert_int_eq(ready, 200);
}

START_TEST(a_write_unconfirmed_in_time_is_stored_once) {
    const struct unconfirmed *c = &unconfirmed[_i];
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_t *mock = mock_cluster(&mc);
    const char *sets[] = {"kafka.message.timeout.ms=2000", "kafka.socket.timeout.ms=2000", NULL};
    ih_ingest in;
    ih_start(&in, rd_kafka_mock_cluster_bootstraps(mc), sets, 0);
    char *text = ih_example(TLV, NULL), key[64], id[37];
    ih_key_for(text, key, sizeof key);
    char *warm = ih_with_event_id(text, NULL, NULL), *body = ih_with_event_id(text, NULL, id);
    ih_reply r;
    post_event(&in, key, warm, &r); /* the producer has its id and the topic's metadata */
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    ih_reply_free(&r);

    ck_assert_int_eq(rd_kafka_mock_broker_push_request_error_rtts(mc, 1, 0 /* Produce */, 1,
                                                                  c->broker, 6000),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    post_event(&in, key, body, &r);
    ck_assert_msg(r.status == 503, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "may have been stored all the same"));
    ih_reply_free(&r);
    size_t count;
    int64_t stored = offset_of(&in, id, &count);
    ck_assert_uint_eq(count, 1 + (size_t)c->stored);
    ck_assert(c->stored ? stored >= 0 : stored < 0);

    wait_until_ready(&in);
    post_event(&in, key, body, &r);
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    ck_assert_str_eq(r.replayed, c->stored ? "true" : "");
    int64_t answered = json_integer_value(json_object_get(r.json, "offset"));
    ih_reply_free(&r);
    ck_assert_int_eq(offset_of(&in, id, &count), answered);
    ck_assert_uint_eq(count, 2);
    if (c->stored)
        ck_assert_int_eq(answered, stored);
    char series[96];
    snprintf(series, sizeof series, "ketenhub_ingest_unsure_lookups_total{result=\"%s\"}",
             c->lookup);
    ck_assert_int_eq((long)ih_metric(&in, series), 1);
    ck_assert_int_eq(ih_stop(&in, SIGTERM), 0);
    ih_cleanup(&in);
    free(warm);
    free(body);
    free(text);
    rd_kafka_destroy(mock);
}
END_TEST

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    Suite *s = suite_create("ingest_ids");
    TCase *tc = tcase_create("ingest_ids");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, broker_up, broker_down);
    tcase_add_test(tc, an_event_id_reused_for_another_event_is_a_409_and_publishes_nothing);
    tcase_add_test(tc, inside_a_batch_a_reused_event_id_is_a_409_line);
    tcase_add_test(tc, racing_submissions_of_two_events_under_one_id_store_one);
    tcase_add_test(tc, two_partners_may_use_one_event_id);
    tcase_add_loop_test(tc, a_write_unconfirmed_in_time_is_stored_once, 0,
                        sizeof unconfirmed / sizeof unconfirmed[0]);
    suite_add_tcase(s, tc);
    int rc = kh_test_run(s);
    curl_global_cleanup();
    return rc;
}
