/* nn/: every optimised kernel against its naive twin, on odd sizes (not
 * multiples of the vector width or the lanes), and the thread-count
 * independence of the kernels that promise it. Tolerance: max elementwise
 * |fast - naive| / (atol + |naive|) <= 1e-4, with atol 1e-3 (1e-1 for the
 * matmul, whose outputs are sums of up to 90 products, ~10 in size, that
 * cancel near 0): float sums in another order; the fast exp is ~2 ulp. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "nn/kernels.h"
#include "nn_check.h"
#include "stopwise/nn.h"

#define RTOL 1e-4

/* all three paths: the BLAS threaded, the BLAS on one thread (N*C*OC <
 * 262144) and the small loops (N*C*OC < 65536) */
static void matmul_case(int N, int C, int OC)
{
    float *inp = nn_floats((size_t)N * C), *w = nn_floats((size_t)OC * C), *b = nn_floats(OC);
    float *o1 = nn_floats((size_t)N * OC), *o2 = nn_floats((size_t)N * OC), *dout = nn_floats((size_t)N * OC);
    nn_fill_normal(inp, (size_t)N * C, 1, 1); nn_fill_normal(w, (size_t)OC * C, 1, 2);
    nn_fill_normal(b, OC, 1, 3); nn_fill_normal(dout, (size_t)N * OC, 1, 4);
    sw_matmul_forward(o1, inp, w, b, N, C, OC);
    sw_matmul_forward_naive(o2, inp, w, b, N, C, OC);
    cr_assert(nn_max_rel(o1, o2, (size_t)N * OC, 1e-1) < RTOL, "%g", nn_max_rel(o1, o2, (size_t)N * OC, 1e-1));
    float *di1 = nn_floats((size_t)N * C), *di2 = nn_floats((size_t)N * C);
    float *dw1 = nn_floats((size_t)OC * C), *dw2 = nn_floats((size_t)OC * C), *db1 = nn_floats(OC), *db2 = nn_floats(OC);
    /* start from non-zero gradients: backward must add, not overwrite */
    for (int i = 0; i < N * C; i++) di1[i] = di2[i] = 0.5f;
    for (int i = 0; i < OC; i++) db1[i] = db2[i] = -1.0f;
    sw_matmul_backward(di1, dw1, db1, dout, inp, w, N, C, OC, 1);
    sw_matmul_backward_naive(di2, dw2, db2, dout, inp, w, N, C, OC);
    cr_assert(nn_max_rel(di1, di2, (size_t)N * C, 1e-1) < RTOL);
    cr_assert(nn_max_rel(dw1, dw2, (size_t)OC * C, 1e-1) < RTOL);
    cr_assert(nn_max_rel(db1, db2, OC, 1e-1) < RTOL);
}

Test(nn_kernels, matmul_blas_one_thread) { matmul_case(67, 33, 45); }
Test(nn_kernels, matmul_blas_threads) { matmul_case(131, 70, 90); }
Test(nn_kernels, matmul_small) { matmul_case(13, 33, 29); }

Test(nn_kernels, layernorm)
{
    int N = 37, C = 100;
    size_t n = (size_t)N * C;
    float *x = nn_floats(n), *w = nn_floats(C), *b = nn_floats(C), *dy = nn_floats(n);
    nn_fill_normal(x, n, 3, 5); nn_fill_normal(w, C, 1, 6); nn_fill_normal(b, C, 1, 7); nn_fill_normal(dy, n, 1, 8);
    for (size_t i = 0; i < n; i++) x[i] += 2.0f; /* a mean away from 0 */
    float *o1 = nn_floats(n), *o2 = nn_floats(n), *m1 = nn_floats(N), *m2 = nn_floats(N), *r1 = nn_floats(N),
          *r2 = nn_floats(N);
    sw_layernorm_forward(o1, m1, r1, x, w, b, N, C);
    sw_layernorm_forward_naive(o2, m2, r2, x, w, b, N, C);
    cr_assert(nn_max_rel(o1, o2, n, 1e-3) < RTOL);
    cr_assert(nn_max_rel(m1, m2, N, 1e-3) < RTOL);
    cr_assert(nn_max_rel(r1, r2, N, 1e-3) < RTOL);
    float *dx1 = nn_floats(n), *dx2 = nn_floats(n), *dw1 = nn_floats(C), *dw2 = nn_floats(C), *db1 = nn_floats(C),
          *db2 = nn_floats(C);
    sw_layernorm_backward(dx1, dw1, db1, dy, x, w, m1, r1, N, C);
    sw_layernorm_backward_naive(dx2, dw2, db2, dy, x, w, m1, r1, N, C);
    cr_assert(nn_max_rel(dx1, dx2, n, 1e-3) < RTOL);
    cr_assert(nn_max_rel(dw1, dw2, C, 1e-3) < RTOL);
    cr_assert(nn_max_rel(db1, db2, C, 1e-3) < RTOL);
}

