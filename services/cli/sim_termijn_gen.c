/*
 * sim_termijn_gen — termijn cases for the simulator's stream: stories that
 * open each of ketenhub-termijn's six regels, dated around the options'
 * `today` so that some termijnen are due by then and some not, some closed
 * in time by the event that ends them, some closed late, some never.
 * The expectation is not made here: sim_termijn computes it from the
 * events, like any other story's.
 */
#include "sim_gen.h"

#include "kh_time.h"
#include "sim_termijn_kal.h"

#include <stdio.h>
#include <string.h>

enum { TG_ZORGPLICHT, TG_THUISZITTER, TG_TLV, TG_BESCHIKKING, TG_VERWIJZING, TG_KINDS };

typedef struct tg {
    sim_gen *g;
    sim_rng *r;
    const sim_world *w;
    int32_t today;
} tg;

static int32_t clamp(const tg *t, int32_t day) {
    return day < t->w->from ? t->w->from : day > t->w->to ? t->w->to : day;
}

static int32_t around(const tg *t, int32_t lo, int32_t hi) {
    return clamp(t, t->today + (int32_t)sim_rng_range(t->r, lo, hi));
}

static const char *any_gemeente(const tg *t) {
    return t->w->gemeenten[sim_rng_below(t->r, t->w->ngemeenten)];
}

/* A gemeente whose jeugdregio registered a THUISZITTER_AANBOD agreement
 * (the Alkmaar region in the shipped data), else any. */
static const char *aanbod_gemeente(const tg *t, int32_t day) {
    size_t n = t->w->ngemeenten, start = sim_rng_below(t->r, n);
    for (size_t k = 0; k < n; k++) {
        const char *code = t->w->gemeenten[(start + k) % n];
        const kh_ref_gemeente *g = kh_ref_gemeente_at(t->w->ref, code, day);
        if (g && kh_ref_afspraak_at(t->w->ref, g->jeugdregio, "THUISZITTER_AANBOD", day))
            return code;
    }
    return any_gemeente(t);
}

/* A step telling ev (owned by the story from now on) on day. */
static void script(sim_story *s, const char *type, const char *bron, json_t *ev, int32_t day) {
    int i = s->steps++;
    s->script[i] = ev;
    s->script_type[i] = kh_event_type_by_name(type);
    snprintf(s->script_bron[i], sizeof s->script_bron[i], "%s", bron);
    s->day[i] = day;
}

/* A template step with status on day. */
static void step(sim_story *s, const char *status, int32_t day) {
    s->status[s->steps] = status;
    s->day[s->steps++] = day;
}

/* Steps in date order (a story is told in order). */
static void sort_steps(sim_story *s) {
    for (int i = 1; i < s->steps; i++)
        for (int j = i; j > 0 && s->day[j] < s->day[j - 1]; j--) {
            sim_story tmp = *s;
            s->day[j] = tmp.day[j - 1], s->day[j - 1] = tmp.day[j];
            s->status[j] = tmp.status[j - 1], s->status[j - 1] = tmp.status[j];
            s->script[j] = tmp.script[j - 1], s->script[j - 1] = tmp.script[j];
            s->script_type[j] = tmp.script_type[j - 1], s->script_type[j - 1] = tmp.script_type[j];
            memcpy(s->script_bron[j], tmp.script_bron[j - 1], sizeof s->script_bron[j]);
            memcpy(s->script_bron[j - 1], tmp.script_bron[j], sizeof s->script_bron[j]);
        }
}

/* A school of soort that has zorgplicht (not a cluster 1/2 instelling). */
static const char *gewone_school(const tg *t, const char *woon, const char *soort, int32_t day) {
    for (int tries = 0; tries < 20; tries++) {
        const char *code = sim_gen_school(t->g, woon, soort, day);
        const kh_ref_school *s = code ? kh_ref_school_at(t->w->ref, code, day) : NULL;
        if (s && s->cluster == 0)
            return code;
    }
    return NULL;
}

/* An aanmelding ONDERWIJS of c at school (status and datum set by the caller). */
static json_t *aanmelding(const tg *t, const sim_child *c, const char *school, const char *soort,
                          int steun, int32_t day) {
    char id[40];
    snprintf(id, sizeof id, "LLN-%lu", sim_gen_serial(t->g));
    json_t *e = sim_gen_template(c);
    json_object_set_new(e, "aanmelding_id", json_string(id));
    json_object_set_new(e, "soort", json_string("ONDERWIJS"));
    json_object_set_new(e, "bij", sim_gen_org("SCHOOL", school));
    json_object_set_new(e, "vestigingsgemeente",
                        json_string(kh_ref_school_at(t->w->ref, school, day)->gemeente));
    json_object_set_new(e, "onderwijssoort", json_string(soort));
    json_object_set_new(e, "ondersteuningsbehoefte", json_boolean(steun));
    return e;
}

