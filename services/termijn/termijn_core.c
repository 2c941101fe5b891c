/*
 * termijn_core — open, close, fire and escalate termijnen (the regels of
 * README.md). Recipients and texts are termijn_bericht's.
 */
#include "termijn_core.h"

#include "kh_alloc.h"
#include "kh_time.h"
#include "termijn_bericht.h"

#include <stdlib.h>
#include <string.h>

#define BEWAREN_NA_LAATSTE 365 /* days a fired, unclosed termijn is kept for late events */
#define THUISZITTER_DAGEN 28   /* four weeks out of school */

/* Zorgplicht: the last day of each step, in days after the aanmelding
 * (6 weeks; 10 weeks once extended), before pauses and working days. */
static const int32_t zorgplicht_dagen[TERMIJN_STAPPEN] = {42, 70};

static const char *const regel_namen[TERMIJN_REGELS] = {
    "ZORGPLICHT_TERMIJN_VERSTREKEN", "DREIGENDE_THUISZITTER",        "THUISZITTER_ZONDER_AANBOD",
    "TLV_EINDDATUM_NADERT",          "BESCHIKKING_EINDDATUM_NADERT", "VERWIJZING_ZONDER_BESLUIT",
};

const char *termijn_regel_naam(termijn_regel r) { return r < TERMIJN_REGELS ? regel_namen[r] : ""; }

termijn_regel termijn_regel_by_naam(const char *naam) {
    for (int r = 0; r < TERMIJN_REGELS; r++)
        if (strcmp(regel_namen[r], naam) == 0)
            return (termijn_regel)r;
    return TERMIJN_REGELS;
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* ---- The dossier ------------------------------------------------------- */

int termijn_dossier_add(termijn_dossier *d, const termijn *t) {
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 1; /* most children have one termijn */
        d->t = kh_realloc(d->t, ncap * sizeof *d->t);
        d->cap = ncap;
    }
    d->t[d->n++] = *t;
    return 0;
}

static void remove_at(termijn_dossier *d, size_t i) { d->t[i] = d->t[--d->n]; }

int termijn_dossier_leeg(const termijn_dossier *d) { return d->n == 0; }

void termijn_dossier_free(termijn_dossier *d) {
    free(d->t);
    memset(d, 0, sizeof *d);
}

static termijn *find(termijn_dossier *d, termijn_regel r, const char *zaak) {
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i].regel == r && (!zaak || strcmp(d->t[i].zaak, zaak) == 0))
            return &d->t[i];
    return NULL;
}

static void child_from(termijn_dossier *d, const termijn_event *ev) {
    COPY(d->bsn, ev->bsn);
    d->geboortedatum = ev->geboortedatum;
}

/* Leerplicht and the SWV follow the BRP woonplaats: the newest event by
 * its date (a tie: the later one received) that names one sets it; in a
 * dossier that was empty, the first. */
static void woonplaats_from(termijn_dossier *d, const termijn_event *ev, int nieuw) {
    if (!ev->woonplaats[0] || (!nieuw && ev->handeling < d->woonplaats_op))
        return;
    COPY(d->woonplaats, ev->woonplaats);
    d->woonplaats_op = ev->handeling;
}

/* ---- Opening ------------------------------------------------------------ */

static void new_termijn(termijn *t, termijn_regel r, const termijn_event *ev, int32_t geopend) {
    memset(t, 0, sizeof *t);
    t->regel = (uint8_t)r;
    t->stappen = 1;
    COPY(t->zaak, ev->id);
    COPY(t->bron, ev->bron);
    t->geopend = geopend;
    t->pauze_sinds = TERMIJN_GEEN_DATUM;
    t->hervat_op = TERMIJN_GEEN_DATUM;
    t->einddatum = ev->einddatum;
    t->oorzaak = ev->oorzaak;
}

static void keep_until(termijn *t, int32_t until) {
    t->bewaren_tot = t->vervalt[t->stappen - 1] + BEWAREN_NA_LAATSTE;
    if (until < t->bewaren_tot)
        t->bewaren_tot = until;
}

/* A term set by law (Algemene termijnenwet art. 1): its last day moves to
 * the next working day; the melding is due the day after the last day. */
static int32_t wettelijk(const termijn_ctx *ctx, int32_t laatste_dag) {
    return kh_kalender_werkdag_vanaf(ctx->kalender, laatste_dag) + 1;
}

