/*
 * test_watch_termijn — termijn's state topic in the watch: open termijnen,
 * overdue by the date (also at midnight without a record), a paused termijn
 * not overdue, a tombstone removing the child, unreadable records counted
 * per reason, the disclosure rule on the view (cells, totals, filters), no
 * BSN, birth date, school or case id in any output, and the memory per
 * child at 300,000 children. And the contract with ketenhub-termijn: state
 * records made by termijn's own code (termijn_apply, termijn_tick,
 * termijn_state_encode) read day by day, with termijn's own tick as the
 * oracle for what is overdue.
 */
#include "kh_kalender.h"
#include "kh_ref.h"
#include "kh_time.h"
#include "termijn_afspraak.h"
#include "termijn_core.h"
#include "termijn_state.h"
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

/* ---- The contract with termijn: its own dossiers, its own encoder ------------ */

/* Children in two jeugdregio's (Rotterdam, without a regional aanbod
 * afspraak, and Alkmaar, with one), each with a termijn of every regel made
 * by termijn_apply from events; the oracle for "overdue" is termijn_tick. */
#define CONTRACT_REGIOS 2
#define CONTRACT_PER_REGIO 7
#define CONTRACT_KINDEREN (CONTRACT_REGIOS * CONTRACT_PER_REGIO + 1) /* + one closed again */

static const char *const CONTRACT_WOON[CONTRACT_REGIOS] = {"GM0599", "GM0361"};

static kh_kalender *kal;
static termijn_afspraken *afs;
static termijn_ctx ctx;
static termijn_uit uit; /* large: static */

typedef struct contract_kind {
    char key[32];
    const char *woon;
    int nr; /* within its region; -1: the child whose dossier is closed again */
    termijn_dossier d;
} contract_kind;

static void contract_setup(void) {
    char dir[512], err[512];
    setup();
    snprintf(dir, sizeof dir, "%s/deploy/reference", kh_test_source_dir());
    ck_assert_msg(kh_kalender_load(dir, &kal, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(termijn_afspraken_load(dir, &afs, err, sizeof err) == 0, "%s", err);
    ctx = (termijn_ctx){ref, kal, afs};
}

static void contract_teardown(void) {
    kh_kalender_free(kal);
    termijn_afspraken_free(afs);
    teardown();
}

#define SET(field, value) snprintf((field), sizeof(field), "%s", (value))

/* An event of child k as termijn_event reads it from a record. */
static termijn_event contract_event(const contract_kind *k, termijn_kind kind, const char *id,
                                    const char *status, int32_t datum) {
    termijn_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.oorzaak.kind = (uint8_t)kind;
    SET(ev.oorzaak.event_id, "6f1c2a3e-0000-4000-8000-00000000abcd");
    SET(ev.bron, "SCHOOL:12AB00");
    SET(ev.bsn, BSN);
    ev.geboortedatum = GEB;
    SET(ev.woonplaats, k->woon);
    SET(ev.status, status);
    SET(ev.id, id);
    ev.datum = ev.handeling = datum;
    ev.einddatum = ev.informatie_opgevraagd = ev.informatie_ontvangen = TERMIJN_GEEN_DATUM;
    SET(ev.soort, "ONDERWIJS");
    SET(ev.onderwijssoort, "PO");
    ev.ondersteuningsbehoefte = 1;
    SET(ev.naar_type, "AANBIEDER");
    SET(ev.naar_code, "98000000");
    SET(ev.domein, "JEUGDHULP");
    SET(ev.verwijzer_type, "HUISARTS");
    SET(ev.gemeente, k->woon);
    SET(ev.aanbieder, "98000000");
    SET(ev.swv, "PO2803");
    SET(ev.tlv_soort, "SO");
    SET(ev.aanvragende_school, "12AB00");
    return ev;
}

/* As termijn's loop does with a record: apply, tick on the day, and when
 * the dossier changed write its value (a tombstone once it is empty) to
 * the state topic, which the watch reads. */
static void contract_apply(watch_termijn *w, contract_kind *k, const termijn_event *ev) {
    int existed = !termijn_dossier_leeg(&k->d);
    memset(&uit, 0, sizeof uit);
    ck_assert_int_eq(termijn_apply(&k->d, ev, &ctx, &uit), 0);
    int changed = uit.gewijzigd, more;
    do {
        uit.n = 0;
        uit.gewijzigd = 0;
        more = termijn_tick(&k->d, ev->datum, &ctx, &uit);
        changed |= uit.gewijzigd;
    } while (more);
    if (!changed || (!existed && termijn_dossier_leeg(&k->d)))
        return;
    size_t len = 0;
    char *v = termijn_dossier_leeg(&k->d) ? NULL : termijn_state_encode(&k->d, &len);
    ck_assert_msg(termijn_dossier_leeg(&k->d) || v, "encoding a dossier");
    ck_assert_int_eq(watch_termijn_record(w, k->key, strlen(k->key), v, len, ref, ev->datum), 0);
    free(v);
}

static int32_t contract_start(const contract_kind *k) {
    return kh_date_from_ymd(2026, 3, 2) + (k->nr < 0 ? 0 : k->nr % 3);
}

static const termijn *contract_zorgplicht(const termijn_dossier *d) {
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i].regel == TERMIJN_ZORGPLICHT)
            return &d->t[i];
    ck_abort_msg("no zorgplicht termijn");
    return NULL;
}

