/*
 * termijn_bericht — recipients, betrokkenen, ids and texts per regel.
 */
#include "termijn_bericht.h"

#include "kh_time.h"
#include "kh_uuid.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* The people and organisations of one melding: betrokkenen, and which of
 * them receive it (bit i: betrokkene i is a recipient). */
typedef struct partij {
    termijn_betrokkene b[TERMIJN_BETROKKENEN];
    size_t n;
    unsigned ontvangers;
    int32_t peil;
    const kh_ref *ref;
} partij;

const char *termijn_sector(const char *soort) {
    if (!strcmp(soort, "PO") || !strcmp(soort, "SBO") || !strcmp(soort, "SO"))
        return "PO";
    if (!strcmp(soort, "VO") || !strcmp(soort, "VSO") || !strcmp(soort, "PRO"))
        return "VO";
    return NULL;
}

/* Adds an organisation (once per code and role); returns its index or -1.
 * A gemeente code a herindeling dissolved before the peildatum is the
 * successor's (kh_ref_gemeente_resolve, as route does). */
static int add(partij *p, const char *rol, const char *type, const char *code, int ontvanger) {
    const char *oud = NULL;
    const kh_ref_gemeente *g = NULL;
    if (code && code[0] && !strcmp(type, "GEMEENTE") &&
        (g = kh_ref_gemeente_resolve(p->ref, code, p->peil, &oud)))
        code = g->code;
    if (!code || !code[0] || p->n == TERMIJN_BETROKKENEN)
        return -1;
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->b[i].code, code) && !strcmp(p->b[i].type, type)) {
            p->ontvangers |= ontvanger ? 1u << i : 0;
            return (int)i;
        }
    termijn_betrokkene *b = &p->b[p->n];
    b->rol = rol;
    b->type = type;
    COPY(b->code, code);
    COPY(b->opvolger_van, oud ? oud : "");
    const char *naam = code;
    if (g) {
        naam = g->naam;
    } else if (!strcmp(type, "SWV")) {
        const kh_ref_swv *s = kh_ref_swv_at(p->ref, code, p->peil);
        naam = s ? s->naam : code;
    } else if (!strcmp(type, "SCHOOL")) {
        const kh_ref_school *s = kh_ref_school_at(p->ref, code, p->peil);
        naam = s ? s->naam : code;
    } else if (!strcmp(type, "AANBIEDER")) {
        const kh_ref_aanbieder *a = kh_ref_aanbieder_at(p->ref, code, p->peil);
        naam = a ? a->naam : code;
    }
    COPY(b->naam, naam);
    p->ontvangers |= ontvanger ? 1u << p->n : 0;
    return (int)p->n++;
}

static const kh_ref_gemeente *gemeente(const partij *p, const char *code) {
    return code[0] ? kh_ref_gemeente_resolve(p->ref, code, p->peil, NULL) : NULL;
}

static const char *swv_van(const kh_ref_gemeente *g, const char *sector) {
    if (!g || !sector)
        return NULL;
    return strcmp(sector, "PO") == 0 ? g->swv_po : g->swv_vo;
}

/* The SWV of a school for a sector: that of the school's gemeente; none for
 * a cluster 1/2 school (outside the SWV's). */
static const char *swv_school(const partij *p, const char *school, const char *sector) {
    const kh_ref_school *s = kh_ref_school_at(p->ref, school, p->peil);
    return s && !s->cluster ? swv_van(gemeente(p, s->gemeente), sector) : NULL;
}

static const char *rmc_contact(const partij *p, const kh_ref_gemeente *woon) {
    const kh_ref_rmc *r = woon && woon->rmc[0] ? kh_ref_rmc_at(p->ref, woon->rmc, p->peil) : NULL;
    return r ? r->contactgemeente : NULL;
}

/* ---- Who, per regel ---------------------------------------------------- */

