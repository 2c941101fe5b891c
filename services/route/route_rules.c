/*
 * route_rules — the rule table (DESIGN.md, "Cross-border rules") and its
 * evaluation. Each rule is data: its event type, the statuses that trigger
 * it, the event facts it requires or forbids, the two slots whose codes
 * must differ, who receives a melding, who is listed as involved, the
 * subject of a regional agreement it quotes, and the Dutch toelichting.
 * The legal source of every rule is in services/route/README.md.
 */
#include "route_rules.h"

#include "route_text.h"

#include "kh_code.h"
#include "kh_deadletter.h"
#include "kh_orgid.h"

#include <string.h>

/* Shorthands for the fact bits, to keep the table readable. */
#define VERANTW ROUTE_F_VERANTW_GEGEVEN
#define VERBLIJF ROUTE_F_VERBLIJF

/* The woonplaatsbeginsel in one sentence (Jeugdwet art. 1.1 "woonplaats"). */
#define WOONPLAATSBEGINSEL                                                                         \
    "Volgens het woonplaatsbeginsel van de Jeugdwet is voor individuele jeugdhulp de gemeente "    \
    "van het woonadres in de BRP verantwoordelijk; verblijft de jeugdige bij een "                 \
    "jeugdhulpaanbieder, pleegouder of in een instelling, dan de gemeente van het woonadres vlak " \
    "vóór dat verblijf."

