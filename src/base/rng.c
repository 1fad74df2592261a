/* Seeded random numbers: xoshiro256** (Blackman & Vigna 2018) for sequential
 * draws, and a splitmix64-based counter hash for draws that must not depend on
 * which thread makes them. */
#include "stopwise/base.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void sw_rng_seed(sw_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t sw_rng_next(sw_rng *r)
{
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

double sw_rng_uniform(sw_rng *r) { return (double)(sw_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t sw_rng_below(sw_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = sw_rng_next(r);
    while (x >= limit);
    return x % n;
}

double sw_rng_normal(sw_rng *r)
{
    double u1 = sw_rng_uniform(r), u2 = sw_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void sw_rng_shuffle(sw_rng *r, uint32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)sw_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

uint64_t sw_hash3(uint64_t seed, uint64_t stream, uint64_t counter)
{
    uint64_t x = seed ^ 0x5851f42d4c957f2dull;
    uint64_t a = splitmix64(&x) ^ stream;
    a = splitmix64(&a) ^ counter;
    return splitmix64(&a);
}

float sw_hash3_uniform(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return (float)(sw_hash3(seed, stream, counter) >> 40) * 0x1.0p-24f;
}
