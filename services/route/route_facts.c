/*
 * route_facts — step 1 of the rules: look up, at the event's own date,
 * every organisation and region the rules of its type may name, and fill
 * the slots. A code the rules need that the reference data does not know
 * at that date makes the event poison (UNKNOWN_REFERENCE_CODE) whatever
 * its status: whether an event is poison does not depend on which rule
 * would fire.
 */
#include "route_rules.h"

#include "kh_time.h"

#include <stdio.h>
#include <string.h>

typedef struct resolving {
    const route_event *ev;
    const kh_ref *ref;
    route_result *out;
} resolving;

/* strlcpy: the reference data's codes and names fit; a longer one is cut. */
static void copy(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void put(route_party *p, const char *code, const char *naam) {
    p->known = 1;
    copy(p->code, sizeof p->code, code);
    copy(p->naam, sizeof p->naam, naam);
}

static int unknown(resolving *r, const char *field, const char *code) {
    char day[KH_DATE_LEN];
    r->out->reason_code = "UNKNOWN_REFERENCE_CODE";
    snprintf(r->out->reason, sizeof r->out->reason, "%s %s is not known on %s", field,
             code ? code : "(none)", kh_date_format(r->ev->peildatum, day));
    return -1;
}

static int invalid(resolving *r, const char *field, const char *why) {
    r->out->reason_code = "INVALID_EVENT";
    snprintf(r->out->reason, sizeof r->out->reason, "%s: %s", field, why);
    return -1;
}

/* The name a dissolved gemeente code had, and the day it was dissolved:
 * its last fact before the event date, found by walking back a year at a
 * time and then forward through its facts. */
static void dissolved(const kh_ref *ref, const char *code, int32_t date, route_party *p) {
    int y, mo, d;
    kh_date_to_ymd(date, &y, &mo, &d);
    const kh_ref_gemeente *g = NULL;
    for (int year = y; year > y - 50 && !g; year--)
        g = kh_ref_gemeente_at(ref, code, kh_date_from_ymd(year, 1, 1));
    for (const kh_ref_gemeente *next = g; next && next->valid_to < date;
         next = kh_ref_gemeente_at(ref, code, next->valid_to))
        g = next;
    snprintf(p->old_code, sizeof p->old_code, "%s", code);
    snprintf(p->old_naam, sizeof p->old_naam, "%s", g ? g->naam : code);
    p->merged_on = g ? g->valid_to : date;
}

/* A gemeente at the date, following a herindeling to the successor. */
static const kh_ref_gemeente *gemeente(resolving *r, const char *field, const char *code,
                                       route_slot slot) {
    const char *merged_from = NULL;
    const kh_ref_gemeente *g =
        code ? kh_ref_gemeente_resolve(r->ref, code, r->ev->peildatum, &merged_from) : NULL;
    if (!g) {
        unknown(r, field, code);
        return NULL;
    }
    route_party *p = &r->out->party[slot];
    put(p, g->code, g->naam);
    if (merged_from)
        dissolved(r->ref, merged_from, r->ev->peildatum, p);
    return g;
}

static int swv(resolving *r, const char *field, const char *code, route_slot slot) {
    const kh_ref_swv *s = code ? kh_ref_swv_at(r->ref, code, r->ev->peildatum) : NULL;
    if (!s)
        return unknown(r, field, code);
    put(&r->out->party[slot], s->code, s->naam);
    return 0;
}

static void jeugdregio(resolving *r, const kh_ref_gemeente *g, route_slot slot) {
    put(&r->out->party[slot], g->jeugdregio, g->jeugdregio_naam);
}

static void word(resolving *r, route_slot slot, const char *code, const char *naam) {
    put(&r->out->party[slot], code, naam);
}

/* The passend-onderwijs sector of an onderwijssoort; NULL for MBO, which
 * has no samenwerkingsverband. */
static const char *sector_of(const char *onderwijssoort) {
    static const char *const po[] = {"PO", "SBO", "SO"}, *const vo[] = {"VO", "VSO", "PRO"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(onderwijssoort, po[i]) == 0)
            return "PO";
        if (strcmp(onderwijssoort, vo[i]) == 0)
            return "VO";
    }
    return NULL;
}

/* The SWV's of both gemeenten for a sector. */
static int sector_swvs(resolving *r, const char *sector, const kh_ref_gemeente *woon,
                       const kh_ref_gemeente *other, route_slot other_slot) {
    int po = strcmp(sector, "PO") == 0;
    word(r, ROUTE_SECTOR, sector, po ? "primair onderwijs" : "voortgezet onderwijs");
    if (swv(r, "jeugdige.woonplaatsgemeente SWV", po ? woon->swv_po : woon->swv_vo,
            ROUTE_SWV_WOON))
        return -1;
    return other ? swv(r, "school gemeente SWV", po ? other->swv_po : other->swv_vo, other_slot) : 0;
}

/* A school and its gemeente. */
static const kh_ref_gemeente *school(resolving *r, const char *field, const char *code) {
    const kh_ref_school *s = code ? kh_ref_school_at(r->ref, code, r->ev->peildatum) : NULL;
    if (!s) {
        unknown(r, field, code);
        return NULL;
    }
    put(&r->out->party[ROUTE_SCHOOL], s->code, s->naam);
    return gemeente(r, "school gemeente", s->gemeente, ROUTE_SCHOOLGEMEENTE);
}

