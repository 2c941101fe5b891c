/*
 * route_event — reading the rule inputs from a decoded Avro event, without
 * converting to JSON. The fields are named once, by dotted path, in the
 * table below; route_event_reader_init turns each path into record field
 * indexes so the per-record read is a walk by index.
 */
#include "route_event.h"

#include "kh_event.h"
#include "kh_time.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[ROUTE_KINDS] = {"aanmelding", "tlv", "beschikking",
                                                    "verwijzing"};
static const char *const kind_symbols[ROUTE_KINDS] = {"AANMELDING", "TLV", "BESCHIKKING",
                                                      "VERWIJZING"};

route_kind route_kind_by_name(const char *schema_name) {
    for (int k = 0; k < ROUTE_KINDS; k++)
        if (strcmp(kind_names[k], schema_name) == 0)
            return (route_kind)k;
    return ROUTE_KINDS;
}

const char *route_kind_name(route_kind kind) { return kind_names[kind]; }
const char *route_kind_symbol(route_kind kind) { return kind_symbols[kind]; }

/* The fields route reads. */
enum field {
    F_EVENT_ID,
    F_OCCURRED_AT,
    F_RECEIVED_AT,
    F_BSN,
    F_GEBOORTEDATUM,
    F_WOONPLAATS,
    F_DATE,
    F_STATUS,
    F_SOORT,
    F_BIJ_TYPE,
    F_BIJ_CODE,
    F_ONDERWIJSSOORT,
    F_SWV,
    F_GEMEENTE,
    F_AANBIEDER,
    F_ZORG,
    F_SCHOOL,
    F_NAAR_TYPE,
    F_NAAR_CODE,
    F_BRON_TYPE,
    F_BRON_CODE,
    F_EERSTE,
    F_CATEGORIE,
    F_VERANTW,
    F_VERWIJZER_TYPE,
    F_DOMEIN,
    F_COUNT
};
_Static_assert(F_COUNT <= ROUTE_FIELDS, "route_event_reader has no room for every field");

/* Paths per field; NULL when a kind does not have it. F_DATE is the event
 * type's date_field (kh_event.h), filled in at init. */
static const char *const common_paths[F_COUNT] = {
    [F_EVENT_ID] = "envelope.event_id",           [F_OCCURRED_AT] = "envelope.occurred_at",
    [F_RECEIVED_AT] = "envelope.received_at",     [F_BSN] = "jeugdige.bsn",
    [F_GEBOORTEDATUM] = "jeugdige.geboortedatum", [F_WOONPLAATS] = "jeugdige.woonplaatsgemeente",
    [F_BRON_TYPE] = "envelope.bron.type",         [F_BRON_CODE] = "envelope.bron.code",
};

static const char *const kind_paths[ROUTE_KINDS][F_COUNT] = {
    [ROUTE_AANMELDING] = {[F_STATUS] = "status",
                          [F_SOORT] = "soort",
                          [F_BIJ_TYPE] = "bij.type",
                          [F_BIJ_CODE] = "bij.code",
                          [F_ONDERWIJSSOORT] = "onderwijssoort"},
    [ROUTE_TLV] = {[F_STATUS] = "status",
                   [F_SWV] = "swv",
                   [F_SOORT] = "soort",
                   [F_EERSTE] = "eerste_inschrijving"},
    [ROUTE_BESCHIKKING] = {[F_STATUS] = "status",
                           [F_GEMEENTE] = "gemeente",
                           [F_AANBIEDER] = "aanbieder",
                           [F_ZORG] = "zorg_in_onderwijstijd",
                           [F_SCHOOL] = "school",
                           [F_CATEGORIE] = "product.categorie",
                           [F_VERANTW] = "verantwoordelijke_gemeente"},
    [ROUTE_VERWIJZING] = {[F_NAAR_TYPE] = "naar.type",
                          [F_NAAR_CODE] = "naar.code",
                          [F_VERANTW] = "verantwoordelijke_gemeente",
                          [F_VERWIJZER_TYPE] = "verwijzer.type",
                          [F_DOMEIN] = "domein"},
};

