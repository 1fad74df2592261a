/* Inverted dropout with a counter-based mask (Srivastava et al. 2014):
 *   keep_i = sw_hash3_uniform(seed, stream, first + i) >= p
 *   y_i = keep_i * x_i / (1 - p),   dx_i += keep_i * dy_i / (1 - p)
 * The mask is a pure function of (seed, stream, first + i): the same whatever
 * the thread count, the same for a data-parallel shard as for the whole batch
 * (first: the shard's offset in it), and recomputed in backward instead of
 * stored. */
#include "nn/kernels.h"
#include "stopwise/base.h"

#define CHUNK 4096

void sw_dropout_forward(float *out, const float *inp, size_t n, float p, uint64_t seed, uint64_t stream,
                        uint64_t first)
{
    float scale = 1.0f / (1.0f - p);
    long nblk = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= SW_PAR_MIN)
    for (long k = 0; k < nblk; k++) {
        size_t i1 = (size_t)(k + 1) * CHUNK < n ? (size_t)(k + 1) * CHUNK : n;
        for (size_t i = (size_t)k * CHUNK; i < i1; i++)
            out[i] = sw_hash3_uniform(seed, stream, first + i) < p ? 0.0f : inp[i] * scale;
    }
}

void sw_dropout_backward(float *dinp, const float *dout, size_t n, float p, uint64_t seed, uint64_t stream,
                         uint64_t first, int acc)
{
    float scale = 1.0f / (1.0f - p);
    long nblk = (long)((n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(static) if (n >= SW_PAR_MIN)
    for (long k = 0; k < nblk; k++) {
        size_t i1 = (size_t)(k + 1) * CHUNK < n ? (size_t)(k + 1) * CHUNK : n;
        for (size_t i = (size_t)k * CHUNK; i < i1; i++)
            dinp[i] = (acc ? dinp[i] : 0.0f) +
                      (sw_hash3_uniform(seed, stream, first + i) >= p ? dout[i] * scale : 0.0f);
    }
}
