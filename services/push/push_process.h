/*
 * push_process — the decision step of ketenhub-push: who receives one
 * record read from Kafka. It decodes the record and says either who gets
 * it (the recipients, "TYPE:CODE"), or that nobody can be given it and
 * why (a poison record, dead-lettered by the loop). No Kafka in sight but
 * the retry record's headers (a plain list), so test_push_units runs it
 * as a table.
 *
 *   melding topic    a melding, to its ontvanger (whether or not that
 *                    partner has a subscription: the loop records
 *                    NO_SUBSCRIPTION for it)
 *   raw event topic  an event of the topic's type, to each of its
 *                    addressees (kh_event) whose subscription asks for
 *                    that type; to nobody else
 *   retry topic      a melding or raw event with retry headers (kh_retry),
 *                    to the partner they name, which must be an addressee
 *                    of the record: the retry topic is not trusted
 *
 * Thread-safe on distinct decisions; subscriptions and schemas are read
 * only.
 */
#ifndef PUSH_PROCESS_H
#define PUSH_PROCESS_H

#include "kh_deadletter.h"
#include "kh_event.h"
#include "kh_retry.h"
#include "kh_schema.h"
#include "push_named.h"
#include "push_subs.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef enum push_source { PUSH_FROM_MELDING, PUSH_FROM_EVENT, PUSH_FROM_RETRY } push_source;

typedef struct push_record {
    push_source source;
    const kh_event_type *event_type; /* PUSH_FROM_EVENT: the type its topic carries */
    const void *payload;
    size_t len;
    const rd_kafka_headers_t *headers; /* PUSH_FROM_RETRY: the record's headers, may be NULL */
} push_record;

/* The namespace of raw events' webhook-ids: UUID v5 of "TYPE:CODE|event_id"
 * (bron and event_id) in it. Itself the v5 UUID of the URL
 * https://ketenhub.nl/push/event in RFC 4122's URL namespace; fixed for ever. */
#define PUSH_EVENT_ID_NAMESPACE "4fb15c45-d49b-58ff-af92-7f9ad9b9a5c3"

typedef struct push_decision {
    int poison; /* nobody can be given the record: reason and why say why */
    kh_dl_reason reason;
    char why[256]; /* never payload content */
    char id[40];   /* webhook-id: the melding_id, or a raw event's derived id */
    char what[48]; /* a melding's regel, or a raw event's type */
    int is_event;
    char *body;            /* natural JSON text, as sent and signed; owned */
    kh_retry retry;        /* PUSH_FROM_RETRY: what the headers say */
    const void *retry_key; /* its original key, pointing into the headers; NULL if none */
    size_t retry_keylen;
    size_t n; /* recipients */
    char to[PUSH_NAMED_MAX][PUSH_ORG_LEN];
} push_decision;

/* Decides about r into d (which push_decision_clear releases). */
void push_process(const kh_schemas *schemas, const push_subs *subs, const push_record *r,
                  push_decision *d);

void push_decision_clear(push_decision *d);

#endif
