/*
 * test_sim_termijn — the simulator's termijn cases and its own expectation
 * of the termijn meldingen (sim_termijn, written from services/termijn's
 * README) against ketenhub-termijn's decision core, by melding_id.
 *
 * For several seeds and several "today" values (before, on and after due
 * dates, around weekends and feestdagen) the generator's events (with half
 * of the stories termijn cases) must pass kh_intake as ingest checks them,
 * are encoded in the wire format, read by termijn_event_read as the service
 * reads them,
 * and told per child to termijn_apply/termijn_tick in the order a hub
 * receives them (each on its own date, the clock running from day to day
 * up to today). The ids must be the same set, none sent twice, none to a
 * gemeente code a herindeling dissolved (issue 14's findings, fixed); every
 * regel must have fired and have a termijn still to come; no melding is
 * achterhaald in this order (a closing event always arrives before a later
 * due date).
 */
#include "kh_codec.h"
#include "kh_intake.h"
#include "kh_kalender.h"
#include "kh_schema.h"
#include "kh_time.h"
#include "sim_gen.h"
#include "sim_termijn.h"
#include "termijn_afspraak.h"
#include "termijn_core.h"
#include "termijn_event.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS 4000

static kh_ref *ref;
static kh_schemas *schemas;
static kh_kalender *kal;
static termijn_afspraken *afs;
static termijn_ctx ctx;
static sim_world world;
static char refdir[512];

