/*
 * test_sim — `ketenhub simulate`'s generator and expectations, in-process:
 *   - the same seed gives the same events byte for byte, another seed others;
 *   - for many seeds every valid event passes kh_intake (schema, rules,
 *     reference data) and every invalid one is rejected with exactly its
 *     tagged reason at its tagged pointer, and every error class occurs;
 *   - the stream is what the issue asks for: every event type, every
 *     aanmelding status in order per aanmelding_id, every verwijzer type,
 *     beschikkingen by other gemeenten and with zorg in onderwijstijd,
 *     children whose BRP still names a gemeente a herindeling dissolved,
 *     a verantwoordelijke gemeente with each reden on beschikkingen and
 *     verwijzingen, verblijf products, first-enrolment and PRO TLV's,
 *     pupils of a cluster 1/2 school, refused young people of RMC age,
 *     and meldingen of every regel (by sim_rules);
 *   - sim_rules gives exactly the meldingen of route's hand-written case
 *     table (tests/route/route_cases.c), and its rule names are the Regel
 *     enum of melding.avsc in order.
 */
#include "kh_codec.h"
#include "kh_intake.h"
#include "kh_schema.h"
#include "kh_time.h"
#include "route_cases.h"
#include "sim_gen.h"
#include "sim_rules.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kh_ref *ref;
static kh_schemas *schemas;
static sim_world world;

static void setup(void) {
    char err[512], dir[512];
    snprintf(dir, sizeof dir, "%s/deploy/reference", kh_test_source_dir());
    ck_assert_msg(kh_ref_load(dir, &ref, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "%s", err);
    int32_t from = kh_date_from_ymd(2025, 1, 1);
    ck_assert_msg(sim_world_build(&world, ref, from, from + 365 + SIM_STORY_SPAN, err,
                                  sizeof err) == 0,
                  "%s", err);
}

static void teardown(void) {
    sim_world_free(&world);
    kh_schemas_free(schemas);
    kh_ref_free(ref);
}

static sim_gen *gen(uint64_t seed, double invalid) {
    sim_gen_options o;
    sim_gen_defaults(&o);
    o.invalid_share = invalid;
    sim_gen *g = sim_gen_new(&world, seed, &o);
    ck_assert_ptr_nonnull(g);
    return g;
}

/* The concatenated bodies of n events of seed. */
static char *stream(uint64_t seed, size_t n) {
    sim_gen *g = gen(seed, 0.05);
    sim_event ev = {0};
    size_t len = 0, cap = 1 << 20;
    char *all = malloc(cap);
    ck_assert_ptr_nonnull(all);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(sim_gen_next(g, &ev), 0);
        size_t l = strlen(ev.body);
        while (len + l + 2 > cap) {
            char *grown = realloc(all, cap *= 2);
            ck_assert_ptr_nonnull(grown);
            all = grown;
        }
        memcpy(all + len, ev.body, l);
        len += l;
        all[len++] = '\n';
    }
    all[len] = 0;
    sim_event_clear(&ev);
    sim_gen_free(g);
    return all;
}

START_TEST(same_seed_same_events) {
    char *a = stream(42, 3000), *b = stream(42, 3000), *c = stream(43, 3000);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    free(a), free(b), free(c);
}
END_TEST

/* What the stream of the valid-events test has shown. */
typedef struct seen {
    json_t *counts;     /* "what" -> count */
    json_t *aanmelding; /* aanmelding_id -> last status rank */
} seen;

