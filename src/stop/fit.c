/* Learning-curve extrapolation: three saturating families fitted by
 * Levenberg-Marquardt least squares (Marquardt 1963, damping on the diagonal
 * of J^T J), predicted at t = 1 (the horizon) with a delta-method standard
 * deviation, and combined with Akaike weights. The families are those of
 * Domhan, Springenberg and Hutter (IJCAI 2015). No library: three parameters
 * need only a 3x3 solve. */
#include "stop/internal.h"

#include <math.h>
#include <string.h>

/* f(t; th) and its gradient g = df/dth. Returns 0 if th is out of range. */
typedef int (*family_fn)(const double th[3], double t, double *f, double g[3]);

/* pow3: f = c - a t^(-alpha), alpha > 0 */
static int pow3(const double th[3], double t, double *f, double g[3])
{
    double c = th[0], a = th[1], al = th[2];
    if (!(al > 0 && al < 50)) return 0;
    double p = pow(t, -al);
    *f = c - a * p;
    g[0] = 1;
    g[1] = -p;
    g[2] = a * p * log(t);
    return 1;
}

/* exp3: f = c - a exp(-b t), b > 0 */
static int exp3(const double th[3], double t, double *f, double g[3])
{
    double c = th[0], a = th[1], b = th[2];
    if (!(b > 0 && b < 1e4)) return 0;
    double e = exp(-b * t);
    *f = c - a * e;
    g[0] = 1;
    g[1] = -e;
    g[2] = a * t * e;
    return 1;
}

/* log-power: f = c / (1 + (t/e^b)^(-a)) = c s, s = 1/(1+exp(-a(ln t - b))), a > 0 */
static int logpow(const double th[3], double t, double *f, double g[3])
{
    double c = th[0], a = th[1], b = th[2];
    if (!(a > 0 && a < 100)) return 0;
    double lt = log(t) - b, z = -a * lt;
    double s = z > 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z)); /* stable logistic */
    *f = c * s;
    double ds = s * (1 - s);
    g[0] = s;
    g[1] = c * ds * lt;
    g[2] = -c * ds * a;
    return 1;
}

static const family_fn families[3] = {pow3, exp3, logpow};

/* SSE of th over the data, or NaN if out of range or non-finite. */
static double sse_of(family_fn fn, const double th[3], const double *t, const double *y, size_t n)
{
    double s = 0, f, g[3];
    for (size_t i = 0; i < n; i++) {
        if (!fn(th, t[i], &f, g)) return NAN;
        double r = y[i] - f;
        s += r * r;
    }
    return isfinite(s) ? s : NAN;
}

static void normal_eq(family_fn fn, const double th[3], const double *t, const double *y, size_t n, double A[3][3],
                      double b[3])
{
    memset(A, 0, 9 * sizeof(double));
    memset(b, 0, 3 * sizeof(double));
    double f, g[3];
    for (size_t i = 0; i < n; i++) {
        fn(th, t[i], &f, g);
        double r = y[i] - f;
        for (int p = 0; p < 3; p++) {
            b[p] += g[p] * r;
            for (int q = 0; q < 3; q++) A[p][q] += g[p] * g[q];
        }
    }
}

/* Inverse of a symmetric 3x3 by cofactors; 0 if (near) singular. */
static int inv3(const double A[3][3], double X[3][3])
{
    double c00 = A[1][1] * A[2][2] - A[1][2] * A[2][1];
    double c01 = A[1][2] * A[2][0] - A[1][0] * A[2][2];
    double c02 = A[1][0] * A[2][1] - A[1][1] * A[2][0];
    double det = A[0][0] * c00 + A[0][1] * c01 + A[0][2] * c02;
    double scale = fabs(A[0][0] * A[1][1] * A[2][2]) + 1e-300;
    if (!isfinite(det) || fabs(det) < 1e-13 * scale) return 0;
    double id = 1.0 / det;
    X[0][0] = c00 * id;
    X[1][0] = c01 * id;
    X[2][0] = c02 * id;
    X[0][1] = (A[0][2] * A[2][1] - A[0][1] * A[2][2]) * id;
    X[1][1] = (A[0][0] * A[2][2] - A[0][2] * A[2][0]) * id;
    X[2][1] = (A[0][1] * A[2][0] - A[0][0] * A[2][1]) * id;
    X[0][2] = (A[0][1] * A[1][2] - A[0][2] * A[1][1]) * id;
    X[1][2] = (A[0][2] * A[1][0] - A[0][0] * A[1][2]) * id;
    X[2][2] = (A[0][0] * A[1][1] - A[0][1] * A[1][0]) * id;
    return 1;
}

/* Levenberg-Marquardt from th (updated in place), at most max_it accepted
 * steps; returns the SSE or NaN. */
