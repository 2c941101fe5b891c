/*
 * sim_termijn_regels — which events open, close and replace which termijn,
 * and their due dates, as services/termijn/README.md ("The regels" and
 * "Choices where the table or the law is silent") states them.
 */
#include "sim_termijn_int.h"

#include "kh_alloc.h"
#include "kh_time.h"

#include <stdio.h>
#include <string.h>

/* ---- reading an event ------------------------------------------------------ */

static const char *str(const json_t *o, const char *a, const char *b) {
    const json_t *v = json_object_get(o, a);
    const char *s = json_string_value(b ? json_object_get(v, b) : v);
    return s ? s : "";
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

static int32_t date_of(const json_t *o, const char *key) {
    int32_t d;
    return kh_date_parse(str(o, key, NULL), &d) == 0 ? d : TJ_GEEN;
}

static void read_common(tj_event *e, const json_t *ev) {
    const json_t *env = json_object_get(ev, "envelope");
    COPY(e->bsn, str(ev, "jeugdige", "bsn"));
    COPY(e->woon, str(ev, "jeugdige", "woonplaatsgemeente"));
    e->geboren = date_of(json_object_get(ev, "jeugdige"), "geboortedatum");
    snprintf(e->bron, sizeof e->bron, "%s:%s", str(env, "bron", "type"), str(env, "bron", "code"));
    COPY(e->status, str(ev, "status", NULL));
    e->datum = date_of(ev, "datum");
    e->ingang = date_of(ev, "ingangsdatum");
    e->einde = date_of(ev, "einddatum");
    int64_t at = 0;
    kh_ts_parse(str(env, "occurred_at", NULL), &at);
    /* when the party acted: its own datum, or when a decision was recorded */
    e->handeling = e->datum != TJ_GEEN ? e->datum : sim_kal_amsterdam(at);
}

static void read_kind(tj_event *e, const json_t *ev) {
    COPY(e->verantw, str(ev, "verantwoordelijke_gemeente", "gemeente"));
    switch (e->kind) {
    case TJ_AANMELDING:
        COPY(e->id, str(ev, "aanmelding_id", NULL));
        COPY(e->soort, str(ev, "soort", NULL));
        COPY(e->bij, str(ev, "bij", "code"));
        COPY(e->onderwijssoort, str(ev, "onderwijssoort", NULL));
        e->steun = json_is_true(json_object_get(ev, "ondersteuningsbehoefte"));
        break;
    case TJ_TLV_EV:
        COPY(e->id, str(ev, "tlv_id", NULL));
        COPY(e->swv, str(ev, "swv", NULL));
        COPY(e->tlv_soort, str(ev, "soort", NULL));
        COPY(e->aanvragende, str(ev, "aanvragende_school", NULL));
        break;
    case TJ_BESCHIKKING_EV:
        COPY(e->id, str(ev, "beschikking_id", NULL));
        COPY(e->gemeente, str(ev, "gemeente", NULL));
        COPY(e->aanbieder, str(ev, "aanbieder", NULL));
        COPY(e->verwijzing_id, str(ev, "verwijzing_id", NULL));
        break;
    default:
        COPY(e->id, str(ev, "verwijzing_id", NULL));
        COPY(e->verwijzer, str(ev, "verwijzer", "type"));
        COPY(e->naar_type, str(ev, "naar", "type"));
        COPY(e->naar, str(ev, "naar", "code"));
        COPY(e->domein, str(ev, "domein", NULL));
    }
}

void sim_termijn_add(sim_termijn *st, const kh_event_type *t, const json_t *ev) {
    static const char *const kinds[] = {"aanmelding", "tlv", "beschikking", "verwijzing"};
    int kind = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(t->name, kinds[i]) == 0)
            kind = i;
    if (kind < 0)
        return;
    if (st->n == st->cap)
        st->ev = kh_realloc(st->ev, (st->cap = st->cap ? st->cap * 2 : 1024) * sizeof *st->ev);
    tj_event *e = &st->ev[st->n];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->seq = st->n++;
    read_common(e, ev);
    read_kind(e, ev);
}

/* ---- the dossier ------------------------------------------------------------- */

