/*
 * sim_invalid — invalid events, one per error class of the README's
 * catalogue: a valid event broken in exactly one documented way, tagged
 * with the reason and JSON pointer ingest must answer with.
 */
#include "sim_gen.h"

#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { A = 1, T = 2, B = 4, V = 8 };

typedef struct breakage {
    const char *reason;
    unsigned kinds; /* the event types (A, T, B, V) it applies to */
    /* Breaks ev->event; returns the pointer of the field it broke. */
    const char *(*apply)(sim_gen *g, sim_event *ev);
} breakage;

static unsigned kind_bit(const sim_event *ev) {
    const char *n = ev->type->name;
    return n[0] == 'a' ? A : n[0] == 't' ? T : n[0] == 'b' ? B : V;
}

static json_t *obj_of(json_t *ev, const char *member) { return json_object_get(ev, member); }

/* The field of the event's own id: aanmelding_id, tlv_id, ... */
static const char *id_field(const sim_event *ev) {
    static const char *const ids[] = {"/aanmelding_id", "/tlv_id", "/beschikking_id",
                                      "/verwijzing_id"};
    unsigned k = kind_bit(ev);
    return ids[k == A ? 0 : k == T ? 1 : k == B ? 2 : 3];
}

static const char *br_required(sim_gen *g, sim_event *ev) {
    (void)g;
    static const char *const field[] = {"status", "einddatum", "aanbieder", "domein"};
    unsigned k = kind_bit(ev);
    const char *f = field[k == A ? 0 : k == T ? 1 : k == B ? 2 : 3];
    json_object_del(ev->event, f);
    return k == A ? "/status" : k == T ? "/einddatum" : k == B ? "/aanbieder" : "/domein";
}

static const char *br_type(sim_gen *g, sim_event *ev) {
    (void)g;
    switch (kind_bit(ev)) {
    case A:
        json_object_set_new(ev->event, "ondersteuningsbehoefte", json_string("ja"));
        return "/ondersteuningsbehoefte";
    case T:
        json_object_set_new(ev->event, "einddatum", json_integer(20270731));
        return "/einddatum";
    case B:
        json_object_set_new(obj_of(ev->event, "omvang"), "volume", json_string("2"));
        return "/omvang/volume";
    default: json_object_set_new(ev->event, "naar", json_string("98000000")); return "/naar";
    }
}

