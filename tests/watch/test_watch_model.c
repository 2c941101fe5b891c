/*
 * test_watch_model — records through watch_model as the watch reads them:
 * an event, a melding, its aflevering and a failed delivery's dead letter
 * (with the child's record inside) become counts, a pending melding, a
 * regional case and a dead letter row, and no view of the model carries the
 * child's BSN, birth date or the dead letter's payload.
 */
#include "kh_codec.h"
#include "kh_deadletter.h"
#include "kh_file.h"
#include "kh_time.h"
#include "testlib.h"
#include "watch_model.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAW_BSN "111222333"

static kh_schemas *schemas;

/* The wire format of a JSON value of schema name. Caller frees. */
static char *wire(const char *name, const char *json, size_t *len) {
    kh_problems p;
    kh_problems_init(&p);
    json_t *j = kh_codec_parse(json, strlen(json), &p);
    ck_assert_ptr_nonnull(j);
    const kh_schema *s = kh_schemas_by_name(schemas, name);
    avro_value_t v;
    char err[256], *out;
    ck_assert_int_eq(kh_schema_new_value(s, &v), 0);
    ck_assert_int_eq(kh_codec_from_json(s, j, &v, &p), 0);
    ck_assert_int_eq(kh_codec_encode(s, &v, &out, len, err, sizeof err), 0);
    avro_value_decref(&v);
    json_decref(j);
    return out;
}

static const char *MELDING =
    "{\"melding_id\": \"7ec46e7e-e206-5a48-b9ce-a2be90d54ce8\", \"regel\": "
    "\"ONDERWIJS_BUITEN_WOONGEMEENTE\","
    " \"ontvanger\": {\"type\": \"GEMEENTE\", \"code\": \"GM0502\"},"
    " \"oorzaak\": {\"event_type\": \"AANMELDING\", \"event_id\": "
    "\"3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01\","
    "  \"topic\": \"ketenhub.aanmelding.v1\", \"partition\": 3, \"offset\": 0},"
    " \"betrokkenen\": [{\"rol\": \"WOONPLAATSGEMEENTE\", \"type\": \"GEMEENTE\", \"code\": "
    "\"GM0502\", \"naam\": \"Capelle aan den IJssel\"},"
    "  {\"rol\": \"SCHOOLGEMEENTE\", \"type\": \"GEMEENTE\", \"code\": \"GM0599\", \"naam\": "
    "\"Rotterdam\"}],"
    " \"peildatum\": \"2026-03-02\", \"jeugdige\": {\"bsn\": \"" RAW_BSN
    "\", \"geboortedatum\": \"2014-05-17\"},"
    " \"toelichting\": \"Leerling woont in Capelle aan den IJssel.\", \"aangemaakt_op\": "
    "\"2026-03-02T09:00:00Z\"}";

static void feed(watch_model *m, const char *topic, int32_t p, int64_t off, const void *v,
                 size_t len, int64_t now) {
    watch_input in = {topic, p, off, now - 1000, v, len, NULL, 0};
    watch_model_record(m, &in, now);
}

START_TEST(records_become_counts_without_the_child) {
    char err[512];
    ck_assert_int_eq(kh_schemas_open(&schemas, err, sizeof err), 0);
    const char *topics[] = {"ketenhub.aanmelding.v1", "ketenhub.grensverkeer.v1",
                            "ketenhub.deadletter.v1", "ketenhub.afleveringen.v1"};
    const char *services[] = {"push"}, *groups[] = {"ketenhub-push"};
    watch_limits lim = {64, 100, 100, 3, 300000, 300000, 100};
    watch_model *m = watch_model_new(&lim, topics, 4, services, groups, 1, schemas);
    int64_t now = kh_now_millis();
    size_t len, elen, mlen;
    char path[512];
    snprintf(path, sizeof path, "%s/schemas/examples/aanmelding/valid/01-geplaatst-rotterdam.json",
             kh_test_source_dir());
    char *text = kh_file_read(path, 1 << 20, &len, err, sizeof err);
    char *event = wire("aanmelding", text, &elen), *melding = wire("melding", MELDING, &mlen);
    feed(m, topics[0], 3, 0, event, elen, now);
    feed(m, topics[1], 0, 0, melding, mlen, now);
    feed(m, topics[1], 1, 0, melding, mlen, now); /* the same case again: counted once */
    /* push gives up on it: a dead letter with the melding inside */
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[1], NULL);
    rd_kafka_message_t origin = {
        .rkt = rkt, .partition = 0, .offset = 0, .payload = melding, .len = mlen};
    kh_deadletter dl = {.reason_code = "DELIVERY_REJECTED",
                        .reason = "HTTP 400",
                        .service = "push",
                        .origin = &origin,
                        .ontvanger_type = "GEMEENTE",
                        .ontvanger_code = "GM0502"};
    char *dlv;
    size_t dllen;
    rd_kafka_headers_t *h;
    ck_assert_int_eq(kh_deadletter_build(schemas, &dl, &dlv, &dllen, &h, err, sizeof err), 0);
    rd_kafka_headers_destroy(h);
    feed(m, topics[2], 0, 7, dlv, dllen, now);

    json_t *o = watch_model_overview(m, now), *d = watch_model_deadletters(m, now),
           *g = watch_model_region(m, 0, NULL, NULL);
    char *all[3] = {json_dumps(o, JSON_COMPACT), json_dumps(d, JSON_COMPACT),
                    json_dumps(g, JSON_COMPACT)};
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(!strstr(all[i], RAW_BSN), "BSN in view %d", i);
        ck_assert_msg(!strstr(all[i], "2014-05-17"), "birth date in view %d", i);
        ck_assert_msg(!strstr(all[i], "Capelle aan den IJssel"), "melding text in view %d", i);
    }
    ck_assert_ptr_nonnull(strstr(all[0], "\"key\":\"aanmelding:GEPLAATST\""));
    ck_assert_ptr_nonnull(strstr(all[0], "\"key\":\"SCHOOL\""));
    ck_assert_ptr_nonnull(strstr(all[0], "\"key\":\"ONDERWIJS_BUITEN_WOONGEMEENTE\",\"rate\":"));
    ck_assert_ptr_nonnull(strstr(all[0], "\"partner\":\"GEMEENTE:GM0502\""));
    ck_assert_ptr_nonnull(strstr(all[1], "\"reason_code\":\"DELIVERY_REJECTED\""));
    ck_assert_ptr_nonnull(strstr(all[1], "\"redrivable\":true"));
    ck_assert_ptr_nonnull(strstr(all[2], "{\"a\":\"GM0502\",\"b\":\"GM0599\",\"aantal\":\"< 5\"}"));
    char partner[48], reason[48];
    ck_assert_int_eq(watch_model_deadletter(m, 0, 7, partner, sizeof partner, reason,
                                            sizeof reason),
                     0);
    ck_assert_str_eq(partner, "GEMEENTE:GM0502");
    ck_assert_int_eq(watch_model_deadletter(m, 0, 8, partner, sizeof partner, reason,
                                            sizeof reason),
                     -1);
    for (int i = 0; i < 3; i++)
        free(all[i]);
    json_decref(o);
    json_decref(d);
    json_decref(g);
    free(dlv);
    free(event);
    free(melding);
    free(text);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    watch_model_free(m);
    kh_schemas_free(schemas);
}
END_TEST

int main(void) {
    Suite *s = suite_create("watch_model");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, records_become_counts_without_the_child);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
