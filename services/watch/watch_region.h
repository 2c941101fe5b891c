/*
 * watch_region — the regional monitoring of grensverkeer: cases per rule per
 * month per region pair (woonplaatsgemeente x schoolgemeente, SWV of the
 * woonplaats x SWV of the school or the issuing SWV, jeugdregio of the
 * woonplaats x jeugdregio of the aanbieder), filterable by jeugdregio and
 * SWV, as JSON and CSV.
 *
 * A case is one cause event under one rule: route writes one melding per
 * recipient, so the meldingen of a case are counted once (a bounded set of
 * recently seen causes, two generations of `dedupe` entries each).
 *
 * Disclosure control (the policy: no child identifiable, no league tables):
 *   - every published number, cell or total, is rounded down to a multiple
 *     of 5, and a count of 1 to 4 reads "< 5";
 *   - a total is the rounded true total of its rows, never the sum of the
 *     shown cells, so subtracting shown cells from a total leaves an
 *     interval of at least 5 values that includes every value 1-4 (see
 *     test_watch_region: no combination of a total and its cells narrows a
 *     "< 5" cell down);
 *   - rows are ordered by rule, month and codes, never by count.
 * Pure and unsynchronised.
 */
#ifndef WATCH_REGION_H
#define WATCH_REGION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum watch_paar {
    WATCH_PAAR_GEMEENTE,
    WATCH_PAAR_SWV,
    WATCH_PAAR_JEUGDREGIO,
    WATCH_PAAR_COUNT
} watch_paar;

#define WATCH_REGION_TAGS 6

/* One case, as watch_record makes it from a melding. Strings are borrowed
 * for the call. a[k]/b[k] NULL: the melding has no pair of that kind. */
typedef struct watch_case {
    const char *cause; /* bron + event id of the cause, for counting it once */
    const char *regel;
    int32_t peildatum; /* days since the epoch: the month counted */
    const char *a[WATCH_PAAR_COUNT], *b[WATCH_PAAR_COUNT];
    const char *jeugdregio[WATCH_REGION_TAGS]; /* regions involved, for filters */
    const char *swv[WATCH_REGION_TAGS];
} watch_case;

typedef struct watch_region watch_region;

/* At most max_rows rows; past that a new row is not made (counted in
 * watch_region_dropped). */
watch_region *watch_region_new(size_t max_rows, size_t dedupe);
void watch_region_free(watch_region *r);

/* Counts the case in every pair it has. Returns 1 when counted, 0 when its
 * cause was seen already. */
int watch_region_add(watch_region *r, const watch_case *c);

/* Cases that found no room. */
uint64_t watch_region_dropped(const watch_region *r);

/* "gemeente", "swv", "jeugdregio"; watch_paar_parse returns -1 if unknown. */
const char *watch_paar_name(watch_paar p);
int watch_paar_parse(const char *name);

/* A published count: "< 5" for 1-4, else the count rounded down to a
 * multiple of 5; buf >= 24 bytes. Returns buf. */
const char *watch_region_shown(int64_t n, char *buf);

/* The same count as a number, for a gauge: rounded down to a multiple of
 * 5, so 1-4 read 0 (a gauge has no "< 5"; the README says so). */
int64_t watch_region_rounded(int64_t n);

/* The table of pair kind p with rows whose regions include jeugdregio and
 * swv (either NULL: no filter):
 *   {"paar", "afronding", "groepen": [{"regel", "maand", "totaal",
 *     "rijen": [{"a", "b", "aantal"}]}]}
 * Caller owns the result. */
json_t *watch_region_table(const watch_region *r, watch_paar p, const char *jeugdregio,
                           const char *swv);

/* The same table as CSV (header line regel,maand,paar,a,b,aantal; a row per
 * cell, then one row per group with a = "totaal" and b empty). Caller frees. */
char *watch_region_csv(const watch_region *r, watch_paar p, const char *jeugdregio,
                       const char *swv);

#endif