static tj_termijn *find(tj_dossier *d, int regel, const char *zaak) {
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i].regel == regel && (!zaak || strcmp(d->t[i].zaak, zaak) == 0))
            return &d->t[i];
    return NULL;
}

static void drop(tj_dossier *d, tj_termijn *t) { *t = d->t[--d->n]; }

static tj_termijn *open_new(tj_dossier *d, int regel, const tj_event *ev, int32_t geopend) {
    if (d->n == d->cap)
        d->t = kh_realloc(d->t, (d->cap = d->cap ? d->cap * 2 : 4) * sizeof *d->t);
    tj_termijn *t = &d->t[d->n++];
    memset(t, 0, sizeof *t);
    t->regel = regel;
    t->stappen = 1;
    COPY(t->bron, ev->bron);
    COPY(t->zaak, ev->id);
    t->geopend = geopend;
    t->einde = t->ingang = TJ_GEEN;
    return t;
}

const char *tj_sector(const char *soort) {
    static const char *const po[] = {"PO", "SBO", "SO"}, *const vo[] = {"VO", "VSO", "PRO"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(soort, po[i]) == 0)
            return "PO";
        if (strcmp(soort, vo[i]) == 0)
            return "VO";
    }
    return NULL;
}

/* ---- aanmelding -------------------------------------------------------------- */

/* Kept (for a late close) at most 365 days after the last due date, and
 * not past `tot`: the day it is dropped. */
static int32_t bewaren(int32_t laatste, int32_t tot) {
    return laatste + 365 < tot ? laatste + 365 : tot;
}

/* A statutory term's last day moved to a working day; due the day after. */
static int32_t wettelijk(const sim_termijn *st, int32_t last) {
    return sim_kal_werkdag_vanaf(st->kal, last) + 1;
}

static void zorgplicht_open(const sim_termijn *st, tj_dossier *d, const tj_event *ev) {
    const kh_ref_school *s = kh_ref_school_at(st->ref, ev->bij, ev->datum);
    if (!ev->steun || !tj_sector(ev->onderwijssoort) || !s || s->cluster != 0)
        return;
    tj_termijn *t = find(d, TJ_ZORGPLICHT, ev->id);
    if (t && strcmp(t->org, ev->bij) == 0)
        return; /* a repeated INGEDIEND keeps the first date */
    t = open_new(d, TJ_ZORGPLICHT, ev, ev->datum);
    t->stappen = 2;
    t->vervalt[0] = wettelijk(st, ev->datum + 42);
    t->vervalt[1] = wettelijk(st, ev->datum + 70);
    t->bewaren = t->vervalt[1] + 365;
    COPY(t->org, ev->bij);
    COPY(t->soort, ev->onderwijssoort);
}

/* The 23rd birthday (born on 29 February: 1 March). */
static int32_t dag_23(int32_t geboren) {
    int y, m, d;
    kh_date_to_ymd(geboren, &y, &m, &d);
    return m == 2 && d == 29 ? kh_date_from_ymd(y + 23, 3, 1)
                             : sim_kal_plus_maanden(geboren, 23 * 12);
}

/* From the first day of the month after the 5th birthday to the day before
 * the 23rd. Born on 29 February: 5 on 1 March (never a leap year), so from 1 April. */
static int leeftijd_in_bereik(int32_t geboren, int32_t op) {
    int y, m, d;
    kh_date_to_ymd(geboren, &y, &m, &d);
    if (m == 2 && d == 29)
        m = 3;
    int32_t vanaf = m == 12 ? kh_date_from_ymd(y + 6, 1, 1) : kh_date_from_ymd(y + 5, m + 1, 1);
    return op >= vanaf && op < dag_23(geboren);
}

