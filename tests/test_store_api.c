/* store/: the API suite, every test run against SQLite and PostgreSQL. */
#include <math.h>

#include "store/db.h"
#include "store_fixture.h"

static int64_t begin(sw_store *s, const char *name, const char *task)
{
    sw_store_run_info info = {.name = name, .task = task, .config_json = "{\"lr\":0.001}", .policy = "patience:5"};
    int64_t id = 0;
    ST_OK(s, sw_store_run_begin(s, &info, &id));
    cr_assert_gt(id, 0);
    return id;
}

static void log_n(sw_store *s, int64_t id, int n, uint64_t tokens0)
{
    for (int i = 0; i < n; i++) {
        sw_store_metric m[] = {{"phone_error", 0.5 / (i + 1)}};
        sw_store_eval e = {tokens0 + (uint64_t)i * 1000, i * 10, i * 0.5, 10.0 + i, 2.0 - 0.1 * i, NAN, m, 1};
        ST_OK(s, sw_store_log_eval(s, id, &e));
    }
}

STORE_TEST(run_round_trip)
{
    sw_store *s = fx_open(NULL);
    cr_assert_str_eq(sw_store_backend(s), fx.pg ? "postgresql" : "sqlite");
    sw_store_run_info info = {.name = "gpt seed 3", .task = "cmudict", .config_json = "{\"model\":\"gpt\",\"lr\":0.001}",
                        .policy = "patience:5 warmup:1M", .host = "box-7", .pid = 4242};
    int64_t id;
    ST_OK(s, sw_store_run_begin(s, &info, &id));
    sw_store_metric m0[] = {{"phone_error", 0.25}, {"lr", 1e-3}};
    sw_store_eval e0 = {1000, 10, 1.5, 42.5, 1.25, 2.5, m0, 2};
    sw_store_eval e1 = {2000, 20, 3.0, NAN, INFINITY, 2.0, NULL, 0};
    ST_OK(s, sw_store_log_eval(s, id, &e0));
    ST_OK(s, sw_store_log_eval(s, id, &e1));

    sw_store_curve c;
    ST_OK(s, sw_store_curve_get(s, id, &c)); /* flushes first */
    cr_assert_eq(c.n, 2);
    cr_assert_eq(c.evals[0].tokens, 1000);
    cr_assert_eq(c.evals[0].step, 10);
    cr_assert_eq(c.evals[0].wall_s, 1.5);
    cr_assert_eq(c.evals[0].val_em, 42.5);
    cr_assert_eq(c.evals[0].val_loss, 1.25);
    cr_assert_eq(c.evals[0].train_loss, 2.5);
    cr_assert_eq(c.evals[0].n_metrics, 2);
    cr_assert_str_eq(c.evals[0].metrics[0].name, "lr"); /* sorted by name */
    cr_assert_eq(c.evals[0].metrics[0].value, 1e-3);
    cr_assert_str_eq(c.evals[0].metrics[1].name, "phone_error");
    cr_assert_eq(c.evals[0].metrics[1].value, 0.25);
    cr_assert_eq(c.evals[1].tokens, 2000);
    cr_assert(isnan(c.evals[1].val_em), "NaN stays NaN");
    cr_assert(isinf(c.evals[1].val_loss), "inf stays inf");
    cr_assert_eq(c.evals[1].n_metrics, 0);
    sw_store_curve_clear(&c);

    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.id, id);
    cr_assert_str_eq(r.name, "gpt seed 3");
    cr_assert_str_eq(r.task, "cmudict");
    cr_assert_str_eq(r.config, "{\"model\":\"gpt\",\"lr\":0.001}");
    cr_assert_str_eq(r.policy, "patience:5 warmup:1M");
    cr_assert_str_eq(r.host, "box-7");
    cr_assert_eq(r.pid, 4242);
    cr_assert_eq(r.status, SW_RUN_RUNNING);
    cr_assert_eq(r.tokens, 2000, "tokens follow the flushed curve");
    cr_assert_eq(r.n_evals, 2);
    cr_assert(isnan(r.ended));
    cr_assert_null(r.stop_rule);
    cr_assert(fabs(r.started - (double)time(NULL)) < 120, "started %f is now", r.started);
    cr_assert_geq(r.heartbeat, r.started);
    sw_store_run_clear(&r);

    sw_store_run_result res = {SW_RUN_STOPPED, "patience", "no gain in 5 evaluations", 2500, 1000, 42.5, 42.0, 41.5};
    ST_OK(s, sw_store_run_end(s, id, &res));
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_STOPPED);
    cr_assert_str_eq(r.stop_rule, "patience");
    cr_assert_str_eq(r.stop_reason, "no gain in 5 evaluations");
    cr_assert_eq(r.tokens, 2500);
    cr_assert_eq(r.best_tokens, 1000);
    cr_assert_eq(r.best_em, 42.5);
    cr_assert_eq(r.val_em, 42.0);
    cr_assert_eq(r.test_em, 41.5);
    cr_assert(r.ended >= r.started);
    sw_store_run_clear(&r);
    sw_store_close(s);

    /* a second handle sees it all */
    s = fx_open(NULL);
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_STOPPED);
    cr_assert_eq(r.n_evals, 2);
    sw_store_run_clear(&r);
    sw_store_close(s);
}

