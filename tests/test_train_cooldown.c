/* train/: the stop's cooldown (cooldown.c). Two defects found in review, each
 * with a test that failed before its fix:
 * - a non-finite loss during the cooldown left the loop spinning forever (a
 *   diverged step advances no tokens);
 * - a rule firing at the final evaluation annealed past the budget, from the
 *   rate floor. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stopwise/nn.h"
#include "stopwise/train.h"
#include "support.h"
#include "train/trainer.h"

static sw_train_options small_run(const char *dir, const char *policy)
{
    static char out[8400];
    snprintf(out, sizeof out, "%s/run", dir);
    sw_train_options o = sw_train_default_options();
    o.data = "synthetic:copy:n=300,len=4";
    o.model = "gpt:layers=1,d=16,heads=2";
    o.schedule = "wsd:lr=3e-3,min=0.01";
    o.budget = 40000;
    o.eval_every = 4000;
    o.eval_limit = 32;
    o.batch = 16;
    sw_threads_set(1); /* the host sets threads once (nn.h) */
    o.out_dir = out;
    o.policy = policy;
    o.cooldown = 0.1;
    return o;
}

/* After the stopping evaluation, every weight becomes NaN: the cooldown's
 * first step has a non-finite loss. */
static void poison_at_stop(const sw_train_progress *p, void *user)
{
    sw_trainer *r = user;
    if (!p->is_eval || !p->note || strncmp(p->note, "stop:", 5)) return;
    float *w = sw_model_params(r->model);
    for (size_t i = 0; i < sw_model_num_params(r->model); i++) w[i] = NAN;
}

/* Before the fix this test hung (and timed out): the cooldown loop kept
 * calling a step that refused to advance. */
Test(train_cooldown, divergence_ends_the_cooldown, .timeout = 120)
{
    sw_train_options o = small_run(sw_test_tmpdir(), "target=0"); /* fires at the first evaluation */
    sw_trainer run;
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_trainer_setup(&run, &o, poison_at_stop, &run, &res, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_trainer_loop(&run), SW_OK, "%s", err.msg);
    cr_assert_str_eq(res.status, "diverged");
    cr_assert_str_eq(res.stop_rule, "diverge");
    cr_assert(strstr(res.stop_reason, "non-finite"), "%s", res.stop_reason);
    cr_assert_eq(run.cooldown_tokens, 0, "the first cooldown step diverged");
    cr_assert_eq(run.evaluations, 1, "no evaluation of non-finite weights");
    /* the best checkpoint (before the NaN) is still what the run reports */
    cr_assert_eq(sw_trainer_finish(&run), SW_OK, "%s", err.msg);
    cr_assert(isfinite(res.val_em), "val EM %g", res.val_em);
    sw_trainer_teardown(&run);
}

/* A rule that fires at the final evaluation (here budget=B itself) must not
 * anneal past the budget. Before the fix the run trained 0.1 x B more tokens
 * at the floor rate. */
Test(train_cooldown, stop_at_the_budget_does_not_anneal_past_it, .timeout = 120)
{
    sw_train_options o = small_run(sw_test_tmpdir(), "budget=40k");
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    cr_assert_str_eq(res.status, "stopped");
    cr_assert_eq(res.cooldown_tokens, 0, "cooldown of %llu tokens past the budget",
                 (unsigned long long)res.cooldown_tokens);
    cr_assert_lt(res.tokens, o.budget + 200, "tokens %llu, budget %llu", (unsigned long long)res.tokens,
                 (unsigned long long)o.budget);
}

/* A stop shortly before the budget anneals, but only up to the budget. */
Test(train_cooldown, stop_near_the_budget_is_cut_at_the_budget, .timeout = 120)
{
    sw_train_options o = small_run(sw_test_tmpdir(), "budget=36k");
    o.cooldown = 0.2;
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    cr_assert_str_eq(res.status, "stopped");
    cr_assert_gt(res.cooldown_tokens, 0);
    /* c x T would be 7.2k+; B - T is under 4k; one batch may overshoot by < 200 tokens */
    cr_assert_leq(res.tokens, o.budget + 200, "tokens %llu past the budget", (unsigned long long)res.tokens);
    cr_assert_eq(res.evaluations, 10, "the cooldown's own evaluation");
}

/* The lengths as documented. */
Test(train_cooldown, length_rule)
{
    cr_assert_eq(sw_cooldown_length(0.1, 1000, 100000), 100);
    cr_assert_eq(sw_cooldown_length(0.2, 90000, 100000), 10000, "cut at the budget");
    cr_assert_eq(sw_cooldown_length(0.1, 100000, 100000), 0, "at the budget: none");
    cr_assert_eq(sw_cooldown_length(0.1, 120000, 100000), 0);
    cr_assert_eq(sw_cooldown_length(0, 1000, 100000), 0);
}

/* The policy's cooldown clause (ANNEAL.md) wins over the option. */
Test(train_cooldown, policy_clause)
{
    double c = -1;
    sw_decay_shape sh = SW_DECAY_LINEAR;
    cr_assert_eq(sw_cooldown_from_policy("patience=5,cooldown=0.2:shape=sqrt,diverge", &c, &sh), 1);
    cr_assert_eq(c, 0.2);
    cr_assert_eq(sh, SW_DECAY_SQRT);
    cr_assert_eq(sw_cooldown_from_policy("cooldown=0.05", &c, &sh), 1);
    cr_assert_eq(c, 0.05);
    cr_assert_eq(sh, SW_DECAY_LINEAR);
    c = -1;
    cr_assert_eq(sw_cooldown_from_policy("patience=5,diverge", &c, &sh), 0);
    cr_assert_eq(c, -1, "untouched when absent");
    cr_assert_eq(sw_cooldown_from_policy("cooldown=2", &c, &sh), 0, "not a fraction");
    cr_assert_eq(sw_cooldown_from_policy("cooldown=0.1:shape=cosine", &c, &sh), 0);
}
