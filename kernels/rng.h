// rng — the project's one random number generator: xoshiro256** seeded through splitmix64
// (Blackman & Vigna, https://prng.di.unimi.it/). Every random choice in neuroicl (episodes,
// init, augmentation, the emulator's stochastic rounding) draws from an rng_t, so results
// are reproducible from the seed on any machine.
#ifndef NEUROICL_RNG_H
#define NEUROICL_RNG_H
#include <stdint.h>

typedef struct { uint64_t s[4]; } rng_t;

void rng_seed(rng_t *r, uint64_t seed);
// A child stream for (seed, stream id): used so episode i does not depend on episode i-1.
void rng_seed2(rng_t *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(rng_t *r);
uint32_t rng_below(rng_t *r, uint32_t n);  // uniform in [0, n), unbiased
float rng_uniform(rng_t *r);               // [0, 1)
float rng_normal(rng_t *r);                // standard normal (Box-Muller)
void rng_shuffle_int(rng_t *r, int *a, int n);

#endif
