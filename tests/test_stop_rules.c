/* stop/: every rule on hand-made curves whose stop points are worked out by
 * hand in the comments. Tokens are 1k per evaluation unless said otherwise,
 * so evaluation i (1-based) has i*1000 tokens. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "stopwise/stop.h"

/* Feeds n evaluations (any of em, vl, tl may be NULL = not measured);
 * returns the 1-based evaluation that stopped, 0 if none; *d gets the last
 * decision and *ctl_out (if non-NULL) the controller (caller frees). */
static size_t feed(const char *policy, size_t n, const double *em, const double *vl, const double *tl, uint64_t step,
                   sw_decision *d, sw_controller **ctl_out)
{
    sw_policy *p;
    sw_error err;
    cr_assert_eq(sw_policy_parse(policy, &p, &err), SW_OK, "%s", err.msg);
    sw_controller *c;
    cr_assert_eq(sw_controller_create(p, step * n, &c, &err), SW_OK, "%s", err.msg);
    sw_policy_free(p);
    size_t stop = 0;
    for (size_t i = 0; i < n; i++) {
        sw_metric m[3];
        size_t k = 0;
        if (em) m[k++] = (sw_metric){"val_em", em[i]};
        if (vl) m[k++] = (sw_metric){"val_loss", vl[i]};
        if (tl) m[k++] = (sw_metric){"train_loss", tl[i]};
        sw_eval ev = {.tokens = (i + 1) * step, .step = (int64_t)i, .wall = (double)i, .metrics = m, .n_metrics = k};
        cr_assert_eq(sw_controller_feed(c, &ev, d), SW_OK, "%s", sw_controller_errmsg(c));
        if (d->stop) {
            stop = i + 1;
            break;
        }
    }
    if (ctl_out) *ctl_out = c;
    else sw_controller_free(c);
    return stop;
}

#define N(a) (sizeof(a) / sizeof *(a))

Test(rules, patience_tie_is_not_improvement)
{
    /* ref: 10 (i1), 20 (i2); i3 ties 20 -> wait 1; 25 (i4) resets; 24 wait 1;
     * 26 (i6) resets; i7, i8, i9 tie 26 -> wait 3 at i9: stop. */
    double em[] = {10, 20, 20, 25, 24, 26, 26, 26, 26, 30};
    sw_decision d;
    cr_assert_eq(feed("patience=3", N(em), em, NULL, NULL, 1000, &d, NULL), 9);
    cr_assert_eq(d.rule, SW_RULE_PATIENCE);
    cr_assert_eq(d.rule_index, 0);
    cr_assert_not(d.diverged);
    cr_assert_str_eq(d.reason, "patience: no val_em improvement > 0 for 3 evaluations since 6k tokens (best 26)");
}

Test(rules, patience_min_delta_absolute)
{
    /* ref 10; 10.5 <= 11 wait 1; 11.5 > 11 ref 11.5; 11.6 <= 12.5 wait 1;
     * 12.0 <= 12.5 wait 2: stop at i5 (best overall 12). */
    double em[] = {10, 10.5, 11.5, 11.6, 12.0, 12.4};
    sw_decision d;
    cr_assert_eq(feed("patience=2:min_delta=1", N(em), em, NULL, NULL, 1000, &d, NULL), 5);
    cr_assert_str_eq(d.reason, "patience: no val_em improvement > 1 for 2 evaluations since 3k tokens (best 12)");
}

Test(rules, patience_min_delta_relative)
{
    /* 10% of the reference: ref 10 needs > 11; 10.9 wait 1; 11.1 ref;
     * 12.0 <= 12.21 wait 1; 12.2 <= 12.21 wait 2: stop at i5. */
    double em[] = {10, 10.9, 11.1, 12.0, 12.2, 20};
    sw_decision d;
    cr_assert_eq(feed("patience=2:min_delta=10%", N(em), em, NULL, NULL, 1000, &d, NULL), 5);
    cr_assert(strstr(d.reason, "> 10% for 2 evaluations"), "%s", d.reason);
}

Test(rules, patience_mode_min)
{
    /* losses: 1.0 ref, 0.9 ref, 0.95 wait 1, 0.9 tie wait 2: stop at i4 */
    double vl[] = {1.0, 0.9, 0.95, 0.9, 0.8};
    sw_decision d;
    sw_controller *c;
    cr_assert_eq(feed("patience=2,monitor=val_loss", N(vl), NULL, vl, NULL, 1000, &d, &c), 4);
    size_t bi;
    uint64_t bt;
    double bv;
    cr_assert_eq(sw_controller_best(c, &bi, &bt, &bv), SW_OK);
    cr_assert_eq(bi, 1);
    cr_assert_eq(bt, 2000);
    cr_assert_float_eq(bv, 0.9, 1e-15);
    sw_controller_free(c);
}

