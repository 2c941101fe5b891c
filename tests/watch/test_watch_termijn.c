/*
 * test_watch_termijn — termijn's state topic in the watch: open termijnen,
 * overdue by the date (also at midnight without a record), a paused termijn
 * not overdue, a tombstone removing the child, unreadable records counted
 * per reason, the disclosure rule on the view (cells, totals, filters), no
 * BSN, birth date, school or case id in any output, and the memory per
 * child at 300,000 children.
 */
#include "kh_ref.h"
#include "kh_time.h"
#include "testlib.h"
#include "watch_model.h"
#include "watch_termijn.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BSN "111222333"
#define GEB 16572 /* 2015-05-17 */
#define GEB_TEXT "2015-05-17"

static kh_ref *ref;
static int32_t today;

static void setup(void) {
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/deploy/reference", kh_test_source_dir());
    ck_assert_msg(kh_ref_load(dir, &ref, err, sizeof err) == 0, "%s", err);
    today = kh_date_from_ymd(2026, 11, 30);
}

static void teardown(void) { kh_ref_free(ref); }

/* A version 1 dossier of one child living in woon with one termijn of
 * regel due at `due`, paused or not, soort s (onderwijssoort or ""). */
static char *dossier(const char *woon, const char *regel, int32_t due, int paused, const char *s) {
    char *v = malloc(1024);
    char p[16] = "null";
    if (paused)
        snprintf(p, sizeof p, "%d", due - 10);
    snprintf(v, 1024,
             "{\"v\":1,\"bsn\":\"" BSN "\",\"geb\":%d,\"woon\":\"%s\",\"school\":\"12AB00\","
             "\"t\":[{\"r\":\"%s\",\"z\":\"zaak-geheim-42\",\"b\":\"SCHOOL:12AB00\",\"g\":%d,"
             "\"v\":[%d,%d],\"n\":2,\"f\":0,\"p\":%s,\"e\":null,\"k\":%d,\"o\":\"12AB00\","
             "\"o2\":\"PO2801\",\"s\":\"%s\",\"st\":\"\",\"c\":[0,3,17,"
             "\"6f1c2a3e-0000-4000-8000-00000000abcd\",1790000000000],\"nieuw\":true}]}",
             GEB, woon, regel, due - 42, due, due + 28, p, due + 400, s);
    return v;
}

static int feed(watch_termijn *w, const char *key, const char *value) {
    return watch_termijn_record(w, key, strlen(key), value, value ? strlen(value) : 0, ref, today);
}

static void feed_dossier(watch_termijn *w, const char *key, const char *woon, const char *regel,
                         int32_t due, int paused, const char *s) {
    char *v = dossier(woon, regel, due, paused, s);
    ck_assert_int_eq(feed(w, key, v), 0);
    free(v);
}

static void totals(const watch_termijn *w, int32_t day, int regel, int64_t *open,
                   int64_t *verlopen) {
    int64_t o[WATCH_TERMIJN_REGELS], v[WATCH_TERMIJN_REGELS];
    watch_termijn_totalen(w, day, o, v);
    *open = o[regel];
    *verlopen = v[regel];
}

START_TEST(open_overdue_by_date_and_paused) {
    watch_termijn *w = watch_termijn_new(100);
    feed_dossier(w, "kind-a", "GM0599", "ZORGPLICHT_TERMIJN_VERSTREKEN", today + 1, 0, "PO");
    feed_dossier(w, "kind-b", "GM0599", "ZORGPLICHT_TERMIJN_VERSTREKEN", today, 0, "PO");
    feed_dossier(w, "kind-c", "GM0599", "ZORGPLICHT_TERMIJN_VERSTREKEN", today - 30, 1, "PO");
    int64_t open, verlopen;
    totals(w, today, 0, &open, &verlopen);
    ck_assert_int_eq(open, 3);
    ck_assert_int_eq(verlopen, 1); /* b: due today; c is paused; a is due tomorrow */
    /* Midnight: a becomes overdue without any record arriving. */
    totals(w, today + 1, 0, &open, &verlopen);
    ck_assert_int_eq(verlopen, 2);
    totals(w, today - 1, 0, &open, &verlopen);
    ck_assert_int_eq(verlopen, 0);
    /* A new state of a child replaces the old one: c's pause ended. */
    feed_dossier(w, "kind-c", "GM0599", "ZORGPLICHT_TERMIJN_VERSTREKEN", today - 30, 0, "PO");
    totals(w, today, 0, &open, &verlopen);
    ck_assert_int_eq(open, 3);
    ck_assert_int_eq(verlopen, 2);
    watch_termijn_telling t;
    watch_termijn_tellingen(w, &t);
    ck_assert_uint_eq(t.kinderen, 3);
    ck_assert_uint_eq(t.termijnen, 3);
    watch_termijn_free(w);
}
END_TEST

