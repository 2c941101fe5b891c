/*
 * route_text — filling the toelichting templates.
 */
#include "route_text.h"

#include "kh_time.h"

#include <stdio.h>
#include <string.h>

/* An output buffer that silently stops at its end. */
typedef struct text {
    char *buf;
    size_t len, used;
} text;

static void add(text *t, const char *s, size_t n) {
    if (t->used + 1 >= t->len)
        return;
    if (n > t->len - 1 - t->used)
        n = t->len - 1 - t->used;
    memcpy(t->buf + t->used, s, n);
    t->used += n;
    t->buf[t->used] = '\0';
}

static void adds(text *t, const char *s) { add(t, s, strlen(s)); }

char *route_text_date(int32_t day, char *buf, size_t len) {
    static const char *const maanden[] = {"januari",   "februari", "maart",    "april",
                                          "mei",       "juni",     "juli",     "augustus",
                                          "september", "oktober",  "november", "december"};
    int y, m, d;
    kh_date_to_ymd(day, &y, &m, &d);
    snprintf(buf, len, "%d %s %d", d, maanden[(m - 1) % 12], y);
    return buf;
}

static route_slot slot_named(const char *name, size_t n) {
    for (int s = ROUTE_NONE + 1; s < ROUTE_SLOTS; s++) {
        const char *sn = route_slot_describe((route_slot)s)->name;
        if (strlen(sn) == n && memcmp(sn, name, n) == 0)
            return (route_slot)s;
    }
    return ROUTE_NONE;
}

/* One placeholder body ("WOON", "WOON.naam", "WOON.code"). */
static void placeholder(text *t, const route_party party[ROUTE_SLOTS], const char *p, size_t n) {
    const char *dot = memchr(p, '.', n);
    route_slot s = slot_named(p, dot ? (size_t)(dot - p) : n);
    if (s == ROUTE_NONE || !party[s].known)
        return;
    const route_party *x = &party[s];
    const char *part = dot ? dot + 1 : NULL;
    size_t plen = dot ? n - (size_t)(dot - p) - 1 : 0;
    if (part && plen == 4 && memcmp(part, "naam", 4) == 0) {
        adds(t, x->naam);
    } else if (part && plen == 4 && memcmp(part, "code", 4) == 0) {
        adds(t, x->code);
    } else if (!part) {
        adds(t, x->naam);
        adds(t, " (");
        adds(t, x->code);
        adds(t, ")");
    }
}

/* Did an earlier betrokkene of the rule already name this old code (the
 * verantwoordelijke gemeente is often the woonplaatsgemeente)? */
static int told(const route_rule *rule, const route_party party[ROUTE_SLOTS], size_t i) {
    for (size_t j = 0; j < i; j++)
        if (party[rule->betrokkenen[j]].known &&
            strcmp(party[rule->betrokkenen[j]].old_code, party[rule->betrokkenen[i]].old_code) == 0)
            return 1;
    return 0;
}

static void herindelingen(text *t, const route_rule *rule, const route_party party[ROUTE_SLOTS]) {
    char day[32];
    for (size_t i = 0; i < ROUTE_MAX_BETROKKENEN && rule->betrokkenen[i] != ROUTE_NONE; i++) {
        const route_party *x = &party[rule->betrokkenen[i]];
        if (!x->known || !x->old_code[0] || told(rule, party, i))
            continue;
        adds(t, " ");
        adds(t, x->old_naam);
        adds(t, " (");
        adds(t, x->old_code);
        adds(t, ") is per ");
        adds(t, route_text_date(x->merged_on, day, sizeof day));
        adds(t, " opgegaan in ");
        adds(t, x->naam);
        adds(t, " (");
        adds(t, x->code);
        adds(t, "), dat in de plaats van ");
        adds(t, x->old_naam);
        adds(t, " treedt.");
    }
}

/* The quoted agreement, with its source and the region it holds for. */
static void quote(text *t, const kh_ref_afspraak *a, route_slot regio,
                  const route_party party[ROUTE_SLOTS]) {
    const route_party *x = &party[regio];
    adds(t, " Volgens ");
    adds(t, a->bron_titel);
    adds(t, " (");
    adds(t, a->bron_datum[0] ? a->bron_datum : "datum onbekend");
    adds(t, ") is voor ");
    if (regio == ROUTE_JZ_WOON)
        adds(t, "jeugdregio ");
    else if (regio == ROUTE_SWV_WOON)
        adds(t, "samenwerkingsverband ");
    adds(t, x->naam);
    adds(t, " (");
    adds(t, x->code);
    adds(t, ") afgesproken: \"");
    adds(t, a->tekst);
    size_t n = strlen(a->tekst);
    adds(t, n && a->tekst[n - 1] == '.' ? "\"" : "\".");
}

/* Cuts s to at most max characters, at a character boundary. */
static void limit_chars(char *s, size_t max) {
    size_t chars = 0;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xC0) == 0x80)
            continue;
        if (chars++ == max) {
            *p = '\0';
            return;
        }
    }
}

void route_text_render(const route_rule *rule, const route_party party[ROUTE_SLOTS],
                       const kh_ref_afspraak *afspraak, route_slot regio, char *out,
                       size_t outlen) {
    text t = {out, outlen, 0};
    out[0] = '\0';
    for (const char *p = rule->toelichting; *p;) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            adds(&t, p);
            break;
        }
        add(&t, p, (size_t)(open - p));
        placeholder(&t, party, open + 1, (size_t)(close - open - 1));
        p = close + 1;
    }
    herindelingen(&t, rule, party);
    if (afspraak && regio != ROUTE_NONE)
        quote(&t, afspraak, regio, party);
    limit_chars(out, ROUTE_TOELICHTING_CHARS);
}
