/* The tree-structured Parzen estimator, univariate (each dimension on its
 * own), as written out in include/stopwise/search.h.
 *
 * Why TPE and not a Gaussian process: the trials' scores mix depth (how far
 * a pruned trial got) with EM, a ranking more than a smooth function; TPE
 * needs only the split into good and bad, handles choices natively, costs
 * O(n) per proposal, and it is what Optuna's users compare against.
 *
 * Everything lives in the unit cube: a log range is already uniform in log
 * there, and an integer is its cell's coordinate (the point was snapped). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TPE_MAX_GOOD 25

typedef struct ranked {
    const double *point;
    double score;
    size_t order; /* position in the history: ties keep it */
} ranked;

static int by_score_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->order > y->order) - (x->order < y->order);
}

/* A mixture of normals truncated to [0,1], equal weights. */
typedef struct parzen {
    double *mu, *sigma;
    size_t n;
} parzen;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Components: one per observation, bandwidth the larger gap to its sorted
 * neighbours (the bounds 0 and 1 at the ends), clipped to
 * [1/min(100, n+1), 1] (Bergstra et al. 2011; Optuna's "magic clip"); and
 * the prior N(0.5, 1), which keeps every region possible. */
static sw_status parzen_fit(const double *x, size_t n, parzen *p)
{
    p->n = n + 1;
    p->mu = malloc(2 * p->n * sizeof *p->mu);
    if (!p->mu) return SW_ERR_NOMEM;
    p->sigma = p->mu + p->n;
    memcpy(p->mu, x, n * sizeof *x);
    qsort(p->mu, n, sizeof *p->mu, cmp_double);
    double lo_clip = 1.0 / (double)(p->n < 100 ? p->n : 100);
    for (size_t i = 0; i < n; i++) {
        double left = p->mu[i] - (i ? p->mu[i - 1] : 0.0);
        double right = (i + 1 < n ? p->mu[i + 1] : 1.0) - p->mu[i];
        double s = left > right ? left : right;
        p->sigma[i] = s < lo_clip ? lo_clip : s > 1 ? 1 : s;
    }
    p->mu[n] = 0.5;
    p->sigma[n] = 1.0;
    return SW_OK;
}

static double phi_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

static double parzen_pdf(const parzen *p, double x)
{
    double sum = 0;
    for (size_t i = 0; i < p->n; i++) {
        double s = p->sigma[i], z = (x - p->mu[i]) / s;
        double mass = phi_cdf((1 - p->mu[i]) / s) - phi_cdf(-p->mu[i] / s);
        if (mass < 1e-12) mass = 1e-12;
        sum += exp(-0.5 * z * z) / (s * sqrt(2 * M_PI)) / mass;
    }
    return sum / (double)p->n;
}

static double parzen_draw(const parzen *p, sw_rng *r)
{
    size_t k = (size_t)sw_rng_below(r, p->n);
    for (int tries = 0; tries < 100; tries++) {
        double x = p->mu[k] + p->sigma[k] * sw_rng_normal(r);
        if (x >= 0 && x < 1) return x;
    }
    return sw_rng_uniform(r); /* a component almost wholly outside: fall back */
}

/* A continuous dimension: candidates from l, the best l/g wins. */
static sw_status propose_real(const ranked *obs, size_t n, size_t n_good, size_t j, size_t candidates, sw_rng *r,
                              double *out)
{
    double *x = malloc(n * sizeof *x);
    if (!x) return SW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) x[i] = obs[i].point[j];
    parzen l = {0}, g = {0};
    sw_status st = parzen_fit(x, n_good, &l);
    if (!st) st = parzen_fit(x + n_good, n - n_good, &g);
    if (!st) {
        double best = -INFINITY;
        for (size_t c = 0; c < candidates; c++) {
            double cand = parzen_draw(&l, r);
            double ratio = log(parzen_pdf(&l, cand)) - log(parzen_pdf(&g, cand));
            if (ratio > best) {
                best = ratio;
                *out = cand;
            }
        }
    }
    free(l.mu);
    free(g.mu);
    free(x);
    return st;
}

/* A choice of k items: weights 1 + count in each set. */
static sw_status propose_choice(const ranked *obs, size_t n, size_t n_good, size_t j, size_t k, size_t candidates,
                                sw_rng *r, double *out)
{
    double *wl = calloc(2 * k, sizeof *wl);
    if (!wl) return SW_ERR_NOMEM;
    double *wg = wl + k, sl = (double)k + (double)n_good, sg = (double)k + (double)(n - n_good);
    for (size_t c = 0; c < k; c++) wl[c] = wg[c] = 1;
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)(obs[i].point[j] * (double)k);
        if (c >= k) c = k - 1;
        (i < n_good ? wl : wg)[c] += 1;
    }
    double best = -INFINITY;
    size_t pick = 0;
    for (size_t t = 0; t < candidates; t++) {
        double u = sw_rng_uniform(r) * sl, acc = 0;
        size_t c = 0;
        while (c + 1 < k && (acc += wl[c]) <= u) c++;
        double ratio = log(wl[c] / sl) - log(wg[c] / sg);
        if (ratio > best) {
            best = ratio;
            pick = c;
        }
    }
    *out = ((double)pick + 0.5) / (double)k;
    free(wl);
    return SW_OK;
}

sw_status sw_sampler_tpe(const sw_sampler_options *o, const sw_space *space, uint64_t seed, uint64_t number,
                         const sw_search_obs *history, size_t n_history, double *point, sw_error *err)
{
    size_t d = sw_space_n_dims(space);
    ranked *obs = malloc((n_history ? n_history : 1) * sizeof *obs);
    if (!obs) return sw_error_set(err, SW_ERR_NOMEM, "tpe: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < n_history; i++)
        if (history[i].score == history[i].score) obs[n++] = (ranked){history[i].point, history[i].score, i};
    /* too few to split into two non-empty sets: the Halton start */
    if (n < o->startup || n < 2) {
        free(obs);
        return sw_halton_point(seed, number, d, point, err);
    }
    qsort(obs, n, sizeof *obs, by_score_desc);
    size_t n_good = (size_t)ceil(o->gamma * (double)n);
    if (n_good > TPE_MAX_GOOD) n_good = TPE_MAX_GOOD;
    if (n_good < 1) n_good = 1;
    if (n_good >= n) n_good = n - 1;
    sw_rng r;
    sw_search_rng(&r, seed, SW_SEARCH_STREAM_TPE, number);
    sw_status st = SW_OK;
    for (size_t j = 0; !st && j < d; j++) {
        size_t k = sw_space_dim_n_choices(space, j);
        st = k ? propose_choice(obs, n, n_good, j, k, o->candidates, &r, &point[j])
               : propose_real(obs, n, n_good, j, o->candidates, &r, &point[j]);
    }
    free(obs);
    return st ? sw_error_set(err, st, "tpe: out of memory") : SW_OK;
}