START_TEST(tombstone_and_empty_dossier_remove_the_child) {
    watch_termijn *w = watch_termijn_new(100);
    feed_dossier(w, "kind-a", "GM0599", "DREIGENDE_THUISZITTER", today - 1, 0, "VO");
    feed_dossier(w, "kind-b", "GM0599", "DREIGENDE_THUISZITTER", today - 1, 0, "VO");
    ck_assert_int_eq(feed(w, "kind-a", NULL), 0);
    ck_assert_int_eq(feed(w, "kind-b", "{\"v\":1,\"t\":[]}"), 0);
    ck_assert_int_eq(feed(w, "kind-z", NULL), 0); /* unknown child: nothing to do */
    int64_t open, verlopen;
    totals(w, today, 1, &open, &verlopen);
    ck_assert_int_eq(open, 0);
    watch_termijn_telling t;
    watch_termijn_tellingen(w, &t);
    ck_assert_uint_eq(t.kinderen, 0);
    ck_assert_uint_eq(t.termijnen, 0);
    watch_termijn_free(w);
}
END_TEST

/* Each unusable record is counted under its reason and drops the child's
 * earlier state; the reader goes on. */
static const struct {
    const char *value;
    int reason; /* 0 json, 1 versie, 2 vorm, 3 onbekende_regel (record used) */
} UNUSABLE[] = {
    {"{not json", 0},
    {"{\"v\":2,\"t\":[]}", 1},
    {"{\"t\":[]}", 1},
    {"[1,2]", 2},
    {"{\"v\":\"1\",\"t\":[]}", 2},
    {"{\"v\":1}", 2},
    {"{\"v\":1,\"t\":[{\"v\":[1,2]}]}", 2},
    {"{\"v\":1,\"t\":[{\"r\":\"ZORGPLICHT_TERMIJN_VERSTREKEN\",\"v\":\"morgen\"}]}", 2},
    {"{\"v\":1,\"t\":[{\"r\":\"ZORGPLICHT_TERMIJN_VERSTREKEN\",\"v\":[1],\"p\":\"ja\"}]}", 2},
    {"{\"v\":1,\"t\":[{\"r\":\"NIEUWE_REGEL\",\"v\":[1,2]}]}", 3},
};

START_TEST(unreadable_records_are_counted_and_skipped) {
    watch_termijn *w = watch_termijn_new(100);
    uint64_t expect[4] = {0};
    for (size_t i = 0; i < sizeof UNUSABLE / sizeof UNUSABLE[0]; i++) {
        feed_dossier(w, "kind-a", "GM0599", "VERWIJZING_ZONDER_BESLUIT", today + 3, 0, "");
        ck_assert_int_eq(feed(w, "kind-a", UNUSABLE[i].value), UNUSABLE[i].reason == 3 ? 0 : -1);
        expect[UNUSABLE[i].reason]++;
        int64_t open, verlopen;
        totals(w, today, 5, &open, &verlopen);
        ck_assert_msg(open == 0, "case %zu: the earlier state stays", i);
    }
    /* A known and an unknown regel in one dossier: the known one counts. */
    ck_assert_int_eq(feed(w, "kind-b",
                          "{\"v\":1,\"woon\":\"GM0599\",\"t\":[{\"r\":\"NIEUW\",\"v\":[1]},"
                          "{\"r\":\"VERWIJZING_ZONDER_BESLUIT\",\"v\":[1],\"p\":null}]}"),
                     0);
    expect[3]++;
    ck_assert_int_eq(watch_termijn_record(w, "", 0, "{\"v\":1,\"t\":[]}", 14, ref, today), -1);
    expect[2]++; /* no key */
    watch_termijn_telling t;
    watch_termijn_tellingen(w, &t);
    ck_assert_uint_eq(t.json, expect[0]);
    ck_assert_uint_eq(t.versie, expect[1]);
    ck_assert_uint_eq(t.vorm, expect[2]);
    ck_assert_uint_eq(t.onbekende_regel, expect[3]);
    ck_assert_uint_eq(t.kinderen, 1);
    json_t *j = watch_termijn_table(w, WATCH_INDELING_JEUGDREGIO, NULL, NULL, today);
    char *text = json_dumps(j, JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(text, "\"niet_gelezen\":{\"json\":1,\"versie\":2,\"vorm\":7,"
                                       "\"onbekende_regel\":2,\"vol\":0}"));
    free(text);
    json_decref(j);
    watch_termijn_free(w);
}
END_TEST