static int resolve(avro_schema_t s, const char *path, int index[ROUTE_FIELD_DEPTH]) {
    char name[64];
    int depth = 0;
    for (const char *p = path; *p && depth < ROUTE_FIELD_DEPTH;) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof name || !is_avro_record(s))
            return -1;
        memcpy(name, p, n);
        name[n] = '\0';
        int i = avro_schema_record_field_get_index(s, name);
        if (i < 0)
            return -1;
        index[depth++] = i;
        s = avro_schema_record_field_get_by_index(s, i);
        if (is_avro_link(s)) /* a named type used the second time */
            s = avro_schema_link_target(s);
        p += n + (p[n] == '.');
    }
    return depth > 0 ? 0 : -1;
}

int route_event_reader_init(route_event_reader *r, const kh_schemas *all, char *err,
                            size_t errlen) {
    memset(r, -1, sizeof *r);
    for (int k = 0; k < ROUTE_KINDS; k++) {
        const kh_schema *s = kh_schemas_by_name(all, kind_names[k]);
        const kh_event_type *t = kh_event_type_by_name(kind_names[k]);
        for (int f = 0; f < F_COUNT; f++) {
            const char *path = f == F_DATE       ? (t ? t->date_field : NULL)
                               : common_paths[f] ? common_paths[f]
                                                 : kind_paths[k][f];
            if (path && (!s || resolve(kh_schema_avro(s), path, r->index[k][f]))) {
                snprintf(err, errlen, "schema %s has no field %s", kind_names[k], path);
                return -1;
            }
        }
    }
    return 0;
}

/* What a read needs: the record, the plan, the first field that failed. */
typedef struct reading {
    const int (*index)[ROUTE_FIELD_DEPTH];
    avro_value_t *root;
    int failed; /* a field, or -1 */
} reading;

static int at(reading *r, int f, avro_value_t *out) {
    avro_value_t cur = *r->root;
    const int *idx = r->index[f];
    for (int d = 0; d < ROUTE_FIELD_DEPTH && idx[d] >= 0; d++) {
        if (avro_value_get_by_index(&cur, (size_t)idx[d], &cur, NULL))
            break;
        if (d + 1 == ROUTE_FIELD_DEPTH || idx[d + 1] < 0) {
            *out = cur;
            return 0;
        }
    }
    if (r->failed < 0)
        r->failed = f;
    return -1;
}

static void fail(reading *r, int f) {
    if (r->failed < 0)
        r->failed = f;
}

/* An optional field's value: 1 when present, 0 when null, -1 on error. */
static int present(reading *r, int f, avro_value_t *out) {
    avro_value_t u;
    if (at(r, f, &u) || avro_value_get_current_branch(&u, out)) {
        fail(r, f);
        return -1;
    }
    return avro_value_get_type(out) != AVRO_NULL;
}

static const char *string_of(reading *r, int f, avro_value_t *v) {
    const char *s = NULL;
    size_t size;
    if (avro_value_get_string(v, &s, &size))
        fail(r, f);
    return s;
}

static const char *str(reading *r, int f) {
    avro_value_t v;
    return at(r, f, &v) ? NULL : string_of(r, f, &v);
}

static const char *opt_str(reading *r, int f) {
    avro_value_t v;
    return present(r, f, &v) == 1 ? string_of(r, f, &v) : NULL;
}

static const char *symbol_of(reading *r, int f, avro_value_t *v) {
    int i;
    const char *s = NULL;
    if (avro_value_get_enum(v, &i) == 0)
        s = avro_schema_enum_get(avro_value_get_schema(v), i);
    if (!s)
        fail(r, f);
    return s;
}

static const char *symbol(reading *r, int f) {
    avro_value_t v;
    return at(r, f, &v) ? NULL : symbol_of(r, f, &v);
}

static const char *opt_symbol(reading *r, int f) {
    avro_value_t v;
    return present(r, f, &v) == 1 ? symbol_of(r, f, &v) : NULL;
}

static int32_t int_at(reading *r, int f) {
    avro_value_t v;
    int32_t i = 0;
    if (at(r, f, &v) || avro_value_get_int(&v, &i))
        fail(r, f);
    return i;
}

static int64_t long_at(reading *r, int f) {
    avro_value_t v;
    int64_t l = 0;
    if (at(r, f, &v) || avro_value_get_long(&v, &l))
        fail(r, f);
    return l;
}

