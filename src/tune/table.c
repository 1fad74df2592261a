/* Replays many policies over many curves. Each (policy, curve) pair goes
 * through sw_replay, the same core a live controller runs, so the tuner's
 * figures are the decisions a training run would have made. Policies are
 * parsed once; the loop over policies runs in parallel (OpenMP), each thread
 * writing its own rows, so the result does not depend on the thread count. */
#include "tune/internal.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

static double budget_of(const sw_curve *c, uint64_t budget)
{
    size_t n = sw_curve_len(c);
    return budget ? (double)budget : n ? (double)sw_curve_tokens(c)[n - 1] : 1.0;
}

sw_status sw_tune_replay_table(const sw_policy *const *policies, size_t n_policies, const sw_curve *const *curves,
                               size_t n_curves, uint64_t budget, int threads, sw_tune_cell *cells, sw_error *err)
{
    sw_status first = SW_OK;
    sw_error first_err = {0};
    long np = (long)n_policies;
    if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
    for (long p = 0; p < np; p++) {
        for (size_t c = 0; c < n_curves; c++) {
            sw_replay_result r;
            sw_error e;
            sw_tune_cell *cell = &cells[(size_t)p * n_curves + c];
            sw_status st = sw_replay(policies[p], curves[c], &r, &e);
            if (st) {
#pragma omp critical(sw_tune_err)
                if (!first) {
                    first = st;
                    first_err = e;
                }
                memset(cell, 0, sizeof *cell);
                continue;
            }
            cell->stop_tokens = r.stop_tokens;
            cell->charged_tokens = r.charged_tokens;
            cell->tokens_fraction = (double)r.charged_tokens / budget_of(curves[c], budget);
            cell->best_em = r.best_em;
            cell->score_em = r.score_em;
            cell->curve_best_em = r.curve_best_em;
        }
    }
    if (first) {
        if (err) *err = first_err;
        return first;
    }
    /* One reference per curve for every policy: the best score any of them
     * could see on it (max val_em, and with cooldowns the best annealed
     * score of each family), so shortfalls compare across families. */
    for (size_t c = 0; c < n_curves; c++) {
        double ref = NAN;
        for (size_t p = 0; p < n_policies; p++) {
            double v = cells[p * n_curves + c].curve_best_em;
            if (isfinite(v) && !(v <= ref)) ref = v;
        }
        for (size_t p = 0; p < n_policies; p++) {
            sw_tune_cell *cell = &cells[p * n_curves + c];
            cell->curve_best_em = ref;
            if (isfinite(cell->score_em))
                cell->shortfall = ref - cell->score_em;
            else /* no finite EM up to the stop: everything was lost */
                cell->shortfall = isfinite(ref) ? ref : 0;
        }
    }
    return SW_OK;
}

sw_status sw_tune_check(const sw_curve *const *curves, size_t n, const sw_tune_options *opt, sw_error *err)
{
    if (!(opt->epsilon >= 0) || !isfinite(opt->epsilon))
        return sw_error_set(err, SW_ERR_INVALID, "epsilon must be a number >= 0 (EM points), not %g", opt->epsilon);
    if (!(opt->lambda >= 0) || !isfinite(opt->lambda))
        return sw_error_set(err, SW_ERR_INVALID, "lambda must be a number >= 0 (EM points per million tokens), not %g",
                            opt->lambda);
    if (!(opt->confidence >= 0 && opt->confidence < 1))
        return sw_error_set(err, SW_ERR_INVALID, "confidence must be in [0, 1) (0.9: a 90%% upper bound; 0: the plain mean), not %g",
                            opt->confidence);
    if (opt->bootstrap < 0 || opt->bootstrap > 4096)
        return sw_error_set(err, SW_ERR_INVALID, "bootstrap resamples must be between 0 and 4096, not %d", opt->bootstrap);
    if (n == 0) return sw_error_set(err, SW_ERR_INVALID, "no curves to tune on");
    if (n < 2)
        return sw_error_set(err, SW_ERR_INVALID,
                            "cross-validation needs at least 2 curves; got 1 (record more runs, e.g. --folds 5)");
    if (opt->folds < 0 || opt->folds == 1 || (size_t)opt->folds > n)
        return sw_error_set(err, SW_ERR_INVALID, "--folds %d: must be between 2 and the number of curves (%zu), or 0 for one per curve",
                            opt->folds, n);
    for (size_t i = 0; i < n; i++) {
        const char *src = sw_curve_source(curves[i])[0] ? sw_curve_source(curves[i]) : "(curve)";
        sw_status st = sw_curve_require(curves[i], "val_em", "the tuner scores policies by validation EM", err);
        if (st) return st;
        const double *em = sw_curve_column(curves[i], "val_em", NULL);
        size_t len = sw_curve_len(curves[i]), finite = 0;
        for (size_t k = 0; k < len; k++) finite += isfinite(em[k]) != 0;
        if (!finite)
            return sw_error_set(err, SW_ERR_FORMAT, "%s: column 'val_em' has no finite value; expected EM in percent",
                                src);
    }
    return SW_OK;
}
