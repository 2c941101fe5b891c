/*
 * route_facts — step 1 of the rules: look up, at the event's own date,
 * every organisation and region the rules of its type may name, and fill
 * the slots. A code the rules need that the reference data does not know
 * at that date makes the event poison (UNKNOWN_REFERENCE_CODE) whatever
 * its status: whether an event is poison does not depend on which rule
 * would fire. Besides the parties it sets the event's facts (route_fact
 * bits: verblijf product, leerplichtig, first enrolment, ...) that rules
 * require or forbid.
 */
#include "route_rules.h"
#include "route_text.h"

#include "kh_code.h"
#include "kh_deadletter.h"
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
    r->out->reason_code = kh_dl_reason_name(KH_DL_UNKNOWN_REFERENCE_CODE);
    snprintf(r->out->reason, sizeof r->out->reason, "%s %s is not known on %s", field,
             code ? code : "(none)", kh_date_format(r->ev->peildatum, day));
    return -1;
}

static int invalid(resolving *r, const char *field, const char *why) {
    r->out->reason_code = kh_dl_reason_name(KH_DL_INVALID_EVENT);
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
    const kh_ref_gemeente *g = code ? kh_ref_gemeente_resolve(r->ref, code, r->ev->peildatum,
                                                              &merged_from)
                                    : NULL;
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
    if (swv(r, "jeugdige.woonplaatsgemeente SWV", po ? woon->swv_po : woon->swv_vo, ROUTE_SWV_WOON))
        return -1;
    return other ? swv(r, "school gemeente SWV", po ? other->swv_po : other->swv_vo, other_slot)
                 : 0;
}