static const route_rule rules[] = {
    {"ONDERWIJS_BUITEN_WOONGEMEENTE",
     ROUTE_AANMELDING,
     "GEPLAATST",
     0,
     0,
     {ROUTE_SCHOOLGEMEENTE, ROUTE_WOON},
     {ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     {ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     "HULP_OP_SCHOOL",
     "Leerling woont volgens de BRP in {WOON} en is geplaatst op {SCHOOL} in "
     "{SCHOOLGEMEENTE}. " WOONPLAATSBEGINSEL
     " Hoe {WOON.naam} en {SCHOOLGEMEENTE.naam} hulp op school afstemmen, "
     "volgt uit de afspraken tussen de gemeenten."},

    {"ONDERWIJS_BUITEN_SWV_REGIO",
     ROUTE_AANMELDING,
     "GEPLAATST",
     0,
     0,
     {ROUTE_SWV_SCHOOL, ROUTE_SWV_WOON},
     {ROUTE_SWV_WOON, ROUTE_SWV_SCHOOL},
     {ROUTE_SWV_WOON, ROUTE_SWV_SCHOOL, ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     NULL,
     "Leerling woont in {WOON}, dat voor het {SECTOR.naam} hoort bij {SWV_WOON}, en is "
     "geplaatst op {SCHOOL} in {SCHOOLGEMEENTE}, dat hoort bij {SWV_SCHOOL}. De school valt "
     "onder samenwerkingsverband {SWV_SCHOOL.code}; deze melding is ter informatie voor beide "
     "samenwerkingsverbanden."},

    {"TLV_BUITEN_SWV_WOONPLAATS",
     ROUTE_TLV,
     "AFGEGEVEN",
     0,
     ROUTE_F_EERSTE,
     {ROUTE_SWV_AFGEVER, ROUTE_SWV_WOON},
     {ROUTE_SWV_WOON},
     {ROUTE_SWV_AFGEVER, ROUTE_SWV_WOON, ROUTE_WOON},
     NULL,
     "Ter informatie: {SWV_AFGEVER} heeft een toelaatbaarheidsverklaring voor het {SOORT} "
     "afgegeven voor een leerling die woont in {WOON}; die gemeente hoort voor het "
     "{SECTOR.naam} bij {SWV_WOON}. Afgegeven door: samenwerkingsverband {SWV_AFGEVER.code}, "
     "het samenwerkingsverband van de school die de leerling verwijst. Betaalt: het afgevende "
     "samenwerkingsverband {SWV_AFGEVER.code}, ook als de leerling naar een school in een ander "
     "samenwerkingsverband gaat. Verlengt: samenwerkingsverband {SWV_AFGEVER.code}, dat de "
     "verklaring afgaf."},

    {"BESCHIKKING_NIET_DOOR_WOONPLAATSGEMEENTE",
     ROUTE_BESCHIKKING,
     "TOEGEKEND,GEWIJZIGD",
     VERANTW,
     0,
     {ROUTE_BESCHIKKER, ROUTE_VERANTWOORDELIJK},
     {ROUTE_VERANTWOORDELIJK, ROUTE_BESCHIKKER, ROUTE_AANBIEDER},
     {ROUTE_VERANTWOORDELIJK, ROUTE_WOON, ROUTE_BESCHIKKER, ROUTE_AANBIEDER},
     "WOONPLAATSBEGINSEL",
     "{BESCHIKKER} heeft jeugdhulp bij {AANBIEDER} {STATUS.naam} voor een jeugdige voor wie "
     "{VERANTWOORDELIJK} is opgegeven als verantwoordelijke gemeente ({REDEN.naam}). Volgens "
     "het woonplaatsbeginsel van de Jeugdwet is {VERANTWOORDELIJK.naam} verantwoordelijk voor "
     "deze jeugdhulp. De gemeenten stemmen onderling af welke gemeente de hulp toewijst."},
    {"BESCHIKKING_NIET_DOOR_WOONPLAATSGEMEENTE",
     ROUTE_BESCHIKKING,
     "TOEGEKEND,GEWIJZIGD",
     VERBLIJF,
     VERANTW,
     {ROUTE_BESCHIKKER, ROUTE_WOON},
     {ROUTE_WOON, ROUTE_BESCHIKKER, ROUTE_AANBIEDER},
     {ROUTE_WOON, ROUTE_BESCHIKKER, ROUTE_AANBIEDER},
     "WOONPLAATSBEGINSEL",
     "{BESCHIKKER} heeft jeugdhulp met verblijf bij {AANBIEDER} {STATUS.naam} voor een jeugdige "
     "die volgens de BRP woont in {WOON}. Bij verblijf bij een jeugdhulpaanbieder, pleegouder of "
     "in een instelling is volgens het woonplaatsbeginsel de gemeente van het woonadres vlak vóór "
     "dat verblijf verantwoordelijk; dat kan een andere gemeente zijn dan {WOON.naam}. Wilt u "
     "samen nagaan welke gemeente verantwoordelijk is?"},
    {"BESCHIKKING_NIET_DOOR_WOONPLAATSGEMEENTE",
     ROUTE_BESCHIKKING,
     "TOEGEKEND,GEWIJZIGD",
     0,
     VERANTW | VERBLIJF,
     {ROUTE_BESCHIKKER, ROUTE_WOON},
     {ROUTE_WOON, ROUTE_BESCHIKKER, ROUTE_AANBIEDER},
     {ROUTE_WOON, ROUTE_BESCHIKKER, ROUTE_AANBIEDER},
     "WOONPLAATSBEGINSEL",
     "{BESCHIKKER} heeft jeugdhulp bij {AANBIEDER} {STATUS.naam} voor een jeugdige die volgens "
     "de BRP woont in {WOON}. Volgens het woonplaatsbeginsel is de gemeente van het woonadres "
     "verantwoordelijk, hier {WOON.naam}, tenzij de jeugdige verblijft bij een "
     "jeugdhulpaanbieder, pleegouder of in een instelling. De gemeenten stemmen onderling af "
     "welke gemeente de hulp toewijst."},

    {"ZORG_OP_SCHOOL_BUITEN_WOONGEMEENTE",
     ROUTE_BESCHIKKING,
     "TOEGEKEND,GEWIJZIGD",
     0,
     0,
     {ROUTE_SCHOOLGEMEENTE, ROUTE_WOON},
     {ROUTE_SCHOOLGEMEENTE, ROUTE_WOON, ROUTE_VERANTWOORDELIJK},
     {ROUTE_WOON, ROUTE_SCHOOLGEMEENTE, ROUTE_AANBIEDER, ROUTE_VERANTWOORDELIJK},
     "HULP_OP_SCHOOL",
     "Jeugdige woont volgens de BRP in {WOON} en krijgt onder schooltijd jeugdhulp van "
     "{AANBIEDER} op {SCHOOL} in {SCHOOLGEMEENTE}. " WOONPLAATSBEGINSEL " Hoe de gemeenten hulp "
     "op school afstemmen, volgt uit hun onderlinge afspraken."},

    {"VERWIJZING_BUITEN_JEUGDREGIO",
     ROUTE_VERWIJZING,
     NULL,
     0,
     0,
     {ROUTE_JZ_AANBIEDER, ROUTE_JZ_WOON},
     {ROUTE_WOON, ROUTE_VERANTWOORDELIJK},
     {ROUTE_WOON, ROUTE_JZ_WOON, ROUTE_AANBIEDER, ROUTE_JZ_AANBIEDER, ROUTE_VERANTWOORDELIJK},
     NULL,
     "Jeugdige woont in {WOON}, jeugdregio {JZ_WOON}, en is verwezen naar {AANBIEDER} in "
     "{AANBIEDERGEMEENTE}, jeugdregio {JZ_AANBIEDER}. Volgens het woonplaatsbeginsel is "
     "{VERANTWOORDELIJK.naam} verantwoordelijk voor deze jeugdhulp, ook wanneer de aanbieder "
     "buiten de eigen jeugdregio ligt."},

    {"TLV_EERSTE_INSCHRIJVING_BUITEN_SWV_WOONPLAATS",
     ROUTE_TLV,
     "AFGEGEVEN",
     ROUTE_F_EERSTE,
     0,
     {ROUTE_SWV_AFGEVER, ROUTE_SWV_WOON},
     {ROUTE_SWV_AFGEVER, ROUTE_SWV_WOON},
     {ROUTE_SWV_AFGEVER, ROUTE_SWV_WOON, ROUTE_WOON},
     NULL,
     "{SWV_AFGEVER} heeft een toelaatbaarheidsverklaring voor het {SOORT} afgegeven bij een "
     "eerste inschrijving van een leerling die woont in {WOON}. Voor een leerling die nog niet op "
     "een school staat ingeschreven, geeft volgens de landelijke uitleg het samenwerkingsverband "
     "van de woonplaats de verklaring af, hier {SWV_WOON}. Wilt u samen nagaan welk "
     "samenwerkingsverband de verklaring afgeeft?"},

    {"LEERPLICHT_AFWIJZING",
     ROUTE_AANMELDING,
     "AFGEWEZEN,INGETROKKEN",
     ROUTE_F_ONDERWIJS | ROUTE_F_LEERPLICHTIG,
     0,
     {ROUTE_NONE, ROUTE_NONE},
     {ROUTE_WOON},
     {ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     "THUISZITTER_AANBOD",
     "De aanmelding van een {PLICHT.naam} leerling uit {WOON} bij {SCHOOL} in {SCHOOLGEMEENTE} "
     "is op {DATUM.naam} {STATUS.naam}. Deze melding is voor de leerplichtambtenaar van "
     "{WOON.naam}, om na te gaan of de leerling op een school staat ingeschreven."},

    {"RMC_AFWIJZING",
     ROUTE_AANMELDING,
     "AFGEWEZEN,INGETROKKEN",
     ROUTE_F_ONDERWIJS | ROUTE_F_RMC_LEEFTIJD,
     0,
     {ROUTE_NONE, ROUTE_NONE},
     {ROUTE_RMC},
     {ROUTE_RMC, ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     NULL,
     "De aanmelding van een jongere van {LEEFTIJD.naam} jaar uit {WOON} bij {SCHOOL} in "
     "{SCHOOLGEMEENTE} is op {DATUM.naam} {STATUS.naam}. Jongeren van 18 tot 23 jaar zonder "
     "startkwalificatie vallen onder de regionale meld- en coördinatiefunctie voortijdig "
     "schoolverlaten (RMC); of deze jongere een startkwalificatie heeft, is de hub niet bekend. "
     "Deze melding gaat naar {RMC}, contactgemeente van RMC-regio {RMC_REGIO.naam}."},

    {"VERBLIJF_BUITEN_WOONPLAATS",
     ROUTE_BESCHIKKING,
     "TOEGEKEND,GEWIJZIGD",
     VERANTW | VERBLIJF,
     0,
     {ROUTE_VERBLIJFGEMEENTE, ROUTE_VERANTWOORDELIJK},
     {ROUTE_VERBLIJFGEMEENTE, ROUTE_WOON, ROUTE_SWV_VERBLIJF_PO, ROUTE_SWV_VERBLIJF_VO,
      ROUTE_VERANTWOORDELIJK},
     {ROUTE_VERANTWOORDELIJK, ROUTE_VERBLIJFGEMEENTE, ROUTE_SWV_VERBLIJF_PO, ROUTE_SWV_VERBLIJF_VO,
      ROUTE_WOON, ROUTE_AANBIEDER},
     NULL,
     "{BESCHIKKER} heeft jeugdhulp met verblijf {STATUS.naam} bij {AANBIEDER} in "
     "{VERBLIJFGEMEENTE} voor een jeugdige voor wie {VERANTWOORDELIJK.naam} de verantwoordelijke "
     "gemeente is. Volgens het woonplaatsbeginsel blijft {VERANTWOORDELIJK.naam} tijdens het "
     "verblijf verantwoordelijk voor de jeugdhulp. Deze melding is ook voor leerplicht en de "
     "samenwerkingsverbanden van {VERBLIJFGEMEENTE.naam}, waar de jeugdige tijdens het verblijf "
     "onderwijs zal volgen, en voor leerplicht van {WOON.naam}, waar de jeugdige volgens de BRP "
     "woont."},

    {"LEERLINGENVERVOER",
     ROUTE_AANMELDING,
     "GEPLAATST",
     ROUTE_F_ONDERWIJS | ROUTE_F_SPECIAAL,
     0,
     {ROUTE_NONE, ROUTE_NONE},
     {ROUTE_WOON},
     {ROUTE_WOON, ROUTE_SCHOOLGEMEENTE},
     NULL,
     "Leerling uit {WOON} is geplaatst op {SCHOOL} in {SCHOOLGEMEENTE}, voor het {SOORT.naam}. "
     "Ouders "
     "kunnen bij de gemeente een vergoeding voor leerlingenvervoer aanvragen; de gemeente beslist "
     "daarover volgens haar verordening leerlingenvervoer. Deze melding is informatief en zegt "
     "niets over een recht op vervoer."},
    {"LEERLINGENVERVOER",
     ROUTE_TLV,
     "AFGEGEVEN",
     0,
     0,
     {ROUTE_NONE, ROUTE_NONE},
     {ROUTE_WOON},
     {ROUTE_WOON, ROUTE_SWV_AFGEVER},
     NULL,
     "{SWV_AFGEVER} heeft een toelaatbaarheidsverklaring voor het {SOORT} afgegeven voor een "
     "leerling uit {WOON}. Ouders kunnen bij de gemeente een vergoeding voor leerlingenvervoer "
     "aanvragen; de gemeente beslist daarover volgens haar verordening leerlingenvervoer. Deze "
     "melding is informatief en zegt niets over een recht op vervoer."},

    {"WETTELIJKE_VERWIJZING",
     ROUTE_VERWIJZING,
     NULL,
     ROUTE_F_WETTELIJK,
     0,
     {ROUTE_NONE, ROUTE_NONE},
     {ROUTE_VERANTWOORDELIJK},
     {ROUTE_VERANTWOORDELIJK, ROUTE_WOON, ROUTE_AANBIEDER},
     NULL,
     "{VERWIJZER.naam} heeft een jeugdige uit {WOON} verwezen naar {AANBIEDER} voor jeugdhulp. De "
     "aanbieder vraagt de verantwoordelijke gemeente, {VERANTWOORDELIJK.naam}, om een toewijzing "
     "(iJw-bericht Verzoek om toewijzing). Volgens de iJw-bedrijfsregels antwoordt de gemeente "
     "binnen vijf werkdagen met een toewijzing of een antwoordbericht; is de aanvraag in "
     "onderzoek, dan volgt binnen acht weken een toewijzing of afwijzing."},
    {"WETTELIJKE_VERWIJZING",
     ROUTE_VERWIJZING,
     NULL,
     ROUTE_F_GI,
     0,
     {ROUTE_NONE, ROUTE_NONE},
     {ROUTE_VERANTWOORDELIJK},
     {ROUTE_VERANTWOORDELIJK, ROUTE_WOON, ROUTE_AANBIEDER},
     NULL,
     "{VERWIJZER.naam} heeft voor een jeugdige uit {WOON} jeugdhulp bij {AANBIEDER} bepaald. De "
     "aanbieder vraagt de verantwoordelijke gemeente, {VERANTWOORDELIJK.naam}, om een toewijzing "
     "(iJw-bericht Verzoek om toewijzing). Volgens de iJw-bedrijfsregels antwoordt de gemeente "
     "binnen vijf werkdagen met een toewijzing of een antwoordbericht; is de aanvraag in "
     "onderzoek, dan volgt binnen acht weken een toewijzing of afwijzing."},
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

static int fires(const route_rule *rule, const route_event *ev, const route_result *out) {
    if (rule->event != ev->kind)
        return 0;
    if (rule->statuses && (!ev->status || !kh_code_in_list(rule->statuses, ev->status)))
        return 0;
    if ((out->facts & rule->require) != rule->require || (out->facts & rule->forbid))
        return 0;
    if (rule->differ[0] == ROUTE_NONE)
        return 1;
    const route_party *a = &out->party[rule->differ[0]], *b = &out->party[rule->differ[1]];
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

/* The registered agreement on the rule's subject for the woonplaats's
 * region: the gemeente's own, else its SWV's, else its jeugdregio's. Only
 * an AFSPRAAK is quoted, never an ADVIES. */
static const kh_ref_afspraak *afspraak(const route_rule *rule, const route_event *ev,
                                       const kh_ref *ref, const route_result *out,
                                       route_slot *regio) {
    static const route_slot where[] = {ROUTE_WOON, ROUTE_SWV_WOON, ROUTE_JZ_WOON};
    if (!rule->afspraak)
        return NULL;
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        const route_party *p = &out->party[where[i]];
        const kh_ref_afspraak *a = p->known ? kh_ref_afspraak_at(ref, p->code, rule->afspraak,
                                                                 ev->peildatum)
                                            : NULL;
        if (a && strcmp(a->status, "AFSPRAAK") == 0) {
            *regio = where[i];
            return a;
        }
    }
    return NULL;
}

static int add_meldingen(const route_event *ev, const kh_ref *ref, size_t r, route_result *out) {
    const route_rule *rule = &rules[r];
    size_t first = out->n;
    char bron[KH_ORGID_LEN];
    route_slot regio = ROUTE_NONE;
    const kh_ref_afspraak *a = afspraak(rule, ev, ref, out, &regio);
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
            route_text_render(rule, out->party, a, regio, m->toelichting, sizeof m->toelichting);
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
    const char *fired = NULL; /* the regel whose variant fired last */
    for (size_t r = 0; r < RULE_COUNT; r++) {
        if (fired && strcmp(fired, rules[r].regel) == 0)
            continue; /* one variant per regel */
        if (!fires(&rules[r], ev, out))
            continue;
        fired = rules[r].regel;
        if (add_meldingen(ev, ref, r, out)) {
            out->reason_code = kh_dl_reason_name(KH_DL_INVALID_EVENT);
            strcpy(out->reason, "cannot derive the melding ids (event id too long)");
            return -1;
        }
    }
    return 0;
}
