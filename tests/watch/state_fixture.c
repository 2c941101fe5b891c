/*
 * state_fixture — termijn changelog records for the watch tests.
 */
#include "state_fixture.h"

#include "termijn_state.h"

#include <stdio.h>

char *state_fixture_zorgplicht(const char *bsn, const char *woon, int32_t due, size_t *len) {
    termijn t = {.regel = TERMIJN_ZORGPLICHT,
                 .stappen = 2,
                 .gevuurd = 1,
                 .zaak = "zaak-1",
                 .bron = "SCHOOL:12AB00",
                 .geopend = due - 42,
                 .vervalt = {due, due + 28},
                 .pauze_sinds = TERMIJN_GEEN_DATUM,
                 .hervat_op = TERMIJN_GEEN_DATUM,
                 .einddatum = TERMIJN_GEEN_DATUM,
                 .bewaren_tot = due + 400,
                 .org = "12AB00",
                 .soort = "PO",
                 .oorzaak = {.kind = 0, .partition = 1, .event_id = "e", .aangemaakt_op = 1}};
    termijn_dossier d = {.geboortedatum = 16572, .school = "12AB00", .t = &t, .n = 1, .cap = 1};
    snprintf(d.bsn, sizeof d.bsn, "%s", bsn);
    snprintf(d.woonplaats, sizeof d.woonplaats, "%s", woon);
    return termijn_state_encode(&d, len);
}
