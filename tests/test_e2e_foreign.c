/* Curves from other tools end to end (docs/STOPPING.md, "Curves from other
 * tools"): replay and tune read Keras, Lightning, MLflow, W&B and
 * TensorBoard CSVs with the mapping options; several files follow one flag,
 * so a shell glob works; an ambiguous header or bad input exits 2 naming the
 * columns or the line; `runs import` records each file as a completed run in
 * SQLite and PostgreSQL, all files or none. */
#include "store_fixture.h"

#include <jansson.h>
#include <math.h>

#define FOREIGN STOPWISE_TEST_DATA "/foreign/"
#define CURVES STOPWISE_TEST_DATA "/curves/"

static json_t *cli_json(const char *args)
{
    char *out = NULL, *err = NULL;
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "%s: rc %d: %s", args, rc, err);
    json_error_t je;
    json_t *j = json_loads(out ? out : "", 0, &je);
    cr_assert_not_null(j, "%s: stdout is not one JSON object: %s", args, out);
    free(out);
    free(err);
    return j;
}

static void fails(const char *args, const char *part)
{
    char *out = NULL, *err = NULL;
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 2, "%s: rc %d, stderr %s", args, rc, err);
    cr_assert(strstr(err, part), "%s: stderr '%s' lacks '%s'", args, err, part);
    cr_assert_str_eq(out, "", "nothing on stdout on failure");
    free(out);
    free(err);
}