static json_t *dated(json_t *e, const char *status, int32_t day) {
    json_object_set_new(e, "status", json_string(status));
    json_object_set_new(e, "datum", sim_gen_date(day));
    return e;
}

/* ---- the cases --------------------------------------------------------------- */

/* Zorgplicht: an INGEDIEND with ondersteuningsbehoefte, decided or not,
 * before or after the 6 and 10 weeks. */
static int zorgplicht(const tg *t, sim_story *s) {
    static const char *const ends[] = {"GEPLAATST", "AFGEWEZEN", "INGETROKKEN"};
    int32_t day = around(t, -100, 0);
    const char *soort = sim_rng_chance(t->r, 0.5) ? "PO" : "VO";
    const char *woon = any_gemeente(t), *school = gewone_school(t, woon, soort, day);
    if (!school)
        return -1;
    sim_child c = sim_gen_child(t->g, woon, day, soort[0] == 'P' ? 4 : 12,
                                soort[0] == 'P' ? 11 : 16);
    s->tmpl = aanmelding(t, &c, school, soort, 1, day);
    snprintf(s->bron, sizeof s->bron, "SCHOOL:%s", school);
    s->dated = 1;
    step(s, "INGEDIEND", day);
    if (sim_rng_chance(t->r, 0.5))
        step(s, ends[sim_rng_below(t->r, 3)], clamp(t, day + (int32_t)sim_rng_range(t->r, 10, 90)));
    if (sim_rng_chance(t->r, 0.3)) { /* the child moves: a later event names the new gemeente */
        int32_t when = clamp(t, day + (int32_t)sim_rng_range(t->r, 1, 60));
        json_t *e = dated(json_deep_copy(s->tmpl), "IN_BEHANDELING", when);
        json_object_set_new(json_object_get(e, "jeugdige"), "woonplaatsgemeente",
                            json_string(any_gemeente(t)));
        script(s, "aanmelding", s->bron, e, when);
        sort_steps(s);
    }
    return 0;
}

/* The age of a refused child: now and then just below 5 or 18+ (RMC). */
static void thuiszitter_age(const tg *t, int *min, int *max, const char **soort) {
    double u = sim_rng_unit(t->r);
    *min = u < 0.1 ? 4 : u < 0.7 ? 6 : 17;
    *max = u < 0.1 ? 5 : u < 0.7 ? 16 : 22;
    *soort = u < 0.4 ? "PO" : u < 0.7 ? "VO" : sim_rng_chance(t->r, 0.5) ? "VO" : "MBO";
}

/* A refusal (dreigende thuiszitter; in a region with an agreed term also
 * zonder aanbod), and maybe a placement elsewhere later. */
static int thuiszitter(const tg *t, sim_story *s) {
    static const char *const refusals[] = {"AFGEWEZEN", "INGETROKKEN"};
    int32_t day = around(t, -130, 0), sent = clamp(t, day - (int32_t)sim_rng_range(t->r, 5, 30));
    int min, max;
    const char *soort;
    thuiszitter_age(t, &min, &max, &soort);
    const char *woon = sim_rng_chance(t->r, 0.5) ? aanbod_gemeente(t, day) : any_gemeente(t);
    const char *a = gewone_school(t, woon, soort, day), *b = gewone_school(t, woon, soort, day);
    if (!a || !b)
        return -1;
    sim_child c = sim_gen_child(t->g, woon, day, min, max);
    int steun = sim_rng_chance(t->r, 0.3);
    s->tmpl = aanmelding(t, &c, a, soort, steun, day);
    snprintf(s->bron, sizeof s->bron, "SCHOOL:%s", a);
    s->dated = 1;
    step(s, "INGEDIEND", sent);
    step(s, refusals[sim_rng_below(t->r, 2)], day);
    if (sim_rng_chance(t->r, 0.5)) {
        int32_t later = clamp(t, day + (int32_t)sim_rng_range(t->r, 5, 120));
        char bron[24];
        snprintf(bron, sizeof bron, "SCHOOL:%s", b);
        script(s, "aanmelding", bron,
               dated(aanmelding(t, &c, b, soort, 0, later), "GEPLAATST", later), later);
    }
    return 0;
}

static json_t *tlv_event(const tg *t, const sim_child *c, const char *swv, const char *soort,
                         const char *school, int32_t ingang, int32_t einde) {
    char id[40];
    snprintf(id, sizeof id, "TLV-%s-%lu", swv, sim_gen_serial(t->g));
    json_t *e = sim_gen_template(c);
    json_object_set_new(e, "tlv_id", json_string(id));
    json_object_set_new(e, "swv", json_string(swv));
    json_object_set_new(e, "soort", json_string(soort));
    json_object_set_new(e, "bekostigingscategorie", json_string("LAAG")); /* SO and VSO */
    json_object_set_new(e, "aanvragende_school", json_string(school));
    json_object_set_new(e, "ingangsdatum", sim_gen_date(ingang));
    json_object_set_new(e, "einddatum", sim_gen_date(einde));
    return e;
}