/* The events of child k dated `day`, in the order termijn receives them. */
static void contract_events_on(watch_termijn *w, contract_kind *k, int32_t day) {
    int32_t d0 = contract_start(k);
    termijn_event ev;
    if (k->nr < 0) { /* a beschikking granted, then ended: the dossier is empty again */
        ev = contract_event(k, TERMIJN_EV_BESCHIKKING, "B-X", day == d0 ? "TOEGEKEND" : "BEEINDIGD",
                            day);
        ev.einddatum = kh_date_from_ymd(2026, 12, 31);
        if (day == d0 || day == d0 + 7)
            contract_apply(w, k, &ev);
        return;
    }
    if (day == d0) {
        ev = contract_event(k, TERMIJN_EV_AANMELDING, "A-Z", "INGEDIEND", day);
        SET(ev.bij, "12OA00");
        contract_apply(w, k, &ev); /* zorgplicht */
        ev = contract_event(k, TERMIJN_EV_AANMELDING, "A-D", "AFGEWEZEN", day);
        SET(ev.bij, "10AA00");
        contract_apply(w, k, &ev); /* dreigende thuiszitter; in Alkmaar zonder aanbod too */
        ev = contract_event(k, TERMIJN_EV_TLV, "T-1", "AFGEGEVEN", day);
        ev.einddatum = kh_date_from_ymd(2026, 8, 20) + 2 * k->nr;
        contract_apply(w, k, &ev);
        ev = contract_event(k, TERMIJN_EV_BESCHIKKING, "B-1", "TOEGEKEND", day);
        ev.einddatum = kh_date_from_ymd(2026, 7, 20) + 2 * k->nr;
        contract_apply(w, k, &ev);
        ev = contract_event(k, TERMIJN_EV_VERWIJZING, "V-1", "", day);
        contract_apply(w, k, &ev);
    }
    ev = contract_event(k, TERMIJN_EV_AANMELDING, "A-Z", "IN_BEHANDELING", day);
    SET(ev.bij, "12OA00");
    if (k->nr % 3 == 0 && day == d0 + 3) { /* paused, for good */
        ev.informatie_opgevraagd = day;
        contract_apply(w, k, &ev);
    } else if (k->nr == 1 && (day == d0 + 2 || day == d0 + 9)) { /* paused and resumed */
        ev.informatie_opgevraagd = d0 + 2;
        ev.informatie_ontvangen = day == d0 + 9 ? day : TERMIJN_GEEN_DATUM;
        contract_apply(w, k, &ev);
    } else if (k->nr == 2 && !strcmp(k->woon, "GM0599") && day == kh_date_from_ymd(2026, 4, 20)) {
        ev.informatie_opgevraagd = day; /* after the 6 weeks ran out: only the 10 weeks wait */
        ck_assert_int_gt(day, contract_zorgplicht(&k->d)->vervalt[0]);
        contract_apply(w, k, &ev);
    } else if (k->nr == 4 && day == d0 + 5) { /* placed: zorgplicht and thuiszitter close */
        SET(ev.status, "GEPLAATST");
        contract_apply(w, k, &ev);
    }
}

