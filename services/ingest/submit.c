/*
 * submit — the events of a POST on their way to the broker: parse, check
 * (event.c), the idempotency window, produce; then, once every record is
 * acknowledged, the answer: 202 for one event, one result per line for a
 * batch.
 */
#include "submit.h"

#include "answer.h"
#include "lookup.h"

#include "kh_alloc.h"
#include "kh_codec.h"
#include "kh_log.h"
#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t type_index(const kh_event_type *t) { return (size_t)(t - kh_event_type_at(0)); }

/* An item is finished: the last one resumes the suspended connection. */
static void item_done(item *it) {
    request *r = it->req;
    if (atomic_fetch_sub(&r->pending, 1) == 1)
        MHD_resume_connection(r->conn);
}

static void finish_waiters(window_ticket *t) {
    while (t) {
        window_ticket *next = t->next; /* t's request may be gone once it is done */
        item_done((item *)t);
        t = next;
    }
}

void ingest_submit_delivered(void *opaque, const publisher_report *report, void *ud) {
    ingest_api *a = ud;
    item *it = opaque;
    it->err = report->err;
    it->possibly_persisted = report->possibly_persisted;
    if (report->err)
        ingest_telemetry_produce_error(a->d.telemetry, rd_kafka_err2name(report->err));
    window_result res = {ingest_publisher_topic(a->pub, type_index(it->type)), report->partition,
                         report->offset, it->sent_ms};
    if (report->err && report->possibly_persisted && report->partition >= 0) {
        res.offset = -1; /* where to look for it */
        finish_waiters(ingest_window_finish_unsure(a->d.window, &it->ticket, &res));
    } else {
        finish_waiters(ingest_window_finish(a->d.window, &it->ticket, report->err == 0, &res));
    }
    item_done(it);
}

/* ---- one event ---------------------------------------------------------------- */

typedef struct rejection {
    ingest_problem_class cls;
    char detail[256];
    kh_problems fields;
} rejection;

/* The item's id in the idempotency window, keyed by bron and event_id. */
static window_claim claim_id(request *r, item *it, const ingest_event_record *rec) {
    window_key key = {0};
    memcpy(key.id, rec->id, sizeof key.id);
    snprintf(key.bron, sizeof key.bron, "%s", r->partner->bron);
    memcpy(key.digest, rec->digest, sizeof key.digest);
    atomic_fetch_add(&r->pending, 1); /* before the claim: a waiter may be finished at once */
    window_claim claim = ingest_window_claim_id(r->api->d.window, &key, &it->ticket);
    if (claim == WINDOW_NEW || claim == WINDOW_UNSURE)
        return claim;
    if (claim != WINDOW_PENDING)
        atomic_fetch_sub(&r->pending, 1);
    it->state = claim == WINDOW_DONE      ? ITEM_REPLAYED
                : claim == WINDOW_PENDING ? ITEM_WAITING
                                          : it->state;
    return claim;
}

/* How long a resubmission of an unsure id may look on the topic. */
#define LOOKUP_MS 5000

/* A resubmission of an id whose first write may have been stored (it owns
 * the id, WINDOW_UNSURE): looks on the topic. Returns 0 when the first
 * write is not there (the caller produces this one), 1 when it is decided
 * without producing: found (replayed, 202) or not known (503, the id stays
 * unsure). */
static int settle_unsure(request *r, item *it) {
    ingest_api *a = r->api;
    window_result where = it->ticket.result;
    char err[256] = "";
    int64_t offset = -1;
    ingest_lookup_result found = ingest_lookup_find(a->d.kafka, where.topic, where.partition,
                                                    where.sent_ms, it->event_id, r->partner->bron,
                                                    LOOKUP_MS, &offset, err, sizeof err);
    static const char *const names[] = {"found", "absent", "unknown"};
    kh_metric_add(a->d.telemetry->unsure_lookups, (const char *[]){names[found]}, 1);
    kh_log_info("a resubmission of a possibly stored event_id was looked for on its topic",
                json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "partner", r->partner->name, "event_id",
                          it->event_id, "topic", where.topic, "partition", (int)where.partition,
                          "result", names[found], "error", err));
    if (found == INGEST_LOOKUP_ABSENT)
        return 0;
    if (found == INGEST_LOOKUP_FOUND) {
        where.offset = offset;
        finish_waiters(ingest_window_finish(a->d.window, &it->ticket, 1, &where));
        it->state = ITEM_REPLAYED;
    } else {
        finish_waiters(ingest_window_finish_unsure(a->d.window, &it->ticket, &where));
        it->state = ITEM_WAITING;
    }
    atomic_fetch_sub(&r->pending, 1); /* never the last: the handler holds one */
    return 1;
}

