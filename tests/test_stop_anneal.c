/* stop/: stop and anneal. Replay of policies with a cooldown over a curve
 * with branch results (tests/data/curves/annealed.csv), every figure worked
 * by hand below; the prediction between forks and its leave-one-fork-out
 * error; the oracle on the same footing; the missing-family error.
 *
 * The fixture: T(k) = 1000 (k+1), k = 0..9 (0-based rows);
 *   val_em         10 20 30 35 38 38 37 39 39 38.5
 *   B(k) best so far 10 20 30 35 38 38 38 39 39 39
 * family c=0.1 linear: forks at k=1 (A 24, tokens 205), k=4 (A 43, 512),
 * k=7 (A 41, 790); gains g = A - B: 4, 5, 2. Predicted A(k) = B(k) + g,
 * g interpolated in tokens between the forks, the nearest fork's outside:
 *   k0: 10+4 = 14   k2: 30 + 4+1/3 = 34.333   k3: 35 + 4+2/3 = 39.667
 *   k5: 38 + 5-1 = 42   k6: 38 + 5-2 = 41   k8, k9: 39 + 2 = 41
 * scores max(B, A): 14 24 34.33 39.67 43 42 41 41 41 41; the best is 43.
 * family c=0.2 sqrt: one fork at k=4 (A 44, tokens 1000): g = 6 everywhere,
 * scores B+6: 16 26 36 41 44 44 44 45 45 45; the best is 45. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stopwise/stop.h"
#include "support.h"

#define FIXTURE STOPWISE_TEST_DATA "/curves/annealed.csv"

static sw_curve *load(void)
{
    sw_curve *c;
    sw_error err;
    cr_assert_eq(sw_curve_read_csv(FIXTURE, &c, &err), SW_OK, "%s", err.msg);
    return c;
}

static sw_replay_result replay(const sw_curve *c, const char *text)
{
    sw_policy *p;
    sw_error err;
    cr_assert_eq(sw_policy_parse(text, &p, &err), SW_OK, "%s", err.msg);
    sw_replay_result r;
    cr_assert_eq(sw_replay(p, c, &r, &err), SW_OK, "%s: %s", text, err.msg);
    sw_policy_free(p);
    return r;
}

Test(anneal, curve_reads_branch_columns_with_empty_cells)
{
    sw_curve *c = load();
    cr_assert_eq(sw_curve_len(c), 10);
    const unsigned char *pres;
    const double *a = sw_curve_column(c, "val_em_annealed:c=0.1:shape=linear", &pres);
    cr_assert_not_null(a);
    cr_assert(!pres[0] && pres[1] && !pres[2] && pres[4] && pres[7]);
    cr_assert_float_eq(a[4], 43, 0);
    double frac[4];
    sw_cooldown_shape sh[4];
    cr_assert_eq(sw_curve_cooldowns(c, NULL, frac, sh, 4), 2);
    cr_assert_float_eq(frac[0], 0.1, 0);
    cr_assert_eq(sh[0], SW_COOLDOWN_LINEAR);
    cr_assert_float_eq(frac[1], 0.2, 0);
    cr_assert_eq(sh[1], SW_COOLDOWN_SQRT);
    cr_assert_eq(sw_curve_cooldowns(c, "test_em", frac, sh, 4), 1, "test_em has the c=0.1 family only");
    /* written and read back: the same names and the same missing cells */
    char path[] = "/tmp/stopwise-anneal-XXXXXX.csv";
    int fd = mkstemps(path, 4);
    cr_assert_geq(fd, 0);
    close(fd);
    sw_error err;
    cr_assert_eq(sw_curve_write_csv(c, path, &err), SW_OK, "%s", err.msg);
    sw_curve *d;
    cr_assert_eq(sw_curve_read_csv(path, &d, &err), SW_OK, "%s", err.msg);
    const unsigned char *pd;
    const double *b = sw_curve_column(d, "anneal_tokens:c=0.2:shape=sqrt", &pd);
    cr_assert_not_null(b);
    cr_assert(!pd[3] && pd[4]);
    cr_assert_float_eq(b[4], 1000, 0);
    unlink(path);
    sw_curve_free(d);
    sw_curve_free(c);
}