/* A symbol in lower case: not one of the enum's symbols. */
static const char *br_enum(sim_gen *g, sim_event *ev) {
    (void)g;
    const char *field = kind_bit(ev) == V ? "domein" : "status";
    char low[32];
    snprintf(low, sizeof low, "%s", json_string_value(json_object_get(ev->event, field)));
    for (char *c = low; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    json_object_set_new(ev->event, field, json_string(low));
    return kind_bit(ev) == V ? "/domein" : "/status";
}

static json_t *jeugdige_of(sim_event *ev) { return obj_of(ev->event, "jeugdige"); }

static const char *br_format(sim_gen *g, sim_event *ev) {
    (void)g;
    char bsn[10];
    snprintf(bsn, sizeof bsn, "%.8s", json_string_value(json_object_get(jeugdige_of(ev), "bsn")));
    json_object_set_new(jeugdige_of(ev), "bsn", json_string(bsn));
    return "/jeugdige/bsn";
}

static const char *br_too_long(sim_gen *g, sim_event *ev) {
    (void)g;
    char id[80];
    memset(id, 'X', 65);
    id[65] = 0;
    json_object_set_new(ev->event, id_field(ev) + 1, json_string(id));
    return id_field(ev);
}

static const char *br_unknown_field(sim_gen *g, sim_event *ev) {
    (void)g;
    json_object_set_new(ev->event, "opmerking", json_string("graag snel"));
    return "/opmerking";
}

static const char *br_range(sim_gen *g, sim_event *ev) {
    (void)g;
    json_object_set_new(obj_of(ev->event, "omvang"), "volume", json_integer(0));
    return "/omvang/volume";
}

/* The check digit one higher: the weighted sum is then off by one mod 11. */
static const char *br_elfproef(sim_gen *g, sim_event *ev) {
    (void)g;
    char bsn[10];
    snprintf(bsn, sizeof bsn, "%s", json_string_value(json_object_get(jeugdige_of(ev), "bsn")));
    bsn[8] = (char)('0' + (bsn[8] - '0' + 1) % 10);
    json_object_set_new(jeugdige_of(ev), "bsn", json_string(bsn));
    return "/jeugdige/bsn";
}

static const char *br_unknown_code(sim_gen *g, sim_event *ev) {
    int32_t day = kh_event_date(ev->type, ev->event);
    const char *merged;
    char code[7];
    do
        snprintf(code, sizeof code, "GM9%03u", (unsigned)sim_rng_below(sim_gen_rng(g), 1000));
    while (kh_ref_gemeente_resolve(sim_gen_world(g)->ref, code, day, &merged));
    json_object_set_new(jeugdige_of(ev), "woonplaatsgemeente", json_string(code));
    return "/jeugdige/woonplaatsgemeente";
}

static const char *br_date_order(sim_gen *g, sim_event *ev) {
    int32_t from;
    char s[KH_DATE_LEN];
    kh_date_parse(json_string_value(json_object_get(ev->event, "ingangsdatum")), &from);
    from -= (int32_t)sim_rng_range(sim_gen_rng(g), 1, 30);
    json_object_set_new(ev->event, "einddatum", json_string(kh_date_format(from, s)));
    return "/einddatum";
}

static const char *br_future(sim_gen *g, sim_event *ev) {
    (void)g;
    json_object_set_new(jeugdige_of(ev), "geboortedatum", json_string("2099-06-01"));
    return "/jeugdige/geboortedatum";
}

static const char *br_age(sim_gen *g, sim_event *ev) {
    char s[KH_DATE_LEN];
    int32_t day = kh_event_date(ev->type, ev->event);
    int32_t born = day - 30 * 366 - (int32_t)sim_rng_range(sim_gen_rng(g), 0, 2000);
    json_object_set_new(jeugdige_of(ev), "geboortedatum", json_string(kh_date_format(born, s)));
    return "/jeugdige/geboortedatum";
}

static const char *br_inconsistent_tlv(sim_gen *g, sim_event *ev) {
    const char *soort = json_string_value(json_object_get(ev->event, "soort"));
    if (strcmp(soort, "SBO") == 0) {
        json_object_set_new(ev->event, "bekostigingscategorie", json_string("LAAG"));
        return "/bekostigingscategorie";
    }
    if (strcmp(soort, "SO") == 0) { /* an SBO TLV does not have a bekostigingscategorie */
        json_object_set_new(ev->event, "soort", json_string("SBO"));
        return "/bekostigingscategorie";
    }
    const char *swv = json_string_value(json_object_get(ev->event, "swv"));
    const char *other = sim_world_other_swv(sim_gen_world(g), sim_gen_rng(g), "VO", swv,
                                            kh_event_date(ev->type, ev->event));
    json_object_set_new(ev->event, "swv", json_string(other ? other : swv));
    return "/swv"; /* not the bron */
}

static const char *br_inconsistent(sim_gen *g, sim_event *ev) {
    const sim_world *w = sim_gen_world(g);
    int32_t day = kh_event_date(ev->type, ev->event);
    switch (kind_bit(ev)) {
    case A: { /* a vestigingsgemeente where the school or provider is not */
        const char *vg = json_string_value(json_object_get(ev->event, "vestigingsgemeente"));
        json_object_set_new(ev->event, "vestigingsgemeente",
                            json_string(sim_world_other_gemeente(w, sim_gen_rng(g), vg, day, 0.5)));
        return "/vestigingsgemeente";
    }
    case T: return br_inconsistent_tlv(g, ev);
    case B: /* a school without zorg in onderwijstijd */
        json_object_set_new(ev->event, "zorg_in_onderwijstijd", json_false());
        if (!json_object_get(ev->event, "school"))
            json_object_set_new(ev->event, "school", json_string(w->scholen[0]));
        return "/school";
    default: { /* JEUGDHULP to an SWV, or onderwijs to an aanbieder */
        int jeugdhulp = strcmp(json_string_value(json_object_get(ev->event, "domein")),
                               "JEUGDHULP") == 0;
        json_object_set_new(ev->event, "naar",
                            json_pack("{s:s, s:s}", "type", jeugdhulp ? "SWV" : "AANBIEDER", "code",
                                      jeugdhulp ? w->swvs[0] : w->aanbieders[0]));
        return "/naar/type";
    }
    }
}

/* One row per error class; syntax is handled apart (no JSON to break). */
static const breakage breakages[] = {
    {"required", A | T | B | V, br_required},
    {"type", A | T | B | V, br_type},
    {"enum", A | T | B | V, br_enum},
    {"format", A | T | B | V, br_format},
    {"too_long", A | T | B | V, br_too_long},
    {"unknown_field", A | T | B | V, br_unknown_field},
    {"range", B, br_range},
    {"elfproef", A | T | B | V, br_elfproef},
    {"unknown_code", A | T | B | V, br_unknown_code},
    {"date_order", T | B, br_date_order},
    {"future", A | T | B | V, br_future},
    {"age", A | T | B | V, br_age},
    {"inconsistent", A | T | B | V, br_inconsistent},
};
#define NBREAKAGES (sizeof breakages / sizeof breakages[0])

/* A kind of event the breakage applies to. */
static int kind_for(sim_gen *g, unsigned kinds) {
    int k[SIM_KINDS], n = 0;
    for (int i = 0; i < SIM_KINDS; i++)
        if (kinds & (1u << i))
            k[n++] = i;
    return k[sim_rng_below(sim_gen_rng(g), (uint64_t)n)];
}

/* Broken JSON: the text cut off in the middle. */
static int make_syntax(sim_gen *g, sim_event *ev) {
    if (sim_gen_single(g, kind_for(g, A | T | B | V), ev) < 0)
        return -1;
    ev->body[strlen(ev->body) / 2] = 0;
    json_decref(ev->event);
    ev->event = NULL;
    ev->valid = 0;
    ev->expect_status = 400;
    ev->reason = "syntax";
    ev->pointer = "";
    return 0;
}

int sim_invalid_make(sim_gen *g, sim_event *ev) {
    size_t which = sim_rng_below(sim_gen_rng(g), NBREAKAGES + 1);
    if (which == NBREAKAGES)
        return make_syntax(g, ev);
    const breakage *b = &breakages[which];
    if (sim_gen_single(g, kind_for(g, b->kinds), ev) < 0)
        return -1;
    ev->pointer = b->apply(g, ev);
    ev->reason = b->reason;
    ev->valid = 0;
    ev->expect_status = 422;
    return sim_event_finish(ev);
}