static void partijen_zorgplicht(partij *p, const termijn_dossier *d, const termijn *t, int stap) {
    const char *sector = termijn_sector(t->soort);
    add(p, "SCHOOL", "SCHOOL", t->org, 1);
    add(p, "SWV_SCHOOL", "SWV", swv_school(p, t->org, sector), 1);
    const kh_ref_gemeente *woon = gemeente(p, d->woonplaats);
    add(p, "SWV_WOONPLAATS", "SWV", swv_van(woon, sector), stap == 1);
    add(p, "WOONPLAATSGEMEENTE", "GEMEENTE", d->woonplaats, stap == 1);
}

static void partijen_thuiszitter(partij *p, const termijn_dossier *d, const termijn *t) {
    const char *sector = termijn_sector(t->soort);
    const kh_ref_gemeente *woon = gemeente(p, d->woonplaats);
    int volwassen = kh_age_years(d->geboortedatum, p->peil) >= 18;
    if (t->regel == TERMIJN_DREIGENDE_THUISZITTER && volwassen) {
        add(p, "RMC_CONTACTGEMEENTE", "GEMEENTE", rmc_contact(p, woon), 1);
        add(p, "WOONPLAATSGEMEENTE", "GEMEENTE", d->woonplaats, 0);
    } else {
        add(p, "SWV_WOONPLAATS", "SWV", swv_van(woon, sector), 1);
        add(p, "WOONPLAATSGEMEENTE", "GEMEENTE", d->woonplaats, 1);
    }
    add(p, "SWV_SCHOOL", "SWV", swv_school(p, t->org, sector), t->regel == TERMIJN_ZONDER_AANBOD);
    add(p, "SCHOOL", "SCHOOL", t->org, 0);
}

static void partijen(partij *p, const termijn_dossier *d, const termijn *t, int stap) {
    switch ((termijn_regel)t->regel) {
    case TERMIJN_ZORGPLICHT: partijen_zorgplicht(p, d, t, stap); break;
    case TERMIJN_DREIGENDE_THUISZITTER:
    case TERMIJN_ZONDER_AANBOD: partijen_thuiszitter(p, d, t); break;
    case TERMIJN_TLV_EINDE:
        add(p, "SWV_AFGEVER", "SWV", t->org, 1);
        add(p, "SCHOOL", "SCHOOL", d->school[0] ? d->school : t->org2, 1);
        break;
    case TERMIJN_BESCHIKKING_EINDE:
        add(p, "BESCHIKKENDE_GEMEENTE", "GEMEENTE", t->org, 1);
        add(p, "AANBIEDER", "AANBIEDER", t->org2, 1);
        break;
    case TERMIJN_VERWIJZING:
        add(p, "VERANTWOORDELIJKE_GEMEENTE", "GEMEENTE", t->org2, 1);
        add(p, "AANBIEDER", "AANBIEDER", t->org, 0);
        break;
    default: break;
    }
}

/* ---- Text ---------------------------------------------------------------- */

typedef struct text {
    char *buf;
    size_t cap, len;
} text;

