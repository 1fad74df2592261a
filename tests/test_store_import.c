/* store/: sw_store_run_import records a finished run and its whole curve in
 * one transaction, on both backends: what was given reads back, and a
 * failure anywhere (a check before writing, or a constraint in the middle of
 * the transaction) leaves no run and no evaluation behind. */
#include "store_fixture.h"

#include <math.h>

static size_t count_runs(sw_store *s)
{
    sw_store_run *runs;
    size_t n;
    ST_OK(s, sw_store_runs_list(s, NULL, &runs, &n));
    sw_store_run_list_free(runs, n);
    return n;
}

/* Three evaluations: EM 40, 55, 50 with an extra metric on the last two. */
static const sw_store_metric m1[] = {{"val_accuracy", 0.55}, {"lr", 1e-3}};
static const sw_store_metric m2[] = {{"val_accuracy", 0.50}};
static const sw_store_eval evals[] = {
    {.tokens = 1000, .step = 10, .wall_s = 1.5, .val_em = 40, .val_loss = 1.2, .train_loss = NAN},
    {.tokens = 2000, .step = 20, .wall_s = 3.0, .val_em = 55, .val_loss = 0.9, .train_loss = 0.8, .metrics = m1, .n_metrics = 2},
    {.tokens = 3000, .step = 30, .wall_s = 0, .val_em = 50, .val_loss = 1.0, .train_loss = 0.7, .metrics = m2, .n_metrics = 1},
};

static const sw_store_run_result done = {.status = SW_RUN_COMPLETED, .tokens = 3000, .best_tokens = 2000,
                                         .best_em = 55, .val_em = NAN, .test_em = NAN};

STORE_TEST(import_reads_back_whole)
{
    sw_store *s = fx_open(NULL);
    sw_store_kv tags[] = {{"imported_from", "runs/a.csv"}, {"import_format", "keras"}};
    sw_store_run_info info = {.name = "runs/a.csv", .task = "demo", .config_json = "{\"import\":{}}"};
    int64_t id = 0;
    ST_OK(s, sw_store_run_import(s, &info, &done, evals, 3, tags, 2, &id));
    cr_assert_gt(id, 0);
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_COMPLETED);
    cr_assert_str_eq(r.name, "runs/a.csv");
    cr_assert_str_eq(r.task, "demo");
    cr_assert_eq(r.tokens, 3000);
    cr_assert_eq(r.best_tokens, 2000);
    cr_assert_float_eq(r.best_em, 55, 0);
    cr_assert_eq(r.n_evals, 3);
    cr_assert(!isnan(r.ended), "an imported run has ended");
    sw_store_run_clear(&r);
    sw_store_curve c;
    ST_OK(s, sw_store_curve_get(s, id, &c));
    cr_assert_eq(c.n, 3);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(c.evals[i].tokens, evals[i].tokens);
        cr_assert_eq(c.evals[i].step, evals[i].step);
        cr_assert_float_eq(c.evals[i].val_em, evals[i].val_em, 0);
        cr_assert_eq(c.evals[i].n_metrics, evals[i].n_metrics);
    }
    cr_assert(isnan(c.evals[0].train_loss));
    cr_assert_str_eq(c.evals[1].metrics[1].name, "val_accuracy"); /* sorted by name */
    cr_assert_float_eq(c.evals[1].metrics[1].value, 0.55, 0);
    sw_store_curve_clear(&c);
    char *v;
    ST_OK(s, sw_store_tag_get(s, id, "import_format", &v));
    cr_assert_str_eq(v, "keras");
    free(v);
    /* the tuner's query finds it as a completed run of its task */
    sw_store_run_filter f = {.task = "demo", .has_status = 1, .status = SW_RUN_COMPLETED};
    sw_store_run *runs;
    size_t n;
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 1);
    sw_store_run_list_free(runs, n);
    sw_store_close(s);
}

STORE_TEST(import_is_all_or_nothing)
{
    sw_store *s = fx_open(NULL);
    /* a constraint fails in the middle of the transaction (the second tag
     * repeats the first's key) after the run and its evaluations were
     * inserted: all of it rolls back */
    sw_store_kv twice[] = {{"k", "1"}, {"k", "2"}};
    int64_t id = -1;
    sw_status st = sw_store_run_import(s, NULL, &done, evals, 3, twice, 2, &id);
    cr_assert_neq(st, SW_OK);
    cr_assert_eq(id, -1, "no id for a run that is not there");
    cr_assert_eq(count_runs(s), 0);
    /* checks before writing */
    sw_store_metric reserved[] = {{"val_em", 1}};
    sw_store_eval bad[] = {evals[0], evals[1]};
    bad[1].metrics = reserved;
    bad[1].n_metrics = 1;
    cr_assert_eq(sw_store_run_import(s, NULL, &done, bad, 2, NULL, 0, NULL), SW_ERR_INVALID);
    cr_assert(strstr(sw_store_errmsg(s), "evaluation 2: metric 0: name 'val_em' is empty or reserved"), "%s",
              sw_store_errmsg(s));
    bad[1] = evals[1];
    bad[1].wall_s = NAN;
    cr_assert_eq(sw_store_run_import(s, NULL, &done, bad, 2, NULL, 0, NULL), SW_ERR_INVALID);
    cr_assert(strstr(sw_store_errmsg(s), "evaluation 2: wall_s is NaN"), "%s", sw_store_errmsg(s));
    sw_store_run_result running = done;
    running.status = SW_RUN_RUNNING;
    cr_assert_eq(sw_store_run_import(s, NULL, &running, evals, 3, NULL, 0, NULL), SW_ERR_INVALID);
    sw_store_kv empty[] = {{"", "x"}};
    cr_assert_eq(sw_store_run_import(s, NULL, &done, evals, 3, empty, 1, NULL), SW_ERR_INVALID);
    cr_assert_eq(count_runs(s), 0, "nothing was written by any of them");
    /* and the handle still works: a good import goes in whole */
    ST_OK(s, sw_store_run_import(s, NULL, &done, evals, 3, NULL, 0, &id));
    cr_assert_eq(count_runs(s), 1);
    sw_store_curve c;
    ST_OK(s, sw_store_curve_get(s, id, &c));
    cr_assert_eq(c.n, 3);
    sw_store_curve_clear(&c);
    sw_store_close(s);
}
