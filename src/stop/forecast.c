/* Calibrated forecasts of a curve's future maximum (split conformal
 * prediction over the task's earlier curves).
 *
 * Why: the extrapolate rule's delta-method interval only counts the fit's
 * parameter uncertainty. It ignores model error (no family is the true
 * curve) and the noise of the evaluations still to come, whose maximum is
 * what the run will actually reach; on curves with known end points it missed
 * the truth by 6-10 standard deviations. A forecast that must be trusted is
 * calibrated against what happened on comparable curves instead.
 *
 * Method. On a prefix of a curve (best so far b) a base predictor gives a
 * point p and a scale s of the future maximum M = max_j v(j) up to the
 * horizon:
 *     fit:   p = max(b, mu), s = sqrt(sd^2 + sigma^2), mu and sd from the
 *            Akaike-weighted learning-curve fit (fit.c) at the horizon, sigma
 *            the evaluation noise from successive differences of the prefix;
 *     gain:  p = b, s = 1 (the empirical future gain, in metric units).
 * The conformity score of a reference prefix is r = (M - p) / s. The
 * forecaster stores (f, r) for prefixes of every reference curve at budget
 * fractions f = T/H in [0.05, 0.95]. A forecast at fraction f takes the scores
 * with |f_i - f| <= w (w from 0.025, widened until 20 scores are in) and reads
 * the interval at level 1 - a from their empirical quantiles with the
 * finite-sample correction of split conformal prediction (Vovk, Gammerman and
 * Shafer 2005; Lei et al. 2018, "Distribution-free predictive inference for
 * regression"): ranks floor((m+1)a/2) and ceil((m+1)(1-a/2)) of m sorted
 * scores, clamped to [1, m]. Then
 *     lo = max(b, p + r_lo s),  hi = max(lo, p + r_hi s),
 *     mean = max(b, p + median(r) s),
 * since the future maximum is never below the best so far. Scores from one
 * curve are correlated, so the guarantee holds across curves, not prefixes:
 * sw_forecast_coverage measures it by leaving one curve out.
 * Without reference curves the forecast is the fit's own mu +- z sd
 * (calibrated = 0). */
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FC_MIN_POINTS 4     /* the fit needs four evaluations */
#define FC_MAX_CUTS 60      /* reference prefixes per curve */
#define FC_MIN_SCORES 20    /* scores a quantile is read from */
#define FC_NOISE_WINDOW 20  /* evaluations the noise is estimated on */

typedef struct fc_score {
    double f;     /* budget fraction of the prefix */
    double r;     /* conformity score */
    size_t curve; /* which reference curve it came from */
} fc_score;

struct sw_forecaster {
    sw_forecast_method method;
    double level;
    fc_score *scores;
    size_t n_scores, cap_scores;
};

/* Noise of single evaluations from successive differences over the last
 * FC_NOISE_WINDOW points: var(v_j - v_{j-1}) = 2 sigma^2 when the trend
 * between neighbours is small against the noise. */
static double noise_sd(const double *v, size_t n)
{
    size_t from = n > FC_NOISE_WINDOW ? n - FC_NOISE_WINDOW : 0, m = 0;
    double ss = 0;
    for (size_t j = from + 1; j < n; j++) {
        if (!isfinite(v[j]) || !isfinite(v[j - 1])) continue;
        double d = v[j] - v[j - 1];
        ss += d * d;
        m++;
    }
    return m ? sqrt(ss / (2.0 * (double)m)) : 0.0;
}

/* The base predictor on a prefix (values oriented larger-is-better). Fills
 * the best so far, the point and the scale; returns 0 without a finite value. */
