/* The objective (tune.h): aggregate a policy's replay outcomes over a set of
 * curves and pick the best candidate. Every read of the replay table goes
 * through sw_tune_aggregate, which flags the curves it read: that is how the
 * tests prove a held-out curve never took part in a choice. */
#include "tune/internal.h"

#include <math.h>
#include <stdlib.h>

void sw_tune_aggregate(const sw_tune_table *t, size_t p, const size_t *cur, size_t n, unsigned char *mark,
                       sw_tune_agg *out)
{
    double f = 0, s = 0, worst = 0, tok = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_tune_cell *cell = &t->cells[p * t->n_cur + cur[i]];
        if (mark) mark[cur[i]] = 1;
        f += cell->tokens_fraction;
        s += cell->shortfall;
        tok += (double)cell->charged_tokens;
        if (cell->shortfall > worst) worst = cell->shortfall;
    }
    double k = n ? (double)n : 1.0;
    out->tokens_fraction = f / k;
    out->shortfall = s / k;
    out->worst_shortfall = worst;
    out->mean_tokens = tok / k;
}

/* A tiny slack so that a shortfall that is epsilon up to rounding (sums of
 * %.17g values) still counts as within epsilon. */
#define SW_TUNE_SLACK 1e-9

int sw_tune_feasible(const sw_tune_agg *a, const sw_tune_options *opt)
{
    switch (opt->objective) {
    case SW_TUNE_OBJECTIVE_WORST:
        return a->worst_shortfall <= opt->epsilon + SW_TUNE_SLACK;
    case SW_TUNE_OBJECTIVE_PRICED:
        return 1;
    default:
        return a->shortfall <= opt->epsilon + SW_TUNE_SLACK;
    }
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define SW_TUNE_MAX_BOOTSTRAP 4096

double sw_tune_ucb(const sw_tune_table *t, size_t p, const size_t *cur, size_t n, const sw_tune_options *opt)
{
    const sw_tune_cell *row = &t->cells[p * t->n_cur];
    double mean = 0;
    for (size_t i = 0; i < n; i++) mean += row[cur[i]].shortfall;
    mean = n ? mean / (double)n : 0;
    if (!(opt->confidence > 0) || n < 2) return mean;
    int b = opt->bootstrap > 0 ? opt->bootstrap : 200;
    if (b > SW_TUNE_MAX_BOOTSTRAP) b = SW_TUNE_MAX_BOOTSTRAP;
    double means[SW_TUNE_MAX_BOOTSTRAP];
    uint64_t state = opt->seed;
    for (int k = 0; k < b; k++) {
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += row[cur[splitmix64(&state) % n]].shortfall;
        means[k] = sum / (double)n;
    }
    qsort(means, (size_t)b, sizeof *means, cmp_double);
    double conf = opt->confidence < 1 ? opt->confidence : 1;
    size_t q = (size_t)ceil(conf * b);
    return means[q ? q - 1 : 0];
}

/* The value minimised: mean tokens fraction, or for PRICED the lost EM plus
 * lambda times the mean tokens in millions. */
static double cost(const sw_tune_agg *a, const sw_tune_options *opt)
{
    if (opt->objective == SW_TUNE_OBJECTIVE_PRICED) return a->shortfall + opt->lambda * a->mean_tokens / 1e6;
    return a->tokens_fraction;
}

size_t sw_tune_select(const sw_tune_table *t, const size_t *cand, size_t n_cand, const size_t *cur, size_t n_cur,
                      const sw_tune_options *opt, unsigned char *mark, sw_tune_agg *agg)
{
    size_t best = cand[0], fallback = cand[0];
    int have = 0;
    sw_tune_agg ba = {0}, fa = {0};
    for (size_t i = 0; i < n_cand; i++) {
        sw_tune_agg a;
        sw_tune_aggregate(t, cand[i], cur, n_cur, mark, &a);
        if (i == 0 || a.shortfall < fa.shortfall ||
            (a.shortfall == fa.shortfall && a.tokens_fraction < fa.tokens_fraction)) {
            fallback = cand[i];
            fa = a;
        }
        if (!sw_tune_feasible(&a, opt)) continue;
        double c = cost(&a, opt), bc = have ? cost(&ba, opt) : INFINITY;
        /* strictly better cost, or equal cost and less EM lost; else the
         * earlier (more conservative) candidate stays */
        if (!have || c < bc || (c == bc && a.shortfall < ba.shortfall)) {
            /* noise-honest: the mean's upper bound must be within epsilon
             * too (checked only here, where it could change the choice) */
            if (opt->objective == SW_TUNE_OBJECTIVE_CONSTRAINED && opt->confidence > 0 &&
                sw_tune_ucb(t, cand[i], cur, n_cur, opt) > opt->epsilon + SW_TUNE_SLACK)
                continue;
            best = cand[i];
            ba = a;
            have = 1;
        }
    }
    if (!have) {
        best = fallback;
        ba = fa;
    }
    if (agg) *agg = ba;
    return best;
}
