/*
 * test_route_rules — the grensverkeer rules without Kafka: every case of
 * route_cases.c goes the way a real event goes (natural JSON -> intake
 * checks -> wire bytes -> decode -> route_event -> rules), and must give
 * exactly the meldingen the table lists: recipients, rule, melding_id,
 * toelichting text, betrokkenen (with opvolger_van after a herindeling),
 * and a byte-identical encoding when done again. Plus the rule table's own
 * consistency with melding.avsc, the melding_id algorithm against an
 * independent reference value, the toelichting length limit, and every
 * class of poison through route_process.
 */
#include "kh_codec.h"
#include "kh_deadletter.h"
#include "kh_event.h"
#include "kh_intake.h"
#include "kh_kafka.h"
#include "kh_orgid.h"
#include "kh_time.h"
#include "route_cases.h"
#include "route_id.h"
#include "route_melding.h"
#include "route_process.h"
#include "route_rules.h"
#include "route_text.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kh_schemas *schemas;
static kh_ref *ref;
static route_event_reader reader;

static void setup(void) {
    char err[512], dir[1024];
    const char *src = getenv("KH_SOURCE_DIR");
    ck_assert_msg(src != NULL, "KH_SOURCE_DIR is not set (run through ctest)");
    snprintf(dir, sizeof dir, "%s/deploy/reference", src);
    ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(kh_ref_load(dir, &ref, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(route_event_reader_init(&reader, schemas, err, sizeof err) == 0, "%s", err);
}

static void teardown(void) {
    kh_ref_free(ref);
    kh_schemas_free(schemas);
}

/* The wire bytes of case c: through kh_intake for a good event (so every
 * case is an event ingest would accept), through the codec alone for a
 * poison one (which intake must reject for an unknown code). */
static char *case_wire(const route_case *c, const char *event_id, size_t *len) {
    const kh_event_type *t = kh_event_type_by_name(c->event);
    const kh_schema *s = kh_schemas_by_name(schemas, c->event);
    json_t *ev = route_case_event(c, event_id, "111222333");
    kh_problems p;
    char *wire = NULL, shown[1024], err[256];
    kh_problems_init(&p);
    int rc = kh_intake_encode(schemas, t, ev, ref, kh_now_millis(), &wire, len, &p);
    if (!c->poison) {
        ck_assert_msg(rc == 0, "case %s is not a valid event: %s", c->name,
                      kh_problems_format(&p, shown, sizeof shown));
    } else {
        ck_assert_msg(rc != 0, "poison case %s passes intake", c->name);
        ck_assert_msg(p.count > 0 && p.items[0].reason == KH_R_UNKNOWN_CODE,
                      "poison case %s: intake says %s", c->name,
                      kh_problems_format(&p, shown, sizeof shown));
        avro_value_t v;
        kh_problems_init(&p);
        ck_assert_int_eq(kh_schema_new_value(s, &v), 0);
        ck_assert_int_eq(kh_codec_from_json(s, ev, &v, &p), 0);
        ck_assert_int_eq(kh_codec_encode(s, &v, &wire, len, err, sizeof err), 0);
        avro_value_decref(&v);
    }
    json_decref(ev);
    return wire;
}

/* Decodes wire into v and reads it; the caller releases v. */
static void read_event(const route_case *c, const char *wire, size_t len, avro_value_t *v,
                       route_event *ev) {
    const kh_schema *which;
    char err[256];
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, v, err, sizeof err), KH_DECODE_OK);
    ck_assert_msg(route_event_read(&reader, route_kind_by_name(c->event), v, ev, err, sizeof err) ==
                      0,
                  "%s: %s", c->name, err);
}

static const route_melding *find(const route_result *r, const char *regel, const char *ontvanger) {
    char to[KH_ORGID_LEN];
    for (size_t i = 0; i < r->n; i++) {
        const route_melding *m = &r->m[i];
        kh_orgid_join(route_melding_ontvanger_type(m), route_melding_ontvanger_code(r, m), to,
                      sizeof to);
        if (strcmp(route_rule_at((size_t)m->rule)->regel, regel) == 0 && strcmp(to, ontvanger) == 0)
            return m;
    }
    return NULL;
}

