/* The AdamW update kernels (formulas in optimizer_kernels.h).
 *
 * Why intrinsics: the loop needs sqrtf, and under the default -fmath-errno
 * GCC will not vectorise a loop that may set errno (a per-function
 * optimize("no-math-errno") is ignored by GCC 12), so the fast version spells
 * the vector operations out: 16 lanes with AVX-512F, 8 with AVX, the same
 * operations in the same order as the scalar twin. Chosen per call from the
 * CPU's features (cheap next to a pass over the buffers). */
#include "nn/optimizer_kernels.h"

#include <math.h>

static inline void adamw_one(float *p, float *g, float *m, float *v, size_t i, const sw_adamw_consts *k)
{
    float gi = g[i] * k->scale;
    if (k->scaled) g[i] = gi;
    float mi = k->b1 * m[i] + k->one_minus_b1 * gi;
    float vi = k->b2 * v[i] + k->one_minus_b2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    float den = sqrtf(vi) / k->sqrt_bc2 + k->eps;
    p[i] = p[i] * k->decay - k->step * (mi / den);
}

void sw_adamw_range_naive(float *p, float *g, float *m, float *v, size_t lo, size_t hi, const sw_adamw_consts *k)
{
    for (size_t i = lo; i < hi; i++) adamw_one(p, g, m, v, i, k);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static size_t adamw_avx512(float *p, float *g, float *m, float *v, size_t lo,
                                                                size_t hi, const sw_adamw_consts *k)
{
    const __m512 b1 = _mm512_set1_ps(k->b1), omb1 = _mm512_set1_ps(k->one_minus_b1);
    const __m512 b2 = _mm512_set1_ps(k->b2), omb2 = _mm512_set1_ps(k->one_minus_b2);
    const __m512 sbc2 = _mm512_set1_ps(k->sqrt_bc2), eps = _mm512_set1_ps(k->eps);
    const __m512 decay = _mm512_set1_ps(k->decay), step = _mm512_set1_ps(k->step), scale = _mm512_set1_ps(k->scale);
    size_t i = lo;
    for (; i + 16 <= hi; i += 16) {
        __m512 gi = _mm512_mul_ps(_mm512_loadu_ps(g + i), scale);
        if (k->scaled) _mm512_storeu_ps(g + i, gi);
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(omb1, gi));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)), _mm512_mul_ps(omb2, _mm512_mul_ps(gi, gi)));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), sbc2), eps);
        __m512 upd = _mm512_mul_ps(step, _mm512_div_ps(mi, den));
        _mm512_storeu_ps(p + i, _mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(p + i), decay), upd));
    }
    return i;
}

__attribute__((target("avx"))) static size_t adamw_avx(float *p, float *g, float *m, float *v, size_t lo, size_t hi,
                                                         const sw_adamw_consts *k)
{
    const __m256 b1 = _mm256_set1_ps(k->b1), omb1 = _mm256_set1_ps(k->one_minus_b1);
    const __m256 b2 = _mm256_set1_ps(k->b2), omb2 = _mm256_set1_ps(k->one_minus_b2);
    const __m256 sbc2 = _mm256_set1_ps(k->sqrt_bc2), eps = _mm256_set1_ps(k->eps);
    const __m256 decay = _mm256_set1_ps(k->decay), step = _mm256_set1_ps(k->step), scale = _mm256_set1_ps(k->scale);
    size_t i = lo;
    for (; i + 8 <= hi; i += 8) {
        __m256 gi = _mm256_mul_ps(_mm256_loadu_ps(g + i), scale);
        if (k->scaled) _mm256_storeu_ps(g + i, gi);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(omb1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(omb2, _mm256_mul_ps(gi, gi)));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), sbc2), eps);
        __m256 upd = _mm256_mul_ps(step, _mm256_div_ps(mi, den));
        _mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(p + i), decay), upd));
    }
    return i;
}
#endif

void sw_adamw_range(float *p, float *g, float *m, float *v, size_t lo, size_t hi, const sw_adamw_consts *k)
{
    size_t i = lo;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) i = adamw_avx512(p, g, m, v, lo, hi, k);
    else if (__builtin_cpu_supports("avx")) i = adamw_avx(p, g, m, v, lo, hi, k);
#endif
    sw_adamw_range_naive(p, g, m, v, i, hi, k); /* the tail, or everything without SIMD */
}
