/*
 * termijn_melding — encode a termijn melding (natural JSON -> Avro wire).
 */
#include "termijn_melding.h"

#include "kh_codec.h"
#include "kh_orgid.h"
#include "kh_time.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_symbols[TERMIJN_EV_KINDS] = {"AANMELDING", "TLV", "BESCHIKKING",
                                                           "VERWIJZING"};

static json_t *datum(int32_t d) {
    char buf[KH_DATE_LEN];
    return json_string(kh_date_format(d, buf));
}

static json_t *betrokkenen(const termijn_melding *m) {
    json_t *a = json_array();
    for (size_t i = 0; i < m->nbetrokkenen; i++) {
        const termijn_betrokkene *b = &m->betrokkenen[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "rol", b->rol, "type", b->type, "code", b->code,
                              "naam", b->naam);
        if (b->opvolger_van[0])
            json_object_set_new(o, "opvolger_van", json_string(b->opvolger_van));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *termijn_json(const termijn_melding *m) {
    json_t *t = json_pack("{s:s,s:o,s:o,s:i}", "zaak", m->zaak, "geopend_op", datum(m->geopend),
                          "vervaldatum", datum(m->vervaldatum), "stap", m->stap);
    if (m->achterhaalt[0])
        json_object_set_new(t, "achterhaalt", json_string(m->achterhaalt));
    return t;
}

static json_t *melding_json(const termijn_melding *m, const char *const topics[]) {
    char ts[KH_TS_LEN];
    const termijn_oorzaak *o = &m->oorzaak;
    int k = o->kind < TERMIJN_EV_KINDS ? o->kind : 0;
    return json_pack(
        "{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s,s:i,s:I},s:o,s:o,s:{s:s,s:o},s:s,s:s,s:o}",
        "melding_id", m->melding_id, "regel", termijn_regel_naam(m->regel), "ontvanger", "type",
        m->ontvanger_type, "code", m->ontvanger_code, "oorzaak", "event_type", kind_symbols[k],
        "event_id", o->event_id, "topic", topics[k], "partition", (int)o->partition, "offset",
        (json_int_t)o->offset, "betrokkenen", betrokkenen(m), "peildatum", datum(m->peildatum),
        "jeugdige", "bsn", m->bsn, "geboortedatum", datum(m->geboortedatum), "toelichting",
        m->toelichting, "aangemaakt_op", kh_ts_format(m->aangemaakt_op, ts), "termijn",
        termijn_json(m));
}

int termijn_melding_encode(const kh_schemas *schemas, const termijn_melding *m,
                           const char *const topics[TERMIJN_EV_KINDS], char **wire, size_t *len,
                           char *err, size_t errlen) {
    const kh_schema *s = kh_schemas_by_name(schemas, "melding");
    avro_value_t v;
    kh_problems p;
    if (!s) {
        snprintf(err, errlen, "no melding schema");
        return -1;
    }
    json_t *j = melding_json(m, topics);
    if (!j || kh_schema_new_value(s, &v)) {
        json_decref(j);
        snprintf(err, errlen, "out of memory building a melding");
        return -1;
    }
    kh_problems_init(&p);
    int rc = kh_codec_from_json(s, j, &v, &p);
    if (rc) {
        char why[512];
        snprintf(err, errlen, "melding does not fit melding.avsc: %s",
                 kh_problems_format(&p, why, sizeof why));
    } else {
        rc = kh_codec_encode(s, &v, wire, len, err, errlen);
    }
    avro_value_decref(&v);
    json_decref(j);
    return rc;
}

rd_kafka_headers_t *termijn_melding_headers(const termijn_melding *m) {
    char ontvanger[KH_ORGID_LEN];
    kh_orgid_join(m->ontvanger_type, m->ontvanger_code, ontvanger, sizeof ontvanger);
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_header_add(h, "event-type", -1, "melding", -1);
    rd_kafka_header_add(h, "melding-id", -1, m->melding_id, -1);
    rd_kafka_header_add(h, "ontvanger", -1, ontvanger, -1);
    return h;
}