/* A school and its gemeente; *found (when asked) is the school. */
static const kh_ref_gemeente *school(resolving *r, const char *field, const char *code,
                                     const kh_ref_school **found) {
    const kh_ref_school *s = code ? kh_ref_school_at(r->ref, code, r->ev->peildatum) : NULL;
    if (found)
        *found = s;
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

/* A beschikking status as a past participle for the toelichting. */
static const char *status_word(const char *status) {
    static const char *const words[][2] = {
        {"TOEGEKEND", "toegekend"},     {"GEWIJZIGD", "gewijzigd"}, {"AFGEWEZEN", "afgewezen"},
        {"INGETROKKEN", "ingetrokken"}, {"BEEINDIGD", "beëindigd"}, {"GEPLAATST", "geplaatst"}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(status, words[i][0]) == 0)
            return words[i][1];
    return status;
}

/* The iJw productcategorieën (codelijst JZ020) for jeugdhulp with verblijf:
 * 43 "Jeugdhulp verblijf (incl. behandeling)", 44 "Jeugdhulp verblijf
 * (excl. behandeling)", and the 2015 categories 35-38 "Met verblijf" that
 * replays of old events still carry. 46 (crisis) and 54 (jeugd-ggz) may or
 * may not include a stay, so they do not count: the sender then states the
 * verantwoordelijke gemeente with reden VOOR_VERBLIJF. The one list; the
 * route README cites its source. */
static int verblijf_categorie(const char *categorie) {
    return kh_code_in_list("35,36,37,38,43,44", categorie);
}

/* The verantwoordelijke gemeente: as the event states it, else the BRP
 * woonplaatsgemeente unless the product is verblijf (then the gemeente of
 * the address before the stay is responsible, which the hub does not know,
 * and the slot stays empty). */
static int verantwoordelijke(resolving *r) {
    static const char *const redenen[][2] = {
        {"BRP", "woonadres in de BRP"},
        {"VOOR_VERBLIJF", "woonadres vlak vóór het verblijf bij een jeugdhulpaanbieder, "
                          "pleegouder of in een instelling"},
        {"MOEDER_BIJ_GEBOORTE", "gemeente waar de moeder bij de geboorte van de jeugdige was "
                                "ingeschreven"}};
    const route_event *ev = r->ev;
    if (!ev->verantw_gemeente) {
        if (!(r->out->facts & ROUTE_F_VERBLIJF))
            r->out->party[ROUTE_VERANTWOORDELIJK] = r->out->party[ROUTE_WOON];
        return 0;
    }
    r->out->facts |= ROUTE_F_VERANTW_GEGEVEN;
    for (size_t i = 0; i < 3; i++)
        if (ev->verantw_reden && strcmp(ev->verantw_reden, redenen[i][0]) == 0)
            word(r, ROUTE_REDEN, redenen[i][0], redenen[i][1]);
    return gemeente(r, "verantwoordelijke_gemeente.gemeente", ev->verantw_gemeente,
                    ROUTE_VERANTWOORDELIJK)
               ? 0
               : -1;
}

/* For a verblijf product: where the child stays (the provider's gemeente)
 * and that gemeente's SWV's (the school sector is not known). */
static int verblijfgemeente(resolving *r, const kh_ref_aanbieder *a) {
    if (!(r->out->facts & ROUTE_F_VERBLIJF))
        return 0;
    const kh_ref_gemeente *g = gemeente(r, "aanbieder vestigingsgemeente", a->vestigingsgemeente,
                                        ROUTE_VERBLIJFGEMEENTE);
    if (!g || swv(r, "verblijfgemeente SWV PO", g->swv_po, ROUTE_SWV_VERBLIJF_PO) ||
        swv(r, "verblijfgemeente SWV VO", g->swv_vo, ROUTE_SWV_VERBLIJF_VO))
        return -1;
    return 0;
}

/* Whole years between birth and date. */
static int age_on(int32_t geboren, int32_t date) {
    int by, bm, bd, y, m, d;
    kh_date_to_ymd(geboren, &by, &bm, &bd);
    kh_date_to_ymd(date, &y, &m, &d);
    return y - by - (m < bm || (m == bm && d < bd));
}

/* Leerplicht from the first day of the month after the 5th birthday (the
 * law says the first school day; the hub has no school calendar) until the
 * 18th birthday; from the end of the school year of the 16th birthday,
 * approximated as the first 1 August after it, that is kwalificatieplicht. */
static void plicht(resolving *r) {
    const route_event *ev = r->ev;
    int by, bm, bd;
    kh_date_to_ymd(ev->geboortedatum, &by, &bm, &bd);
    int32_t from = kh_date_from_ymd(bm == 12 ? by + 6 : by + 5, bm == 12 ? 1 : bm + 1, 1);
    int32_t kwalificatie = kh_date_from_ymd(by + 16 + (bm > 7), 8, 1);
    int age = age_on(ev->geboortedatum, ev->peildatum);
    char years[16];
    snprintf(years, sizeof years, "%d", age < 0 ? 0 : age);
    word(r, ROUTE_LEEFTIJD, years, years);
    if (ev->peildatum >= from && age < 18) {
        r->out->facts |= ROUTE_F_LEERPLICHTIG;
        word(r, ROUTE_PLICHT, "PLICHT",
             ev->peildatum >= kwalificatie ? "kwalificatieplichtige" : "leerplichtige");
    } else if (age >= 18 && age < 23) {
        r->out->facts |= ROUTE_F_RMC_LEEFTIJD;
    }
}

/* The RMC contactgemeente of the woonplaats's RMC region, when
 * rmc_regio.csv registers one. */
static int rmc(resolving *r, const kh_ref_gemeente *woon) {
    const kh_ref_rmc *m = kh_ref_rmc_at(r->ref, woon->rmc, r->ev->peildatum);
    char regio[96];
    snprintf(regio, sizeof regio, "%s (%s)", woon->rmc_naam, woon->rmc);
    word(r, ROUTE_RMC_REGIO, woon->rmc, regio);
    if (!m)
        return 0;
    return gemeente(r, "RMC contactgemeente", m->contactgemeente, ROUTE_RMC) ? 0 : -1;
}

/* Who referred, for the toelichting; the facts of a verwijzing by law. */
static void verwijzer(resolving *r) {
    static const char *const wettelijk[][2] = {
        {"HUISARTS", "De huisarts"},
        {"JEUGDARTS", "De jeugdarts"},
        {"MEDISCH_SPECIALIST", "De medisch specialist"},
        {"GECERTIFICEERDE_INSTELLING", "De gecertificeerde instelling"}};
    const route_event *ev = r->ev;
    if (!ev->verwijzer_type || !ev->domein || strcmp(ev->domein, "JEUGDHULP") != 0)
        return;
    for (size_t i = 0; i < 4; i++)
        if (strcmp(ev->verwijzer_type, wettelijk[i][0]) == 0) {
            word(r, ROUTE_VERWIJZER, wettelijk[i][0], wettelijk[i][1]);
            r->out->facts |= i == 3 ? ROUTE_F_GI : ROUTE_F_WETTELIJK;
        }
}

/* The SOORT slot: an onderwijssoort or TLV soort and its name. */
static void soort(resolving *r, const char *code) {
    static const char *const soorten[][2] = {{"PO", "primair onderwijs"},
                                             {"SBO", "speciaal basisonderwijs"},
                                             {"SO", "speciaal onderwijs"},
                                             {"VO", "voortgezet onderwijs"},
                                             {"VSO", "voortgezet speciaal onderwijs"},
                                             {"PRO", "praktijkonderwijs"},
                                             {"MBO", "middelbaar beroepsonderwijs"}};
    for (size_t i = 0; i < sizeof soorten / sizeof soorten[0]; i++)
        if (strcmp(code, soorten[i][0]) == 0)
            word(r, ROUTE_SOORT, soorten[i][0], soorten[i][1]);
}

static int aanmelding(resolving *r, const kh_ref_gemeente *woon) {
    const route_event *ev = r->ev;
    if (strcmp(ev->soort, "ONDERWIJS") != 0)
        return 0; /* no rule reads a JEUGDHULP aanmelding's provider */
    if (strcmp(ev->bij_type, "SCHOOL") != 0)
        return invalid(r, "bij.type", "an aanmelding ONDERWIJS is at a SCHOOL");
    if (!ev->onderwijssoort)
        return invalid(r, "onderwijssoort", "required for an aanmelding ONDERWIJS");
    const kh_ref_school *s = NULL;
    const kh_ref_gemeente *sg = school(r, "bij.code", ev->bij_code, &s);
    if (!sg)
        return -1;
    r->out->facts |= ROUTE_F_ONDERWIJS;
    if (kh_code_in_list("SBO,SO,VSO", ev->onderwijssoort))
        r->out->facts |= ROUTE_F_SPECIAAL;
    word(r, ROUTE_STATUS, ev->status, status_word(ev->status));
    soort(r, ev->onderwijssoort);
    if (rmc(r, woon))
        return -1;
    /* Cluster 1 and 2 instellingen are outside the SWV's: no SWV slot, so
     * no SWV rule fires for their pupils. */
    const char *sector = s->cluster ? NULL : sector_of(ev->onderwijssoort);
    return sector ? sector_swvs(r, sector, woon, sg, ROUTE_SWV_SCHOOL) : 0;
}

static int tlv(resolving *r, const kh_ref_gemeente *woon) {
    const route_event *ev = r->ev;
    const char *sector = kh_code_in_list("VSO,PRO", ev->tlv_soort) ? "VO" : "PO";
    if (strncmp(ev->swv, sector, 2) != 0) {
        char why[96];
        snprintf(why, sizeof why, "a TLV %s must be issued by an SWV %s; %s is an SWV %.2s",
                 ev->tlv_soort, sector, ev->swv, ev->swv);
        return invalid(r, "swv", why);
    }
    if (ev->eerste_inschrijving)
        r->out->facts |= ROUTE_F_EERSTE;
    soort(r, ev->tlv_soort);
    if (swv(r, "swv", ev->swv, ROUTE_SWV_AFGEVER))
        return -1;
    return sector_swvs(r, sector, woon, NULL, ROUTE_NONE);
}

static int beschikking(resolving *r) {
    const route_event *ev = r->ev;
    word(r, ROUTE_STATUS, ev->status, status_word(ev->status));
    const kh_ref_aanbieder *a;
    if (!gemeente(r, "gemeente", ev->gemeente, ROUTE_BESCHIKKER) ||
        !(a = aanbieder(r, "aanbieder", ev->aanbieder)))
        return -1;
    if (ev->categorie && verblijf_categorie(ev->categorie))
        r->out->facts |= ROUTE_F_VERBLIJF;
    if (verantwoordelijke(r) || verblijfgemeente(r, a))
        return -1;
    if (!ev->zorg_in_onderwijstijd)
        return 0;
    if (!ev->school)
        return invalid(r, "school", "required when zorg_in_onderwijstijd is true");
    return school(r, "school", ev->school, NULL) ? 0 : -1;
}

static int verwijzing(resolving *r) {
    const route_event *ev = r->ev;
    if (verantwoordelijke(r))
        return -1;
    verwijzer(r);
    if (strcmp(ev->naar_type, "AANBIEDER") != 0)
        return 0; /* a referral to an SWV crosses no jeugdregio */
    const kh_ref_aanbieder *a = aanbieder(r, "naar.code", ev->naar_code);
    if (!a)
        return -1;
    const kh_ref_gemeente *g = gemeente(r, "aanbieder vestigingsgemeente", a->vestigingsgemeente,
                                        ROUTE_AANBIEDERGEMEENTE);
    if (!g)
        return -1;
    jeugdregio(r, g, ROUTE_JZ_AANBIEDER);
    return 0;
}

int route_facts_resolve(const route_event *ev, const kh_ref *ref, route_result *out) {
    resolving r = {ev, ref, out};
    char day[32];
    memset(out->party, 0, sizeof out->party);
    out->facts = 0;
    out->reason_code = NULL;
    out->reason[0] = '\0';
    const kh_ref_gemeente *woon = gemeente(&r, "jeugdige.woonplaatsgemeente",
                                           ev->woonplaatsgemeente, ROUTE_WOON);
    if (!woon)
        return -1;
    jeugdregio(&r, woon, ROUTE_JZ_WOON);
    word(&r, ROUTE_DATUM, "DATUM", route_text_date(ev->peildatum, day, sizeof day));
    plicht(&r);
    switch (ev->kind) {
    case ROUTE_AANMELDING: return aanmelding(&r, woon);
    case ROUTE_TLV: return tlv(&r, woon);
    case ROUTE_BESCHIKKING: return beschikking(&r);
    case ROUTE_VERWIJZING: return verwijzing(&r);
    default: return invalid(&r, "event type", "not consumed by route");
    }
}
