/*
 * sim_rng — the simulator's own seeded pseudo-random numbers: xoshiro256**
 * seeded through splitmix64, so one seed gives the same stream on every
 * machine and build (no libc rand, no clock). Not for secrets.
 * A sim_rng is a plain value owned by its caller; not thread-safe.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

void sim_rng_seed(sim_rng *r, uint64_t seed);

uint64_t sim_rng_next(sim_rng *r);

/* Uniform in [0, n) (n > 0), without modulo bias. */
uint64_t sim_rng_below(sim_rng *r, uint64_t n);

/* Uniform in [lo, hi] (lo <= hi). */
int64_t sim_rng_range(sim_rng *r, int64_t lo, int64_t hi);

/* Uniform in [0, 1). */
double sim_rng_unit(sim_rng *r);

/* 1 with probability p. */
int sim_rng_chance(sim_rng *r, double p);

/* An index drawn by the weights w[0..n) (not all zero). */
size_t sim_rng_weighted(sim_rng *r, const double *w, size_t n);

/* A version-4 UUID made of the stream's bits (37 bytes with the NUL). */
void sim_rng_uuid(sim_rng *r, char out[37]);

#endif