/* Why the event's checks refused it, in *rej; 0 when they did not. */
static int refused(const request *r, ingest_event_verdict v, rejection *rej) {
    if (v == INGEST_EVENT_INVALID) {
        rej->cls = INGEST_PROBLEM_VALIDATION;
        snprintf(rej->detail, sizeof rej->detail, "%zu field problem(s)%s; see errors",
                 rej->fields.count + rej->fields.dropped,
                 rej->fields.dropped ? ", the first of them listed" : "");
        return -1;
    }
    if (v == INGEST_EVENT_INTERNAL) {
        rej->cls = INGEST_PROBLEM_INTERNAL;
        snprintf(rej->detail, sizeof rej->detail,
                 "the hub could not compute the record key; nothing was stored");
        return -1;
    }
    if (v == INGEST_EVENT_NOT_OWN_BRON) {
        rej->cls = INGEST_PROBLEM_FORBIDDEN_BRON;
        snprintf(rej->detail, sizeof rej->detail,
                 "envelope.bron must be this partner's own organisation, %s", r->partner->bron);
        return -1;
    }
    return 0;
}

/* Checks ev as its type for the request's partner and sends it on: a
 * record produced, a wait for an in-flight first submission, or the first
 * result replayed. Returns 0, or -1 with why in *rej (nothing produced). */
static int publish(request *r, item *it, json_t *ev, rejection *rej) {
    ingest_api *a = r->api;
    ingest_event_record rec;
    ingest_event_verdict v = ingest_event_prepare(a->d.events, it->type, ev, r->partner,
                                                  kh_now_millis(), &rec, &rej->fields);
    if (refused(r, v, rej))
        return -1;
    memcpy(it->event_id, rec.event_id, sizeof it->event_id);
    memcpy(it->key, rec.key, sizeof it->key);
    window_claim claim = claim_id(r, it, &rec);
    if (claim == WINDOW_UNSURE && settle_unsure(r, it)) {
        free(rec.wire);
        return 0;
    }
    if (claim != WINDOW_NEW && claim != WINDOW_UNSURE) {
        free(rec.wire);
        if (claim != WINDOW_CONFLICT)
            return 0;
        rej->cls = INGEST_PROBLEM_EVENT_ID_CONFLICT;
        snprintf(rej->detail, sizeof rej->detail,
                 "event_id %s of %s was already used for a different event; nothing was stored. "
                 "A new event needs a new event_id; a resubmission must be the same event",
                 it->event_id, r->partner->bron);
        return -1;
    }
    it->state = ITEM_SENT;
    it->sent_ms = kh_now_millis();
    rd_kafka_resp_err_t e = ingest_publisher_produce(a->pub, type_index(it->type), rec.key,
                                                     rec.wire, rec.wire_len, it->type->name,
                                                     rec.event_id, r->partner->bron, it);
    if (e) {
        free(rec.wire);
        it->err = e;
        ingest_telemetry_produce_error(a->d.telemetry, rd_kafka_err2name(e));
        finish_waiters(ingest_window_finish(a->d.window, &it->ticket, 0, NULL));
        atomic_fetch_sub(&r->pending, 1); /* never the last: the handler holds one */
    }
    return 0;
}

/* Answers now when nothing is in flight; otherwise suspends the connection
 * until the last record is acknowledged (see request.pending). */
static enum MHD_Result wait_or_answer(request *r) {
    if (atomic_load(&r->pending) == 1) {
        atomic_store(&r->pending, 0);
        return ingest_submit_answer(r);
    }
    r->phase = PHASE_WAITING;
    MHD_suspend_connection(r->conn);
    if (atomic_fetch_sub(&r->pending, 1) == 1)
        MHD_resume_connection(r->conn);
    return MHD_YES;
}

