/*
 * push_outcome — afleveringen, dead letters and retry records of jobs.
 */
#include "push_outcome.h"

#include "kh_log.h"
#include "kh_orgid.h"
#include "kh_retry.h"
#include "push_aflevering.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int deadletter; /* a kh_dl_reason, or -1 for none */
} finals[] = {
    [PUSH_FINAL_DELIVERED] = {"DELIVERED", -1},
    [PUSH_FINAL_REJECTED] = {"REJECTED", KH_DL_DELIVERY_REJECTED},
    [PUSH_FINAL_EXPIRED] = {"EXPIRED", KH_DL_DELIVERY_EXPIRED},
    [PUSH_FINAL_NO_SUBSCRIPTION] = {"NO_SUBSCRIPTION", KH_DL_NO_SUBSCRIPTION},
};

const char *push_final_name(push_final f) { return finals[f].name; }

/* A write that cannot even be queued leaves the job unfinished for good:
 * the loop stops and the record is read again after a restart. */
static void give_up_job(push_outcomes *o, push_job *job, const char *err) {
    kh_log_error("cannot write an outcome; stopping so the work is redone after a restart",
                 json_pack("{s:s}", "error", err));
    *o->failed = 1;
    if (job->pending)
        push_pending_abandon(job->pending); /* never finished, so never committed */
    job->pending = NULL;
}

static rd_kafka_headers_t *melding_headers(const push_job *job) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_header_add(h, "event-type", -1, "aflevering", -1);
    rd_kafka_header_add(h, "melding-id", -1, job->id, -1);
    rd_kafka_header_add(h, "ontvanger", -1, job->partner->name, -1);
    return h;
}

/* The original record, as the dead-letter builder wants it; for a failed
 * delivery with its partner (ontvanger, "TYPE:CODE"), else NULL. */
static int dead_letter_for(push_outcomes *o, push_job *job, kh_dl_reason reason, const char *why,
                           const char *ontvanger, char *err, size_t errlen) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(o->consumer, job->origin_topic, NULL);
    rd_kafka_message_t origin = {.rkt = rkt,
                                 .partition = job->origin_partition,
                                 .offset = job->origin_offset,
                                 .payload = job->value,
                                 .len = job->value_len,
                                 .key = job->key,
                                 .key_len = job->key_len};
    char type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN];
    int named = ontvanger && kh_orgid_split(ontvanger, type, code) == 0;
    kh_deadletter dl = {.reason_code = kh_dl_reason_name(reason),
                        .reason = why,
                        .service = "push",
                        .origin = &origin,
                        .ontvanger_type = named ? type : NULL,
                        .ontvanger_code = named ? code : NULL};
    char *value = NULL;
    size_t len = 0;
    rd_kafka_headers_t *h = NULL;
    int rc = kh_deadletter_build(o->schemas, &dl, &value, &len, &h, err, errlen);
    if (rc == 0)
        rc = push_output_send(o->out, job, o->t_deadletter, job->key, job->key_len, value, len, h,
                              err, errlen);
    free(value);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (rc == 0)
        push_metrics_count(o->m->deadletters, kh_dl_reason_name(reason), NULL);
    return rc;
}

static int write_aflevering(push_outcomes *o, push_job *job, const char *outcome, const char *why,
                            char *err, size_t errlen) {
    const char *partner = job->partner->name, *key = kh_retry_key(partner);
    push_aflevering a = {.melding_id = job->id,
                         .ontvanger = partner,
                         .endpoint = job->endpoint,
                         .attempts = job->attempts,
                         .http_status = job->last_status,
                         .first_attempt_ms = job->first_attempt_ms,
                         .last_attempt_ms = job->last_attempt_ms,
                         .outcome = outcome,
                         .error = job->last_error[0] ? job->last_error : why};
    char *value = NULL;
    size_t len = 0;
    int rc = push_aflevering_encode(o->schemas, &a, &value, &len, err, errlen);
    if (rc == 0)
        rc = push_output_send(o->out, job, o->t_aflevering, key, strlen(key), value, len,
                              melding_headers(job), err, errlen);
    free(value);
    return rc;
}

static void log_final(const push_job *job, const char *outcome, int failed, const char *why) {
    if (failed)
        kh_log_info("delivery failed for good",
                    json_pack("{s:s, s:s, s:s, s:i, s:I, s:s}", "melding_id", job->id, "partner",
                              job->partner->name, "outcome", outcome, "attempts", job->attempts,
                              "http_status", (json_int_t)job->last_status, "reason", why));
    else if (kh_log_enabled(KH_LOG_DEBUG))
        kh_log_debug("delivered", json_pack("{s:s, s:s, s:i}", "melding_id", job->id, "partner",
                                            job->partner->name, "attempts", job->attempts));
}

void push_outcome_finish(push_outcomes *o, push_job *job, push_final f, const char *why) {
    const char *outcome = finals[f].name;
    int dl = finals[f].deadletter;
    char err[512];
    push_output_hold(job);
    int rc = write_aflevering(o, job, outcome, why, err, sizeof err);
    if (rc == 0 && dl >= 0)
        rc = dead_letter_for(o, job, (kh_dl_reason)dl, why, job->partner->name, err, sizeof err);
    push_metrics_count(o->m->deliveries, job->partner->name, outcome);
    if (rc)
        give_up_job(o, job, err);
    else
        log_final(job, outcome, dl >= 0, why);
    push_job_shed(job); /* the writes hold copies; the job waits for their acks */
    push_output_release(o->out, job);
}

void push_outcome_hand_off(push_outcomes *o, push_job *job, int64_t due_ms) {
    kh_retry r;
    char err[512];
    const char *key = kh_retry_key(job->partner->name);
    push_job_to_retry(job, due_ms, &r);
    push_output_hold(job);
    if (push_output_send(o->out, job, o->t_retry, key, strlen(key), job->value, job->value_len,
                         kh_retry_headers(&r, job->key, job->key_len), err, sizeof err))
        give_up_job(o, job, err);
    push_job_shed(job); /* the writes hold copies; the job waits for their acks */
    push_output_release(o->out, job);
}

void push_outcome_poison(push_outcomes *o, push_job *job, kh_dl_reason reason, const char *why) {
    char err[512];
    kh_log_warn("poison record dead-lettered",
                json_pack("{s:s, s:i, s:I, s:s, s:s}", "topic", job->origin_topic, "partition",
                          (int)job->origin_partition, "offset", (json_int_t)job->origin_offset,
                          "reason_code", kh_dl_reason_name(reason), "reason", why));
    push_output_hold(job);
    if (dead_letter_for(o, job, reason, why, NULL, err, sizeof err))
        give_up_job(o, job, err);
    push_job_shed(job); /* the writes hold copies; the job waits for their acks */
    push_output_release(o->out, job);
}
