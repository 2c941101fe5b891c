/*
 * termijn_state — dossier <-> changelog value (JSON, version 1).
 */
#include "termijn_state.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define STATE_VERSION 1
#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

static json_t *opt_day(int32_t d) {
    return d == TERMIJN_GEEN_DATUM ? json_null() : json_integer(d);
}

/* The pause's totals are written only once a pause happened, so a dossier
 * without one keeps the layout older releases read. */
static json_t *pauze_json(json_t *o, const termijn *t) {
    if (o && t->pauze_dagen)
        json_object_set_new(o, "pd", json_integer(t->pauze_dagen));
    if (o && t->hervat_op != TERMIJN_GEEN_DATUM)
        json_object_set_new(o, "h", json_integer(t->hervat_op));
    return o;
}

static json_t *termijn_json(const termijn *t) {
    const termijn_oorzaak *c = &t->oorzaak;
    json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:[i,i],s:i,s:i,s:o,s:o,s:i,s:s,s:s,s:s,s:s,"
                          "s:[i,i,I,s,I]}",
                          "r", termijn_regel_naam((termijn_regel)t->regel), "z", t->zaak, "b",
                          t->bron, "g", t->geopend, "v", t->vervalt[0], t->vervalt[1], "n",
                          t->stappen, "f", t->gevuurd, "p", opt_day(t->pauze_sinds), "e",
                          opt_day(t->einddatum), "k", t->bewaren_tot, "o", t->org, "o2", t->org2,
                          "s", t->soort, "st", t->status, "c", c->kind, c->partition,
                          (json_int_t)c->offset, c->event_id, (json_int_t)c->aangemaakt_op);
    return pauze_json(o, t);
}

char *termijn_state_encode(const termijn_dossier *d, size_t *len) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < d->n; i++)
        json_array_append_new(arr, termijn_json(&d->t[i]));
    json_t *j = json_pack("{s:i,s:s,s:i,s:s,s:i,s:s,s:o}", "v", STATE_VERSION, "bsn", d->bsn, "geb",
                          d->geboortedatum, "woon", d->woonplaats, "wo", d->woonplaats_op, "school",
                          d->school, "t", arr);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    *len = s ? strlen(s) : 0;
    return s;
}

static int32_t day_or_none(const json_t *v) {
    return json_is_integer(v) ? (int32_t)json_integer_value(v) : TERMIJN_GEEN_DATUM;
}

static int termijn_from(const json_t *o, termijn *t, char *err, size_t errlen) {
    const char *r = NULL, *z = NULL, *b = NULL, *org = NULL, *org2 = NULL, *s = NULL, *st = NULL,
               *eid = NULL;
    json_t *p = NULL, *e = NULL, *h = NULL;
    int v0, v1, n, f, g, k, kind, part, pd = 0;
    json_int_t off, at;
    json_error_t je;
    memset(t, 0, sizeof *t);
    if (json_unpack_ex((json_t *)o, &je, JSON_STRICT,
                       "{s:s,s:s,s:s,s:i,s:[ii],s:i,s:i,s:o,s:o,s:i,s:s,s:s,s:s,s:s,s:[iiIsI],"
                       "s?i,s?o}",
                       "r", &r, "z", &z, "b", &b, "g", &g, "v", &v0, &v1, "n", &n, "f", &f, "p", &p,
                       "e", &e, "k", &k, "o", &org, "o2", &org2, "s", &s, "st", &st, "c", &kind,
                       &part, &off, &eid, &at, "pd", &pd, "h", &h)) {
        snprintf(err, errlen, "a termijn does not have the version 1 layout: %s", je.text);
        return -1;
    }
    termijn_regel regel = termijn_regel_by_naam(r);
    if (regel == TERMIJN_REGELS || n < 1 || n > TERMIJN_STAPPEN || kind < 0 ||
        kind >= TERMIJN_EV_KINDS) {
        snprintf(err, errlen, "a termijn has an unknown regel, step count or event kind");
        return -1;
    }
    t->regel = (uint8_t)regel;
    t->stappen = (uint8_t)n;
    t->gevuurd = (uint8_t)f;
    COPY(t->zaak, z);
    COPY(t->bron, b);
    t->geopend = g;
    t->vervalt[0] = v0;
    t->vervalt[1] = v1;
    t->pauze_sinds = day_or_none(p);
    t->hervat_op = day_or_none(h);
    t->pauze_dagen = pd;
    t->einddatum = day_or_none(e);
    t->bewaren_tot = k;
    COPY(t->org, org);
    COPY(t->org2, org2);
    COPY(t->soort, s);
    COPY(t->status, st);
    t->oorzaak = (termijn_oorzaak){(uint8_t)kind, part, off, "", at};
    COPY(t->oorzaak.event_id, eid);
    return 0;
}

static int dossier_from(const json_t *j, termijn_dossier *d, char *err, size_t errlen) {
    const char *bsn, *woon, *school;
    json_t *arr;
    int v, geb, wo = 0; /* "wo" absent (written before it was kept): any newer event wins */
    json_error_t je;
    if (json_unpack_ex((json_t *)j, &je, JSON_STRICT, "{s:i,s:s,s:i,s:s,s?:i,s:s,s:o}", "v", &v,
                       "bsn", &bsn, "geb", &geb, "woon", &woon, "wo", &wo, "school", &school, "t",
                       &arr) ||
        v != STATE_VERSION || !json_is_array(arr)) {
        snprintf(err, errlen, "not a version %d dossier: %s", STATE_VERSION, je.text);
        return -1;
    }
    COPY(d->bsn, bsn);
    d->geboortedatum = geb;
    COPY(d->woonplaats, woon);
    d->woonplaats_op = wo;
    COPY(d->school, school);
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        termijn t;
        if (termijn_from(o, &t, err, errlen))
            return -1;
        if (termijn_dossier_add(d, &t)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int termijn_state_decode(const void *value, size_t len, termijn_dossier *d, char *err,
                         size_t errlen) {
    json_error_t je;
    json_t *j = json_loadb(value, len, 0, &je);
    if (!j) {
        snprintf(err, errlen, "not JSON (line %d, column %d)", je.line, je.column);
        return -1;
    }
    int rc = dossier_from(j, d, err, errlen);
    json_decref(j);
    if (rc)
        termijn_dossier_free(d);
    return rc;
}