static void addf(text *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(text *x, const char *fmt, ...) {
    va_list ap;
    if (x->len + 1 >= x->cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(x->buf + x->len, x->cap - x->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        x->len = x->len + (size_t)n < x->cap ? x->len + (size_t)n : x->cap - 1;
}

static const char *maanden[] = {"januari",   "februari", "maart",    "april",
                                "mei",       "juni",     "juli",     "augustus",
                                "september", "oktober",  "november", "december"};

/* "2 maart 2026" */
static const char *datum_nl(int32_t day, char *buf, size_t len) {
    int y, m, d;
    kh_date_to_ymd(day, &y, &m, &d);
    snprintf(buf, len, "%d %s %d", d, maanden[m - 1], y);
    return buf;
}

static const termijn_betrokkene *rol(const partij *p, const char *r) {
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->b[i].rol, r))
            return &p->b[i];
    return NULL;
}

/* "Naam (CODE)", or "onbekend" when the role is absent. */
static const char *wie(const partij *p, const char *r, char *buf, size_t len) {
    const termijn_betrokkene *b = rol(p, r);
    if (!b)
        return "onbekend";
    snprintf(buf, len, "%s (%s)", b->naam, b->code);
    return buf;
}

/* " Actie: A (code), B (code) en C (code) <zin>." with the recipients. */
static void actie(text *x, const partij *p, const char *zin) {
    size_t total = 0, k = 0;
    for (size_t i = 0; i < p->n; i++)
        total += (p->ontvangers >> i) & 1u;
    addf(x, " Actie: ");
    for (size_t i = 0; i < p->n; i++) {
        if (!((p->ontvangers >> i) & 1u))
            continue;
        addf(x, "%s%s (%s)",
             k == 0           ? ""
             : k + 1 == total ? " en "
                              : ", ",
             p->b[i].naam, p->b[i].code);
        k++;
    }
    addf(x, " %s.", zin);
}

static void tekst_zorgplicht(text *x, const partij *p, const termijn *t, int stap) {
    char a[160], b[160], d1[32], d2[32];
    addf(x,
         "%s heeft op %s de schriftelijke aanmelding %s ontvangen van een leerling die extra "
         "ondersteuning nodig heeft. ",
         wie(p, "SCHOOL", a, sizeof a), datum_nl(t->geopend, d1, sizeof d1), t->zaak);
    if (stap == 0)
        addf(x,
             "Volgens de zorgplicht beslist het bevoegd gezag binnen zes weken; die termijn "
             "verstreek op %s en de hub heeft geen besluit gezien (plaatsing, afwijzing of "
             "intrekking). De termijn kan één keer met ten hoogste vier weken worden verlengd.",
             datum_nl(t->vervalt[0] - 1, d2, sizeof d2));
    else
        addf(x,
             "Ook de verlengde termijn van tien weken verstreek op %s zonder dat de hub een "
             "besluit zag. Volgens de zorgplicht wordt de leerling dan voorlopig ingeschreven "
             "op de school van aanmelding, tot er een passende plek is. Samenwerkingsverband "
             "%s is betrokken.",
             datum_nl(t->vervalt[1] - 1, d2, sizeof d2), wie(p, "SWV_SCHOOL", b, sizeof b));
    if (t->pauze_dagen > 0)
        addf(x,
             " De termijn was %d %s opgeschort, omdat de school wachtte op informatie van de "
             "ouders; die dagen tellen niet mee.",
             (int)t->pauze_dagen, t->pauze_dagen == 1 ? "dag" : "dagen");
    actie(x, p,
          stap == 0 ? "zorgen dat over de aanmelding wordt beslist"
                    : "gaan na of de leerling een plek heeft");
}

static void tekst_thuiszitter(text *x, const partij *p, const termijn_ctx *ctx,
                              const termijn_dossier *d, const termijn *t) {
    char a[160], w[160], d1[32], d2[32];
    int leeftijd = kh_age_years(d->geboortedatum, p->peil);
    addf(x, "De aanmelding van een %s van %d jaar uit %s bij %s is op %s %s. ",
         leeftijd >= 18 ? "jongere" : "leerling", leeftijd,
         wie(p, "WOONPLAATSGEMEENTE", w, sizeof w), wie(p, "SCHOOL", a, sizeof a),
         datum_nl(t->geopend, d1, sizeof d1),
         !strcmp(t->status, "INGETROKKEN") ? "ingetrokken" : "afgewezen");
    if (t->regel == TERMIJN_DREIGENDE_THUISZITTER) {
        addf(x, "Sindsdien, nu vier weken, heeft de hub geen plaatsing op een school gezien. Wie "
                "vier weken of langer zonder vrijstelling niet naar school gaat, geldt als "
                "thuiszitter (werkdefinitie, geen wettelijk begrip).");
        if (leeftijd >= 18)
            addf(x, " Jongeren van 18 tot 23 jaar zonder startkwalificatie vallen onder de "
                    "regionale meld- en coördinatiefunctie (RMC); of deze jongere een "
                    "startkwalificatie heeft, weet de hub niet.");
        actie(x, p, "gaan na of de leerling op een school staat ingeschreven");
        return;
    }
    const kh_ref_gemeente *woon = gemeente(p, d->woonplaats);
    const kh_ref_afspraak *af = woon ? kh_ref_afspraak_at(ctx->ref, woon->jeugdregio,
                                                          "THUISZITTER_AANBOD", t->geopend)
                                     : NULL;
    addf(x,
         "Sindsdien heeft de hub geen plaatsing gezien, en de in de regio afgesproken termijn "
         "voor een aanbod aan een thuiszitter verstreek op %s.",
         datum_nl(t->vervalt[0] - 1, d2, sizeof d2));
    if (af && !strcmp(af->status, "AFSPRAAK"))
        addf(x, " Volgens %s (%s) is voor jeugdregio %s (%s) afgesproken: \"%s\"", af->bron_titel,
             af->bron_datum[0] ? af->bron_datum : "datum onbekend", woon->jeugdregio_naam,
             woon->jeugdregio, af->tekst);
    actie(x, p, "zorgen samen voor een aanbod");
}

static void tekst_einde(text *x, const partij *p, const termijn *t) {
    char a[160], b[160], d1[32], d2[32];
    if (t->regel == TERMIJN_TLV_EINDE) {
        addf(x,
             "De toelaatbaarheidsverklaring %s voor het %s die %s afgaf, loopt af op %s. De "
             "hub heeft geen nieuwe verklaring gezien die daarna geldt. Het samenwerkingsverband "
             "dat de verklaring afgaf, geeft ook de verlenging af.",
             t->zaak, t->soort, wie(p, "SWV_AFGEVER", a, sizeof a),
             datum_nl(t->einddatum, d1, sizeof d1));
        actie(x, p, "gaan tijdig na of een nieuwe verklaring nodig is");
        return;
    }
    addf(x,
         "De beschikking %s van %s voor jeugdhulp bij %s loopt af op %s (over acht weken op "
         "%s). De hub heeft geen vervolgbesluit gezien. Een aanvraag om voortzetting kan "
         "een onderzoek van acht weken vragen.",
         t->zaak, wie(p, "BESCHIKKENDE_GEMEENTE", a, sizeof a), wie(p, "AANBIEDER", b, sizeof b),
         datum_nl(t->einddatum, d1, sizeof d1), datum_nl(t->vervalt[0], d2, sizeof d2));
    actie(x, p, "stemmen tijdig af of de hulp wordt voortgezet");
}

static const char *verwijzer_tekst(const char *soort) {
    return !strcmp(soort, "GI")   ? "Een gecertificeerde instelling heeft jeugdhulp bepaald"
           : !strcmp(soort, "HA") ? "Een huisarts heeft verwezen"
           : !strcmp(soort, "JA") ? "Een jeugdarts heeft verwezen"
                                  : "Een medisch specialist heeft verwezen";
}

static void tekst_verwijzing(text *x, const partij *p, const termijn *t, int stap) {
    char a[160], b[160], d1[32], d2[32];
    addf(x, "%s op %s (verwijzing %s, naar %s). ", verwijzer_tekst(t->soort),
         datum_nl(t->geopend, d1, sizeof d1), t->zaak, wie(p, "AANBIEDER", a, sizeof a));
    if (stap == 0)
        addf(x,
             "Volgens de iJw-bedrijfsregels (release 3.2, OP274) antwoordt de gemeente binnen "
             "vijf werkdagen op het verzoek om toewijzing van de aanbieder; gerekend vanaf de "
             "verwijzing (het verzoek zelf ziet de hub niet) verstreek die termijn op %s zonder "
             "dat de hub een besluit van %s zag.",
             datum_nl(t->vervalt[0] - 1, d2, sizeof d2),
             wie(p, "VERANTWOORDELIJKE_GEMEENTE", b, sizeof b));
    else
        addf(x,
             "Is de aanvraag in onderzoek, dan volgt volgens dezelfde regel binnen acht weken "
             "een toewijzing of afwijzing; ook die termijn verstreek op %s zonder besluit van "
             "%s.",
             datum_nl(t->vervalt[1] - 1, d2, sizeof d2),
             wie(p, "VERANTWOORDELIJKE_GEMEENTE", b, sizeof b));
    actie(x, p, "beslist over de toewijzing");
}

/* Cuts s to at most max characters, at a character boundary. */
static void limit_chars(char *s, size_t max) {
    size_t chars = 0;
    for (char *q = s; *q; q++) {
        if (((unsigned char)*q & 0xC0) == 0x80)
            continue;
        if (chars++ == max) {
            *q = '\0';
            return;
        }
    }
}

static void render(char *out, size_t cap, const partij *p, const termijn_ctx *ctx,
                   const termijn_dossier *d, const termijn *t, int stap) {
    text x = {out, cap, 0};
    out[0] = '\0';
    switch ((termijn_regel)t->regel) {
    case TERMIJN_ZORGPLICHT: tekst_zorgplicht(&x, p, t, stap); break;
    case TERMIJN_DREIGENDE_THUISZITTER:
    case TERMIJN_ZONDER_AANBOD: tekst_thuiszitter(&x, p, ctx, d, t); break;
    case TERMIJN_TLV_EINDE:
    case TERMIJN_BESCHIKKING_EINDE: tekst_einde(&x, p, t); break;
    case TERMIJN_VERWIJZING: tekst_verwijzing(&x, p, t, stap); break;
    default: break;
    }
}

/* ---- Meldingen ----------------------------------------------------------- */

static void melding_id(const termijn *t, const termijn_betrokkene *to, int32_t due, int achterhaald,
                       char out[37]) {
    char name[512], date[KH_DATE_LEN];
    int n = snprintf(name, sizeof name, "%s|%s|%s|%s:%s|%s%s", t->bron, t->zaak,
                     termijn_regel_naam((termijn_regel)t->regel), to->type, to->code,
                     kh_date_format(due, date), achterhaald ? "|ACHTERHAALD" : "");
    if (n < 0 || (size_t)n >= sizeof name || kh_uuid_v5(TERMIJN_ID_NAMESPACE, name, (size_t)n, out))
        out[0] = '\0';
}

static void emit(const termijn_dossier *d, const termijn *t, int stap, const partij *p,
                 const char *toelichting, const termijn_event *late, termijn_uit *out) {
    for (size_t i = 0; i < p->n && out->n < TERMIJN_UIT_MAX; i++) {
        if (!((p->ontvangers >> i) & 1u))
            continue;
        termijn_melding *m = &out->m[out->n++];
        memset(m, 0, sizeof *m);
        m->regel = (termijn_regel)t->regel;
        m->stap = stap;
        COPY(m->zaak, t->zaak);
        m->ontvanger_type = p->b[i].type;
        COPY(m->ontvanger_code, p->b[i].code);
        melding_id(t, &p->b[i], t->vervalt[stap], 0, late ? m->achterhaalt : m->melding_id);
        if (late)
            melding_id(t, &p->b[i], t->vervalt[stap], 1, m->melding_id);
        m->oorzaak = late ? late->oorzaak : t->oorzaak;
        memcpy(m->betrokkenen, p->b, sizeof p->b);
        m->nbetrokkenen = p->n;
        m->peildatum = p->peil;
        m->geopend = t->geopend;
        m->vervaldatum = t->vervalt[stap];
        COPY(m->bsn, d->bsn);
        m->geboortedatum = d->geboortedatum;
        COPY(m->toelichting, toelichting);
        /* a replay must give a byte-identical melding: no clock here */
        m->aangemaakt_op = late ? late->oorzaak.aangemaakt_op
                                : (int64_t)t->vervalt[stap] * 86400000;
    }
}

static void build(const termijn_dossier *d, const termijn *t, int stap, const termijn_ctx *ctx,
                  partij *p) {
    memset(p, 0, sizeof *p);
    p->ref = ctx->ref;
    p->peil = t->vervalt[stap];
    partijen(p, d, t, stap);
}

void termijn_bericht_verstreken(const termijn_dossier *d, const termijn *t, int stap,
                                const termijn_ctx *ctx, termijn_uit *out) {
    partij p;
    char tekst[4096];
    build(d, t, stap, ctx, &p);
    render(tekst, sizeof tekst, &p, ctx, d, t, stap);
    limit_chars(tekst, TERMIJN_TOELICHTING_CHARS);
    emit(d, t, stap, &p, tekst, NULL, out);
}

/* A melding sent earlier no longer holds; waarom says why and what to do. */
static void achterhaalt(const termijn_dossier *d, const termijn *t, int stap,
                        const termijn_event *ev, const termijn_ctx *ctx, termijn_uit *out,
                        const char *waarom) {
    partij p;
    char tekst[4096], d1[32];
    build(d, t, stap, ctx, &p);
    text x = {tekst, sizeof tekst, 0};
    tekst[0] = '\0';
    addf(&x,
         "Achterhaald: de melding %s over zaak %s, verzonden omdat de termijn op %s "
         "verstreek, is niet meer van toepassing. %s",
         termijn_regel_naam((termijn_regel)t->regel), t->zaak,
         datum_nl(t->vervalt[stap] - 1, d1, sizeof d1), waarom);
    limit_chars(tekst, TERMIJN_TOELICHTING_CHARS);
    emit(d, t, stap, &p, tekst, ev, out);
}

void termijn_bericht_achterhaald(const termijn_dossier *d, const termijn *t, int stap,
                                 const termijn_event *ev, const termijn_ctx *ctx,
                                 termijn_uit *out) {
    char waarom[512], d2[32];
    snprintf(waarom, sizeof waarom,
             "De hub ontving daarna alsnog een besluit, gedateerd %s, dus vóór het einde van de "
             "termijn. U hoeft voor die melding niets meer te doen.",
             datum_nl(ev->handeling, d2, sizeof d2));
    achterhaalt(d, t, stap, ev, ctx, out, waarom);
}

void termijn_bericht_opgeschort(const termijn_dossier *d, const termijn *t, int stap,
                                const termijn_event *ev, const termijn_ctx *ctx, termijn_uit *out) {
    char waarom[512], d2[32];
    snprintf(waarom, sizeof waarom,
             "De school meldde daarna dat zij op %s informatie bij de ouders had opgevraagd; "
             "vanaf die dag is de termijn opgeschort, dus hij was nog niet verstreken. "
             "Verstrijkt de termijn na ontvangst van de informatie alsnog, dan volgt een nieuwe "
             "melding. U hoeft voor deze melding niets meer te doen.",
             datum_nl(t->pauze_sinds, d2, sizeof d2));
    achterhaalt(d, t, stap, ev, ctx, out, waarom);
}

int termijn_bericht_aanbod_maanden(const termijn_ctx *ctx, const char *woonplaats,
                                   const char *onderwijssoort, int32_t date) {
    const kh_ref_gemeente *g = kh_ref_gemeente_resolve(ctx->ref, woonplaats, date, NULL);
    if (!g)
        return 0;
    int m = termijn_afspraak_maanden(ctx->afspraken, g->code, "THUISZITTER_AANBOD", date);
    const char *swv = swv_van(g, termijn_sector(onderwijssoort));
    if (!m && swv)
        m = termijn_afspraak_maanden(ctx->afspraken, swv, "THUISZITTER_AANBOD", date);
    if (!m)
        m = termijn_afspraak_maanden(ctx->afspraken, g->jeugdregio, "THUISZITTER_AANBOD", date);
    return m;
}