STORE_TEST(batching_and_close_flush)
{
    sw_store_options o;
    sw_store_options_default(&o);
    o.eval_batch = 4;
    o.flush_interval_s = 3600;
    sw_store *w = fx_open(&o), *rd = fx_open(&o);
    int64_t id = begin(w, "batch", "t");
    log_n(w, id, 3, 0);
    sw_store_run r;
    ST_OK(rd, sw_store_run_get(rd, id, &r));
    cr_assert_eq(r.n_evals, 0, "3 < batch: nothing written yet");
    sw_store_run_clear(&r);
    log_n(w, id, 1, 3000);
    ST_OK(rd, sw_store_run_get(rd, id, &r));
    cr_assert_eq(r.n_evals, 4, "the 4th evaluation flushes the batch");
    sw_store_run_clear(&r);
    log_n(w, id, 2, 10000);
    sw_store_close(w); /* flushes */
    ST_OK(rd, sw_store_run_get(rd, id, &r));
    cr_assert_eq(r.n_evals, 6);
    sw_store_run_clear(&r);
    sw_store_close(rd);
}

STORE_TEST(tags_and_params)
{
    sw_store *s = fx_open(NULL);
    int64_t id = begin(s, "a", "t");
    ST_OK(s, sw_store_tag_set(s, id, "team", "speech"));
    ST_OK(s, sw_store_tag_set(s, id, "env", "dev"));
    ST_OK(s, sw_store_tag_set(s, id, "env", "prod")); /* replaces */
    ST_OK(s, sw_store_param_set(s, id, "lr", "0.001"));
    char *v;
    ST_OK(s, sw_store_tag_get(s, id, "env", &v));
    cr_assert_str_eq(v, "prod");
    free(v);
    ST_OK(s, sw_store_param_get(s, id, "lr", &v));
    cr_assert_str_eq(v, "0.001");
    free(v);
    cr_assert_eq(sw_store_tag_get(s, id, "lr", &v), SW_ERR_NOT_FOUND, "params and tags are apart");
    cr_assert_null(v);
    sw_store_kv *kv;
    size_t n;
    ST_OK(s, sw_store_tags_list(s, id, &kv, &n));
    cr_assert_eq(n, 2);
    cr_assert_str_eq(kv[0].key, "env");
    cr_assert_str_eq(kv[0].value, "prod");
    cr_assert_str_eq(kv[1].key, "team");
    sw_store_kv_list_free(kv, n);
    ST_OK(s, sw_store_params_list(s, id, &kv, &n));
    cr_assert_eq(n, 1);
    sw_store_kv_list_free(kv, n);
    cr_assert_eq(sw_store_tag_set(s, 99999, "k", "v"), SW_ERR_NOT_FOUND);
    cr_assert(strstr(sw_store_errmsg(s), "99999"), "message names the run: %s", sw_store_errmsg(s));
    sw_store_close(s);
}

STORE_TEST(list_filters_and_order)
{
    sw_store *s = fx_open(NULL);
    int64_t a = begin(s, "a", "cmudict");
    int64_t b = begin(s, "b", "cmudict");
    int64_t c = begin(s, "c", "fashion-mnist");
    int64_t d = begin(s, "d", "cmudict");
    sw_store_run_result done = {SW_RUN_COMPLETED, NULL, NULL, 10, 5, 50, 50, 49};
    ST_OK(s, sw_store_run_end(s, b, &done));
    ST_OK(s, sw_store_run_end(s, c, &done));
    ST_OK(s, sw_store_tag_set(s, a, "env", "prod"));
    ST_OK(s, sw_store_tag_set(s, d, "env", "dev"));
    ST_OK(s, sw_store_tag_set(s, d, "team", "x"));
    int64_t study;
    ST_OK(s, sw_store_study_create(s, "search-1", "maximize", &study));
    ST_OK(s, sw_store_trial_add(s, study, b, NULL));
    ST_OK(s, sw_store_trial_add(s, study, d, NULL));

    sw_store_run *runs;
    size_t n;
    ST_OK(s, sw_store_runs_list(s, NULL, &runs, &n));
    cr_assert_eq(n, 4);
    cr_assert_eq(runs[0].id, d, "newest first");
    cr_assert_eq(runs[1].id, c);
    cr_assert_eq(runs[2].id, b);
    cr_assert_eq(runs[3].id, a);
    sw_store_run_list_free(runs, n);

    sw_store_run_filter f = {.task = "cmudict"};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 3);
    sw_store_run_list_free(runs, n);

    f = (sw_store_run_filter){.has_status = 1, .status = SW_RUN_COMPLETED};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 2);
    cr_assert_eq(runs[0].id, c);
    cr_assert_eq(runs[1].id, b);
    sw_store_run_list_free(runs, n);

    f = (sw_store_run_filter){.task = "cmudict", .has_status = 1, .status = SW_RUN_RUNNING};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 2);
    sw_store_run_list_free(runs, n);

    f = (sw_store_run_filter){.study = "search-1"};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 2);
    cr_assert_eq(runs[0].id, d);
    cr_assert_eq(runs[1].id, b);
    sw_store_run_list_free(runs, n);

    sw_store_kv tag = {"env", "prod"};
    f = (sw_store_run_filter){.tags = &tag, .n_tags = 1};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 1);
    cr_assert_eq(runs[0].id, a);
    sw_store_run_list_free(runs, n);

    sw_store_kv keys[] = {{"env", NULL}, {"team", "x"}};
    f = (sw_store_run_filter){.tags = keys, .n_tags = 2};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 1);
    cr_assert_eq(runs[0].id, d);
    sw_store_run_list_free(runs, n);

    int64_t ids[] = {a, c};
    f = (sw_store_run_filter){.ids = ids, .n_ids = 2};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 2);
    cr_assert_eq(runs[0].id, c);
    sw_store_run_list_free(runs, n);

    f = (sw_store_run_filter){.limit = 3};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 3);
    cr_assert_eq(runs[0].id, d);
    sw_store_run_list_free(runs, n);

    f = (sw_store_run_filter){.task = "nothing"};
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 0);
    cr_assert_null(runs);
    sw_store_close(s);
}