static enum MHD_Result process_single(request *r) {
    rejection rej;
    kh_problems_init(&rej.fields);
    json_t *ev = kh_codec_parse(r->body ? r->body : "", r->len, &rej.fields);
    if (!ev) {
        ingest_telemetry_event(r->api->d.telemetry, r->type->name, ingest_answer_partner_name(r),
                               "rejected");
        return ingest_answer_problem(r, INGEST_PROBLEM_SYNTAX, rej.fields.items[0].detail,
                                     &rej.fields, NULL);
    }
    r->items = kh_calloc(1, sizeof *r->items);
    r->nitems = 1;
    item *it = &r->items[0];
    it->req = r;
    it->type = r->type;
    int rc = publish(r, it, ev, &rej);
    json_decref(ev);
    if (rc) {
        it->state = ITEM_REJECTED;
        ingest_telemetry_event(r->api->d.telemetry, r->type->name, ingest_answer_partner_name(r),
                               "rejected");
        return ingest_answer_problem(r, rej.cls, rej.detail, &rej.fields, NULL);
    }
    return wait_or_answer(r);
}

/* ---- a batch ---------------------------------------------------------------------- */

static int blank(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* A line must be {"type": "<event type>", "event": {...}}. */
static json_t *line_event(const json_t *doc, item *it, rejection *rej) {
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *ev = json_object_get(doc, "event");
    rej->cls = INGEST_PROBLEM_BAD_BATCH;
    if (!json_is_object(doc) || json_object_size(doc) != 2 || !type || !json_is_object(ev)) {
        snprintf(rej->detail, sizeof rej->detail,
                 "a line must be {\"type\": \"<event type>\", \"event\": {...}} and nothing else");
        return NULL;
    }
    it->type = kh_event_type_by_name(type);
    if (!it->type) {
        snprintf(rej->detail, sizeof rej->detail,
                 "type must be aanmelding, tlv, beschikking or verwijzing");
        return NULL;
    }
    if (!ingest_partner_may_send(it->req->partner, it->type)) {
        rej->cls = INGEST_PROBLEM_FORBIDDEN_TYPE;
        snprintf(rej->detail, sizeof rej->detail, "partner %s (%s) may not send %s events",
                 it->req->partner->name, it->req->partner->org_type, it->type->name);
        return NULL;
    }
    return ev;
}

static void batch_line(request *r, item *it, const char *text, size_t len) {
    rejection rej;
    kh_problems_init(&rej.fields);
    json_t *doc = kh_codec_parse(text, len, &rej.fields);
    json_t *ev = NULL;
    if (!doc) {
        rej.cls = INGEST_PROBLEM_SYNTAX;
        snprintf(rej.detail, sizeof rej.detail, "%s (within the line)", rej.fields.items[0].detail);
    } else {
        ev = line_event(doc, it, &rej);
    }
    if (!ev || publish(r, it, ev, &rej)) {
        it->state = ITEM_REJECTED;
        it->problem = ingest_answer_line_problem(r, it->line, rej.cls, rej.detail,
                                                 rej.fields.count ? &rej.fields : NULL);
    }
    json_decref(doc);
}

static enum MHD_Result process_batch(request *r) {
    const char *body = r->body ? r->body : "";
    size_t lines = 0;
    for (size_t at = 0, end; at < r->len; at = end + 1) {
        end = at;
        while (end < r->len && body[end] != '\n')
            end++;
        lines += !blank(body + at, end - at);
    }
    if (lines == 0)
        return ingest_answer_problem(r, INGEST_PROBLEM_BAD_BATCH,
                                     "the batch is empty: send one JSON object per line", NULL,
                                     NULL);
    if ((long long)lines > r->api->d.cfg->max_batch_lines) {
        char detail[128];
        snprintf(detail, sizeof detail, "a batch may have at most %lld lines",
                 r->api->d.cfg->max_batch_lines);
        return ingest_answer_problem(r, INGEST_PROBLEM_TOO_LARGE, detail, NULL, NULL);
    }
    r->items = kh_calloc(lines, sizeof *r->items);
    size_t number = 0;
    for (size_t at = 0, end; at < r->len; at = end + 1) {
        end = at;
        while (end < r->len && body[end] != '\n')
            end++;
        number++;
        if (blank(body + at, end - at))
            continue;
        item *it = &r->items[r->nitems++];
        it->req = r;
        it->line = number;
        batch_line(r, it, body + at, end - at);
    }
    return wait_or_answer(r);
}

enum MHD_Result ingest_submit_process(request *r) {
    return r->endpoint == ENDPOINT_BATCH ? process_batch(r) : process_single(r);
}

/* ---- the answer ------------------------------------------------------------------ */

static const char *outcome(const item *it) {
    if (it->state == ITEM_REJECTED)
        return "rejected";
    if (!it->ticket.ok)
        return "failed";
    return it->state == ITEM_SENT ? "accepted" : "duplicate";
}

static json_t *accepted_json(const item *it) {
    return json_pack("{s:s, s:s, s:i, s:I}", "event_id", it->event_id, "topic",
                     it->ticket.result.topic, "partition", (int)it->ticket.result.partition,
                     "offset", (json_int_t)it->ticket.result.offset);
}

static void failure_detail(const item *it, char *buf, size_t len) {
    if (it->ticket.unsure && it->state != ITEM_SENT)
        snprintf(
            buf, len,
            "an earlier write of this event_id was not confirmed by the broker and may have "
            "been stored; the hub could not yet find out whether it was, and does not write it "
            "twice: send it again later with the same event_id");
    else if (it->state == ITEM_WAITING)
        snprintf(buf, len,
                 "an earlier submission of this event_id failed while this one waited "
                 "for it; nothing is known to be stored: send it again");
    else
        snprintf(buf, len,
                 "the broker did not take the write (%s); %s: send it again with the same event_id",
                 rd_kafka_err2str(it->err),
                 it->possibly_persisted
                     ? "it may have been stored all the same (a resubmission is first looked for "
                       "on the topic)"
                     : "nothing was stored");
}

static void record_item(request *r, const item *it) {
    const char *what = outcome(it);
    ingest_telemetry_event(r->api->d.telemetry, it->type ? it->type->name : "unknown",
                           ingest_answer_partner_name(r), what);
    if (it->ticket.ok && kh_log_enabled(KH_LOG_DEBUG))
        kh_log_debug("event accepted",
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s}", "partner",
                               ingest_answer_partner_name(r), "event_type", it->type->name,
                               "event_id", it->event_id, "outcome", what, "topic",
                               it->ticket.result.topic, "partition",
                               (int)it->ticket.result.partition, "offset",
                               (json_int_t)it->ticket.result.offset, "pseudonym", it->key));
}

