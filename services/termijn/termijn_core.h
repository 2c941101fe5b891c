/*
 * termijn_core — the decision core of ketenhub-termijn: per child
 * (pseudonym) a dossier of open termijnen (deadlines); an event opens,
 * closes or re-opens them, and the clock makes them fire and escalate.
 * No Kafka, no clock of its own: the caller passes "today" (the date in
 * Europe/Amsterdam, kh_kalender_amsterdam_date) so tests move time.
 *
 * The six regels, their due dates and recipients are in README.md
 * ("The regels"); this header is the contract, termijn_core.c the table.
 *
 * Ownership: a dossier owns its termijnen; meldingen written into a
 * termijn_uit are the caller's (plain structs, no pointers). Not
 * thread-safe per dossier.
 */
#ifndef TERMIJN_CORE_H
#define TERMIJN_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "kh_kalender.h"
#include "kh_ref.h"
#include "termijn_afspraak.h"

typedef enum termijn_regel {
    TERMIJN_ZORGPLICHT,            /* ZORGPLICHT_TERMIJN_VERSTREKEN */
    TERMIJN_DREIGENDE_THUISZITTER, /* DREIGENDE_THUISZITTER */
    TERMIJN_ZONDER_AANBOD,         /* THUISZITTER_ZONDER_AANBOD */
    TERMIJN_TLV_EINDE,             /* TLV_EINDDATUM_NADERT */
    TERMIJN_BESCHIKKING_EINDE,     /* BESCHIKKING_EINDDATUM_NADERT */
    TERMIJN_VERWIJZING,            /* VERWIJZING_ZONDER_BESLUIT */
    TERMIJN_REGELS
} termijn_regel;

/* The melding.avsc Regel symbol of a regel; its index from a symbol
 * (TERMIJN_REGELS when unknown). */
const char *termijn_regel_naam(termijn_regel r);
termijn_regel termijn_regel_by_naam(const char *naam);

typedef enum termijn_kind {
    TERMIJN_EV_AANMELDING,
    TERMIJN_EV_TLV,
    TERMIJN_EV_BESCHIKKING,
    TERMIJN_EV_VERWIJZING,
    TERMIJN_EV_KINDS
} termijn_kind;

#define TERMIJN_GEEN_DATUM INT32_MIN
#define TERMIJN_ID_LEN 65   /* aanmelding_id & co: maxLength 64 */
#define TERMIJN_BRON_LEN 24 /* "AANBIEDER:12345678" */
#define TERMIJN_STAPPEN 2   /* a regel escalates at most once */

/* Where an event is on Kafka (the melding's oorzaak). */
typedef struct termijn_oorzaak {
    uint8_t kind; /* termijn_kind */
    int32_t partition;
    int64_t offset;
    char event_id[37];
    int64_t aangemaakt_op; /* envelope.received_at, else occurred_at */
} termijn_oorzaak;

/* The fields of one event that the regels read (filled by termijn_event
 * from a decoded record, or directly by tests). Absent strings are "". */
typedef struct termijn_event {
    termijn_kind kind;
    termijn_oorzaak oorzaak;
    char bron[TERMIJN_BRON_LEN]; /* "TYPE:CODE" */
    char bsn[10];
    int32_t geboortedatum;
    char woonplaats[7];
    char status[16];
    char id[TERMIJN_ID_LEN]; /* aanmelding_id, tlv_id, beschikking_id, verwijzing_id */
    int32_t datum;           /* the event's own date: datum, or ingangsdatum */
    int32_t handeling;       /* when the party acted: datum, or occurred_at (Amsterdam) */
    int32_t einddatum;       /* TERMIJN_GEEN_DATUM when absent */
    /* aanmelding */
    char soort[12], bij[9], onderwijssoort[4];
    int ondersteuningsbehoefte;
    int32_t informatie_opgevraagd; /* the zorgplicht pause; TERMIJN_GEEN_DATUM when absent */
    int32_t informatie_ontvangen;
    /* tlv */
    char swv[7], tlv_soort[4], aanvragende_school[9];
    /* beschikking */
    char gemeente[7], aanbieder[9], verwijzing_id[TERMIJN_ID_LEN];
    /* verwijzing */
    char verwijzer_type[32], naar_type[12], naar_code[9], domein[32];
    char verantwoordelijke[7]; /* beschikking, verwijzing: verantwoordelijke_gemeente.gemeente */
} termijn_event;

/* One open termijn. */
typedef struct termijn {
    uint8_t regel;               /* termijn_regel */
    uint8_t stappen;             /* 1 or 2 */
    uint8_t gevuurd;             /* bit s: step s fired */
    char zaak[TERMIJN_ID_LEN];   /* the case: aanmelding_id, tlv_id, ... of the opening event */
    char bron[TERMIJN_BRON_LEN]; /* the opening event's bron: with zaak, the case identity */
    int32_t geopend;             /* the date the term started */
    int32_t vervalt[TERMIJN_STAPPEN]; /* per step: the first day the melding is due */
    int32_t pauze_sinds;              /* zorgplicht: paused since (TERMIJN_GEEN_DATUM: running) */
    int32_t hervat_op;       /* zorgplicht: the last pause ended here (TERMIJN_GEEN_DATUM: none) */
    int32_t pauze_dagen;     /* zorgplicht: days paused so far, all pauses together */
    int32_t einddatum;       /* tlv, beschikking */
    int32_t bewaren_tot;     /* dropped from this date on, closed or not */
    char org[9], org2[9];    /* school/swv; swv/school; gemeente/aanbieder; aanbieder/verantw */
    char soort[4];           /* onderwijssoort or tlv soort */
    char status[16];         /* thuiszitter: AFGEWEZEN or INGETROKKEN */
    termijn_oorzaak oorzaak; /* the opening event */
} termijn;

