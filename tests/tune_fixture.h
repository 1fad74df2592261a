/* Synthetic learning curves for the tuner's tests (header-only). */
#ifndef SW_TUNE_FIXTURE_H
#define SW_TUNE_FIXTURE_H

#include "stopwise/base.h"
#include "stopwise/stop.h"

#include <criterion/criterion.h>
#include <math.h>

/* A saturating noisy curve: EM(t) = top * (1 - exp(-rate * t)) + noise,
 * val_loss falling then rising slightly (overfitting), train_loss falling. */
static inline sw_curve *fx_noisy_curve(uint64_t seed, int n, uint64_t budget, double top, double rate, double noise)
{
    sw_curve *c;
    sw_error e;
    cr_assert_eq(sw_curve_create(&c, &e), SW_OK);
    sw_rng r;
    sw_rng_seed(&r, seed);
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n;
        double em = top * (1 - exp(-rate * t)) + noise * sw_rng_normal(&r);
        double vl = 2.0 * exp(-rate * t) + 0.3 * t * t + 0.3 + 0.02 * sw_rng_normal(&r);
        double tl = 2.0 * exp(-1.3 * rate * t) + 0.1;
        sw_metric m[3] = {{"val_em", em}, {"val_loss", vl}, {"train_loss", tl}};
        sw_eval ev = {.tokens = budget * (uint64_t)i / (uint64_t)n, .step = i, .wall = i, .metrics = m, .n_metrics = 3};
        cr_assert_eq(sw_curve_append(c, &ev, &e), SW_OK, "%s", e.msg);
    }
    return c;
}

/* A staircase: EM rises 3 points per evaluation up to evaluation 20 (60),
 * stays flat for `plateau` evaluations, jumps `jump` points, then stays flat
 * to evaluation 100. Patience P loses `jump` when P <= plateau and nothing
 * when P > plateau, so the cheapest safe patience is plateau + 1. */
static inline sw_curve *fx_stair_curve(int plateau, double jump, uint64_t budget)
{
    sw_curve *c;
    sw_error e;
    cr_assert_eq(sw_curve_create(&c, &e), SW_OK);
    for (int i = 1; i <= 100; i++) {
        double em = i <= 20 ? 3.0 * i : i <= 20 + plateau ? 60.0 : 60.0 + jump;
        double vl = 1.0 / (1 + i), tl = 1.0 / (1 + 2 * i);
        sw_metric m[3] = {{"val_em", em}, {"val_loss", vl}, {"train_loss", tl}};
        sw_eval ev = {.tokens = budget * (uint64_t)i / 100, .step = i, .wall = i, .metrics = m, .n_metrics = 3};
        cr_assert_eq(sw_curve_append(c, &ev, &e), SW_OK, "%s", e.msg);
    }
    return c;
}

#endif
