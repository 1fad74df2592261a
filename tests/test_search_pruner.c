/* search/: pruners. Decision points counted in tokens, hyperband's brackets,
 * and each pruner's decision against cases worked out by hand; and the
 * importance estimate. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stopwise/search.h"

static sw_pruner_options pruner(const char *spec)
{
    sw_pruner_options o;
    sw_error e = {0};
    cr_assert_eq(sw_pruner_parse(spec, &o, &e), SW_OK, "%s", e.msg);
    return o;
}

Test(search_pruner, specs_parse_and_print)
{
    char buf[600];
    sw_pruner_options o = pruner("asha");
    cr_assert_eq(o.kind, SW_PRUNER_ASHA);
    cr_assert_eq(o.eta, 3);
    sw_pruner_format(&o, buf, sizeof buf);
    cr_assert_str_eq(buf, "asha:eta=3");
    o = pruner("hyperband:eta=2,min=1.5k");
    cr_assert_eq(o.min_tokens, 1500);
    sw_pruner_format(&o, buf, sizeof buf);
    cr_assert_str_eq(buf, "hyperband:eta=2,min=1.5k");
    o = pruner("median:startup=3,every=2k");
    sw_pruner_format(&o, buf, sizeof buf);
    cr_assert_str_eq(buf, "median:startup=3,every=2k");
    o = pruner("policy:patience=5,diverge");
    cr_assert_str_eq(o.policy, "patience=5,diverge");
    o = pruner("policy");
    cr_assert_str_eq(o.policy, "auto");
    sw_error e = {0};
    cr_assert_eq(sw_pruner_parse("asha:eta=1", &o, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "eta"), "%s", e.msg);
    cr_assert_eq(sw_pruner_parse("median:eta=3", &o, &e), SW_ERR_INVALID);
    cr_assert_eq(sw_pruner_parse("sha", &o, &e), SW_ERR_INVALID);
    cr_assert_eq(sw_pruner_parse("none:x=1", &o, &e), SW_ERR_INVALID);
}

Test(search_pruner, decision_points_in_tokens)
{
    uint64_t p[16];
    /* asha, B = 27k: r = B / 27 = 1k; rungs 1k, 3k, 9k (27k is the end) */
    sw_pruner_options a = pruner("asha");
    cr_assert_eq(sw_pruner_points(&a, 27000, 0, p, 16), 3);
    cr_assert_eq(p[0], 1000);
    cr_assert_eq(p[1], 3000);
    cr_assert_eq(p[2], 9000);
    /* min=2k, eta=2, B = 20k: 2k, 4k, 8k, 16k */
    a = pruner("asha:eta=2,min=2k");
    cr_assert_eq(sw_pruner_points(&a, 20000, 0, p, 16), 4);
    cr_assert_eq(p[3], 16000);
    /* hyperband: S = 3 rungs below B, brackets 0..3 start at r eta^s */
    sw_pruner_options h = pruner("hyperband");
    cr_assert_eq(sw_pruner_n_brackets(&h, 27000), 4);
    cr_assert_eq(sw_pruner_points(&h, 27000, 1, p, 16), 2);
    cr_assert_eq(p[0], 3000);
    cr_assert_eq(p[1], 9000);
    cr_assert_eq(sw_pruner_points(&h, 27000, 3, p, 16), 0, "the last bracket trains every trial to the end");
    /* median: every B/8 from B/8; or from warmup */
    sw_pruner_options m = pruner("median");
    cr_assert_eq(sw_pruner_points(&m, 8000, 0, p, 16), 7);
    cr_assert_eq(p[0], 1000);
    cr_assert_eq(p[6], 7000);
    m = pruner("median:warmup=2500,every=2k");
    cr_assert_eq(sw_pruner_points(&m, 8000, 0, p, 16), 3);
    cr_assert_eq(p[0], 2500);
    cr_assert_eq(p[2], 6500);
    sw_pruner_options n = pruner("none");
    cr_assert_eq(sw_pruner_points(&n, 8000, 0, p, 16), 0);
}