static size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The melding's natural JSON, through the real encoder and decoder. */
static json_t *melding_json(const route_event *ev, const route_result *r, const route_melding *m,
                            char **wire, size_t *len) {
    kh_melding_encoder enc;
    char err[256];
    route_cause cause = {"ketenhub.test.v1", 3, 42};
    ck_assert_int_eq(kh_melding_encoder_init(&enc, schemas, err, sizeof err), 0);
    ck_assert_msg(route_melding_encode(&enc, ev, r, m, &cause, wire, len, err, sizeof err) == 0,
                  "%s", err);
    kh_melding_encoder_free(&enc);
    const kh_schema *which;
    avro_value_t v;
    ck_assert_int_eq(kh_codec_decode(schemas, *wire, *len, &which, &v, err, sizeof err),
                     KH_DECODE_OK);
    json_t *j = kh_codec_to_json(which, &v, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    avro_value_decref(&v);
    return j;
}

/* Does the betrokkenen array hold "ROL TYPE CODE[<OLD]"? */
static int has_betrokkene(json_t *arr, const char *want) {
    size_t i;
    json_t *b;
    char line[128];
    json_array_foreach(arr, i, b) {
        const char *old = json_string_value(json_object_get(b, "opvolger_van"));
        snprintf(line, sizeof line, "%s %s %s%s%s", json_string_value(json_object_get(b, "rol")),
                 json_string_value(json_object_get(b, "type")),
                 json_string_value(json_object_get(b, "code")), old ? "<" : "", old ? old : "");
        if (strcmp(line, want) == 0)
            return 1;
    }
    return 0;
}

static void check_melding_value(const route_case *c, const route_event *ev, const route_result *r,
                                const route_melding *m, const route_expect *w,
                                const char *event_id) {
    char *wire, *again;
    size_t len, len2;
    json_t *j = melding_json(ev, r, m, &wire, &len);
    json_t *k = melding_json(ev, r, m, &again, &len2);
    ck_assert_msg(len == len2 && memcmp(wire, again, len) == 0, "%s: encoding not deterministic",
                  c->name);
    char to[KH_ORGID_LEN], at[40];
    ck_assert_int_eq(kh_orgid_from_json(json_object_get(j, "ontvanger"), to, sizeof to), 0);
    ck_assert_str_eq(to, w->ontvanger);
    ck_assert_str_eq(json_string_value(json_object_get(j, "regel")), w->regel);
    ck_assert_str_eq(json_string_value(json_object_get(j, "melding_id")), m->melding_id);
    ck_assert_str_eq(json_string_value(json_object_get(j, "toelichting")), m->toelichting);
    ck_assert_str_eq(json_string_value(json_object_get(j, "peildatum")), c->datum);
    snprintf(at, sizeof at, "%sT09:00:05Z", c->datum);
    ck_assert_str_eq(json_string_value(json_object_get(j, "aangemaakt_op")), at);
    json_t *oz = json_object_get(j, "oorzaak");
    ck_assert_str_eq(json_string_value(json_object_get(oz, "event_id")), event_id);
    ck_assert_int_eq(json_integer_value(json_object_get(oz, "offset")), 42);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "jeugdige"), "bsn")),
                     "111222333");
    json_t *arr = json_object_get(j, "betrokkenen");
    for (size_t i = 0; i < 5 && w->betrokkenen[i]; i++)
        ck_assert_msg(has_betrokkene(arr, w->betrokkenen[i]), "%s %s %s: no betrokkene %s", c->name,
                      w->regel, w->ontvanger, w->betrokkenen[i]);
    free(wire);
    free(again);
    json_decref(j);
    json_decref(k);
}

