/* The tuner's replay table agrees with a live controller fed the same
 * evaluations, for candidates of every family. */
#include "stopwise/tune.h"
#include "tune_fixture.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Feeds the curve to a live controller evaluation by evaluation, as a
 * training loop would; returns the stop index (last if it never stops). */
static size_t live(const sw_policy *p, const sw_curve *c, uint64_t budget, double *best_em)
{
    sw_controller *ctl;
    sw_error e;
    cr_assert_eq(sw_controller_create(p, budget, &ctl, &e), SW_OK, "%s", e.msg);
    size_t n = sw_curve_len(c), i;
    const double *em = sw_curve_column(c, "val_em", NULL), *vl = sw_curve_column(c, "val_loss", NULL),
                 *tl = sw_curve_column(c, "train_loss", NULL);
    for (i = 0; i < n; i++) {
        sw_metric m[3] = {{"val_em", em[i]}, {"val_loss", vl[i]}, {"train_loss", tl[i]}};
        sw_eval ev = {.tokens = sw_curve_tokens(c)[i], .step = (int64_t)i, .wall = 0, .metrics = m, .n_metrics = 3};
        sw_decision d;
        cr_assert_eq(sw_controller_feed(ctl, &ev, &d), SW_OK, "%s", sw_controller_errmsg(ctl));
        if (d.stop) break;
    }
    size_t bi;
    cr_assert_eq(sw_controller_best(ctl, &bi, NULL, NULL), SW_OK);
    *best_em = em[bi];
    sw_controller_free(ctl);
    return i < n ? i : n - 1;
}

Test(tune_replay, table_matches_live_controller_for_every_family)
{
    enum { NC = 4 };
    const uint64_t B = 1000000;
    sw_curve *curves[NC];
    for (int k = 0; k < NC; k++) curves[k] = fx_noisy_curve(11 + k, 100, B, 80 + k, 3 + k, 0.8);
    size_t checked = 0, stopped_early = 0;
    for (int f = 0; f < SW_TUNE_FAMILY_COUNT; f++) {
        char **texts;
        size_t n;
        sw_error e;
        cr_assert_eq(sw_tune_candidates(f, B, NULL, 0, &texts, &n, &e), SW_OK, "%s", e.msg);
        cr_assert_gt(n, 5, "family %s has a grid", sw_tune_family_name(f));
        /* every 5th candidate (extrapolate: every 11th, it fits curves) */
        size_t stride = f == 2 ? 11 : 5;
        size_t np = 0;
        sw_policy *pol[400];
        for (size_t i = 0; i < n && np < 400; i += stride) {
            cr_assert_eq(sw_policy_parse(texts[i], &pol[np], &e), SW_OK, "%s: %s", texts[i], e.msg);
            np++;
        }
        sw_tune_cell *cells = calloc(np * NC, sizeof *cells);
        cr_assert_eq(sw_tune_replay_table((const sw_policy *const *)pol, np, (const sw_curve *const *)curves, NC, B, 2,
                                          cells, &e),
                     SW_OK, "%s", e.msg);
        for (size_t p = 0; p < np; p++) {
            for (int c = 0; c < NC; c++) {
                double best;
                size_t si = live(pol[p], curves[c], B, &best);
                const sw_tune_cell *cell = &cells[p * NC + c];
                char txt[256];
                sw_policy_format(pol[p], txt, sizeof txt);
                cr_assert_eq(cell->stop_tokens, sw_curve_tokens(curves[c])[si], "%s on curve %d", txt, c);
                cr_assert_eq(cell->best_em, best, "%s on curve %d: best EM", txt, c);
                cr_assert_float_eq(cell->tokens_fraction, (double)cell->stop_tokens / (double)B, 1e-12);
                cr_assert(cell->shortfall >= 0);
                checked++;
                stopped_early += si + 1 < 100;
            }
            sw_policy_free(pol[p]);
        }
        free(cells);
        sw_tune_texts_free(texts, n);
    }
    cr_assert_gt(checked, 150);
    /* the comparison is not vacuous: many candidates stop before the end */
    cr_assert_gt(stopped_early, checked / 3, "%zu of %zu stopped early", stopped_early, checked);
    for (int k = 0; k < NC; k++) sw_curve_free(curves[k]);
}

Test(tune_replay, same_result_with_one_or_two_threads)
{
    const uint64_t B = 500000;
    sw_curve *curves[3];
    for (int k = 0; k < 3; k++) curves[k] = fx_noisy_curve(40 + k, 80, B, 70, 4, 1.0);
    sw_tune_options o = sw_tune_default_options();
    o.families = 1u << 0 | 1u << 1 | 1u << 3;
    sw_tune_report *r1, *r2;
    sw_error e;
    o.threads = 1;
    cr_assert_eq(sw_tune_run((const sw_curve *const *)curves, 3, &o, &r1, &e), SW_OK, "%s", e.msg);
    o.threads = 2;
    cr_assert_eq(sw_tune_run((const sw_curve *const *)curves, 3, &o, &r2, &e), SW_OK, "%s", e.msg);
    cr_assert_str_eq(r1->chosen.policy, r2->chosen.policy);
    cr_assert_eq(r1->cv_tokens_fraction, r2->cv_tokens_fraction);
    cr_assert_eq(r1->cv_shortfall, r2->cv_shortfall);
    cr_assert_eq(r1->n_pareto, r2->n_pareto);
    sw_tune_report_free(r1);
    sw_tune_report_free(r2);
    for (int k = 0; k < 3; k++) sw_curve_free(curves[k]);
}