static void saw(seen *s, const char *what, const char *value) {
    char key[128];
    snprintf(key, sizeof key, "%s%s%s", what, value ? " " : "", value ? value : "");
    json_t *v = json_object_get(s->counts, key);
    json_object_set_new(s->counts, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static int rank(const char *status) {
    return !strcmp(status, "INGEDIEND") ? 0 : !strcmp(status, "IN_BEHANDELING") ? 1 : 2;
}

static const char *get(const json_t *ev, const char *a, const char *b) {
    const json_t *v = json_object_get(ev, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

static int in(const char *s, const char *list) {
    char item[40];
    snprintf(item, sizeof item, "|%s|", s ? s : "");
    return strstr(list, item) != NULL;
}

/* The new facts of issue 13 an event carries, and the regels it fires. */
static void observe_law(seen *s, const sim_event *ev) {
    const json_t *e = ev->event;
    int32_t day = kh_event_date(ev->type, e), born;
    const char *reden = get(e, "verantwoordelijke_gemeente", "reden");
    if (reden)
        saw(s, ev->type->name, reden);
    if (in(get(e, "product", "categorie"), "|35|36|37|38|43|44|"))
        saw(s, "verblijf product", reden ? "met verantwoordelijke" : "zonder verantwoordelijke");
    const json_t *eerste = json_object_get(e, "eerste_inschrijving");
    if (json_is_boolean(eerste))
        saw(s, "tlv eerste_inschrijving", json_is_true(eerste) ? "true" : "false");
    if (!strcmp(ev->type->name, "tlv"))
        saw(s, "tlv soort", get(e, "soort", NULL));
    const kh_ref_school *school = !strcmp(ev->type->name, "aanmelding")
                                      ? kh_ref_school_at(ref, get(e, "bij", "code"), day)
                                      : NULL;
    if (school && school->cluster)
        saw(s, "aanmelding at a cluster 1/2 school", NULL);
    ck_assert_int_eq(kh_date_parse(get(e, "jeugdige", "geboortedatum"), &born), 0);
    int age = kh_age_years(born, day);
    if (school && in(get(e, "status", NULL), "|AFGEWEZEN|INGETROKKEN|") && age >= 18 && age < 23)
        saw(s, "aanmelding refused at RMC age", NULL);
    sim_melding m[SIM_MAX_MELDINGEN];
    size_t n = sim_rules_expect(ref, ev->type, e, m);
    for (size_t i = 0; i < n; i++)
        saw(s, "regel", m[i].regel);
}

/* Statuses of one aanmelding come in order, each its own event. */
static void observe(seen *s, const sim_event *ev) {
    const json_t *e = ev->event;
    saw(s, "type", ev->type->name);
    observe_law(s, ev);
    if (!kh_ref_gemeente_at(ref, get(e, "jeugdige", "woonplaatsgemeente"),
                            kh_event_date(ev->type, e)))
        saw(s, "woonplaatsgemeente dissolved by a herindeling", NULL);
    if (!strcmp(ev->type->name, "aanmelding")) {
        const char *id = get(e, "aanmelding_id", NULL), *status = get(e, "status", NULL);
        json_t *last = json_object_get(s->aanmelding, id);
        ck_assert_msg(last ? rank(status) > json_integer_value(last) : rank(status) == 0,
                      "aanmelding %s: %s out of order", id, status);
        json_object_set_new(s->aanmelding, id, json_integer(rank(status)));
        saw(s, "aanmelding", status);
        saw(s, "soort", get(e, "soort", NULL));
    } else if (!strcmp(ev->type->name, "verwijzing")) {
        saw(s, "verwijzer", get(e, "verwijzer", "type"));
        saw(s, "domein", get(e, "domein", NULL));
    } else if (!strcmp(ev->type->name, "beschikking")) {
        if (strcmp(get(e, "gemeente", NULL), get(e, "jeugdige", "woonplaatsgemeente")) != 0)
            saw(s, "beschikking door andere gemeente", NULL);
        if (json_is_true(json_object_get(e, "zorg_in_onderwijstijd")))
            saw(s, "zorg in onderwijstijd", NULL);
    } else {
        const char *swv = get(e, "swv", NULL);
        saw(s, "tlv", get(e, "status", NULL));
        if (strncmp(swv, "PO", 2) == 0 || strncmp(swv, "VO", 2) == 0)
            saw(s, "tlv sector", (char[3]){swv[0], swv[1], 0});
    }
}

/* A valid event passes intake; an invalid one fails with exactly its tag. */
static void check_event(const sim_event *ev, seen *s, int64_t now) {
    kh_problems p;
    kh_problems_init(&p);
    char shown[4096];
    json_t *parsed = kh_codec_parse(ev->body, strlen(ev->body), &p);
    char *wire = NULL;
    size_t len;
    int rc = parsed ? kh_intake_encode(schemas, ev->type, parsed, ref, now, &wire, &len, &p) : -1;
    if (ev->valid) {
        ck_assert_msg(rc == 0, "valid %s rejected:\n%s%s", ev->type->name,
                      kh_problems_format(&p, shown, sizeof shown), ev->body);
        observe(s, ev);
    } else {
        ck_assert_msg(rc != 0 && p.count == 1 && !strcmp(p.items[0].pointer, ev->pointer) &&
                          !strcmp(kh_reason_name(p.items[0].reason), ev->reason),
                      "invalid %s tagged %s at '%s' gave:\n%s%s", ev->type->name, ev->reason,
                      ev->pointer, kh_problems_format(&p, shown, sizeof shown), ev->body);
        ck_assert_int_eq(ev->expect_status, strcmp(ev->reason, "syntax") == 0 ? 400 : 422);
        saw(s, "class", ev->reason);
    }
    free(wire);
    json_decref(parsed);
}

START_TEST(valid_events_pass_invalid_fail_as_tagged) {
    seen s = {json_object(), NULL};
    int64_t now = kh_now_millis();
    size_t events = 0;
    for (uint64_t seed = 1; seed <= 25; seed++) {
        sim_gen *g = gen(seed * 7919, 0.1);
        sim_event ev = {0};
        s.aanmelding = json_object();
        for (int i = 0; i < 1500; i++, events++) {
            ck_assert_int_eq(sim_gen_next(g, &ev), 0);
            check_event(&ev, &s, now);
        }
        json_decref(s.aanmelding);
        sim_event_clear(&ev);
        sim_gen_free(g);
    }
    const char *must[] = {"type aanmelding",
                          "type tlv",
                          "type beschikking",
                          "type verwijzing",
                          "aanmelding INGEDIEND",
                          "aanmelding IN_BEHANDELING",
                          "aanmelding GEPLAATST",
                          "aanmelding AFGEWEZEN",
                          "aanmelding INGETROKKEN",
                          "soort ONDERWIJS",
                          "soort JEUGDHULP",
                          "tlv AFGEGEVEN",
                          "tlv sector PO",
                          "tlv sector VO",
                          "verwijzer GEMEENTE",
                          "verwijzer HUISARTS",
                          "verwijzer JEUGDARTS",
                          "verwijzer MEDISCH_SPECIALIST",
                          "verwijzer GECERTIFICEERDE_INSTELLING",
                          "verwijzer SCHOOL",
                          "verwijzer SWV",
                          "domein JEUGDHULP",
                          "domein ONDERWIJSONDERSTEUNING",
                          "domein SPECIAAL_ONDERWIJS",
                          "beschikking door andere gemeente",
                          "zorg in onderwijstijd",
                          "woonplaatsgemeente dissolved by a herindeling",
                          "beschikking BRP",
                          "beschikking VOOR_VERBLIJF",
                          "beschikking MOEDER_BIJ_GEBOORTE",
                          "verwijzing BRP",
                          "verwijzing VOOR_VERBLIJF",
                          "verwijzing MOEDER_BIJ_GEBOORTE",
                          "verblijf product met verantwoordelijke",
                          "verblijf product zonder verantwoordelijke",
                          "tlv eerste_inschrijving true",
                          "tlv eerste_inschrijving false",
                          "tlv soort PRO",
                          "aanmelding at a cluster 1/2 school",
                          "aanmelding refused at RMC age",
                          "class syntax",
                          "class required",
                          "class type",
                          "class enum",
                          "class format",
                          "class too_long",
                          "class unknown_field",
                          "class range",
                          "class elfproef",
                          "class unknown_code",
                          "class date_order",
                          "class future",
                          "class age",
                          "class inconsistent"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        ck_assert_msg(json_object_get(s.counts, must[i]), "%zu events and never: %s", events,
                      must[i]);
    for (size_t i = 0; i < sim_rules_count(); i++) {
        char key[128];
        snprintf(key, sizeof key, "regel %s", sim_rules_name(i));
        ck_assert_msg(json_object_get(s.counts, key), "%zu events and never a melding of %s",
                      events, sim_rules_name(i));
    }
    char *counts = json_dumps(s.counts, JSON_SORT_KEYS | JSON_COMPACT);
    fprintf(stderr, "test_sim: what the valid events showed: %s\n", counts);
    free(counts);
    fprintf(stderr, "test_sim: %zu events of 25 seeds checked with kh_intake\n", events);
    json_decref(s.counts);
}
END_TEST

/* "REGEL TYPE:CODE" lines, sorted, of a list of meldingen. */
static int by_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *pair(const char *a, const char *b) {
    char *s = malloc(strlen(a) + strlen(b) + 2);
    ck_assert_ptr_nonnull(s);
    sprintf(s, "%s %s", a, b);
    return s;
}

static void joined(char **items, size_t n, char *out, size_t len) {
    qsort(items, n, sizeof *items, by_str);
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        strncat(out, items[i], len - strlen(out) - 1);
        strncat(out, "\n", len - strlen(out) - 1);
        free(items[i]);
    }
}

START_TEST(rules_agree_with_route_case_table) {
    size_t checked = 0;
    for (size_t i = 0; i < route_case_count; i++) {
        const route_case *c = &route_cases[i];
        if (c->poison)
            continue;
        char id[37], want[2048], got[2048];
        route_case_event_id(i, id);
        json_t *ev = route_case_event(c, id, "111222333");
        sim_melding m[SIM_MAX_MELDINGEN];
        size_t n = sim_rules_expect(ref, kh_event_type_by_name(c->event), ev, m);
        char *g[SIM_MAX_MELDINGEN], *w[ROUTE_CASE_MAX_WANT];
        size_t nw = route_case_want_count(c);
        for (size_t k = 0; k < n; k++)
            g[k] = pair(m[k].regel, m[k].ontvanger);
        for (size_t k = 0; k < nw; k++)
            w[k] = pair(c->want[k].regel, c->want[k].ontvanger);
        joined(g, n, got, sizeof got);
        joined(w, nw, want, sizeof want);
        ck_assert_msg(strcmp(got, want) == 0, "case %s: sim_rules gives\n%s\nthe table wants\n%s",
                      c->name, got, want);
        json_decref(ev);
        checked++;
    }
    ck_assert_uint_gt(checked, 30);
}
END_TEST

START_TEST(rule_names_are_the_regel_enum) {
    const kh_schema *s = kh_schemas_by_name(schemas, "melding");
    ck_assert_ptr_nonnull(s);
    json_t *doc = json_loads(kh_schema_json(s), 0, NULL), *f;
    size_t i;
    json_t *symbols = NULL;
    json_array_foreach(json_object_get(doc, "fields"), i, f)
        if (!strcmp(json_string_value(json_object_get(f, "name")), "regel"))
            symbols = json_object_get(json_object_get(f, "type"), "symbols");
    /* The grensverkeer rules come first; termijn's regels follow them. */
    ck_assert_uint_ge(json_array_size(symbols), sim_rules_count());
    for (i = 0; i < sim_rules_count(); i++)
        ck_assert_str_eq(json_string_value(json_array_get(symbols, i)), sim_rules_name(i));
    json_decref(doc);
}
END_TEST

int main(void) {
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("sim");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, same_seed_same_events);
    tcase_add_test(tc, valid_events_pass_invalid_fail_as_tagged);
    tcase_add_test(tc, rules_agree_with_route_case_table);
    tcase_add_test(tc, rule_names_are_the_regel_enum);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
