/* Linear layer: out = inp W^T + b, one cblas_sgemm over all B*T rows.
 *
 *   forward   out  (N,OC) = inp (N,C) . W^T (C,OC) + b
 *   backward  dinp (N,C) += dout (N,OC) . W (OC,C)
 *             dW  (OC,C) += dout^T (OC,N) . inp (N,C)
 *             db    (OC) += sum_n dout[n,:]
 *
 * The BLAS splits work over the M and N dimensions only (never K), so a GEMM
 * is bit-identical run to run at one thread count.
 *
 * Tiny products (N*C*OC < SMALL, e.g. the tests' models, decoding a handful
 * of rows) skip the BLAS: its packing and thread team cost more than the
 * arithmetic. They run on the calling thread with 8-lane dots and axpys,
 * also in a fixed order. */
#include <cblas.h>
#if defined(STOPWISE_BLAS_BLIS)
#include <blis.h>
#endif

#include "nn/kernels.h"

/* Products below this many multiply-adds run the BLAS on one thread: waking
 * the team costs more than it saves there (and much more on a loaded
 * machine). BLIS takes a per-call thread count (its "rntm"); OpenBLAS already
 * stays on one thread for small products by itself. */
#define ONE_THREAD 262144

/* Row-major C (M,N) = alpha op(A) op(B) + beta C, as cblas_sgemm. */
static void gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta,
                 float *Cm, int ldc)
{
#if defined(STOPWISE_BLAS_BLIS)
    if ((double)M * N * K < ONE_THREAD) {
        rntm_t rntm = BLIS_RNTM_INITIALIZER;
        bli_rntm_set_num_threads(1, &rntm);
        float one = 1.0f;
        /* row-major: row stride = ld, column stride 1; a transposed operand
         * swaps them */
        bli_sgemm_ex(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, M, N, K, &one,
                     (float *)A, lda, 1, (float *)B, ldb, 1, &beta, Cm, ldc, 1, NULL, &rntm);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda,
                B, ldb, beta, Cm, ldc);
}

SW_SIMD static void add_bias_rows(float *out, const float *bias, int n0, int n1, int OC)
{
    for (int n = n0; n < n1; n++) {
        float *o = out + (size_t)n * OC;
        for (int j = 0; j < OC; j++) o[j] += bias[j];
    }
}

#define SMALL 65536

SW_SIMD static void small_forward(float *out, const float *inp, const float *weight, const float *bias, int N,
                                  int C, int OC)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++)
            out[(size_t)n * OC + o] = sw_lanes_dot(inp + (size_t)n * C, weight + (size_t)o * C, C) + (bias ? bias[o] : 0.0f);
}

SW_SIMD static void small_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                   const float *inp, const float *weight, int N, int C, int OC, int acc)
{
    if (dinp && !acc) memset(dinp, 0, (size_t)N * C * sizeof(float));
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            float d = dout[(size_t)n * OC + o];
            if (dinp) sw_axpy(dinp + (size_t)n * C, d, weight + (size_t)o * C, C);
            if (dweight) sw_axpy(dweight + (size_t)o * C, d, inp + (size_t)n * C, C);
            if (dbias) dbias[o] += d;
        }
}

void sw_matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                       int OC)
{
    if ((double)N * C * OC < SMALL) {
        small_forward(out, inp, weight, bias, N, C, OC);
        return;
    }
    gemm(0, 1, N, OC, C, inp, C, weight, C, 0.0f, out, OC);
    if (!bias) return;
    /* 64-row blocks: enough work per iteration to amortise the call. */
    int nblk = (N + 63) / 64;
#pragma omp parallel for schedule(static) if ((size_t)N * OC >= SW_PAR_MIN)
    for (int k = 0; k < nblk; k++) {
        int n1 = (k + 1) * 64 < N ? (k + 1) * 64 : N;
        add_bias_rows(out, bias, k * 64, n1, OC);
    }
}

/* Column sums of dout over a column block [j0, j1): rows in order 0..N-1 for
 * each column, so the sum does not depend on threads; the inner loop runs
 * along contiguous columns and vectorises. */
SW_SIMD static void bias_grad_cols(float *dbias, const float *dout, int N, int OC, int j0, int j1)
{
    float acc[64];
    int w = j1 - j0;
    for (int j = 0; j < w; j++) acc[j] = 0.0f;
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * OC + j0;
        for (int j = 0; j < w; j++) acc[j] += d[j];
    }
    for (int j = 0; j < w; j++) dbias[j0 + j] += acc[j];
}

void sw_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                        const float *weight, int N, int C, int OC, int acc)
{
    if ((double)N * C * OC < SMALL) {
        small_backward(dinp, dweight, dbias, dout, inp, weight, N, C, OC, acc);
        return;
    }
    if (dinp)
        gemm(0, 0, N, C, OC, dout, OC, weight, C, acc ? 1.0f : 0.0f, dinp, C);
    if (dweight)
        gemm(1, 0, OC, C, N, dout, OC, inp, C, 1.0f, dweight, C);
    if (dbias) {
        int nblk = (OC + 63) / 64;
#pragma omp parallel for schedule(static) if ((size_t)N * OC >= SW_PAR_MIN)
        for (int k = 0; k < nblk; k++) {
            int j1 = (k + 1) * 64 < OC ? (k + 1) * 64 : OC;
            bias_grad_cols(dbias, dout, N, OC, k * 64, j1);
        }
    }
}

/* ---- naive twins: triple loops, double accumulators -------------------- */

void sw_matmul_forward_naive(float *out, const float *inp, const float *weight, const float *bias, int N,
                             int C, int OC)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int i = 0; i < C; i++) s += (double)inp[(size_t)n * C + i] * weight[(size_t)o * C + i];
            out[(size_t)n * OC + o] = (float)s;
        }
}

void sw_matmul_backward_naive(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                              const float *weight, int N, int C, int OC)
{
    if (dinp)
        for (int n = 0; n < N; n++)
            for (int i = 0; i < C; i++) {
                double s = 0.0;
                for (int o = 0; o < OC; o++) s += (double)dout[(size_t)n * OC + o] * weight[(size_t)o * C + i];
                dinp[(size_t)n * C + i] += (float)s;
            }
    if (dweight)
        for (int o = 0; o < OC; o++)
            for (int i = 0; i < C; i++) {
                double s = 0.0;
                for (int n = 0; n < N; n++) s += (double)dout[(size_t)n * OC + o] * inp[(size_t)n * C + i];
                dweight[(size_t)o * C + i] += (float)s;
            }
    if (dbias)
        for (int o = 0; o < OC; o++) {
            double s = 0.0;
            for (int n = 0; n < N; n++) s += dout[(size_t)n * OC + o];
            dbias[o] += (float)s;
        }
}