static void setup(void) {
    char err[512];
    snprintf(refdir, sizeof refdir, "%s/deploy/reference", kh_test_source_dir());
    ck_assert_msg(kh_ref_load(refdir, &ref, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(kh_kalender_load(refdir, &kal, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(termijn_afspraken_load(refdir, &afs, err, sizeof err) == 0, "%s", err);
    ctx = (termijn_ctx){ref, kal, afs};
    int32_t from = kh_date_from_ymd(2025, 1, 1);
    ck_assert_msg(sim_world_build(&world, ref, from, from + 365 + SIM_STORY_SPAN, err,
                                  sizeof err) == 0,
                  "%s", err);
}

static void teardown(void) {
    sim_world_free(&world);
    termijn_afspraken_free(afs);
    kh_kalender_free(kal);
    kh_schemas_free(schemas);
    kh_ref_free(ref);
}

/* One event as termijn's core sees it, with the day it reaches the hub. */
typedef struct ontvangen {
    char bsn[10];
    int32_t dag;
    size_t seq;
    termijn_event ev;
} ontvangen;

/* One melding of the core. */
typedef struct kern_melding {
    char id[37], regel[48], ontvanger[24], zaak[65];
    int32_t vervaldatum;
    int achterhaald;
} kern_melding;

typedef struct kern {
    kern_melding *m;
    size_t n, cap;
} kern;

/* ev (natural JSON text) checked and encoded as ingest does (it must pass),
 * then read as termijn reads it. */
static void read_as_termijn(const sim_event *ev, size_t seq, ontvangen *o) {
    static const char *const kinds[] = {"aanmelding", "tlv", "beschikking", "verwijzing"};
    char err[4096];
    kh_problems probs;
    char *wire;
    size_t len;
    kh_problems_init(&probs);
    json_t *j = kh_codec_parse(ev->body, strlen(ev->body), &probs);
    ck_assert_msg(j && kh_intake_encode(schemas, ev->type, j, ref, kh_now_millis(), &wire, &len,
                                        &probs) == 0,
                  "valid %s rejected:\n%s%s", ev->type->name,
                  kh_problems_format(&probs, err, sizeof err), ev->body);
    int kind = 0;
    while (strcmp(kinds[kind], ev->type->name) != 0)
        kind++;
    const char *code;
    memset(o, 0, sizeof *o);
    ck_assert_msg(termijn_event_read(schemas, (termijn_kind)kind, wire, len, &o->ev, &code, err,
                                     sizeof err) == 0,
                  "termijn cannot read %s: %s", ev->body, err);
    snprintf(o->bsn, sizeof o->bsn, "%s", o->ev.bsn);
    o->dag = kh_kalender_amsterdam_date(o->ev.oorzaak.aangemaakt_op);
    o->seq = seq;
    free(wire);
    json_decref(j);
}

/* EVENTS valid events of seed with termijn cases around today, into the
 * expectation st and (returned, n of them) as the core reads them. */
static ontvangen *generate(uint64_t seed, int32_t today, sim_termijn *st, size_t *n) {
    sim_gen_options o;
    sim_gen_defaults(&o);
    o.termijn_share = 0.5;
    o.today = today;
    sim_gen *g = sim_gen_new(&world, seed, &o);
    ck_assert_ptr_nonnull(g);
    ontvangen *out = calloc(EVENTS, sizeof *out);
    sim_event ev = {0};
    for (size_t i = 0; i < EVENTS; i++) {
        ck_assert_int_eq(sim_gen_next(g, &ev), 0);
        ck_assert(ev.valid);
        sim_termijn_add(st, ev.type, ev.event);
        read_as_termijn(&ev, i, &out[i]);
    }
    sim_event_clear(&ev);
    sim_gen_free(g);
    *n = EVENTS;
    return out;
}

static void keep(kern *k, termijn_uit *uit) {
    for (size_t i = 0; i < uit->n; i++) {
        const termijn_melding *m = &uit->m[i];
        if (k->n == k->cap)
            k->m = realloc(k->m, (k->cap = k->cap ? k->cap * 2 : 256) * sizeof *k->m);
        kern_melding *x = &k->m[k->n++];
        snprintf(x->id, sizeof x->id, "%s", m->melding_id);
        snprintf(x->regel, sizeof x->regel, "%s", termijn_regel_naam(m->regel));
        snprintf(x->ontvanger, sizeof x->ontvanger, "%s:%s", m->ontvanger_type, m->ontvanger_code);
        snprintf(x->zaak, sizeof x->zaak, "%s", m->zaak);
        x->vervaldatum = m->vervaldatum;
        x->achterhaald = m->achterhaalt[0] != 0;
    }
    uit->n = 0;
    uit->gewijzigd = 0;
}

/* The hub's midnight of day for d; an emptied dossier is deleted. */
static void tick(termijn_dossier *d, int32_t day, termijn_uit *uit, kern *k) {
    int more;
    do {
        more = termijn_tick(d, day, &ctx, uit);
        ck_assert_int_ge(more, 0);
        keep(k, uit);
    } while (more == 1);
    if (termijn_dossier_leeg(d)) {
        termijn_dossier_free(d);
        memset(d, 0, sizeof *d);
    }
}

/* The clock runs from day to day up to upto: a tick on every day the
 * core says it has work (termijn_volgende), as the service does. */
static void advance(termijn_dossier *d, int32_t upto, termijn_uit *uit, kern *k) {
    int32_t next;
    while ((next = termijn_volgende(d)) <= upto)
        tick(d, next, uit, k);
    tick(d, upto, uit, k);
}

static int by_child_and_day(const void *a, const void *b) {
    const ontvangen *x = a, *y = b;
    int c = strcmp(x->bsn, y->bsn);
    if (c)
        return c;
    if (x->dag != y->dag)
        return x->dag < y->dag ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Every child's events told to the core in the order the hub receives them. */
static void run_core(ontvangen *ev, size_t n, int32_t today, kern *k) {
    termijn_uit *uit = calloc(1, sizeof *uit);
    qsort(ev, n, sizeof *ev, by_child_and_day);
    for (size_t i = 0, j; i < n; i = j) {
        termijn_dossier d = {0};
        for (j = i; j < n && strcmp(ev[j].bsn, ev[i].bsn) == 0; j++) {
            if (ev[j].dag > today)
                continue; /* not yet happened */
            advance(&d, ev[j].dag, uit, k);
            ck_assert_int_eq(termijn_apply(&d, &ev[j].ev, &ctx, uit), 0);
            keep(k, uit);
            tick(&d, ev[j].dag, uit, k); /* an event that opens an overdue term */
        }
        advance(&d, today, uit, k);
        termijn_dossier_free(&d);
    }
    free(uit);
}

static int in_kern(const kern *k, const char *id) {
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->m[i].id, id) == 0)
            return 1;
    return 0;
}

static int in_sim(const sim_tj_melding *m, size_t n, const char *id) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].melding_id, id) == 0)
            return 1;
    return 0;
}

