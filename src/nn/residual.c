/* Residual connection: out = a + b; backward passes dout to both branches.
 * (In the gpt backward the residual stream's gradient is one buffer that the
 * branches add into, which is this backward with the copy elided.) */
#include "nn/kernels.h"

SW_SIMD static void add2(float *restrict out, const float *restrict a, const float *restrict b, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

SW_SIMD static void acc(float *restrict d, const float *restrict s, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] += s[i];
}

#define CHUNK 4096

void sw_residual_forward(float *out, const float *a, const float *b, size_t n)
{
    long nblk = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= SW_PAR_MIN)
    for (long k = 0; k < nblk; k++) {
        size_t i0 = (size_t)k * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        add2(out + i0, a + i0, b + i0, len);
    }
}

void sw_residual_backward(float *da, float *db, const float *dout, size_t n)
{
    long nblk = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= SW_PAR_MIN)
    for (long k = 0; k < nblk; k++) {
        size_t i0 = (size_t)k * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        if (da) acc(da + i0, dout + i0, len);
        if (db) acc(db + i0, dout + i0, len);
    }
}
