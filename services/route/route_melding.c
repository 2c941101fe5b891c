/*
 * route_melding — filling the Melding Avro value field by field and
 * encoding it through kh_codec.
 */
#include "route_melding.h"

#include "kh_codec.h"
#include "kh_orgid.h"

#include <stdio.h>
#include <string.h>

int route_encoder_init(route_encoder *e, const kh_schemas *all, char *err, size_t errlen) {
    e->schema = kh_schemas_by_name(all, "melding");
    if (!e->schema || kh_schema_new_value(e->schema, &e->value)) {
        snprintf(err, errlen, "no melding schema, or out of memory");
        e->schema = NULL;
        return -1;
    }
    return 0;
}

void route_encoder_free(route_encoder *e) {
    if (e->schema)
        avro_value_decref(&e->value);
    e->schema = NULL;
}

const char *route_melding_ontvanger_type(const route_melding *m) {
    return route_slot_describe(m->ontvanger)->type;
}

const char *route_melding_ontvanger_code(const route_result *r, const route_melding *m) {
    return r->party[m->ontvanger].code;
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

/* ["null", "string"]: branch 0 is null. */
static int set_opt_str(avro_value_t *rec, const char *name, const char *s) {
    avro_value_t u, b;
    if (field(rec, name, &u))
        return -1;
    if (!s)
        return avro_value_set_branch(&u, 0, &b) || avro_value_set_null(&b);
    return avro_value_set_branch(&u, 1, &b) || avro_value_set_string(&b, s);
}

static int set_betrokkenen(avro_value_t *rec, const route_result *r, const route_rule *rule) {
    avro_value_t arr, item;
    if (field(rec, "betrokkenen", &arr))
        return -1;
    for (size_t i = 0; i < ROUTE_MAX_BETROKKENEN && rule->betrokkenen[i] != ROUTE_NONE; i++) {
        route_slot s = rule->betrokkenen[i];
        const route_party *p = &r->party[s];
        const route_slot_info *info = route_slot_describe(s);
        if (!p->known)
            continue;
        if (avro_value_append(&arr, &item, NULL) || set_enum(&item, "rol", info->rol) ||
            set_enum(&item, "type", info->type) || set_str(&item, "code", p->code) ||
            set_str(&item, "naam", p->naam) ||
            set_opt_str(&item, "opvolger_van", p->old_code[0] ? p->old_code : NULL))
            return -1;
    }
    return 0;
}

static int fill(avro_value_t *v, const route_event *ev, const route_result *r,
                const route_melding *m, const route_cause *cause) {
    const route_rule *rule = route_rule_at((size_t)m->rule);
    avro_value_t ontvanger, oorzaak, jeugdige;
    return set_str(v, "melding_id", m->melding_id) || set_enum(v, "regel", rule->regel) ||
           field(v, "ontvanger", &ontvanger) ||
           set_enum(&ontvanger, "type", route_melding_ontvanger_type(m)) ||
           set_str(&ontvanger, "code", route_melding_ontvanger_code(r, m)) ||
           field(v, "oorzaak", &oorzaak) ||
           set_enum(&oorzaak, "event_type", route_kind_symbol(ev->kind)) ||
           set_str(&oorzaak, "event_id", ev->event_id) ||
           set_str(&oorzaak, "topic", cause->topic) ||
           set_int(&oorzaak, "partition", cause->partition) ||
           set_long(&oorzaak, "offset", cause->offset) || set_betrokkenen(v, r, rule) ||
           set_int(v, "peildatum", ev->peildatum) || field(v, "jeugdige", &jeugdige) ||
           set_str(&jeugdige, "bsn", ev->bsn) ||
           set_int(&jeugdige, "geboortedatum", ev->geboortedatum) ||
           set_str(v, "toelichting", m->toelichting) ||
           set_long(v, "aangemaakt_op", ev->aangemaakt_op) ||
           set_opt_str(v, "termijn", NULL); /* termijn's field; null in a grensverkeer melding */
}

int route_melding_encode(route_encoder *e, const route_event *ev, const route_result *r,
                         const route_melding *m, const route_cause *cause, char **wire, size_t *len,
                         char *err, size_t errlen) {
    avro_value_reset(&e->value);
    if (fill(&e->value, ev, r, m, cause)) {
        snprintf(err, errlen, "cannot fill the melding value: %s", avro_strerror());
        return -1;
    }
    return kh_codec_encode(e->schema, &e->value, wire, len, err, errlen);
}

rd_kafka_headers_t *route_melding_headers(const route_result *r, const route_melding *m) {
    char ontvanger[KH_ORGID_LEN];
    kh_orgid_join(route_melding_ontvanger_type(m), route_melding_ontvanger_code(r, m), ontvanger,
                  sizeof ontvanger);
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_header_add(h, "event-type", -1, "melding", -1);
    rd_kafka_header_add(h, "melding-id", -1, m->melding_id, -1);
    rd_kafka_header_add(h, "ontvanger", -1, ontvanger, -1);
    return h;
}
