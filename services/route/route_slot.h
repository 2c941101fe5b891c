/*
 * route_slot — the vocabulary the rules are written in: the slots (the
 * organisations, regions and words a rule can name), what each slot is in
 * melding.avsc, the party that fills a slot for one event, and the rule
 * record itself. route_rules (the table and its evaluation), route_facts
 * (filling the slots) and route_text (the toelichting) all build on this
 * header and on no one else's, so none of them includes another.
 *
 * Pure data; thread-safe.
 */
#ifndef ROUTE_SLOT_H
#define ROUTE_SLOT_H

#include <stdint.h>

#include "route_event.h"

/* The organisations, regions and words a rule can name. */
typedef enum route_slot {
    ROUTE_NONE,              /* terminates slot lists */
    ROUTE_WOON,              /* the woonplaatsgemeente */
    ROUTE_SCHOOLGEMEENTE,    /* the gemeente of the school */
    ROUTE_BESCHIKKER,        /* the gemeente that issued a beschikking */
    ROUTE_SWV_WOON,          /* the woonplaatsgemeente's SWV for the sector */
    ROUTE_SWV_SCHOOL,        /* the school gemeente's SWV for the sector */
    ROUTE_SWV_AFGEVER,       /* the SWV that issued a TLV */
    ROUTE_AANBIEDER,         /* the youth-care provider */
    ROUTE_JZ_WOON,           /* the woonplaatsgemeente's jeugdregio */
    ROUTE_JZ_AANBIEDER,      /* the jeugdregio of the provider's gemeente */
    ROUTE_SCHOOL,            /* the school location (text only) */
    ROUTE_AANBIEDERGEMEENTE, /* the provider's vestigingsgemeente (text only) */
    ROUTE_SECTOR,            /* PO / VO, "primair onderwijs" (text only) */
    ROUTE_SOORT,             /* TLV soort, "speciaal onderwijs" (text only) */
    ROUTE_STATUS,            /* "toegekend", "gewijzigd" (text only) */
    ROUTE_VERANTWOORDELIJK,  /* the verantwoordelijke gemeente (woonplaatsbeginsel); see
                                route_facts.c */
    ROUTE_VERBLIJFGEMEENTE,  /* where a child in verblijf stays: the provider's gemeente */
    ROUTE_SWV_VERBLIJF_PO,   /* the verblijfgemeente's SWV PO */
    ROUTE_SWV_VERBLIJF_VO,   /* the verblijfgemeente's SWV VO */
    ROUTE_RMC,               /* the RMC contactgemeente of the woonplaats's RMC region */
    ROUTE_RMC_REGIO,         /* that RMC region (text only) */
    ROUTE_REDEN,             /* the ground of the verantwoordelijke gemeente (text only) */
    ROUTE_PLICHT,            /* "leerplichtige" / "kwalificatieplichtige" (text only) */
    ROUTE_LEEFTIJD,          /* the age in years at the event date (text only) */
    ROUTE_DATUM,             /* the event date, "2 maart 2026" (text only) */
    ROUTE_VERWIJZER,         /* "De huisarts", ... (text only) */
    ROUTE_SLOTS
} route_slot;

/* Facts about the event itself, besides the parties: a rule may require
 * or forbid them (route_rule.require / forbid). Filled by route_facts.c. */
enum route_fact {
    ROUTE_F_VERANTW_GEGEVEN = 1 << 0, /* the event names a verantwoordelijke_gemeente */
    ROUTE_F_VERBLIJF = 1 << 1,        /* a beschikking of a verblijf productcategorie */
    ROUTE_F_LEERPLICHTIG = 1 << 2,    /* leer- or kwalificatieplichtig at the event date */
    ROUTE_F_RMC_LEEFTIJD = 1 << 3,    /* 18 up to the 23rd birthday at the event date */
    ROUTE_F_SPECIAAL = 1 << 4,        /* an aanmelding for SBO, SO or VSO */
    ROUTE_F_EERSTE = 1 << 5,          /* a TLV for a first enrolment */
    ROUTE_F_WETTELIJK =
        1 << 6,          /* verwijzing JEUGDHULP by huisarts, jeugdarts, medisch specialist */
    ROUTE_F_GI = 1 << 7, /* verwijzing JEUGDHULP by a gecertificeerde instelling */
    ROUTE_F_ONDERWIJS = 1 << 8, /* an aanmelding ONDERWIJS */
};

#define ROUTE_MAX_RECIPIENTS 5
#define ROUTE_MAX_BETROKKENEN 6
#define ROUTE_TOELICHTING_CHARS 1024 /* melding.avsc maxLength, in characters */

/* One row of the rule table. A regel may have several rows (variants, for
 * other event types or other facts), always next to each other; the first
 * row of a regel that fires gives its meldingen and the others are skipped. */
typedef struct route_rule {
    const char *regel; /* the Regel symbol of melding.avsc */
    route_kind event;
    const char *statuses; /* comma-separated statuses that trigger it; NULL: any */
    unsigned require;     /* route_fact bits that must all be set */
    unsigned forbid;      /* route_fact bits that must all be clear */
    /* fires when both are known and their codes differ; {ROUTE_NONE,
     * ROUTE_NONE}: no comparison */
    route_slot differ[2];
    route_slot ontvangers[ROUTE_MAX_RECIPIENTS];   /* ROUTE_NONE-terminated when shorter */
    route_slot betrokkenen[ROUTE_MAX_BETROKKENEN]; /* likewise */
    /* The subject of a regional agreement (afspraken.csv ONDERWERP) the
     * toelichting quotes when the recipients' region registered one; NULL:
     * none. */
    const char *afspraak;
    const char *toelichting; /* template, see route_text.h */
} route_rule;

/* What a slot is: its melding.avsc Betrokkene rol (NULL: never a
 * betrokkene), its type (BetrokkeneType, which for a recipient is also the
 * OrganisatieType; NULL for words) and its placeholder name in templates. */
typedef struct route_slot_info {
    const char *name;
    const char *rol;
    const char *type;
} route_slot_info;
const route_slot_info *route_slot_describe(route_slot s);

/* A filled slot. */
typedef struct route_party {
    int known;
    char code[16];
    char naam[160];
    /* A herindeling: the event named old_code, dissolved on merged_on into
     * this party; old_code is "" otherwise. */
    char old_code[8];
    char old_naam[64];
    int32_t merged_on;
} route_party;

#endif