STORE_TEST(stale_heartbeat_reads_crashed)
{
    sw_store_options o;
    sw_store_options_default(&o);
    o.stale_after_s = 0.4;
    sw_store *s = fx_open(&o);
    int64_t id = begin(s, "x", "t");
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_RUNNING);
    sw_store_run_clear(&r);
    cr_assert_eq(sw_store_run_resume(s, id, SW_STORE_KEEP_ALL), SW_ERR_STATE, "a live run cannot be resumed");
    usleep(800 * 1000);
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_CRASHED);
    sw_store_run_clear(&r);
    sw_store_run_filter f = {.has_status = 1, .status = SW_RUN_CRASHED};
    sw_store_run *runs;
    size_t n;
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 1);
    sw_store_run_list_free(runs, n);
    f.status = SW_RUN_RUNNING;
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 0);
    ST_OK(s, sw_store_heartbeat(s, id));
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_RUNNING, "a fresh heartbeat revives it");
    sw_store_run_clear(&r);
    /* an ended run never reads crashed */
    sw_store_run_result done = {SW_RUN_COMPLETED, NULL, NULL, 1, 1, NAN, NAN, NAN};
    ST_OK(s, sw_store_run_end(s, id, &done));
    usleep(800 * 1000);
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_COMPLETED);
    cr_assert(isnan(r.best_em));
    sw_store_run_clear(&r);
    cr_assert_eq(sw_store_run_resume(s, id, SW_STORE_KEEP_ALL), SW_ERR_STATE);
    cr_assert(strstr(sw_store_errmsg(s), "completed"), "%s", sw_store_errmsg(s));
    sw_store_close(s);
}

STORE_TEST(resume_truncates_and_continues)
{
    sw_store_options o;
    sw_store_options_default(&o);
    o.stale_after_s = 0.3;
    sw_store *s = fx_open(&o);
    int64_t id = begin(s, "x", "t");
    log_n(s, id, 10, 1000); /* tokens 1000 .. 10000 */
    /* branches forked at 4000 and 6000; the one past the checkpoint goes */
    int64_t kept, dropped;
    sw_store_run_info b4 = {.name = "b4", .task = "t", .config_json = "{}", .policy = "none", .parent_run_id = id,
                            .fork_tokens = 4000};
    sw_store_run_info b6 = b4;
    b6.name = "b6";
    b6.fork_tokens = 6000;
    ST_OK(s, sw_store_run_begin(s, &b4, &kept));
    ST_OK(s, sw_store_run_begin(s, &b6, &dropped));
    log_n(s, dropped, 1, 6100);
    ST_OK(s, sw_store_flush(s));
    sw_store_close(s);
    usleep(600 * 1000);
    s = fx_open(&o);
    ST_OK(s, sw_store_run_resume(s, id, 5000)); /* the checkpoint was at 5000 tokens */
    sw_store_run br;
    ST_OK(s, sw_store_run_get(s, kept, &br));
    sw_store_run_clear(&br);
    cr_assert_eq(sw_store_run_get(s, dropped, &br), SW_ERR_NOT_FOUND, "a branch forked past the checkpoint is redone");
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_RUNNING);
    cr_assert_eq(r.n_evals, 5);
    cr_assert_eq(r.tokens, 5000);
    cr_assert_eq(r.pid, getpid());
    sw_store_run_clear(&r);
    log_n(s, id, 2, 6000);
    sw_store_curve c;
    ST_OK(s, sw_store_curve_get(s, id, &c));
    cr_assert_eq(c.n, 7);
    for (size_t i = 0; i < c.n; i++) cr_assert_eq(c.evals[i].tokens, 1000 * (i + 1), "eval %zu", i);
    sw_store_curve_clear(&c);
    cr_assert_eq(sw_store_run_resume(s, 4242, SW_STORE_KEEP_ALL), SW_ERR_NOT_FOUND);
    sw_store_close(s);
}

STORE_TEST(remove_cascades)
{
    sw_store *s = fx_open(NULL);
    int64_t a = begin(s, "a", "t"), b = begin(s, "b", "t");
    log_n(s, a, 20, 0);
    log_n(s, b, 5, 0);
    ST_OK(s, sw_store_tag_set(s, a, "k", "v"));
    ST_OK(s, sw_store_param_set(s, a, "k", "v"));
    int64_t study;
    ST_OK(s, sw_store_study_create(s, "st", "minimize", &study));
    ST_OK(s, sw_store_trial_add(s, study, a, NULL));
    const char *file = sw_test_write(fx.dir, "ckpt.bin", "abc");
    ST_OK(s, sw_store_artifact_add(s, a, "checkpoint", file, NULL));
    ST_OK(s, sw_store_run_remove(s, a));
    sw_store_run r;
    cr_assert_eq(sw_store_run_get(s, a, &r), SW_ERR_NOT_FOUND);
    sw_store_curve c;
    cr_assert_eq(sw_store_curve_get(s, a, &c), SW_ERR_NOT_FOUND);
    cr_assert_eq(sw_store_run_remove(s, a), SW_ERR_NOT_FOUND);
    int64_t *ids;
    size_t n;
    ST_OK(s, sw_store_trials_list(s, study, &ids, &n));
    cr_assert_eq(n, 0);
    sw_store_artifact *arts;
    ST_OK(s, sw_store_artifacts_list(s, a, &arts, &n));
    cr_assert_eq(n, 0);
    ST_OK(s, sw_store_curve_get(s, b, &c));
    cr_assert_eq(c.n, 5, "the other run is intact");
    sw_store_curve_clear(&c);
    sw_store_close(s);
}