static enum MHD_Result answer_single(request *r) {
    item *it = &r->items[0];
    record_item(r, it);
    if (!it->ticket.ok) {
        char detail[256], retry[16];
        failure_detail(it, detail, sizeof detail);
        snprintf(retry, sizeof retry, "%lld", r->api->d.cfg->retry_after_s);
        const char *const h[] = {MHD_HTTP_HEADER_RETRY_AFTER, retry, NULL};
        return ingest_answer_problem(r, INGEST_PROBLEM_UNAVAILABLE, detail, NULL, h);
    }
    json_t *body = accepted_json(it);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    const char *const replayed[] = {"Idempotent-Replayed", "true", NULL};
    return ingest_answer_respond(r, 202, "application/json", text, strlen(text),
                                 it->state == ITEM_SENT ? NULL : replayed);
}

static enum MHD_Result answer_batch(request *r) {
    json_t *results = json_array();
    size_t accepted = 0, failed = 0;
    for (size_t i = 0; i < r->nitems; i++) {
        item *it = &r->items[i];
        record_item(r, it);
        json_t *res;
        if (it->state == ITEM_REJECTED) {
            res = json_incref(it->problem);
        } else if (!it->ticket.ok) {
            char detail[256];
            failure_detail(it, detail, sizeof detail);
            res = ingest_answer_line_problem(r, it->line, INGEST_PROBLEM_UNAVAILABLE, detail, NULL);
            failed++;
        } else {
            res = accepted_json(it);
            json_object_set_new(res, "status", json_integer(202));
            if (it->state != ITEM_SENT)
                json_object_set_new(res, "replayed", json_true());
            accepted++;
        }
        json_object_set_new(res, "line", json_integer((json_int_t)it->line));
        json_array_append_new(results, res);
    }
    json_t *body = json_pack("{s:I, s:I, s:o}", "accepted", (json_int_t)accepted, "rejected",
                             (json_int_t)(r->nitems - accepted), "results", results);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char retry[16];
    snprintf(retry, sizeof retry, "%lld", r->api->d.cfg->retry_after_s);
    const char *const h[] = {MHD_HTTP_HEADER_RETRY_AFTER, retry, NULL};
    return ingest_answer_respond(r, accepted == r->nitems ? 200 : 207, "application/json", text,
                                 strlen(text), failed ? h : NULL);
}

enum MHD_Result ingest_submit_answer(request *r) {
    return r->endpoint == ENDPOINT_BATCH ? answer_batch(r) : answer_single(r);
}

void ingest_submit_free(request *r) {
    for (size_t i = 0; i < r->nitems; i++)
        json_decref(r->items[i].problem);
    free(r->items);
}
