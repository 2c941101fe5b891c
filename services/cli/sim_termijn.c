/*
 * sim_termijn — the six termijn regels once more, from services/termijn's
 * README: events are kept compactly, then replayed per child in date order
 * with the clock running up to `today`; each step that comes due before its
 * case closes gives one melding per recipient (sim_termijn_ontvangers.c).
 */
#include "sim_termijn_int.h"

#include "kh_alloc.h"
#include "kh_time.h"
#include "kh_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMESPACE "751650db-408a-56cf-9a14-2d7f90b9b0c3" /* the README's */

static const char *const REGELS[SIM_TJ_REGELS] = {
    "ZORGPLICHT_TERMIJN_VERSTREKEN", "DREIGENDE_THUISZITTER",        "THUISZITTER_ZONDER_AANBOD",
    "TLV_EINDDATUM_NADERT",          "BESCHIKKING_EINDDATUM_NADERT", "VERWIJZING_ZONDER_BESLUIT"};

const char *sim_termijn_regel(size_t i) { return i < SIM_TJ_REGELS ? REGELS[i] : NULL; }

sim_termijn *sim_termijn_new(const kh_ref *ref, const char *refdir, char *err, size_t errlen) {
    sim_kal *kal = sim_kal_load(refdir, err, errlen);
    if (!kal)
        return NULL;
    sim_termijn *st = kh_calloc(1, sizeof *st);
    st->ref = ref;
    st->kal = kal;
    return st;
}

void sim_termijn_free(sim_termijn *st) {
    if (!st)
        return;
    sim_kal_free(st->kal);
    free(st->ev);
    free(st);
}

/* ---- the replay ---------------------------------------------------------- */

typedef struct replay {
    const sim_termijn *st;
    tj_dossier d;
    sim_tj_melding *out;
    size_t n, cap;
    sim_tj_stats *stats;
} replay;

static void emit(replay *r, const tj_termijn *t, int stap, const char *ontvanger) {
    char naam[256], dag[KH_DATE_LEN];
    if (r->n == r->cap)
        r->out = kh_realloc(r->out, (r->cap = r->cap ? r->cap * 2 : 256) * sizeof *r->out);
    sim_tj_melding *m = &r->out[r->n++];
    memset(m, 0, sizeof *m);
    m->regel = REGELS[t->regel];
    m->stap = stap;
    snprintf(m->bron, sizeof m->bron, "%s", t->bron);
    snprintf(m->zaak, sizeof m->zaak, "%s", t->zaak);
    snprintf(m->ontvanger, sizeof m->ontvanger, "%s", ontvanger);
    m->geopend = t->geopend;
    m->vervaldatum = t->vervalt[stap];
    int len = snprintf(naam, sizeof naam, "%s|%s|%s|%s|%s", t->bron, t->zaak, m->regel, ontvanger,
                       kh_date_format(m->vervaldatum, dag));
    kh_uuid_v5(NAMESPACE, naam, (size_t)len, m->melding_id);
}

/* The hub's tick on today: every step due by today that came due before
 * its termijn's keep date fires (also after a clock jump past that date,
 * an outage); then a termijn past its keeping is dropped (closed or not). */
static void tick(replay *r, int32_t today) {
    tj_dossier *d = &r->d;
    for (size_t i = 0; i < d->n; i++) {
        tj_termijn *t = &d->t[i];
        for (int s = 0; s < t->stappen; s++) {
            if ((t->gevuurd & (1 << s)) || t->vervalt[s] > today || t->vervalt[s] >= t->bewaren)
                continue;
            t->gevuurd |= (uint8_t)(1 << s);
            if (s == 0 && r->stats)
                r->stats->fired[t->regel]++;
            char to[TJ_ONTVANGERS][24];
            size_t n = tj_ontvangers(r->st, d, t, s, to);
            for (size_t k = 0; k < n; k++)
                emit(r, t, s, to[k]);
        }
    }
    for (size_t i = 0; i < d->n;)
        if (today >= d->t[i].bewaren)
            d->t[i] = d->t[--d->n];
        else
            i++;
    if (d->n == 0)
        tj_vergeet(d);
}

/* The hub's clock runs from day to day up to `upto`: a tick on every day
 * something is due or ends (the days between change nothing). */
static void advance(replay *r, int32_t upto) {
    for (;;) {
        int32_t next = INT32_MAX;
        for (size_t i = 0; i < r->d.n; i++) {
            const tj_termijn *t = &r->d.t[i];
            next = t->bewaren < next ? t->bewaren : next;
            for (int s = 0; s < t->stappen; s++)
                if (!(t->gevuurd & (1 << s)) && t->vervalt[s] < next)
                    next = t->vervalt[s];
        }
        if (next > upto)
            break;
        tick(r, next);
    }
    tick(r, upto);
}

/* On `today`: the termijnen still open with a step to come. */
static void count_pending(replay *r, int32_t today) {
    for (size_t i = 0; r->stats && i < r->d.n; i++) {
        const tj_termijn *t = &r->d.t[i];
        int komt = 0;
        for (int s = 0; s < t->stappen; s++)
            komt |= !(t->gevuurd & (1 << s)) && t->vervalt[s] > today && t->vervalt[s] < t->bewaren;
        r->stats->pending[t->regel] += komt;
    }
}

static int by_child_and_date(const void *a, const void *b) {
    const tj_event *x = *(const tj_event *const *)a, *y = *(const tj_event *const *)b;
    int c = strcmp(x->bsn, y->bsn);
    if (c)
        return c;
    if (x->handeling != y->handeling)
        return x->handeling < y->handeling ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* One child's events (sorted), told to the regels with the clock running. */
static void replay_child(replay *r, tj_event *const *ev, size_t n, int32_t today) {
    memset(&r->d, 0, sizeof r->d);
    for (size_t i = 0; i < n && ev[i]->handeling <= today; i++) {
        advance(r, ev[i]->handeling); /* the hub's midnight comes before the day's events */
        tj_apply(r->st, &r->d, ev[i]);
        tick(r, ev[i]->handeling); /* an event that opens an overdue term fires at once */
    }
    advance(r, today);
    count_pending(r, today);
    free(r->d.t);
}

size_t sim_termijn_expect(const sim_termijn *st, int32_t today, sim_tj_melding **out,
                          sim_tj_stats *stats) {
    replay r = {.st = st, .stats = stats};
    if (stats)
        memset(stats, 0, sizeof *stats);
    tj_event **order = kh_calloc(st->n ? st->n : 1, sizeof *order);
    for (size_t i = 0; i < st->n; i++)
        order[i] = &st->ev[i];
    qsort(order, st->n, sizeof *order, by_child_and_date);
    for (size_t i = 0, j; i < st->n; i = j) {
        for (j = i + 1; j < st->n && strcmp(order[j]->bsn, order[i]->bsn) == 0; j++)
            ;
        replay_child(&r, order + i, j - i, today);
    }
    free(order);
    *out = r.out;
    return r.n;
}