/* The child's placement at a school (the TLV's current school). */
static void plaatsing(const tg *t, sim_story *s, const sim_child *c, const char *soort,
                      int32_t day) {
    const char *school = gewone_school(t, c->woon, soort, day);
    char bron[24];
    if (!school)
        return;
    snprintf(bron, sizeof bron, "SCHOOL:%s", school);
    script(s, "aanmelding", bron, dated(aanmelding(t, c, school, soort, 0, day), "GEPLAATST", day),
           day);
}

/* A TLV whose warning date (einddatum - 3 months) lies around today; maybe
 * a follow-up TLV covering the end, a placement, a withdrawal. */
static int tlv(const tg *t, sim_story *s) {
    int32_t d0 = around(t, -200, -10), ingang = clamp(t, d0 + (int32_t)sim_rng_range(t->r, 0, 30));
    int32_t einde = sim_kal_plus_maanden(t->today + (int32_t)sim_rng_range(t->r, -30, 30), 3);
    const char *woon = any_gemeente(t), *soort = sim_rng_chance(t->r, 0.5) ? "SO" : "VSO";
    const char *swv = sim_world_swv_of(t->w, woon, soort[0] == 'S' ? "PO" : "VO", d0);
    const char *school = sim_world_school_of_swv(t->w, t->r, swv, NULL, d0);
    if (!swv[0] || !school)
        return -1;
    sim_child c = sim_gen_child(t->g, woon, d0, soort[0] == 'S' ? 5 : 12,
                                soort[0] == 'S' ? 10 : 16);
    s->tmpl = tlv_event(t, &c, swv, soort, school, ingang, einde);
    snprintf(s->bron, sizeof s->bron, "SWV:%s", swv);
    step(s, "AANGEVRAAGD", clamp(t, d0 - (int32_t)sim_rng_range(t->r, 5, 20)));
    step(s, "AFGEGEVEN", d0);
    if (sim_rng_chance(t->r, 0.35))
        plaatsing(t, s, &c, soort, clamp(t, d0 + (int32_t)sim_rng_range(t->r, 1, 60)));
    if (sim_rng_chance(t->r, 0.4)) {
        int32_t when = clamp(t, d0 + (int32_t)sim_rng_range(t->r, 1, t->today + 60 - d0));
        json_t *e = tlv_event(t, &c, swv, soort, school,
                              einde + 1 - (int32_t)sim_rng_range(t->r, 0, 10),
                              einde + (sim_rng_chance(t->r, 0.5) ? 365 : 730));
        json_object_set_new(e, "status", json_string("AFGEGEVEN"));
        script(s, "tlv", s->bron, e, when);
    } else if (sim_rng_chance(t->r, 0.15)) {
        step(s, "INGETROKKEN", clamp(t, d0 + (int32_t)sim_rng_range(t->r, 1, 120)));
    }
    sort_steps(s);
    return 0;
}

/* A beschikking whose warning date (einddatum - 8 weeks) lies around today;
 * maybe a follow-up at the same aanbieder, an end, a change of the end. */
static json_t *beschikking_event(const tg *t, const sim_child *c, const char *gemeente,
                                 const char *aanbieder, int32_t ingang, int32_t einde) {
    char id[40];
    snprintf(id, sizeof id, "JW-%s-%lu", gemeente, sim_gen_serial(t->g));
    json_t *e = sim_gen_template(c);
    json_object_set_new(e, "beschikking_id", json_string(id));
    json_object_set_new(e, "gemeente", json_string(gemeente));
    json_object_set_new(e, "aanbieder", json_string(aanbieder));
    json_object_set_new(e, "product", json_pack("{s:s}", "categorie", "45"));
    json_object_set_new(e, "omvang",
                        json_pack("{s:i, s:s, s:s}", "volume", 4, "eenheid", "UUR", "frequentie",
                                  "PER_WEEK"));
    json_object_set_new(e, "ingangsdatum", sim_gen_date(ingang));
    if (einde != INT32_MIN)
        json_object_set_new(e, "einddatum", sim_gen_date(einde));
    json_object_set_new(e, "zorg_in_onderwijstijd", json_false());
    return e;
}

