/*
 * sim_termijn_ontvangers — who receives the melding of a termijn step, as
 * the README's table says; gemeenten, SWV's and RMC regions are looked up
 * at the due date (a herindeling during the term names the successor).
 */
#include "sim_termijn_int.h"

#include "kh_time.h"

#include <stdio.h>
#include <string.h>

typedef struct lijst {
    char (*to)[24];
    size_t n;
} lijst;

static void add(lijst *l, const char *type, const char *code) {
    char id[24];
    if (!code || !code[0] || l->n == TJ_ONTVANGERS)
        return;
    snprintf(id, sizeof id, "%s:%s", type, code);
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->to[i], id) == 0)
            return;
    snprintf(l->to[l->n++], 24, "%s", id);
}

static const kh_ref_gemeente *gemeente(const sim_termijn *st, const char *code, int32_t op) {
    const char *merged;
    return kh_ref_gemeente_resolve(st->ref, code, op, &merged);
}

static const char *swv_van(const kh_ref_gemeente *g, const char *sector) {
    if (!g || !sector)
        return NULL;
    return strcmp(sector, "VO") == 0 ? g->swv_vo : g->swv_po;
}

/* The woonplaatsgemeente and its SWV of the sector. */
static void woonplaats(const sim_termijn *st, const tj_dossier *d, const char *sector, int32_t op,
                       lijst *l, int met_swv) {
    const kh_ref_gemeente *g = gemeente(st, d->woon, op);
    if (met_swv)
        add(l, "SWV", swv_van(g, sector));
    add(l, "GEMEENTE", g ? g->code : d->woon);
}

static const char *swv_van_school(const sim_termijn *st, const char *school, const char *sector,
                                  int32_t op) {
    const kh_ref_school *s = kh_ref_school_at(st->ref, school, op);
    return s ? swv_van(gemeente(st, s->gemeente, op), sector) : NULL;
}

static void thuiszitter(const sim_termijn *st, const tj_dossier *d, const tj_termijn *t, int32_t op,
                        lijst *l) {
    const char *sector = tj_sector(t->soort);
    if (kh_age_years(d->geboren, op) < 18) {
        woonplaats(st, d, sector, op, l, 1);
        return;
    }
    const kh_ref_gemeente *g = gemeente(st, d->woon, op);
    const kh_ref_rmc *rmc = g ? kh_ref_rmc_at(st->ref, g->rmc, op) : NULL;
    if (rmc) /* none registered: nobody to tell */
        add(l, "GEMEENTE", rmc->contactgemeente);
}

size_t tj_ontvangers(const sim_termijn *st, const tj_dossier *d, const tj_termijn *t, int s,
                     char out[TJ_ONTVANGERS][24]) {
    lijst l = {out, 0};
    int32_t op = t->vervalt[s];
    const char *sector = tj_sector(t->soort);
    const kh_ref_gemeente *g;
    switch (t->regel) {
    case TJ_ZORGPLICHT:
        add(&l, "SCHOOL", t->org);
        add(&l, "SWV", swv_van_school(st, t->org, sector, op));
        if (s == 1)
            woonplaats(st, d, sector, op, &l, 1);
        break;
    case TJ_THUISZITTER: thuiszitter(st, d, t, op, &l); break;
    case TJ_ZONDER_AANBOD:
        woonplaats(st, d, sector, op, &l, 1);
        add(&l, "SWV", swv_van_school(st, t->org, sector, op));
        break;
    case TJ_TLV:
        add(&l, "SWV", t->org);
        add(&l, "SCHOOL", d->school[0] ? d->school : t->org2);
        break;
    case TJ_BESCHIKKING:
        g = gemeente(st, t->org, op);
        add(&l, "GEMEENTE", g ? g->code : t->org);
        add(&l, "AANBIEDER", t->org2);
        break;
    default: g = gemeente(st, t->org2, op); add(&l, "GEMEENTE", g ? g->code : t->org2);
    }
    return l.n;
}