Test(anneal, replay_scores_a_stop_between_forks_by_hand)
{
    sw_curve *c = load();
    /* patience=2: ref 38 at k4, k5 ties (wait 1), k6 37 (wait 2): stops at
     * k6 with the checkpoint of k4 (38). No fork at k6: A = 41 predicted,
     * tokens 0.1 x 7000 = 700, charged 7700, score max(38, 41) = 41,
     * shortfall 43 - 41 = 2. */
    sw_replay_result r = replay(c, "patience=2,cooldown=0.1");
    cr_assert_eq(r.stop_index, 6);
    cr_assert_eq(r.best_index, 4);
    cr_assert_float_eq(r.best_em, 38, 0);
    cr_assert(r.annealed);
    cr_assert(r.anneal_predicted);
    cr_assert_float_eq(r.anneal_em, 41, 1e-12);
    cr_assert_eq(r.anneal_tokens, 700);
    cr_assert_eq(r.charged_tokens, 7700);
    cr_assert_float_eq(r.score_em, 41, 1e-12);
    cr_assert_float_eq(r.curve_best_em, 43, 0);
    cr_assert_float_eq(r.shortfall, 2, 1e-12);
    /* patience=1 stops at k5: A = 42 (interpolated, w = 1/3), 6000 + 600 */
    r = replay(c, "patience=1,cooldown=0.1");
    cr_assert_eq(r.stop_index, 5);
    cr_assert_float_eq(r.anneal_em, 42, 1e-12);
    cr_assert_eq(r.charged_tokens, 6600);
    cr_assert_float_eq(r.shortfall, 1, 1e-12);
    /* target=35 stops at k3: A = 35 + 4 + 2/3, 4000 + 400 */
    r = replay(c, "target=35,cooldown=0.1");
    cr_assert_eq(r.stop_index, 3);
    cr_assert_float_eq(r.anneal_em, 35 + 4 + 2.0 / 3, 1e-12);
    cr_assert_eq(r.charged_tokens, 4400);
    cr_assert_float_eq(r.shortfall, 43 - (35 + 4 + 2.0 / 3), 1e-12);
    sw_curve_free(c);
}

Test(anneal, replay_at_a_fork_charges_the_measured_tokens)
{
    sw_curve *c = load();
    /* target=38 fires at k4, a fork: A = 43 measured, tokens 512 from the
     * column (not 0.1 x 5000), score 43, nothing lost */
    sw_replay_result r = replay(c, "target=38,cooldown=0.1:shape=linear");
    cr_assert_eq(r.stop_index, 4);
    cr_assert_not(r.anneal_predicted);
    cr_assert_float_eq(r.anneal_em, 43, 0);
    cr_assert_eq(r.anneal_tokens, 512);
    cr_assert_eq(r.charged_tokens, 5512);
    cr_assert_float_eq(r.score_em, 43, 0);
    cr_assert_float_eq(r.shortfall, 0, 0);
    /* no rule: the end of the curve, k9: A = 39 + 2 = 41 > B = 39 */
    r = replay(c, "cooldown=0.1");
    cr_assert_not(r.stopped);
    cr_assert_eq(r.stop_index, 9);
    cr_assert_eq(r.charged_tokens, 11000);
    cr_assert_float_eq(r.score_em, 41, 1e-12);
    cr_assert_float_eq(r.shortfall, 2, 1e-12);
    /* the one-fork sqrt family: gain 6 everywhere; patience=2 at k6 scores
     * 38 + 6 = 44 for 7000 + 1400; the best score is 45 (k7..k9) */
    r = replay(c, "patience=2,cooldown=0.2:shape=sqrt");
    cr_assert_eq(r.stop_index, 6);
    cr_assert_float_eq(r.anneal_em, 44, 1e-12);
    cr_assert_eq(r.charged_tokens, 8400);
    cr_assert_float_eq(r.curve_best_em, 45, 0);
    cr_assert_float_eq(r.shortfall, 1, 1e-12);
    /* without a cooldown nothing changes: best val_em 39, kept 38 */
    r = replay(c, "patience=2");
    cr_assert_not(r.annealed);
    cr_assert_eq(r.charged_tokens, 7000);
    cr_assert_float_eq(r.score_em, 38, 0);
    cr_assert_float_eq(r.curve_best_em, 39, 0);
    cr_assert_float_eq(r.shortfall, 1, 0);
    sw_curve_free(c);
}

