/*
 * kh_melding — filling the Melding Avro value field by field and encoding
 * it through kh_codec; the headers push delivers by.
 */
#include "kh_melding.h"

#include "kh_codec.h"
#include "kh_orgid.h"

#include <stdio.h>

int kh_melding_encoder_init(kh_melding_encoder *e, const kh_schemas *all, char *err,
                            size_t errlen) {
    e->schema = kh_schemas_by_name(all, "melding");
    if (!e->schema || kh_schema_new_value(e->schema, &e->value)) {
        snprintf(err, errlen, "no melding schema, or out of memory");
        e->schema = NULL;
        return -1;
    }
    return 0;
}

void kh_melding_encoder_free(kh_melding_encoder *e) {
    if (e->schema)
        avro_value_decref(&e->value);
    e->schema = NULL;
}

/* The setters return non-zero on the first failure; calls chain with ||. */
static int field(avro_value_t *rec, const char *name, avro_value_t *out) {
    return avro_value_get_by_name(rec, name, out, NULL);
}

static int set_str(avro_value_t *rec, const char *name, const char *s) {
    avro_value_t v;
    return field(rec, name, &v) || avro_value_set_string(&v, s);
}

static int set_enum(avro_value_t *rec, const char *name, const char *symbol) {
    avro_value_t v;
    if (field(rec, name, &v))
        return -1;
    int i = avro_schema_enum_get_by_name(avro_value_get_schema(&v), symbol);
    return i < 0 || avro_value_set_enum(&v, i);
}

static int set_int(avro_value_t *rec, const char *name, int32_t i) {
    avro_value_t v;
    return field(rec, name, &v) || avro_value_set_int(&v, i);
}

static int set_long(avro_value_t *rec, const char *name, int64_t l) {
    avro_value_t v;
    return field(rec, name, &v) || avro_value_set_long(&v, l);
}

/* A union ["null", X]: branch 0 is null; *x is the X branch when present. */
static int set_opt(avro_value_t *rec, const char *name, int present, avro_value_t *x) {
    avro_value_t u, null;
    if (field(rec, name, &u))
        return -1;
    if (!present)
        return avro_value_set_branch(&u, 0, &null) || avro_value_set_null(&null);
    return avro_value_set_branch(&u, 1, x);
}

static int set_opt_str(avro_value_t *rec, const char *name, const char *s) {
    avro_value_t b;
    return set_opt(rec, name, s != NULL, &b) || (s && avro_value_set_string(&b, s));
}

static int set_betrokkenen(avro_value_t *rec, const kh_melding *m) {
    avro_value_t arr, item;
    if (field(rec, "betrokkenen", &arr))
        return -1;
    for (size_t i = 0; i < m->nbetrokkenen; i++) {
        const kh_melding_betrokkene *b = &m->betrokkenen[i];
        if (avro_value_append(&arr, &item, NULL) || set_enum(&item, "rol", b->rol) ||
            set_enum(&item, "type", b->type) || set_str(&item, "code", b->code) ||
            set_str(&item, "naam", b->naam) || set_opt_str(&item, "opvolger_van", b->opvolger_van))
            return -1;
    }
    return 0;
}

static int set_termijn(avro_value_t *rec, const kh_melding_termijn *t) {
    avro_value_t r;
    if (set_opt(rec, "termijn", t != NULL, &r))
        return -1;
    return t && (set_str(&r, "zaak", t->zaak) || set_int(&r, "geopend_op", t->geopend_op) ||
                 set_int(&r, "vervaldatum", t->vervaldatum) || set_int(&r, "stap", t->stap) ||
                 set_opt_str(&r, "achterhaalt", t->achterhaalt));
}

static int fill(avro_value_t *v, const kh_melding *m) {
    avro_value_t ontvanger, oorzaak, jeugdige;
    return set_str(v, "melding_id", m->melding_id) || set_enum(v, "regel", m->regel) ||
           field(v, "ontvanger", &ontvanger) || set_enum(&ontvanger, "type", m->ontvanger_type) ||
           set_str(&ontvanger, "code", m->ontvanger_code) || field(v, "oorzaak", &oorzaak) ||
           set_enum(&oorzaak, "event_type", m->event_type) ||
           set_str(&oorzaak, "event_id", m->event_id) || set_str(&oorzaak, "topic", m->topic) ||
           set_int(&oorzaak, "partition", m->partition) ||
           set_long(&oorzaak, "offset", m->offset) || set_betrokkenen(v, m) ||
           set_int(v, "peildatum", m->peildatum) || field(v, "jeugdige", &jeugdige) ||
           set_str(&jeugdige, "bsn", m->bsn) ||
           set_int(&jeugdige, "geboortedatum", m->geboortedatum) ||
           set_str(v, "toelichting", m->toelichting) ||
           set_long(v, "aangemaakt_op", m->aangemaakt_op) || set_termijn(v, m->termijn);
}

int kh_melding_encode(kh_melding_encoder *e, const kh_melding *m, char **wire, size_t *len,
                      char *err, size_t errlen) {
    avro_value_reset(&e->value);
    if (fill(&e->value, m)) {
        snprintf(err, errlen, "cannot fill the melding value (melding %s, regel %s): %s",
                 m->melding_id, m->regel, avro_strerror());
        return -1;
    }
    return kh_codec_encode(e->schema, &e->value, wire, len, err, errlen);
}

rd_kafka_headers_t *kh_melding_headers(const char *melding_id, const char *ontvanger_type,
                                       const char *ontvanger_code) {
    char ontvanger[KH_ORGID_LEN];
    kh_orgid_join(ontvanger_type, ontvanger_code, ontvanger, sizeof ontvanger);
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_header_add(h, "event-type", -1, "melding", -1);
    rd_kafka_header_add(h, "melding-id", -1, melding_id, -1);
    rd_kafka_header_add(h, "ontvanger", -1, ontvanger, -1);
    return h;
}
