/*
 * sim_world — the organisations the simulator can use: every gemeente,
 * school location, aanbieder and SWV of the reference data that exists for
 * the whole simulated period, with lookups for neighbours (same RMC region)
 * and for schools that teach an onderwijssoort.
 *
 * Attributes (gemeente, jeugdregio, SWV membership) are always read from
 * the kh_ref at the date asked for; the world holds only codes. The kh_ref
 * stays the caller's and must outlive the world. Not thread-safe.
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include "kh_ref.h"
#include "sim_rng.h"

#include <stddef.h>
#include <stdint.h>

typedef char sim_code[9];

typedef struct sim_world {
    const kh_ref *ref;
    int32_t from, to; /* every code in the lists is valid on [from, to] */
    sim_code *gemeenten, *scholen, *aanbieders, *swvs;
    size_t ngemeenten, nscholen, naanbieders, nswvs;
} sim_world;

/* Collects the codes valid on every day of [from, to]. Returns 0, or -1 with
 * err filled (no gemeente, school, aanbieder or SWV left). */
int sim_world_build(sim_world *w, const kh_ref *ref, int32_t from, int32_t to, char *err,
                    size_t errlen);
void sim_world_free(sim_world *w);

/* A gemeente near g on day (another one in g's RMC region), or with
 * probability `far` (or when there is none near) any other gemeente. */
const char *sim_world_other_gemeente(const sim_world *w, sim_rng *r, const char *g, int32_t day,
                                     double far);

/* A school on day whose gemeente is g (g NULL: any) and that teaches soort
 * (NULL: anything); NULL when there is none. */
const char *sim_world_school(const sim_world *w, sim_rng *r, const char *g, const char *soort,
                             int32_t day);

/* A school on day in a gemeente whose SWV for the sector is swv; NULL when none. */
const char *sim_world_school_of_swv(const sim_world *w, sim_rng *r, const char *swv,
                                    const char *soort, int32_t day);

/* An aanbieder on day established in g, else in g's jeugdregio (near), or
 * with probability `far` one elsewhere; never NULL. */
const char *sim_world_aanbieder(const sim_world *w, sim_rng *r, const char *g, int32_t day,
                                double far);

/* An SWV of sector ("PO" or "VO") other than not_this; NULL when none. */
const char *sim_world_other_swv(const sim_world *w, sim_rng *r, const char *sector,
                                const char *not_this, int32_t day);

/* The SWV of gemeente g for sector on day ("" when unknown). */
const char *sim_world_swv_of(const sim_world *w, const char *g, const char *sector, int32_t day);

#endif
