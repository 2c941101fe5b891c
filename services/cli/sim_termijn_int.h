/*
 * sim_termijn_int — what the parts of sim_termijn share: the compact event,
 * a termijn, a child's dossier, the regels (sim_termijn_regels.c) and the
 * recipients (sim_termijn_ontvangers.c). Not a public interface.
 */
#ifndef SIM_TERMIJN_INT_H
#define SIM_TERMIJN_INT_H

#include "sim_termijn.h"
#include "sim_termijn_kal.h"

enum { TJ_ZORGPLICHT, TJ_THUISZITTER, TJ_ZONDER_AANBOD, TJ_TLV, TJ_BESCHIKKING, TJ_VERWIJZING };
enum { TJ_AANMELDING, TJ_TLV_EV, TJ_BESCHIKKING_EV, TJ_VERWIJZING_EV };

#define TJ_GEEN INT32_MIN /* no date */
#define TJ_ONTVANGERS 6

/* What the regels read of one event. Absent strings are "". */
typedef struct tj_event {
    int kind;
    size_t seq; /* the order in which it was added */
    char bsn[10], woon[7];
    int32_t geboren;
    char bron[24], status[16], id[65];
    int32_t datum, handeling, ingang, einde; /* einde TJ_GEEN when absent */
    /* aanmelding */
    char soort[12], bij[9], onderwijssoort[4];
    int steun;
    /* tlv */
    char swv[7], tlv_soort[4], aanvragende[9];
    /* beschikking */
    char gemeente[7], aanbieder[9], verwijzing_id[65];
    /* verwijzing */
    char verwijzer[32], naar_type[12], naar[9], domein[32], verantw[7];
} tj_event;

typedef struct tj_termijn {
    int regel, stappen;
    uint8_t gevuurd; /* bit s: step s fired */
    char bron[24], zaak[65];
    int32_t geopend, vervalt[2], bewaren, einde, ingang;
    char org[9], org2[9], soort[4]; /* per regel, see tj_open_* */
} tj_termijn;

typedef struct tj_dossier {
    char woon[7], school[9];
    int32_t geboren;
    tj_termijn *t;
    size_t n, cap;
} tj_dossier;

struct sim_termijn {
    const kh_ref *ref;
    sim_kal *kal;
    tj_event *ev;
    size_t n, cap;
};

/* An empty dossier is forgotten: the child's facts and school with it. */
void tj_vergeet(tj_dossier *d);

/* Applies ev to the child's dossier d (opens, closes, replaces termijnen). */
void tj_apply(const sim_termijn *st, tj_dossier *d, const tj_event *ev);

/* The recipients ("TYPE:CODE", distinct) of step s of t; returns how many. */
size_t tj_ontvangers(const sim_termijn *st, const tj_dossier *d, const tj_termijn *t, int s,
                     char out[TJ_ONTVANGERS][24]);

/* "PO" or "VO" for an onderwijssoort or tlv soort; NULL for MBO or unknown. */
const char *tj_sector(const char *soort);

#endif