STORE_TEST(studies_and_trials)
{
    sw_store *s = fx_open(NULL);
    int64_t st1, st2, st3;
    ST_OK(s, sw_store_study_create(s, "lr-search", "maximize", &st1));
    ST_OK(s, sw_store_study_create(s, "lr-search", "maximize", &st2));
    cr_assert_eq(st1, st2, "create finds an existing study");
    cr_assert_eq(sw_store_study_create(s, "lr-search", "minimize", &st3), SW_ERR_INVALID);
    cr_assert_eq(sw_store_study_create(s, "x", "sideways", &st3), SW_ERR_INVALID);
    int64_t a = begin(s, "a", "t"), b = begin(s, "b", "t");
    int64_t num;
    ST_OK(s, sw_store_trial_add(s, st1, a, &num));
    cr_assert_eq(num, 0);
    ST_OK(s, sw_store_trial_add(s, st1, b, &num));
    cr_assert_eq(num, 1);
    ST_OK(s, sw_store_study_create(s, "other", "minimize", &st3));
    cr_assert_eq(sw_store_trial_add(s, st3, a, &num), SW_ERR_INVALID, "a run is in one study at most");
    cr_assert_eq(sw_store_trial_add(s, 777, a, &num), SW_ERR_NOT_FOUND);
    int64_t *ids;
    size_t n;
    ST_OK(s, sw_store_trials_list(s, st1, &ids, &n));
    cr_assert_eq(n, 2);
    cr_assert_eq(ids[0], a);
    cr_assert_eq(ids[1], b);
    free(ids);
    sw_store_study study;
    ST_OK(s, sw_store_study_get(s, "lr-search", &study));
    cr_assert_eq(study.id, st1);
    cr_assert_str_eq(study.direction, "maximize");
    cr_assert_eq(study.n_trials, 2);
    sw_store_study_clear(&study);
    cr_assert_eq(sw_store_study_get(s, "nope", &study), SW_ERR_NOT_FOUND);
    sw_store_study *all;
    ST_OK(s, sw_store_studies_list(s, &all, &n));
    cr_assert_eq(n, 2);
    cr_assert_str_eq(all[0].name, "lr-search");
    cr_assert_str_eq(all[1].name, "other");
    sw_store_study_list_free(all, n);
    sw_store_close(s);
}

STORE_TEST(policies_and_state)
{
    sw_store *s = fx_open(NULL);
    sw_store_policy p;
    cr_assert_eq(sw_store_policy_get(s, "cmudict", &p), SW_ERR_NOT_FOUND);
    ST_OK(s, sw_store_policy_put(s, "cmudict", "patience:5", "{\"tokens_saved\":0.3}"));
    ST_OK(s, sw_store_policy_put(s, "cmudict", "patience:3 gl:5", "{\"tokens_saved\":0.4}"));
    ST_OK(s, sw_store_policy_put(s, "fmnist", "patience:9", NULL));
    ST_OK(s, sw_store_policy_get(s, "cmudict", &p));
    cr_assert_str_eq(p.policy, "patience:3 gl:5", "latest wins");
    cr_assert_str_eq(p.report, "{\"tokens_saved\":0.4}");
    cr_assert_str_eq(p.task_key, "cmudict");
    cr_assert_gt(p.created, 1e9);
    sw_store_policy_clear(&p);
    sw_store_policy *h;
    size_t n;
    ST_OK(s, sw_store_policy_history(s, "cmudict", &h, &n));
    cr_assert_eq(n, 2, "history kept");
    cr_assert_str_eq(h[0].policy, "patience:3 gl:5");
    cr_assert_str_eq(h[1].policy, "patience:5");
    sw_store_policy_list_free(h, n);
    ST_OK(s, sw_store_policy_get(s, "fmnist", &p));
    cr_assert_str_eq(p.report, "{}");
    sw_store_policy_clear(&p);

    char *js;
    cr_assert_eq(sw_store_state_get(s, "cmudict", &js), SW_ERR_NOT_FOUND);
    ST_OK(s, sw_store_state_put(s, "cmudict", "{\"round\":1}"));
    ST_OK(s, sw_store_state_put(s, "cmudict", "{\"round\":2}"));
    ST_OK(s, sw_store_state_get(s, "cmudict", &js));
    cr_assert_str_eq(js, "{\"round\":2}");
    free(js);
    sw_store_close(s);
}

/* sw_store_state_update: fn sees NULL for a new key, its text is written, and
 * a refusal rolls back (no empty placeholder row is left behind). */
static sw_status bump(const char *cur, char **next, void *ud)
{
    int *calls = ud;
    ++*calls;
    int round = 0;
    if (cur && sscanf(cur, "{\"round\":%d}", &round) != 1) return SW_ERR_FORMAT;
    if (!(*next = malloc(32))) return SW_ERR_NOMEM;
    snprintf(*next, 32, "{\"round\":%d}", round + 1);
    return SW_OK;
}
static sw_status refuse(const char *cur, char **next, void *ud)
{
    (void)cur, (void)next, (void)ud;
    return SW_ERR_FORMAT;
}