/* The shown value of regel r, region code in table j ("" for the total). */
static const char *cell(json_t *j, int r, const char *code, const char *what) {
    json_t *g = json_array_get(json_object_get(j, "regels"), (size_t)r);
    if (!*code)
        return json_string_value(json_object_get(g, what));
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(g, "rijen"), i, x) {
        if (!strcmp(json_string_value(json_object_get(x, "regio")), code))
            return json_string_value(json_object_get(x, what));
    }
    return NULL;
}

/* Rotterdam (JZ29): 7 PO zorgplicht termijnen, 3 overdue; Amsterdam
 * (JZ13): 3 VO, none overdue; a woonplaats not in the reference data: 1;
 * and one beschikking termijn (no sector) in Rotterdam. */
static watch_termijn *view_fixture(void) {
    watch_termijn *w = watch_termijn_new(100);
    char key[32];
    for (int i = 0; i < 7; i++) {
        snprintf(key, sizeof key, "rdam-%d", i);
        feed_dossier(w, key, "GM0599", "ZORGPLICHT_TERMIJN_VERSTREKEN",
                     i < 3 ? today - i : today + 5, 0, "SBO");
    }
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "adam-%d", i);
        feed_dossier(w, key, "GM0363", "ZORGPLICHT_TERMIJN_VERSTREKEN", today + 5, 0, "VO");
    }
    feed_dossier(w, "nergens", "GM9999", "ZORGPLICHT_TERMIJN_VERSTREKEN", today + 5, 0, "PO");
    feed_dossier(w, "jeugdhulp", "GM0599", "BESCHIKKING_EINDDATUM_NADERT", today - 1, 0, "");
    return w;
}

START_TEST(view_rounds_and_suppresses) {
    watch_termijn *w = view_fixture();
    json_t *j = watch_termijn_table(w, WATCH_INDELING_JEUGDREGIO, NULL, NULL, today);
    ck_assert_str_eq(cell(j, 0, "JZ29", "open"), "5");
    ck_assert_str_eq(cell(j, 0, "JZ29", "verlopen"), "< 5");
    ck_assert_str_eq(cell(j, 0, "JZ13", "open"), "< 5");
    ck_assert_str_eq(cell(j, 0, "JZ13", "verlopen"), "0");
    ck_assert_str_eq(cell(j, 0, "onbekend", "open"), "< 5");
    /* The total is the rounded true total (11 -> 10), not 5 + "< 5" + "< 5". */
    ck_assert_str_eq(cell(j, 0, "", "open"), "10");
    ck_assert_str_eq(cell(j, 0, "", "verlopen"), "< 5");
    ck_assert_str_eq(cell(j, 4, "", "open"), "< 5");
    ck_assert_str_eq(cell(j, 1, "", "open"), "0"); /* every regel listed */
    ck_assert_str_eq(json_string_value(json_object_get(j, "peildatum")), "2026-11-30");
    json_decref(j);
    char *csv = watch_termijn_csv(w, WATCH_INDELING_JEUGDREGIO, NULL, NULL, today);
    ck_assert_ptr_nonnull(strstr(csv, "regel,indeling,regio,open,verlopen\n"
                                      "ZORGPLICHT_TERMIJN_VERSTREKEN,jeugdregio,JZ13,< 5,0\n"
                                      "ZORGPLICHT_TERMIJN_VERSTREKEN,jeugdregio,JZ29,5,< 5\n"
                                      "ZORGPLICHT_TERMIJN_VERSTREKEN,jeugdregio,onbekend,< 5,0\n"
                                      "ZORGPLICHT_TERMIJN_VERSTREKEN,jeugdregio,totaal,10,< 5\n"
                                      "DREIGENDE_THUISZITTER,jeugdregio,totaal,0,0\n"));
    free(csv);
    watch_termijn_free(w);
}
END_TEST