static int zorgplicht_soort(const char *s) { return s[0] && strcmp(s, "MBO") != 0; }

static int open_zorgplicht(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx) {
    const kh_ref_school *school = kh_ref_school_at(ctx->ref, ev->bij, ev->datum);
    if (!ev->ondersteuningsbehoefte || !zorgplicht_soort(ev->onderwijssoort) ||
        (school && school->cluster) || find(d, TERMIJN_ZORGPLICHT, ev->id))
        return 0;
    termijn t;
    new_termijn(&t, TERMIJN_ZORGPLICHT, ev, ev->datum);
    t.stappen = 2;
    for (int st = 0; st < TERMIJN_STAPPEN; st++)
        t.vervalt[st] = wettelijk(ctx, ev->datum + zorgplicht_dagen[st]);
    COPY(t.org, ev->bij);
    COPY(t.soort, ev->onderwijssoort);
    keep_until(&t, INT32_MAX);
    return termijn_dossier_add(d, &t);
}

/* The 23rd birthday; born on 29 February: 1 March (the 5th and the 23rd
 * birthday never fall in a leap year), as kh_age_years counts. */
static int32_t drieentwintigste(int32_t geboortedatum) {
    int y, m, dd;
    kh_date_to_ymd(geboortedatum, &y, &m, &dd);
    return kh_kalender_plus_maanden(geboortedatum, 23 * 12) + (m == 2 && dd == 29);
}

/* From the first day of the month after the 5th birthday to the day
 * before the 23rd birthday. Born on 29 February: 5 on 1 March, so
 * leerplichtig from 1 April. */
int termijn_leeftijd_in_bereik(int32_t geboortedatum, int32_t op) {
    int y, m, dd;
    kh_date_to_ymd(geboortedatum, &y, &m, &dd);
    if (m == 2 && dd == 29)
        m = 3;
    int32_t vijf = kh_date_from_ymd(m == 12 ? y + 6 : y + 5, m == 12 ? 1 : m + 1, 1);
    return op >= vijf && op < drieentwintigste(geboortedatum);
}

static int open_thuiszitter(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx) {
    if (!termijn_leeftijd_in_bereik(ev->geboortedatum, ev->datum))
        return 0;
    int32_t einde = drieentwintigste(ev->geboortedatum);
    termijn t;
    new_termijn(&t, TERMIJN_DREIGENDE_THUISZITTER, ev, ev->datum);
    t.vervalt[0] = ev->datum + THUISZITTER_DAGEN;
    COPY(t.org, ev->bij);
    COPY(t.soort, ev->onderwijssoort);
    COPY(t.status, ev->status);
    keep_until(&t, einde);
    if (!find(d, TERMIJN_DREIGENDE_THUISZITTER, NULL) && termijn_dossier_add(d, &t))
        return -1;
    int maanden = termijn_bericht_aanbod_maanden(ctx, ev->woonplaats, ev->onderwijssoort,
                                                 ev->datum);
    if (maanden == 0 || find(d, TERMIJN_ZONDER_AANBOD, NULL))
        return 0;
    t.regel = TERMIJN_ZONDER_AANBOD;
    t.vervalt[0] = kh_kalender_plus_maanden(ev->datum, maanden);
    keep_until(&t, einde);
    return termijn_dossier_add(d, &t);
}

static int open_einde(termijn_dossier *d, const termijn_event *ev, termijn_regel r, int32_t vervalt,
                      const char *org, const char *org2, const char *soort) {
    if (ev->einddatum == TERMIJN_GEEN_DATUM || ev->einddatum < ev->datum || find(d, r, ev->id))
        return 0; /* the same case with the same end stays: its fired steps are not repeated */
    termijn t;
    new_termijn(&t, r, ev, ev->datum);
    t.vervalt[0] = vervalt;
    COPY(t.org, org);
    COPY(t.org2, org2);
    COPY(t.soort, soort);
    t.bewaren_tot = ev->einddatum + 1; /* after its end nothing is left to continue */
    return termijn_dossier_add(d, &t);
}

static int wettelijke_verwijzer(const char *type) {
    static const char *const types[] = {"HUISARTS", "JEUGDARTS", "MEDISCH_SPECIALIST",
                                        "GECERTIFICEERDE_INSTELLING"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(type, types[i]) == 0)
            return 1;
    return 0;
}

