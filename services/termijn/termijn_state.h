/*
 * termijn_state — a child's dossier as a changelog record value: compact
 * JSON (dates as day numbers), one record per child keyed by its
 * pseudonym; an empty dossier is a tombstone (no value), so compaction
 * forgets the child and its BSN. The layout, version 1:
 *
 *   {"v":1,"bsn":"…","geb":day,"woon":"GM…","wo":day,"school":"…",
 *    "t":[{"r":"REGEL","z":zaak,"b":bron,"g":geopend,"v":[due,due],"n":steps,
 *          "f":fired-mask,"p":paused-since|null,"e":einddatum|null,"k":keep-until,
 *          "o":org,"o2":org2,"s":soort,"st":status,
 *          "c":[kind,partition,offset,"event_id",aangemaakt_op],
 *          "pd":days-paused,"h":resumed-on}]}
 *
 * "wo" (the date of the event that named the woonplaats) may be absent in
 * records written before it was kept. "pd" and "h" (the zorgplicht pause,
 * added with aanmelding 1013) are optional: written only after a pause,
 * absent reads as 0 and none. A release before them refuses a dossier that
 * has them (strict layout).
 */
#ifndef TERMIJN_STATE_H
#define TERMIJN_STATE_H

#include <stddef.h>

#include "termijn_core.h"

/* The value of d (the caller frees it); NULL when out of memory. */
char *termijn_state_encode(const termijn_dossier *d, size_t *len);

/* Fills d (empty on entry) from a value. Returns 0, or -1 with err saying
 * what is wrong (never a value of the record). */
int termijn_state_decode(const void *value, size_t len, termijn_dossier *d, char *err,
                         size_t errlen);

#endif