STORE_TEST(state_update_reads_and_writes_in_one_step)
{
    sw_store *s = fx_open(NULL);
    int calls = 0;
    cr_assert_eq(sw_store_state_update(s, "new", refuse, NULL), SW_ERR_FORMAT);
    char *js;
    cr_assert_eq(sw_store_state_get(s, "new", &js), SW_ERR_NOT_FOUND, "a refused update left a row");
    ST_OK(s, sw_store_state_update(s, "new", bump, &calls));
    ST_OK(s, sw_store_state_update(s, "new", bump, &calls));
    cr_assert_eq(calls, 2);
    ST_OK(s, sw_store_state_get(s, "new", &js));
    cr_assert_str_eq(js, "{\"round\":2}");
    free(js);
    sw_store_close(s);
}

STORE_TEST(artifacts_sha256)
{
    sw_store *s = fx_open(NULL);
    int64_t id = begin(s, "a", "t");
    const char *dir = fx.dir;
    char path[4200];
    snprintf(path, sizeof path, "%s", sw_test_write(dir, "a.bin", "abc"));
    int64_t aid;
    ST_OK(s, sw_store_artifact_add(s, id, "checkpoint", path, &aid));
    sw_store_artifact *a;
    size_t n;
    ST_OK(s, sw_store_artifacts_list(s, id, &a, &n));
    cr_assert_eq(n, 1);
    cr_assert_eq(a[0].id, aid);
    cr_assert_str_eq(a[0].kind, "checkpoint");
    /* FIPS 180-2 appendix B.1: SHA-256("abc") */
    cr_assert_str_eq(a[0].sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cr_assert_eq(a[0].bytes, 3);
    cr_assert_eq(a[0].path[0], '/');
    sw_store_artifact_list_free(a, n);
    cr_assert_eq(sw_store_artifact_add(s, id, "checkpoint", "/nonexistent/ckpt", NULL), SW_ERR_NOT_FOUND);
    cr_assert_eq(sw_store_artifact_add(s, 5555, "checkpoint", path, NULL), SW_ERR_NOT_FOUND);
    char hex[65];
    uint64_t bytes;
    cr_assert_eq(sw_sha256_file(sw_test_write(dir, "e", ""), hex, &bytes, NULL), SW_OK);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cr_assert_eq(bytes, 0);
    sw_store_close(s);
}

STORE_TEST(bad_arguments)
{
    sw_store *s = fx_open(NULL);
    int64_t id = begin(s, "a", "t");
    sw_store_metric dup[] = {{"x", 1}, {"x", 2}};
    sw_store_eval e = {1, 1, 1, 1, 1, 1, dup, 2};
    cr_assert_eq(sw_store_log_eval(s, id, &e), SW_ERR_INVALID);
    sw_store_metric res[] = {{"val_em", 1}};
    e.metrics = res;
    e.n_metrics = 1;
    cr_assert_eq(sw_store_log_eval(s, id, &e), SW_ERR_INVALID);
    e.n_metrics = 0;
    cr_assert_eq(sw_store_log_eval(s, 31337, &e), SW_ERR_NOT_FOUND);
    e.tokens = UINT64_MAX;
    cr_assert_eq(sw_store_log_eval(s, id, &e), SW_ERR_INVALID);
    sw_store_run_result running = {SW_RUN_RUNNING, NULL, NULL, 0, 0, 0, 0, 0};
    cr_assert_eq(sw_store_run_end(s, id, &running), SW_ERR_INVALID);
    sw_store_run_result done = {SW_RUN_FAILED, NULL, "boom", 0, 0, NAN, NAN, NAN};
    cr_assert_eq(sw_store_run_end(s, 31337, &done), SW_ERR_NOT_FOUND);
    cr_assert_eq(sw_store_heartbeat(s, 31337), SW_ERR_NOT_FOUND);
    sw_store_run r;
    cr_assert_eq(sw_store_run_get(s, 31337, &r), SW_ERR_NOT_FOUND);
    cr_assert(strstr(sw_store_errmsg(s), "31337"), "%s", sw_store_errmsg(s));
    sw_run_status st;
    cr_assert_eq(sw_run_status_parse("pruned", &st), SW_OK);
    cr_assert_eq(st, SW_RUN_PRUNED);
    cr_assert_eq(sw_run_status_parse("nope", &st), SW_ERR_INVALID);
    sw_store_close(s);
    /* NULL is a no-op everywhere */
    sw_store_close(NULL);
    sw_store_run_clear(NULL);
    sw_store_run_list_free(NULL, 0);
    sw_store_curve_clear(NULL);
    sw_store_kv_list_free(NULL, 0);
    sw_store_study_clear(NULL);
    sw_store_study_list_free(NULL, 0);
    sw_store_policy_clear(NULL);
    sw_store_policy_list_free(NULL, 0);
    sw_store_artifact_list_free(NULL, 0);
}

/* ---- schema versions ------------------------------------------------------------------ */

static sw_db *raw_open(void)
{
    sw_db *db;
    sw_error err = {0};
    cr_assert_eq(sw_db_open(fx.location, fx.pg ? SW_DB_POSTGRES : SW_DB_SQLITE, 1, 1000, &db, &err), SW_OK, "%s",
                 err.msg);
    return db;
}

static void raw(sw_db *db, const char *sql)
{
    sw_error err = {0};
    cr_assert_eq(sw_db_script(db, sql, &err), SW_OK, "%s: %s", sql, err.msg);
}

/* Schema version 1 as it shipped, written out by hand. */
static const char *const schema_v1 =
    "CREATE TABLE schema_version (version {INT} PRIMARY KEY, applied {REAL} NOT NULL);"
    "CREATE TABLE runs (id {ID}, name TEXT NOT NULL, task TEXT NOT NULL, config TEXT NOT NULL,"
    " policy TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN"
    " ('running','completed','stopped','pruned','diverged','failed','crashed')),"
    " stop_rule TEXT, stop_reason TEXT, tokens {INT} NOT NULL DEFAULT 0, best_tokens {INT}, best_em {REAL},"
    " val_em {REAL}, test_em {REAL}, host TEXT NOT NULL, pid {INT} NOT NULL, started {REAL} NOT NULL,"
    " ended {REAL}, heartbeat {REAL} NOT NULL);"
    "CREATE INDEX runs_task ON runs (task, started);"
    "CREATE INDEX runs_started ON runs (started);"
    "CREATE TABLE evals (run_id {INT} NOT NULL REFERENCES runs (id) ON DELETE CASCADE, seq {INT} NOT NULL,"
    " tokens {INT} NOT NULL, step {INT} NOT NULL, wall_s {REAL} NOT NULL, val_em {REAL}, val_loss {REAL},"
    " train_loss {REAL}, PRIMARY KEY (run_id, seq));"
    "CREATE TABLE eval_metrics (run_id {INT} NOT NULL, seq {INT} NOT NULL, name TEXT NOT NULL, value {REAL},"
    " PRIMARY KEY (run_id, seq, name),"
    " FOREIGN KEY (run_id, seq) REFERENCES evals (run_id, seq) ON DELETE CASCADE);"
    "CREATE TABLE run_tags (run_id {INT} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));"
    "CREATE INDEX run_tags_key ON run_tags (key, value);"
    "CREATE TABLE run_params (run_id {INT} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));"
    "CREATE TABLE studies (id {ID}, name TEXT NOT NULL UNIQUE,"
    " direction TEXT NOT NULL CHECK (direction IN ('maximize','minimize')),"
    " n_trials {INT} NOT NULL DEFAULT 0, created {REAL} NOT NULL);"
    "CREATE TABLE trials (study_id {INT} NOT NULL REFERENCES studies (id) ON DELETE CASCADE,"
    " number {INT} NOT NULL, run_id {INT} NOT NULL UNIQUE REFERENCES runs (id) ON DELETE CASCADE,"
    " PRIMARY KEY (study_id, number));"
    "INSERT INTO schema_version VALUES (1, 0);"
    "INSERT INTO runs (name, task, config, policy, status, host, pid, started, heartbeat, ended, tokens)"
    " VALUES ('old run', 'cmudict', '{}', 'patience:5', 'completed', 'h', 1, 1000, 1000, 2000, 777);"
    "INSERT INTO evals VALUES (1, 0, 777, 7, 1.0, 55.5, 0.5, 0.7);";

STORE_TEST(migrates_an_old_store)
{
    sw_db *db = raw_open();
    raw(db, schema_v1);
    sw_db_close(db);
    sw_store *s = fx_open(NULL);
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, 1, &r));
    cr_assert_str_eq(r.name, "old run");
    cr_assert_eq(r.status, SW_RUN_COMPLETED);
    cr_assert_eq(r.tokens, 777);
    cr_assert_eq(r.n_evals, 1);
    sw_store_run_clear(&r);
    ST_OK(s, sw_store_policy_put(s, "cmudict", "patience:2", "{}")); /* a table of version 2 */
    ST_OK(s, sw_store_artifact_add(s, 1, "report", sw_test_write(fx.dir, "r.json", "{}"), NULL));
    sw_store_close(s);
    db = raw_open();
    sw_db_result res;
    cr_assert_eq(sw_db_exec(db, "SELECT MAX(version), COUNT(*) FROM schema_version", NULL, 0, &res, NULL), SW_OK);
    cr_assert_eq(sw_db_get_int(&res, 0, 0), SW_STORE_SCHEMA_VERSION);
    cr_assert_eq(sw_db_get_int(&res, 0, 1), SW_STORE_SCHEMA_VERSION, "one row per migration");
    sw_db_result_free(&res);
    sw_db_close(db);
}

