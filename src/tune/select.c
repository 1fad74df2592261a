/* The objective (tune.h): aggregate a policy's replay outcomes over a set of
 * curves and pick the best candidate. Every read of the replay table goes
 * through sw_tune_aggregate, which flags the curves it read: that is how the
 * tests prove a held-out curve never took part in a choice. */
#include "tune/internal.h"

#include <math.h>

void sw_tune_aggregate(const sw_tune_table *t, size_t p, const size_t *cur, size_t n, unsigned char *mark,
                       sw_tune_agg *out)
{
    double f = 0, s = 0, worst = 0, tok = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_tune_cell *cell = &t->cells[p * t->n_cur + cur[i]];
        if (mark) mark[cur[i]] = 1;
        f += cell->tokens_fraction;
        s += cell->shortfall;
        tok += (double)cell->stop_tokens;
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
