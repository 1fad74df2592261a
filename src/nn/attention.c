/* Causal multi-head self-attention (Vaswani et al. 2017), llm.c's layout.
 *
 * Per batch row b and head h, with q_t, k_t, v_t the head's hs-slices of
 * inp[b,t,:] (q | k | v, each C wide) and s = 1/sqrt(hs):
 *   a_{t,u} = softmax_u( s q_t . k_u ),  u <= t     (att, (B,NH,T,T))
 *   o_t     = sum_{u<=t} a_{t,u} v_u                (out[b,t,h*hs..])
 * Backward, with g_t = do_t:
 *   da_{t,u} = g_t . v_u,   dv_u += a_{t,u} g_t
 *   dz_{t,u} = a_{t,u} (da_{t,u} - sum_w a_{t,w} da_{t,w})
 *   dq_t += s sum_u dz_{t,u} k_u,   dk_u += s dz_{t,u} q_t
 *
 * The fast kernel runs one (b,h) pair per OpenMP iteration (static); a pair
 * writes only its own head's columns, so there are no races, and every sum
 * runs in a fixed order: bit-identical whatever the thread count. The
 * head's keys (values, in backward) are first transposed into a (hs, T)
 * stack tile, so the scores of row t are axpys along u (vectorised); the
 * v/q/k updates are contiguous axpys along hs; exp is sw_expf_fast. The
 * naive twin is llm.c's scalar loops with libm expf. */
#include <math.h>
#include <string.h>

#include "nn/kernels.h"

/* Scores (or da) of row t against columns u <= t: sc[u] = sum_i x[i] M[i][u]
 * with M the head's keys (or values) transposed to (hs, T) in `mt`: the
 * inner loop runs along u, contiguous, one vector FMA per 16 columns. When
 * hs*T is too big for the stack, mt is NULL and rows are dotted directly
 * (8-lane dots over hs, reading column block `col` of the inp rows). */
static inline void scores(float *sc, const float *x, float xs, const float *mt, const float *rows, size_t stride,
                          int t, int T, int hs)
{
    if (mt) {
        for (int u = 0; u <= t; u++) sc[u] = 0.0f;
        for (int i = 0; i < hs; i++) sw_axpy(sc, x[i] * xs, mt + (size_t)i * T, t + 1);
    } else {
        for (int u = 0; u <= t; u++) sc[u] = sw_lanes_dot(x, rows + (size_t)u * stride, hs) * xs;
    }
}

#define MT_MAX 16384 /* floats of stack scratch for a transposed head (64 KiB) */

SW_SIMD static void att_fwd_pair(float *out, float *att, const float *inp, int b, int h, int T, int C, int NH)
{
    int hs = C / NH, C3 = 3 * C;
    float s = 1.0f / sqrtf((float)hs);
    const float *base = inp + (size_t)b * T * C3 + h * hs; /* q of row 0; k at +C, v at +2C */
    int small = (size_t)hs * T <= MT_MAX;
    float kt[small ? hs * T : 1], e[T];
    if (small)
        for (int u = 0; u < T; u++)
            for (int i = 0; i < hs; i++) kt[(size_t)i * T + u] = base[(size_t)u * C3 + C + i];
    for (int t = 0; t < T; t++) {
        const float *q = base + (size_t)t * C3;
        float *a = att + (((size_t)b * NH + h) * T + t) * T;
        scores(e, q, s, small ? kt : NULL, base + C, C3, t, T, hs);
        float mx = -INFINITY;
        for (int u = 0; u <= t; u++) mx = e[u] > mx ? e[u] : mx;
        for (int u = 0; u <= t; u++) e[u] = sw_expf_fast(e[u] - mx);
        float inv = 1.0f / sw_lanes_sum(e, t + 1);
        for (int u = 0; u <= t; u++) a[u] = e[u] * inv;
        for (int u = t + 1; u < T; u++) a[u] = 0.0f;
        float *o = out + ((size_t)b * T + t) * C + h * hs;
        for (int i = 0; i < hs; i++) o[i] = 0.0f;
        for (int u = 0; u <= t; u++) sw_axpy(o, a[u], base + (size_t)u * C3 + 2 * C, hs);
    }
}

void sw_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH)
{
#pragma omp parallel for schedule(static) if ((size_t)B * T * T * C >= 2 * SW_PAR_MIN)
    for (int bh = 0; bh < B * NH; bh++) att_fwd_pair(out, att, inp, bh / NH, bh % NH, T, C, NH);
}