static int base_predict(sw_forecast_method method, const uint64_t *tokens, const double *v, size_t n, uint64_t horizon,
                        double theta[3][3], int theta_ok[3], double *best, double *p, double *s, double *fit_sd)
{
    double b = -INFINITY;
    for (size_t j = 0; j < n; j++)
        if (isfinite(v[j]) && v[j] > b) b = v[j];
    if (!isfinite(b)) return 0;
    *best = b;
    *fit_sd = NAN;
    if (method == SW_FORECAST_GAIN) {
        *p = b;
        *s = 1.0;
        return 1;
    }
    double sigma = noise_sd(v, n);
    double floor = 1e-3 * (fabs(b) > 1 ? fabs(b) : 1.0);
    *p = b;
    *s = sigma > floor ? sigma : floor;
    if (n < FC_MIN_POINTS || !horizon) return 1;
    /* t = T/H, as the extrapolate rule fits; finite points only */
    double *t = malloc(2 * n * sizeof *t);
    if (!t) return 1;
    double *y = t + n;
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        if (!isfinite(v[j]) || tokens[j] == 0) continue;
        t[m] = (double)tokens[j] / (double)horizon;
        y[m++] = v[j];
    }
    double mu, sd;
    if (m >= FC_MIN_POINTS && sw_extrapolate_fit(t, y, m, theta, theta_ok, &mu, &sd)) {
        *fit_sd = sd;
        if (mu > *p) *p = mu;
        double sc = sqrt(sd * sd + sigma * sigma);
        *s = sc > floor ? sc : floor;
    }
    free(t);
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Appends the scores of every reference prefix of one curve. */
static sw_status add_curve_scores(sw_forecaster *fc, size_t curve, const uint64_t *tok, const double *v, size_t n,
                                  sw_error *err)
{
    if (n < FC_MIN_POINTS + 1) return SW_OK;
    uint64_t horizon = tok[n - 1];
    double M = -INFINITY;
    for (size_t j = 0; j < n; j++)
        if (isfinite(v[j]) && v[j] > M) M = v[j];
    if (!isfinite(M) || !horizon) return SW_OK;
    size_t stride = n / FC_MAX_CUTS + 1;
    double theta[3][3] = {{0}};
    int theta_ok[3] = {0, 0, 0};
    if (SW_ARRAY_RESERVE(fc->scores, fc->cap_scores, fc->n_scores + n / stride + 1))
        return sw_error_set(err, SW_ERR_NOMEM, "forecaster: out of memory");
    for (size_t k = FC_MIN_POINTS; k < n; k += stride) {
        double f = (double)tok[k - 1] / (double)horizon;
        if (f < 0.05 || f > 0.95) continue;
        double b, p, s, fsd;
        if (!base_predict(fc->method, tok, v, k, horizon, theta, theta_ok, &b, &p, &s, &fsd)) continue;
        fc->scores[fc->n_scores++] = (fc_score){f, (M - p) / s, curve};
    }
    return SW_OK;
}

/* Oriented copy of a curve's monitored column (negated when minimizing). */
static sw_status oriented_column(const sw_curve *c, const char *metric, int maximize, double **out, sw_error *err)
{
    const double *col = sw_curve_column(c, metric, NULL);
    if (!col)
        return sw_error_set(err, SW_ERR_FORMAT, "%s: no column '%s' to forecast",
                            sw_curve_source(c)[0] ? sw_curve_source(c) : "(curve)", metric);
    size_t n = sw_curve_len(c);
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return sw_error_set(err, SW_ERR_NOMEM, "forecaster: out of memory");
    for (size_t j = 0; j < n; j++) v[j] = maximize ? col[j] : -col[j];
    *out = v;
    return SW_OK;
}

sw_status sw_forecaster_create(const sw_curve *const *refs, size_t n_refs, const char *metric, int maximize,
                               sw_forecast_method method, double level, sw_forecaster **out, sw_error *err)
{
    *out = NULL;
    if (!(level > 0 && level < 1))
        return sw_error_set(err, SW_ERR_INVALID, "forecast level %g: expected a probability in (0, 1)", level);
    if (method != SW_FORECAST_FIT && method != SW_FORECAST_GAIN)
        return sw_error_set(err, SW_ERR_INVALID, "unknown forecast method %d", (int)method);
    sw_forecaster *fc = calloc(1, sizeof *fc);
    if (!fc) return sw_error_set(err, SW_ERR_NOMEM, "forecaster: out of memory");
    fc->method = method;
    fc->level = level;
    for (size_t i = 0; i < n_refs; i++) {
        double *v = NULL;
        sw_status st = oriented_column(refs[i], metric, maximize, &v, err);
        if (st == SW_OK) st = add_curve_scores(fc, i, sw_curve_tokens(refs[i]), v, sw_curve_len(refs[i]), err);
        free(v);
        if (st != SW_OK) {
            sw_forecaster_free(fc);
            return st;
        }
    }
    *out = fc;
    return SW_OK;
}

void sw_forecaster_free(sw_forecaster *fc)
{
    if (!fc) return;
    free(fc->scores);
    free(fc);
}

size_t sw_forecaster_n_scores(const sw_forecaster *fc) { return fc ? fc->n_scores : 0; }

/* Standard normal quantile for the uncalibrated fallback (Acklam's rational
 * approximation is overkill here: the levels used are the usual ones). */
static double z_of(double level)
{
    static const struct { double level, z; } table[] = {{0.5, 0.674}, {0.8, 1.282}, {0.9, 1.645},
                                                       {0.95, 1.960}, {0.99, 2.576}};
    double z = 1.645, best = INFINITY;
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (fabs(table[i].level - level) < best) best = fabs(table[i].level - level), z = table[i].z;
    return z;
}

/* The forecast, reading only the scores of curves other than `exclude`
 * (SIZE_MAX: all), so a coverage check can leave one curve out without
 * refitting the others. */
