/*
 * route_cases — the table of grensverkeer cases the route tests (and the
 * route benchmark) share: an event described in a few codes, and the
 * meldingen it must give, written by hand from DESIGN.md and the reference
 * data in deploy/reference/. The expected meldingen are this table's
 * answer, never the router's: melding ids are derived here with a separate
 * implementation of the UUID rule (route_case_melding_id).
 */
#ifndef ROUTE_CASES_H
#define ROUTE_CASES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTE_CASE_MAX_WANT 8

typedef struct route_expect {
    const char *regel;
    const char *ontvanger;      /* "TYPE:CODE" */
    const char *texts[5];       /* substrings of its toelichting */
    const char *betrokkenen[5]; /* "ROL TYPE CODE", or "... CODE<OLD" for opvolger_van OLD */
} route_expect;

typedef struct route_case {
    const char *name;
    const char *event;  /* aanmelding | tlv | beschikking | verwijzing */
    const char *datum;  /* the event's own date, YYYY-MM-DD */
    const char *woon;   /* jeugdige.woonplaatsgemeente */
    const char *status; /* NULL for a verwijzing */
    /* aanmelding: the school (ONDERWIJS) or aanbieder (JEUGDHULP); tlv: swv;
     * beschikking: gemeente; verwijzing: the referring gemeente (bron) */
    const char *org;
    /* aanmelding: vestigingsgemeente; tlv: aanvragende school;
     * beschikking: aanbieder; verwijzing: naar code */
    const char *org2;
    /* aanmelding: onderwijssoort (NULL: JEUGDHULP); tlv: soort;
     * verwijzing: naar type (AANBIEDER or SWV) */
    const char *soort;
    const char *school; /* beschikking: zorg in onderwijstijd at this school */
    const char *poison; /* expected dead-letter reason; NULL for a good event */
    route_expect want[ROUTE_CASE_MAX_WANT];
    /* Optional, after want (designated initialisers): */
    const char *geboren;   /* jeugdige.geboortedatum; NULL: 2010-05-17 */
    const char *categorie; /* beschikking product.categorie; NULL: 45 */
    const char *verantw;   /* verantwoordelijke_gemeente.gemeente; NULL: absent */
    const char *reden;     /* its reden; NULL: BRP */
    const char *verwijzer; /* verwijzing verwijzer.type; NULL: GEMEENTE */
    int eerste;            /* tlv eerste_inschrijving: 1 true, -1 false, 0 absent */
    int variant;           /* which row of a regel with several rows fires (1 = first) */
} route_case;

extern const route_case route_cases[];
extern const size_t route_case_count;

/* The event of case c in natural JSON, with this event_id and child (a
 * valid BSN); received_at is the event date at 09:00:05Z. The caller owns
 * the result. */
json_t *route_case_event(const route_case *c, const char *event_id, const char *bsn);

/* A deterministic UUID (version 4 layout) for the n-th generated event. */
void route_case_event_id(uint64_t n, char out[37]);

/* How many meldingen case c gives. */
size_t route_case_want_count(const route_case *c);

/* The bron ("TYPE:CODE") of case c's events. */
const char *route_case_bron(const route_case *c, char out[32]);

/* The melding_id the router must give: version-5 UUID of bron | event_id |
 * regel | ontvanger in the ketenhub namespace, computed here with OpenSSL's
 * SHA1() independently of services/route/route_id.c. */
void route_case_melding_id(const char *bron, const char *event_id, const char *regel,
                           const char *ontvanger, char out[37]);

#endif