static long long jint(json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }
static double jnum(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

Test(e2e_foreign, replay_each_format)
{
    /* Keras: epochs of 1k tokens, accuracy as percent; patience=3 stops at epoch 10 */
    json_t *o = cli_json("replay --json --policy patience=3 --curve " FOREIGN "keras_training.log --tokens-per-step 1k "
                         "--scale 100");
    cr_assert_eq(jint(o, "stop_tokens"), 11000);
    cr_assert_eq(jint(o, "best_tokens"), 8000);
    cr_assert_float_eq(jnum(o, "best_em"), 78.61, 1e-9);
    json_decref(o);
    /* Lightning by epoch: the validation rows, train rows merged */
    o = cli_json("replay --json --policy patience=1 --curve " FOREIGN "lightning_metrics.csv --x epoch "
                 "--tokens-per-step 1000 --scale 100");
    cr_assert_eq(jint(o, "stop_tokens"), 5000);
    cr_assert_eq(jint(o, "best_tokens"), 4000);
    cr_assert_eq(jint(o, "end_tokens"), 6000);
    json_decref(o);
    /* MLflow by step */
    o = cli_json("replay --json --policy patience=3 --curve " FOREIGN "mlflow_metrics.csv --tokens-per-step 100");
    cr_assert_eq(jint(o, "best_tokens"), 600);
    cr_assert_float_eq(jnum(o, "best_em"), 0.781, 1e-12);
    json_decref(o);
    /* W&B: a run's history and a panel */
    o = cli_json("replay --json --policy patience=10 --curve " FOREIGN "wandb_history.csv");
    cr_assert_eq(jint(o, "end_tokens"), 11);
    cr_assert_eq(jint(o, "best_tokens"), 9);
    json_decref(o);
    o = cli_json("replay --json --policy patience=1 --curve " FOREIGN "wandb_panel_two_runs.csv --source-run rosy-moon-8");
    cr_assert_eq(jint(o, "stop_tokens"), 3000);
    cr_assert_float_eq(jnum(o, "best_em"), 0.642, 1e-12);
    json_decref(o);
    /* TensorBoard: a loss with --mode min, negated into val_em */
    o = cli_json("replay --json --policy patience=3 --curve " FOREIGN "tensorboard_val_loss.csv --mode min");
    cr_assert_eq(jint(o, "best_tokens"), 1400);
    cr_assert_float_eq(jnum(o, "best_em"), -0.77, 1e-12);
    json_decref(o);
    /* a policy that monitors val_loss reads the file's val_loss as it is (min) */
    o = cli_json("replay --json --policy patience=3,monitor=val_loss --curve " FOREIGN "keras_training.log "
                 "--tokens-per-step 1k");
    cr_assert_eq(jint(o, "best_tokens"), 6000, "val_loss 0.638 at epoch 5");
    cr_assert_eq(jint(o, "stop_tokens"), 9000);
    json_decref(o);
}

Test(e2e_foreign, notes_on_stderr_never_on_stdout)
{
    char *out = NULL, *err = NULL;
    int rc = sw_test_cli("replay --json --policy patience=3 --curve " FOREIGN "tensorboard_val_loss.csv " FOREIGN
                         "tensorboard_val_acc.csv --mode min", &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(err, "note: " FOREIGN "tensorboard_val_loss.csv: Value (mode min) is read negated into val_em"),
              "%s", err);
    cr_assert_null(strstr(err + 1, "tensorboard_val_acc.csv: Value (mode min)"), "each note once: %s", err);
    json_t *o = json_loads(out, 0, NULL);
    cr_assert_not_null(o, "%s", out);
    json_decref(o);
    free(out);
    free(err);
    rc = sw_test_cli("replay --policy patience=3 --curve " FOREIGN "keras_training.log", &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(err, "val_accuracy lies in [0, 1] but val_em is EM in percent"), "%s", err);
    cr_assert(strstr(err, "--scale 100"), "%s", err);
    free(out);
    free(err);
}

Test(e2e_foreign, several_files_after_one_flag)
{
    /* replay: one flag, three files; and a mix with the repeated flag */
    json_t *o = cli_json("replay --json --policy patience=3 --curve " CURVES "plateau.csv " CURVES "extra.csv " FOREIGN
                         "tensorboard_val_acc.csv --scale 100");
    json_t *cs = json_object_get(o, "curves");
    cr_assert_eq(json_array_size(cs), 3);
    cr_assert(strstr(json_string_value(json_object_get(json_array_get(cs, 2), "curve")), "tensorboard_val_acc.csv"));
    json_decref(o);
    o = cli_json("replay --json --policy patience=3 --curve " CURVES "plateau.csv " CURVES "extra.csv --curve " CURVES
                 "plateau.csv");
    cr_assert_eq(json_array_size(json_object_get(o, "curves")), 3);
    cr_assert_float_eq(jnum(o, "mean_shortfall"), (0.5 + 0 + 0.5) / 3, 1e-12);
    json_decref(o);
    /* tune: a shell glob after --curves (the shell expands it before stopwise runs) */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    for (int k = 0; k < 4; k++) {
        char name[32], body[4096], *p = body;
        p += sprintf(p, "epoch,accuracy,loss,val_accuracy,val_loss\n");
        for (int e = 0; e < 30; e++)
            p += sprintf(p, "%d,0.5,1,%.4f,1\n", e, e < 10 + k ? 0.3 + 0.04 * e : 0.3 + 0.04 * (10 + k) + 0.001 * (e % 2));
        snprintf(name, sizeof name, "run%d.log", k);
        sw_test_write(dir, name, body);
    }
    char args[4096];
    snprintf(args, sizeof args,
             "tune --json --no-store --quiet --families patience --tokens-per-step 1k --scale 100 --curves %s/*.log", dir);
    o = cli_json(args);
    cr_assert_eq(json_array_size(json_object_get(o, "curves")), 4);
    cr_assert(json_is_string(json_object_get(o, "policy")));
    json_decref(o);
    /* the glob form before another option, and the flag repeated */
    snprintf(args, sizeof args,
             "tune --json --no-store --quiet --curves %s/run0.log %s/run1.log --curves %s/run2.log --families patience "
             "--tokens-per-step 1k",
             dir, dir, dir);
    o = cli_json(args);
    cr_assert_eq(json_array_size(json_object_get(o, "curves")), 3);
    json_decref(o);
}

/* Accuracy alone (TensorBoard, W&B exports): without --families, tune leaves
 * out the families that read a loss, says so, and tunes the rest. */
Test(e2e_foreign, tune_without_losses_leaves_out_the_families_that_need_them)
{
    char *out = NULL, *err = NULL;
    int rc = sw_test_cli("tune --json --no-store --scale 100 --curves " FOREIGN "tensorboard_val_acc.csv " FOREIGN
                         "wandb_history.csv",
                         &out, &err);
    cr_assert_eq(rc, 0, "rc %d: %s", rc, err);
    cr_assert(strstr(err, "without gl, pq and up"), "%s", err);
    json_t *o = json_loads(out, 0, NULL);
    cr_assert_not_null(o, "%s", out);
    json_t *fam = json_object_get(o, "families");
    cr_assert_not_null(json_object_get(fam, "patience"));
    cr_assert_null(json_object_get(fam, "gl"), "gl reads val_loss");
    json_decref(o);
    free(out);
    free(err);
    /* asked for by name, it is an error naming the column */
    fails("tune --no-store --scale 100 --families gl --curves " FOREIGN "tensorboard_val_acc.csv " FOREIGN
          "wandb_history.csv",
          "val_loss");
}

Test(e2e_foreign, ambiguity_exits_2_naming_the_columns)
{
    fails("replay --policy patience=3 --curve " FOREIGN "lightning_with_tokens.csv",
          "lightning_with_tokens.csv:1: ambiguous header: it fits both a stopwise curve");
    fails("replay --policy patience=3 --curve " FOREIGN "lightning_with_tokens.csv",
          "(columns: epoch, step, tokens, train_loss, val_acc); give --format native or --format lightning");
    fails("tune --no-store --curves " FOREIGN "unknown.csv " FOREIGN "keras_training.log",
          "unknown.csv:1: no 'tokens' column, and no other tool's header either (columns: iteration, acc, loss)");
    fails("tune --no-store --curves " FOREIGN "wandb_panel_two_runs.csv",
          "several columns could be the metric: 'dainty-sun-7 - val_acc', 'rosy-moon-8 - val_acc'");
    fails("replay --policy patience=3 --curve " FOREIGN "mlflow_two_runs.csv", "choose one with --source-run ID");
    /* resolved by the flags the message names */
    json_t *o = cli_json("replay --json --policy patience=3 --curve " FOREIGN "lightning_with_tokens.csv "
                         "--format lightning --x tokens");
    cr_assert_eq(jint(o, "end_tokens"), 102400);
    json_decref(o);
    o = cli_json("replay --json --policy patience=3 --curve " FOREIGN "unknown.csv --format keras --x-column iteration "
                 "--metric acc");
    cr_assert_eq(jint(o, "end_tokens"), 2);
    json_decref(o);
}

Test(e2e_foreign, bad_input_exits_2_with_file_and_line)
{
    fails("replay --policy patience=3 --curve " FOREIGN "keras_resumed.log",
          "keras_resumed.log:5: epoch 1 falls below the previous row's 2 (line 4)");
    fails("tune --no-store --curves " FOREIGN "lightning_no_val.csv",
          "lightning_no_val.csv:2: column 'val_acc' has no value in any row");
    fails("replay --policy patience=3 --curve " FOREIGN "keras_training.log --metric val_acc",
          "keras_training.log:1: no column 'val_acc' (--metric); columns: epoch, accuracy, loss, val_accuracy, val_loss");
    fails("replay --policy patience=3 --curve " FOREIGN "keras_training.log --x step", "--x epoch with --tokens-per-step N");
    fails("replay --policy patience=3 --curve " CURVES "plateau.csv --x epoch", "a stopwise curve counts its own tokens");
    fails("replay --policy patience=3 --curve " FOREIGN "keras_training.log --mode largest", "--mode expects max or min");
    fails("replay --policy patience=3 --curve " FOREIGN "keras_training.log --format excel", "--format expects auto, native");
    fails("replay --policy patience=3 --curve " FOREIGN "keras_training.log --scale 0", "--scale 0: expected a positive");
    fails("replay --policy patience=3 --run 1 --metric val_acc", "apply to --curve files");
    fails("tune --runs demo --x epoch", "apply to --curves files");
    fails("replay --policy patience=3 --curve", "--curve needs a value FILE.csv...");
}

Test(e2e_foreign, help_lists_the_options)
{
    const char *cmds[] = {"replay --help", "tune --help", "runs import --help"};
    const char *want[] = {"--format NAME", "--x step|epoch|tokens", "--tokens-per-step N", "--metric NAME",
                          "--mode max|min", "--scale K", "--source-run ID", "(default: auto)"};
    for (size_t c = 0; c < 3; c++) {
        char *out = NULL;
        cr_assert_eq(sw_test_cli(cmds[c], &out, NULL), 0);
        for (size_t w = 0; w < sizeof want / sizeof *want; w++)
            cr_assert(strstr(out, want[w]), "%s lacks %s:\n%s", cmds[c], want[w], out);
        free(out);
    }
    char *out = NULL;
    cr_assert_eq(sw_test_cli("replay --help", &out, NULL), 0);
    cr_assert(strstr(out, "--curve FILE.csv..."), "%s", out);
    cr_assert(strstr(out, "val_em = -loss"), "%s", out);
    free(out);
    cr_assert_eq(sw_test_cli("tune --help", &out, NULL), 0);
    cr_assert(strstr(out, "--curves FILE.csv..."), "%s", out);
    free(out);
    cr_assert_eq(sw_test_cli("runs --help", &out, NULL), 0);
    cr_assert(strstr(out, "stopwise runs import FILE..."), "%s", out);
    free(out);
}

/* ---- runs import, on SQLite and PostgreSQL ---------------------------------------------- */

static json_t *runs_ls(const char *store)
{
    char args[9000];
    snprintf(args, sizeof args, "runs ls --json %s", store);
    return cli_json(args);
}

STORE_TEST(runs_import_records_completed_runs)
{
    char store[8300], args[9000];
    snprintf(store, sizeof store, "--store '%s'", fx.location);
    snprintf(args, sizeof args,
             "runs import --json --task foreign --scale 100 --tokens-per-step 1k " FOREIGN "keras_training.log " FOREIGN
             "mlflow_metrics.csv " FOREIGN "tensorboard_val_acc.csv %s",
             store);
    json_t *o = cli_json(args);
    json_t *imp = json_object_get(o, "imported");
    cr_assert_eq(json_array_size(imp), 3);
    json_t *k = json_array_get(imp, 0);
    cr_assert_str_eq(json_string_value(json_object_get(k, "format")), "keras");
    cr_assert_str_eq(json_string_value(json_object_get(k, "metric")), "val_accuracy");
    cr_assert_eq(jint(k, "evaluations"), 12);
    int64_t keras_id = jint(k, "run_id");
    json_decref(o);

    o = runs_ls(store);
    cr_assert_eq(jint(o, "count"), 3);
    json_t *runs = json_object_get(o, "runs");
    for (size_t i = 0; i < 3; i++) {
        json_t *r = json_array_get(runs, i);
        cr_assert_str_eq(json_string_value(json_object_get(r, "status")), "completed");
        cr_assert_str_eq(json_string_value(json_object_get(r, "task")), "foreign");
    }
    json_decref(o);

    /* the curve in the store: val_em in percent, Keras's loss as train_loss, the rest by name */
    sw_store *s = fx_open(NULL);
    sw_store_curve c;
    ST_OK(s, sw_store_curve_get(s, keras_id, &c));
    cr_assert_eq(c.n, 12);
    cr_assert_eq(c.evals[0].tokens, 1000);
    cr_assert_float_eq(c.evals[7].val_em, 78.61, 1e-9);
    cr_assert_float_eq(c.evals[0].train_loss, 1.2894, 1e-12);
    cr_assert_float_eq(c.evals[0].val_loss, 1.0511, 1e-12);
    int found = 0;
    for (size_t m = 0; m < c.evals[0].n_metrics; m++)
        if (!strcmp(c.evals[0].metrics[m].name, "val_accuracy")) found = c.evals[0].metrics[m].value == 0.6102;
    cr_assert(found, "the raw metric is kept");
    sw_store_curve_clear(&c);
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, keras_id, &r));
    cr_assert_eq(r.best_tokens, 8000);
    cr_assert_float_eq(r.best_em, 78.61, 1e-9);
    cr_assert(strstr(r.config, "\"format\":\"keras\""), "%s", r.config);
    sw_store_run_clear(&r);
    char *v;
    ST_OK(s, sw_store_tag_get(s, keras_id, "imported_from", &v));
    cr_assert_str_eq(v, FOREIGN "keras_training.log");
    free(v);
    sw_store_close(s);

    /* tune --runs tunes on them, and replay --run replays one */
    snprintf(args, sizeof args, "tune --json --quiet --runs task=foreign --families patience %s", store);
    o = cli_json(args);
    cr_assert_eq(json_array_size(json_object_get(o, "curves")), 3);
    json_decref(o);
    snprintf(args, sizeof args, "replay --json --policy patience=3 --run %lld %s", (long long)keras_id, store);
    o = cli_json(args);
    cr_assert_eq(jint(o, "stop_tokens"), 11000);
    json_decref(o);

    /* one bad file among good ones: none is recorded */
    snprintf(args, sizeof args, "runs import " FOREIGN "lightning_metrics.csv " FOREIGN "keras_resumed.log %s", store);
    fails(args, "keras_resumed.log:5: epoch 1 falls below the previous row's 2 (line 4)");
    o = runs_ls(store);
    cr_assert_eq(jint(o, "count"), 3, "nothing imported");
    json_decref(o);
    snprintf(args, sizeof args, "runs import " FOREIGN "unknown.csv %s", store);
    fails(args, "(columns: iteration, acc, loss)");
    o = runs_ls(store);
    cr_assert_eq(jint(o, "count"), 3);
    json_decref(o);
}