static const kh_ref_aanbieder *aanbieder(resolving *r, const char *field, const char *code) {
    const kh_ref_aanbieder *a = code ? kh_ref_aanbieder_at(r->ref, code, r->ev->peildatum) : NULL;
    if (!a)
        unknown(r, field, code);
    else
        put(&r->out->party[ROUTE_AANBIEDER], a->code, a->naam);
    return a;
}

static int aanmelding(resolving *r, const kh_ref_gemeente *woon) {
    const route_event *ev = r->ev;
    if (strcmp(ev->soort, "ONDERWIJS") != 0)
        return 0; /* no rule reads a JEUGDHULP aanmelding's provider */
    if (strcmp(ev->bij_type, "SCHOOL") != 0)
        return invalid(r, "bij.type", "an aanmelding ONDERWIJS is at a SCHOOL");
    if (!ev->onderwijssoort)
        return invalid(r, "onderwijssoort", "required for an aanmelding ONDERWIJS");
    const kh_ref_gemeente *sg = school(r, "bij.code", ev->bij_code);
    if (!sg)
        return -1;
    const char *sector = sector_of(ev->onderwijssoort);
    return sector ? sector_swvs(r, sector, woon, sg, ROUTE_SWV_SCHOOL) : 0;
}

static int tlv(resolving *r, const kh_ref_gemeente *woon) {
    static const char *const soorten[][2] = {{"SBO", "speciaal basisonderwijs"},
                                             {"SO", "speciaal onderwijs"},
                                             {"VSO", "voortgezet speciaal onderwijs"}};
    const route_event *ev = r->ev;
    const char *sector = strcmp(ev->tlv_soort, "VSO") == 0 ? "VO" : "PO";
    if (strncmp(ev->swv, sector, 2) != 0)
        return invalid(r, "swv", "a TLV of this soort is issued by an SWV of the other sector");
    for (size_t i = 0; i < 3; i++)
        if (strcmp(ev->tlv_soort, soorten[i][0]) == 0)
            word(r, ROUTE_SOORT, soorten[i][0], soorten[i][1]);
    if (swv(r, "swv", ev->swv, ROUTE_SWV_AFGEVER))
        return -1;
    return sector_swvs(r, sector, woon, NULL, ROUTE_NONE);
}

/* A beschikking status as a past participle for the toelichting. */
static const char *status_word(const char *status) {
    static const char *const words[][2] = {{"TOEGEKEND", "toegekend"},
                                           {"GEWIJZIGD", "gewijzigd"},
                                           {"AFGEWEZEN", "afgewezen"},
                                           {"INGETROKKEN", "ingetrokken"},
                                           {"BEEINDIGD", "beëindigd"}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(status, words[i][0]) == 0)
            return words[i][1];
    return status;
}

static int beschikking(resolving *r) {
    const route_event *ev = r->ev;
    word(r, ROUTE_STATUS, ev->status, status_word(ev->status));
    if (!gemeente(r, "gemeente", ev->gemeente, ROUTE_BESCHIKKER) ||
        !aanbieder(r, "aanbieder", ev->aanbieder))
        return -1;
    if (!ev->zorg_in_onderwijstijd)
        return 0;
    if (!ev->school)
        return invalid(r, "school", "required when zorg_in_onderwijstijd is true");
    return school(r, "school", ev->school) ? 0 : -1;
}

static int verwijzing(resolving *r) {
    const route_event *ev = r->ev;
    if (strcmp(ev->naar_type, "AANBIEDER") != 0)
        return 0; /* a referral to an SWV crosses no jeugdregio */
    const kh_ref_aanbieder *a = aanbieder(r, "naar.code", ev->naar_code);
    if (!a)
        return -1;
    const kh_ref_gemeente *g =
        gemeente(r, "aanbieder vestigingsgemeente", a->vestigingsgemeente, ROUTE_AANBIEDERGEMEENTE);
    if (!g)
        return -1;
    jeugdregio(r, g, ROUTE_JZ_AANBIEDER);
    return 0;
}

int route_facts_resolve(const route_event *ev, const kh_ref *ref, route_result *out) {
    resolving r = {ev, ref, out};
    memset(out->party, 0, sizeof out->party);
    out->reason_code = NULL;
    out->reason[0] = '\0';
    const kh_ref_gemeente *woon =
        gemeente(&r, "jeugdige.woonplaatsgemeente", ev->woonplaatsgemeente, ROUTE_WOON);
    if (!woon)
        return -1;
    jeugdregio(&r, woon, ROUTE_JZ_WOON);
    switch (ev->kind) {
    case ROUTE_AANMELDING:
        return aanmelding(&r, woon);
    case ROUTE_TLV:
        return tlv(&r, woon);
    case ROUTE_BESCHIKKING:
        return beschikking(&r);
    case ROUTE_VERWIJZING:
        return verwijzing(&r);
    default:
        return invalid(&r, "event type", "not consumed by route");
    }
}
