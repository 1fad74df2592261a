/* nn/ private: the AdamW update over a range of the flat buffers, a fast
 * version (AVX-512 / AVX2 when the CPU has them) and its naive twin. Both do
 * the same IEEE operations in the same order per element, so they give the
 * same bits (the tests check it); the build has fp-contract off, so no FMA
 * changes the rounding.
 *
 * Per element, with g = grad * scale (written back to grad when scaled):
 *   m = b1 m + (1-b1) g                      v = b2 v + (1-b2) g g
 *   den = sqrt(v) / sqrt(1-b2^t) + eps       (= sqrt(v^) + eps)
 *   p = p (1 - lr wd) - (lr / (1-b1^t)) m / den
 * which is PyTorch's AdamW arithmetic for
 *   p -= lr (m^ / (sqrt(v^) + eps) + wd p),  m^ = m/(1-b1^t), v^ = v/(1-b2^t). */
#ifndef SW_NN_OPTIMIZER_KERNELS_H
#define SW_NN_OPTIMIZER_KERNELS_H

#include <stddef.h>

typedef struct sw_adamw_consts {
    float b1, one_minus_b1, b2, one_minus_b2;
    float sqrt_bc2;  /* sqrt(1 - b2^t)        */
    float eps;
    float decay;     /* 1 - lr wd             */
    float step;      /* lr / (1 - b1^t)       */
    float scale;     /* clip factor (1: none) */
    int scaled;      /* scale != 1            */
} sw_adamw_consts;

void sw_adamw_range(float *p, float *g, float *m, float *v, size_t lo, size_t hi, const sw_adamw_consts *k);
void sw_adamw_range_naive(float *p, float *g, float *m, float *v, size_t lo, size_t hi, const sw_adamw_consts *k);

#endif
