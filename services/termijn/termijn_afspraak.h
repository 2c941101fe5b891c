/*
 * termijn_afspraak — the terms regions agreed (not law), from
 * `termijnafspraken.csv` in the reference directory: per region (gemeente,
 * SWV or jeugdregio) and subject, a term in months, dated. Only
 * THUISZITTER_AANBOD is used now (the Alkmaar region's "binnen drie
 * maanden"). The agreement's wording and source stay in afspraken.csv
 * (kh_ref), which the toelichting quotes.
 *
 * Immutable after loading; the caller owns it (termijn_afspraken_free).
 */
#ifndef TERMIJN_AFSPRAAK_H
#define TERMIJN_AFSPRAAK_H

#include <stddef.h>
#include <stdint.h>

#define TERMIJN_AFSPRAAK_FILE "termijnafspraken.csv"

typedef struct termijn_afspraken termijn_afspraken;

/* Loads dir/termijnafspraken.csv; a missing file is no agreements (0).
 * Returns 0, or -1 with "file:line: problem" in err. */
int termijn_afspraken_load(const char *dir, termijn_afspraken **out, char *err, size_t errlen);
void termijn_afspraken_free(termijn_afspraken *a);

/* The agreed term in months of region `regio` on `onderwerp`, valid on
 * `date`; 0 when none (a may be NULL). */
int termijn_afspraak_maanden(const termijn_afspraken *a, const char *regio, const char *onderwerp,
                             int32_t date);

#endif