static void thuiszitter_open(const sim_termijn *st, tj_dossier *d, const tj_event *ev) {
    if (!leeftijd_in_bereik(ev->geboren, ev->datum))
        return;
    tj_termijn *t;
    if (!find(d, TJ_THUISZITTER, NULL)) { /* a second refusal keeps the first date */
        t = open_new(d, TJ_THUISZITTER, ev, ev->datum);
        t->vervalt[0] = ev->datum + 28;
        t->bewaren = bewaren(t->vervalt[0], dag_23(ev->geboren));
        COPY(t->org, ev->bij);
        COPY(t->soort, ev->onderwijssoort);
    }
    int maanden = sim_termijn_aanbod_maanden(st, ev->woon, tj_sector(ev->onderwijssoort),
                                             ev->datum);
    if (maanden > 0 && !find(d, TJ_ZONDER_AANBOD, NULL)) {
        t = open_new(d, TJ_ZONDER_AANBOD, ev, ev->datum);
        t->vervalt[0] = sim_kal_plus_maanden(ev->datum, maanden);
        t->bewaren = bewaren(t->vervalt[0], dag_23(ev->geboren));
        COPY(t->org, ev->bij);
        COPY(t->soort, ev->onderwijssoort);
    }
}

static void aanmelding(const sim_termijn *st, tj_dossier *d, const tj_event *ev) {
    if (strcmp(ev->soort, "ONDERWIJS") != 0)
        return;
    if (strcmp(ev->status, "INGEDIEND") == 0) {
        zorgplicht_open(st, d, ev);
        return;
    }
    int geplaatst = strcmp(ev->status, "GEPLAATST") == 0;
    if (!geplaatst && strcmp(ev->status, "AFGEWEZEN") != 0 &&
        strcmp(ev->status, "INGETROKKEN") != 0)
        return;
    tj_termijn *t = find(d, TJ_ZORGPLICHT, ev->id);
    if (t && strcmp(t->org, ev->bij) == 0)
        drop(d, t);
    if (!geplaatst) {
        thuiszitter_open(st, d, ev);
        return;
    }
    while ((t = find(d, TJ_THUISZITTER, NULL)) || (t = find(d, TJ_ZONDER_AANBOD, NULL)))
        drop(d, t);
    COPY(d->school, ev->bij);
}

/* ---- tlv, beschikking, verwijzing ---------------------------------------------- */

/* A later decision that covers the end of t: starts by the day after it
 * and ends later (open-ended counts as later when allowed). */
static int dekt(const tj_termijn *t, const tj_event *ev, int open_einde) {
    if (ev->ingang == TJ_GEEN || ev->ingang > t->einde + 1)
        return 0;
    return ev->einde == TJ_GEEN ? open_einde : ev->einde > t->einde;
}

static void tlv(tj_dossier *d, const tj_event *ev) {
    int afgegeven = strcmp(ev->status, "AFGEGEVEN") == 0;
    for (size_t i = 0; i < d->n;) {
        tj_termijn *t = &d->t[i];
        int zelfde = t->regel == TJ_TLV && strcmp(t->zaak, ev->id) == 0;
        int gedekt = t->regel == TJ_TLV && !zelfde && afgegeven &&
                     strcmp(t->soort, ev->tlv_soort) == 0 && dekt(t, ev, 0);
        int vervalt = zelfde && (strcmp(ev->status, "INGETROKKEN") == 0 ||
                                 (afgegeven && t->einde != ev->einde));
        if (gedekt || vervalt)
            drop(d, t);
        else
            i++;
    }
    if (!afgegeven || ev->einde == TJ_GEEN || find(d, TJ_TLV, ev->id))
        return;
    tj_termijn *t = open_new(d, TJ_TLV, ev, ev->handeling);
    t->einde = ev->einde;
    t->ingang = ev->ingang;
    t->vervalt[0] = sim_kal_plus_maanden(ev->einde, -3);
    t->bewaren = ev->einde + 1; /* kept until its einddatum */
    COPY(t->org, ev->swv);
    COPY(t->org2, ev->aanvragende);
    COPY(t->soort, ev->tlv_soort);
}

