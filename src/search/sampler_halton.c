/* The scrambled Halton sequence (Halton 1960; the digit scrambling of Owen,
 * "Randomly permuted (t,m,s)-nets and (t,s)-sequences", 1995, in its simple
 * form: one random permutation per base, digit position and seed).
 *
 * Coordinate j of point n is, in the j-th prime base b, with n's base-b
 * digits d_1 (least significant), d_2, ...:
 *     x_j(n) = sum_{k=1..K} pi_{j,k}(d_k) b^-k,    b^-K below double precision
 * pi_{j,k} a permutation of {0..b-1} drawn from (seed, j, k). Digits past n's
 * length are 0 and their permuted values fill the tail, so no point sits on
 * the grid's corner (the plain sequence's x(0) = 0). The permutations depend
 * only on the position, so the first b^m points still fill each interval
 * [i/b^m, (i+1)/b^m) exactly once: the property the tests check. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

static const unsigned primes[SW_HALTON_MAX_DIMS] = {
    2,   3,   5,   7,   11,  13,  17,  19,  23,  29,  31,  37,  41,  43,  47,  53,  59,  61,  67,  71,  73,  79,
    83,  89,  97,  101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193,
    197, 199, 211, 223, 227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281, 283, 293, 307, 311};

/* pi(digit) of the permutation for (seed, dim, position), by a Fisher-Yates
 * shuffle of 0..b-1 from a generator seeded by the three. */
static unsigned permuted(uint64_t seed, size_t dim, unsigned position, unsigned b, unsigned digit)
{
    unsigned perm[320];
    for (unsigned i = 0; i < b; i++) perm[i] = i;
    sw_rng r;
    sw_rng_seed(&r, sw_hash3(seed, SW_SEARCH_STREAM_HALTON * 1000003ULL + dim, position));
    for (unsigned i = b - 1; i > 0; i--) {
        unsigned k = (unsigned)sw_rng_below(&r, (uint64_t)i + 1);
        unsigned t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
    return perm[digit];
}

sw_status sw_halton_point(uint64_t seed, uint64_t index, size_t dims, double *point, sw_error *err)
{
    if (dims > SW_HALTON_MAX_DIMS)
        return sw_error_set(err, SW_ERR_INVALID, "the Halton sequence has at most %d dimensions, not %zu", SW_HALTON_MAX_DIMS, dims);
    for (size_t j = 0; j < dims; j++) {
        unsigned b = primes[j];
        /* K positions: b^-K < 2^-53 */
        unsigned K = (unsigned)ceil(53.0 * log(2.0) / log((double)b)) + 1;
        uint64_t n = index;
        double x = 0, scale = 1.0 / b;
        for (unsigned k = 1; k <= K; k++) {
            unsigned digit = (unsigned)(n % b);
            n /= b;
            x += permuted(seed, j, k, b, digit) * scale;
            scale /= b;
        }
        point[j] = x < 1 ? x : nextafter(1.0, 0.0);
    }
    return SW_OK;
}
