/*
 * sim_gen — stories of children, told one event at a time. A pool of open
 * stories; each step either opens a new story (and sends its first event)
 * or moves an open one on to its next status.
 */
#include "sim_gen.h"

#include "kh_alloc.h"
#include "kh_bsn.h"
#include "kh_code.h"
#include "kh_orgid.h"
#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 256
#define DAY_MS 86400000LL

typedef sim_child child;
typedef sim_story story;

struct sim_gen {
    const sim_world *w;
    sim_rng rng;
    sim_gen_options o;
    story *open;
    size_t nopen;
    child ring[RING];
    size_t nring;
    unsigned long serial; /* numbers the partners' case ids */
};

void sim_gen_defaults(sim_gen_options *o) {
    const double mix[SIM_KINDS] = {35, 15, 25, 25};
    memcpy(o->mix, mix, sizeof mix);
    o->cross = 0.3;
    o->invalid_share = 0;
    o->open = 64;
    o->termijn_share = 0;
    o->today = 0;
}

sim_rng *sim_gen_rng(sim_gen *g) { return &g->rng; }

const sim_world *sim_gen_world(sim_gen *g) { return g->w; }

const sim_gen_options *sim_gen_opts(sim_gen *g) { return &g->o; }

unsigned long sim_gen_serial(sim_gen *g) { return ++g->serial; }

sim_gen *sim_gen_new(const sim_world *w, uint64_t seed, const sim_gen_options *o) {
    sim_gen *g = kh_calloc(1, sizeof *g);
    g->w = w;
    g->o = *o;
    if (g->o.open == 0)
        g->o.open = 1;
    g->open = kh_calloc(g->o.open, sizeof *g->open);
    sim_rng_seed(&g->rng, seed);
    return g;
}

/* Frees what a story holds. */
static void story_free(story *s) {
    json_decref(s->tmpl);
    for (int i = 0; i < SIM_MAX_STEPS; i++)
        json_decref(s->script[i]);
}

void sim_gen_free(sim_gen *g) {
    if (!g)
        return;
    for (size_t i = 0; i < g->nopen; i++)
        story_free(&g->open[i]);
    free(g->open);
    free(g);
}

void sim_event_clear(sim_event *ev) {
    json_decref(ev->event);
    free(ev->body);
    memset(ev, 0, sizeof *ev);
}

/* ---- children ------------------------------------------------------------ */

static void new_bsn(sim_rng *r, char out[10]) {
    for (;;) {
        int sum = 0;
        for (int i = 0; i < 8; i++) {
            int d = (int)(i == 0 ? sim_rng_range(r, 1, 9) : sim_rng_range(r, 0, 9));
            out[i] = (char)('0' + d);
            sum += d * (9 - i);
        }
        if (sum % 11 == 10)
            continue;
        out[8] = (char)('0' + sum % 11);
        out[9] = 0;
        if (kh_bsn_valid(out))
            return;
    }
}

/* A new child living in woon, aged min..max whole years on day. */
static child new_child(sim_gen *g, const char *woon, int32_t day, int min, int max) {
    child c;
    new_bsn(&g->rng, c.bsn);
    int age = (int)sim_rng_range(&g->rng, min, max);
    c.geboren = day - (int32_t)(age * 365.25) - (int32_t)sim_rng_range(&g->rng, 1, 360);
    snprintf(c.woon, sizeof c.woon, "%s", woon);
    snprintf(c.brp, sizeof c.brp, "%s", sim_world_brp_code(g->w, &g->rng, woon, 0.2));
    g->ring[g->nring++ % RING] = c;
    return c;
}

/* A child seen before (born by day, at most max years old then), or a new
 * one in a random gemeente. */
