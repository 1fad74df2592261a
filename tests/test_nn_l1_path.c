/* The L1 path of a logistic regression: features enter in the order of
 * their effect, noise late or never, a constant never; the path's shape. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "stopwise/nn.h"

/* n rows of p = 6 features: x0 weak, x2 strong, x5 constant, the rest noise;
 * 3 classes cut from the score 3 x2 + x0 + noise. */
static void make(size_t n, uint64_t seed, float *x, int32_t *y)
{
    sw_rng r;
    sw_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        float *row = x + i * 6;
        for (int j = 0; j < 6; j++) row[j] = (float)sw_rng_normal(&r);
        row[5] = 2.5f;
        double s = 3 * row[2] + row[0] + 0.3 * sw_rng_normal(&r);
        y[i] = s < -1.5 ? 0 : s < 1.5 ? 1 : 2;
    }
}

Test(l1_path, features_enter_by_effect)
{
    enum { N = 800, NV = 400 };
    float *x = malloc(sizeof *x * N * 6), *xv = malloc(sizeof *xv * NV * 6);
    int32_t *y = malloc(sizeof *y * N), *yv = malloc(sizeof *yv * NV);
    make(N, 1, x, y);
    make(NV, 2, xv, yv);
    sw_l1_path *p;
    sw_error err;
    sw_l1_path_params pp = sw_l1_path_default_params();
    cr_assert_eq(sw_l1_path_fit(x, y, N, 6, 3, xv, yv, NV, &pp, &p, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(p->points, pp.points);
    for (int t = 1; t < p->points; t++) cr_assert_lt(p->lambda[t], p->lambda[t - 1], "penalties descend");
    cr_assert_float_eq(p->lambda[p->points - 1] / p->lambda[0], pp.ratio, 1e-9);
    cr_assert_eq(p->active[0], 0, "at lambda_max every weight is zero");
    cr_assert_eq(p->order[0], 2, "the strong feature first, got %d", p->order[0]);
    cr_assert_eq(p->order[1], 0, "the weak one second, got %d", p->order[1]);
    cr_assert_lt(p->entry[2], p->entry[0]);
    for (int j = 1; j < 5; j++)
        if (j != 2) cr_assert(p->entry[j] < 0 || p->entry[j] > p->entry[0], "noise %d entered at %d", j, p->entry[j]);
    cr_assert_eq(p->entry[5], -1, "a constant feature never enters");
    cr_assert_eq(p->order[5], 5, "and ranks last");
    cr_assert_gt(p->val_em[p->points - 1], 85.0, "validation EM at the end of the path: %.2f", p->val_em[p->points - 1]);
    cr_assert_lt(p->val_em[0], 60.0, "the intercept alone: %.2f", p->val_em[0]);
    /* deterministic */
    sw_l1_path *q;
    cr_assert_eq(sw_l1_path_fit(x, y, N, 6, 3, xv, yv, NV, &pp, &q, &err), SW_OK);
    for (int t = 0; t < p->points; t++) cr_assert_eq(p->val_em[t], q->val_em[t]);
    for (int j = 0; j < 6; j++) cr_assert_eq(p->entry[j], q->entry[j]);
    sw_l1_path_free(p);
    sw_l1_path_free(q);
    /* bad input */
    y[3] = 7;
    cr_assert_eq(sw_l1_path_fit(x, y, N, 6, 3, NULL, NULL, 0, &pp, &p, &err), SW_ERR_INVALID);
    cr_assert_null(p);
    free(x);
    free(xv);
    free(y);
    free(yv);
}