/* The onderwijssector of a termijn's soort, as the watch README documents
 * it for indeling=swv: PO, SBO, SO to the SWV PO; VO, VSO, PRO to the SWV
 * VO; anything else (jeugdhulp, MBO) has none. */
enum { CONTRACT_GEEN, CONTRACT_PO, CONTRACT_VO, CONTRACT_SECTOREN };

static int contract_sector(const char *soort) {
    static const char *const po[] = {"PO", "SBO", "SO"}, *const vo[] = {"VO", "VSO", "PRO"};
    for (size_t i = 0; i < 3; i++) {
        if (!strcmp(soort, po[i]))
            return CONTRACT_PO;
        if (!strcmp(soort, vo[i]))
            return CONTRACT_VO;
    }
    return CONTRACT_GEEN;
}

/* What termijn says on a day, per region, sector and regel: the termijnen
 * open, and those whose first melding is due (fired already, or firing
 * when the clock reaches the day). */
typedef struct contract_telling {
    int64_t open[CONTRACT_REGIOS][CONTRACT_SECTOREN][TERMIJN_REGELS];
    int64_t verlopen[CONTRACT_REGIOS][CONTRACT_SECTOREN][TERMIJN_REGELS];
} contract_telling;

/* Adds dossier d of a child in region g, from a copy ticked to the day. */
static void contract_oracle(const termijn_dossier *d, int g, int32_t day, contract_telling *e) {
    termijn_dossier c = *d;
    c.t = NULL;
    c.n = c.cap = 0;
    for (size_t i = 0; i < d->n; i++)
        ck_assert_int_eq(termijn_dossier_add(&c, &d->t[i]), 0);
    do
        uit.n = 0;
    while (termijn_tick(&c, day, &ctx, &uit) == 1);
    ck_assert_msg(c.n == d->n, "the scenario keeps every termijn until its end");
    for (size_t i = 0; i < c.n; i++) {
        int s = contract_sector(c.t[i].soort);
        e->open[g][s][c.t[i].regel]++;
        e->verlopen[g][s][c.t[i].regel] += c.t[i].gevuurd & 1u;
    }
    termijn_dossier_free(&c);
}

static void contract_expect(contract_kind *kinderen, int32_t day, contract_telling *e) {
    memset(e, 0, sizeof *e);
    for (int i = 0; i < CONTRACT_KINDEREN; i++)
        contract_oracle(&kinderen[i].d, strcmp(kinderen[i].woon, CONTRACT_WOON[0]) ? 1 : 0, day, e);
}

/* National totals of regel tr. */
static void contract_totaal(const contract_telling *e, int tr, int64_t *open, int64_t *verlopen) {
    *open = *verlopen = 0;
    for (int g = 0; g < CONTRACT_REGIOS; g++)
        for (int s = 0; s < CONTRACT_SECTOREN; s++) {
            *open += e->open[g][s][tr];
            *verlopen += e->verlopen[g][s][tr];
        }
}

/* The shown value by the documented rule: 0, "< 5", or down to a multiple of 5. */
static const char *contract_shown(int64_t n, char *buf) {
    if (n > 0 && n < 5)
        return "< 5";
    snprintf(buf, 24, "%lld", (long long)(n - n % 5));
    return buf;
}

typedef struct contract_rij {
    const char *code;
    int64_t open, verlopen;
} contract_rij;

/* The row of region g's termijnen of sector s in indeling ind. */
static const char *contract_code(int g, int s, watch_indeling ind, int32_t day) {
    const kh_ref_gemeente *gm = kh_ref_gemeente_at(ref, CONTRACT_WOON[g], day);
    if (ind == WATCH_INDELING_JEUGDREGIO)
        return gm->jeugdregio;
    return s == CONTRACT_PO ? gm->swv_po : s == CONTRACT_VO ? gm->swv_vo : "-";
}