static child some_child(sim_gen *g, int32_t day, int max, double reuse) {
    size_t n = g->nring < RING ? g->nring : RING;
    if (n && sim_rng_chance(&g->rng, reuse)) {
        const child *c = &g->ring[sim_rng_below(&g->rng, n)];
        if (c->geboren <= day && kh_age_years(c->geboren, day) <= max)
            return *c;
    }
    const sim_world *w = g->w;
    return new_child(g, w->gemeenten[sim_rng_below(&g->rng, w->ngemeenten)], day, 0, max);
}

sim_child sim_gen_child(sim_gen *g, const char *woon, int32_t day, int min, int max) {
    return new_child(g, woon, day, min, max);
}

/* ---- the parts every event has ------------------------------------------- */

static json_t *jeugdige(const child *c) {
    char born[KH_DATE_LEN];
    return json_pack("{s:s, s:s, s:s}", "bsn", c->bsn, "geboortedatum",
                     kh_date_format(c->geboren, born), "woonplaatsgemeente", c->brp);
}

static json_t *org(const char *type, const char *code) {
    return json_pack("{s:s, s:s}", "type", type, "code", code);
}

static json_t *date_json(int32_t day) {
    char s[KH_DATE_LEN];
    return json_string(kh_date_format(day, s));
}

static void set_bron(story *s, const char *type, const char *code) {
    kh_orgid_join(type, code, s->bron, sizeof s->bron);
}

/* The template: the event's own fields after envelope and jeugdige. */
static json_t *tmpl_new(const child *c) {
    return json_pack("{s:{}, s:o}", "envelope", "jeugdige", jeugdige(c));
}

json_t *sim_gen_template(const sim_child *c) { return tmpl_new(c); }

json_t *sim_gen_org(const char *type, const char *code) { return org(type, code); }

json_t *sim_gen_date(int32_t day) { return date_json(day); }

static const char *pick_str(sim_rng *r, const char *const *list, const double *w, size_t n) {
    return list[sim_rng_weighted(r, w, n)];
}

static int32_t first_day(sim_gen *g) {
    int32_t last = g->w->to - SIM_STORY_SPAN;
    return g->w->from + (int32_t)sim_rng_below(&g->rng, (uint64_t)(last - g->w->from) + 1);
}

/* Steps: the first status, then a middle one with probability p_mid, then
 * one of the ends by weight. Days advance 2..21 per step. */
static void plan(sim_gen *g, story *s, int32_t day, const char *first, const char *mid,
                 double p_mid, const char *const *ends, const double *w, size_t nends) {
    s->steps = 0;
    s->status[s->steps] = first;
    s->day[s->steps++] = day;
    if (mid && sim_rng_chance(&g->rng, p_mid)) {
        day += (int32_t)sim_rng_range(&g->rng, 2, 21);
        s->status[s->steps] = mid;
        s->day[s->steps++] = day;
    }
    if (nends) {
        day += (int32_t)sim_rng_range(&g->rng, 2, 21);
        s->status[s->steps] = pick_str(&g->rng, ends, w, nends);
        s->day[s->steps++] = day;
    }
}

/* ---- aanmelding ------------------------------------------------------------ */

static const char *const AANMELDING_ENDS[] = {"GEPLAATST", "AFGEWEZEN", "INGETROKKEN"};
static const double AANMELDING_END_W[] = {70, 20, 10};

static void age_for(const char *soort, int *min, int *max) {
    static const struct {
        const char *soort;
        int min, max;
    } ages[] = {{"PO", 4, 11},   {"SBO", 5, 11},  {"SO", 4, 11},  {"VO", 12, 18},
                {"VSO", 12, 20}, {"PRO", 12, 18}, {"MBO", 16, 21}};
    *min = 4, *max = 11;
    for (size_t i = 0; i < sizeof ages / sizeof ages[0]; i++)
        if (strcmp(ages[i].soort, soort) == 0)
            *min = ages[i].min, *max = ages[i].max;
}

