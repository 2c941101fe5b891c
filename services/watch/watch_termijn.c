/*
 * watch_termijn — termijn's state topic reduced to open and overdue counts
 * per regel and region (see watch_termijn.h).
 */
#include "watch_termijn.h"

#include "kh_alloc.h"
#include "kh_time.h"
#include "watch_region.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REGIOS 65535
#define ONBEKEND "onbekend"
#define GEEN_SECTOR "-"

enum { SECTOR_GEEN, SECTOR_PO, SECTOR_VO, SECTOREN };

/* One termijn as the view needs it: 8 bytes. */
typedef struct tj {
    int32_t vervalt; /* first due date, days since the epoch */
    uint8_t regel, sector, gepauzeerd, unused;
} tj;

/* One child: 24 bytes. h == 0 marks a free slot. */
typedef struct kind {
    uint64_t h;
    uint16_t regio; /* index into regios; 0: unknown woonplaats */
    uint16_t n;
    union {
        tj een;   /* n == 1 */
        tj *meer; /* n > 1: all n termijnen */
    } t;
} kind;

_Static_assert(sizeof(kind) == 24, "a child's slot stays 24 bytes");

typedef struct trio {
    char jr[12], po[12], vo[12];
} trio;

struct watch_termijn {
    size_t max, n, slots;
    kind *kinderen;
    trio *regios;
    size_t nregios, regios_cap;
    size_t termijnen, extra_bytes;
    watch_termijn_telling telling;
};

static const struct {
    const char *naam, *omschrijving;
} REGELS[WATCH_TERMIJN_REGELS] = {
    {"ZORGPLICHT_TERMIJN_VERSTREKEN",
     "zorgplicht: de school besluit niet binnen 6 (of 10) weken op een aanmelding"},
    {"DREIGENDE_THUISZITTER", "dreigende thuiszitter: 4 weken na een afwijzing geen plaatsing"},
    {"THUISZITTER_ZONDER_AANBOD", "thuiszitter zonder aanbod binnen de regionale termijn"},
    {"TLV_EINDDATUM_NADERT", "TLV loopt af: herbeoordeling 3 maanden voor de einddatum"},
    {"BESCHIKKING_EINDDATUM_NADERT", "beschikking loopt af: 8 weken voor de einddatum"},
    {"VERWIJZING_ZONDER_BESLUIT",
     "verwijzing zonder besluit van de gemeente (5 werkdagen, 8 weken)"},
};

const char *watch_termijn_regel(int r) {
    return r >= 0 && r < WATCH_TERMIJN_REGELS ? REGELS[r].naam : "?";
}

const char *watch_termijn_omschrijving(int r) {
    return r >= 0 && r < WATCH_TERMIJN_REGELS ? REGELS[r].omschrijving : "?";
}

static int regel_index(const char *naam) {
    for (int r = 0; r < WATCH_TERMIJN_REGELS; r++)
        if (strcmp(REGELS[r].naam, naam) == 0)
            return r;
    return -1;
}

const char *watch_indeling_name(watch_indeling i) {
    return i == WATCH_INDELING_SWV ? "swv" : "jeugdregio";
}

int watch_indeling_parse(const char *name) {
    for (int i = 0; i < WATCH_INDELING_COUNT; i++)
        if (name && strcmp(name, watch_indeling_name((watch_indeling)i)) == 0)
            return i;
    return -1;
}

watch_termijn *watch_termijn_new(size_t max_children) {
    watch_termijn *w = kh_calloc(1, sizeof *w);
    w->max = max_children ? max_children : 1;
    w->slots = 1024;
    w->kinderen = kh_calloc(w->slots, sizeof *w->kinderen);
    w->regios_cap = 64;
    w->regios = kh_calloc(w->regios_cap, sizeof *w->regios);
    snprintf(w->regios[0].jr, sizeof w->regios[0].jr, "%s", ONBEKEND);
    snprintf(w->regios[0].po, sizeof w->regios[0].po, "%s", ONBEKEND);
    snprintf(w->regios[0].vo, sizeof w->regios[0].vo, "%s", ONBEKEND);
    w->nregios = 1;
    return w;
}

