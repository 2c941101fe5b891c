/*
 * route_process — decode, decide, encode for one record.
 */
#include "route_process.h"

#include "kh_codec.h"
#include "kh_deadletter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int route_processor_init(route_processor *p, const kh_schemas *schemas, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    p->schemas = schemas;
    if (route_event_reader_init(&p->reader, schemas, err, errlen))
        return -1;
    return kh_melding_encoder_init(&p->enc, schemas, err, errlen);
}

void route_processor_free(route_processor *p) {
    route_process_discard(p);
    kh_melding_encoder_free(&p->enc);
}

void route_process_discard(route_processor *p) {
    for (size_t i = 0; i < p->nout; i++) {
        free(p->out[i].value);
        if (p->out[i].headers)
            rd_kafka_headers_destroy(p->out[i].headers);
    }
    p->nout = 0;
}

static int deadletter(route_processor *p, const rd_kafka_message_t *m, const char *reason_code,
                      char *err, size_t errlen) {
    route_output *o = &p->out[0];
    kh_deadletter dl = {
        .reason_code = reason_code, .reason = p->reason, .service = ROUTE_SERVICE, .origin = m};
    memset(o, 0, sizeof *o);
    if (kh_deadletter_build(p->schemas, &dl, &o->value, &o->len, &o->headers, err, errlen))
        return -1;
    o->deadletter = 1;
    o->rule = -1;
    o->reason_code = reason_code;
    o->key = m->key;
    o->keylen = m->key_len;
    p->nout = 1;
    return 0;
}

static int meldingen(route_processor *p, const rd_kafka_message_t *m, const route_event *ev,
                     char *err, size_t errlen) {
    const route_result *r = &p->result;
    route_cause cause = {rd_kafka_topic_name(m->rkt), m->partition, m->offset};
    for (size_t i = 0; i < r->n; i++) {
        route_output *o = &p->out[i];
        memset(o, 0, sizeof *o);
        if (route_melding_encode(&p->enc, ev, r, &r->m[i], &cause, &o->value, &o->len, err,
                                 errlen)) {
            route_process_discard(p);
            return -1;
        }
        p->nout = i + 1;
        o->rule = r->m[i].rule;
        o->key = route_melding_ontvanger_code(r, &r->m[i]);
        o->keylen = strlen(o->key);
        o->headers = route_melding_headers(r, &r->m[i]);
    }
    return 0;
}

static const char *decode_reason(kh_decode_status st) {
    switch (st) {
    case KH_DECODE_BAD_MAGIC: return kh_dl_reason_name(KH_DL_BAD_MAGIC_BYTE);
    case KH_DECODE_UNKNOWN_ID: return kh_dl_reason_name(KH_DL_UNKNOWN_SCHEMA_ID);
    default: return kh_dl_reason_name(KH_DL_UNDECODABLE);
    }
}

int route_process(route_processor *p, const rd_kafka_message_t *m, route_kind kind,
                  const kh_ref *ref, char *err, size_t errlen) {
    const kh_schema *which;
    avro_value_t v;
    route_event ev;
    route_process_discard(p);
    kh_decode_status st = kh_codec_decode(p->schemas, m->payload, m->len, &which, &v, p->reason,
                                          sizeof p->reason);
    if (st != KH_DECODE_OK)
        return deadletter(p, m, decode_reason(st), err, errlen);
    int rc;
    if (route_kind_by_name(kh_schema_name(which)) != kind) {
        snprintf(p->reason, sizeof p->reason, "schema id %d (%s) is not the %s event of topic %s",
                 (int)kh_codec_schema_id(m->payload, m->len), kh_schema_name(which),
                 route_kind_name(kind), rd_kafka_topic_name(m->rkt));
        rc = deadletter(p, m, kh_dl_reason_name(KH_DL_UNKNOWN_SCHEMA_ID), err, errlen);
    } else if (route_event_read(&p->reader, kind, &v, &ev, p->reason, sizeof p->reason)) {
        rc = deadletter(p, m, kh_dl_reason_name(KH_DL_UNDECODABLE), err, errlen);
    } else if (route_rules_apply(&ev, ref, &p->result)) {
        snprintf(p->reason, sizeof p->reason, "%s", p->result.reason);
        rc = deadletter(p, m, p->result.reason_code, err, errlen);
    } else {
        rc = meldingen(p, m, &ev, err, errlen);
    }
    avro_value_decref(&v);
    return rc;
}
