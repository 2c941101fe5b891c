/*
 * sim_rng — xoshiro256** (Blackman and Vigna, public domain algorithm,
 * written here from its description) seeded with splitmix64.
 */
#include "sim_rng.h"

#include <stdio.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sim_rng_seed(sim_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rng_next(sim_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sim_rng_below(sim_rng *r, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = sim_rng_next(r);
    while (x >= limit);
    return x % n;
}

int64_t sim_rng_range(sim_rng *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)sim_rng_below(r, (uint64_t)(hi - lo) + 1);
}

double sim_rng_unit(sim_rng *r) { return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53; }

int sim_rng_chance(sim_rng *r, double p) { return sim_rng_unit(r) < p; }

size_t sim_rng_weighted(sim_rng *r, const double *w, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    double x = sim_rng_unit(r) * total;
    for (size_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

void sim_rng_uuid(sim_rng *r, char out[37]) {
    uint64_t a = sim_rng_next(r), b = sim_rng_next(r);
    a = (a & ~0xf000ULL) | 0x4000ULL;                        /* version 4 */
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant 10 */
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff, (unsigned)(b >> 48),
             (unsigned long long)(b & 0xffffffffffffULL));
}