/* Regel r's rows of the table j against termijn's counts of regel tr. */
static void contract_rows(json_t *j, int r, int tr, const contract_telling *e, watch_indeling ind,
                          int32_t day) {
    contract_rij rs[CONTRACT_REGIOS * CONTRACT_SECTOREN];
    size_t n = 0;
    for (int g = 0; g < CONTRACT_REGIOS; g++)
        for (int s = 0; s < CONTRACT_SECTOREN; s++) {
            const char *code = contract_code(g, s, ind, day);
            size_t i = 0;
            while (i < n && strcmp(rs[i].code, code))
                i++;
            if (i == n)
                rs[n++] = (contract_rij){code, 0, 0};
            rs[i].open += e->open[g][s][tr];
            rs[i].verlopen += e->verlopen[g][s][tr];
        }
    char a[24], b[24];
    for (size_t i = 0; i < n; i++) {
        const char *got_open = cell(j, r, rs[i].code, "open");
        const char *got_verl = cell(j, r, rs[i].code, "verlopen");
        ck_assert_msg(rs[i].open ? got_open && got_verl : !got_open,
                      "day %d, %s, %s %s: %lld open, a row %s", day, watch_termijn_regel(r),
                      watch_indeling_name(ind), rs[i].code, (long long)rs[i].open,
                      got_open ? "shown" : "missing");
        if (rs[i].open) {
            ck_assert_str_eq(got_open, contract_shown(rs[i].open, a));
            ck_assert_str_eq(got_verl, contract_shown(rs[i].verlopen, b));
        }
    }
}

/* The watch's totals and both tables on `day` against termijn's own. */
static void contract_check(const watch_termijn *w, contract_kind *kinderen, int32_t day,
                           contract_telling *e) {
    char a[24], b[24];
    contract_expect(kinderen, day, e);
    int64_t open[WATCH_TERMIJN_REGELS], verlopen[WATCH_TERMIJN_REGELS];
    watch_termijn_totalen(w, day, open, verlopen);
    for (int ind = 0; ind < WATCH_INDELING_COUNT; ind++) {
        json_t *j = watch_termijn_table(w, (watch_indeling)ind, NULL, NULL, day);
        for (int r = 0; r < WATCH_TERMIJN_REGELS; r++) {
            termijn_regel tr = termijn_regel_by_naam(watch_termijn_regel(r));
            ck_assert_msg(tr != TERMIJN_REGELS, "termijn knows %s", watch_termijn_regel(r));
            int64_t o, v;
            contract_totaal(e, tr, &o, &v);
            ck_assert_msg(open[r] == o && verlopen[r] == v,
                          "day %d, %s: watch %lld open %lld verlopen, termijn %lld and %lld", day,
                          watch_termijn_regel(r), (long long)open[r], (long long)verlopen[r],
                          (long long)o, (long long)v);
            contract_rows(j, r, tr, e, (watch_indeling)ind, day);
            ck_assert_str_eq(cell(j, r, "", "open"), contract_shown(o, a));
            ck_assert_str_eq(cell(j, r, "", "verlopen"), contract_shown(v, b));
        }
        json_decref(j);
    }
}

static void contract_kinderen(contract_kind *kinderen) {
    memset(kinderen, 0, CONTRACT_KINDEREN * sizeof *kinderen);
    for (int i = 0; i < CONTRACT_KINDEREN; i++) {
        contract_kind *k = &kinderen[i];
        int last = i == CONTRACT_KINDEREN - 1;
        k->woon = last ? CONTRACT_WOON[1] : CONTRACT_WOON[i / CONTRACT_PER_REGIO];
        k->nr = last ? -1 : i % CONTRACT_PER_REGIO;
        snprintf(k->key, sizeof k->key, "pseudoniem-%s-%d", k->woon, k->nr);
    }
}

/* Day by day from the first event to mid July, as termijn's loop would
 * have written its state topic: on every day the watch's numbers are
 * termijn's. Before the first due date nothing is overdue; by the end
 * every regel has crossed its due dates. */