static void kind_clear(watch_termijn *w, kind *k) {
    if (k->n > 1) {
        free(k->t.meer);
        w->extra_bytes -= (size_t)k->n * sizeof(tj);
    }
    w->termijnen -= k->n;
    k->n = 0;
}

void watch_termijn_free(watch_termijn *w) {
    if (!w)
        return;
    for (size_t i = 0; i < w->slots; i++)
        if (w->kinderen[i].h && w->kinderen[i].n > 1)
            free(w->kinderen[i].t.meer);
    free(w->kinderen);
    free(w->regios);
    free(w);
}

/* ---- the table of children ----------------------------------------------------- */

static uint64_t key_hash(const void *key, size_t klen) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the key's bytes */
    for (size_t i = 0; i < klen; i++)
        h = (h ^ ((const unsigned char *)key)[i]) * 1099511628211ULL;
    return h ? h : 1;
}

static size_t slot_of(const watch_termijn *w, uint64_t h) {
    size_t i = (size_t)(h ^ (h >> 29)) & (w->slots - 1);
    while (w->kinderen[i].h && w->kinderen[i].h != h)
        i = (i + 1) & (w->slots - 1);
    return i;
}

static void grow(watch_termijn *w) {
    kind *old = w->kinderen;
    size_t n = w->slots;
    w->slots *= 2;
    w->kinderen = kh_calloc(w->slots, sizeof *w->kinderen);
    for (size_t i = 0; i < n; i++)
        if (old[i].h)
            w->kinderen[slot_of(w, old[i].h)] = old[i];
    free(old);
}

/* The child's slot, made when absent and there is room; NULL otherwise. */
static kind *kind_of(watch_termijn *w, uint64_t h, int make) {
    size_t i = slot_of(w, h);
    if (w->kinderen[i].h || !make)
        return w->kinderen[i].h ? &w->kinderen[i] : NULL;
    if (w->n >= w->max) {
        w->telling.vol++;
        return NULL;
    }
    if (4 * (w->n + 1) > 3 * w->slots) {
        grow(w);
        i = slot_of(w, h);
    }
    w->n++;
    w->kinderen[i] = (kind){.h = h};
    return &w->kinderen[i];
}

/* Removes the child at slot i, shifting back the run behind it (linear
 * probing without tombstones). */
static void kind_remove(watch_termijn *w, uint64_t h) {
    size_t i = slot_of(w, h);
    if (!w->kinderen[i].h)
        return;
    kind_clear(w, &w->kinderen[i]);
    w->kinderen[i].h = 0;
    w->n--;
    for (size_t j = (i + 1) & (w->slots - 1); w->kinderen[j].h; j = (j + 1) & (w->slots - 1)) {
        kind k = w->kinderen[j];
        w->kinderen[j].h = 0;
        w->kinderen[slot_of(w, k.h)] = k;
    }
}

/* ---- one record ---------------------------------------------------------------- */

/* The index of the woonplaats's region triple, made on first use. */
static uint16_t regio_of(watch_termijn *w, const char *woon, const kh_ref *ref, int32_t date) {
    const kh_ref_gemeente *g = woon && ref ? kh_ref_gemeente_at(ref, woon, date) : NULL;
    if (!g)
        return 0;
    for (size_t i = 1; i < w->nregios; i++)
        if (!strcmp(w->regios[i].jr, g->jeugdregio) && !strcmp(w->regios[i].po, g->swv_po) &&
            !strcmp(w->regios[i].vo, g->swv_vo))
            return (uint16_t)i;
    if (w->nregios >= MAX_REGIOS)
        return 0;
    if (w->nregios == w->regios_cap) {
        w->regios_cap *= 2;
        w->regios = kh_realloc(w->regios, w->regios_cap * sizeof *w->regios);
    }
    trio *r = &w->regios[w->nregios];
    snprintf(r->jr, sizeof r->jr, "%s", g->jeugdregio);
    snprintf(r->po, sizeof r->po, "%s", g->swv_po);
    snprintf(r->vo, sizeof r->vo, "%s", g->swv_vo);
    return (uint16_t)w->nregios++;
}

/* PO for primary and special primary, VO for secondary (termijn's "s":
 * onderwijssoort, or the TLV's soort SBO/SO/VSO). */
