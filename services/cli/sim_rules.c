/*
 * sim_rules — the twelve grensverkeer rules of issue 13 as one table: when a
 * row applies (event type, statuses, facts the event must have and must not
 * have), the two organisations it compares (or none: it always fires), and
 * who is told. Written from DESIGN.md, the route README's rule table and
 * route's case table, not from route's code. To change or add a rule,
 * change its rows here.
 *
 * A regel may have several rows (variants, adjacent in the table); the
 * first row of a regel that fires gives its meldingen. A recipient slot
 * that is empty (a verantwoordelijke gemeente not stated, a region without
 * RMC contactgemeente) is skipped, and one regel never tells one recipient
 * twice.
 *
 * Facts: every code is read at the event's own date; a gemeente code that a
 * herindeling dissolved stands for its successor (kh_ref_gemeente_resolve),
 * as route does per its README. The sector of an onderwijssoort: PO, SBO, SO
 * are PO; VO, VSO, PRO are VO; MBO has no SWV. Verblijf products are iJw
 * productcategorie 35-38, 43 and 44. Leerplicht runs from the first day of
 * the month after the 5th birthday to the 18th birthday (kwalificatieplicht
 * lies inside that); the RMC age from the 18th to the 23rd birthday.
 */
#include "sim_rules.h"

#include "kh_orgid.h"
#include "kh_time.h"

#include <stdio.h>
#include <string.h>

/* What one event says, looked up at its date. "" where it does not apply. */
typedef struct facts {
    char woon[7], schoolgemeente[7], gemeente[7]; /* gemeenten (resolved) */
    char verantw[7];         /* verantwoordelijke_gemeente as stated (resolved) */
    char verantw_of_woon[7]; /* ... else the BRP woonplaatsgemeente */
    char verblijf[7];        /* a beschikking's aanbieder's gemeente */
    char swv_po_verblijf[7], swv_vo_verblijf[7];  /* that gemeente's SWV's */
    char rmc[7];                                  /* the woonplaats's RMC contactgemeente */
    char swv_woon[7], swv_school[7], swv_bron[7]; /* SWV's of the sector */
    char jz_woon[5], jz_aanbieder[5];             /* jeugdregio's */
    char aanbieder[9];
    unsigned has; /* the event's facts (enum fact) */
} facts;

/* The slots a rule compares and names as recipients. */
enum slot {
    WOON,
    SCHOOLGEMEENTE,
    GEMEENTE,
    VERANTW,
    VERANTW_OF_WOON,
    VERBLIJF,
    SWV_PO_VERBLIJF,
    SWV_VO_VERBLIJF,
    RMC,
    SWV_WOON,
    SWV_SCHOOL,
    SWV_BRON,
    JZ_WOON,
    JZ_AANBIEDER,
    AANBIEDER,
    NONE
};

/* Facts a row may require or forbid. */
enum fact {
    ONDERWIJS = 1 << 0,      /* aanmelding ONDERWIJS */
    ZORG_OP_SCHOOL = 1 << 1, /* beschikking with zorg_in_onderwijstijd */
    NAAR_AANBIEDER = 1 << 2, /* verwijzing to an AANBIEDER */
    VERANTW_GIVEN = 1 << 3,  /* verantwoordelijke_gemeente stated */
    VERBLIJF_PRODUCT = 1 << 4,
    CLUSTER_1_2 = 1 << 5,  /* the school is a cluster 1 or 2 instelling */
    EERSTE = 1 << 6,       /* tlv eerste_inschrijving: true */
    LEERPLICHTIG = 1 << 7, /* leer- or kwalificatieplichtig on the date */
    RMC_LEEFTIJD = 1 << 8, /* 18 up to the 23rd birthday */
    SPECIAAL = 1 << 9,     /* onderwijssoort SBO, SO or VSO */
    JEUGDHULP = 1 << 10,   /* verwijzing domein JEUGDHULP */
    MEDISCH = 1 << 11,     /* verwijzer HUISARTS, JEUGDARTS, MEDISCH_SPECIALIST */
    GI = 1 << 12           /* verwijzer GECERTIFICEERDE_INSTELLING */
};

