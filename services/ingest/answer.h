/*
 * answer — responses of the ingest API (answer.c). Every rejection goes
 * through ingest_answer_problem or ingest_answer_line_problem, which log it
 * (never a value) and count it.
 */
#ifndef INGEST_ANSWER_H
#define INGEST_ANSWER_H

#include "request.h"

/* A monotonic clock in nanoseconds. */
int64_t ingest_answer_now_ns(void);

/* Queues an answer. body is malloc'd and taken over. headers: NULL or
 * name/value pairs ending in NULL. */
enum MHD_Result ingest_answer_respond(request *r, unsigned status, const char *content_type,
                                      char *body, size_t len, const char *const *headers);

/* A problem answer for the whole request, logged and counted. */
enum MHD_Result ingest_answer_problem(request *r, ingest_problem_class c, const char *detail,
                                      const kh_problems *fields, const char *const *headers);

/* A problem object for one batch line, logged and counted; the caller owns
 * it (json_decref). */
json_t *ingest_answer_line_problem(request *r, size_t line, ingest_problem_class c,
                                   const char *detail, const kh_problems *fields);

/* The partner's name, or "-" before authentication. */
const char *ingest_answer_partner_name(const request *r);

#endif