static uint8_t sector_of(const char *s) {
    static const char *const po[] = {"PO", "SBO", "SO"}, *const vo[] = {"VO", "VSO", "PRO"};
    for (size_t i = 0; s && i < 3; i++) {
        if (!strcmp(s, po[i]))
            return SECTOR_PO;
        if (!strcmp(s, vo[i]))
            return SECTOR_VO;
    }
    return SECTOR_GEEN;
}

/* One termijn object into *t. Returns 1 used, 0 unknown regel, -1 bad layout. */
static int termijn_of(const json_t *o, tj *t) {
    const char *r = json_string_value(json_object_get(o, "r"));
    const json_t *v0 = json_array_get(json_object_get(o, "v"), 0), *p = json_object_get(o, "p");
    if (!r || !json_is_integer(v0) || (p && !json_is_null(p) && !json_is_integer(p)))
        return -1;
    int regel = regel_index(r);
    if (regel < 0)
        return 0;
    /* As termijn_tick: a pause begun on or after the first due date does
     * not hold that step back (its melding went out), so it stays overdue. */
    int32_t vervalt = (int32_t)json_integer_value(v0);
    *t = (tj){.vervalt = vervalt,
              .regel = (uint8_t)regel,
              .sector = sector_of(json_string_value(json_object_get(o, "s"))),
              .gepauzeerd = json_is_integer(p) && vervalt > json_integer_value(p)};
    return 1;
}

/* The termijnen of a dossier into a fresh array (*n set; NULL when none).
 * Returns -1 on a bad layout. */
static int termijnen_of(watch_termijn *w, const json_t *arr, tj **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr))
        return -1;
    tj *all = kh_malloc((json_array_size(arr) + 1) * sizeof *all);
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o) {
        int rc = json_is_object(o) ? termijn_of(o, &all[*n]) : -1;
        if (rc < 0) {
            free(all);
            return -1;
        }
        if (rc == 0)
            w->telling.onbekende_regel++;
        *n += (size_t)rc;
    }
    *out = all;
    return 0;
}

/* Keeps the child h with termijnen t[0..n) (t is taken over). */
static void keep(watch_termijn *w, uint64_t h, uint16_t regio, tj *t, size_t n) {
    kind *k = n ? kind_of(w, h, 1) : NULL;
    if (!k) {
        free(t);
        return;
    }
    kind_clear(w, k);
    k->regio = regio;
    k->n = (uint16_t)(n < UINT16_MAX ? n : UINT16_MAX);
    if (k->n == 1) {
        k->t.een = t[0];
        free(t);
    } else {
        k->t.meer = kh_realloc(t, k->n * sizeof *t); /* shrink to fit */
        w->extra_bytes += (size_t)k->n * sizeof *t;
    }
    w->termijnen += k->n;
}

int watch_termijn_record(watch_termijn *w, const void *key, size_t klen, const void *value,
                         size_t len, const kh_ref *ref, int32_t date) {
    if (!key || !klen) { /* termijn keys every record by the child */
        w->telling.vorm++;
        return -1;
    }
    uint64_t h = key_hash(key, klen);
    kind_remove(w, h);
    if (!value || !len)
        return 0;
    json_t *j = json_loadb(value, len, 0, NULL);
    const json_t *v = json_object_get(j, "v");
    tj *t = NULL;
    size_t n = 0;
    int rc = -1;
    if (!j)
        w->telling.json++;
    else if (!json_is_object(j) || (v && !json_is_integer(v)))
        w->telling.vorm++;
    else if (json_integer_value(v) != 1)
        w->telling.versie++;
    else if (termijnen_of(w, json_object_get(j, "t"), &t, &n))
        w->telling.vorm++;
    else
        rc = 0;
    if (rc == 0)
        keep(w, h, regio_of(w, json_string_value(json_object_get(j, "woon")), ref, date), t, n);
    json_decref(j);
    return rc;
}

void watch_termijn_tellingen(const watch_termijn *w, watch_termijn_telling *out) {
    *out = w->telling;
    out->kinderen = w->n;
    out->termijnen = w->termijnen;
}

size_t watch_termijn_bytes(const watch_termijn *w) {
    return sizeof *w + w->slots * sizeof(kind) + w->extra_bytes + w->regios_cap * sizeof(trio);
}