#define MAX_TO 5

typedef struct rule {
    const char *regel;
    const char *event;     /* event type */
    const char *statuses;  /* "|A|B|" statuses that trigger; NULL: any */
    unsigned need, forbid; /* facts required, facts forbidden */
    enum slot a, b;        /* fires when both are known and differ; NONE, NONE: always */
    enum slot to[MAX_TO];  /* recipients, NONE-terminated */
} rule;

#define BESCHIKT "|TOEGEKEND|GEWIJZIGD|"
#define AFWIJZING "|AFGEWEZEN|INGETROKKEN|"

/* One row per line pair: regel, event, statuses, facts needed, forbidden;
 * the slots compared; the recipients. */
/* clang-format off */
static const rule rules[] = {
    {"ONDERWIJS_BUITEN_WOONGEMEENTE", "aanmelding", "|GEPLAATST|", ONDERWIJS, 0,
     SCHOOLGEMEENTE, WOON, {WOON, SCHOOLGEMEENTE, NONE}},
    {"ONDERWIJS_BUITEN_SWV_REGIO", "aanmelding", "|GEPLAATST|", ONDERWIJS, CLUSTER_1_2,
     SWV_SCHOOL, SWV_WOON, {SWV_WOON, SWV_SCHOOL, NONE}},
    {"TLV_BUITEN_SWV_WOONPLAATS", "tlv", "|AFGEGEVEN|", 0, EERSTE,
     SWV_BRON, SWV_WOON, {SWV_WOON, NONE}},
    {"BESCHIKKING_NIET_DOOR_WOONPLAATSGEMEENTE", "beschikking", BESCHIKT, VERANTW_GIVEN, 0,
     GEMEENTE, VERANTW, {VERANTW, GEMEENTE, AANBIEDER, NONE}},
    {"BESCHIKKING_NIET_DOOR_WOONPLAATSGEMEENTE", "beschikking", BESCHIKT, 0, VERANTW_GIVEN,
     GEMEENTE, WOON, {WOON, GEMEENTE, AANBIEDER, NONE}},
    {"ZORG_OP_SCHOOL_BUITEN_WOONGEMEENTE", "beschikking", BESCHIKT, ZORG_OP_SCHOOL, 0,
     SCHOOLGEMEENTE, WOON, {SCHOOLGEMEENTE, WOON, VERANTW, NONE}},
    {"VERWIJZING_BUITEN_JEUGDREGIO", "verwijzing", NULL, NAAR_AANBIEDER, 0,
     JZ_AANBIEDER, JZ_WOON, {WOON, VERANTW, NONE}},
    {"TLV_EERSTE_INSCHRIJVING_BUITEN_SWV_WOONPLAATS", "tlv", "|AFGEGEVEN|", EERSTE, 0,
     SWV_BRON, SWV_WOON, {SWV_BRON, SWV_WOON, NONE}},
    {"LEERPLICHT_AFWIJZING", "aanmelding", AFWIJZING, ONDERWIJS | LEERPLICHTIG, 0,
     NONE, NONE, {WOON, NONE}},
    {"RMC_AFWIJZING", "aanmelding", AFWIJZING, ONDERWIJS | RMC_LEEFTIJD, 0,
     NONE, NONE, {RMC, NONE}},
    {"VERBLIJF_BUITEN_WOONPLAATS", "beschikking", BESCHIKT, VERBLIJF_PRODUCT | VERANTW_GIVEN, 0,
     VERBLIJF, VERANTW, {VERBLIJF, SWV_PO_VERBLIJF, SWV_VO_VERBLIJF, WOON, VERANTW}},
    {"LEERLINGENVERVOER", "aanmelding", "|GEPLAATST|", ONDERWIJS | SPECIAAL, 0,
     NONE, NONE, {WOON, NONE}},
    {"LEERLINGENVERVOER", "tlv", "|AFGEGEVEN|", 0, 0,
     NONE, NONE, {WOON, NONE}},
    {"WETTELIJKE_VERWIJZING", "verwijzing", NULL, JEUGDHULP | MEDISCH, 0,
     NONE, NONE, {VERANTW_OF_WOON, NONE}},
    {"WETTELIJKE_VERWIJZING", "verwijzing", NULL, JEUGDHULP | GI, 0,
     NONE, NONE, {VERANTW_OF_WOON, NONE}},
};
/* clang-format on */
#define NROWS (sizeof rules / sizeof rules[0])

