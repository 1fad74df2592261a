/* Softmax cross-entropy with a per-position mask (loss on target positions
 * only):
 *   p_i = softmax(z_i),  CE_i = -log p_i[y_i]
 *   loss = sum_i m_i CE_i / sum_i m_i          (0 when sum m = 0)
 *   dz_i += dloss * m_i / sum(m) * (p_i - onehot(y_i))
 * Rows in parallel; the per-row losses are then summed in row order, so the
 * loss does not depend on threads. */
#include <math.h>
#include <string.h>

#include "nn/kernels.h"

SW_SIMD static void softmax_row(float *restrict p, const float *restrict z, int V)
{
    float mx = -INFINITY;
    for (int v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
    for (int v = 0; v < V; v++) p[v] = sw_expf_fast(z[v] - mx);
    float inv = 1.0f / sw_lanes_sum(p, V);
    for (int v = 0; v < V; v++) p[v] *= inv;
}

float sw_xent_forward(float *probs, const float *logits, const int32_t *targets, const float *mask, int N,
                      int V)
{
#pragma omp parallel for schedule(static) if ((size_t)N * V >= SW_PAR_MIN)
    for (int n = 0; n < N; n++) softmax_row(probs + (size_t)n * V, logits + (size_t)n * V, V);
    if (!targets) return 0.0f;
    double num = 0.0, den = 0.0;
    for (int n = 0; n < N; n++) {
        float m = mask ? mask[n] : 1.0f;
        if (m == 0.0f) continue;
        float p = probs[(size_t)n * V + targets[n]];
        num += (double)m * -logf(p > 1e-30f ? p : 1e-30f);
        den += m;
    }
    return den > 0.0 ? (float)(num / den) : 0.0f;
}

SW_SIMD static void xent_bwd_row(float *restrict dz, const float *restrict p, int V, float w)
{
    for (int v = 0; v < V; v++) dz[v] += w * p[v];
}

void sw_xent_backward(float *dlogits, const float *probs, const int32_t *targets, const float *mask, int N,
                      int V, float dloss, int acc)
{
    if (!acc) memset(dlogits, 0, (size_t)N * V * sizeof(float));
    double den = 0.0;
    for (int n = 0; n < N; n++) den += mask ? mask[n] : 1.0f;
    if (den <= 0.0) return;
    float scale = (float)(dloss / den);
#pragma omp parallel for schedule(static) if ((size_t)N * V >= SW_PAR_MIN)
    for (int n = 0; n < N; n++) {
        float w = (mask ? mask[n] : 1.0f) * scale;
        if (w == 0.0f) continue;
        xent_bwd_row(dlogits + (size_t)n * V, probs + (size_t)n * V, V, w);
        dlogits[(size_t)n * V + targets[n]] -= w;
    }
}

float sw_xent_forward_naive(float *probs, const float *logits, const int32_t *targets, const float *mask,
                            int N, int V)
{
    double num = 0.0, den = 0.0;
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * V;
        double mx = -INFINITY, sum = 0.0;
        for (int v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        for (int v = 0; v < V; v++) sum += exp(z[v] - mx);
        for (int v = 0; v < V; v++) probs[(size_t)n * V + v] = (float)(exp(z[v] - mx) / sum);
        if (!targets) continue;
        double m = mask ? mask[n] : 1.0;
        if (m == 0.0) continue;
        num += m * (log(sum) - (z[targets[n]] - mx));
        den += m;
    }
    return den > 0.0 ? (float)(num / den) : 0.0f;
}