/* ---- the view ------------------------------------------------------------------ */

static const tj *termijnen(const kind *k) { return k->n > 1 ? k->t.meer : &k->t.een; }

static int verlopen(const tj *t, int32_t today) { return !t->gepauzeerd && t->vervalt <= today; }

/* Counts per region triple, regel, sector and overdue: the base of every
 * table. counts[((regio * REGELS + regel) * SECTOREN + sector) * 2 + verlopen] */
static int64_t *tel(const watch_termijn *w, int32_t today) {
    int64_t *c = kh_calloc(w->nregios * WATCH_TERMIJN_REGELS * SECTOREN * 2, sizeof *c);
    for (size_t i = 0; i < w->slots; i++) {
        const kind *k = &w->kinderen[i];
        if (!k->h)
            continue;
        const tj *t = termijnen(k);
        for (size_t x = 0; x < k->n; x++)
            c[((k->regio * WATCH_TERMIJN_REGELS + t[x].regel) * SECTOREN + t[x].sector) * 2 +
              verlopen(&t[x], today)]++;
    }
    return c;
}

void watch_termijn_totalen(const watch_termijn *w, int32_t today,
                           int64_t open[WATCH_TERMIJN_REGELS],
                           int64_t verlopen_[WATCH_TERMIJN_REGELS]) {
    int64_t *c = tel(w, today);
    memset(open, 0, WATCH_TERMIJN_REGELS * sizeof *open);
    memset(verlopen_, 0, WATCH_TERMIJN_REGELS * sizeof *verlopen_);
    for (size_t r = 0; r < w->nregios; r++)
        for (int g = 0; g < WATCH_TERMIJN_REGELS; g++)
            for (int s = 0; s < SECTOREN; s++) {
                const int64_t *x =
                    &c[((r * WATCH_TERMIJN_REGELS + (size_t)g) * SECTOREN + (size_t)s) * 2];
                open[g] += x[0] + x[1];
                verlopen_[g] += x[1];
            }
    free(c);
}

/* One row of a table. */
typedef struct rij {
    int regel;
    const char *regio;
    int64_t open, verlopen;
} rij;

typedef struct rijen {
    rij *r;
    size_t n, cap;
} rijen;

static void rij_add(rijen *rs, int regel, const char *code, int64_t open, int64_t verl) {
    if (!open)
        return;
    for (size_t i = 0; i < rs->n; i++)
        if (rs->r[i].regel == regel && !strcmp(rs->r[i].regio, code)) {
            rs->r[i].open += open;
            rs->r[i].verlopen += verl;
            return;
        }
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 64;
        rs->r = kh_realloc(rs->r, rs->cap * sizeof *rs->r);
    }
    rs->r[rs->n++] = (rij){regel, code, open, verl};
}

static int rij_cmp(const void *x, const void *y) {
    const rij *a = x, *b = y;
    return a->regel != b->regel ? a->regel - b->regel : strcmp(a->regio, b->regio);
}

static int regio_passes(const trio *r, const char *jr, const char *swv) {
    return (!jr || !strcmp(r->jr, jr)) && (!swv || !strcmp(r->po, swv) || !strcmp(r->vo, swv));
}

static const char *code_of(const trio *r, watch_indeling ind, int sector) {
    if (ind == WATCH_INDELING_JEUGDREGIO)
        return r->jr;
    return sector == SECTOR_PO ? r->po : sector == SECTOR_VO ? r->vo : GEEN_SECTOR;
}

/* The rows of the table, sorted by regel and code. Codes point into w. */
static rijen maak_rijen(const watch_termijn *w, watch_indeling ind, const char *jr, const char *swv,
                        int32_t today) {
    int64_t *c = tel(w, today);
    rijen rs = {0};
    for (size_t r = 0; r < w->nregios; r++) {
        if (!regio_passes(&w->regios[r], jr, swv))
            continue;
        for (int g = 0; g < WATCH_TERMIJN_REGELS; g++)
            for (int s = 0; s < SECTOREN; s++) {
                const int64_t *x =
                    &c[((r * WATCH_TERMIJN_REGELS + (size_t)g) * SECTOREN + (size_t)s) * 2];
                rij_add(&rs, g, code_of(&w->regios[r], ind, s), x[0] + x[1], x[1]);
            }
    }
    free(c);
    if (rs.n)
        qsort(rs.r, rs.n, sizeof *rs.r, rij_cmp);
    return rs;
}