Test(nn_kernels, gelu)
{
    size_t n = 10007;
    float *x = nn_floats(n), *dy = nn_floats(n);
    nn_fill_normal(x, n, 4, 9); nn_fill_normal(dy, n, 1, 10);
    x[0] = 60.0f; x[1] = -60.0f; x[2] = 0.0f; /* saturation and zero */
    float *o1 = nn_floats(n), *o2 = nn_floats(n), *d1 = nn_floats(n), *d2 = nn_floats(n);
    sw_gelu_forward(o1, x, n);
    sw_gelu_forward_naive(o2, x, n);
    cr_assert(nn_max_rel(o1, o2, n, 1e-3) < RTOL);
    sw_gelu_backward(d1, x, dy, n, 1);
    sw_gelu_backward_naive(d2, x, dy, n);
    cr_assert(nn_max_rel(d1, d2, n, 1e-3) < RTOL, "%g", nn_max_rel(d1, d2, n, 1e-3));
}

static void attention_case(int B, int T, int C, int NH, double atol)
{
    size_t ni = (size_t)B * T * 3 * C, no = (size_t)B * T * C, na = (size_t)B * NH * T * T;
    float *x = nn_floats(ni), *dy = nn_floats(no);
    nn_fill_normal(x, ni, 1.5, 11); nn_fill_normal(dy, no, 1, 12);
    float *o1 = nn_floats(no), *o2 = nn_floats(no), *a1 = nn_floats(na), *a2 = nn_floats(na);
    sw_attention_forward(o1, a1, x, B, T, C, NH);
    sw_attention_forward_naive(o2, a2, x, B, T, C, NH);
    cr_assert(nn_max_rel(o1, o2, no, atol) < RTOL, "%g", nn_max_rel(o1, o2, no, atol));
    cr_assert(nn_max_rel(a1, a2, na, atol) < RTOL);
    float *d1 = nn_floats(ni), *d2 = nn_floats(ni);
    sw_attention_backward(d1, dy, x, a1, B, T, C, NH, 1);
    sw_attention_backward_naive(d2, dy, x, a1, B, T, C, NH);
    cr_assert(nn_max_rel(d1, d2, ni, atol) < RTOL, "%g", nn_max_rel(d1, d2, ni, atol));
}

/* hs*T small: the transposed-tile path; hs*T > 16384: the direct-dot path */
Test(nn_kernels, attention) { attention_case(3, 9, 24, 3, 1e-3); }
/* sums of 130 terms: atol 1e-2 */
Test(nn_kernels, attention_long_wide_heads) { attention_case(1, 130, 256, 2, 1e-2); }

/* acc = 0 overwrites whatever the input gradient held (here NaN) and equals
 * acc = 1 into zeros. */