static double lm(family_fn fn, double th[3], const double *t, const double *y, size_t n, int max_it)
{
    double sse = sse_of(fn, th, t, y, n);
    if (isnan(sse)) return NAN;
    double lambda = 1e-3, A[3][3], b[3], M[3][3], Mi[3][3];
    for (int it = 0; it < max_it; it++) {
        normal_eq(fn, th, t, y, n, A, b);
        int accepted = 0;
        while (lambda < 1e12) {
            memcpy(M, A, sizeof M);
            for (int p = 0; p < 3; p++) M[p][p] += lambda * A[p][p] + 1e-12;
            double cand[3];
            if (inv3(M, Mi)) {
                for (int p = 0; p < 3; p++) cand[p] = th[p] + Mi[p][0] * b[0] + Mi[p][1] * b[1] + Mi[p][2] * b[2];
                double s2 = sse_of(fn, cand, t, y, n);
                if (!isnan(s2) && s2 <= sse) {
                    double rel = (sse - s2) / (sse + 1e-300);
                    memcpy(th, cand, sizeof cand);
                    sse = s2;
                    lambda = lambda * 0.3 > 1e-12 ? lambda * 0.3 : 1e-12;
                    accepted = rel > 1e-7 ? 1 : 2;
                    break;
                }
            }
            lambda *= 10;
        }
        if (accepted != 1) break; /* converged or stuck */
    }
    return sse;
}

static void cold_start(int m, const double *t, const double *y, size_t n, double th[3])
{
    double ymin = y[0], ymax = y[0];
    for (size_t i = 1; i < n; i++) {
        if (y[i] < ymin) ymin = y[i];
        if (y[i] > ymax) ymax = y[i];
    }
    double c = ymax + 0.1 * (ymax - ymin) + 1e-3 * fabs(ymax) + 1e-6;
    if (m == 0) {
        th[0] = c;
        th[2] = 0.5;
        th[1] = (c - y[0]) * pow(t[0], 0.5);
    } else if (m == 1) {
        th[0] = c;
        th[2] = 3;
        th[1] = (c - y[0]) * exp(3 * t[0]);
    } else {
        th[0] = c;
        th[1] = 1;
        th[2] = log(t[n / 2]);
    }
}

/* Fits family m; fills its prediction at t = 1 and its variance. */
static int fit_one(int m, const double *t, const double *y, size_t n, double th[3], int *ok, double *mu, double *var,
                   double *sse_out)
{
    family_fn fn = families[m];
    for (int attempt = 0; attempt < 2; attempt++) {
        double cand[3];
        if (attempt == 0 && !*ok) continue; /* no warm start yet */
        if (attempt == 0) memcpy(cand, th, sizeof cand);
        else cold_start(m, t, y, n, cand);
        /* A warm start continues from the previous evaluation's fit, so a few
         * steps per evaluation suffice (the fit keeps converging across
         * evaluations); this keeps replay cheap for the tuner. */
        double sse = lm(fn, cand, t, y, n, attempt == 0 ? 12 : 100);
        if (isnan(sse)) continue;
        double A[3][3], b[3], Ai[3][3], f, g[3];
        normal_eq(fn, cand, t, y, n, A, b);
        if (!inv3(A, Ai)) continue;
        if (!fn(cand, 1.0, &f, g) || !isfinite(f)) continue;
        double s2 = sse / (double)(n - 3), v = 0;
        for (int p = 0; p < 3; p++)
            for (int q = 0; q < 3; q++) v += g[p] * Ai[p][q] * g[q];
        v *= s2;
        if (!isfinite(v) || v < 0) continue;
        memcpy(th, cand, sizeof cand);
        *ok = 1;
        *mu = f;
        *var = v;
        *sse_out = sse;
        return 1;
    }
    *ok = 0;
    return 0;
}

int sw_extrapolate_fit(const double *t, const double *y, size_t n, double theta[3][3], int theta_ok[3], double *mean,
                       double *sd)
{
    if (n < 4) return 0;
    double mu[3], var[3], aic[3], amin = INFINITY;
    int good[3];
    for (int m = 0; m < 3; m++) {
        double sse;
        good[m] = fit_one(m, t, y, n, theta[m], &theta_ok[m], &mu[m], &var[m], &sse);
        if (!good[m]) continue;
        /* Akaike: AIC = n ln(SSE/n) + 2k, k = 3 for every family */
        double floor = 1e-12 * (double)n;
        aic[m] = (double)n * log((sse > floor ? sse : floor) / (double)n) + 6.0;
        if (aic[m] < amin) amin = aic[m];
    }
    double wsum = 0, w[3] = {0, 0, 0};
    for (int m = 0; m < 3; m++)
        if (good[m]) wsum += (w[m] = exp(-0.5 * (aic[m] - amin)));
    if (wsum <= 0) return 0;
    double mu_bar = 0;
    for (int m = 0; m < 3; m++) mu_bar += (w[m] /= wsum) * (good[m] ? mu[m] : 0);
    double v = 0;
    for (int m = 0; m < 3; m++)
        if (good[m]) v += w[m] * (var[m] + (mu[m] - mu_bar) * (mu[m] - mu_bar));
    if (!isfinite(mu_bar) || !isfinite(v)) return 0;
    *mean = mu_bar;
    *sd = sqrt(v);
    return 1;
}
