/*
 * sim_rules — the six grensverkeer rules as one table: when a rule applies
 * (event type, statuses), the two organisations it compares, and who is
 * told. Written from DESIGN.md and the route README, not from route's code.
 * To change or add a rule, change its row here.
 *
 * Facts: every code is read at the event's own date; a gemeente code that a
 * herindeling dissolved stands for its successor (kh_ref_gemeente_resolve),
 * as route does per its README. The sector of an onderwijssoort: PO, SBO, SO
 * are PO; VO, VSO, PRO are VO; MBO has no SWV.
 */
#include "sim_rules.h"

#include <stdio.h>
#include <string.h>

/* What one event says, looked up at its date. "" where it does not apply. */
typedef struct facts {
    char woon[7], schoolgemeente[7], gemeente[7];  /* gemeenten (resolved) */
    char swv_woon[7], swv_school[7], swv_bron[7];   /* SWV's of the sector */
    char jz_woon[5], jz_aanbieder[5];               /* jeugdregio's */
    char aanbieder[9];
} facts;

/* The slots a rule compares and names as recipients. */
enum slot { WOON, SCHOOLGEMEENTE, GEMEENTE, SWV_WOON, SWV_SCHOOL, SWV_BRON, JZ_WOON, JZ_AANBIEDER,
            AANBIEDER, NONE };

typedef struct rule {
    const char *regel;
    const char *event;        /* event type */
    const char *statuses;     /* "|A|B|" statuses that trigger; NULL: any */
    int needs_onderwijs;      /* aanmelding ONDERWIJS only */
    int needs_zorg_op_school; /* beschikking with zorg_in_onderwijstijd only */
    int needs_naar_aanbieder; /* verwijzing to an AANBIEDER only */
    enum slot a, b;           /* fires when both are known and differ */
    enum slot to[3];          /* recipients, NONE-terminated */
} rule;

static const rule rules[] = {
    {"ONDERWIJS_BUITEN_WOONGEMEENTE", "aanmelding", "|GEPLAATST|", 1, 0, 0, SCHOOLGEMEENTE, WOON,
     {WOON, SCHOOLGEMEENTE, NONE}},
    {"ONDERWIJS_BUITEN_SWV_REGIO", "aanmelding", "|GEPLAATST|", 1, 0, 0, SWV_SCHOOL, SWV_WOON,
     {SWV_WOON, SWV_SCHOOL, NONE}},
    {"TLV_BUITEN_SWV_WOONPLAATS", "tlv", "|AFGEGEVEN|", 0, 0, 0, SWV_BRON, SWV_WOON,
     {SWV_BRON, SWV_WOON, NONE}},
    {"BESCHIKKING_NIET_DOOR_WOONPLAATSGEMEENTE", "beschikking", "|TOEGEKEND|GEWIJZIGD|", 0, 0, 0, GEMEENTE,
     WOON, {WOON, GEMEENTE, AANBIEDER}},
    {"ZORG_OP_SCHOOL_BUITEN_WOONGEMEENTE", "beschikking", "|TOEGEKEND|GEWIJZIGD|", 0, 1, 0, SCHOOLGEMEENTE,
     WOON, {SCHOOLGEMEENTE, WOON, NONE}},
    {"VERWIJZING_BUITEN_JEUGDREGIO", "verwijzing", NULL, 0, 0, 1, JZ_AANBIEDER, JZ_WOON,
     {WOON, NONE, NONE}},
};
#define NRULES (sizeof rules / sizeof rules[0])

size_t sim_rules_count(void) {
    return NRULES;
}

const char *sim_rules_name(size_t i) {
    return i < NRULES ? rules[i].regel : NULL;
}

static const char *str(const json_t *ev, const char *a, const char *b) {
    const json_t *v = json_object_get(ev, a);
    return json_string_value(b ? json_object_get(v, b) : v);
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
    if (!soort)
        return NULL;
    if (!strcmp(soort, "PO") || !strcmp(soort, "SBO") || !strcmp(soort, "SO"))
        return "PO";
    if (!strcmp(soort, "VO") || !strcmp(soort, "VSO") || !strcmp(soort, "PRO"))
        return "VO";
    return NULL;
}

static const char *swv_of(const kh_ref_gemeente *g, const char *sector) {
    if (!g || !sector)
        return NULL;
    return strcmp(sector, "PO") == 0 ? g->swv_po : g->swv_vo;
}

