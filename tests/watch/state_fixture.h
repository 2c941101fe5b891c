/*
 * state_fixture — termijn changelog records for the watch tests, made by
 * termijn's own encoder (termijn_state_encode), so a change of its layout
 * fails the watch tests that read them.
 */
#ifndef STATE_FIXTURE_H
#define STATE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* The record of a child with BSN bsn (geboortedatum 2015-05-17) living in
 * woon (a gemeente code), with one zorgplicht termijn at school 12AB00,
 * onderwijssoort PO, its first step fired and due at `due` (days since
 * 1970-01-01), the escalation 28 days later. The caller frees it; NULL
 * when out of memory. */
char *state_fixture_zorgplicht(const char *bsn, const char *woon, int32_t due, size_t *len);

#endif