/* A school for a child of woon: in woon itself, or across the border. */
static const char *choose_school(sim_gen *g, const char *woon, const char *soort, int32_t day) {
    const char *school = NULL;
    if (!sim_rng_chance(&g->rng, g->o.cross))
        school = sim_world_school(g->w, &g->rng, woon, soort, day);
    if (!school)
        school = sim_world_school(g->w, &g->rng,
                                  sim_world_other_gemeente(g->w, &g->rng, woon, day, 0.1), soort,
                                  day);
    return school ? school : sim_world_school(g->w, &g->rng, NULL, soort, day);
}

const char *sim_gen_school(sim_gen *g, const char *woon, const char *soort, int32_t day) {
    return choose_school(g, woon, soort, day);
}

static int story_onderwijs(sim_gen *g, story *s) {
    static const char *const soorten[] = {"PO", "VO", "SBO", "SO", "VSO", "PRO", "MBO"};
    static const double w[] = {35, 30, 8, 7, 7, 5, 3};
    int32_t day = first_day(g);
    const char *woon = g->w->gemeenten[sim_rng_below(&g->rng, g->w->ngemeenten)];
    const char *soort = pick_str(&g->rng, soorten, w, 7);
    const char *code = choose_school(g, woon, soort, day);
    if (!code) { /* no school teaches it: take any school and what it teaches */
        code = sim_world_school(g->w, &g->rng, NULL, NULL, day);
        for (size_t i = 0; i < 7; i++)
            if (kh_code_in_list(kh_ref_school_at(g->w->ref, code, day)->soorten, soorten[i]))
                soort = soorten[i];
    }
    const kh_ref_school *school = kh_ref_school_at(g->w->ref, code, day);
    int min, max;
    age_for(soort, &min, &max);
    child c = new_child(g, woon, day, min, max);
    char id[40];
    snprintf(id, sizeof id, "LLN-%lu", ++g->serial);
    int steun = strcmp(soort, "SBO") == 0 || strcmp(soort, "SO") == 0 ||
                strcmp(soort, "VSO") == 0 || sim_rng_chance(&g->rng, 0.2);
    s->tmpl = tmpl_new(&c);
    json_object_set_new(s->tmpl, "aanmelding_id", json_string(id));
    json_object_set_new(s->tmpl, "soort", json_string("ONDERWIJS"));
    json_object_set_new(s->tmpl, "bij", org("SCHOOL", code));
    json_object_set_new(s->tmpl, "vestigingsgemeente", json_string(school->gemeente));
    json_object_set_new(s->tmpl, "onderwijssoort", json_string(soort));
    json_object_set_new(s->tmpl, "ondersteuningsbehoefte", json_boolean(steun));
    set_bron(s, "SCHOOL", code);
    s->dated = 1;
    if (sim_rng_chance(&g->rng, 0.1)) {
        static const char *const gone[] = {"INGETROKKEN"};
        static const double one[] = {1};
        plan(g, s, day, "INGEDIEND", NULL, 0, gone, one, 1);
    } else {
        plan(g, s, day, "INGEDIEND", "IN_BEHANDELING", 0.8, AANMELDING_ENDS, AANMELDING_END_W, 3);
    }
    return 0;
}

static int story_jeugdhulp(sim_gen *g, story *s) {
    int32_t day = first_day(g);
    const char *woon = g->w->gemeenten[sim_rng_below(&g->rng, g->w->ngemeenten)];
    const char *code = sim_world_aanbieder(g->w, &g->rng, woon, day, g->o.cross / 2);
    const kh_ref_aanbieder *a = kh_ref_aanbieder_at(g->w->ref, code, day);
    child c = new_child(g, woon, day, 0, 17);
    char id[40];
    snprintf(id, sizeof id, "CL-%lu", ++g->serial);
    s->tmpl = tmpl_new(&c);
    json_object_set_new(s->tmpl, "aanmelding_id", json_string(id));
    json_object_set_new(s->tmpl, "soort", json_string("JEUGDHULP"));
    json_object_set_new(s->tmpl, "bij", org("AANBIEDER", code));
    json_object_set_new(s->tmpl, "vestigingsgemeente", json_string(a->vestigingsgemeente));
    json_object_set_new(s->tmpl, "ondersteuningsbehoefte",
                        json_boolean(sim_rng_chance(&g->rng, 0.5)));
    set_bron(s, "AANBIEDER", code);
    s->dated = 1;
    plan(g, s, day, "INGEDIEND", "IN_BEHANDELING", 0.6, AANMELDING_ENDS, AANMELDING_END_W, 3);
    return 0;
}

