/*
 * submit — the events of a POST on their way to the broker (submit.c):
 * parse, check, the idempotency window, produce, and the answer once every
 * record is acknowledged.
 */
#ifndef INGEST_SUBMIT_H
#define INGEST_SUBMIT_H

#include "request.h"

/* The body is complete; checks, produces and suspends, or answers at once. */
enum MHD_Result ingest_submit_process(request *r);

/* Every item is finished; the answer. */
enum MHD_Result ingest_submit_answer(request *r);

/* Frees the request's items (not the request). */
void ingest_submit_free(request *r);

/* The delivery callback to give the publisher, with the api as ud. */
void ingest_submit_delivered(void *opaque, const publisher_report *report, void *ud);

#endif