static void check_case(const route_case *c, uint64_t n) {
    char event_id[37], want_id[37], bron[32];
    size_t len;
    route_case_event_id(n, event_id);
    char *wire = case_wire(c, event_id, &len);
    avro_value_t v;
    route_event ev;
    read_event(c, wire, len, &v, &ev);
    static route_result r, again;
    int rc = route_rules_apply(&ev, ref, &r);
    if (c->poison) {
        ck_assert_msg(rc == -1, "%s: poison not recognised", c->name);
        ck_assert_str_eq(r.reason_code, c->poison);
        ck_assert_msg(strstr(r.reason, "111222333") == NULL, "reason carries the BSN");
    } else {
        ck_assert_msg(rc == 0, "%s: %s %s", c->name, r.reason_code, r.reason);
        ck_assert_msg(r.n == route_case_want_count(c), "%s: %zu meldingen, want %zu", c->name, r.n,
                      route_case_want_count(c));
        for (size_t i = 0; i < route_case_want_count(c); i++) {
            const route_expect *w = &c->want[i];
            const route_melding *m = find(&r, w->regel, w->ontvanger);
            ck_assert_msg(m != NULL, "%s: no %s for %s", c->name, w->regel, w->ontvanger);
            route_case_melding_id(route_case_bron(c, bron), event_id, w->regel, w->ontvanger,
                                  want_id);
            ck_assert_str_eq(m->melding_id, want_id);
            ck_assert_msg(strchr(m->toelichting, '{') == NULL, "%s: unfilled placeholder: %s",
                          c->name, m->toelichting);
            ck_assert_uint_le(utf8_chars(m->toelichting), ROUTE_TOELICHTING_CHARS);
            /* Issue 13: no text says whom to invoice or states one region's
             * arrangement as law. */
            static const char *const never[] = {"factureer", "betaalt aan", "declareren bij",
                                                "voert de regie"};
            for (size_t k = 0; k < sizeof never / sizeof never[0]; k++)
                ck_assert_msg(strstr(m->toelichting, never[k]) == NULL, "%s %s: \"%s\" in %s",
                              c->name, w->regel, never[k], m->toelichting);
            for (size_t t = 0; t < 5 && w->texts[t]; t++)
                ck_assert_msg(strstr(m->toelichting, w->texts[t]) != NULL,
                              "%s %s %s: toelichting lacks \"%s\": %s", c->name, w->regel,
                              w->ontvanger, w->texts[t], m->toelichting);
            check_melding_value(c, &ev, &r, m, w, event_id);
        }
        /* The same event again: the same meldingen, in the same order. */
        ck_assert_int_eq(route_rules_apply(&ev, ref, &again), 0);
        ck_assert_uint_eq(again.n, r.n);
        for (size_t i = 0; i < r.n; i++) {
            ck_assert_str_eq(again.m[i].melding_id, r.m[i].melding_id);
            ck_assert_str_eq(again.m[i].toelichting, r.m[i].toelichting);
        }
    }
    avro_value_decref(&v);
    free(wire);
}

START_TEST(every_case) {
    for (size_t i = 0; i < route_case_count; i++)
        check_case(&route_cases[i], 1000 + i);
}
END_TEST

/* Does case c exercise row r of the table? A regel with several rows for
 * one event type needs the case to say which (route_case.variant, 1 for
 * the regel's first row). */
static int variant_matches(const route_case *c, size_t r) {
    const route_rule *rule = route_rule_at(r);
    size_t first = (size_t)route_rule_index(rule->regel), same_event = 0;
    for (size_t i = first; i < route_rule_count() && !strcmp(route_rule_at(i)->regel, rule->regel);
         i++)
        same_event += route_rule_at(i)->event == rule->event;
    return same_event == 1 || c->variant == (int)(r - first) + 1;
}

/* Each rule variant has a case where its regel fires on its event type
 * and one of that type where it does not; no case gives one recipient two
 * meldingen of one rule. */