/* ---- tlv ------------------------------------------------------------------- */

static const char *issuing_swv(sim_gen *g, const char *woon, const char *sector, int32_t day) {
    const char *own = sim_world_swv_of(g->w, woon, sector, day);
    if (!sim_rng_chance(&g->rng, g->o.cross))
        return own;
    const char *near = sim_world_swv_of(g->w,
                                        sim_world_other_gemeente(g->w, &g->rng, woon, day, 0.2),
                                        sector, day);
    if (near[0] && strcmp(near, own) != 0)
        return near;
    const char *other = sim_world_other_swv(g->w, &g->rng, sector, own, day);
    return other ? other : own;
}

/* eerste_inschrijving: true (a first enrolment, issued by the SWV of the
 * woonplaats but now and then by another), false (a verwijzing from a
 * school), or not stated. */
static const char *tlv_swv(sim_gen *g, story *s, const char *woon, const char *sector,
                           int32_t day) {
    static const double w[] = {15, 35, 50};
    size_t eerste = sim_rng_weighted(&g->rng, w, 3);
    if (eerste < 2)
        json_object_set_new(s->tmpl, "eerste_inschrijving", json_boolean(eerste == 0));
    if (eerste == 0 && !sim_rng_chance(&g->rng, g->o.cross / 3))
        return sim_world_swv_of(g->w, woon, sector, day);
    return issuing_swv(g, woon, sector, day);
}

static int story_tlv(sim_gen *g, story *s) {
    static const char *const soorten[] = {"SBO", "SO", "VSO", "PRO"};
    static const double w[] = {35, 30, 22, 13};
    static const char *const cats[] = {"LAAG", "MIDDEN", "HOOG"};
    static const double cat_w[] = {60, 30, 10};
    static const char *const ends[] = {"AFGEGEVEN", "AFGEWEZEN", "INGETROKKEN"};
    static const double end_w[] = {75, 15, 10};
    int32_t day = first_day(g), start = day + (int32_t)sim_rng_range(&g->rng, 14, 60);
    const char *soort = pick_str(&g->rng, soorten, w, 4);
    const char *sector = strcmp(soort, "VSO") == 0 || strcmp(soort, "PRO") == 0 ? "VO" : "PO";
    const char *woon = g->w->gemeenten[sim_rng_below(&g->rng, g->w->ngemeenten)];
    child c = new_child(g, woon, start, sector[0] == 'V' ? 12 : 5, sector[0] == 'V' ? 17 : 11);
    s->tmpl = tmpl_new(&c);
    const char *swv = tlv_swv(g, s, woon, sector, start);
    const char *school = sim_world_school_of_swv(g->w, &g->rng, swv, soort, start);
    if (!school)
        school = sim_world_school_of_swv(g->w, &g->rng, swv, NULL, start);
    if (!school)
        school = sim_world_school(g->w, &g->rng, NULL, NULL, start);
    char id[40];
    snprintf(id, sizeof id, "TLV-%s-%lu", swv, ++g->serial);
    json_object_set_new(s->tmpl, "tlv_id", json_string(id));
    json_object_set_new(s->tmpl, "swv", json_string(swv));
    json_object_set_new(s->tmpl, "soort", json_string(soort));
    if (strcmp(soort, "SO") == 0 || strcmp(soort, "VSO") == 0)
        json_object_set_new(s->tmpl, "bekostigingscategorie",
                            json_string(pick_str(&g->rng, cats, cat_w, 3)));
    json_object_set_new(s->tmpl, "aanvragende_school", json_string(school));
    json_object_set_new(s->tmpl, "ingangsdatum", date_json(start));
    json_object_set_new(s->tmpl, "einddatum",
                        date_json(start + (sim_rng_chance(&g->rng, 0.5) ? 364 : 729)));
    set_bron(s, "SWV", swv);
    plan(g, s, day, "AANGEVRAAGD", NULL, 0, ends, end_w, 3);
    return 0;
}