static int beschikking(const tg *t, sim_story *s) {
    int32_t d0 = around(t, -250, -10), ingang = clamp(t, d0 + (int32_t)sim_rng_range(t->r, 0, 14));
    int32_t einde = t->today + (int32_t)sim_rng_range(t->r, -25, 25) + 56;
    const char *woon = any_gemeente(t);
    const char *aanbieder = sim_world_aanbieder(t->w, t->r, woon, d0, 0.1);
    sim_child c = sim_gen_child(t->g, woon, d0, 0, 16);
    s->tmpl = beschikking_event(t, &c, woon, aanbieder, ingang, einde);
    snprintf(s->bron, sizeof s->bron, "GEMEENTE:%s", woon);
    step(s, "TOEGEKEND", d0);
    double u = sim_rng_unit(t->r);
    if (u < 0.35) { /* the follow-up: starts by the day after the end, ends later */
        int32_t when = clamp(t, d0 + (int32_t)sim_rng_range(t->r, 1, einde - 10 - d0));
        json_t *e = beschikking_event(t, &c, woon, aanbieder,
                                      einde + 1 - (int32_t)sim_rng_range(t->r, 0, 5),
                                      sim_rng_chance(t->r, 0.8) ? einde + 180 : INT32_MIN);
        json_object_set_new(e, "status", json_string("TOEGEKEND"));
        script(s, "beschikking", s->bron, e, when);
    } else if (u < 0.5) {
        step(s, "BEEINDIGD", clamp(t, d0 + (int32_t)sim_rng_range(t->r, 1, einde - d0)));
    } else if (u < 0.6) { /* the same beschikking, a later end */
        json_t *e = json_deep_copy(s->tmpl);
        json_object_set_new(e, "status", json_string("GEWIJZIGD"));
        json_object_set_new(e, "einddatum",
                            sim_gen_date(einde + (int32_t)sim_rng_range(t->r, 30, 90)));
        script(s, "beschikking", s->bron, e, clamp(t, d0 + (int32_t)sim_rng_range(t->r, 1, 200)));
    }
    sort_steps(s);
    return 0;
}

/* A verwijzing JEUGDHULP by each verwijzer type (with or without a legal
 * term), decided by a beschikking or not. */
static int verwijzing(const tg *t, sim_story *s) {
    static const char *const types[] = {
        "HUISARTS", "JEUGDARTS", "MEDISCH_SPECIALIST", "GECERTIFICEERDE_INSTELLING", "GEMEENTE",
        "SCHOOL",   "SWV"};
    int32_t day = around(t, -70, 0);
    const char *woon = any_gemeente(t);
    sim_child c = sim_gen_child(t->g, woon, day, 0, 16);
    const char *aanbieder = sim_world_aanbieder(t->w, t->r, woon, day, 0.1);
    char id[40];
    snprintf(id, sizeof id, "VW-%lu", sim_gen_serial(t->g));
    s->tmpl = sim_gen_template(&c);
    json_object_set_new(s->tmpl, "verwijzing_id", json_string(id));
    sim_gen_verwijzer(t->g, s, types[sim_rng_below(t->r, 7)], &c, day);
    json_object_set_new(s->tmpl, "naar", sim_gen_org("AANBIEDER", aanbieder));
    json_object_set_new(s->tmpl, "domein", json_string("JEUGDHULP"));
    s->type = kh_event_type_by_name("verwijzing");
    s->dated = 1;
    step(s, NULL, day);
    if (sim_rng_chance(t->r, 0.5)) {
        int32_t when = clamp(t, day + (int32_t)sim_rng_range(t->r, 1, 60));
        char bron[24];
        json_t *e = beschikking_event(t, &c, woon, aanbieder, when, when + 365);
        json_object_set_new(e, "status",
                            json_string(sim_rng_chance(t->r, 0.8) ? "TOEGEKEND" : "AFGEWEZEN"));
        json_object_set_new(e, "verwijzing_id", json_string(id));
        snprintf(bron, sizeof bron, "GEMEENTE:%s", woon);
        script(s, "beschikking", bron, e, when);
    }
    return 0;
}

int sim_termijn_story(sim_gen *g, sim_story *s) {
    static const char *const types[TG_KINDS] = {"aanmelding", "aanmelding", "tlv", "beschikking",
                                                "verwijzing"};
    tg t = {g, sim_gen_rng(g), sim_gen_world(g), sim_gen_opts(g)->today};
    for (int tries = 0; tries < 10; tries++) {
        int kind = (int)sim_rng_below(t.r, TG_KINDS);
        memset(s, 0, sizeof *s);
        s->type = kh_event_type_by_name(types[kind]);
        int rc = kind == TG_ZORGPLICHT    ? zorgplicht(&t, s)
                 : kind == TG_THUISZITTER ? thuiszitter(&t, s)
                 : kind == TG_TLV         ? tlv(&t, s)
                 : kind == TG_BESCHIKKING ? beschikking(&t, s)
                                          : verwijzing(&t, s);
        if (rc == 0)
            return 0;
        json_decref(s->tmpl); /* no school or SWV fits: try another case */
        for (int i = 0; i < SIM_MAX_STEPS; i++)
            json_decref(s->script[i]);
    }
    return -1;
}