/* Trials join the brackets in proportion to ceil((S+1)/(S-s+1) eta^(S-s)):
 * for S = 3, eta = 3: 27, 12, 6, 4 of 49. */
Test(search_pruner, hyperband_brackets_follow_their_budgets)
{
    sw_pruner_options h = pruner("hyperband");
    int count[4] = {0};
    for (uint64_t n = 0; n < 4900; n++) {
        int b = sw_pruner_bracket(&h, 27000, 5, n);
        cr_assert(b >= 0 && b < 4);
        count[b]++;
        cr_assert_eq(b, sw_pruner_bracket(&h, 27000, 5, n), "a trial's bracket is fixed");
    }
    const double want[4] = {2700, 1200, 600, 400};
    for (int b = 0; b < 4; b++)
        cr_assert_lt(fabs(count[b] - want[b]), 4 * sqrt(want[b]), "bracket %d: %d trials, about %g expected", b,
                     count[b], want[b]);
    sw_pruner_options a = pruner("asha");
    cr_assert_eq(sw_pruner_bracket(&a, 27000, 5, 9), 0);
}

static int decide(const sw_pruner_options *o, double value, const double *peers, size_t n, size_t finished)
{
    sw_pruner_input in = {.rung = 1, .tokens = 3000, .budget = 27000, .value = value, .peers = peers, .n_peers = n,
                          .n_finished = finished, .incumbent = NAN};
    sw_pruner_decision d;
    sw_error e = {0};
    cr_assert_eq(sw_pruner_decide(o, &in, &d, &e), SW_OK, "%s", e.msg);
    if (d.prune) cr_assert(d.reason[0], "a pruned trial gets a reason");
    return d.prune;
}