static json_t *cel(const char *regio_key, const char *regio, int64_t open, int64_t verl) {
    char a[24], b[24];
    json_t *o = json_pack("{s:s, s:s}", "open", watch_region_shown(open, a), "verlopen",
                          watch_region_shown(verl, b));
    if (regio_key)
        json_object_set_new(o, regio_key, json_string(regio));
    return o;
}

static json_t *niet_gelezen(const watch_termijn *w) {
    const watch_termijn_telling *t = &w->telling;
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "json", (json_int_t)t->json, "versie",
                     (json_int_t)t->versie, "vorm", (json_int_t)t->vorm, "onbekende_regel",
                     (json_int_t)t->onbekende_regel, "vol", (json_int_t)t->vol);
}

static json_t *regel_json(const rijen *rs, int g) {
    json_t *arr = json_array();
    int64_t open = 0, verl = 0;
    for (size_t i = 0; i < rs->n; i++)
        if (rs->r[i].regel == g) {
            json_array_append_new(arr,
                                  cel("regio", rs->r[i].regio, rs->r[i].open, rs->r[i].verlopen));
            open += rs->r[i].open;
            verl += rs->r[i].verlopen;
        }
    json_t *o = cel(NULL, NULL, open, verl);
    json_object_set_new(o, "regel", json_string(watch_termijn_regel(g)));
    json_object_set_new(o, "omschrijving", json_string(watch_termijn_omschrijving(g)));
    json_object_set_new(o, "rijen", arr);
    return o;
}

json_t *watch_termijn_table(const watch_termijn *w, watch_indeling ind, const char *jeugdregio,
                            const char *swv, int32_t today) {
    rijen rs = maak_rijen(w, ind, jeugdregio, swv, today);
    json_t *regels = json_array();
    for (int g = 0; g < WATCH_TERMIJN_REGELS; g++)
        json_array_append_new(regels, regel_json(&rs, g));
    free(rs.r);
    char dag[16];
    kh_date_format(today, dag);
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "peildatum", dag, "indeling",
                     watch_indeling_name(ind), "afronding",
                     "aantallen naar beneden afgerond op een veelvoud van 5; 1 tot 4 als \"< 5\"",
                     "regels", regels, "niet_gelezen", niet_gelezen(w));
}

static void csv_line(char **text, size_t *len, size_t *cap, int g, const char *ind,
                     const char *regio, int64_t open, int64_t verl) {
    char a[24], b[24], line[160];
    int k = snprintf(line, sizeof line, "%s,%s,%s,%s,%s\n", watch_termijn_regel(g), ind, regio,
                     watch_region_shown(open, a), watch_region_shown(verl, b));
    if (*len + (size_t)k + 1 > *cap) {
        *cap = 2 * *cap + (size_t)k + 1;
        *text = kh_realloc(*text, *cap);
    }
    memcpy(*text + *len, line, (size_t)k + 1);
    *len += (size_t)k;
}

char *watch_termijn_csv(const watch_termijn *w, watch_indeling ind, const char *jeugdregio,
                        const char *swv, int32_t today) {
    rijen rs = maak_rijen(w, ind, jeugdregio, swv, today);
    const char *header = "regel,indeling,regio,open,verlopen\n", *name = watch_indeling_name(ind);
    size_t len = strlen(header), cap = 256;
    char *text = kh_malloc(cap);
    memcpy(text, header, len + 1);
    for (int g = 0; g < WATCH_TERMIJN_REGELS; g++) {
        int64_t open = 0, verl = 0;
        for (size_t i = 0; i < rs.n; i++)
            if (rs.r[i].regel == g) {
                csv_line(&text, &len, &cap, g, name, rs.r[i].regio, rs.r[i].open, rs.r[i].verlopen);
                open += rs.r[i].open;
                verl += rs.r[i].verlopen;
            }
        csv_line(&text, &len, &cap, g, name, "totaal", open, verl);
    }
    free(rs.r);
    return text;
}