/* ---- beschikking ----------------------------------------------------------- */

/* An iJw product: with verblijf (43, 44, now and then a 2015 category
 * 35-38 of a replayed old decision) or without. */
static json_t *product(sim_rng *r, int verblijf) {
    static const char *const cats[] = {"45", "40", "41", "46", "47", "50", "51", "52", "54"};
    static const char *const stay[] = {"43", "44", "35", "36", "37", "38"};
    static const double stay_w[] = {45, 35, 5, 5, 5, 5};
    const char *cat = verblijf ? pick_str(r, stay, stay_w, 6) : cats[sim_rng_below(r, 9)];
    if (!sim_rng_chance(r, 0.6))
        return json_pack("{s:s}", "categorie", cat);
    char code[6];
    snprintf(code, sizeof code, "%s%c%02d", cat, (char)('A' + sim_rng_below(r, 6)),
             (int)sim_rng_below(r, 100));
    return json_pack("{s:s, s:s}", "categorie", cat, "code", code);
}

static json_t *omvang(sim_rng *r) {
    static const char *const eenheden[] = {"UUR", "MINUUT", "DAGDEEL", "ETMAAL", "STUKS", "EURO"};
    static const double w[] = {40, 15, 15, 10, 10, 10};
    static const char *const freq[] = {"PER_WEEK", "PER_MAAND", "PER_DAG", "TOTAAL"};
    static const double fw[] = {50, 20, 10, 20};
    return json_pack("{s:i, s:s, s:s}", "volume", (int)sim_rng_range(r, 1, 120), "eenheid",
                     pick_str(r, eenheden, w, 6), "frequentie", pick_str(r, freq, fw, 4));
}

static void beschikking_plan(sim_gen *g, story *s, int32_t day) {
    static const char *const ends[] = {"GEWIJZIGD", "BEEINDIGD", "INGETROKKEN"};
    static const double end_w[] = {40, 45, 15};
    if (sim_rng_chance(&g->rng, 0.1)) {
        plan(g, s, day, "AFGEWEZEN", NULL, 0, NULL, NULL, 0);
        return;
    }
    plan(g, s, day, "TOEGEKEND", NULL, 0, ends, end_w, sim_rng_chance(&g->rng, 0.5) ? 3 : 0);
}

static void set_verantwoordelijke(json_t *tmpl, const char *gemeente, const char *reden) {
    json_object_set_new(tmpl, "verantwoordelijke_gemeente",
                        json_pack("{s:s, s:s}", "gemeente", gemeente, "reden", reden));
}

/* Now and then the sender states the verantwoordelijke gemeente of a child
 * not in verblijf: mostly the BRP one; the mother's gemeente at birth when
 * no address is known; the address before an earlier stay. */
static void maybe_verantwoordelijke(sim_gen *g, json_t *tmpl, const child *c, int32_t day) {
    static const char *const redenen[] = {"BRP", "MOEDER_BIJ_GEBOORTE", "VOOR_VERBLIJF"};
    static const double w[] = {70, 10, 20};
    if (!sim_rng_chance(&g->rng, 0.2))
        return;
    const char *reden = pick_str(&g->rng, redenen, w, 3);
    const char *gemeente = c->brp;
    if (strcmp(reden, "BRP") != 0 && sim_rng_chance(&g->rng, 0.6))
        gemeente = sim_world_other_gemeente(g->w, &g->rng, c->woon, day, 0.3);
    set_verantwoordelijke(tmpl, gemeente, reden);
}