static int open_verwijzing(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx) {
    if (strcmp(ev->domein, "JEUGDHULP") != 0 || strcmp(ev->naar_type, "AANBIEDER") != 0 ||
        !wettelijke_verwijzer(ev->verwijzer_type) || find(d, TERMIJN_VERWIJZING, ev->id))
        return 0;
    termijn t;
    new_termijn(&t, TERMIJN_VERWIJZING, ev, ev->datum);
    t.stappen = 2;
    t.vervalt[0] = kh_kalender_werkdagen_na(ctx->kalender, ev->datum, 5) + 1;
    t.vervalt[1] = wettelijk(ctx, ev->datum + 56);
    COPY(t.org, ev->naar_code);
    COPY(t.org2, ev->verantwoordelijke[0] ? ev->verantwoordelijke : ev->woonplaats);
    COPY(t.soort, ev->verwijzer_type[0] == 'G'   ? "GI"
                  : ev->verwijzer_type[0] == 'H' ? "HA"
                  : ev->verwijzer_type[0] == 'J' ? "JA"
                                                 : "MS");
    keep_until(&t, INT32_MAX);
    return termijn_dossier_add(d, &t);
}

/* ---- Closing ------------------------------------------------------------ */

/* The termijn ends: a melding already sent for a step due after the day
 * the party acted is withdrawn with an achterhaald melding. */
static void close_at(termijn_dossier *d, size_t i, const termijn_event *ev, const termijn_ctx *ctx,
                     termijn_uit *out) {
    const termijn *t = &d->t[i];
    for (int s = 0; s < t->stappen; s++)
        if ((t->gevuurd & (1u << s)) && ev->handeling < t->vervalt[s])
            termijn_bericht_achterhaald(d, t, s, ev, ctx, out);
    remove_at(d, i);
    out->gewijzigd = 1;
}

/* Whether ev ends termijn t. */
static int closes(const termijn *t, const termijn_event *ev) {
    const char *st = ev->status;
    switch ((termijn_regel)t->regel) {
    case TERMIJN_ZORGPLICHT:
        return ev->kind == TERMIJN_EV_AANMELDING && strcmp(ev->id, t->zaak) == 0 &&
               strcmp(ev->bij, t->org) == 0 &&
               (!strcmp(st, "GEPLAATST") || !strcmp(st, "AFGEWEZEN") || !strcmp(st, "INGETROKKEN"));
    case TERMIJN_DREIGENDE_THUISZITTER:
    case TERMIJN_ZONDER_AANBOD:
        return ev->kind == TERMIJN_EV_AANMELDING && !strcmp(ev->soort, "ONDERWIJS") &&
               !strcmp(st, "GEPLAATST");
    case TERMIJN_TLV_EINDE:
        if (ev->kind != TERMIJN_EV_TLV || strcmp(ev->tlv_soort, t->soort) != 0)
            return 0;
        if (strcmp(ev->id, t->zaak) == 0) /* withdrawn, or re-issued with another end */
            return !strcmp(st, "INGETROKKEN") ||
                   (!strcmp(st, "AFGEGEVEN") && ev->einddatum != t->einddatum);
        return !strcmp(st, "AFGEGEVEN") && ev->datum <= t->einddatum + 1 &&
               ev->einddatum != TERMIJN_GEEN_DATUM && ev->einddatum > t->einddatum;
    case TERMIJN_BESCHIKKING_EINDE:
        if (ev->kind != TERMIJN_EV_BESCHIKKING || strcmp(ev->aanbieder, t->org2) != 0)
            return 0;
        if (strcmp(ev->id, t->zaak) == 0) /* ended, or changed to another end */
            return !strcmp(st, "BEEINDIGD") || !strcmp(st, "INGETROKKEN") ||
                   ((!strcmp(st, "TOEGEKEND") || !strcmp(st, "GEWIJZIGD")) &&
                    ev->einddatum != t->einddatum);
        return (!strcmp(st, "TOEGEKEND") || !strcmp(st, "GEWIJZIGD")) &&
               ev->datum <= t->einddatum + 1 &&
               (ev->einddatum == TERMIJN_GEEN_DATUM || ev->einddatum > t->einddatum);
    case TERMIJN_VERWIJZING:
        return ev->kind == TERMIJN_EV_BESCHIKKING && strcmp(ev->verwijzing_id, t->zaak) == 0;
    default: return 0;
    }
}