START_TEST(view_by_swv_and_filters) {
    watch_termijn *w = view_fixture();
    /* SWV of the woonplaats by sector; jeugdhulp has none ("-"). */
    const kh_ref_gemeente *rdam = kh_ref_gemeente_at(ref, "GM0599", today),
                          *adam = kh_ref_gemeente_at(ref, "GM0363", today);
    json_t *j = watch_termijn_table(w, WATCH_INDELING_SWV, NULL, NULL, today);
    ck_assert_str_eq(cell(j, 0, rdam->swv_po, "open"), "5");
    ck_assert_str_eq(cell(j, 0, adam->swv_vo, "open"), "< 5");
    ck_assert_ptr_null(cell(j, 0, adam->swv_po, "open"));
    ck_assert_str_eq(cell(j, 4, "-", "open"), "< 5");
    json_decref(j);
    /* Filters: only children living in the region. */
    j = watch_termijn_table(w, WATCH_INDELING_JEUGDREGIO, "JZ13", NULL, today);
    ck_assert_ptr_null(cell(j, 0, "JZ29", "open"));
    ck_assert_str_eq(cell(j, 0, "", "open"), "< 5");
    json_decref(j);
    j = watch_termijn_table(w, WATCH_INDELING_SWV, NULL, rdam->swv_vo, today);
    ck_assert_str_eq(cell(j, 0, rdam->swv_po, "open"), "5");
    ck_assert_str_eq(cell(j, 4, "-", "open"), "< 5");
    ck_assert_ptr_null(cell(j, 0, adam->swv_vo, "open"));
    json_decref(j);
    watch_termijn_free(w);
}
END_TEST

static void no_child_in(const char *text, const char *what) {
    ck_assert_msg(!strstr(text, BSN), "BSN in %s", what);
    ck_assert_msg(!strstr(text, GEB_TEXT) && !strstr(text, "16572"), "birth date in %s", what);
    ck_assert_msg(!strstr(text, "12AB00"), "school in %s", what);
    ck_assert_msg(!strstr(text, "zaak-geheim-42") && !strstr(text, "6f1c2a3e"), "case in %s", what);
    ck_assert_msg(!strstr(text, "kind-"), "pseudonym in %s", what);
}

static void collect_termijn(void *ud, const char *regel, int64_t open, int64_t verlopen) {
    char line[128];
    snprintf(line, sizeof line, "%s %lld %lld\n", regel, (long long)open, (long long)verlopen);
    strcat(ud, line);
}

static void collect_niet(void *ud, const char *reden, uint64_t n) {
    char line[128];
    snprintf(line, sizeof line, "%s %llu\n", reden, (unsigned long long)n);
    strcat(ud, line);
}

static void no_lag(void *ud, const char *g, const char *t, int p, int64_t r) {
    (void)ud, (void)g, (void)t, (void)p, (void)r;
}
static void no_group(void *ud, const char *g, const char *s, watch_status st, int64_t l, double a) {
    (void)ud, (void)g, (void)s, (void)st, (void)l, (void)a;
}
static void no_partner(void *ud, const char *p, size_t n, double o) {
    (void)ud, (void)p, (void)n, (void)o;
}
static void no_topic(void *ud, const char *t, double n) { (void)ud, (void)t, (void)n; }

/* Through the model, as the Kafka side feeds it: every view, the CSV and
 * the gauges' input carry no BSN, birth date, school, case or pseudonym. */