/* A child in verblijf at an aanbieder, often outside the home gemeente:
 * the BRP may already name the aanbieder's gemeente; the home gemeente
 * (the address before the stay) is responsible and mostly stated and the
 * one deciding. Sets *gemeente and *aanbieder; the child's BRP may change. */
static void verblijf(sim_gen *g, child *c, int32_t day, const char **gemeente,
                     const char **aanbieder, int *stated) {
    const char *near = sim_world_other_gemeente(g->w, &g->rng, c->woon, day, 0.3);
    const char *merged;
    *aanbieder = sim_world_aanbieder(g->w, &g->rng, sim_rng_chance(&g->rng, 0.6) ? near : c->woon,
                                     day, g->o.cross);
    const kh_ref_aanbieder *a = kh_ref_aanbieder_at(g->w->ref, *aanbieder, day);
    const kh_ref_gemeente *at = kh_ref_gemeente_resolve(g->w->ref, a->vestigingsgemeente, day,
                                                        &merged);
    *stated = sim_rng_chance(&g->rng, 0.7);
    *gemeente = c->woon;
    if (at && sim_rng_chance(&g->rng, 0.4)) { /* registered at the place of stay */
        snprintf(c->brp, sizeof c->brp, "%s", at->code);
        if (sim_rng_chance(&g->rng, g->o.cross))
            *gemeente = at->code; /* ... whose gemeente decides */
    }
}

static int story_beschikking(sim_gen *g, story *s) {
    int32_t day = first_day(g), start = day + (int32_t)sim_rng_range(&g->rng, 1, 14);
    child c = some_child(g, start, 17, 0.4);
    int in_verblijf = sim_rng_chance(&g->rng, 0.2), stated = 0;
    const char *gemeente = c.woon, *aanbieder;
    if (in_verblijf) {
        verblijf(g, &c, start, &gemeente, &aanbieder, &stated);
    } else {
        if (sim_rng_chance(&g->rng, g->o.cross / 2))
            gemeente = sim_world_other_gemeente(g->w, &g->rng, c.woon, start, 0.2);
        aanbieder = sim_world_aanbieder(g->w, &g->rng, gemeente, start, g->o.cross / 3);
    }
    char id[40];
    snprintf(id, sizeof id, "JW-%s-%lu", gemeente, ++g->serial);
    s->tmpl = tmpl_new(&c);
    json_object_set_new(s->tmpl, "beschikking_id", json_string(id));
    json_object_set_new(s->tmpl, "gemeente", json_string(gemeente));
    json_object_set_new(s->tmpl, "aanbieder", json_string(aanbieder));
    json_object_set_new(s->tmpl, "product", product(&g->rng, in_verblijf));
    json_object_set_new(s->tmpl, "omvang", omvang(&g->rng));
    json_object_set_new(s->tmpl, "ingangsdatum", date_json(start));
    if (sim_rng_chance(&g->rng, 0.8))
        json_object_set_new(s->tmpl, "einddatum",
                            date_json(start + (int32_t)sim_rng_range(&g->rng, 30, 365)));
    const char *school = NULL;
    if (sim_rng_chance(&g->rng, 0.15))
        school = choose_school(g, c.woon, NULL, start);
    json_object_set_new(s->tmpl, "zorg_in_onderwijstijd", json_boolean(school != NULL));
    if (school)
        json_object_set_new(s->tmpl, "school", json_string(school));
    if (sim_rng_chance(&g->rng, 0.3)) {
        char vw[40];
        snprintf(vw, sizeof vw, "VW-%lu", ++g->serial);
        json_object_set_new(s->tmpl, "verwijzing_id", json_string(vw));
    }
    if (stated)
        set_verantwoordelijke(s->tmpl, c.woon, "VOOR_VERBLIJF");
    else if (!in_verblijf)
        maybe_verantwoordelijke(g, s->tmpl, &c, start);
    set_bron(s, "GEMEENTE", gemeente);
    beschikking_plan(g, s, day);
    return 0;
}

