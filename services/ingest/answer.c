/*
 * answer — the answers of the ingest API: queueing a response, and the
 * problem+json of a rejection, logged and counted in one place.
 */
#include "answer.h"

#include "kh_alloc.h"
#include "kh_log.h"
#include "kh_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t ingest_answer_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *ingest_answer_partner_name(const request *r) {
    return r->partner ? r->partner->name : "-";
}

enum MHD_Result ingest_answer_respond(request *r, unsigned status, const char *content_type,
                                      char *body, size_t len, const char *const *headers) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (size_t i = 0; headers && headers[i]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    /* After a rejection nothing more is read from the connection: what
     * follows a malformed request cannot be trusted to start a new one. */
    if (status >= 400 || atomic_load(&r->api->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    ingest_telemetry_request(r->api->d.telemetry, r->label, status, ingest_answer_partner_name(r),
                             (double)(ingest_answer_now_ns() - r->started_ns) / 1e9);
    return rc;
}

/* The rejection in the log: who, what, which fields; never a value. */
static void log_rejection(const request *r, const ingest_problem_info *info, const char *instance,
                          size_t line, const kh_problems *fields) {
    json_t *f = json_pack("{s:s, s:s, s:i, s:s, s:s}", "route", r->label, "partner",
                          ingest_answer_partner_name(r), "status", (int)info->status, "problem",
                          info->slug, "instance", instance);
    if (line)
        json_object_set_new(f, "line", json_integer((json_int_t)line));
    if (fields && fields->count) {
        json_t *list = json_array();
        for (size_t i = 0; i < fields->count; i++) {
            char pointer[KH_POINTER_LEN];
            ingest_problem_mask_digits(fields->items[i].pointer, pointer, sizeof pointer);
            json_array_append_new(list, json_pack("{s:s, s:s}", "pointer", pointer, "reason",
                                                  kh_reason_name(fields->items[i].reason)));
        }
        json_object_set_new(f, "errors", list);
    }
    kh_log_info(line ? "batch line rejected" : "request rejected", f);
}

json_t *ingest_answer_line_problem(request *r, size_t line, ingest_problem_class c,
                                   const char *detail, const kh_problems *fields) {
    char id[37];
    kh_uuid_v4(id);
    const ingest_problem_info *info = ingest_problem_info_of(c);
    log_rejection(r, info, id, line, fields);
    ingest_telemetry_rejection(r->api->d.telemetry, info->slug, ingest_answer_partner_name(r));
    return ingest_problem_new(c, detail, id, fields);
}

enum MHD_Result ingest_answer_problem(request *r, ingest_problem_class c, const char *detail,
                                      const kh_problems *fields, const char *const *headers) {
    char id[37];
    kh_uuid_v4(id);
    const ingest_problem_info *info = ingest_problem_info_of(c);
    log_rejection(r, info, id, 0, fields);
    ingest_telemetry_rejection(r->api->d.telemetry, info->slug, ingest_answer_partner_name(r));
    json_t *body = ingest_problem_new(c, detail, id, fields);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return MHD_NO;
    return ingest_answer_respond(r, info->status, "application/problem+json", text, strlen(text),
                                 headers);
}