START_TEST(every_rule_positive_and_negative) {
    for (size_t r = 0; r < route_rule_count(); r++) {
        const route_rule *rule = route_rule_at(r);
        int pos = 0, neg = 0;
        for (size_t i = 0; i < route_case_count; i++) {
            const route_case *c = &route_cases[i];
            if (c->poison || route_kind_by_name(c->event) != rule->event)
                continue;
            int fires = 0;
            for (size_t w = 0; w < route_case_want_count(c); w++) {
                fires |= strcmp(c->want[w].regel, rule->regel) == 0 && variant_matches(c, r);
                for (size_t x = w + 1; x < route_case_want_count(c); x++)
                    ck_assert_msg(strcmp(c->want[w].regel, c->want[x].regel) ||
                                      strcmp(c->want[w].ontvanger, c->want[x].ontvanger),
                                  "case %s lists a melding twice", c->name);
            }
            pos += fires;
            neg += !fires;
        }
        ck_assert_msg(pos >= 1 && neg >= 1, "rule %s: %d positive, %d negative cases", rule->regel,
                      pos, neg);
    }
}
END_TEST

/* The table speaks melding.avsc: its regels are the Regel symbols in
 * order (variants of a regel next to each other), rol and type symbols
 * exist, and a recipient is an organisation (never a jeugdregio). */
START_TEST(table_matches_the_schema) {
    const kh_schema *s = kh_schemas_by_name(schemas, "melding");
    const kh_node *root = kh_schema_root(s);
    const kh_node *regel = NULL, *org = NULL, *rol = NULL, *btype = NULL;
    for (size_t i = 0; i < root->nfields; i++) {
        const kh_field *f = &root->fields[i];
        if (strcmp(f->name, "regel") == 0)
            regel = f->type;
        if (strcmp(f->name, "ontvanger") == 0)
            org = f->type->fields[0].type;
        if (strcmp(f->name, "betrokkenen") == 0) {
            rol = f->type->item->fields[0].type;
            btype = f->type->item->fields[1].type;
        }
    }
    ck_assert(regel && org && rol && btype);
    size_t sym = 0;
    for (size_t r = 0; r < route_rule_count(); r++) {
        const route_rule *rule = route_rule_at(r);
        if (r > 0 && strcmp(route_rule_at(r - 1)->regel, rule->regel) != 0)
            sym++;
        ck_assert_uint_lt(sym, regel->nsymbols);
        ck_assert_str_eq(rule->regel, regel->symbols[sym]);
        ck_assert_int_le(route_rule_index(rule->regel), (int)r);
        for (size_t i = 0; i < ROUTE_MAX_RECIPIENTS && rule->ontvangers[i]; i++) {
            const char *type = route_slot_describe(rule->ontvangers[i])->type;
            int found = 0;
            for (size_t k = 0; type && k < org->nsymbols; k++)
                found |= strcmp(org->symbols[k], type) == 0;
            ck_assert_msg(found, "rule %s: recipient type %s is no organisation", rule->regel,
                          type);
        }
        for (size_t i = 0; i < ROUTE_MAX_BETROKKENEN && rule->betrokkenen[i]; i++) {
            const route_slot_info *info = route_slot_describe(rule->betrokkenen[i]);
            int found_rol = 0, found_type = 0;
            for (size_t k = 0; info->rol && k < rol->nsymbols; k++)
                found_rol |= strcmp(rol->symbols[k], info->rol) == 0;
            for (size_t k = 0; info->type && k < btype->nsymbols; k++)
                found_type |= strcmp(btype->symbols[k], info->type) == 0;
            ck_assert_msg(found_rol && found_type, "rule %s: betrokkene %s", rule->regel,
                          info->name);
        }
    }
    /* the symbols after route's are ketenhub-termijn's regels (test_termijn_service) */
    ck_assert_uint_le(sym + 1, regel->nsymbols);
    ck_assert_str_eq(regel->symbols[sym + 1], "ZORGPLICHT_TERMIJN_VERSTREKEN");
}
END_TEST

/* The UUID rule, against a value computed independently (Python's
 * uuid.uuid5 with the same namespace and name). */