/* ---- verwijzing ------------------------------------------------------------ */

/* The organisation that sends a verwijzing of this verwijzer type. */
static void verwijzer(sim_gen *g, story *s, const char *type, const child *c, int32_t day) {
    char code[9];
    const char *sector = kh_age_years(c->geboren, day) < 12 ? "PO" : "VO";
    if (strcmp(type, "GEMEENTE") == 0) {
        snprintf(code, sizeof code, "%s", c->woon);
        set_bron(s, "GEMEENTE", code);
    } else if (strcmp(type, "SCHOOL") == 0) {
        const char *school = choose_school(g, c->woon, sector, day);
        snprintf(code, sizeof code, "%s", school ? school : g->w->scholen[0]);
        set_bron(s, "SCHOOL", code);
    } else if (strcmp(type, "SWV") == 0) {
        snprintf(code, sizeof code, "%s", sim_world_swv_of(g->w, c->woon, sector, day));
        set_bron(s, "SWV", code);
    } else { /* medical verwijzers and GI's, through the woonplaatsgemeente */
        snprintf(code, sizeof code, "01%06u", (unsigned)sim_rng_below(&g->rng, 1000000));
        set_bron(s, "GEMEENTE", c->woon);
    }
    json_object_set_new(s->tmpl, "verwijzer", org(type, code));
}

void sim_gen_verwijzer(sim_gen *g, sim_story *s, const char *type, const sim_child *c,
                       int32_t day) {
    verwijzer(g, s, type, c, day);
}

static int story_verwijzing(sim_gen *g, story *s) {
    static const char *const types[] = {
        "GEMEENTE", "HUISARTS", "JEUGDARTS", "MEDISCH_SPECIALIST", "GECERTIFICEERDE_INSTELLING",
        "SCHOOL",   "SWV"};
    static const double w[] = {30, 20, 10, 8, 7, 15, 10};
    static const char *const domeinen[] = {"JEUGDHULP", "ONDERWIJSONDERSTEUNING",
                                           "SPECIAAL_ONDERWIJS"};
    int32_t day = first_day(g);
    child c = some_child(g, day, 17, 0.5);
    const char *type = pick_str(&g->rng, types, w, 7);
    int onderwijs = strcmp(type, "SCHOOL") == 0 || strcmp(type, "SWV") == 0;
    const double dw[] = {onderwijs ? 40 : 90, onderwijs ? 35 : 5, onderwijs ? 25 : 5};
    const char *domein = pick_str(&g->rng, domeinen, dw, 3);
    char id[40];
    snprintf(id, sizeof id, "VW-%lu", ++g->serial);
    s->tmpl = tmpl_new(&c);
    json_object_set_new(s->tmpl, "verwijzing_id", json_string(id));
    verwijzer(g, s, type, &c, day);
    if (strcmp(domein, "JEUGDHULP") == 0)
        json_object_set_new(s->tmpl, "naar",
                            org("AANBIEDER",
                                sim_world_aanbieder(g->w, &g->rng, c.woon, day, g->o.cross / 2)));
    else
        json_object_set_new(s->tmpl, "naar",
                            org("SWV",
                                sim_world_swv_of(g->w, c.woon,
                                                 kh_age_years(c.geboren, day) < 12 ? "PO" : "VO",
                                                 day)));
    json_object_set_new(s->tmpl, "domein", json_string(domein));
    maybe_verantwoordelijke(g, s->tmpl, &c, day);
    s->dated = 1;
    s->steps = 1;
    s->status[0] = NULL;
    s->day[0] = day;
    return 0;
}

/* ---- telling the stories --------------------------------------------------- */

