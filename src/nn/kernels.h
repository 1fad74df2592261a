/* nn/ private: the layers as forward/backward pairs over plain float* with
 * explicit sizes (llm.c's way), each fast kernel with its naive twin beside it
 * (the tests compare them), and the small inline helpers they share.
 *
 * Conventions, for every pair:
 *  - shapes are row-major and written beside each pointer: (B,T,C) means
 *    B*T rows of C floats;
 *  - forward overwrites its outputs; backward ADDS (+=) into every gradient
 *    it produces (inputs' and parameters'), so a caller zeroes them once.
 *    Where a backward takes `acc`, acc = 0 makes it overwrite the input
 *    gradient instead (saves a memset of a buffer that is about to be
 *    written whole; parameter gradients always add);
 *  - no allocation inside forward/backward, except the attention kernels'
 *    small per-thread stack scratch (bounded by T, see SW_ATT_MAX_T);
 *  - loops that are not GEMMs are OpenMP `parallel for` with static
 *    schedules, and every reduction runs in a fixed order inside one
 *    iteration, so results do not depend on the scheduling (most do not even
 *    depend on the thread count; the GEMMs do, through the BLAS).
 *
 * Formulas are in the .c files and in docs/ENGINE.md. */
#ifndef SW_NN_KERNELS_H
#define SW_NN_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Per-function CPU dispatch for the hot elementwise loops: the build uses the
 * baseline ISA (no -march=native by default), so the loops that are not GEMMs
 * get AVX-512 / AVX2 clones chosen at load time by the ifunc resolver. The
 * results of one machine are still bit-identical run to run. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(SW_NO_CLONES)
#define SW_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SW_SIMD
#endif

/* Loops over fewer than this many floats of work run on the calling thread
 * alone: waking a team costs microseconds (much more on a loaded machine),
 * which dominates tiny layers (tests, decoding steps, small mlps). */
#define SW_PAR_MIN 32768

/* The longest sequence the attention kernels take (their per-row scratch
 * lives on the stack). Checked by sw_model_spec_check. */
#define SW_ATT_MAX_T 4096

/* exp(x) for float, vectorisable (no libm call): Cody-Waite range reduction
 * x = n ln2 + r, |r| <= ln2/2, then Cephes' degree-6 polynomial for e^r, and
 * 2^n put into the exponent bits. Max relative error ~2 ulp on [-87, 88];
 * inputs are clamped to that range (e^-87 ~ 1.6e-38, the smallest normal). */
static inline float sw_expf_fast(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* round to nearest with the 1.5*2^23 trick (no floorf: SSE2 has no
     * vector floor); the build has fp-contract off and no fast-math, so the
     * compiler keeps the add-subtract pair. */
    float t = x * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    /* unsigned shift: for a NaN input n converts to INT32_MIN on x86 and a
     * signed shift of the negative sum is undefined; the result is NaN anyway */
    uint32_t e = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &e, sizeof scale);
    return y * scale;
}


/* Deterministic vectorisable reductions: 8 fixed partial sums (the compiler
 * turns the inner loop into one vector add), then a fixed-order combine. The
 * order depends on n only, never on threads. */
static inline float sw_lanes_sum(const float *a, int n)
{
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; i++) s += a[i];
    return s;
}

static inline float sw_lanes_dot(const float *a, const float *b, int n)
{
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* y += a x, contiguous (vectorises). */
static inline void sw_axpy(float *restrict y, float a, const float *restrict x, int n)
{
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

/* ---- linear: out = inp W^T + bias --------------------------------------- */
/* out (N,OC), inp (N,C), weight (OC,C), bias (OC) or NULL. N = B*T rows: one
 * GEMM for the whole batch (cblas_sgemm). */
void sw_matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                       int OC);
/* dinp (N,C) += dout W; dweight (OC,C) += dout^T inp; dbias (OC) += column
 * sums of dout. dinp, dweight, dbias may each be NULL (not wanted). */
void sw_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                        const float *weight, int N, int C, int OC, int acc);
void sw_matmul_forward_naive(float *out, const float *inp, const float *weight, const float *bias, int N,
                             int C, int OC);
void sw_matmul_backward_naive(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                              const float *weight, int N, int C, int OC);

/* ---- embedding: out[b,t] = wte[inp[b,t]] + wpe[t] ------------------------ */
/* out (B,T,C), inp (B,T) ids in [0,V), wte (V,C), wpe (maxT,C) or NULL. */
void sw_embedding_forward(float *out, const int32_t *inp, const float *wte, const float *wpe, int B, int T,
                          int C);