Test(rules, target_max_and_min)
{
    double em[] = {10, 30, 49.9, 50, 60};
    sw_decision d;
    cr_assert_eq(feed("target=50", N(em), em, NULL, NULL, 1000, &d, NULL), 4);
    cr_assert_str_eq(d.reason, "target: val_em 50 reached 50 at 4k tokens");
    double vl[] = {1, 0.7, 0.5, 0.4};
    cr_assert_eq(feed("target=0.5,monitor=val_loss:min", N(vl), NULL, vl, NULL, 1000, &d, NULL), 3);
    cr_assert_eq(feed("target=101", N(em), em, NULL, NULL, 1000, &d, NULL), 0);
}

Test(rules, diverge_nonfinite_ignores_warmup)
{
    double em[] = {10, 20, 30, 40};
    double tl[] = {2, 1.5, NAN, 1};
    sw_decision d;
    cr_assert_eq(feed("diverge,warmup=1M", N(em), em, NULL, tl, 1000, &d, NULL), 3);
    cr_assert_eq(d.rule, SW_RULE_DIVERGE);
    cr_assert(d.diverged);
    cr_assert_str_eq(d.reason, "diverge: train_loss is nan at 3k tokens");
    double tl2[] = {2, 1.5, INFINITY, 1};
    cr_assert_eq(feed("diverge", N(em), em, NULL, tl2, 1000, &d, NULL), 3);
    cr_assert(strstr(d.reason, "train_loss is inf"), "%s", d.reason);
    /* without a diverge rule a NaN loss stops nothing */
    cr_assert_eq(feed("patience=10", N(em), em, NULL, tl, 1000, &d, NULL), 0);
}

Test(rules, diverge_max_and_factor)
{
    double em[] = {10, 20, 30, 40, 50};
    double tl[] = {2, 1, 11, 1, 1};
    sw_decision d;
    cr_assert_eq(feed("diverge:max=10", N(em), em, NULL, tl, 1000, &d, NULL), 3);
    cr_assert_str_eq(d.reason, "diverge: train_loss 11 above 10 at 3k tokens");
    /* best loss 1 at i2; 2.9 <= 3 x 1; 3.1 > 3: stop at i4 */
    double tl2[] = {2, 1, 2.9, 3.1, 1};
    cr_assert_eq(feed("diverge:factor=3", N(em), em, NULL, tl2, 1000, &d, NULL), 4);
    cr_assert_str_eq(d.reason, "diverge: train_loss 3.1 above 3 x its best 1 at 4k tokens");
    /* the thresholds respect warmup: i4 (4k) is suppressed, i5 (3.5 > 3) fires */
    double tl3[] = {2, 1, 2.9, 3.1, 3.5};
    cr_assert_eq(feed("diverge:factor=3,warmup=5k", N(em), em, NULL, tl3, 1000, &d, NULL), 5);
    /* on=val_loss watches the validation loss instead */
    double vl[] = {1, 1, 1, 5, 1};
    cr_assert_eq(feed("diverge:factor=4:on=val_loss", N(em), em, vl, tl2, 1000, &d, NULL), 4);
    cr_assert(strstr(d.reason, "val_loss 5 above 4 x its best 1"), "%s", d.reason);
}

/* Prechelt 1998 worked example. E_va: 1.0 .8 .7 .72 .75 .74 .78; E_opt = .7
 * from i3, so GL(4) = 100(.72/.7 - 1) = 2.857, GL(5) = 7.143, GL(6) = 5.714,
 * GL(7) = 11.43. GL5 stops at i5, GL10 at i7, GL20 never. */
Test(rules, prechelt_gl)
{
    double em[] = {1, 2, 3, 4, 5, 6, 7};
    double vl[] = {1.0, 0.8, 0.7, 0.72, 0.75, 0.74, 0.78};
    sw_decision d;
    cr_assert_eq(feed("gl=5", N(vl), em, vl, NULL, 1000, &d, NULL), 5);
    cr_assert_str_eq(d.reason, "gl: generalization loss 7.143 > 5 (val_loss 0.75, best 0.7)");
    cr_assert_eq(feed("gl=10", N(vl), em, vl, NULL, 1000, &d, NULL), 7);
    cr_assert_eq(feed("gl=20", N(vl), em, vl, NULL, 1000, &d, NULL), 0);
}