/* A child's termijnen and what their meldingen need about the child. The
 * BSN is kept only while the dossier has an open termijn: an empty dossier
 * is deleted (termijn_dossier_leeg). */
typedef struct termijn_dossier {
    char bsn[10];
    int32_t geboortedatum;
    char woonplaats[7];
    int32_t woonplaats_op; /* the date (handeling) of the event that named it */
    char school[9];        /* the school of the latest GEPLAATST aanmelding ONDERWIJS */
    termijn *t;
    size_t n, cap;
} termijn_dossier;

/* The reference data the regels read; all must stay valid during a call. */
typedef struct termijn_ctx {
    const kh_ref *ref;
    const kh_kalender *kalender;
    const termijn_afspraken *afspraken;
} termijn_ctx;

#define TERMIJN_BETROKKENEN 6

typedef struct termijn_betrokkene {
    const char *rol;  /* melding.avsc Rol symbol (static) */
    const char *type; /* BetrokkeneType symbol (static) */
    char code[9];
    char naam[128];
    char opvolger_van[9]; /* "" or the dissolved gemeente code the dossier named */
} termijn_betrokkene;

/* One melding, ready to encode. */
typedef struct termijn_melding {
    termijn_regel regel;
    int stap; /* 0: the term passed; 1: the escalation */
    char zaak[TERMIJN_ID_LEN];
    char melding_id[37];
    char achterhaalt[37];       /* "" or the id of the melding this one withdraws */
    const char *ontvanger_type; /* OrganisatieType symbol (static) */
    char ontvanger_code[9];
    termijn_oorzaak oorzaak;
    termijn_betrokkene betrokkenen[TERMIJN_BETROKKENEN];
    size_t nbetrokkenen;
    int32_t peildatum; /* the reference date: the due date */
    int32_t geopend, vervaldatum;
    char bsn[10];
    int32_t geboortedatum;
    char toelichting[1024];
    int64_t aangemaakt_op;
} termijn_melding;

#define TERMIJN_UIT_MAX 64

/* The meldingen of one call. */
typedef struct termijn_uit {
    termijn_melding m[TERMIJN_UIT_MAX];
    size_t n;
    int gewijzigd; /* the dossier changed: write it to the changelog */
} termijn_uit;

/* Applies one event of the child to d (d may be empty: a new child). Late
 * events append achterhaald meldingen to out. Returns 0, or -1 when out of
 * memory (d unchanged in that case is not guaranteed: drop and restore). */
int termijn_apply(termijn_dossier *d, const termijn_event *ev, const termijn_ctx *ctx,
                  termijn_uit *out);

/* Fires every step due on `today` (vervalt <= today) and drops termijnen
 * past bewaren_tot. Appends meldingen to out (at most until it is full:
 * then it returns 1 and the caller calls again after handing them over).
 * Returns 0 when done. */
int termijn_tick(termijn_dossier *d, int32_t today, const termijn_ctx *ctx, termijn_uit *out);

/* The earliest date on which termijn_tick has work for d
 * (TERMIJN_GEEN_DATUM - 1 never happens: INT32_MAX when none). */
int32_t termijn_volgende(const termijn_dossier *d);

/* Zorgplicht pause while the school waits for the parents' information:
 * the term stops on `vanaf` (not before the day it started) and resumes on
 * `tot`; every unfired step due after the pause started gets the days
 * paused added to its last day, which then moves to a working day again
 * (Algemene termijnenwet art. 1). termijn_apply calls them for an
 * aanmelding with informatie_opgevraagd_op / informatie_ontvangen_op (and
 * withdraws meldingen the pause makes achterhaald); README.md, "The
 * pause". Return 0, or -1 when d has no open zorgplicht termijn for
 * aanmelding_id, it is already paused (pauzeer) or not paused or `tot`
 * lies before the pause (hervat). */
int termijn_pauzeer(termijn_dossier *d, const char *aanmelding_id, int32_t vanaf);
int termijn_hervat(termijn_dossier *d, const char *aanmelding_id, int32_t tot,
                   const termijn_ctx *ctx);

/* 1 when d holds no termijn (then the caller deletes it, BSN and all). */
int termijn_dossier_leeg(const termijn_dossier *d);
void termijn_dossier_free(termijn_dossier *d);

/* Appends a copy of t (for restoring). Returns 0 or -1 (out of memory). */
int termijn_dossier_add(termijn_dossier *d, const termijn *t);

#endif