static void close_matching(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx,
                           termijn_uit *out) {
    for (size_t i = d->n; i-- > 0;)
        if (closes(&d->t[i], ev))
            close_at(d, i, ev, ctx, out);
}

/* ---- Events ------------------------------------------------------------- */

static int open_aanmelding(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx) {
    const char *st = ev->status;
    if (strcmp(ev->soort, "ONDERWIJS") != 0)
        return 0;
    if (!strcmp(st, "GEPLAATST"))
        COPY(d->school, ev->bij);
    if (!strcmp(st, "INGEDIEND"))
        return open_zorgplicht(d, ev, ctx);
    if (!strcmp(st, "AFGEWEZEN") || !strcmp(st, "INGETROKKEN"))
        return open_thuiszitter(d, ev, ctx);
    return 0;
}

static int opens(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx) {
    const char *st = ev->status;
    switch (ev->kind) {
    case TERMIJN_EV_AANMELDING: return open_aanmelding(d, ev, ctx);
    case TERMIJN_EV_TLV:
        if (strcmp(st, "AFGEGEVEN") != 0 || ev->einddatum == TERMIJN_GEEN_DATUM)
            return 0;
        return open_einde(d, ev, TERMIJN_TLV_EINDE, kh_kalender_plus_maanden(ev->einddatum, -3),
                          ev->swv, ev->aanvragende_school, ev->tlv_soort);
    case TERMIJN_EV_BESCHIKKING:
        if ((strcmp(st, "TOEGEKEND") != 0 && strcmp(st, "GEWIJZIGD") != 0) ||
            ev->einddatum == TERMIJN_GEEN_DATUM)
            return 0;
        return open_einde(d, ev, TERMIJN_BESCHIKKING_EINDE, ev->einddatum - 56, ev->gemeente,
                          ev->aanbieder, "");
    case TERMIJN_EV_VERWIJZING: return open_verwijzing(d, ev, ctx);
    default: return 0;
    }
}

static void apply_pauze(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx,
                        termijn_uit *out);

int termijn_apply(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx,
                  termijn_uit *out) {
    size_t before = d->n;
    char school[9], woon[7];
    int32_t woon_op = d->woonplaats_op;
    COPY(school, d->school);
    COPY(woon, d->woonplaats);
    close_matching(d, ev, ctx, out);
    if (opens(d, ev, ctx))
        return -1;
    apply_pauze(d, ev, ctx, out);
    if (d->n > 0 && (d->n > before || !d->bsn[0]))
        child_from(d, ev); /* the newest opening event's child data */
    if (d->n > 0)
        woonplaats_from(d, ev, before == 0);
    if (d->n != before || strcmp(school, d->school) != 0 || strcmp(woon, d->woonplaats) != 0 ||
        woon_op != d->woonplaats_op)
        out->gewijzigd = 1;
    return 0;
}

/* ---- The clock ---------------------------------------------------------- */

/* A step waits while its term is paused, unless it was due before the pause
 * began (the term had run out already). */
static int gepauzeerd(const termijn *t, int s) {
    return t->pauze_sinds != TERMIJN_GEEN_DATUM && t->vervalt[s] > t->pauze_sinds;
}

/* Every step that became due while the termijn was kept fires, also
 * when the clock jumped past its keep date (an outage); then it is
 * dropped. A step due only after the keep date never fires. */
int termijn_tick(termijn_dossier *d, int32_t today, const termijn_ctx *ctx, termijn_uit *out) {
    for (size_t i = d->n; i-- > 0;) {
        termijn *t = &d->t[i];
        for (int s = 0; s < t->stappen; s++) {
            if ((t->gevuurd & (1u << s)) || t->vervalt[s] > today ||
                t->vervalt[s] >= t->bewaren_tot || gepauzeerd(t, s))
                continue;
            if (out->n + TERMIJN_BETROKKENEN > TERMIJN_UIT_MAX)
                return 1;
            termijn_bericht_verstreken(d, t, s, ctx, out);
            t->gevuurd |= (uint8_t)(1u << s);
            out->gewijzigd = 1;
        }
        if (today >= t->bewaren_tot) {
            remove_at(d, i);
            out->gewijzigd = 1;
        }
    }
    return 0;
}