/* PQ with strips of k = 5. Strip 1 (i1-5): E_tr 2 1.8 1.6 1.5 1.4, sum 8.3,
 * min 1.4: P5 = 1000(8.3/7 - 1) = 185.71; GL(5) = 100(.82/.8 - 1) = 2.5;
 * PQ = 0.01346. Strip 2 (i6-10): 1.38 1.37 1.36 1.355 1.35, sum 6.815,
 * min 1.35: P5 = 1000(6.815/6.75 - 1) = 9.630; GL(10) = 100(.88/.8 - 1) = 10;
 * PQ = 1.0385. PQ0.5 stops at i10 (never between strip ends), PQ2 never. */
Test(rules, prechelt_pq)
{
    double em[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    double tl[] = {2.0, 1.8, 1.6, 1.5, 1.4, 1.38, 1.37, 1.36, 1.355, 1.35};
    double vl[] = {1.0, 0.9, 0.85, 0.8, 0.82, 0.83, 0.84, 0.85, 0.86, 0.88};
    sw_decision d;
    cr_assert_eq(feed("pq=0.5", N(vl), em, vl, tl, 1000, &d, NULL), 10);
    cr_assert_eq(d.rule, SW_RULE_PQ);
    cr_assert_str_eq(d.reason, "pq: GL/P5 1.038 > 0.5 (GL 10, training progress 9.63)");
    cr_assert_eq(feed("pq=0.01", N(vl), em, vl, tl, 1000, &d, NULL), 5);
    cr_assert_eq(feed("pq=2", N(vl), em, vl, tl, 1000, &d, NULL), 0);
    /* pq needs train_loss in every evaluation */
    sw_policy *p;
    sw_controller *c;
    cr_assert_eq(sw_policy_parse("pq=0.5", &p, NULL), SW_OK);
    cr_assert_eq(sw_controller_create(p, 0, &c, NULL), SW_OK);
    sw_metric m[] = {{"val_em", 1}, {"val_loss", 1}};
    sw_eval ev = {.tokens = 1, .metrics = m, .n_metrics = 2};
    cr_assert_eq(sw_controller_feed(c, &ev, &d), SW_ERR_INVALID);
    cr_assert(strstr(sw_controller_errmsg(c), "no metric 'train_loss'"), "%s", sw_controller_errmsg(c));
    sw_controller_free(c);
    sw_policy_free(p);
}

/* UP with strips of k = 2: strip ends i2, i4, i6, i8 with E_va .9 .85 .95 1.0:
 * i4 falls (rises 0), i6 rises (1), i8 rises (2). UP1 stops at i6, UP2 at i8.
 * The rise from i3 (.8) to i4 (.85) is inside a strip and does not count. */
Test(rules, prechelt_up)
{
    double em[] = {1, 2, 3, 4, 5, 6, 7, 8};
    double vl[] = {1.0, 0.9, 0.8, 0.85, 0.9, 0.95, 0.97, 1.0};
    sw_decision d;
    cr_assert_eq(feed("up=1:k=2", N(vl), em, vl, NULL, 1000, &d, NULL), 6);
    cr_assert_eq(feed("up=2:k=2", N(vl), em, vl, NULL, 1000, &d, NULL), 8);
    cr_assert_str_eq(d.reason, "up: val_loss rose at the end of 2 successive strips of 2 evaluations (now 1)");
    cr_assert_eq(feed("up=3:k=2", N(vl), em, vl, NULL, 1000, &d, NULL), 0);
}

/* gain with window 2 and 1M tokens per evaluation: gain(i) = (b(i) - b(i-2))/2
 * points per 1M: i3 10, i4 6.5, i5 1.75, i6 0.5, i7 0.35, i8 0.15. gain=1
 * stops at i6, gain=0.4 at i7. The dip at i5 in the noisy copy does not lower
 * the best so far, so the same stop points hold. */
Test(rules, gain_per_million_tokens)
{
    double em[] = {10, 20, 30, 33, 33.5, 34, 34.2, 34.3};
    double noisy[] = {10, 20, 30, 33, 31, 34, 34.2, 34.3};
    sw_decision d;
    cr_assert_eq(feed("gain=1:window=2", N(em), em, NULL, NULL, 1000000, &d, NULL), 6);
    cr_assert_str_eq(d.reason, "gain: val_em gained 0.5 per 1M tokens over the last 2 evaluations (< 1)");
    cr_assert_eq(feed("gain=0.4:window=2", N(em), em, NULL, NULL, 1000000, &d, NULL), 7);
    /* noisy: i5 best stays 33, gain(5) = (33-30)/2 = 1.5; i6 (34-33)/2 = .5 */
    cr_assert_eq(feed("gain=1:window=2", N(noisy), noisy, NULL, NULL, 1000000, &d, NULL), 6);
    cr_assert_eq(feed("gain=0.1:window=2", N(em), em, NULL, NULL, 1000000, &d, NULL), 0);
}

/* extrapolate on y = 80 - 60 exp(-5 t), t = tokens / 20M, an evaluation per
 * 1M. The exp3 family fits exactly, so the prediction at 20M is
 * 80 - 60 e^-5 = 79.596 with sd ~ 0; the rule stops once the best so far is
 * within 0.5 of it: 60 e^-5t - 60 e^-5 < 0.5 first at t = 0.85 (0.451 < 0.5;
 * t = 0.8 gives 0.695), i.e. evaluation 17. */
Test(rules, extrapolate_exact_exp_curve)
{
    double em[20];
    for (int i = 0; i < 20; i++) em[i] = 80 - 60 * exp(-5.0 * (i + 1) / 20.0);
    sw_decision d;
    sw_controller *c;
    cr_assert_eq(feed("extrapolate=0.5", 20, em, NULL, NULL, 1000000, &d, &c), 17);
    cr_assert_eq(d.rule, SW_RULE_EXTRAPOLATE);
    double mean, sd;
    uint64_t h;
    cr_assert_eq(sw_controller_prediction(c, &mean, &sd, &h), SW_OK);
    cr_assert_eq(h, 20000000u);
    cr_assert_float_eq(mean, 80 - 60 * exp(-5.0), 0.01, "mean %g", mean);
    cr_assert_lt(sd, 0.05);
    cr_assert(strstr(d.reason, "extrapolate: predicted val_em at 20M tokens 79.6"), "%s", d.reason);
    sw_controller_free(c);
}

Test(rules, extrapolate_waits_for_min_points_and_horizon)
{
    double em[] = {10, 40, 55, 63, 68, 71};
    sw_decision d;
    sw_controller *c;
    /* 5 points < min_points 6: no prediction yet */
    cr_assert_eq(feed("extrapolate=0.5", 5, em, NULL, NULL, 1000000, &d, &c), 0);
    cr_assert_eq(sw_controller_prediction(c, NULL, NULL, NULL), SW_ERR_NOT_FOUND);
    sw_controller_free(c);
    /* no horizon at all: create fails with a message */
    sw_policy *p;
    sw_error err;
    cr_assert_eq(sw_policy_parse("extrapolate=0.5", &p, NULL), SW_OK);
    cr_assert_eq(sw_controller_create(p, 0, &c, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "extrapolate needs a horizon"), "%s", err.msg);
    sw_policy_free(p);
    cr_assert_eq(sw_policy_parse("extrapolate=0.5:at=10M", &p, NULL), SW_OK);
    cr_assert_eq(sw_controller_create(p, 0, &c, &err), SW_OK);
    sw_controller_free(c);
    sw_policy_free(p);
}

Test(rules, budget_ignores_warmup)
{
    double em[] = {1, 2, 3, 4, 5, 6};
    sw_decision d;
    cr_assert_eq(feed("budget=3500,warmup=10k", N(em), em, NULL, NULL, 1000, &d, NULL), 4);
    cr_assert_eq(d.rule, SW_RULE_BUDGET);
    cr_assert_eq(d.rule_index, -1);
    cr_assert_str_eq(d.reason, "budget: 4k tokens reached (budget 3.5k)");
}

Test(rules, warmup_delays_rules)
{
    /* flat: patience=1 fires at i2; with warmup=5k not before i5 */
    double em[] = {5, 5, 5, 5, 5, 5, 5};
    sw_decision d;
    cr_assert_eq(feed("patience=1", N(em), em, NULL, NULL, 1000, &d, NULL), 2);
    cr_assert_eq(feed("patience=1,warmup=5k", N(em), em, NULL, NULL, 1000, &d, NULL), 5);
    cr_assert(strstr(d.reason, "for 4 evaluations"), "%s", d.reason);
}

Test(rules, first_firing_rule_in_policy_order_and_diverge_first)
{
    double em[] = {5, 5, 5, 5};
    double tl[] = {1, 1, 1, NAN};
    sw_decision d;
    /* patience=2 fires at i3, before patience=3 (i4): its index is reported */
    cr_assert_eq(feed("patience=3,patience=2", N(em), em, NULL, tl, 1000, &d, NULL), 3);
    cr_assert_eq(d.rule_index, 1);
    cr_assert_eq(feed("patience=2,target=5", N(em), em, NULL, tl, 1000, &d, NULL), 1);
    cr_assert_eq(d.rule, SW_RULE_TARGET);
    cr_assert_eq(feed("patience=2,diverge", N(em), em, NULL, tl, 1000, &d, NULL), 3);
    cr_assert_eq(d.rule, SW_RULE_PATIENCE);
    /* at i4 patience=3 and diverge both fire; diverge wins (the run's status) */
    cr_assert_eq(feed("patience=3,diverge", N(em), em, NULL, tl, 1000, &d, NULL), 4);
    cr_assert_eq(d.rule, SW_RULE_DIVERGE);
    cr_assert(d.diverged);
}

Test(rules, flat_nan_and_single_point_curves)
{
    sw_decision d;
    sw_controller *c;
    /* flat: gl never fires (GL = 0), gain=0 never (0 < 0 is false) */
    double flat[] = {50, 50, 50, 50, 50, 50, 50, 50};
    double fl[] = {1, 1, 1, 1, 1, 1, 1, 1};
    cr_assert_eq(feed("gl=0,gain=0:window=2,up=1:k=2", N(flat), flat, fl, fl, 1000, &d, NULL), 0);
    cr_assert_eq(feed("gain=0.001:window=2", N(flat), flat, fl, fl, 1000, &d, NULL), 3);
    /* NaN EM without diverge: never best, counts as no improvement */
    double nanem[] = {NAN, 10, NAN, NAN, 11};
    cr_assert_eq(feed("patience=2", N(nanem), nanem, NULL, NULL, 1000, &d, &c), 4);
    size_t bi;
    cr_assert_eq(sw_controller_best(c, &bi, NULL, NULL), SW_OK);
    cr_assert_eq(bi, 1);
    sw_controller_free(c);
    cr_assert_eq(feed("diverge", N(nanem), nanem, NULL, NULL, 1000, &d, NULL), 1);
    cr_assert_str_eq(d.reason, "diverge: val_em is nan at 1k tokens");
    /* all NaN: no best at all */
    double allnan[] = {NAN, NAN};
    cr_assert_eq(feed("patience=5", N(allnan), allnan, NULL, NULL, 1000, &d, &c), 0);
    cr_assert_eq(sw_controller_best(c, NULL, NULL, NULL), SW_ERR_NOT_FOUND);
    sw_controller_free(c);
    /* single point: nothing fires, it is the best */
    double one[] = {42};
    cr_assert_eq(feed("patience=1,gain=5,gl=0,pq=0,up=1,extrapolate=0", 1, one, fl, fl, 1000, &d, &c), 0);
    double bv;
    cr_assert_eq(sw_controller_best(c, &bi, NULL, &bv), SW_OK);
    cr_assert_eq(bi, 0);
    cr_assert_float_eq(bv, 42, 0);
    sw_controller_free(c);
}

Test(rules, noisy_curve_extrapolate_does_not_stop_early)
{
    /* a rising noisy curve far from saturation: an honest uncertainty keeps
     * the optimistic prediction well above the best, so no stop in the first
     * half; the curve is deterministic (a fixed pseudo-random sequence). */
    sw_rng r;
    sw_rng_seed(&r, 7);
    double em[40];
    for (int i = 0; i < 40; i++) em[i] = 90 - 80 * exp(-1.5 * (i + 1) / 40.0) + 1.5 * sw_rng_normal(&r);
    sw_decision d;
    size_t stop = feed("extrapolate=0.5", 40, em, NULL, NULL, 500000, &d, NULL);
    cr_assert(stop == 0 || stop > 20, "stopped at %zu: %s", stop, d.reason);
}

Test(rules, two_diverge_rules_must_watch_one_loss)
{
    sw_policy *p;
    sw_error err;
    sw_controller *c;
    cr_assert_eq(sw_policy_parse("diverge:max=5,diverge:factor=3:on=val_loss", &p, NULL), SW_OK);
    cr_assert_eq(sw_controller_create(p, 0, &c, &err), SW_ERR_INVALID);
    cr_assert_null(c);
    cr_assert(strstr(err.msg, "two diverge rules watch different losses (train_loss, val_loss)"), "%s", err.msg);
    sw_policy_free(p);
}
