/* stopwise tune end to end: curves in, policy, CV figures and Pareto out;
 * saved under a task key; bad input exits 2; tune --data trains and tunes. */
#include "support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A staircase curve (as in tune_fixture.h) written as CSV: EM +3 per
 * evaluation to 60 at evaluation 20, flat for `plateau`, +2, flat to 100. */
static const char *stair_csv(const char *dir, const char *name, int plateau, double noise_seed)
{
    size_t cap = 100 * 96;
    char *buf = malloc(cap), *p = buf;
    p += sprintf(p, "tokens,step,wall_s,train_loss,val_loss,val_em\n");
    for (int i = 1; i <= 100; i++) {
        double em = i <= 20 ? 3.0 * i : i <= 20 + plateau ? 60.0 : 62.0;
        p += sprintf(p, "%d,%d,%d,%.6f,%.6f,%.4f\n", i * 10000, i, i, 1.0 / (1 + 2 * i),
                     1.0 / (1 + i) + 0.001 * noise_seed, em);
    }
    const char *path = sw_test_write(dir, name, buf);
    free(buf);
    return path;
}

static json_t *parse(const char *out)
{
    json_error_t je;
    json_t *j = json_loads(out ? out : "", 0, &je);
    cr_assert_not_null(j, "stdout is not one JSON object: %s (%s)", out, je.text);
    return j;
}

static double num(json_t *o, const char *k)
{
    json_t *x = json_object_get(o, k);
    cr_assert(json_is_number(x), "key %s is not a number", k);
    return json_number_value(x);
}

Test(e2e_tune, curves_json_pareto_and_store, .timeout = 120)
{
    char dir[1024]; /* a copy: each CLI call reuses sw_test_tmpdir's buffer */
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    char paths[5][1024];
    for (int k = 0; k < 5; k++) {
        char name[32];
        snprintf(name, sizeof name, "c%d.csv", k);
        snprintf(paths[k], sizeof paths[k], "%s", stair_csv(dir, name, 7, k));
    }
    char args[8192], *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "tune --curves %s --curves %s --curves %s --curves %s --curves %s --budget 1M --families patience,gain,gl "
             "--store %s/s.db --task demo --pareto %s/pareto.csv --json",
             paths[0], paths[1], paths[2], paths[3], paths[4], dir, dir);
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    json_t *j = parse(out);
    const char *pol = json_string_value(json_object_get(j, "policy"));
    cr_assert_not_null(pol);
    double f = num(j, "cv_tokens_fraction"), s = num(j, "cv_shortfall");
    cr_assert(f > 0 && f <= 1);
    cr_assert(s >= 0 && s <= 0.5 + 1e-9, "cv shortfall %g", s);
    cr_assert_lt(f, 0.5, "the staircase allows stopping at 36%%: %g", f);
    json_t *fam = json_object_get(j, "families");
    cr_assert(json_is_object(fam));
    cr_assert_eq(json_object_size(fam), 3);
    const char *names[] = {"patience", "gain", "gl"};
    for (int i = 0; i < 3; i++) {
        json_t *x = json_object_get(fam, names[i]);
        cr_assert_not_null(x, "family %s", names[i]);
        num(x, "cv_tokens_fraction");
        num(x, "cv_shortfall");
        cr_assert(json_is_string(json_object_get(x, "policy")));
    }
    cr_assert(json_is_array(json_object_get(j, "pareto")));
    cr_assert_eq(json_array_size(json_object_get(j, "cv_folds")), 5);
    cr_assert(json_is_true(json_object_get(j, "saved")));
    char path[4300];
    snprintf(path, sizeof path, "%s/pareto.csv", dir);
    char *csv = sw_test_slurp(path, NULL);
    cr_assert_not_null(csv);
    cr_assert(!strncmp(csv, "policy,family,tokens_fraction,shortfall,", 40), "%s", csv);
    free(csv);

    /* the policy is in the store under the task key */
    char *out2 = NULL;
    snprintf(args, sizeof args, "tune status --task demo --store %s/s.db --json", dir);
    cr_assert_eq(sw_test_cli(args, &out2, &err), 0, "%s", err);
    json_t *st = parse(out2);
    cr_assert_str_eq(json_string_value(json_object_get(st, "tuned_policy")), pol);
    cr_assert(json_is_null(json_object_get(st, "online")));
    json_decref(st);
    free(out2);
    /* text output has the family table and the Pareto table */
    snprintf(args, sizeof args, "tune --curves %s --curves %s --no-store --families patience", paths[0], paths[1]);
    cr_assert_eq(sw_test_cli(args, &out2, NULL), 0);
    cr_assert(strstr(out2, "Pareto frontier") && strstr(out2, "overall") && strstr(out2, "policy: patience="), "%s",
              out2);
    free(out2);
    json_decref(j);
    free(out);
    free(err);
}

