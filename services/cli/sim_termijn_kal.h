/*
 * sim_termijn_kal — the simulator's own calendar for sim_termijn: working
 * days (no Saturday, Sunday or feestdag of feestdagen.csv), calendar months,
 * the date in Europe/Amsterdam, and the regions' agreed terms from
 * termijnafspraken.csv. Written from the README's of deploy/reference and
 * services/termijn, independent of kh_kalender and termijn_afspraak.
 *
 * A sim_kal is immutable after loading; the caller owns it. Day numbers
 * are days since 1970-01-01 (kh_time.h).
 */
#ifndef SIM_TERMIJN_KAL_H
#define SIM_TERMIJN_KAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_kal sim_kal;

/* Reads dir/feestdagen.csv (required) and dir/termijnafspraken.csv
 * (optional). NULL with err filled on a missing or unreadable file. */
sim_kal *sim_kal_load(const char *dir, char *err, size_t errlen);
void sim_kal_free(sim_kal *k);

int sim_kal_werkdag(const sim_kal *k, int32_t day);
/* The n-th working day after day. */
int32_t sim_kal_werkdagen_na(const sim_kal *k, int32_t day, int n);
/* day itself when it is a working day, else the next working day. */
int32_t sim_kal_werkdag_vanaf(const sim_kal *k, int32_t day);

/* day plus months (negative: minus), the day of month cut to the month's
 * length (31 May - 3 months = 28/29 February). */
int32_t sim_kal_plus_maanden(int32_t day, int months);

/* The date in Europe/Amsterdam of a UTC instant in milliseconds (CET,
 * CEST from the last Sunday of March to the last Sunday of October, 01:00 UTC). */
int32_t sim_kal_amsterdam(int64_t millis);

/* The agreed term in months of region `regio` on `onderwerp` valid on date; 0: none. */
int sim_kal_afspraak(const sim_kal *k, const char *regio, const char *onderwerp, int32_t date);

#endif
