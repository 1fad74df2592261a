/* train/: the evaluation plan (select/score halves, the sample, the sizing
 * formula, the paired sign test) and the weight averages (EMA, LAWA). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/average.h"
#include "train/evalplan.h"

/* The select and score halves never share an example, and together cover the
 * validation split; the periodic sample is drawn from the select half only. */
Test(train_plan, halves_are_disjoint_and_cover_the_split)
{
    size_t sizes[] = {1, 2, 3, 10, 101, 5000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k], ns, nc;
        uint32_t *sel = malloc(sizeof(uint32_t) * n), *sco = malloc(sizeof(uint32_t) * n);
        uint32_t *order = malloc(sizeof(uint32_t) * n);
        unsigned char *seen = calloc(n, 1);
        sw_eval_halves(n, 7, sel, &ns, sco, &nc);
        cr_assert_eq(ns + nc, n);
        cr_assert_eq(ns, (n + 1) / 2);
        for (size_t i = 0; i < ns; i++) {
            cr_assert_lt(sel[i], n);
            cr_assert_eq(seen[sel[i]], 0, "select repeats example %u", sel[i]);
            seen[sel[i]] = 1;
        }
        for (size_t i = 0; i < nc; i++) {
            cr_assert_lt(sco[i], n);
            cr_assert_eq(seen[sco[i]], 0, "example %u is in both halves (n=%zu)", sco[i], n);
            seen[sco[i]] = 2;
        }
        sw_eval_sample_order(sel, ns, 7, order);
        for (size_t i = 0; i < ns; i++) cr_assert_eq(seen[order[i]], 1, "the sample reads a score example");
        free(sel);
        free(sco);
        free(order);
        free(seen);
    }
}

/* The halves are a function of the seed: the same seed gives the same split,
 * another seed another one (not just the first and second halves). */
Test(train_plan, halves_follow_the_seed)
{
    enum { N = 200 };
    uint32_t a[N], b[N], c[N], d[N];
    size_t na, nb, nc, nd;
    sw_eval_halves(N, 1, a, &na, b, &nb);
    sw_eval_halves(N, 1, c, &nc, d, &nd);
    cr_assert_eq(memcmp(a, c, sizeof(uint32_t) * na), 0);
    sw_eval_halves(N, 2, c, &nc, d, &nd);
    cr_assert_neq(memcmp(a, c, sizeof(uint32_t) * na), 0);
    int contiguous = 1;
    for (size_t i = 0; i < na; i++) contiguous &= a[i] == i;
    cr_assert(!contiguous, "the select half should be a seeded draw, not the first half");
}

/* The sizing formula keeps n*w*c_ex / (n*w*c_ex + E*c_tok) <= s when the caps allow. */
Test(train_plan, sizing_keeps_the_share)
{
    /* cheap evaluation: the whole select half every budget/100 tokens */
    sw_eval_sizing z = {.share = 0.1, .c_tok = 1e-4, .c_ex = 1e-5, .weight_sets = 1, .budget = 1000000, .n_select = 1000};
    sw_eval_sizes o = sw_eval_size(&z);
    cr_assert_eq(o.every, 10000);
    cr_assert_eq(o.sample, 1000);
    cr_assert_eq(o.final, SIZE_MAX);
    /* 11k select examples at 1.2 ms, 60 us per token, 2M tokens, no final report */
    z = (sw_eval_sizing){.share = 0.1, .c_tok = 6e-5, .c_ex = 1.2e-3, .weight_sets = 1, .budget = 2000000, .n_select = 11000};
    o = sw_eval_size(&z);
    cr_assert_eq(o.sample, 500, "the floor of the sample, got %zu", o.sample);
    double share = o.sample * z.c_ex / (o.sample * z.c_ex + (double)o.every * z.c_tok);
    cr_assert_leq(share, 0.1 + 1e-9, "share %.3f with E=%llu n=%zu", share, (unsigned long long)o.every, o.sample);
    cr_assert_geq(o.every, 20000);
    cr_assert_leq(o.every, 200000, "at least 10 evaluations");
    /* an average doubles the cost per example: the cadence doubles */
    z.weight_sets = 2;
    sw_eval_sizes o2 = sw_eval_size(&z);
    cr_assert_eq(o2.sample, 500);
    cr_assert_geq(o2.every, 2 * o.every - o.every / 10);
    /* fixed by the user: both respected */
    z.every = 5000;
    z.limit = 100;
    o = sw_eval_size(&z);
    cr_assert_eq(o.every, 5000);
    cr_assert_eq(o.sample, 100);
    /* between: budget/100 tokens pay for n examples */
    z = (sw_eval_sizing){.share = 0.1, .c_tok = 1e-4, .c_ex = 1e-3, .weight_sets = 1, .budget = 10000000, .n_select = 100000};
    o = sw_eval_size(&z);
    cr_assert_eq(o.every, 100000);
    cr_assert_eq(o.sample, 1100, "0.1/0.9 * 1e5 * 1e-4 / 1e-3 = 1111 -> 1100, got %zu", o.sample);
}

