/*
 * event — the checks in the order a partner learns most from: the event's
 * own content first (schema and rules, every field at once), then whether
 * the partner sent it as itself.
 */
#include "event.h"

#include "kh_intake.h"
#include "kh_pseudo.h"
#include "kh_time.h"
#include "kh_uuid.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The hub owns event_id (when absent) and received_at. A malformed
 * envelope is left alone for the schema to name. */
static void complete_envelope(json_t *ev, int64_t now_ms) {
    json_t *env = json_object_get(ev, "envelope");
    if (!json_is_object(env))
        return;
    json_t *id = json_object_get(env, "event_id");
    if (!id || json_is_null(id)) {
        char fresh[KH_UUID_LEN];
        kh_uuid_v4(fresh);
        json_object_set_new(env, "event_id", json_string(fresh));
    }
    char ts[KH_TS_LEN];
    json_object_set_new(env, "received_at", json_string(kh_ts_format(now_ms, ts)));
}

/* A copy of v without null members, recursively. */
static json_t *without_nulls(const json_t *v) {
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            json_array_append_new(out, without_nulls(e));
        return out;
    }
    if (!json_is_object(v))
        return json_deep_copy(v);
    json_t *out = json_object();
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)v, k, e)
        if (!json_is_null(e))
            json_object_set_new(out, k, without_nulls(e));
    return out;
}

static void digest_of(const json_t *ev, unsigned char out[32]) {
    json_t *canon = without_nulls(ev);
    json_object_del(json_object_get(canon, "envelope"), "received_at");
    char *text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    SHA256((const unsigned char *)text, strlen(text), out);
    free(text);
    json_decref(canon);
}

static int own_bron(const json_t *ev, const partner *p) {
    const json_t *bron = json_object_get(json_object_get(ev, "envelope"), "bron");
    const char *type = json_string_value(json_object_get(bron, "type"));
    const char *code = json_string_value(json_object_get(bron, "code"));
    return type && code && strcmp(type, p->org_type) == 0 && strcmp(code, p->org_code) == 0;
}

ingest_event_verdict ingest_event_prepare(const ingest_event_ctx *ctx, const kh_event_type *t,
                                          json_t *ev, const partner *p, int64_t now_ms,
                                          ingest_event_record *rec, kh_problems *probs) {
    memset(rec, 0, sizeof *rec);
    complete_envelope(ev, now_ms);
    const kh_ref *ref = kh_refstore_acquire(ctx->refs);
    int rc = kh_intake_encode(ctx->schemas, t, ev, ref, now_ms, &rec->wire, &rec->wire_len, probs);
    kh_refstore_release(ctx->refs, ref);
    if (rc)
        return INGEST_EVENT_INVALID;
    const char *bsn = json_string_value(json_object_get(json_object_get(ev, "jeugdige"), "bsn"));
    const char *id = json_string_value(json_object_get(json_object_get(ev, "envelope"),
                                                       "event_id"));
    snprintf(rec->event_id, sizeof rec->event_id, "%s", id ? id : "");
    /* Both hold after kh_intake: the BSN passed the elfproef, the id is a UUID. */
    if (kh_pseudo_bsn(ctx->secret, ctx->secretlen, bsn, rec->key) ||
        kh_uuid_parse(rec->event_id, rec->id)) {
        free(rec->wire);
        rec->wire = NULL;
        return INGEST_EVENT_INTERNAL;
    }
    digest_of(ev, rec->digest);
    if (!own_bron(ev, p)) {
        free(rec->wire);
        rec->wire = NULL;
        return INGEST_EVENT_NOT_OWN_BRON;
    }
    return INGEST_EVENT_OK;
}