/* A disagreement once known (issue 14, fixed) and now a failure: a
 * gemeente melding addressed to the code the event carried although a
 * herindeling dissolved it before the due date, where DESIGN.md ("A merged
 * gemeente code maps to its successor"), route and sim_termijn use the
 * successor. True when k is m's melding but for the recipient being the
 * dissolved code of m's recipient. */
static int herindeling(const sim_tj_melding *m, const kern_melding *k) {
    const char *merged;
    if (strcmp(m->regel, k->regel) != 0 || strcmp(m->zaak, k->zaak) != 0 ||
        m->vervaldatum != k->vervaldatum || strncmp(k->ontvanger, "GEMEENTE:", 9) != 0 ||
        strncmp(m->ontvanger, "GEMEENTE:", 9) != 0)
        return 0;
    const kh_ref_gemeente *g = kh_ref_gemeente_resolve(ref, k->ontvanger + 9, k->vervaldatum,
                                                       &merged);
    return g && merged && strcmp(g->code, m->ontvanger + 9) == 0;
}

/* Whether the core sent m to a dissolved code instead (counted apart). */
static int to_dissolved(const sim_tj_melding *m, const kern *k) {
    for (size_t i = 0; i < k->n; i++)
        if (herindeling(m, &k->m[i]))
            return 1;
    return 0;
}

typedef struct verschil {
    size_t missing, unexpected, herindeling;
} verschil;

/* Counts (and prints the first few of) the disagreements both ways. */
static void compare(const sim_tj_melding *m, size_t n, const kern *k, verschil *v) {
    char d1[KH_DATE_LEN], d2[KH_DATE_LEN];
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        if (in_kern(k, m[i].melding_id))
            continue;
        if (to_dissolved(&m[i], k))
            v->herindeling++;
        if (v->missing++ < 8)
            fprintf(stderr, "  only sim_termijn: %s stap %d zaak %s (%s) to %s, opened %s due %s\n",
                    m[i].regel, m[i].stap, m[i].zaak, m[i].bron, m[i].ontvanger,
                    kh_date_format(m[i].geopend, d1), kh_date_format(m[i].vervaldatum, d2));
    }
    for (size_t i = 0; i < k->n; i++) {
        if (in_sim(m, n, k->m[i].id))
            continue;
        if (v->unexpected++ < 8)
            fprintf(stderr, "  only termijn: %s%s zaak %s to %s due %s\n", k->m[i].regel,
                    k->m[i].achterhaald ? " (achterhaald)" : "", k->m[i].zaak, k->m[i].ontvanger,
                    kh_date_format(k->m[i].vervaldatum, d1));
    }
}

/* Meldingen the core sent again with an id it had sent before (printed,
 * and a failure: the service never repeats a melding). */
static size_t repeated(const kern *k) {
    size_t n = 0;
    char d1[KH_DATE_LEN];
    for (size_t i = 0; i < k->n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(k->m[i].id, k->m[j].id) == 0) {
                if (n++ < 3)
                    fprintf(stderr, "  termijn repeated %s zaak %s to %s due %s\n", k->m[i].regel,
                            k->m[i].zaak, k->m[i].ontvanger,
                            kh_date_format(k->m[i].vervaldatum, d1));
                break;
            }
    return n;
}

