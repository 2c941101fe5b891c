/*
 * push_process — decode a record and decide who receives it.
 */
#include "push_process.h"

#include "kh_alloc.h"
#include "kh_codec.h"
#include "kh_orgid.h"
#include "kh_uuid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void poison(push_decision *d, kh_dl_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void poison(push_decision *d, kh_dl_reason reason, const char *fmt, ...) {
    va_list ap;
    d->poison = 1;
    d->reason = reason;
    d->n = 0;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof d->why, fmt, ap);
    va_end(ap);
}

static kh_dl_reason decode_reason(kh_decode_status st) {
    return st == KH_DECODE_BAD_MAGIC    ? KH_DL_BAD_MAGIC_BYTE
           : st == KH_DECODE_UNKNOWN_ID ? KH_DL_UNKNOWN_SCHEMA_ID
                                        : KH_DL_UNDECODABLE;
}

/* The record's natural JSON (the caller's), or NULL when it is poison. */
static json_t *decode(const kh_schemas *schemas, const push_record *r, const kh_schema **s,
                      push_decision *d) {
    char err[256];
    avro_value_t v;
    kh_decode_status st = kh_codec_decode(schemas, r->payload, r->len, s, &v, err, sizeof err);
    if (st != KH_DECODE_OK) {
        poison(d, decode_reason(st), "%s", err);
        return NULL;
    }
    json_t *j = kh_codec_to_json(*s, &v, err, sizeof err);
    avro_value_decref(&v);
    if (!j)
        poison(d, KH_DL_UNDECODABLE, "%s", err);
    return j;
}

static int is_melding(const kh_schema *s) { return strcmp(kh_schema_name(s), "melding") == 0; }

static const char *member(const json_t *j, const char *a, const char *b) {
    const json_t *v = json_object_get(j, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

/* A raw event's webhook-id: its identity is its bron plus its event_id (two
 * partners may use one event_id), so the id is derived from both. */
static void event_webhook_id(const json_t *j, char out[KH_UUID_LEN]) {
    const json_t *envelope = json_object_get(j, "envelope");
    const char *event_id = json_string_value(json_object_get(envelope, "event_id"));
    char bron[KH_ORGID_LEN], name[KH_ORGID_LEN + KH_UUID_LEN + 1];
    out[0] = '\0';
    if (!event_id || kh_orgid_from_json(json_object_get(envelope, "bron"), bron, sizeof bron))
        return;
    int n = snprintf(name, sizeof name, "%s|%s", bron, event_id);
    if (n > 0 && (size_t)n < sizeof name)
        kh_uuid_v5(PUSH_EVENT_ID_NAMESPACE, name, (size_t)n, out);
}

/* id, what and is_event of the record j of schema s. */
static void identify(const kh_schema *s, const json_t *j, push_decision *d) {
    d->is_event = !is_melding(s);
    const char *what = d->is_event ? kh_schema_name(s) : member(j, "regel", NULL);
    const char *melding_id = member(j, "melding_id", NULL);
    if (d->is_event)
        event_webhook_id(j, d->id);
    else
        snprintf(d->id, sizeof d->id, "%s", melding_id ? melding_id : "");
    snprintf(d->what, sizeof d->what, "%s", what ? what : "");
}

/* Everyone record j of schema s may go to at all: a melding only to its
 * ontvanger, a raw event only to an addressee. */
static size_t addressees(const kh_schema *s, const json_t *j,
                         char out[PUSH_NAMED_MAX][PUSH_ORG_LEN]) {
    if (is_melding(s))
        return kh_orgid_from_json(json_object_get(j, "ontvanger"), out[0], PUSH_ORG_LEN) ? 0 : 1;
    const kh_event_type *t = kh_event_type_by_name(kh_schema_name(s));
    return t ? kh_event_addressees(t, j, out) : 0;
}

static void from_melding(const kh_schema *s, const json_t *j, push_decision *d) {
    if (!is_melding(s))
        poison(d, KH_DL_INVALID_EVENT, "a record of schema %s on the melding topic",
               kh_schema_name(s));
    else if ((d->n = addressees(s, j, d->to)) == 0)
        poison(d, KH_DL_INVALID_EVENT, "a melding without a valid ontvanger");
}

static void from_event(const push_subs *subs, const push_record *r, const kh_schema *s,
                       const json_t *j, push_decision *d) {
    if (kh_event_type_by_name(kh_schema_name(s)) != r->event_type) {
        poison(d, KH_DL_INVALID_EVENT, "a record of schema %s on the %s topic", kh_schema_name(s),
               r->event_type->name);
        return;
    }
    char orgs[PUSH_NAMED_MAX][PUSH_ORG_LEN];
    size_t n = kh_event_addressees(r->event_type, j, orgs);
    for (size_t i = 0; i < n; i++) {
        const push_sub *sub = push_subs_find(subs, orgs[i]);
        if (sub && push_sub_wants_event(sub, r->event_type->name))
            memcpy(d->to[d->n++], orgs[i], PUSH_ORG_LEN);
    }
}

static void from_retry(const push_record *r, const kh_schema *s, const json_t *j,
                       push_decision *d) {
    char err[256], orgs[PUSH_NAMED_MAX][PUSH_ORG_LEN];
    if (kh_retry_parse(r->headers, &d->retry, &d->retry_key, &d->retry_keylen, err, sizeof err)) {
        poison(d, KH_DL_INVALID_EVENT, "%s", err);
        return;
    }
    size_t n = addressees(s, j, orgs);
    for (size_t i = 0; i < n; i++)
        if (strcmp(orgs[i], d->retry.ontvanger) == 0) {
            memcpy(d->to[0], orgs[i], PUSH_ORG_LEN);
            d->n = 1;
            return;
        }
    poison(d, KH_DL_INVALID_EVENT, "retry record for a partner the record is not addressed to");
}

void push_process(const kh_schemas *schemas, const push_subs *subs, const push_record *r,
                  push_decision *d) {
    const kh_schema *s;
    memset(d, 0, sizeof *d);
    json_t *j = decode(schemas, r, &s, d);
    if (!j)
        return;
    identify(s, j, d);
    if (r->source == PUSH_FROM_MELDING)
        from_melding(s, j, d);
    else if (r->source == PUSH_FROM_EVENT)
        from_event(subs, r, s, j, d);
    else
        from_retry(r, s, j, d);
    if (!d->poison) {
        d->body = json_dumps(j, JSON_COMPACT);
        if (!d->body)
            kh_alloc_oom(0); /* jansson's only failure here is memory */
    }
    json_decref(j);
}

void push_decision_clear(push_decision *d) {
    free(d->body);
    d->body = NULL;
    d->n = 0;
}