/* Schema version 2's additions as they shipped. */
static const char *const schema_v2 =
    "CREATE TABLE policies (id {ID}, task_key TEXT NOT NULL, policy TEXT NOT NULL, report TEXT NOT NULL,"
    " created {REAL} NOT NULL);"
    "CREATE INDEX policies_key ON policies (task_key, id);"
    "CREATE TABLE tuning_state (task_key TEXT PRIMARY KEY, state TEXT NOT NULL, updated {REAL} NOT NULL);"
    "CREATE TABLE artifacts (id {ID}, run_id {INT} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes {INT} NOT NULL, created {REAL} NOT NULL);"
    "CREATE INDEX artifacts_run ON artifacts (run_id);"
    "INSERT INTO schema_version VALUES (2, 0);";

/* A version-2 store gains the trunk/branch relation (version 3); its old
 * runs read as plain runs and can become trunks. */
STORE_TEST(migrates_a_version_2_store)
{
    sw_db *db = raw_open();
    raw(db, schema_v1);
    raw(db, schema_v2);
    sw_db_close(db);
    sw_store *s = fx_open(NULL);
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, 1, &r));
    cr_assert_str_eq(r.name, "old run");
    cr_assert_eq(r.parent_run_id, 0, "an old run is no branch");
    cr_assert_eq(r.fork_tokens, 0);
    sw_store_run_clear(&r);
    sw_store_run_info bi = {.name = "branch", .task = "cmudict", .parent_run_id = 1, .fork_tokens = 777};
    int64_t b;
    ST_OK(s, sw_store_run_begin(s, &bi, &b));
    ST_OK(s, sw_store_run_get(s, b, &r));
    cr_assert_eq(r.parent_run_id, 1);
    cr_assert_eq(r.fork_tokens, 777);
    sw_store_run_clear(&r);
    /* and the searches' tables (version 4) */
    int64_t study;
    ST_OK(s, sw_store_search_open(s, "old store's search", "a = range(0, 1)\n", "{}", &study, NULL, NULL));
    sw_store_close(s);
    db = raw_open();
    sw_db_result res;
    cr_assert_eq(sw_db_exec(db, "SELECT MAX(version), COUNT(*) FROM schema_version", NULL, 0, &res, NULL), SW_OK);
    cr_assert_eq(sw_db_get_int(&res, 0, 0), SW_STORE_SCHEMA_VERSION);
    cr_assert_eq(sw_db_get_int(&res, 0, 1), SW_STORE_SCHEMA_VERSION, "one row per migration");
    sw_db_result_free(&res);
    sw_db_close(db);
}