/* The whole run's evaluation, the final report included, within the share. */
static double run_share(const sw_eval_sizing *z, sw_eval_sizes o)
{
    size_t fin = (o.final < z->n_score ? o.final : z->n_score) + (o.final < z->n_test ? o.final : z->n_test);
    double eval = (double)(z->budget / o.every) * (double)o.sample * z->c_ex + (double)fin * z->c_ex;
    return eval / (eval + (double)z->budget * z->c_tok);
}

Test(train_plan, the_final_report_counts_in_the_share)
{
    /* a 440k-word lexicon: 11k select, 11k score and 22k test words at 1.2 ms,
     * 60 us per token, 2M tokens. Whole splits (39.6 s) would be 3x the
     * allowance (13.3 s): the report reads the floor, 2000 per split */
    sw_eval_sizing z = {.share = 0.1, .c_tok = 6e-5, .c_ex = 1.2e-3, .weight_sets = 1, .budget = 2000000,
                        .n_select = 11000, .n_score = 11000, .n_test = 22000};
    sw_eval_sizes o = sw_eval_size(&z);
    cr_assert_eq(o.final, SW_EVAL_FINAL_MIN, "got %zu", o.final);
    cr_assert_eq(o.sample, 500);
    cr_assert_leq(run_share(&z, o), 0.1 + 1e-9, "share %.4f (E=%llu)", run_share(&z, o), (unsigned long long)o.every);
    /* 10x the budget: a quarter of the allowance buys more than the floor */
    z.budget = 20000000;
    o = sw_eval_size(&z);
    cr_assert_eq(o.final, 13000, "0.1/0.9 * 20M * 60us / 4 / 2.4 ms = 13889 -> 13000, got %zu", o.final);
    cr_assert_leq(run_share(&z, o), 0.1 + 1e-9);
    /* a split that fits a quarter of the allowance is read whole, and the cadence pays for it */
    z = (sw_eval_sizing){.share = 0.1, .c_tok = 1e-4, .c_ex = 1e-4, .weight_sets = 1, .budget = 1000000,
                         .n_select = 3000, .n_score = 3000, .n_test = 10000};
    o = sw_eval_size(&z);
    cr_assert_eq(o.final, SIZE_MAX);
    cr_assert_leq(run_share(&z, o), 0.1 + 1e-9, "share %.4f", run_share(&z, o));
    sw_eval_sizing alone = z;
    alone.n_score = alone.n_test = 0;
    cr_assert_lt(o.sample, sw_eval_size(&alone).sample, "the report's cost shrinks the periodic sample");
    /* the user's limit wins; one at least the split sizes means whole splits */
    z.final_limit = 500;
    cr_assert_eq(sw_eval_size(&z).final, 500);
    z.final_limit = 10000;
    cr_assert_eq(sw_eval_size(&z).final, SIZE_MAX);
}

/* One-sided exact sign test against hand-computed values. */
Test(train_plan, sign_test_values)
{
    cr_assert_float_eq(sw_eval_sign_test(0, 0), 1.0, 1e-12);
    cr_assert_float_eq(sw_eval_sign_test(3, 0), 0.125, 1e-12);        /* 1/8 */
    cr_assert_float_eq(sw_eval_sign_test(0, 3), 1.0, 1e-12);
    cr_assert_float_eq(sw_eval_sign_test(9, 1), 11.0 / 1024, 1e-12);  /* (1 + 10) / 2^10 */
    cr_assert_float_eq(sw_eval_sign_test(5, 5), 638.0 / 1024, 1e-12); /* P(X >= 5), X ~ B(10, 1/2) */
    cr_assert_lt(sw_eval_sign_test(600, 400), 1e-9);
}

