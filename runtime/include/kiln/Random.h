/*===- Random.h - The counter-based random numbers of dropout -------------===*
 *
 * Dropout keeps element `index` of the dropout site `seed` at step `counter`
 * when kiln_uniform(seed, counter, index) >= p. The value is a pure function
 * of its three arguments (SplitMix64's finalizer, chained), so the reference
 * evaluator, the CPU code and the GPU code draw exactly the same masks, in
 * any order and on any number of threads. C, so that generated code can use
 * it too.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RANDOM_H
#define KILN_RANDOM_H

#include <stdint.h>

static inline uint64_t kiln_mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* A uniform number in [0, 1) with 53 random bits. */
static inline double kiln_uniform(uint64_t seed, uint64_t counter,
                                  uint64_t index) {
  uint64_t h = kiln_mix64(seed ^ kiln_mix64(counter ^ kiln_mix64(index)));
  return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

#endif /* KILN_RANDOM_H */