START_TEST(melding_id_reference_value) {
    char id[ROUTE_ID_LEN], other[37];
    ck_assert_int_eq(route_melding_id("SCHOOL:12AB00", "3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01",
                                      "ONDERWIJS_BUITEN_WOONGEMEENTE", "GEMEENTE", "GM0502", id),
                     0);
    ck_assert_str_eq(id, "a49f1e1d-26d5-5aa9-944a-efd7abed8473");
    route_case_melding_id("SCHOOL:12AB00", "3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01",
                          "ONDERWIJS_BUITEN_WOONGEMEENTE", "GEMEENTE:GM0502", other);
    ck_assert_str_eq(id, other);
    ck_assert_int_eq(route_melding_id("SCHOOL:12AB00", "3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01",
                                      "ONDERWIJS_BUITEN_WOONGEMEENTE", "GEMEENTE", "GM0599", other),
                     0);
    ck_assert_str_ne(id, other);
}
END_TEST

/* An event's identity is its bron plus its event_id: two partners that use
 * one event_id get meldingen with different ids for the same rule and
 * recipient. */
START_TEST(two_partners_with_one_event_id_get_distinct_melding_ids) {
    static route_result first, second;
    const char *id = "3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01";
    route_event one = {.kind = ROUTE_TLV,
                       .event_id = id,
                       .bron_type = "SWV",
                       .bron_code = "PO2801",
                       .peildatum = kh_date_from_ymd(2026, 3, 1),
                       .bsn = "111222333",
                       .woonplaatsgemeente = "GM0502",
                       .status = "AFGEGEVEN",
                       .swv = "PO2801",
                       .tlv_soort = "SBO"};
    /* The second partner's event differs only in its bron, so the rules
     * give it the same meldingen, for the same recipients. */
    route_event two = one;
    two.bron_code = "PO2803";
    ck_assert_int_eq(route_rules_apply(&one, ref, &first), 0);
    ck_assert_int_eq(route_rules_apply(&two, ref, &second), 0);
    ck_assert_uint_gt(first.n, 0);
    ck_assert_uint_eq(first.n, second.n);
    for (size_t i = 0; i < first.n; i++)
        for (size_t j = 0; j < second.n; j++)
            ck_assert_str_ne(first.m[i].melding_id, second.m[j].melding_id);
}
END_TEST

/* Fields that contradict each other: no rule can be judged. */
START_TEST(contradictory_events_are_invalid) {
    static route_result r;
    route_event ev = {.kind = ROUTE_AANMELDING,
                      .event_id = "e",
                      .peildatum = kh_date_from_ymd(2026, 3, 2),
                      .bsn = "111222333",
                      .woonplaatsgemeente = "GM0502",
                      .status = "GEPLAATST",
                      .soort = "ONDERWIJS",
                      .bij_type = "SCHOOL",
                      .bij_code = "12AB00"};
    ck_assert_int_eq(route_rules_apply(&ev, ref, &r), -1); /* no onderwijssoort */
    ck_assert_str_eq(r.reason_code, "INVALID_EVENT");
    ev.onderwijssoort = "PO";
    ev.bij_type = "AANBIEDER";
    ck_assert_int_eq(route_rules_apply(&ev, ref, &r), -1);
    ck_assert_str_eq(r.reason_code, "INVALID_EVENT");
    route_event tlv = {.kind = ROUTE_TLV,
                       .event_id = "e",
                       .peildatum = kh_date_from_ymd(2026, 3, 1),
                       .bsn = "111222333",
                       .woonplaatsgemeente = "GM0502",
                       .status = "AFGEGEVEN",
                       .swv = "PO2801",
                       .tlv_soort = "VSO"};
    ck_assert_int_eq(route_rules_apply(&tlv, ref, &r), -1);
    ck_assert_str_eq(r.reason_code, "INVALID_EVENT");
    route_event b = {.kind = ROUTE_BESCHIKKING,
                     .event_id = "e",
                     .peildatum = kh_date_from_ymd(2026, 3, 1),
                     .bsn = "111222333",
                     .woonplaatsgemeente = "GM0502",
                     .status = "TOEGEKEND",
                     .gemeente = "GM0599",
                     .aanbieder = "98000000",
                     .zorg_in_onderwijstijd = 1};
    ck_assert_int_eq(route_rules_apply(&b, ref, &r), -1);
    ck_assert_str_eq(r.reason_code, "INVALID_EVENT");
}
END_TEST