static void beschikking(tj_dossier *d, const tj_event *ev) {
    int toegekend = strcmp(ev->status, "TOEGEKEND") == 0 || strcmp(ev->status, "GEWIJZIGD") == 0;
    int einde = strcmp(ev->status, "BEEINDIGD") == 0 || strcmp(ev->status, "INGETROKKEN") == 0;
    for (size_t i = 0; i < d->n;) {
        tj_termijn *t = &d->t[i];
        int besluit = ev->verwijzing_id[0] && t->regel == TJ_VERWIJZING &&
                      strcmp(t->zaak, ev->verwijzing_id) == 0;
        int zelfde = t->regel == TJ_BESCHIKKING && strcmp(t->zaak, ev->id) == 0;
        int gedekt = t->regel == TJ_BESCHIKKING && !zelfde && toegekend &&
                     strcmp(t->org2, ev->aanbieder) == 0 && dekt(t, ev, 1);
        if (besluit || gedekt || (zelfde && (einde || (toegekend && t->einde != ev->einde))))
            drop(d, t);
        else
            i++;
    }
    if (!toegekend || ev->einde == TJ_GEEN || find(d, TJ_BESCHIKKING, ev->id))
        return;
    tj_termijn *t = open_new(d, TJ_BESCHIKKING, ev, ev->handeling);
    t->einde = ev->einde;
    t->ingang = ev->ingang;
    t->vervalt[0] = ev->einde - 56;
    t->bewaren = ev->einde + 1;
    COPY(t->org, ev->gemeente);
    COPY(t->org2, ev->aanbieder);
}

static void verwijzing(const sim_termijn *st, tj_dossier *d, const tj_event *ev) {
    static const char *const wettelijk_verwijzer[] = {"HUISARTS", "JEUGDARTS", "MEDISCH_SPECIALIST",
                                                      "GECERTIFICEERDE_INSTELLING"};
    int wel = 0;
    for (int i = 0; i < 4; i++)
        wel |= strcmp(ev->verwijzer, wettelijk_verwijzer[i]) == 0;
    if (!wel || strcmp(ev->domein, "JEUGDHULP") != 0 || strcmp(ev->naar_type, "AANBIEDER") != 0 ||
        find(d, TJ_VERWIJZING, ev->id))
        return;
    tj_termijn *t = open_new(d, TJ_VERWIJZING, ev, ev->datum);
    t->stappen = 2;
    t->vervalt[0] = sim_kal_werkdagen_na(st->kal, ev->datum, 5) + 1;
    t->vervalt[1] = wettelijk(st, ev->datum + 56);
    t->bewaren = t->vervalt[1] + 365;
    COPY(t->org, ev->naar);
    COPY(t->org2, ev->verantw[0] ? ev->verantw : ev->woon);
}

void tj_apply(const sim_termijn *st, tj_dossier *d, const tj_event *ev) {
    size_t before = d->n;
    switch (ev->kind) {
    case TJ_AANMELDING: aanmelding(st, d, ev); break;
    case TJ_TLV_EV: tlv(d, ev); break;
    case TJ_BESCHIKKING_EV: beschikking(d, ev); break;
    default: verwijzing(st, d, ev);
    }
    /* The birth date is that of the newest event that opened a termijn;
     * the woonplaats that of the newest event (by date: events come here in
     * date order) that names one, opening or not (the README's "Woonplaats"). */
    if (d->n > 0 && (d->n > before || !d->geboren))
        d->geboren = ev->geboren;
    if (d->n > 0 && ev->woon[0])
        COPY(d->woon, ev->woon);
    if (d->n == 0)
        tj_vergeet(d);
}

void tj_vergeet(tj_dossier *d) {
    d->woon[0] = 0;
    d->school[0] = 0;
    d->geboren = 0;
}

int sim_termijn_aanbod_maanden(const sim_termijn *st, const char *woon, const char *sector,
                               int32_t date) {
    const char *merged;
    const kh_ref_gemeente *g = kh_ref_gemeente_resolve(st->ref, woon, date, &merged);
    int m = sim_kal_afspraak(st->kal, woon, "THUISZITTER_AANBOD", date);
    if (m || !g)
        return m;
    if (strcmp(g->code, woon) != 0 &&
        (m = sim_kal_afspraak(st->kal, g->code, "THUISZITTER_AANBOD", date)))
        return m;
    const char *swv = sector && strcmp(sector, "VO") == 0 ? g->swv_vo : g->swv_po;
    if (sector && (m = sim_kal_afspraak(st->kal, swv, "THUISZITTER_AANBOD", date)))
        return m;
    return sim_kal_afspraak(st->kal, g->jeugdregio, "THUISZITTER_AANBOD", date);
}