static void expect_exit2(const char *args, const char *needle)
{
    char *err = NULL, *out = NULL;
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 2, "`%s` exited %d: %s", args, rc, err);
    cr_assert(strstr(err, needle), "`%s`: message '%s' lacks '%s'", args, err, needle);
    cr_assert_str_eq(out, "", "nothing on stdout");
    free(err);
    free(out);
}

Test(e2e_tune, bad_input_exits_2_with_a_message)
{
    char dir[1024]; /* a copy: each CLI call reuses sw_test_tmpdir's buffer */
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    char a[1024], b[1024], args[4096];
    snprintf(a, sizeof a, "%s", stair_csv(dir, "a.csv", 3, 0));
    snprintf(b, sizeof b, "%s", stair_csv(dir, "b.csv", 3, 1));
    const char *noem = sw_test_write(dir, "noem.csv", "tokens,val_loss\n100,1\n200,0.5\n");
    snprintf(args, sizeof args, "tune --curves %s --curves %s --no-store", a, noem);
    expect_exit2(args, "noem.csv");
    const char *dec = sw_test_write(dir, "dec.csv", "tokens,val_em\n100,1\n300,2\n200,3\n");
    snprintf(args, sizeof args, "tune --curves %s --curves %s --no-store", a, dec);
    expect_exit2(args, "dec.csv:4");
    snprintf(args, sizeof args, "tune --curves %s --no-store", a);
    expect_exit2(args, "at least 2 curves");
    snprintf(args, sizeof args, "tune --curves %s --curves %s --folds 3 --no-store", a, b);
    expect_exit2(args, "folds");
    snprintf(args, sizeof args, "tune --curves %s --curves %s --epsilon -0.5 --no-store", a, b);
    expect_exit2(args, "epsilon");
    snprintf(args, sizeof args, "tune --curves %s --curves %s --families patience,magic --no-store", a, b);
    expect_exit2(args, "magic");
    expect_exit2("tune --no-store", "--data");
    expect_exit2("tune --data synthetic:copy --budget 0 --no-store", "--budget");
    /* without --budget the data's default budget is computed: bad data says so */
    expect_exit2("tune --data nosuch:thing --no-store", "nosuch");
    snprintf(args, sizeof args, "tune status --store %s/none.db", dir);
    expect_exit2(args, "--task");
}

/* tune --data with a cosine schedule: trains K runs to the budget, records
 * them in the store, tunes; then --runs tunes again from the store with no
 * training. */
Test(e2e_tune, data_mode_trains_records_and_tunes, .timeout = 300)
{
    char dir[1024]; /* a copy: each CLI call reuses sw_test_tmpdir's buffer */
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    char args[4096], *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "tune --data synthetic:copy:n=600,len=4 --model gpt:layers=1,d=32,heads=2 --budget 100k --schedule cosine --folds 2 "
             "--eval-limit 40 --threads 1 --families patience,gain --store %s/s.db --out %s/tune --quiet --json",
             dir, dir);
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    json_t *j = parse(out);
    cr_assert(json_is_string(json_object_get(j, "policy")));
    cr_assert_eq(num(j, "n_curves"), 2);
    const char *key = json_string_value(json_object_get(j, "task_key"));
    cr_assert(key && strstr(key, "synthetic:copy:n=600,len=4|gpt:"), "%s", key);
    cr_assert(json_is_true(json_object_get(j, "saved")));
    char path[4300];
    snprintf(path, sizeof path, "%s/tune/fold-2/curve.csv", dir);
    char *csv = sw_test_slurp(path, NULL);
    cr_assert_not_null(csv, "run folder fold-2 has its curve");
    int lines = 0;
    for (char *p = csv; *p; p++) lines += *p == '\n';
    cr_assert_geq(lines, 101, "at least 100 evaluations: %d lines", lines);
    free(csv);
    free(out);
    /* the same curves from the store */
    snprintf(args, sizeof args, "tune --runs 1-2 --store %s/s.db --families patience,gain --json", dir);
    rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    json_t *k = parse(out);
    cr_assert_eq(num(k, "n_curves"), 2);
    cr_assert_eq(json_array_size(json_object_get(k, "truncated_runs")), 0);
    json_decref(k);
    json_decref(j);
    free(out);
    free(err);
    /* a run that stopped early (target=0 fires at its first evaluation):
     * --runs refuses it, naming it, unless --allow-truncated, which flags it */
    snprintf(args, sizeof args,
             "train --data synthetic:copy:n=600,len=4 --model gpt:layers=1,d=32,heads=2 --budget 100k "
             "--eval-limit 40 --threads 1 --stop target=0 --store %s/s.db --out %s/stopped --quiet",
             dir, dir);
    rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "tune --runs 1-3 --store %s/s.db --families patience --json", dir);
    rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(err, "run 3 stopped early (status stopped at "), "%s", err);
    cr_assert(strstr(err, "--allow-truncated"), "%s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "tune --runs 1-3 --store %s/s.db --families patience --json --allow-truncated", dir);
    rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    k = parse(out);
    cr_assert_eq(num(k, "n_curves"), 3);
    json_t *tr = json_object_get(k, "truncated_runs");
    cr_assert_eq(json_array_size(tr), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(tr, 0), "run")), 3);
    json_decref(k);
    free(out);
    free(err);
}