/* ---- trunks and branches --------------------------------------------------------------- */

static int64_t add_branch(sw_store *s, int64_t trunk, uint64_t fork, const char *c, const char *shape, double em,
                          double test_em, uint64_t anneal)
{
    sw_store_run_info bi = {.name = "branch", .task = "t", .parent_run_id = trunk, .fork_tokens = fork};
    int64_t b;
    ST_OK(s, sw_store_run_begin(s, &bi, &b));
    ST_OK(s, sw_store_param_set(s, b, "cooldown", c));
    ST_OK(s, sw_store_param_set(s, b, "cooldown_shape", shape));
    sw_store_metric m[2] = {{"anneal_tokens", (double)anneal}, {"test_em", test_em}};
    sw_store_eval e = {.tokens = fork + anneal, .val_em = em, .val_loss = NAN, .train_loss = NAN, .metrics = m,
                       .n_metrics = isnan(test_em) ? 1 : 2};
    ST_OK(s, sw_store_log_eval(s, b, &e));
    sw_store_run_result out = {.status = SW_RUN_COMPLETED, .tokens = anneal, .best_tokens = fork + anneal, .best_em = em,
                         .val_em = em, .test_em = test_em};
    ST_OK(s, sw_store_run_end(s, b, &out));
    return b;
}

static const double *metric(const sw_store_eval *e, const char *name)
{
    for (size_t k = 0; k < e->n_metrics; k++)
        if (!strcmp(e->metrics[k].name, name)) return &e->metrics[k].value;
    return NULL;
}

/* Branches are runs with a parent; the trunk's curve comes back with their
 * results at the fork rows, under the curve.csv column names. */
STORE_TEST(branches_join_the_trunk_curve)
{
    sw_store *s = fx_open(NULL);
    sw_store_run_info ti = {.name = "trunk", .task = "t"};
    int64_t trunk;
    ST_OK(s, sw_store_run_begin(s, &ti, &trunk));
    for (int i = 1; i <= 4; i++) {
        sw_store_eval e = {.tokens = (uint64_t)i * 1000, .step = i, .val_em = 10.0 * i, .val_loss = 1.0 / i,
                           .train_loss = 1.0 / i};
        ST_OK(s, sw_store_log_eval(s, trunk, &e));
    }
    int64_t b1 = add_branch(s, trunk, 2000, "0.1", "linear", 25.5, 24.0, 200);
    add_branch(s, trunk, 2000, "0.2", "sqrt", 27.0, NAN, 400);
    add_branch(s, trunk, 4000, "0.1", "linear", 45.0, 44.5, 400);
    add_branch(s, trunk, 3500, "0.1", "linear", 99.0, 99.0, 350); /* no row at 3500: skipped */
    sw_store_run_result tr = {.status = SW_RUN_COMPLETED, .tokens = 4000, .best_tokens = 4000, .best_em = 40,
                        .val_em = 40, .test_em = NAN};
    ST_OK(s, sw_store_run_end(s, trunk, &tr));

    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, b1, &r));
    cr_assert_eq(r.parent_run_id, trunk);
    cr_assert_eq(r.fork_tokens, 2000);
    cr_assert_eq(r.tokens, 200, "a branch's tokens are its own, not the trunk's");
    sw_store_run_clear(&r);
    ST_OK(s, sw_store_run_get(s, trunk, &r));
    cr_assert_eq(r.tokens, 4000, "the trunk's tokens exclude its branches'");
    sw_store_run_clear(&r);

    sw_store_run *list;
    size_t n;
    sw_store_run_filter f = {.branches = -1};
    ST_OK(s, sw_store_runs_list(s, &f, &list, &n));
    cr_assert_eq(n, 1, "no branches in a trunks-only list");
    cr_assert_eq(list[0].id, trunk);
    sw_store_run_list_free(list, n);
    sw_store_run_filter g = {.parent_run_id = trunk};
    ST_OK(s, sw_store_runs_list(s, &g, &list, &n));
    cr_assert_eq(n, 4);
    sw_store_run_list_free(list, n);

    sw_store_curve c;
    ST_OK(s, sw_store_curve_get_joined(s, trunk, &c));
    cr_assert_eq(c.n, 4, "the trunk's rows only");
    cr_assert_null(metric(&c.evals[0], "val_em_annealed:c=0.1:shape=linear"), "no fork at 1000");
    const double *v = metric(&c.evals[1], "val_em_annealed:c=0.1:shape=linear");
    cr_assert(v && *v == 25.5);
    v = metric(&c.evals[1], "anneal_tokens:c=0.1:shape=linear");
    cr_assert(v && *v == 200);
    v = metric(&c.evals[1], "test_em_annealed:c=0.1:shape=linear");
    cr_assert(v && *v == 24.0);
    v = metric(&c.evals[1], "val_em_annealed:c=0.2:shape=sqrt");
    cr_assert(v && *v == 27.0);
    cr_assert_null(metric(&c.evals[1], "test_em_annealed:c=0.2:shape=sqrt"), "not measured");
    cr_assert_eq(c.evals[2].n_metrics, 0, "nothing at 3000");
    v = metric(&c.evals[3], "val_em_annealed:c=0.1:shape=linear");
    cr_assert(v && *v == 45.0);
    sw_store_curve_clear(&c);

    /* removing the trunk removes its branches */
    ST_OK(s, sw_store_run_remove(s, trunk));
    cr_assert_eq(sw_store_run_get(s, b1, &r), SW_ERR_NOT_FOUND);
    sw_store_close(s);
}

