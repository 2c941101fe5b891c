/*
 * kh_ref — dated reference data: gemeenten, schools, aanbieders, SWV's,
 * RMC contactgemeenten and the regions' own agreements (afspraken).
 *
 * Every fact has a validity period [valid_from, valid_to) in Avro day
 * numbers (see kh_time.h), so a herindeling on 1 January changes answers
 * from that date on while lookups for older dates keep the old map.
 *
 * Loaded from a directory of CSV files in the CBS "Gebieden in Nederland"
 * and DUO layouts (the README under deploy/reference/ documents each file).
 * A loaded kh_ref is immutable and may be read from any number of threads.
 * Reloading without a restart goes through kh_refstore: readers acquire the
 * current snapshot, a reload swaps in a new one, and the old one is freed
 * when its last reader releases it.
 *
 * Returned pointers into a kh_ref stay valid as long as the kh_ref does.
 */
#ifndef KH_REF_H
#define KH_REF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define KH_REF_FOREVER INT32_MAX /* valid_to of a fact with no end date */

typedef struct kh_ref kh_ref;

typedef struct kh_ref_gemeente {
    char code[7];             /* GM0599 */
    char naam[64];            /* Rotterdam */
    char jeugdregio[5];       /* JZ29 */
    char jeugdregio_naam[64]; /* Rijnmond */
    char swv_po[7];           /* PO2801, the SWV PO the gemeente belongs to */
    char swv_vo[7];           /* VO2801 */
    char rmc[6];              /* RMC regio code, e.g. RMC32 */
    char rmc_naam[64];
    int32_t valid_from, valid_to;
} kh_ref_gemeente;

typedef struct kh_ref_school {
    char code[7]; /* BRIN + vestiging: 12AB00 */
    char naam[96];
    char gemeente[7]; /* the gemeente the location lies in */
    char soorten[32]; /* onderwijssoorten offered, comma-separated: "PO" or "VO,PRO" */
    /* 1 or 2: an instelling for cluster 1 (visual) or cluster 2 (auditory,
     * communicative), outside the samenwerkingsverbanden; 0 otherwise. */
    int cluster;
    int32_t valid_from, valid_to;
} kh_ref_school;

typedef struct kh_ref_aanbieder {
    char code[9]; /* AGB code, 8 digits */
    char naam[96];
    char vestigingsgemeente[7];
    int32_t valid_from, valid_to;
} kh_ref_aanbieder;

typedef struct kh_ref_swv {
    char code[7]; /* PO2801 / VO2801 */
    char naam[128];
    char sector[3]; /* "PO" or "VO" */
    int32_t valid_from, valid_to;
} kh_ref_swv;

/* An RMC region's contactgemeente (regionale meld- en coördinatiefunctie
 * voortijdig schoolverlaten), which coordinates reporting for the region. */
typedef struct kh_ref_rmc {
    char code[6]; /* RMC32 */
    char naam[64];
    char contactgemeente[7]; /* GM0599 */
    int32_t valid_from, valid_to;
} kh_ref_rmc;

/* A region's own agreement on a subject, quoted from its source document.
 * Not law: a toelichting quotes it only when status is "AFSPRAAK" (an
 * "ADVIES" is registered so that it is known, and never quoted). */
typedef struct kh_ref_afspraak {
    char regio[7];        /* the region it holds for: JZ06, PO2801 / VO2801 or GM0599 */
    char onderwerp[32];   /* HULP_OP_SCHOOL, WOONPLAATSBEGINSEL, THUISZITTER_AANBOD, ... */
    char status[9];       /* AFSPRAAK or ADVIES */
    char tekst[512];      /* the quote, verbatim */
    char bron_titel[256]; /* the document it is quoted from */
    char bron_datum[11];  /* YYYY-MM-DD, or "" when the document carries no date */
    int32_t valid_from, valid_to;
} kh_ref_afspraak;

/* Loads every reference file in dir. Returns 0, or -1 with a message in err
 * naming the file, line and problem. The caller owns *out (kh_ref_free). */
int kh_ref_load(const char *dir, kh_ref **out, char *err, size_t errlen);
void kh_ref_free(kh_ref *ref);

