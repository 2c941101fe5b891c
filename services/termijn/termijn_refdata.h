/*
 * termijn_refdata — the reference data termijn's regels read, as one
 * termijn_ctx: the kh_ref (organisations, through kh_refstore, the holder
 * route and ingest reload on SIGHUP too), the feestdagen (kh_kalender) and
 * the agreed terms (termijn_afspraken), all from one directory.
 *
 * A reload is all or nothing: the three are loaded off to the side, and
 * only when every one loads is the context switched over; otherwise the
 * old data stay in use and the error says which file failed. Termijnen
 * already open keep the due dates computed when they opened.
 *
 * Not thread-safe: the loop that reads the context also reloads it.
 */
#ifndef TERMIJN_REFDATA_H
#define TERMIJN_REFDATA_H

#include <stddef.h>

#include "termijn_core.h"

typedef struct termijn_refdata termijn_refdata;

/* Loads dir; NULL with err filled when any file fails. */
termijn_refdata *termijn_refdata_open(const char *dir, char *err, size_t errlen);

/* The current context; the pointer stays the same across reloads, its
 * contents change. Valid until termijn_refdata_close. */
const termijn_ctx *termijn_refdata_ctx(const termijn_refdata *r);

/* Loads the directory again. Returns 0 (switched over) or -1 (err filled,
 * the old data stay). */
int termijn_refdata_reload(termijn_refdata *r, char *err, size_t errlen);

void termijn_refdata_close(termijn_refdata *r);

#endif
