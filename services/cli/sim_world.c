/*
 * sim_world — which organisations of the reference data the simulator
 * draws from, and the neighbourhood lookups its stories need.
 */
#include "sim_world.h"

#include "kh_alloc.h"
#include "kh_code.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 512

static int add_code(sim_code **list, size_t *n, const char *code) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], code) == 0)
            return 0;
    *list = kh_realloc(*list, (*n + 1) * sizeof **list);
    snprintf((*list)[(*n)++], sizeof(sim_code), "%s", code);
    return 0;
}

/* Whether a fact of this code is valid on both ends of the period (facts
 * are contiguous per code, so both ends mean the whole period). */
#define VALID_THROUGH(kind, w, code)                    \
    (kh_ref_##kind##_at((w)->ref, (code), (w)->from) && \
     kh_ref_##kind##_at((w)->ref, (code), (w)->to))

static int collect(sim_world *w) {
    const kh_ref_gemeente *g;
    const kh_ref_school *s;
    const kh_ref_aanbieder *a;
    const kh_ref_swv *v;
    int rc = 0;
    for (size_t i = 0; (g = kh_ref_gemeente_nth(w->ref, i)); i++)
        if (VALID_THROUGH(gemeente, w, g->code))
            rc |= add_code(&w->gemeenten, &w->ngemeenten, g->code);
    for (size_t i = 0; (s = kh_ref_school_nth(w->ref, i)); i++)
        if (VALID_THROUGH(school, w, s->code))
            rc |= add_code(&w->scholen, &w->nscholen, s->code);
    for (size_t i = 0; (a = kh_ref_aanbieder_nth(w->ref, i)); i++)
        if (VALID_THROUGH(aanbieder, w, a->code))
            rc |= add_code(&w->aanbieders, &w->naanbieders, a->code);
    for (size_t i = 0; (v = kh_ref_swv_nth(w->ref, i)); i++)
        if (VALID_THROUGH(swv, w, v->code))
            rc |= add_code(&w->swvs, &w->nswvs, v->code);
    return rc;
}

static int add_herindeling(sim_world *w, const char *oud, const char *nieuw) {
    for (size_t i = 0; i < w->nherindelingen; i++)
        if (strcmp(w->oud[i], oud) == 0)
            return 0;
    w->oud = kh_realloc(w->oud, (w->nherindelingen + 1) * sizeof *w->oud);
    w->nieuw = kh_realloc(w->nieuw, (w->nherindelingen + 1) * sizeof *w->nieuw);
    snprintf(w->oud[w->nherindelingen], sizeof(sim_code), "%s", oud);
    snprintf(w->nieuw[w->nherindelingen++], sizeof(sim_code), "%s", nieuw);
    return 0;
}

/* Codes dissolved before the period whose successor lasts through it. */
static int collect_herindelingen(sim_world *w) {
    const kh_ref_gemeente *g, *to;
    const char *merged;
    for (size_t i = 0; (g = kh_ref_gemeente_nth(w->ref, i)); i++) {
        if (kh_ref_gemeente_at(w->ref, g->code, w->from) ||
            !(to = kh_ref_gemeente_resolve(w->ref, g->code, w->from, &merged)) ||
            !VALID_THROUGH(gemeente, w, to->code))
            continue;
        if (add_herindeling(w, g->code, to->code) < 0)
            return -1;
    }
    return 0;
}

int sim_world_build(sim_world *w, const kh_ref *ref, int32_t from, int32_t to, char *err,
                    size_t errlen) {
    memset(w, 0, sizeof *w);
    w->ref = ref;
    w->from = from;
    w->to = to;
    if (collect(w) < 0 || collect_herindelingen(w) < 0) {
        snprintf(err, errlen, "out of memory");
        sim_world_free(w);
        return -1;
    }
    if (!w->ngemeenten || !w->nscholen || !w->naanbieders || !w->nswvs) {
        snprintf(err, errlen,
                 "the reference data has no gemeente, school, aanbieder or SWV valid through the "
                 "whole period; choose another --from/--days");
        sim_world_free(w);
        return -1;
    }
    return 0;
}

void sim_world_free(sim_world *w) {
    free(w->gemeenten);
    free(w->scholen);
    free(w->aanbieders);
    free(w->swvs);
    free(w->oud);
    free(w->nieuw);
    memset(w, 0, sizeof *w);
}

static const char *pick(sim_rng *r, const char **c, size_t n) {
    return n ? c[sim_rng_below(r, n)] : NULL;
}

const char *sim_world_other_gemeente(const sim_world *w, sim_rng *r, const char *g, int32_t day,
                                     double far) {
    const char *near[MAX_CANDIDATES], *any[MAX_CANDIDATES];
    size_t nn = 0, na = 0;
    const kh_ref_gemeente *home = kh_ref_gemeente_at(w->ref, g, day);
    for (size_t i = 0; i < w->ngemeenten && na < MAX_CANDIDATES; i++) {
        if (strcmp(w->gemeenten[i], g) == 0)
            continue;
        const kh_ref_gemeente *o = kh_ref_gemeente_at(w->ref, w->gemeenten[i], day);
        any[na++] = w->gemeenten[i];
        if (home && o && strcmp(o->rmc, home->rmc) == 0)
            near[nn++] = w->gemeenten[i];
    }
    if (nn && !sim_rng_chance(r, far))
        return pick(r, near, nn);
    return na ? pick(r, any, na) : g;
}

const char *sim_world_school(const sim_world *w, sim_rng *r, const char *g, const char *soort,
                             int32_t day) {
    const char *c[MAX_CANDIDATES];
    size_t n = 0;
    for (size_t i = 0; i < w->nscholen && n < MAX_CANDIDATES; i++) {
        const kh_ref_school *s = kh_ref_school_at(w->ref, w->scholen[i], day);
        if (s && (!g || strcmp(s->gemeente, g) == 0) &&
            (!soort || kh_code_in_list(s->soorten, soort)))
            c[n++] = w->scholen[i];
    }
    return pick(r, c, n);
}

const char *sim_world_brp_code(const sim_world *w, sim_rng *r, const char *g, double p) {
    const char *old[16];
    size_t n = 0;
    for (size_t i = 0; i < w->nherindelingen && n < 16; i++)
        if (strcmp(w->nieuw[i], g) == 0)
            old[n++] = w->oud[i];
    if (!n || !sim_rng_chance(r, p))
        return g;
    return old[sim_rng_below(r, n)];
}

const char *sim_world_swv_of(const sim_world *w, const char *g, const char *sector, int32_t day) {
    const kh_ref_gemeente *o = kh_ref_gemeente_at(w->ref, g, day);
    if (!o)
        return "";
    return strcmp(sector, "PO") == 0 ? o->swv_po : o->swv_vo;
}

const char *sim_world_school_of_swv(const sim_world *w, sim_rng *r, const char *swv,
                                    const char *soort, int32_t day) {
    const char *c[MAX_CANDIDATES];
    size_t n = 0;
    char sector[3] = {swv[0], swv[1], 0};
    for (size_t i = 0; i < w->nscholen && n < MAX_CANDIDATES; i++) {
        const kh_ref_school *s = kh_ref_school_at(w->ref, w->scholen[i], day);
        if (s && strcmp(sim_world_swv_of(w, s->gemeente, sector, day), swv) == 0 &&
            (!soort || kh_code_in_list(s->soorten, soort)))
            c[n++] = w->scholen[i];
    }
    return pick(r, c, n);
}

const char *sim_world_aanbieder(const sim_world *w, sim_rng *r, const char *g, int32_t day,
                                double far) {
    const char *own[MAX_CANDIDATES], *region[MAX_CANDIDATES], *other[MAX_CANDIDATES];
    size_t no = 0, nr = 0, nx = 0;
    const kh_ref_gemeente *home = kh_ref_gemeente_at(w->ref, g, day);
    for (size_t i = 0; i < w->naanbieders && nx < MAX_CANDIDATES; i++) {
        const kh_ref_aanbieder *a = kh_ref_aanbieder_at(w->ref, w->aanbieders[i], day);
        const kh_ref_gemeente *at = a ? kh_ref_gemeente_at(w->ref, a->vestigingsgemeente, day)
                                      : NULL;
        if (!at)
            continue;
        if (home && strcmp(at->jeugdregio, home->jeugdregio) == 0) {
            region[nr++] = w->aanbieders[i];
            if (strcmp(at->code, home->code) == 0)
                own[no++] = w->aanbieders[i];
        } else {
            other[nx++] = w->aanbieders[i];
        }
    }
    if (nx && (sim_rng_chance(r, far) || !nr))
        return pick(r, other, nx);
    if (no && sim_rng_chance(r, 0.6))
        return pick(r, own, no);
    return nr ? pick(r, region, nr) : w->aanbieders[sim_rng_below(r, w->naanbieders)];
}

const char *sim_world_other_swv(const sim_world *w, sim_rng *r, const char *sector,
                                const char *not_this, int32_t day) {
    const char *c[MAX_CANDIDATES];
    size_t n = 0;
    for (size_t i = 0; i < w->nswvs && n < MAX_CANDIDATES; i++) {
        const kh_ref_swv *s = kh_ref_swv_at(w->ref, w->swvs[i], day);
        if (s && strcmp(s->sector, sector) == 0 && strcmp(s->code, not_this) != 0)
            c[n++] = w->swvs[i];
    }
    return pick(r, c, n);
}