/* The optional verantwoordelijke_gemeente record: gemeente and reden. */
static void read_verantw(reading *r, route_event *ev) {
    avro_value_t rec, g, reden;
    int has = present(r, F_VERANTW, &rec);
    if (has != 1)
        return;
    if (avro_value_get_by_name(&rec, "gemeente", &g, NULL) ||
        avro_value_get_by_name(&rec, "reden", &reden, NULL)) {
        fail(r, F_VERANTW);
        return;
    }
    ev->verantw_gemeente = string_of(r, F_VERANTW, &g);
    ev->verantw_reden = symbol_of(r, F_VERANTW, &reden);
}

static void read_envelope(reading *r, route_event *ev) {
    avro_value_t v;
    int64_t occurred_at = long_at(r, F_OCCURRED_AT);
    ev->event_id = str(r, F_EVENT_ID);
    ev->bron_type = symbol(r, F_BRON_TYPE);
    ev->bron_code = str(r, F_BRON_CODE);
    ev->aangemaakt_op = occurred_at;
    if (present(r, F_RECEIVED_AT, &v) == 1)
        avro_value_get_long(&v, &ev->aangemaakt_op);
    ev->bsn = str(r, F_BSN);
    ev->geboortedatum = int_at(r, F_GEBOORTEDATUM);
    ev->woonplaatsgemeente = str(r, F_WOONPLAATS);
    /* Every event schema has its date field as a required date; the
     * occurred_at day is kh_event_date's fallback, kept for symmetry. */
    ev->peildatum = int_at(r, F_DATE);
    if (r->failed == F_DATE) {
        r->failed = -1;
        ev->peildatum = kh_ts_to_date(occurred_at);
    }
}

/* The fields of one event type. */
static void read_kind(reading *r, route_kind kind, route_event *ev) {
    avro_value_t b;
    switch (kind) {
    case ROUTE_AANMELDING:
        ev->status = symbol(r, F_STATUS);
        ev->soort = symbol(r, F_SOORT);
        ev->bij_type = symbol(r, F_BIJ_TYPE);
        ev->bij_code = str(r, F_BIJ_CODE);
        ev->onderwijssoort = opt_symbol(r, F_ONDERWIJSSOORT);
        break;
    case ROUTE_TLV:
        ev->status = symbol(r, F_STATUS);
        ev->swv = str(r, F_SWV);
        ev->tlv_soort = symbol(r, F_SOORT);
        if (present(r, F_EERSTE, &b) == 1 && avro_value_get_boolean(&b, &ev->eerste_inschrijving))
            fail(r, F_EERSTE);
        break;
    case ROUTE_BESCHIKKING:
        ev->status = symbol(r, F_STATUS);
        ev->gemeente = str(r, F_GEMEENTE);
        ev->aanbieder = str(r, F_AANBIEDER);
        if (at(r, F_ZORG, &b) == 0 && avro_value_get_boolean(&b, &ev->zorg_in_onderwijstijd))
            fail(r, F_ZORG);
        ev->school = opt_str(r, F_SCHOOL);
        ev->categorie = str(r, F_CATEGORIE);
        read_verantw(r, ev);
        break;
    default:
        ev->naar_type = symbol(r, F_NAAR_TYPE);
        ev->naar_code = str(r, F_NAAR_CODE);
        ev->verwijzer_type = symbol(r, F_VERWIJZER_TYPE);
        ev->domein = symbol(r, F_DOMEIN);
        read_verantw(r, ev);
        break;
    }
}

int route_event_read(const route_event_reader *rd, route_kind kind, avro_value_t *v,
                     route_event *ev, char *err, size_t errlen) {
    if (kind >= ROUTE_KINDS) {
        snprintf(err, errlen, "not an event type route consumes");
        return -1;
    }
    reading r = {rd->index[kind], v, -1};
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    read_envelope(&r, ev);
    read_kind(&r, kind, ev);
    if (r.failed >= 0) {
        const char *path = common_paths[r.failed] ? common_paths[r.failed]
                                                  : kind_paths[kind][r.failed];
        snprintf(err, errlen, "field %s missing or of the wrong type for %s", path ? path : "date",
                 kind_names[kind]);
        return -1;
    }
    return 0;
}