static sw_status predict_excluding(const sw_forecaster *fc, size_t exclude, const uint64_t *tokens,
                                   const double *values, size_t n, uint64_t horizon, sw_forecast *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    if (!n || !horizon) return sw_error_set(err, SW_ERR_INVALID, "forecast needs evaluations and a horizon");
    double theta[3][3] = {{0}};
    int theta_ok[3] = {0, 0, 0};
    double b, p, s, fsd;
    if (!base_predict(fc->method, tokens, values, n, horizon, theta, theta_ok, &b, &p, &s, &fsd))
        return sw_error_set(err, SW_ERR_NOT_FOUND, "forecast: no finite evaluation yet");
    out->best = b;
    out->level = fc->level;
    double f = (double)tokens[n - 1] / (double)horizon, a = 1 - fc->level;
    /* the scores near this fraction, widening the window until enough */
    double *r = malloc((fc->n_scores ? fc->n_scores : 1) * sizeof *r);
    if (!r) return sw_error_set(err, SW_ERR_NOMEM, "forecast: out of memory");
    size_t m = 0;
    for (double w = 0.025; w <= 1.0 + 1e-9; w += 0.025) {
        m = 0;
        for (size_t i = 0; i < fc->n_scores; i++)
            if (fc->scores[i].curve != exclude && fabs(fc->scores[i].f - f) <= w) r[m++] = fc->scores[i].r;
        if (m >= FC_MIN_SCORES) break;
    }
    if (m < 2) {
        free(r);
        /* uncalibrated: the base predictor's own normal interval */
        double z = z_of(fc->level), sd = isfinite(fsd) ? fsd : s;
        out->mean = p;
        out->lo = fmax(b, p - z * sd);
        out->hi = fmax(out->lo, p + z * sd);
        out->calibrated = 0;
        return SW_OK;
    }
    qsort(r, m, sizeof *r, cmp_double);
    long klo = (long)floor((double)(m + 1) * a / 2), khi = (long)ceil((double)(m + 1) * (1 - a / 2));
    if (klo < 1) klo = 1;
    if (khi > (long)m) khi = (long)m;
    double med = (m % 2) ? r[m / 2] : 0.5 * (r[m / 2 - 1] + r[m / 2]);
    out->mean = fmax(b, p + med * s);
    out->lo = fmax(b, p + r[klo - 1] * s);
    out->hi = fmax(out->lo, p + r[khi - 1] * s);
    out->n_scores = m;
    out->calibrated = 1;
    free(r);
    return SW_OK;
}

sw_status sw_forecaster_predict(const sw_forecaster *fc, const uint64_t *tokens, const double *values, size_t n,
                                uint64_t horizon, sw_forecast *out, sw_error *err)
{
    return predict_excluding(fc, SIZE_MAX, tokens, values, n, horizon, out, err);
}

/* Index of the last evaluation at or before fraction f of the horizon. */
static size_t cut_at(const uint64_t *tok, size_t n, double f)
{
    double limit = f * (double)tok[n - 1];
    size_t k = 0;
    while (k < n && (double)tok[k] <= limit) k++;
    return k; /* prefix length */
}

sw_status sw_forecast_coverage(const sw_curve *const *curves, size_t n_curves, const char *metric, int maximize,
                               sw_forecast_method method, double level, double fraction, sw_forecast_check *out,
                               sw_error *err)
{
    memset(out, 0, sizeof *out);
    if (n_curves < 2) return sw_error_set(err, SW_ERR_INVALID, "coverage needs at least 2 curves (got %zu)", n_curves);
    sw_forecaster *fc = NULL;
    sw_status st = sw_forecaster_create(curves, n_curves, metric, maximize, method, level, &fc, err);
    double width = 0, abs_err = 0;
    for (size_t h = 0; h < n_curves && st == SW_OK; h++) {
        double *v = NULL;
        st = oriented_column(curves[h], metric, maximize, &v, err);
        if (st != SW_OK) break;
        const uint64_t *tok = sw_curve_tokens(curves[h]);
        size_t n = sw_curve_len(curves[h]), cut = n ? cut_at(tok, n, fraction) : 0;
        double M = -INFINITY;
        for (size_t j = 0; j < n; j++)
            if (isfinite(v[j]) && v[j] > M) M = v[j];
        sw_forecast fo;
        if (cut >= 1 && isfinite(M) && predict_excluding(fc, h, tok, v, cut, tok[n - 1], &fo, NULL) == SW_OK) {
            out->n++;
            out->covered += (M >= fo.lo - 1e-12 && M <= fo.hi + 1e-12);
            width += fo.hi - fo.lo;
            abs_err += fabs(M - fo.mean);
        }
        free(v);
    }
    sw_forecaster_free(fc);
    if (st != SW_OK) return st;
    if (out->n) {
        out->coverage = (double)out->covered / (double)out->n;
        out->mean_width = width / (double)out->n;
        out->mean_abs_error = abs_err / (double)out->n;
    }
    return SW_OK;
}