Test(train_plan, average_specs)
{
    sw_average_spec s;
    sw_error e;
    char buf[64];
    cr_assert_eq(sw_average_spec_parse(NULL, &s, &e), SW_OK);
    cr_assert_eq(s.kind, SW_AVERAGE_NONE);
    cr_assert_eq(sw_average_spec_parse("ema", &s, &e), SW_OK);
    cr_assert_str_eq(sw_average_spec_format(&s, buf, sizeof buf), "ema:decay=0.999");
    cr_assert_eq(sw_average_spec_parse("ema:decay=0.9", &s, &e), SW_OK);
    cr_assert_float_eq(s.decay, 0.9, 1e-15);
    cr_assert_eq(sw_average_spec_parse("lawa:k=3", &s, &e), SW_OK);
    cr_assert_str_eq(sw_average_spec_format(&s, buf, sizeof buf), "lawa:k=3");
    cr_assert_eq(sw_average_spec_parse("ema:decay=1", &s, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "decay"));
    cr_assert_eq(sw_average_spec_parse("lawa:k=1", &s, &e), SW_ERR_INVALID);
    cr_assert_eq(sw_average_spec_parse("swa", &s, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "ema"));
    cr_assert_eq(sw_average_spec_parse("ema:k=3", &s, &e), SW_ERR_INVALID);
}

/* EMA by hand: a_t = d_t a + (1 - d_t) w with d_t = min(decay, (1+t)/(10+t)). */
Test(train_plan, ema_matches_the_formula)
{
    sw_average_spec s = {.kind = SW_AVERAGE_EMA, .decay = 0.5, .k = 5};
    sw_average a;
    sw_error e;
    float w[2] = {0, 0};
    cr_assert_eq(sw_average_init(&a, &s, w, 2, &e), SW_OK);
    double ref[2] = {0, 0};
    for (int t = 0; t < 20; t++) {
        w[0] = (float)t;
        w[1] = (float)(-2 * t);
        sw_average_step(&a, w);
        double d = fmin(0.5, (1.0 + t) / (10.0 + t));
        ref[0] = d * ref[0] + (1 - d) * w[0];
        ref[1] = d * ref[1] + (1 - d) * w[1];
    }
    sw_average_swap(&a, w); /* the model now holds the average */
    cr_assert_float_eq(w[0], ref[0], 1e-4);
    cr_assert_float_eq(w[1], ref[1], 1e-4);
    sw_average_swap(&a, w); /* and its own weights back */
    cr_assert_eq(w[0], 19.0f);
    cr_assert_eq(w[1], -38.0f);
    sw_average_free(&a);
}

/* LAWA: the mean of the last k snapshots, fewer before k were taken. */
Test(train_plan, lawa_is_the_mean_of_the_last_k)
{
    sw_average_spec s = {.kind = SW_AVERAGE_LAWA, .decay = 0.999, .k = 3};
    sw_average a;
    sw_error e;
    float w[1] = {0};
    cr_assert_eq(sw_average_init(&a, &s, w, 1, &e), SW_OK);
    w[0] = 1;
    sw_average_snapshot(&a, w);
    w[0] = 2;
    sw_average_snapshot(&a, w);
    sw_average_swap(&a, w);
    cr_assert_float_eq(w[0], 1.5f, 1e-6);
    sw_average_swap(&a, w);
    cr_assert_eq(w[0], 2.0f);
    for (int v = 3; v <= 6; v++) {
        w[0] = (float)v;
        sw_average_snapshot(&a, w);
    }
    sw_average_swap(&a, w);
    cr_assert_float_eq(w[0], 5.0f, 1e-6, "mean of 4, 5, 6");
    sw_average_swap(&a, w);
    cr_assert_eq(w[0], 6.0f);
    size_t count;
    cr_assert_not_null(sw_average_state(&a, &count));
    cr_assert_eq(count, 3);
    sw_average_free(&a);
}