/* The toelichting never exceeds the schema's 1024 characters, and is cut
 * between characters, not inside one. */
START_TEST(toelichting_is_limited) {
    route_party party[ROUTE_SLOTS];
    char out[4 * ROUTE_TOELICHTING_CHARS + 1];
    memset(party, 0, sizeof party);
    for (int s = ROUTE_NONE + 1; s < ROUTE_SLOTS; s++) {
        party[s].known = 1;
        strcpy(party[s].code, "X");
        strcpy(party[s].old_code, "GM0001");
        for (size_t i = 0; i + 2 < sizeof party[s].naam; i += 2)
            memcpy(party[s].naam + i, "\xc3\xab", 2); /* ë */
        for (size_t i = 0; i + 2 < sizeof party[s].old_naam; i += 2)
            memcpy(party[s].old_naam + i, "\xc3\xab", 2);
    }
    size_t longest = 0;
    for (size_t r = 0; r < route_rule_count(); r++) {
        static const kh_ref_afspraak a = {.tekst = "lange afspraak", .bron_titel = "bron"};
        route_text_render(route_rule_at(r), party, &a, ROUTE_JZ_WOON, out, sizeof out);
        size_t chars = utf8_chars(out), len = strlen(out);
        ck_assert_uint_le(chars, ROUTE_TOELICHTING_CHARS);
        ck_assert_msg(((unsigned char)out[len - 1] & 0xC0) != 0xC0, "cut inside a character");
        longest = chars > longest ? chars : longest;
    }
    ck_assert_uint_eq(longest, ROUTE_TOELICHTING_CHARS); /* some text was cut */
    char day[32];
    ck_assert_str_eq(route_text_date(kh_date_from_ymd(2023, 1, 1), day, sizeof day),
                     "1 januari 2023");
    ck_assert_str_eq(route_text_date(kh_date_from_ymd(2024, 12, 31), day, sizeof day),
                     "31 december 2024");
}
END_TEST

/* ---- route_process: every poison class becomes one dead letter --------- */

static rd_kafka_t *rk;
static rd_kafka_topic_t *rkt;

static void process_setup(void) {
    char err[256];
    setup();
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ck_assert_ptr_nonnull(rk);
    rkt = rd_kafka_topic_new(rk, "ketenhub.aanmelding.v1", NULL);
}

static void process_teardown(void) {
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    teardown();
}

