/*
 * kh_intake — one event from natural JSON to wire-format bytes: the schema
 * (kh_codec), the domain rules (kh_validate), then the encoding. The path
 * every producer takes: `ketenhub validate` and the ingest service.
 */
#ifndef KH_INTAKE_H
#define KH_INTAKE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_event.h"
#include "kh_problem.h"
#include "kh_ref.h"
#include "kh_schema.h"

/* Checks and encodes ev as event type t. Returns 0 with *wire (caller
 * frees) and *len set, or -1 with every problem in p. Nothing is encoded
 * unless every check passes. */
int kh_intake_encode(const kh_schemas *all, const kh_event_type *t, const json_t *ev,
                     const kh_ref *ref, int64_t now_ms, char **wire, size_t *len, kh_problems *p);

#endif
