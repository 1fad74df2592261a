/* Elementwise activations: GELU (tanh approximation) and ReLU.
 *
 * GELU, as GPT-2 and llm.c (Hendrycks & Gimpel 2016):
 *   u = sqrt(2/pi) (x + 0.044715 x^3),   y = 0.5 x (1 + tanh u)
 *   dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3*0.044715 x^2)
 * The fast kernel uses (1 + tanh u)/2 = sigmoid(2u) = 1/(1 + e^{-2u}), with
 * 1 - tanh^2 u = 4 sigmoid(2u)(1 - sigmoid(2u)): no cancellation where
 * tanh u ~ -1, and e^x from sw_expf_fast (vectorised). The naive twin calls
 * libm's tanh in double. */
#include <math.h>

#include "nn/kernels.h"

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f
#define CHUNK 4096

SW_SIMD static void gelu_fwd_chunk(float *restrict out, const float *restrict inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float u = GELU_K * (x + GELU_A * x * x * x);
        out[i] = x / (1.0f + sw_expf_fast(-2.0f * u)); /* = 0.5 x (1 + tanh u) */
    }
}

SW_SIMD static void gelu_bwd_chunk(float *restrict dinp, const float *restrict inp, const float *restrict dout,
                                   size_t n, int acc)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float u = GELU_K * (x + GELU_A * x * x * x);
        float sg = 1.0f / (1.0f + sw_expf_fast(-2.0f * u));
        float g = sg + 2.0f * x * sg * (1.0f - sg) * GELU_K * (1.0f + 3.0f * GELU_A * x * x);
        dinp[i] = (acc ? dinp[i] : 0.0f) + g * dout[i];
    }
}

void sw_gelu_forward(float *out, const float *inp, size_t n)
{
    long nblk = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= SW_PAR_MIN)
    for (long k = 0; k < nblk; k++) {
        size_t i0 = (size_t)k * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        gelu_fwd_chunk(out + i0, inp + i0, len);
    }
}

void sw_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n, int acc)
{
    long nblk = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= SW_PAR_MIN)
    for (long k = 0; k < nblk; k++) {
        size_t i0 = (size_t)k * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        gelu_bwd_chunk(dinp + i0, inp + i0, dout + i0, len, acc);
    }
}

void sw_gelu_forward_naive(float *out, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        double u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
        out[i] = (float)(0.5 * x * (1.0 + tanh(u)));
    }
}

void sw_gelu_backward_naive(float *dinp, const float *inp, const float *dout, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        double u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
        double th = tanh(u);
        double g = 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * x * x);
        dinp[i] += (float)(g * dout[i]);
    }
}

SW_SIMD static void relu_fwd_chunk(float *restrict out, const float *restrict inp, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

SW_SIMD static void relu_bwd_chunk(float *restrict dinp, const float *restrict inp, const float *restrict dout,
                                   size_t n, int acc)
{
    for (size_t i = 0; i < n; i++) dinp[i] = (acc ? dinp[i] : 0.0f) + (inp[i] > 0.0f ? dout[i] : 0.0f);
}

void sw_relu_forward(float *out, const float *inp, size_t n)
{
    long nblk = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= SW_PAR_MIN)
    for (long k = 0; k < nblk; k++) {
        size_t i0 = (size_t)k * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        relu_fwd_chunk(out + i0, inp + i0, len);
    }
}

void sw_relu_backward(float *dinp, const float *inp, const float *dout, size_t n, int acc)
{
    long nblk = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= SW_PAR_MIN)
    for (long k = 0; k < nblk; k++) {
        size_t i0 = (size_t)k * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        relu_bwd_chunk(dinp + i0, inp + i0, dout + i0, len, acc);
    }
}