Test(nn_kernels, backward_overwrite_mode)
{
    int N = 40, C = 24, OC = 30, NH = 3, T = 8, B = N / T;
    size_t ni = (size_t)N * 3 * C;
    float *x = nn_floats(ni), *dy = nn_floats(ni), *w = nn_floats((size_t)OC * C), *dw = nn_floats((size_t)OC * C);
    nn_fill_normal(x, ni, 1, 30); nn_fill_normal(dy, ni, 1, 31); nn_fill_normal(w, (size_t)OC * C, 1, 32);
    size_t big = ni > 400 * 30 ? ni : 400 * 30;
    float *z = nn_floats(big), *g = nn_floats(big), *att = nn_floats((size_t)B * NH * T * T);
    int sizes[2][3] = {{N, C, OC}, {400, 24, 30}}; /* small loops and BLAS */
    float *xb = nn_floats(400 * 30), *dyb = nn_floats(400 * 30);
    nn_fill_normal(xb, 400 * 30, 1, 33); nn_fill_normal(dyb, 400 * 30, 1, 34);
    for (int k = 0; k < 2; k++) {
        int n = sizes[k][0];
        memset(z, 0, big * 4);
        for (size_t i = 0; i < big; i++) g[i] = NAN;
        sw_matmul_backward(z, dw, NULL, dyb, xb, w, n, C, OC, 1);
        sw_matmul_backward(g, dw, NULL, dyb, xb, w, n, C, OC, 0);
        /* the BLAS may take another code path for beta = 0: equal values, not bits */
        cr_assert(nn_max_rel(g, z, (size_t)n * C, 1e-1) < 1e-6, "matmul size %d", n);
    }
    size_t n = (size_t)N * C;
#define OVERWRITE(call_acc, call_set, count)                        \
    do {                                                            \
        memset(z, 0, ni * 4);                                       \
        for (size_t i = 0; i < ni; i++) g[i] = NAN;                 \
        call_acc;                                                   \
        call_set;                                                   \
        cr_assert(memcmp(z, g, (count) * 4) == 0, #call_set);       \
    } while (0)
    OVERWRITE(sw_gelu_backward(z, x, dy, n, 1), sw_gelu_backward(g, x, dy, n, 0), n);
    OVERWRITE(sw_relu_backward(z, x, dy, n, 1), sw_relu_backward(g, x, dy, n, 0), n);
    OVERWRITE(sw_dropout_backward(z, dy, n, 0.3f, 1, 2, 0, 1), sw_dropout_backward(g, dy, n, 0.3f, 1, 2, 0, 0), n);
    sw_attention_forward(z, att, x, B, T, C, NH);
    OVERWRITE(sw_attention_backward(z, dy, x, att, B, T, C, NH, 1), sw_attention_backward(g, dy, x, att, B, T, C, NH, 0),
              ni);
    int32_t tg[40];
    for (int i = 0; i < 40; i++) tg[i] = i % 5;
    sw_xent_forward(x, dy, tg, NULL, N, 5);
    OVERWRITE(sw_xent_backward(z, x, tg, NULL, N, 5, 1.0f, 1), sw_xent_backward(g, x, tg, NULL, N, 5, 1.0f, 0),
              (size_t)N * 5);
#undef OVERWRITE
}

Test(nn_kernels, xent)
{
    int N = 41, V = 67;
    float *z = nn_floats((size_t)N * V), *p1 = nn_floats((size_t)N * V), *p2 = nn_floats((size_t)N * V);
    float mask[41];
    int32_t tg[41];
    nn_fill_normal(z, (size_t)N * V, 3, 13);
    for (int i = 0; i < N; i++) {
        tg[i] = (i * 7) % V;
        mask[i] = (float)(i % 3);
    }
    float l1 = sw_xent_forward(p1, z, tg, mask, N, V), l2 = sw_xent_forward_naive(p2, z, tg, mask, N, V);
    cr_assert(fabsf(l1 - l2) <= 1e-5f * fabsf(l2), "%g vs %g", l1, l2);
    cr_assert(nn_max_rel(p1, p2, (size_t)N * V, 1e-6) < RTOL);
    float l0 = sw_xent_forward(p1, z, tg, NULL, N, V), l0n = sw_xent_forward_naive(p2, z, tg, NULL, N, V);
    cr_assert(fabsf(l0 - l0n) <= 1e-5f * fabsf(l0n));
}

/* The non-GEMM kernels sum in a fixed order inside one iteration: the same
 * bits at 1 and at 2 threads. The dropout mask is a function of (seed,
 * stream, index) only. */
Test(nn_kernels, thread_count_independent)
{
    int B = 4, T = 16, C = 32, NH = 4;
    size_t ni = (size_t)B * T * 3 * C, no = (size_t)B * T * C, na = (size_t)B * NH * T * T;
    float *x = nn_floats(ni), *dy = nn_floats(no);
    nn_fill_normal(x, ni, 1, 14); nn_fill_normal(dy, no, 1, 15);
    float *o[2], *a[2], *d[2], *dr[2], *ln[2], *dln[2], *dw[2];
    float w[32], bb[32], mean[64], rstd[64];
    for (int i = 0; i < 32; i++) w[i] = 1.0f + 0.01f * i, bb[i] = 0.1f * i;
    for (int k = 0; k < 2; k++) {
        sw_blas_init(k + 1);
        cr_assert_eq(sw_threads(), k + 1);
        o[k] = nn_floats(no); a[k] = nn_floats(na); d[k] = nn_floats(ni); dr[k] = nn_floats(ni);
        ln[k] = nn_floats(no); dln[k] = nn_floats(no); dw[k] = nn_floats(C);
        sw_attention_forward(o[k], a[k], x, B, T, C, NH);
        sw_attention_backward(d[k], dy, x, a[k], B, T, C, NH, 1);
        sw_dropout_forward(dr[k], x, ni, 0.25f, 99, 3, 0);
        sw_layernorm_forward(ln[k], mean, rstd, dy, w, bb, B * T, C);
        sw_layernorm_backward(dln[k], dw[k], NULL, o[k], dy, w, mean, rstd, B * T, C);
    }
    sw_blas_init(2);
    cr_assert(memcmp(o[0], o[1], no * 4) == 0);
    cr_assert(memcmp(a[0], a[1], na * 4) == 0);
    cr_assert(memcmp(d[0], d[1], ni * 4) == 0);
    cr_assert(memcmp(dr[0], dr[1], ni * 4) == 0);
    cr_assert(memcmp(ln[0], ln[1], no * 4) == 0);
    cr_assert(memcmp(dln[0], dln[1], no * 4) == 0);
    cr_assert(memcmp(dw[0], dw[1], C * 4) == 0);
    /* and the mask really is a mask with the promised rate and scaling */
    size_t dropped = 0;
    for (size_t i = 0; i < ni; i++) {
        if (dr[0][i] == 0.0f) dropped++;
        else cr_assert(fabsf(dr[0][i] - x[i] / 0.75f) <= 1e-6f * fabsf(x[i]) + 1e-12f);
    }
    double rate = (double)dropped / ni;
    cr_assert(rate > 0.2 && rate < 0.3, "drop rate %g for p = 0.25", rate);
}