/* The fact valid on `date`, or NULL when the code is unknown at that date. */
const kh_ref_gemeente *kh_ref_gemeente_at(const kh_ref *ref, const char *code, int32_t date);
const kh_ref_school *kh_ref_school_at(const kh_ref *ref, const char *code, int32_t date);
const kh_ref_aanbieder *kh_ref_aanbieder_at(const kh_ref *ref, const char *code, int32_t date);
const kh_ref_swv *kh_ref_swv_at(const kh_ref *ref, const char *code, int32_t date);
const kh_ref_rmc *kh_ref_rmc_at(const kh_ref *ref, const char *code, int32_t date);

/* The agreement of region `regio` on `onderwerp` valid on `date`, or NULL.
 * A linear search: there are a handful of agreements per region. */
const kh_ref_afspraak *kh_ref_afspraak_at(const kh_ref *ref, const char *regio,
                                          const char *onderwerp, int32_t date);

/* Like kh_ref_gemeente_at, but a code that a herindeling dissolved before
 * `date` is followed to its successor (transitively). *merged_from is set to
 * the code asked for when a successor was used, and to NULL otherwise. */
const kh_ref_gemeente *kh_ref_gemeente_resolve(const kh_ref *ref, const char *code, int32_t date,
                                               const char **merged_from);

/* Counts of loaded facts, for logs and /metrics. */
size_t kh_ref_count_gemeenten(const kh_ref *ref);
size_t kh_ref_count_scholen(const kh_ref *ref);
size_t kh_ref_count_aanbieders(const kh_ref *ref);
size_t kh_ref_count_swvs(const kh_ref *ref);

/* The i-th fact (0 <= i < its count) in load order, every period of every
 * code, or NULL past the end: for tools that enumerate the data (the
 * simulator); check valid_from/valid_to for the date you need. */
const kh_ref_gemeente *kh_ref_gemeente_nth(const kh_ref *ref, size_t i);
const kh_ref_school *kh_ref_school_nth(const kh_ref *ref, size_t i);
const kh_ref_aanbieder *kh_ref_aanbieder_nth(const kh_ref *ref, size_t i);
const kh_ref_swv *kh_ref_swv_nth(const kh_ref *ref, size_t i);

/* What a snapshot holds: where it came from, the period its gebieden files
 * cover and how many facts of each kind it has. Gemeenten are known from
 * 1 January of first_year on; dates after 1 January of last_year use the
 * newest file, so an operator who sees last_year lag behind the calendar
 * knows a gebieden_YYYY.csv is due. */
typedef struct kh_ref_summary {
    const char *dir; /* points into the kh_ref */
    int first_year, last_year;
    size_t gemeenten, scholen, aanbieders, swvs, herindelingen, rmcs, afspraken;
} kh_ref_summary;

void kh_ref_summarize(const kh_ref *ref, kh_ref_summary *out);

/* The summary as a JSON object for kh_log's fields: {"reference_dir",
 * "gebieden_from" (first_year-01-01), "gebieden_years" ("2021-2026"),
 * "gemeenten", "scholen", "aanbieders", "swvs", "herindelingen", "rmcs", "afspraken"}. The
 * caller owns the reference. */
json_t *kh_ref_summary_json(const kh_ref *ref);

/* A reloadable holder of the current snapshot. */
typedef struct kh_refstore kh_refstore;

/* Loads dir once; returns NULL with err filled when that fails. Logs the
 * snapshot's summary ("reference data loaded"), so every service says at
 * start which data it routes and validates with. */
kh_refstore *kh_refstore_open(const char *dir, char *err, size_t errlen);
void kh_refstore_close(kh_refstore *store);

/* Loads dir again and swaps the snapshot in (logging its summary). On
 * failure the old snapshot stays current and -1 is returned with err
 * filled. */
int kh_refstore_reload(kh_refstore *store, char *err, size_t errlen);

/* The current snapshot, held until kh_refstore_release. Thread-safe. */
const kh_ref *kh_refstore_acquire(kh_refstore *store);
void kh_refstore_release(kh_refstore *store, const kh_ref *ref);

#endif
