/* Token + position embedding.
 *
 *   forward   out[b,t,:] = wte[inp[b,t],:] + wpe[t,:]
 *   backward  dwte[inp[b,t],:] += dout[b,t,:];  dwpe[t,:] += dout[b,t,:]
 *
 * The backward scatter is serial on purpose: two rows with the same id would
 * race, and rows in order 0..B*T-1 make the sum independent of threads. It is
 * B*T*C adds, noise next to the GEMMs. */
#include "nn/kernels.h"

SW_SIMD static void add_rows(float *restrict o, const float *restrict a, const float *restrict b, int C)
{
    if (b)
        for (int i = 0; i < C; i++) o[i] = a[i] + b[i];
    else
        for (int i = 0; i < C; i++) o[i] = a[i];
}

void sw_embedding_forward(float *out, const int32_t *inp, const float *wte, const float *wpe, int B, int T,
                          int C)
{
#pragma omp parallel for schedule(static) if ((size_t)B * T * C >= SW_PAR_MIN)
    for (int bt = 0; bt < B * T; bt++) {
        int t = bt % T;
        add_rows(out + (size_t)bt * C, wte + (size_t)inp[bt] * C, wpe ? wpe + (size_t)t * C : NULL, C);
    }
}

SW_SIMD static void acc_row(float *restrict d, const float *restrict s, int C)
{
    for (int i = 0; i < C; i++) d[i] += s[i];
}

void sw_embedding_backward(float *dwte, float *dwpe, const float *dout, const int32_t *inp, int B, int T, int C)
{
    for (int bt = 0; bt < B * T; bt++) {
        const float *d = dout + (size_t)bt * C;
        acc_row(dwte + (size_t)inp[bt] * C, d, C);
        if (dwpe) acc_row(dwpe + (size_t)(bt % T) * C, d, C);
    }
}