SW_SIMD static void att_bwd_pair(float *dinp, const float *dout, const float *inp, const float *att, int b, int h,
                                 int T, int C, int NH, int acc)
{
    int hs = C / NH, C3 = 3 * C;
    float s = 1.0f / sqrtf((float)hs);
    const float *base = inp + (size_t)b * T * C3 + h * hs;
    float *dbase = dinp + (size_t)b * T * C3 + h * hs;
    int small = (size_t)hs * T <= MT_MAX;
    float vt[small ? hs * T : 1], da[T];
    if (small)
        for (int u = 0; u < T; u++)
            for (int i = 0; i < hs; i++) vt[(size_t)i * T + u] = base[(size_t)u * C3 + 2 * C + i];
    if (!acc) /* this pair owns these columns: clear them here, not in a memset */
        for (int u = 0; u < T; u++)
            for (int k = 0; k < 3; k++) memset(dbase + (size_t)u * C3 + (size_t)k * C, 0, (size_t)hs * sizeof(float));
    for (int t = 0; t < T; t++) {
        const float *g = dout + ((size_t)b * T + t) * C + h * hs;
        const float *a = att + (((size_t)b * NH + h) * T + t) * T;
        const float *q = base + (size_t)t * C3;
        float *dq = dbase + (size_t)t * C3;
        scores(da, g, 1.0f, small ? vt : NULL, base + 2 * C, C3, t, T, hs);
        for (int u = 0; u <= t; u++) sw_axpy(dbase + (size_t)u * C3 + 2 * C, a[u], g, hs); /* dv_u */
        float m = sw_lanes_dot(a, da, t + 1);
        for (int u = 0; u <= t; u++) {
            float dz = a[u] * (da[u] - m) * s;
            sw_axpy(dq, dz, base + (size_t)u * C3 + C, hs);  /* dq_t */
            sw_axpy(dbase + (size_t)u * C3 + C, dz, q, hs);  /* dk_u */
        }
    }
}

void sw_attention_backward(float *dinp, const float *dout, const float *inp, const float *att, int B, int T,
                           int C, int NH, int acc)
{
#pragma omp parallel for schedule(static) if ((size_t)B * T * T * C >= 2 * SW_PAR_MIN)
    for (int bh = 0; bh < B * NH; bh++) att_bwd_pair(dinp, dout, inp, att, bh / NH, bh % NH, T, C, NH, acc);
}

/* ---- naive twins: llm.c's scalar loops ---------------------------------- */

void sw_attention_forward_naive(float *out, float *att, const float *inp, int B, int T, int C, int NH)
{
    int hs = C / NH, C3 = 3 * C;
    float s = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                const float *q = inp + ((size_t)b * T + t) * C3 + h * hs;
                float *a = att + (((size_t)b * NH + h) * T + t) * T;
                float mx = -INFINITY;
                for (int u = 0; u <= t; u++) {
                    const float *k = inp + ((size_t)b * T + u) * C3 + C + h * hs;
                    double z = 0.0;
                    for (int i = 0; i < hs; i++) z += (double)q[i] * k[i];
                    a[u] = (float)(z * s);
                    if (a[u] > mx) mx = a[u];
                }
                double sum = 0.0;
                for (int u = 0; u <= t; u++) {
                    a[u] = expf(a[u] - mx);
                    sum += a[u];
                }
                for (int u = 0; u < T; u++) a[u] = u <= t ? (float)(a[u] / sum) : 0.0f;
                float *o = out + ((size_t)b * T + t) * C + h * hs;
                for (int i = 0; i < hs; i++) {
                    double acc = 0.0;
                    for (int u = 0; u <= t; u++) acc += (double)a[u] * inp[((size_t)b * T + u) * C3 + 2 * C + h * hs + i];
                    o[i] = (float)acc;
                }
            }
}

void sw_attention_backward_naive(float *dinp, const float *dout, const float *inp, const float *att, int B,
                                 int T, int C, int NH)
{
    int hs = C / NH, C3 = 3 * C;
    float s = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                const float *g = dout + ((size_t)b * T + t) * C + h * hs;
                const float *a = att + (((size_t)b * NH + h) * T + t) * T;
                const float *q = inp + ((size_t)b * T + t) * C3 + h * hs;
                double da[T > 0 ? T : 1];
                double m = 0.0;
                for (int u = 0; u <= t; u++) {
                    const float *v = inp + ((size_t)b * T + u) * C3 + 2 * C + h * hs;
                    float *dv = dinp + ((size_t)b * T + u) * C3 + 2 * C + h * hs;
                    da[u] = 0.0;
                    for (int i = 0; i < hs; i++) {
                        da[u] += (double)g[i] * v[i];
                        dv[i] += a[u] * g[i];
                    }
                    m += a[u] * da[u];
                }
                for (int u = 0; u <= t; u++) {
                    double dz = a[u] * (da[u] - m) * s;
                    const float *k = inp + ((size_t)b * T + u) * C3 + C + h * hs;
                    float *dq = dinp + ((size_t)b * T + t) * C3 + h * hs;
                    float *dk = dinp + ((size_t)b * T + u) * C3 + C + h * hs;
                    for (int i = 0; i < hs; i++) {
                        dq[i] += (float)(dz * k[i]);
                        dk[i] += (float)(dz * q[i]);
                    }
                }
            }
}
