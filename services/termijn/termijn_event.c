/*
 * termijn_event — decode and read one event record.
 */
#include "termijn_event.h"

#include "kh_codec.h"
#include "kh_deadletter.h"
#include "kh_kalender.h"
#include "kh_orgid.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[TERMIJN_EV_KINDS] = {"aanmelding", "tlv", "beschikking",
                                                         "verwijzing"};

const char *termijn_kind_name(termijn_kind kind) {
    return kind < TERMIJN_EV_KINDS ? kind_names[kind] : "";
}

/* The value at a dotted path ("envelope.bron.code"), through optional
 * fields' unions; -1 when a step is missing or the value is null. Read
 * straight from the decoded Avro record: no JSON in between. */
static int at(const avro_value_t *root, const char *path, avro_value_t *out) {
    char buf[64];
    avro_value_t v = *root;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        if ((avro_value_get_type(&v) == AVRO_UNION && avro_value_get_current_branch(&v, &v)) ||
            avro_value_get_type(&v) != AVRO_RECORD || avro_value_get_by_name(&v, k, &v, NULL))
            return -1;
    if (avro_value_get_type(&v) == AVRO_UNION && avro_value_get_current_branch(&v, &v))
        return -1;
    *out = v;
    return avro_value_get_type(&v) == AVRO_NULL ? -1 : 0;
}

/* A string or enum symbol at path, or "" when absent. */
static const char *str(const avro_value_t *root, const char *path) {
    avro_value_t v;
    const char *s = NULL;
    size_t size;
    int symbol;
    if (at(root, path, &v))
        return "";
    if (avro_value_get_type(&v) == AVRO_STRING)
        avro_value_get_string(&v, &s, &size);
    else if (avro_value_get_type(&v) == AVRO_ENUM && avro_value_get_enum(&v, &symbol) == 0)
        s = avro_schema_enum_get(avro_value_get_schema(&v), symbol);
    return s ? s : "";
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* A date (days since 1970); TERMIJN_GEEN_DATUM when absent. */
static int32_t date(const avro_value_t *root, const char *path) {
    avro_value_t v;
    int32_t d;
    return at(root, path, &v) == 0 && avro_value_get_int(&v, &d) == 0 ? d : TERMIJN_GEEN_DATUM;
}

/* A timestamp (ms since 1970): 1 found, 0 absent. */
static int millis(const avro_value_t *root, const char *path, int64_t *ms) {
    avro_value_t v;
    return at(root, path, &v) == 0 && avro_value_get_long(&v, ms) == 0;
}

static int boolean(const avro_value_t *root, const char *path) {
    avro_value_t v;
    int b = 0;
    return at(root, path, &v) == 0 && avro_value_get_boolean(&v, &b) == 0 && b;
}

static void envelope(const avro_value_t *j, termijn_event *ev) {
    int64_t occurred = 0, received = 0;
    COPY(ev->oorzaak.event_id, str(j, "envelope.event_id"));
    kh_orgid_join(str(j, "envelope.bron.type"), str(j, "envelope.bron.code"), ev->bron,
                  sizeof ev->bron);
    millis(j, "envelope.occurred_at", &occurred);
    ev->oorzaak.aangemaakt_op = millis(j, "envelope.received_at", &received) ? received : occurred;
    COPY(ev->bsn, str(j, "jeugdige.bsn"));
    ev->geboortedatum = date(j, "jeugdige.geboortedatum");
    COPY(ev->woonplaats, str(j, "jeugdige.woonplaatsgemeente"));
    COPY(ev->status, str(j, "status"));
    ev->einddatum = date(j, "einddatum");
    ev->informatie_opgevraagd = date(j, "informatie_opgevraagd_op");
    ev->informatie_ontvangen = date(j, "informatie_ontvangen_op");
    /* when a decision was taken: the moment it was recorded, in Amsterdam */
    ev->handeling = kh_kalender_amsterdam_date(occurred);
}

static void fields(const avro_value_t *j, termijn_event *ev) {
    switch (ev->kind) {
    case TERMIJN_EV_AANMELDING:
        COPY(ev->id, str(j, "aanmelding_id"));
        COPY(ev->soort, str(j, "soort"));
        COPY(ev->bij, str(j, "bij.code"));
        COPY(ev->onderwijssoort, str(j, "onderwijssoort"));
        ev->ondersteuningsbehoefte = boolean(j, "ondersteuningsbehoefte");
        ev->datum = ev->handeling = date(j, "datum");
        break;
    case TERMIJN_EV_TLV:
        COPY(ev->id, str(j, "tlv_id"));
        COPY(ev->swv, str(j, "swv"));
        COPY(ev->tlv_soort, str(j, "soort"));
        COPY(ev->aanvragende_school, str(j, "aanvragende_school"));
        ev->datum = date(j, "ingangsdatum");
        break;
    case TERMIJN_EV_BESCHIKKING:
        COPY(ev->id, str(j, "beschikking_id"));
        COPY(ev->gemeente, str(j, "gemeente"));
        COPY(ev->aanbieder, str(j, "aanbieder"));
        COPY(ev->verwijzing_id, str(j, "verwijzing_id"));
        COPY(ev->verantwoordelijke, str(j, "verantwoordelijke_gemeente.gemeente"));
        ev->datum = date(j, "ingangsdatum");
        break;
    default:
        COPY(ev->id, str(j, "verwijzing_id"));
        COPY(ev->verwijzer_type, str(j, "verwijzer.type"));
        COPY(ev->naar_type, str(j, "naar.type"));
        COPY(ev->naar_code, str(j, "naar.code"));
        COPY(ev->domein, str(j, "domein"));
        COPY(ev->verantwoordelijke, str(j, "verantwoordelijke_gemeente.gemeente"));
        ev->datum = ev->handeling = date(j, "datum");
        break;
    }
}

static const char *decode_reason(kh_decode_status st) {
    switch (st) {
    case KH_DECODE_BAD_MAGIC: return kh_dl_reason_name(KH_DL_BAD_MAGIC_BYTE);
    case KH_DECODE_UNKNOWN_ID: return kh_dl_reason_name(KH_DL_UNKNOWN_SCHEMA_ID);
    default: return kh_dl_reason_name(KH_DL_UNDECODABLE);
    }
}

int termijn_event_read(const kh_schemas *schemas, termijn_kind kind, const void *payload,
                       size_t len, termijn_event *ev, const char **reason_code, char *reason,
                       size_t reasonlen) {
    const kh_schema *which;
    avro_value_t v;
    kh_decode_status st = kh_codec_decode(schemas, payload, len, &which, &v, reason, reasonlen);
    if (st != KH_DECODE_OK) {
        *reason_code = decode_reason(st);
        return -1;
    }
    if (strcmp(kh_schema_name(which), termijn_kind_name(kind)) != 0) {
        snprintf(reason, reasonlen, "schema id %d (%s) is not the %s event of this topic",
                 (int)kh_schema_id(which), kh_schema_name(which), termijn_kind_name(kind));
        avro_value_decref(&v);
        *reason_code = kh_dl_reason_name(KH_DL_UNKNOWN_SCHEMA_ID);
        return -1;
    }
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->oorzaak.kind = (uint8_t)kind;
    envelope(&v, ev);
    fields(&v, ev); /* copies every string out of v */
    avro_value_decref(&v);
    return 0;
}