static int story_new(sim_gen *g, int kind, story *s) {
    memset(s, 0, sizeof *s);
    const char *name[SIM_KINDS] = {"aanmelding", "tlv", "beschikking", "verwijzing"};
    s->type = kh_event_type_by_name(name[kind]);
    if (g->o.termijn_share > 0 && sim_rng_chance(&g->rng, g->o.termijn_share))
        return sim_termijn_story(g, s);
    switch (kind) {
    case SIM_AANMELDING:
        /* Most aanmeldingen are at schools; some at youth-care providers. */
        return sim_rng_chance(&g->rng, 0.8) ? story_onderwijs(g, s) : story_jeugdhulp(g, s);
    case SIM_TLV: return story_tlv(g, s);
    case SIM_BESCHIKKING: return story_beschikking(g, s);
    default: return story_verwijzing(g, s);
    }
}

/* The event of the story's next step, with a fresh event id. */
static int story_step(sim_gen *g, story *s, sim_event *ev) {
    int i = s->next++;
    json_t *script = s->script[i];
    json_t *e = json_deep_copy(script ? script : s->tmpl);
    if (!e)
        return -1;
    const char *bron = script ? s->script_bron[i] : s->bron;
    char ts[KH_TS_LEN], bron_type[KH_ORGID_TYPE_LEN], bron_code[KH_ORGID_CODE_LEN];
    int64_t at = (int64_t)s->day[i] * DAY_MS + sim_rng_range(&g->rng, 7 * 3600, 18 * 3600) * 1000LL;
    sim_rng_uuid(&g->rng, ev->event_id);
    kh_orgid_split(bron, bron_type, bron_code);
    json_t *envelope = json_object_get(e, "envelope");
    json_object_set_new(envelope, "event_id", json_string(ev->event_id));
    json_object_set_new(envelope, "occurred_at", json_string(kh_ts_format(at, ts)));
    json_object_set_new(envelope, "bron", org(bron_type, bron_code));
    if (s->dated && !script)
        json_object_set_new(e, "datum", date_json(s->day[i]));
    if (s->status[i])
        json_object_set_new(e, "status", json_string(s->status[i]));
    ev->type = script ? s->script_type[i] : s->type;
    snprintf(ev->bron, sizeof ev->bron, "%s", bron);
    ev->event = e;
    ev->valid = 1;
    ev->expect_status = 202;
    return sim_event_finish(ev);
}

int sim_event_finish(sim_event *ev) {
    free(ev->body);
    ev->body = json_dumps(ev->event, JSON_COMPACT);
    const char *id = json_string_value(json_object_get(json_object_get(ev->event, "envelope"),
                                                       "event_id"));
    snprintf(ev->event_id, sizeof ev->event_id, "%s", id ? id : "");
    return ev->body ? 0 : -1;
}

int sim_gen_single(sim_gen *g, int kind, sim_event *ev) {
    story s;
    int rc = story_new(g, kind, &s);
    if (rc == 0)
        rc = story_step(g, &s, ev);
    story_free(&s);
    return rc;
}

/* Opens a story, or moves an open one on; the story's event into ev. */
static int next_valid(sim_gen *g, sim_event *ev) {
    int open_new = g->nopen < g->o.open && (g->nopen == 0 || sim_rng_chance(&g->rng, 0.4));
    if (open_new) {
        story *s = &g->open[g->nopen];
        if (story_new(g, (int)sim_rng_weighted(&g->rng, g->o.mix, SIM_KINDS), s) < 0)
            return -1;
        g->nopen++;
    }
    size_t i = open_new ? g->nopen - 1 : sim_rng_below(&g->rng, g->nopen);
    story *s = &g->open[i];
    int rc = story_step(g, s, ev);
    if (s->next == s->steps) { /* told: its place goes to the last open story */
        story_free(s);
        g->open[i] = g->open[--g->nopen];
    }
    return rc;
}

int sim_gen_next(sim_gen *g, sim_event *ev) {
    sim_event_clear(ev);
    if (g->o.invalid_share > 0 && sim_rng_chance(&g->rng, g->o.invalid_share))
        return sim_invalid_make(g, ev);
    return next_valid(g, ev);
}
