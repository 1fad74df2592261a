/* train/: the final report (trainer_eval.c). Whole splits by default on small
 * data; with a limit, a seeded sample of the score half and the test split,
 * the select half taken from the periodic sample, and a standard error; and
 * the cadence raised when evaluation turns out costlier than first measured. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/nn.h"
#include "stopwise/train.h"
#include "support.h"
#include "train/evalplan.h"
#include "train/trainer.h"

static sw_train_options small_options(size_t final_limit)
{
    static char out[8400];
    snprintf(out, sizeof out, "%s/run", sw_test_tmpdir());
    sw_train_options o = sw_train_default_options();
    o.data = "synthetic:copy:n=2000,len=3";
    o.model = "gpt:layers=1,d=32,heads=2";
    o.schedule = "wsd:lr=3e-3,min=0.01";
    o.budget = 30000;
    o.eval_every = 10000;
    o.eval_limit = 40;
    o.batch = 16;
    o.policy = "none";
    o.out_dir = out;
    o.final_limit = final_limit;
    sw_threads_set(1);
    return o;
}

static void run_small(size_t final_limit, sw_trainer *run, sw_train_result *res)
{
    sw_train_options o = small_options(final_limit);
    static sw_error err;
    cr_assert_eq(sw_trainer_setup(run, &o, NULL, NULL, res, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_trainer_loop(run), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_trainer_finish(run), SW_OK, "%s", err.msg);
}

Test(train_report, a_limited_report_reads_its_seeded_samples, .timeout = 120)
{
    sw_trainer run;
    sw_train_result res;
    run_small(60, &run, &res);
    cr_assert_eq(res.final_sample, 60);
    cr_assert_float_eq(res.select_em, res.best_val_em, 1e-12, "the select half's EM is the periodic sample's");
    /* the test EM is the model's (the best weights, after finish) on the
     * first 60 of the test split's seeded permutation */
    size_t nt = sw_dataset_count(run.ds, SW_SPLIT_TEST);
    cr_assert_gt(nt, 60);
    uint32_t *all = malloc(sizeof(uint32_t) * nt), *order = malloc(sizeof(uint32_t) * nt);
    for (size_t i = 0; i < nt; i++) all[i] = (uint32_t)i;
    sw_eval_sample_order(all, nt, sw_train_default_options().data_opt.seed ^ 0x7e57, order);
    sw_eval_result ev;
    sw_error err;
    cr_assert_eq(sw_evaluate_subset(run.model, run.ds, SW_SPLIT_TEST, order, 60, NULL, &ev, &err), SW_OK, "%s", err.msg);
    cr_assert_float_eq(res.test_em, ev.em, 1e-12, "report %.4f, the sample %.4f", res.test_em, ev.em);
    double q = ev.em / 100;
    cr_assert_float_eq(res.test_se, 100 * sqrt(q * (1 - q) / 60 * (double)(nt - 60) / (double)(nt - 1)), 1e-9);
    /* val_em weighs the halves by their sizes */
    double n = (double)(run.plan.n_select + run.plan.n_score);
    cr_assert_float_eq(res.val_em, (run.plan.n_select * res.select_em + run.plan.n_score * res.score_em) / n, 1e-9);
    free(all);
    free(order);
    sw_trainer_teardown(&run);
}

Test(train_report, an_unlimited_report_reads_whole_splits, .timeout = 120)
{
    sw_trainer run;
    sw_train_result res;
    run_small(SIZE_MAX, &run, &res);
    cr_assert_eq(res.final_sample, 0);
    cr_assert_eq(res.test_se, 0);
    sw_eval_result ev;
    sw_error err;
    cr_assert_eq(sw_evaluate(run.model, run.ds, SW_SPLIT_TEST, 0, &ev, &err), SW_OK, "%s", err.msg);
    cr_assert_float_eq(res.test_em, ev.em, 1e-12);
    sw_trainer_teardown(&run);
}

/* The first sizing measured cheap evaluations; then training looks almost
 * free against them (the clock says 1 us of training for all the tokens so
 * far): the next evaluation raises the cadence to its cap, B/10, and moves the
 * next evaluation point with it. The sample stays. */
Test(train_report, a_costlier_evaluation_raises_the_cadence, .timeout = 120)
{
    sw_train_options o = small_options(0);
    o.eval_every = 0; /* sized */
    sw_trainer run;
    sw_train_result res;
    sw_error err;
    cr_assert_eq(sw_trainer_setup(&run, &o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++) cr_assert_eq(sw_trainer_step(&run), SW_OK, "%s", err.msg);
    /* as if the first sizing had chosen budget/100 (timing it here would
     * depend on the machine's load) */
    run.plan.calibrated = 1;
    uint64_t every = run.plan.every = o.budget / 100, next = run.next_eval = every;
    size_t sample = run.plan.n_sample;
    run.plan.t0 = sw_now() - 1e-6;
    run.plan.eval_s0 = run.eval_s;
    sw_trainer_point pt;
    cr_assert_eq(sw_trainer_eval_point(&run, &pt), SW_OK, "%s", err.msg);
    cr_assert_eq(run.plan.every, o.budget / 10, "got %llu", (unsigned long long)run.plan.every);
    cr_assert_eq(run.next_eval, next + o.budget / 10 - every);
    cr_assert_eq(run.plan.n_sample, sample);
    cr_assert(strstr(run.note, "evaluating every 3000 tokens"), "%s", run.note);
    sw_trainer_teardown(&run);
}
