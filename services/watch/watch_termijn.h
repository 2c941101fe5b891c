/*
 * watch_termijn — open and overdue termijnen per regel and region, from
 * ketenhub-termijn's compacted state topic (ketenhub.termijn.state.v1; the
 * layout is services/termijn/termijn_state.h, version 1).
 *
 * Fed with the topic's records in order, it keeps per child only what the
 * view needs: a 64-bit hash of the record key (the pseudonym), one small
 * index into a table of region triples (jeugdregio, SWV PO, SWV VO of the
 * woonplaats, looked up in the reference data at the record's date), and
 * per termijn its regel, its onderwijssector, whether it is paused and its
 * first due date. Never the BSN, birth date, school, case ids or any text.
 * A tombstone (empty value), or a dossier without termijnen, removes the
 * child. Memory: 24 bytes per slot of an open-addressing table kept at most
 * 3/4 full, plus 8 bytes per termijn beyond a child's first (README.md has
 * the measured bytes per child); at most max_children children (past that
 * a new child is counted in `vol`, not kept).
 *
 * Read tolerantly: unknown keys are ignored. A record that is not JSON, has
 * a "v" other than 1, or lacks the fields read ("t" an array of objects
 * with a string "r" and an integer first "v"), or has no key, is counted
 * (json, versie, vorm) and removes the child's earlier state, since what it is now is
 * unknown; a termijn with a regel this watch does not know is counted
 * (onbekende_regel) and skipped. Nothing is fatal.
 *
 * "Overdue" (verlopen) is decided when the view is made, against `today`
 * (the date in Europe/Amsterdam): a termijn is overdue from its first due
 * date on ("v"[0], termijn's first day the melding goes out, the day after
 * the term's last day) unless it is paused ("p" before that date: a pause
 * begun later holds back only termijn's later step). So a termijn becomes
 * overdue at midnight without any record arriving.
 *
 * The view uses watch_region's disclosure rule (watch_region_shown): every
 * number rounded down to a multiple of 5, 1-4 as "< 5"; a regel's total is
 * the rounded true total of its rows; rows ordered by regel and code.
 * Pure and unsynchronised (watch_model holds the lock).
 */
#ifndef WATCH_TERMIJN_H
#define WATCH_TERMIJN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_ref.h"

#define WATCH_TERMIJN_TOPIC "ketenhub.termijn.state.v1"

/* The rows of the view: the woonplaats's jeugdregio, or the woonplaats's
 * SWV of the termijn's onderwijssector ("-" for a termijn without one: the
 * jeugdhulp regels, MBO). A woonplaats not in the reference data is
 * "onbekend". */
typedef enum watch_indeling {
    WATCH_INDELING_JEUGDREGIO,
    WATCH_INDELING_SWV,
    WATCH_INDELING_COUNT
} watch_indeling;

/* "jeugdregio", "swv"; watch_indeling_parse returns -1 if unknown. */
const char *watch_indeling_name(watch_indeling i);
int watch_indeling_parse(const char *name);

/* The regels watch knows, in display order: melding.avsc Regel symbols and
 * a short Dutch description. */
#define WATCH_TERMIJN_REGELS 6
const char *watch_termijn_regel(int r);
const char *watch_termijn_omschrijving(int r);

/* Records that could not be used, by reason (see the top comment). */
typedef struct watch_termijn_telling {
    uint64_t json, versie, vorm, onbekende_regel, vol;
    uint64_t kinderen, termijnen; /* kept now */
} watch_termijn_telling;

typedef struct watch_termijn watch_termijn;

watch_termijn *watch_termijn_new(size_t max_children);
void watch_termijn_free(watch_termijn *w);

/* One record of the state topic. key: the pseudonym (klen bytes); value
 * NULL or len 0: a tombstone. ref (may be NULL: every region "onbekend")
 * and date (days since the epoch, the record's date) resolve the
 * woonplaats's regions. Returns 0 when used, -1 when counted as unusable. */
int watch_termijn_record(watch_termijn *w, const void *key, size_t klen, const void *value,
                         size_t len, const kh_ref *ref, int32_t date);

void watch_termijn_tellingen(const watch_termijn *w, watch_termijn_telling *out);

/* Bytes held (the table, the termijnen beyond the first, the regions). */
size_t watch_termijn_bytes(const watch_termijn *w);

/* True national counts per regel at today (index as watch_termijn_regel):
 * for the metrics, which round them themselves. */
void watch_termijn_totalen(const watch_termijn *w, int32_t today,
                           int64_t open[WATCH_TERMIJN_REGELS],
                           int64_t verlopen[WATCH_TERMIJN_REGELS]);

/* The table at today of children whose woonplaats lies in jeugdregio and
 * in swv (PO or VO; either NULL: no filter):
 *   {"peildatum", "indeling", "afronding", "regels": [{"regel",
 *    "omschrijving", "open", "verlopen", "rijen": [{"regio", "open",
 *    "verlopen"}]}], "niet_gelezen": {"json", "versie", "vorm",
 *    "onbekende_regel", "vol"}}
 * Every regel is listed, also without rows. Caller owns the result. */
json_t *watch_termijn_table(const watch_termijn *w, watch_indeling ind, const char *jeugdregio,
                            const char *swv, int32_t today);

/* The same as CSV: header regel,indeling,regio,open,verlopen; a row per
 * cell, then per regel one row with regio "totaal". Caller frees. */
char *watch_termijn_csv(const watch_termijn *w, watch_indeling ind, const char *jeugdregio,
                        const char *swv, int32_t today);

#endif