/* tune --data with a wsd schedule records one trunk per fold with its cooldown
 * branches, tunes on them, and saves under a key naming wsd and the cadence;
 * train --stop auto --schedule wsd finds it, and so does a run with the
 * default schedule; a cosine run does not. */
Test(e2e_tune, wsd_records_trunks_and_branches, .timeout = 300)
{
    char dir[1024]; /* a copy: each CLI call reuses sw_test_tmpdir's buffer */
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    char args[4096], *out = NULL, *err = NULL;
    const char *task = "--data synthetic:copy:n=300,len=4 --model gpt:layers=1,d=16,heads=2 --budget 20k "
                       "--eval-every 500 --eval-limit 20 --threads 1";
    snprintf(args, sizeof args,
             "tune %s --schedule wsd:lr=3e-3 --folds 2 --forks 10 --branch-cooldowns 0.1,0.2 --branch-shapes "
             "linear,sqrt --families patience --store %s/s.db --out %s/tune --quiet --json",
             task, dir, dir);
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    json_t *j = parse(out);
    cr_assert_eq(num(j, "n_curves"), 2, "one curve per trunk, not per branch");
    const char *key = json_string_value(json_object_get(j, "task_key"));
    cr_assert(key && strstr(key, "|20k|wsd|every=500"), "%s", key);
    cr_assert(json_is_true(json_object_get(j, "saved")));
    char path[4300];
    snprintf(path, sizeof path, "%s/tune/fold-2/curve.csv", dir);
    char *csv = sw_test_slurp(path, NULL);
    cr_assert(csv && strstr(csv, "val_em_annealed:c=0.2:shape=sqrt"), "fold-2 is a trunk");
    free(csv);
    free(out);
    /* the store: 2 trunks, 2 x 10 forks x 4 families branches */
    snprintf(args, sizeof args, "runs ls --limit 0 --store %s/s.db --json", dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    json_t *ls = parse(out);
    json_t *runs = json_object_get(ls, "runs");
    size_t branches = 0, trunks = 0, i;
    long long ids[2] = {0, 0};
    json_t *r;
    json_array_foreach(runs, i, r)
    {
        if (json_object_get(r, "parent_run_id")) branches++;
        else if (trunks < 2) ids[trunks++] = (long long)json_integer_value(json_object_get(r, "id"));
        else trunks++;
    }
    cr_assert_eq(trunks, 2);
    cr_assert_eq(branches, 80);
    json_decref(ls);
    free(out);
    /* --runs tunes on the trunks (branches are their columns) */
    snprintf(args, sizeof args, "tune --runs %lld,%lld --store %s/s.db --families patience --json", ids[0], ids[1], dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    json_t *k = parse(out);
    cr_assert_eq(num(k, "n_curves"), 2);
    json_decref(k);
    free(out);
    /* train --stop auto --schedule wsd finds the wsd policy; a cosine run does not */
    snprintf(args, sizeof args, "train %s --schedule wsd:lr=3e-3 --stop auto --store %s/s.db --out %s/auto --json", task,
             dir, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "tuned policy for task") && !strstr(err, "no tuned") && strstr(err, "|wsd|every=500"), "%s",
              err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "train %s --schedule cosine --stop auto --store %s/s.db --out %s/auto2 --json", task,
             dir, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "no tuned policy for task") && strstr(err, "|cosine|every=500"), "%s", err);
    free(out);
    free(err);
    /* a run with no --schedule (and no --stop: auto is the default) gets the
     * default wsd, so it finds the wsd policy too */
    snprintf(args, sizeof args, "train %s --store %s/s.db --out %s/auto3 --json", task, dir, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(err, "tuned policy for task") && !strstr(err, "no tuned") && strstr(err, "|wsd|every=500"), "%s",
              err);
    json_decref(j);
    free(out);
    free(err);
}
