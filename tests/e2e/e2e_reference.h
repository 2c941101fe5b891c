/*
 * e2e_reference — a herindeling written into a copy of the reference data
 * the way deploy/reference/README.md ("How to update", steps 1 and 2) tells
 * an operator to: the herindelingen.csv row, the dissolved code gone from
 * the yearly gebieden files from the merger's year on, its SWV memberships
 * ended the day before, its schools and providers moved to the successor.
 * Also a herindelingen.csv the loader refuses. Helpers fail the running
 * Check test on error.
 *
 * The herindeling: Castricum (GM0383) merges into Alkmaar (GM0361), which
 * keeps its code (as CBS lists a gemeente that absorbs another), on
 * 2025-01-01, the first day `ketenhub simulate` dates events on. Castricum's
 * children then live in Alkmaar's SWV's (PO2705/VO2705 instead of
 * PO2711/VO2710) and RMC region (25 instead of 27), and its schools and
 * providers lie in Alkmaar: other recipients, other rules.
 */
#ifndef E2E_REFERENCE_H
#define E2E_REFERENCE_H

#define E2E_OUD "GM0383"
#define E2E_NIEUW "GM0361"
#define E2E_MERGER_DATE "2025-01-01"

/* The text of dir/name (NUL-terminated; the caller frees it). */
char *e2e_reference_read(const char *dir, const char *name);

/* Replaces dir/name whole (write and rename: no reader sees half of it). */
void e2e_reference_write(const char *dir, const char *name, const char *text);

/* Writes the herindeling into dir; herindelingen is herindelingen.csv as it was. */
void e2e_herindeling_write(const char *dir, const char *herindelingen);

/* Writes a herindelingen.csv with a row whose successor is in no gebieden
 * file, which kh_ref_load refuses naming herindelingen.csv. */
void e2e_herindeling_write_bad(const char *dir, const char *herindelingen);

#endif