Test(anneal, a_missing_family_is_an_error_naming_the_column)
{
    sw_curve *c = load();
    sw_policy *p;
    sw_error err;
    cr_assert_eq(sw_policy_parse("patience=2,cooldown=0.2", &p, NULL), SW_OK);
    sw_replay_result r;
    cr_assert_eq(sw_replay(p, c, &r, &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "annealed.csv:1: no column 'val_em_annealed:c=0.2:shape=linear'"), "%s", err.msg);
    sw_policy_free(p);
    sw_curve_free(c);
    /* a curve with the column but no fork result in it */
    static const char text[] = "tokens,val_em,val_em_annealed:c=0.1:shape=linear,anneal_tokens:c=0.1:shape=linear\n"
                               "1000,10,,\n2000,20,,\n";
    cr_assert_eq(sw_curve_parse_csv(text, sizeof text - 1, "nofork.csv", &c, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_policy_parse("patience=2,cooldown=0.1", &p, NULL), SW_OK);
    cr_assert_eq(sw_replay(p, c, &r, &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "nofork.csv: column 'val_em_annealed:c=0.1:shape=linear' has no fork result"), "%s", err.msg);
    sw_policy_free(p);
    sw_curve_free(c);
}

Test(anneal, leave_one_fork_out_error_by_hand)
{
    /* leave k1 out: only k4 is left of it... after it: 20 + 5 = 25 vs 24,
     * e = +1; k4 out: between k1 and k7, w = 1/2, g = 3: 38 + 3 = 41 vs
     * 43, e = -2; k7 out: after k4, 39 + 5 = 44 vs 41, e = +3. */
    sw_curve *c = load();
    sw_anneal_error e;
    sw_error err;
    cr_assert_eq(sw_anneal_loo(c, NULL, 0.1, SW_COOLDOWN_LINEAR, &e, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(e.n_forks, 3);
    cr_assert_eq(e.n, 3);
    cr_assert_float_eq(e.mae, 2, 1e-12);
    cr_assert_float_eq(e.rmse, sqrt(14.0 / 3), 1e-12);
    cr_assert_float_eq(e.bias, 2.0 / 3, 1e-12);
    cr_assert_float_eq(e.max_abs, 3, 1e-12);
    /* one fork: nothing to hold out */
    cr_assert_eq(sw_anneal_loo(c, NULL, 0.2, SW_COOLDOWN_SQRT, &e, &err), SW_OK);
    cr_assert_eq(e.n_forks, 1);
    cr_assert_eq(e.n, 0);
    cr_assert(isnan(e.mae));
    cr_assert_eq(sw_anneal_loo(c, NULL, 0.05, SW_COOLDOWN_SQRT, &e, &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "val_em_annealed:c=0.05:shape=sqrt"), "%s", err.msg);
    sw_curve_free(c);
}

Test(anneal, oracle_on_the_same_footing)
{
    sw_curve *c = load();
    sw_policy *p;
    sw_replay_result r;
    sw_error err;
    cr_assert_eq(sw_policy_parse("cooldown=0.1", &p, NULL), SW_OK);
    /* epsilon 0: the first score >= 43 is the fork at k4 */
    cr_assert_eq(sw_replay_oracle(p, c, 0, &r, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(r.stop_index, 4);
    cr_assert_eq(r.charged_tokens, 5512);
    cr_assert_float_eq(r.shortfall, 0, 0);
    /* epsilon 4: >= 39 first at k3 (39.667, predicted), 4000 + 400 */
    cr_assert_eq(sw_replay_oracle(p, c, 4, &r, &err), SW_OK);
    cr_assert_eq(r.stop_index, 3);
    cr_assert(r.anneal_predicted);
    cr_assert_eq(r.charged_tokens, 4400);
    cr_assert_float_eq(r.shortfall, 43 - (35 + 4 + 2.0 / 3), 1e-12);
    sw_policy_free(p);
    /* without a cooldown: best val_em 39 first at k7; within 1 at k4 */
    cr_assert_eq(sw_policy_parse("patience=1", &p, NULL), SW_OK);
    cr_assert_eq(sw_replay_oracle(p, c, 0, &r, &err), SW_OK);
    cr_assert_eq(r.stop_index, 7);
    cr_assert_eq(r.charged_tokens, 8000);
    cr_assert_eq(sw_replay_oracle(p, c, 1, &r, &err), SW_OK);
    cr_assert_eq(r.stop_index, 4);
    cr_assert_float_eq(r.shortfall, 1, 0);
    sw_policy_free(p);
    sw_curve_free(c);
}