/* A fired VERWIJZING_ZONDER_BESLUIT step 0 whose 5 working days spanned a
 * feestdag on a weekday; and meldingen due exactly on today. */
static void count_calendar(const sim_tj_melding *m, size_t n, int32_t today, size_t *feestdag,
                           size_t *op_today) {
    for (size_t i = 0; i < n; i++) {
        *op_today += m[i].vervaldatum == today;
        if (strcmp(m[i].regel, "VERWIJZING_ZONDER_BESLUIT") != 0 || m[i].stap != 0)
            continue;
        int spans = 0;
        for (int32_t d = m[i].geopend + 1; d < m[i].vervaldatum; d++)
            spans |= kh_kalender_feestdag(kal, d) && kh_kalender_weekdag(d) < 5;
        *feestdag += spans;
    }
}

START_TEST(test_sim_termijn_against_core) {
    static const char *const todays[] = {"2025-04-17", "2025-04-22", "2025-05-06", "2025-06-10",
                                         "2025-12-29"};
    size_t total_missing = 0, total_unexpected = 0, feestdag = 0, op_today = 0, achterhaald = 0;
    size_t total_herindeling = 0, total_repeated = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        for (size_t t = 0; t < sizeof todays / sizeof *todays; t++) {
            char err[512];
            int32_t today;
            ck_assert_int_eq(kh_date_parse(todays[t], &today), 0);
            sim_termijn *st = sim_termijn_new(ref, refdir, err, sizeof err);
            ck_assert_msg(st, "%s", err);
            size_t n;
            ontvangen *ev = generate(seed, today, st, &n);
            sim_tj_melding *m;
            sim_tj_stats stats;
            size_t want = sim_termijn_expect(st, today, &m, &stats);
            kern k = {0};
            run_core(ev, n, today, &k);
            verschil v;
            compare(m, want, &k, &v);
            size_t herhaald = repeated(&k);
            count_calendar(m, want, today, &feestdag, &op_today);
            for (size_t i = 0; i < k.n; i++)
                achterhaald += k.m[i].achterhaald;
            printf("seed %llu today %s: %zu events, %zu expected, %zu from termijn, %zu only in "
                   "sim_termijn, %zu only in termijn, %zu of them to a dissolved gemeente, %zu "
                   "repeated by termijn\n",
                   (unsigned long long)seed, todays[t], n, want, k.n, v.missing, v.unexpected,
                   v.herindeling, herhaald);
            for (size_t r = 0; r < SIM_TJ_REGELS; r++)
                ck_assert_msg(stats.fired[r] > 0 && stats.pending[r] > 0,
                              "seed %llu today %s: %s fired %zu, pending %zu",
                              (unsigned long long)seed, todays[t], sim_termijn_regel(r),
                              stats.fired[r], stats.pending[r]);
            total_missing += v.missing;
            total_unexpected += v.unexpected;
            total_herindeling += v.herindeling;
            total_repeated += herhaald;
            free(m);
            free(k.m);
            free(ev);
            sim_termijn_free(st);
        }
    }
    ck_assert_msg(total_herindeling == 0,
                  "%zu expected meldingen went to a dissolved gemeente's code instead of its "
                  "successor",
                  total_herindeling);
    ck_assert_msg(total_repeated == 0, "termijn repeated %zu meldingen with an id already sent",
                  total_repeated);
    ck_assert_msg(feestdag > 0, "no verwijzing's 5 working days spanned a feestdag");
    ck_assert_msg(op_today > 0, "no melding was due exactly on a today");
    ck_assert_msg(achterhaald == 0, "%zu achterhaald meldingen in date order", achterhaald);
    ck_assert_msg(total_missing == 0 && total_unexpected == 0,
                  "%zu meldingen only in sim_termijn, %zu only in termijn (see above)",
                  total_missing, total_unexpected);
}
END_TEST

int main(void) {
    Suite *s = suite_create("sim_termijn");
    TCase *tc = tcase_create("against termijn_core");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_sim_termijn_against_core);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