Test(search_pruner, asha_keeps_the_best_floor_n_over_eta)
{
    sw_pruner_options a = pruner("asha");
    /* alone at the rung: n = 1, floor(1/3) = 0, it is the best: goes on */
    cr_assert_not(decide(&a, 10, NULL, 0, 0));
    /* n = 2 < eta: only the best goes on */
    double two[] = {10};
    cr_assert(decide(&a, 5, two, 1, 0));
    cr_assert_not(decide(&a, 10, two, 1, 0), "a tie with the best goes on");
    /* n = 3: floor(3/3) = 1: only the best of {10, 20, me} */
    double three[] = {10, 20};
    cr_assert(decide(&a, 15, three, 2, 0));
    cr_assert_not(decide(&a, 25, three, 2, 0));
    /* n = 6: the best 2 of {1,2,3,4,5, me}: me = 4 ties the 2nd best (5, 4) */
    double six[] = {1, 2, 3, 4, 5};
    cr_assert_not(decide(&a, 4, six, 5, 0));
    cr_assert(decide(&a, 3.9, six, 5, 0));
    /* n = 9, eta = 2: the best 4 of {1..8, me}: bar is 5 */
    sw_pruner_options a2 = pruner("asha:eta=2");
    double nine[] = {1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_not(decide(&a2, 5, nine, 8, 0));
    cr_assert(decide(&a2, 4.5, nine, 8, 0));
    /* a trial without a value is below every value */
    cr_assert(decide(&a, NAN, three, 2, 0));
    double nan_peers[] = {NAN, NAN};
    cr_assert_not(decide(&a, 0, nan_peers, 2, 0), "a value beats peers without one");
}

Test(search_pruner, median_of_the_finished_trials)
{
    sw_pruner_options m = pruner("median");
    double four[] = {1, 2, 3, 4};
    /* startup: fewer than 5 finished trials prune nothing */
    cr_assert_not(decide(&m, 0, four, 4, 4));
    /* median of {1,2,3,4} = 2.5 */
    cr_assert(decide(&m, 2, four, 4, 5));
    cr_assert_not(decide(&m, 3, four, 4, 5));
    /* median of {1,2,3} = 2: equal is not below */
    double three[] = {3, 1, 2};
    cr_assert_not(decide(&m, 2, three, 3, 5));
    cr_assert(decide(&m, 1.99, three, 3, 5));
    /* no peers at the point: nothing to compare with */
    cr_assert_not(decide(&m, 0, NULL, 0, 10));
    sw_pruner_options m0 = pruner("median:startup=0");
    cr_assert(decide(&m0, 2, four, 4, 0));
}

static int decide_policy(const double *em, size_t n, double incumbent)
{
    sw_pruner_options p = pruner("policy");
    uint64_t tok[32];
    for (size_t i = 0; i < n; i++) tok[i] = (i + 1) * 1000;
    sw_pruner_input in = {.rung = 0, .tokens = tok[n - 1], .budget = 27000, .value = em[n - 1], .incumbent = incumbent,
                          .curve_tokens = tok, .curve_em = em, .curve_n = n};
    sw_pruner_decision d;
    sw_error e = {0};
    cr_assert_eq(sw_pruner_decide(&p, &in, &d, &e), SW_OK, "%s", e.msg);
    return d.prune;
}

Test(search_pruner, policy_prunes_what_cannot_reach_the_best)
{
    /* a curve that has flattened at 20 cannot reach a best finished trial at
     * 80 by the budget: pruned */
    double flat[9] = {18, 19.5, 20, 19.8, 20.1, 20, 19.9, 20, 20.1};
    cr_assert(decide_policy(flat, 9, 80));
    /* the same curve against a best at 20.5: within its interval, goes on */
    cr_assert_not(decide_policy(flat, 9, 20.1));
    /* a curve still climbing steeply towards 90 (90 - 80 t^-0.5 at t =
     * tokens/27k) may still reach 60: goes on */
    double rising[9];
    for (int i = 0; i < 9; i++) rising[i] = 90 - 80 / sqrt((i + 1) * 1000.0 / 27000 * 27);
    cr_assert_not(decide_policy(rising, 9, 60));
    /* nothing finished yet: nothing to beat */
    cr_assert_not(decide_policy(flat, 9, NAN));
}

Test(search_importance, finds_the_dimension_that_matters)
{
    const char *text = "data = x\na = range(0, 1)\nb = range(0, 1)\nk = choice(p, q)\n";
    sw_space *sp;
    cr_assert_eq(sw_space_parse(text, strlen(text), "s", &sp, NULL), SW_OK);
    enum { N = 60 };
    static double pts[N * 3], scores[N];
    sw_sampler_options r;
    sw_sampler_parse("random", &r, NULL);
    for (size_t i = 0; i < N; i++) {
        sw_sampler_propose(&r, sp, 11, i, NULL, 0, pts + 3 * i, NULL);
        pts[3 * i + 2] = (i % 2 + 0.5) / 2;
        scores[i] = 100 * pts[3 * i]; /* only a matters */
    }
    double imp[3];
    sw_error e = {0};
    cr_assert_eq(sw_search_importance(sp, pts, scores, N, imp, &e), SW_OK, "%s", e.msg);
    cr_assert_gt(imp[0], 0.8, "a: %g, b: %g, k: %g", imp[0], imp[1], imp[2]);
    cr_assert_float_eq(imp[0] + imp[1] + imp[2], 1, 1e-9);
    /* only the choice matters */
    for (size_t i = 0; i < N; i++) scores[i] = i % 2 ? 50 : 10;
    cr_assert_eq(sw_search_importance(sp, pts, scores, N, imp, &e), SW_OK);
    cr_assert_gt(imp[2], 0.8, "a: %g, b: %g, k: %g", imp[0], imp[1], imp[2]);
    /* nothing matters: all scores equal */
    for (size_t i = 0; i < N; i++) scores[i] = 5;
    cr_assert_eq(sw_search_importance(sp, pts, scores, N, imp, &e), SW_OK);
    cr_assert_eq(imp[0] + imp[1] + imp[2], 0);
    cr_assert_eq(sw_search_importance(sp, pts, scores, 2, imp, &e), SW_ERR_INVALID);
    sw_space_free(sp);
}