/* dwte (V,C) += scatter of dout by id; dwpe (maxT,C) += sum over b (may be NULL). */
void sw_embedding_backward(float *dwte, float *dwpe, const float *dout, const int32_t *inp, int B, int T, int C);

/* ---- LayerNorm over the last axis --------------------------------------- */
/* out (N,C) = (inp - mean) * rstd * weight + bias; mean, rstd (N) kept for
 * backward (either may be NULL at inference). eps = 1e-5. */
void sw_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                          const float *bias, int N, int C);
void sw_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                           const float *weight, const float *mean, const float *rstd, int N, int C);
void sw_layernorm_forward_naive(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                                const float *bias, int N, int C);
void sw_layernorm_backward_naive(float *dinp, float *dweight, float *dbias, const float *dout,
                                 const float *inp, const float *weight, const float *mean, const float *rstd,
                                 int N, int C);

/* ---- activations (elementwise over n floats) ---------------------------- */
/* GELU, tanh approximation (GPT-2, llm.c): 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))). */
void sw_gelu_forward(float *out, const float *inp, size_t n);
void sw_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n, int acc);
void sw_gelu_forward_naive(float *out, const float *inp, size_t n);
void sw_gelu_backward_naive(float *dinp, const float *inp, const float *dout, size_t n);
/* ReLU: max(0, x); the derivative at 0 is taken as 0. */
void sw_relu_forward(float *out, const float *inp, size_t n);
void sw_relu_backward(float *dinp, const float *inp, const float *dout, size_t n, int acc);

/* ---- residual: out = a + b ----------------------------------------------- */
void sw_residual_forward(float *out, const float *a, const float *b, size_t n);
/* da += dout; db += dout (either may be NULL). */
void sw_residual_backward(float *da, float *db, const float *dout, size_t n);

/* ---- dropout (inverted, counter-based) ----------------------------------- */
/* Element i is dropped iff sw_hash3_uniform(seed, stream, first + i) < p, so
 * the mask is a function of (seed, stream, first + i) alone, never of the
 * thread count; kept elements are scaled by 1/(1-p). In place is allowed
 * (out == inp). `first` is the element's offset in the whole batch: 0, or a
 * data-parallel shard's first row times the row width, so a shard draws the
 * masks the whole batch would (sw_batch.first_row, docs/SCALING.md). */
void sw_dropout_forward(float *out, const float *inp, size_t n, float p, uint64_t seed, uint64_t stream,
                        uint64_t first);
/* dinp += dout * mask / (1-p), the mask recomputed from (seed, stream, first). */
void sw_dropout_backward(float *dinp, const float *dout, size_t n, float p, uint64_t seed, uint64_t stream,
                         uint64_t first, int acc);

/* ---- causal multi-head self-attention ------------------------------------ */
/* inp (B,T,3C): per row q | k | v, each C = NH heads of hs = C/NH.
 * out (B,T,C): head h's output in columns [h*hs, (h+1)*hs).
 * att (B,NH,T,T): the softmax probabilities (row t, columns <= t; the rest 0),
 * kept for backward. scale = 1/sqrt(hs). T <= SW_ATT_MAX_T. */
void sw_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH);
/* dinp (B,T,3C) += gradient through q, k and v. */
void sw_attention_backward(float *dinp, const float *dout, const float *inp, const float *att, int B, int T,
                           int C, int NH, int acc);
void sw_attention_forward_naive(float *out, float *att, const float *inp, int B, int T, int C, int NH);
void sw_attention_backward_naive(float *dinp, const float *dout, const float *inp, const float *att, int B,
                                 int T, int C, int NH);

/* ---- softmax cross-entropy with a per-position mask ---------------------- */
/* logits (N,V), targets (N), mask (N) or NULL (= all ones). probs (N,V) gets
 * softmax(logits) (kept for backward). Returns
 *   loss = sum_i mask_i * (-log probs[i, targets_i]) / sum_i mask_i
 * (0 when sum(mask) == 0). Targets of positions with mask 0 are not read. */
float sw_xent_forward(float *probs, const float *logits, const int32_t *targets, const float *mask, int N,
                      int V);
/* dlogits (N,V) += dloss * mask_i / sum(mask) * (probs - onehot(target)). */
void sw_xent_backward(float *dlogits, const float *probs, const int32_t *targets, const float *mask, int N,
                      int V, float dloss, int acc);
float sw_xent_forward_naive(float *probs, const float *logits, const int32_t *targets, const float *mask,
                            int N, int V);

#endif