START_TEST(no_child_data_in_any_output) {
    const char *topics[] = {WATCH_TERMIJN_TOPIC};
    const char *services[] = {"termijn"}, *groups[] = {"ketenhub-termijn"};
    watch_limits lim = {64, 100, 100, 3, 300000, 300000, 1000};
    watch_model *m = watch_model_new(&lim, topics, 1, services, groups, 1, NULL);
    watch_model_set_ref(m, ref);
    int64_t now = 1796000000000LL; /* 2026-11-30 */
    char key[32];
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, "kind-%d", i);
        char *v = dossier("GM0599", "TLV_EINDDATUM_NADERT", today - 2, 0, "SO");
        watch_input in = {topics[0], 0, i, now, v, strlen(v), key, strlen(key)};
        watch_model_record(m, &in, now);
        free(v);
    }
    json_t *views[] = {watch_model_termijnen(m, WATCH_INDELING_JEUGDREGIO, NULL, NULL, now),
                       watch_model_termijnen(m, WATCH_INDELING_SWV, NULL, NULL, now),
                       watch_model_overview(m, now)};
    for (size_t i = 0; i < 3; i++) {
        char *text = json_dumps(views[i], JSON_COMPACT);
        no_child_in(text, "a JSON view");
        if (i == 0)
            ck_assert_ptr_nonnull(strstr(text, "{\"open\":\"5\",\"verlopen\":\"5\",\"regio\":"
                                               "\"JZ29\"}"));
        free(text);
        json_decref(views[i]);
    }
    for (int ind = 0; ind < WATCH_INDELING_COUNT; ind++) {
        char *csv = watch_model_termijnen_csv(m, ind, NULL, NULL, now);
        no_child_in(csv, "the CSV");
        free(csv);
    }
    static char gauges[4096];
    gauges[0] = 0;
    watch_gauges g = {no_lag,          no_group,     no_partner, no_topic,
                      collect_termijn, collect_niet, gauges};
    watch_model_gauges(m, &g, now);
    no_child_in(gauges, "the gauges");
    ck_assert_ptr_nonnull(strstr(gauges, "TLV_EINDDATUM_NADERT 6 6\n"));
    ck_assert_ptr_nonnull(strstr(gauges, "versie 0\n"));
    watch_model_free(m);
}
END_TEST

/* Nationally a few hundred thousand open cases: 300,000 children with one
 * termijn each, and 30,000 of them with three. */
START_TEST(memory_per_child_is_small) {
    watch_termijn *w = watch_termijn_new(1000000);
    const char *woon[] = {"GM0599", "GM0363", "GM0502", "GM0450"};
    char key[32], v[512];
    for (int i = 0; i < 300000; i++) {
        snprintf(key, sizeof key, "pseudoniem-%08d", i);
        int drie = i % 10 == 0;
        snprintf(v, sizeof v,
                 "{\"v\":1,\"woon\":\"%s\",\"t\":[{\"r\":\"DREIGENDE_THUISZITTER\",\"v\":[%d,%d],"
                 "\"p\":null,\"s\":\"VO\"}%s]}",
                 woon[i % 4], today - i % 90, today,
                 drie ? ",{\"r\":\"TLV_EINDDATUM_NADERT\",\"v\":[1,1]},"
                        "{\"r\":\"VERWIJZING_ZONDER_BESLUIT\",\"v\":[2,3]}"
                      : "");
        ck_assert_int_eq(watch_termijn_record(w, key, strlen(key), v, strlen(v), ref, today), 0);
    }
    watch_termijn_telling t;
    watch_termijn_tellingen(w, &t);
    ck_assert_uint_eq(t.kinderen, 300000);
    ck_assert_uint_eq(t.termijnen, 360000);
    double per_child = (double)watch_termijn_bytes(w) / 300000.0;
    printf("watch_termijn: 300000 children, 360000 termijnen: %zu bytes, %.1f bytes per child\n",
           watch_termijn_bytes(w), per_child);
    ck_assert_msg(per_child < 48, "%.1f bytes per child", per_child);
    /* The bound: past max_children a new child is counted, not kept. */
    watch_termijn *small = watch_termijn_new(2);
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "k%d", i);
        watch_termijn_record(small, key, strlen(key), v, strlen(v), ref, today);
    }
    watch_termijn_tellingen(small, &t);
    ck_assert_uint_eq(t.kinderen, 2);
    ck_assert_uint_eq(t.vol, 1);
    watch_termijn_free(small);
    watch_termijn_free(w);
}
END_TEST

int main(void) {
    Suite *s = suite_create("watch_termijn");
    TCase *tc = tcase_create("termijn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, open_overdue_by_date_and_paused);
    tcase_add_test(tc, tombstone_and_empty_dossier_remove_the_child);
    tcase_add_test(tc, unreadable_records_are_counted_and_skipped);
    tcase_add_test(tc, view_rounds_and_suppresses);
    tcase_add_test(tc, view_by_swv_and_filters);
    tcase_add_test(tc, no_child_data_in_any_output);
    tcase_add_test(tc, memory_per_child_is_small);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