/* The i-th distinct regel: rows of one regel are adjacent. */
static const rule *regel_row(size_t i) {
    size_t n = 0;
    for (size_t r = 0; r < NROWS; r++)
        if (r == 0 || strcmp(rules[r].regel, rules[r - 1].regel) != 0) {
            if (n++ == i)
                return &rules[r];
        }
    return NULL;
}

size_t sim_rules_count(void) {
    size_t n = 0;
    while (regel_row(n))
        n++;
    return n;
}

const char *sim_rules_name(size_t i) {
    const rule *r = regel_row(i);
    return r ? r->regel : NULL;
}

static const char *str(const json_t *ev, const char *a, const char *b) {
    const json_t *v = json_object_get(ev, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

static int is(const char *s, const char *list) {
    char item[40];
    if (!s)
        return 0;
    snprintf(item, sizeof item, "|%s|", s);
    return strstr(list, item) != NULL;
}

static void copy(char *dst, size_t len, const char *src) {
    snprintf(dst, len, "%s", src ? src : "");
}

static const kh_ref_gemeente *gemeente(const kh_ref *ref, const char *code, int32_t day) {
    const char *merged;
    return code ? kh_ref_gemeente_resolve(ref, code, day, &merged) : NULL;
}

/* "PO", "VO", or NULL (MBO, unknown). */
static const char *sector_of(const char *soort) {
    if (is(soort, "|PO|SBO|SO|"))
        return "PO";
    if (is(soort, "|VO|VSO|PRO|"))
        return "VO";
    return NULL;
}

static const char *swv_of(const kh_ref_gemeente *g, const char *sector) {
    if (!g || !sector)
        return NULL;
    return strcmp(sector, "PO") == 0 ? g->swv_po : g->swv_vo;
}

/* The school's gemeente, its SWV for sector, and whether it is cluster 1/2. */
static void school_facts(const kh_ref *ref, const char *code, const char *sector, int32_t day,
                         facts *f) {
    const kh_ref_school *s = code ? kh_ref_school_at(ref, code, day) : NULL;
    const kh_ref_gemeente *g = s ? gemeente(ref, s->gemeente, day) : NULL;
    copy(f->schoolgemeente, sizeof f->schoolgemeente, g ? g->code : NULL);
    copy(f->swv_school, sizeof f->swv_school, swv_of(g, sector));
    if (s && (s->cluster == 1 || s->cluster == 2))
        f->has |= CLUSTER_1_2;
}

/* Leerplichtig (from the first of the month after the 5th birthday up to
 * the 18th birthday) or of RMC age (18 up to the 23rd birthday) on day. */
static unsigned age_facts(const json_t *ev, int32_t day) {
    int32_t born;
    const char *s = str(ev, "jeugdige", "geboortedatum");
    if (!s || kh_date_parse(s, &born) != 0)
        return 0;
    int y, m, d;
    kh_date_to_ymd(born, &y, &m, &d);
    int32_t from = m == 12 ? kh_date_from_ymd(y + 6, 1, 1) : kh_date_from_ymd(y + 5, m + 1, 1);
    int age = kh_age_years(born, day);
    if (day >= from && age < 18)
        return LEERPLICHTIG;
    return age >= 18 && age < 23 ? RMC_LEEFTIJD : 0;
}

static void aanmelding_facts(const kh_ref *ref, const json_t *ev, int32_t day, facts *f) {
    const char *soort = str(ev, "onderwijssoort", NULL);
    if (is(str(ev, "soort", NULL), "|ONDERWIJS|"))
        f->has |= ONDERWIJS;
    if (is(soort, "|SBO|SO|VSO|"))
        f->has |= SPECIAAL;
    f->has |= age_facts(ev, day);
    school_facts(ref, str(ev, "bij", "code"), sector_of(soort), day, f);
}

/* The verantwoordelijke gemeente: as stated, else (for verwijzing rules) the BRP one. */
static void verantw_facts(const kh_ref *ref, const json_t *ev, int32_t day, facts *f) {
    const kh_ref_gemeente *v = gemeente(ref, str(ev, "verantwoordelijke_gemeente", "gemeente"),
                                        day);
    if (v)
        f->has |= VERANTW_GIVEN;
    copy(f->verantw, sizeof f->verantw, v ? v->code : NULL);
    copy(f->verantw_of_woon, sizeof f->verantw_of_woon, v ? v->code : f->woon);
}

static void beschikking_facts(const kh_ref *ref, const json_t *ev, int32_t day, facts *f) {
    const kh_ref_gemeente *g = gemeente(ref, str(ev, "gemeente", NULL), day);
    copy(f->gemeente, sizeof f->gemeente, g ? g->code : NULL);
    copy(f->aanbieder, sizeof f->aanbieder, str(ev, "aanbieder", NULL));
    const kh_ref_aanbieder *a = f->aanbieder[0] ? kh_ref_aanbieder_at(ref, f->aanbieder, day)
                                                : NULL;
    const kh_ref_gemeente *vg = a ? gemeente(ref, a->vestigingsgemeente, day) : NULL;
    copy(f->verblijf, sizeof f->verblijf, vg ? vg->code : NULL);
    copy(f->swv_po_verblijf, sizeof f->swv_po_verblijf, vg ? vg->swv_po : NULL);
    copy(f->swv_vo_verblijf, sizeof f->swv_vo_verblijf, vg ? vg->swv_vo : NULL);
    if (is(str(ev, "product", "categorie"), "|35|36|37|38|43|44|"))
        f->has |= VERBLIJF_PRODUCT;
    if (json_is_true(json_object_get(ev, "zorg_in_onderwijstijd")))
        f->has |= ZORG_OP_SCHOOL;
    school_facts(ref, str(ev, "school", NULL), NULL, day, f);
    f->has &= ~(unsigned)CLUSTER_1_2; /* no SWV rule reads a beschikking's school */
    verantw_facts(ref, ev, day, f);
}

static void verwijzing_facts(const kh_ref *ref, const json_t *ev, int32_t day, facts *f) {
    if (is(str(ev, "naar", "type"), "|AANBIEDER|")) {
        f->has |= NAAR_AANBIEDER;
        const kh_ref_aanbieder *a = kh_ref_aanbieder_at(ref, str(ev, "naar", "code"), day);
        const kh_ref_gemeente *g = a ? gemeente(ref, a->vestigingsgemeente, day) : NULL;
        copy(f->jz_aanbieder, sizeof f->jz_aanbieder, g ? g->jeugdregio : NULL);
    }
    if (is(str(ev, "domein", NULL), "|JEUGDHULP|"))
        f->has |= JEUGDHULP;
    const char *verwijzer = str(ev, "verwijzer", "type");
    if (is(verwijzer, "|HUISARTS|JEUGDARTS|MEDISCH_SPECIALIST|"))
        f->has |= MEDISCH;
    if (is(verwijzer, "|GECERTIFICEERDE_INSTELLING|"))
        f->has |= GI;
    verantw_facts(ref, ev, day, f);
}

static void read_facts(const kh_ref *ref, const kh_event_type *t, const json_t *ev, facts *f) {
    int32_t day = kh_event_date(t, ev);
    memset(f, 0, sizeof *f);
    const kh_ref_gemeente *woon = gemeente(ref, str(ev, "jeugdige", "woonplaatsgemeente"), day);
    copy(f->woon, sizeof f->woon, woon ? woon->code : NULL);
    copy(f->jz_woon, sizeof f->jz_woon, woon ? woon->jeugdregio : NULL);
    const kh_ref_rmc *rmc = woon && woon->rmc[0] ? kh_ref_rmc_at(ref, woon->rmc, day) : NULL;
    const kh_ref_gemeente *contact = rmc ? gemeente(ref, rmc->contactgemeente, day) : NULL;
    copy(f->rmc, sizeof f->rmc, contact ? contact->code : NULL);
    const char *soort = str(ev, strcmp(t->name, "tlv") == 0 ? "soort" : "onderwijssoort", NULL);
    copy(f->swv_woon, sizeof f->swv_woon, swv_of(woon, sector_of(soort)));
    if (!strcmp(t->name, "aanmelding"))
        aanmelding_facts(ref, ev, day, f);
    if (!strcmp(t->name, "tlv")) {
        copy(f->swv_bron, sizeof f->swv_bron, str(ev, "swv", NULL));
        if (json_is_true(json_object_get(ev, "eerste_inschrijving")))
            f->has |= EERSTE;
    }
    if (!strcmp(t->name, "beschikking"))
        beschikking_facts(ref, ev, day, f);
    if (!strcmp(t->name, "verwijzing"))
        verwijzing_facts(ref, ev, day, f);
}

static const char *slot_value(const facts *f, enum slot s) {
    const char *v[] = {
        f->woon,       f->schoolgemeente,  f->gemeente,        f->verantw,      f->verantw_of_woon,
        f->verblijf,   f->swv_po_verblijf, f->swv_vo_verblijf, f->rmc,          f->swv_woon,
        f->swv_school, f->swv_bron,        f->jz_woon,         f->jz_aanbieder, f->aanbieder};
    return s < NONE ? v[s] : "";
}

static const char *slot_type(enum slot s) {
    if (s == AANBIEDER)
        return "AANBIEDER";
    if (s == SWV_WOON || s == SWV_SCHOOL || s == SWV_BRON || s == SWV_PO_VERBLIJF ||
        s == SWV_VO_VERBLIJF)
        return "SWV";
    return "GEMEENTE";
}

static int fires(const rule *r, const kh_event_type *t, const json_t *ev, const facts *f) {
    if (strcmp(r->event, t->name) != 0)
        return 0;
    if (r->statuses && !is(str(ev, "status", NULL), r->statuses))
        return 0;
    if ((f->has & r->need) != r->need || (f->has & r->forbid) != 0)
        return 0;
    if (r->a == NONE)
        return 1;
    const char *a = slot_value(f, r->a), *b = slot_value(f, r->b);
    return a[0] && b[0] && strcmp(a, b) != 0;
}

/* Appends row r's recipients to out[*n], each known one once. */
static void tell(const rule *r, const facts *f, sim_melding out[SIM_MAX_MELDINGEN], size_t *n) {
    size_t first = *n;
    for (int k = 0; k < MAX_TO && r->to[k] != NONE && *n < SIM_MAX_MELDINGEN; k++) {
        const char *code = slot_value(f, r->to[k]);
        if (!code[0])
            continue;
        kh_orgid_join(slot_type(r->to[k]), code, out[*n].ontvanger, sizeof out[*n].ontvanger);
        int seen = 0;
        for (size_t i = first; i < *n; i++)
            seen |= strcmp(out[i].ontvanger, out[*n].ontvanger) == 0;
        if (!seen)
            out[(*n)++].regel = r->regel;
    }
}

size_t sim_rules_expect(const kh_ref *ref, const kh_event_type *t, const json_t *ev,
                        sim_melding out[SIM_MAX_MELDINGEN]) {
    facts f;
    size_t n = 0;
    const char *fired = NULL; /* the regel of the last row that fired */
    read_facts(ref, t, ev, &f);
    for (size_t i = 0; i < NROWS; i++) {
        const rule *r = &rules[i];
        if (fired && strcmp(fired, r->regel) == 0)
            continue;
        if (!fires(r, t, ev, &f))
            continue;
        fired = r->regel;
        tell(r, &f, out, &n);
    }
    return n;
}
