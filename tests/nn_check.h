/* Helpers for the nn/ tests: seeded random fills and a central-difference
 * gradient check.
 *
 * The check: for each element x_i, num_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),
 * with f evaluated in double (the layer runs in float). The error reported is
 * norm-wise, ||analytic - num||_2 / max(||analytic||_2, ||num||_2), which is
 * what a wrong backward moves and float noise does not. */
#ifndef SW_TEST_NN_CHECK_H
#define SW_TEST_NN_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/base.h"

static inline void nn_fill_normal(float *p, size_t n, double std, uint64_t seed)
{
    sw_rng r;
    sw_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = (float)(std * sw_rng_normal(&r));
}

/* Test buffers: zeroed floats that live until the test process exits, where
 * nn_floats_release frees them all, so LeakSanitizer reports only real
 * leaks (a test never frees an nn_floats buffer itself). */
static float **nn_owned;
static size_t nn_n_owned, nn_cap_owned;

static inline void nn_floats_release(void)
{
    for (size_t i = 0; i < nn_n_owned; i++) free(nn_owned[i]);
    free(nn_owned);
    nn_owned = NULL;
    nn_n_owned = nn_cap_owned = 0;
}

static inline float *nn_floats(size_t n)
{
    static int registered;
    if (!registered && atexit(nn_floats_release) == 0) registered = 1;
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p || SW_ARRAY_RESERVE(nn_owned, nn_cap_owned, nn_n_owned + 1)) abort();
    nn_owned[nn_n_owned++] = p;
    return p;
}

typedef double (*nn_loss_fn)(void *ctx);

/* Numerical gradient of f with respect to x (n floats) into num (double). */
static inline void nn_numeric_grad(float *x, size_t n, nn_loss_fn f, void *ctx, double eps, double *num)
{
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = (float)(keep + eps);
        double hi_eps = (double)x[i] - keep; /* the step actually taken in float */
        double fp = f(ctx);
        x[i] = (float)(keep - eps);
        double lo_eps = keep - (double)x[i];
        double fm = f(ctx);
        x[i] = keep;
        num[i] = (fp - fm) / (hi_eps + lo_eps);
    }
}

/* Norm-wise relative error of analytic (float) against num (double). */
static inline double nn_grad_error(const float *analytic, const double *num, size_t n)
{
    double d = 0.0, a = 0.0, b = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = analytic[i] - num[i];
        d += e * e;
        a += (double)analytic[i] * analytic[i];
        b += num[i] * num[i];
    }
    double s = sqrt(a > b ? a : b);
    return s > 0.0 ? sqrt(d) / s : 0.0;
}

static inline double nn_norm(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s);
}

/* The error of a deliberately wrong copy of analytic: element `at` moved by
 * 10% of the gradient's norm. A check that lets this pass is toothless. */
static inline double nn_perturbed_error(const float *analytic, const double *num, size_t n, size_t at)
{
    float *bad = malloc(n * sizeof(float));
    memcpy(bad, analytic, n * sizeof(float));
    bad[at] += (float)(0.1 * nn_norm(analytic, n));
    double e = nn_grad_error(bad, num, n);
    free(bad);
    return e;
}

/* max |a_i - b_i| / (atol + |b_i|) */
static inline double nn_max_rel(const float *a, const float *b, size_t n, double atol)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (atol + fabs((double)b[i]));
        if (e > worst || e != e) worst = e != e ? INFINITY : e;
    }
    return worst;
}

#endif
