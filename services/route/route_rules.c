/*
 * route_rules — the rule table (DESIGN.md, "Cross-border rules") and its
 * evaluation. Each rule is data: its event type, the statuses that trigger
 * it, the two slots whose codes must differ, who receives a melding, who is
 * listed as involved, and the Dutch toelichting.
 */
#include "route_rules.h"

#include "route_text.h"

#include "kh_code.h"
#include "kh_orgid.h"

#include <string.h>

static const route_rule rules[] = {
    {"ONDERWIJS_BUITEN_WOONGEMEENTE", ROUTE_AANMELDING, "GEPLAATST",
     {ROUTE_SCHOOLGEMEENTE, ROUTE_WOON},
     {ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     {ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     "Leerling woont in {WOON} en is geplaatst op {SCHOOL} in {SCHOOLGEMEENTE}. Volgens het "
     "woonplaatsbeginsel is {WOON.naam} verantwoordelijk voor individuele jeugdhulp; "
     "{SCHOOLGEMEENTE.naam} voert de regie op hulp op school."},

    {"ONDERWIJS_BUITEN_SWV_REGIO", ROUTE_AANMELDING, "GEPLAATST",
     {ROUTE_SWV_SCHOOL, ROUTE_SWV_WOON},
     {ROUTE_SWV_WOON, ROUTE_SWV_SCHOOL},
     {ROUTE_SWV_WOON, ROUTE_SWV_SCHOOL, ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     "Leerling woont in {WOON}, dat voor het {SECTOR.naam} hoort bij {SWV_WOON}, en is "
     "geplaatst op {SCHOOL} in {SCHOOLGEMEENTE}, dat hoort bij {SWV_SCHOOL}. "
     "Samenwerkingsverband {SWV_SCHOOL.code} is verantwoordelijk voor de ondersteuning op deze "
     "school; samenwerkingsverband {SWV_WOON.code} van de woonplaats stemt met hen af over "
     "ondersteuning en een eventuele toelaatbaarheidsverklaring."},

    {"TLV_BUITEN_SWV_WOONPLAATS", ROUTE_TLV, "AFGEGEVEN",
     {ROUTE_SWV_AFGEVER, ROUTE_SWV_WOON},
     {ROUTE_SWV_AFGEVER, ROUTE_SWV_WOON},
     {ROUTE_SWV_AFGEVER, ROUTE_SWV_WOON, ROUTE_WOON},
     "{SWV_AFGEVER} heeft een toelaatbaarheidsverklaring voor het {SOORT} afgegeven voor een "
     "leerling die woont in {WOON}; die gemeente hoort voor het {SECTOR.naam} bij {SWV_WOON}. "
     "Samenwerkingsverband {SWV_AFGEVER.code} heeft de TLV afgegeven en betaalt de "
     "ondersteuning; samenwerkingsverband {SWV_WOON.code} van de woonplaats wordt geïnformeerd "
     "voor de afstemming."},

    {"BESCHIKKING_NIET_DOOR_WOONPLAATSGEMEENTE", ROUTE_BESCHIKKING, "TOEGEKEND,GEWIJZIGD",
     {ROUTE_BESCHIKKER, ROUTE_WOON},
     {ROUTE_WOON, ROUTE_BESCHIKKER, ROUTE_AANBIEDER},
     {ROUTE_WOON, ROUTE_BESCHIKKER, ROUTE_AANBIEDER},
     "{BESCHIKKER} heeft jeugdhulp bij {AANBIEDER} {STATUS.naam} voor een jeugdige die woont "
     "in {WOON}. Volgens het woonplaatsbeginsel is {WOON.naam} verantwoordelijk voor deze "
     "jeugdhulp en betaalt die; {AANBIEDER.naam} factureert aan {WOON.naam}, niet aan "
     "{BESCHIKKER.naam}."},

    {"ZORG_OP_SCHOOL_BUITEN_WOONGEMEENTE", ROUTE_BESCHIKKING, "TOEGEKEND,GEWIJZIGD",
     {ROUTE_SCHOOLGEMEENTE, ROUTE_WOON},
     {ROUTE_SCHOOLGEMEENTE, ROUTE_WOON},
     {ROUTE_WOON, ROUTE_SCHOOLGEMEENTE, ROUTE_AANBIEDER},
     "Jeugdige woont in {WOON} en krijgt onder schooltijd jeugdhulp van {AANBIEDER} op "
     "{SCHOOL} in {SCHOOLGEMEENTE}. {WOON.naam} is verantwoordelijk voor deze jeugdhulp "
     "(woonplaatsbeginsel); {SCHOOLGEMEENTE.naam} voert de regie op hulp op school en stemt af "
     "met {WOON.naam}."},

    {"VERWIJZING_BUITEN_JEUGDREGIO", ROUTE_VERWIJZING, NULL,
     {ROUTE_JZ_AANBIEDER, ROUTE_JZ_WOON},
     {ROUTE_WOON},
     {ROUTE_WOON, ROUTE_JZ_WOON, ROUTE_AANBIEDER, ROUTE_JZ_AANBIEDER},
     "Jeugdige woont in {WOON}, jeugdregio {JZ_WOON}, en is verwezen naar {AANBIEDER} in "
     "{AANBIEDERGEMEENTE}, jeugdregio {JZ_AANBIEDER}. {WOON.naam} is verantwoordelijk voor de "
     "jeugdhulp (woonplaatsbeginsel) en gaat na of deze aanbieder voor jeugdregio "
     "{JZ_WOON.naam} is gecontracteerd."},
};

#define RULE_COUNT (sizeof rules / sizeof rules[0])

size_t route_rule_count(void) { return RULE_COUNT; }

const route_rule *route_rule_at(size_t i) { return i < RULE_COUNT ? &rules[i] : NULL; }

int route_rule_index(const char *regel) {
    for (size_t i = 0; i < RULE_COUNT; i++)
        if (strcmp(rules[i].regel, regel) == 0)
            return (int)i;
    return -1;
}

static int fires(const route_rule *rule, const route_event *ev, const route_party *party) {
    if (rule->event != ev->kind)
        return 0;
    if (rule->statuses && (!ev->status || !kh_code_in_list(rule->statuses, ev->status)))
        return 0;
    const route_party *a = &party[rule->differ[0]], *b = &party[rule->differ[1]];
    return a->known && b->known && strcmp(a->code, b->code) != 0;
}

/* Has this rule already given a melding to this recipient (same type and
 * code through another slot)? */
static int already(const route_result *out, size_t first, route_slot ontvanger) {
    const route_party *p = &out->party[ontvanger];
    const char *type = route_slot_describe(ontvanger)->type;
    for (size_t i = first; i < out->n; i++) {
        const route_party *q = &out->party[out->m[i].ontvanger];
        if (strcmp(route_slot_describe(out->m[i].ontvanger)->type, type) == 0 &&
            strcmp(q->code, p->code) == 0)
            return 1;
    }
    return 0;
}

static int add_meldingen(const route_event *ev, size_t r, route_result *out) {
    const route_rule *rule = &rules[r];
    size_t first = out->n;
    char bron[KH_ORGID_LEN];
    for (size_t i = 0; i < ROUTE_MAX_RECIPIENTS && rule->ontvangers[i] != ROUTE_NONE; i++) {
        route_slot to = rule->ontvangers[i];
        if (!out->party[to].known || already(out, first, to))
            continue;
        if (out->n == ROUTE_MAX_MELDINGEN)
            return -1;
        route_melding *m = &out->m[out->n];
        m->rule = (int)r;
        m->ontvanger = to;
        const char *type = route_slot_describe(to)->type;
        if (kh_orgid_join(ev->bron_type, ev->bron_code, bron, sizeof bron) ||
            route_melding_id(bron, ev->event_id, rule->regel, type, out->party[to].code,
                             m->melding_id))
            return -1;
        /* One text per rule: every recipient reads the same toelichting. */
        if (out->n == first)
            route_text_render(rule, out->party, m->toelichting, sizeof m->toelichting);
        else
            strcpy(m->toelichting, out->m[first].toelichting);
        out->n++;
    }
    return 0;
}

int route_rules_apply(const route_event *ev, const kh_ref *ref, route_result *out) {
    out->n = 0;
    if (route_facts_resolve(ev, ref, out))
        return -1;
    for (size_t r = 0; r < RULE_COUNT; r++)
        if (fires(&rules[r], ev, out->party) && add_meldingen(ev, r, out)) {
            out->reason_code = "INVALID_EVENT";
            strcpy(out->reason, "cannot derive the melding ids (event id too long)");
            return -1;
        }
    return 0;
}