START_TEST(termijn_state_as_termijn_writes_it) {
    static contract_kind kinderen[CONTRACT_KINDEREN];
    contract_kinderen(kinderen);
    watch_termijn *w = watch_termijn_new(100);
    int32_t first = kh_date_from_ymd(2026, 3, 2), last = kh_date_from_ymd(2026, 7, 15);
    int32_t eerste_vervaldag = INT32_MAX;
    int64_t ooit_open[TERMIJN_REGELS] = {0}, ooit_verlopen[TERMIJN_REGELS] = {0};
    contract_telling e;
    for (int32_t day = first; day <= last; day++) {
        for (int i = 0; i < CONTRACT_KINDEREN; i++)
            contract_events_on(w, &kinderen[i], day);
        contract_check(w, kinderen, day, &e);
        int64_t overdue = 0, o, v;
        for (int r = 0; r < TERMIJN_REGELS; r++) {
            contract_totaal(&e, r, &o, &v);
            overdue += v;
            ooit_open[r] += o - v > 0;
            ooit_verlopen[r] += v > 0;
        }
        if (overdue && eerste_vervaldag == INT32_MAX)
            eerste_vervaldag = day;
        if (day == first + 3) { /* every child is in the watch, also the one closed later */
            watch_termijn_telling t;
            watch_termijn_tellingen(w, &t);
            ck_assert_uint_eq(t.kinderen, CONTRACT_KINDEREN);
        }
    }
    /* The scenario is what it claims: each regel open and not yet due on
     * some day, due on a later one; the earliest due date is a termijn's
     * own first due date; the pauses are in the dossiers; numbers of 5 and
     * more in each region; the closed child is gone. */
    int32_t min_v0 = INT32_MAX;
    for (int i = 0; i < CONTRACT_KINDEREN; i++)
        for (size_t x = 0; x < kinderen[i].d.n; x++)
            if (kinderen[i].d.t[x].vervalt[0] < min_v0)
                min_v0 = kinderen[i].d.t[x].vervalt[0];
    ck_assert_int_eq(eerste_vervaldag, min_v0);
    for (int r = 0; r < TERMIJN_REGELS; r++)
        ck_assert_msg(ooit_open[r] && ooit_verlopen[r], "%s never crossed its due date",
                      termijn_regel_naam((termijn_regel)r));
    ck_assert_int_ne(contract_zorgplicht(&kinderen[0].d)->pauze_sinds, TERMIJN_GEEN_DATUM);
    ck_assert_int_gt(contract_zorgplicht(&kinderen[1].d)->pauze_dagen, 0);
    ck_assert_int_ne(contract_zorgplicht(&kinderen[1].d)->hervat_op, TERMIJN_GEEN_DATUM);
    ck_assert_int_gt(contract_zorgplicht(&kinderen[2].d)->pauze_sinds,
                     contract_zorgplicht(&kinderen[2].d)->vervalt[0]);
    for (int g = 0; g < CONTRACT_REGIOS; g++)
        ck_assert_int_ge(e.verlopen[g][CONTRACT_PO][TERMIJN_TLV_EINDE], 5);
    ck_assert(termijn_dossier_leeg(&kinderen[CONTRACT_KINDEREN - 1].d));
    int64_t o, v;
    contract_totaal(&e, TERMIJN_ZORGPLICHT, &o, &v);
    ck_assert_int_gt(o, v);
    watch_termijn_telling t;
    watch_termijn_tellingen(w, &t);
    ck_assert_uint_eq(t.json + t.versie + t.vorm + t.onbekende_regel + t.vol, 0);
    uint64_t termijnen = 0;
    for (int r = 0; r < TERMIJN_REGELS; r++) {
        contract_totaal(&e, r, &o, &v);
        termijnen += (uint64_t)o;
    }
    ck_assert_uint_eq(t.kinderen, CONTRACT_KINDEREN - 1);
    ck_assert_uint_eq(t.termijnen, termijnen);
    for (int i = 0; i < CONTRACT_KINDEREN; i++)
        termijn_dossier_free(&kinderen[i].d);
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
    TCase *contract = tcase_create("contract");
    tcase_add_checked_fixture(contract, contract_setup, contract_teardown);
    tcase_add_test(contract, termijn_state_as_termijn_writes_it);
    suite_add_tcase(s, contract);
    return kh_test_run(s);
}