/* The school's gemeente and its SWV for sector. */
static void school_facts(const kh_ref *ref, const char *code, const char *sector, int32_t day, facts *f) {
    const kh_ref_school *s = code ? kh_ref_school_at(ref, code, day) : NULL;
    const kh_ref_gemeente *g = s ? gemeente(ref, s->gemeente, day) : NULL;
    copy(f->schoolgemeente, sizeof f->schoolgemeente, g ? g->code : NULL);
    copy(f->swv_school, sizeof f->swv_school, swv_of(g, sector));
}

static void read_facts(const kh_ref *ref, const kh_event_type *t, const json_t *ev, facts *f) {
    int32_t day = kh_event_date(t, ev);
    memset(f, 0, sizeof *f);
    const kh_ref_gemeente *woon = gemeente(ref, str(ev, "jeugdige", "woonplaatsgemeente"), day);
    copy(f->woon, sizeof f->woon, woon ? woon->code : NULL);
    copy(f->jz_woon, sizeof f->jz_woon, woon ? woon->jeugdregio : NULL);
    const char *soort = str(ev, "onderwijssoort", NULL);
    if (!strcmp(t->name, "tlv"))
        soort = str(ev, "soort", NULL);
    const char *sector = sector_of(soort);
    copy(f->swv_woon, sizeof f->swv_woon, swv_of(woon, sector));
    if (!strcmp(t->name, "aanmelding"))
        school_facts(ref, str(ev, "bij", "code"), sector, day, f);
    if (!strcmp(t->name, "tlv"))
        copy(f->swv_bron, sizeof f->swv_bron, str(ev, "swv", NULL));
    if (!strcmp(t->name, "beschikking")) {
        const kh_ref_gemeente *g = gemeente(ref, str(ev, "gemeente", NULL), day);
        copy(f->gemeente, sizeof f->gemeente, g ? g->code : NULL);
        copy(f->aanbieder, sizeof f->aanbieder, str(ev, "aanbieder", NULL));
        school_facts(ref, str(ev, "school", NULL), NULL, day, f);
    }
    if (!strcmp(t->name, "verwijzing") && str(ev, "naar", "code")) {
        const kh_ref_aanbieder *a = kh_ref_aanbieder_at(ref, str(ev, "naar", "code"), day);
        const kh_ref_gemeente *g = a ? gemeente(ref, a->vestigingsgemeente, day) : NULL;
        copy(f->jz_aanbieder, sizeof f->jz_aanbieder, g ? g->jeugdregio : NULL);
    }
}

static const char *slot_value(const facts *f, enum slot s) {
    const char *v[] = {f->woon, f->schoolgemeente, f->gemeente, f->swv_woon, f->swv_school,
                       f->swv_bron, f->jz_woon, f->jz_aanbieder, f->aanbieder};
    return s < NONE ? v[s] : "";
}

static const char *slot_type(enum slot s) {
    if (s == AANBIEDER)
        return "AANBIEDER";
    return s == SWV_WOON || s == SWV_SCHOOL || s == SWV_BRON ? "SWV" : "GEMEENTE";
}

static int applies(const rule *r, const kh_event_type *t, const json_t *ev) {
    char status[40];
    if (strcmp(r->event, t->name) != 0)
        return 0;
    if (r->statuses) {
        snprintf(status, sizeof status, "|%s|", str(ev, "status", NULL) ? str(ev, "status", NULL) : "");
        if (!strstr(r->statuses, status))
            return 0;
    }
    if (r->needs_onderwijs && !(str(ev, "soort", NULL) && !strcmp(str(ev, "soort", NULL), "ONDERWIJS")))
        return 0;
    if (r->needs_zorg_op_school && !json_is_true(json_object_get(ev, "zorg_in_onderwijstijd")))
        return 0;
    if (r->needs_naar_aanbieder && !(str(ev, "naar", "type") && !strcmp(str(ev, "naar", "type"), "AANBIEDER")))
        return 0;
    return 1;
}

size_t sim_rules_expect(const kh_ref *ref, const kh_event_type *t, const json_t *ev,
                        sim_melding out[SIM_MAX_MELDINGEN]) {
    facts f;
    size_t n = 0;
    read_facts(ref, t, ev, &f);
    for (size_t i = 0; i < NRULES; i++) {
        const rule *r = &rules[i];
        const char *a = slot_value(&f, r->a), *b = slot_value(&f, r->b);
        if (!applies(r, t, ev) || !a[0] || !b[0] || strcmp(a, b) == 0)
            continue;
        for (int k = 0; k < 3 && r->to[k] != NONE && n < SIM_MAX_MELDINGEN; k++) {
            out[n].regel = r->regel;
            snprintf(out[n].ontvanger, sizeof out[n].ontvanger, "%s:%s", slot_type(r->to[k]),
                     slot_value(&f, r->to[k]));
            n++;
        }
    }
    return n;
}