STORE_TEST(refuses_a_newer_store)
{
    sw_store_close(fx_open(NULL));
    sw_db *db = raw_open();
    raw(db, "INSERT INTO schema_version VALUES (99, 0)");
    sw_db_close(db);
    sw_store *s = NULL;
    sw_error err = {0};
    cr_assert_eq(sw_store_open(fx.location, &s, &err), SW_ERR_VERSION);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "99") && strstr(err.msg, "newer"), "%s", err.msg);
}

STORE_TEST(refuses_a_foreign_database)
{
    sw_db *db = raw_open();
    raw(db, "CREATE TABLE runs (x TEXT); INSERT INTO runs VALUES ('not ours')");
    sw_db_close(db);
    sw_store *s = NULL;
    sw_error err = {0};
    cr_assert_eq(sw_store_open(fx.location, &s, &err), SW_ERR_FORMAT);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "not a stopwise store"), "%s", err.msg);
}

STORE_TEST(fresh_store_without_create)
{
    sw_store_options o;
    sw_store_options_default(&o);
    o.create = 0;
    sw_store *s = NULL;
    sw_error err = {0};
    cr_assert_eq(sw_store_open_with(fx.location, &o, &s, &err), SW_ERR_NOT_FOUND, "%s", err.msg);
    cr_assert_null(s);
    sw_store_close(fx_open(NULL));
    s = fx_open(&o); /* now it exists */
    sw_store_close(s);
}

/* ---- SQLite-only and PostgreSQL-only failures ------------------------------------------ */

Test(sqlite, random_bytes_are_not_a_store)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    char path[4200];
    snprintf(path, sizeof path, "%s", sw_test_write(dir, "junk.db", "\x13\x37 this is not an SQLite file at all, "
                                                                     "just some bytes padded out to a page.........."));
    sw_store *s = NULL;
    sw_error err = {0};
    cr_assert_eq(sw_store_open(path, &s, &err), SW_ERR_FORMAT, "%s", err.msg);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "not a stopwise store"), "%s", err.msg);
    cr_assert_eq(sw_status_exit_code(SW_ERR_FORMAT), 2);
    cr_assert_eq(sw_store_open("/nonexistent-dir/x/store.db", &s, &err), SW_ERR_NOT_FOUND, "%s", err.msg);
    cr_assert_eq(sw_store_open("", &s, &err), SW_ERR_INVALID);
    cr_assert_eq(sw_store_open("mysql://u:secret@h/db", &s, &err), SW_ERR_INVALID);
    cr_assert_null(strstr(err.msg, "secret"), "password echoed: %s", err.msg);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* A login the server refuses is a configuration error (the URL is wrong,
 * like a bad path): SW_ERR_INVALID, exit 2. */
Test(postgres, wrong_password_is_a_configuration_error)
{
    const char *url = fx_pg_url();
    (void)url;
    sw_store *s = NULL;
    sw_error err = {0};
    cr_assert_eq(sw_store_open("postgresql://stopwise:wrong@127.0.0.1:55432/stopwise_test", &s, &err),
                 SW_ERR_INVALID, "%s", err.msg);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "password authentication failed"), "libpq's reason: %s", err.msg);
    cr_assert(strstr(err.msg, "refused the login"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "wrong"), "password echoed: %s", err.msg);
    cr_assert_eq(sw_status_exit_code(SW_ERR_INVALID), 2);
}

Test(postgres, unreachable_is_connect_error)
{
    fx_pg_url();
    sw_store *s = NULL;
    sw_error err = {0};
    /* port 1 on loopback: nothing listens, the connection is refused at once */
    cr_assert_eq(sw_store_open("postgresql://stopwise:hunter2@127.0.0.1:1/stopwise_test", &s, &err), SW_ERR_CONNECT,
                 "%s", err.msg);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "refused") || strstr(err.msg, "connect"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "hunter2"), "password echoed: %s", err.msg);
    cr_assert(strstr(err.msg, "stopwise:***@127.0.0.1"), "%s", err.msg);
    /* a server away is a runtime failure, not bad input */
    cr_assert_eq(sw_status_exit_code(SW_ERR_CONNECT), 1);
}