static const char *header(rd_kafka_headers_t *h, const char *name) {
    const void *v;
    size_t n;
    static char buf[128];
    if (rd_kafka_header_get_last(h, name, &v, &n) || n >= sizeof buf)
        return "";
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

static void expect_deadletter(route_processor *p, const void *payload, size_t len,
                              const char *reason) {
    char err[256];
    rd_kafka_message_t m = {.rkt = rkt,
                            .partition = 2,
                            .offset = 77,
                            .payload = (void *)payload,
                            .len = len,
                            .key = "child",
                            .key_len = 5};
    ck_assert_int_eq(route_process(p, &m, ROUTE_AANMELDING, ref, err, sizeof err), 0);
    ck_assert_uint_eq(p->nout, 1);
    ck_assert_int_eq(p->out[0].deadletter, 1);
    ck_assert_str_eq(p->out[0].reason_code, reason);
    ck_assert_str_eq(header(p->out[0].headers, "dlq-reason"), reason);
    ck_assert_str_eq(header(p->out[0].headers, "dlq-service"), "route");
    ck_assert_str_eq(header(p->out[0].headers, "dlq-origin-topic"), "ketenhub.aanmelding.v1");
    ck_assert_str_eq(header(p->out[0].headers, "dlq-origin-partition"), "2");
    ck_assert_str_eq(header(p->out[0].headers, "dlq-origin-offset"), "77");
    ck_assert_uint_eq(p->out[0].keylen, 5);
    const kh_schema *which;
    avro_value_t v;
    ck_assert_int_eq(kh_codec_decode(schemas, p->out[0].value, p->out[0].len, &which, &v, err,
                                     sizeof err),
                     KH_DECODE_OK);
    ck_assert_str_eq(kh_schema_name(which), "deadletter");
    avro_value_decref(&v);
    route_process_discard(p);
}

START_TEST(poison_classes) {
    static route_processor p;
    char err[256];
    ck_assert_int_eq(route_processor_init(&p, schemas, err, sizeof err), 0);
    expect_deadletter(&p, "\x01\x00\x00\x03\xe9garbage", 12, "BAD_MAGIC_BYTE");
    expect_deadletter(&p, "", 0, "BAD_MAGIC_BYTE");
    expect_deadletter(&p, "\x00\x00\x00\x01\xf4\x02", 6, "UNKNOWN_SCHEMA_ID");   /* id 500 */
    expect_deadletter(&p, "\x00\x00\x00\x03\xe9\xff\xff\xff", 8, "UNDECODABLE"); /* id 1001 */
    /* A good tlv on the aanmelding topic: the schema id is known but not
     * this topic's event. */
    size_t len;
    char *wire = case_wire(&route_cases[0], "3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01", &len);
    for (size_t i = 0; i < route_case_count; i++)
        if (strcmp(route_cases[i].event, "tlv") == 0 && !route_cases[i].poison) {
            free(wire);
            wire = case_wire(&route_cases[i], "3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01", &len);
            break;
        }
    expect_deadletter(&p, wire, len, "UNKNOWN_SCHEMA_ID");
    free(wire);
    for (size_t i = 0; i < route_case_count; i++)
        if (route_cases[i].poison && strcmp(route_cases[i].event, "aanmelding") == 0) {
            wire = case_wire(&route_cases[i], "3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01", &len);
            expect_deadletter(&p, wire, len, "UNKNOWN_REFERENCE_CODE");
            free(wire);
        }
    /* And a good record gives its meldingen, keyed by recipient. */
    wire = case_wire(&route_cases[0], "3f1c2b7e-8d4a-4e6b-9c1d-2a5e7f8b9c01", &len);
    rd_kafka_message_t m = {.rkt = rkt, .partition = 0, .offset = 5, .payload = wire, .len = len};
    ck_assert_int_eq(route_process(&p, &m, ROUTE_AANMELDING, ref, err, sizeof err), 0);
    ck_assert_uint_eq(p.nout, 4);
    ck_assert_int_eq(p.out[0].deadletter, 0);
    ck_assert_uint_eq(p.out[0].keylen, 6);
    ck_assert(memcmp(p.out[0].key, "GM0502", 6) == 0);
    ck_assert_str_eq(header(p.out[0].headers, "event-type"), "melding");
    ck_assert_str_eq(header(p.out[0].headers, "ontvanger"), "GEMEENTE:GM0502");
    /* melding_id_reference_value's id: route_cases[0] is SCHOOL:12AB00's. */
    ck_assert_str_eq(header(p.out[0].headers, "melding-id"),
                     "a49f1e1d-26d5-5aa9-944a-efd7abed8473");
    free(wire);
    route_processor_free(&p);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("route_rules");
    TCase *t = tcase_create("rules");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, every_case);
    tcase_add_test(t, every_rule_positive_and_negative);
    tcase_add_test(t, table_matches_the_schema);
    tcase_add_test(t, melding_id_reference_value);
    tcase_add_test(t, two_partners_with_one_event_id_get_distinct_melding_ids);
    tcase_add_test(t, contradictory_events_are_invalid);
    tcase_add_test(t, toelichting_is_limited);
    suite_add_tcase(s, t);
    TCase *p = tcase_create("process");
    tcase_add_checked_fixture(p, process_setup, process_teardown);
    tcase_add_test(p, poison_classes);
    suite_add_tcase(s, p);
    return s;
}

int main(void) { return kh_test_run(suite()); }