int32_t termijn_volgende(const termijn_dossier *d) {
    int32_t next = INT32_MAX;
    for (size_t i = 0; i < d->n; i++) {
        const termijn *t = &d->t[i];
        if (t->bewaren_tot < next)
            next = t->bewaren_tot;
        for (int s = 0; s < t->stappen; s++)
            if (!(t->gevuurd & (1u << s)) && !gepauzeerd(t, s) && t->vervalt[s] < next)
                next = t->vervalt[s];
    }
    return next;
}

/* ---- The zorgplicht pause ---------------------------------------------- */

static termijn *zorgplicht_van(termijn_dossier *d, const char *aanmelding_id) {
    termijn *t = find(d, TERMIJN_ZORGPLICHT, aanmelding_id);
    return t && t->pauze_sinds == TERMIJN_GEEN_DATUM ? t : NULL;
}

int termijn_pauzeer(termijn_dossier *d, const char *aanmelding_id, int32_t vanaf) {
    termijn *t = zorgplicht_van(d, aanmelding_id);
    if (!t)
        return -1;
    t->pauze_sinds = vanaf > t->geopend ? vanaf : t->geopend;
    return 0;
}

int termijn_hervat(termijn_dossier *d, const char *aanmelding_id, int32_t tot,
                   const termijn_ctx *ctx) {
    termijn *t = find(d, TERMIJN_ZORGPLICHT, aanmelding_id);
    if (!t || t->pauze_sinds == TERMIJN_GEEN_DATUM || tot < t->pauze_sinds)
        return -1;
    t->pauze_dagen += tot - t->pauze_sinds;
    for (int s = 0; s < t->stappen; s++)
        if (!(t->gevuurd & (1u << s)) && gepauzeerd(t, s))
            t->vervalt[s] = wettelijk(ctx, t->geopend + zorgplicht_dagen[s] + t->pauze_dagen);
    keep_until(t, INT32_MAX);
    t->pauze_sinds = TERMIJN_GEEN_DATUM;
    t->hervat_op = tot;
    return 0;
}

/* A pause that began on or before a fired step's last day means that term
 * had not run out: its melding is withdrawn (achterhaald) and the step
 * fires again at its new due date. */
static void pauze_achterhaalt(termijn_dossier *d, termijn *t, const termijn_event *ev,
                              const termijn_ctx *ctx, termijn_uit *out) {
    for (int s = 0; s < t->stappen; s++)
        if ((t->gevuurd & (1u << s)) && t->pauze_sinds < t->vervalt[s]) {
            termijn_bericht_opgeschort(d, t, s, ev, ctx, out);
            t->gevuurd &= (uint8_t) ~(1u << s);
        }
}

/* An aanmelding with informatie_opgevraagd_op (and _ontvangen_op) pauses
 * (and resumes) its open zorgplicht termijn. Every later event of the
 * aanmelding may repeat the dates: a request from before the last resume
 * was counted already, and a same-day answer suspends nothing. */
static void apply_pauze(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx,
                        termijn_uit *out) {
    int32_t van = ev->informatie_opgevraagd, tot = ev->informatie_ontvangen;
    if (ev->kind != TERMIJN_EV_AANMELDING || van == TERMIJN_GEEN_DATUM)
        return;
    termijn *t = find(d, TERMIJN_ZORGPLICHT, ev->id);
    if (!t || strcmp(ev->bij, t->org) != 0 ||
        (t->hervat_op != TERMIJN_GEEN_DATUM && van < t->hervat_op))
        return;
    int zelfde_dag = tot != TERMIJN_GEEN_DATUM && tot <= van;
    if (!zelfde_dag && termijn_pauzeer(d, ev->id, van) == 0) {
        pauze_achterhaalt(d, t, ev, ctx, out);
        out->gewijzigd = 1;
    }
    if (tot != TERMIJN_GEEN_DATUM && t->pauze_sinds != TERMIJN_GEEN_DATUM) {
        termijn_hervat(d, ev->id, tot > t->pauze_sinds ? tot : t->pauze_sinds, ctx);
        out->gewijzigd = 1;
    }
}
