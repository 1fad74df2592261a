/* stop/: curves from other tools' CSVs (docs/STOPPING.md, "Curves from other
 * tools"). Each format is recognised from a fixture written in its
 * documented shape (tests/data/foreign/); the mapping options do what the
 * header says; an ambiguous header fails naming the columns and the option
 * that resolves it; bad input fails naming the file and line; stopwise's own
 * curves read exactly as before. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stop/curve_csv.h" /* the name rules, private to stop/ */
#include "stopwise/stop.h"
#include "support.h"

#define FOREIGN STOPWISE_TEST_DATA "/foreign/"
#define CURVES STOPWISE_TEST_DATA "/curves/"

static sw_curve *read_ok(const char *file, const sw_curve_csv_options *o, sw_curve_csv_info *info)
{
    sw_curve *c = NULL;
    sw_error err = {0};
    sw_status st = sw_curve_read_csv_with(file, o, &c, info, &err);
    cr_assert_eq(st, SW_OK, "%s: %s", file, err.msg);
    cr_assert_not_null(c);
    return c;
}

/* Reads text (named NAME) expecting failure `want` with `part` in the message. */
static void parse_fails(const char *text, const sw_curve_csv_options *o, sw_status want, const char *part)
{
    sw_curve *c = (sw_curve *)1;
    sw_error err = {0};
    sw_status st = sw_curve_parse_csv_with(text, strlen(text), "mem.csv", o, &c, NULL, &err);
    cr_assert_eq(st, want, "status %d, want %d: %s", st, want, err.msg);
    cr_assert_null(c);
    cr_assert(strstr(err.msg, part), "'%s' lacks '%s'", err.msg, part);
}

static void read_fails(const char *file, const sw_curve_csv_options *o, sw_status want, const char *part)
{
    sw_curve *c = (sw_curve *)1;
    sw_error err = {0};
    sw_status st = sw_curve_read_csv_with(file, o, &c, NULL, &err);
    cr_assert_eq(st, want, "%s: status %d, want %d: %s", file, st, want, err.msg);
    cr_assert_null(c);
    cr_assert(strstr(err.msg, part), "'%s' lacks '%s'", err.msg, part);
}

static double at(const sw_curve *c, const char *col, size_t i)
{
    const unsigned char *p;
    const double *v = sw_curve_column(c, col, &p);
    cr_assert_not_null(v, "no column %s", col);
    cr_assert(p[i], "%s row %zu is missing", col, i);
    return v[i];
}

static int present(const sw_curve *c, const char *col, size_t i)
{
    const unsigned char *p;
    return sw_curve_column(c, col, &p) && p[i];
}

/* ---- each format, recognised from its header ---------------------------------------- */

Test(foreign, keras_csvlogger)
{
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.tokens_per_step = 1000; /* tokens per epoch */
    o.scale = 100;
    sw_curve_csv_info info;
    sw_curve *c = read_ok(FOREIGN "keras_training.log", &o, &info);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_KERAS);
    cr_assert_str_eq(info.metric, "val_accuracy");
    cr_assert_str_eq(info.x_column, "epoch");
    cr_assert_eq(info.x, SW_CURVE_AXIS_EPOCH);
    cr_assert_eq(info.maximize, 1);
    cr_assert_eq(info.negated, 0);
    cr_assert_eq(info.rows, 12);
    cr_assert_float_eq(info.metric_min, 0.6102, 1e-12);
    cr_assert_float_eq(info.metric_max, 0.7861, 1e-12);
    cr_assert_eq(sw_curve_len(c), 12);
    /* epoch 0 is logged at the end of the first epoch: 1000 tokens */
    cr_assert_eq(sw_curve_tokens(c)[0], 1000);
    cr_assert_eq(sw_curve_tokens(c)[11], 12000);
    cr_assert_float_eq(at(c, "val_em", 0), 61.02, 1e-9);
    cr_assert_float_eq(at(c, "val_em", 7), 78.61, 1e-9);
    cr_assert_float_eq(at(c, "val_accuracy", 7), 0.7861, 1e-12); /* the metric keeps its own column */
    cr_assert_float_eq(at(c, "train_loss", 0), 1.2894, 1e-12);   /* Keras's loss */
    cr_assert_float_eq(at(c, "val_loss", 11), 0.6990, 1e-12);
    cr_assert_float_eq(at(c, "accuracy", 3), 0.7788, 1e-12);
    cr_assert_null(sw_curve_column(c, "epoch", NULL), "the x column is no metric");
    cr_assert_eq(sw_curve_steps(c)[0], -1);
    cr_assert(isnan(sw_curve_walls(c)[0]));
    /* and a policy replays on it: patience=3 fires at epoch 10 (no gain over epoch 7's 78.61) */
    sw_policy *p;
    cr_assert_eq(sw_policy_parse("patience=3", &p, NULL), SW_OK);
    sw_replay_result r;
    sw_error err;
    cr_assert_eq(sw_replay(p, c, &r, &err), SW_OK, "%s", err.msg);
    cr_assert(r.stopped);
    cr_assert_eq(r.stop_tokens, 11000);
    cr_assert_eq(r.best_tokens, 8000);
    cr_assert_float_eq(r.best_em, 78.61, 1e-9);
    sw_policy_free(p);
    sw_curve_free(c);
}

Test(foreign, lightning_sparse_rows_merge)
{
    sw_curve_csv_info info;
    sw_curve *c = read_ok(FOREIGN "lightning_metrics.csv", NULL, &info);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_LIGHTNING);
    cr_assert_str_eq(info.metric, "val_acc");
    cr_assert_str_eq(info.x_column, "step");
    cr_assert_eq(info.rows, 18);
    /* one evaluation per validation row; the training row of the same step merged into it */
    cr_assert_eq(sw_curve_len(c), 6);
    cr_assert_eq(sw_curve_tokens(c)[0], 99);
    cr_assert_eq(sw_curve_tokens(c)[5], 599);
    cr_assert_eq(sw_curve_steps(c)[1], 199);
    cr_assert_float_eq(at(c, "val_em", 0), 0.4120, 1e-12);
    cr_assert_float_eq(at(c, "train_loss", 0), 1.7420, 1e-12);
    cr_assert_float_eq(at(c, "val_loss", 3), 1.0825, 1e-12);
    sw_curve_free(c);

    /* by epoch: all rows of an epoch are one evaluation; the epoch's last train_loss */
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.x = SW_CURVE_AXIS_EPOCH;
    o.tokens_per_step = 51200;
    c = read_ok(FOREIGN "lightning_metrics.csv", &o, &info);
    cr_assert_str_eq(info.x_column, "epoch");
    cr_assert_eq(sw_curve_len(c), 6);
    cr_assert_eq(sw_curve_tokens(c)[0], 51200);
    cr_assert_eq(sw_curve_tokens(c)[5], 6 * 51200);
    cr_assert_float_eq(at(c, "train_loss", 2), 1.1312, 1e-12);
    cr_assert_eq(sw_curve_steps(c)[2], 299, "the step of the validation row");
    sw_curve_free(c);
}

Test(foreign, mlflow_metric_history)
{
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.tokens_per_step = 4096;
    sw_curve_csv_info info;
    sw_curve *c = read_ok(FOREIGN "mlflow_metrics.csv", &o, &info);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_MLFLOW);
    cr_assert_str_eq(info.metric, "val_accuracy");
    cr_assert_eq(info.rows, 20);
    /* one row per logged value, pivoted: one evaluation per step */
    cr_assert_eq(sw_curve_len(c), 10);
    cr_assert_eq(sw_curve_tokens(c)[0], 0);
    cr_assert_eq(sw_curve_tokens(c)[9], 9 * 4096);
    cr_assert_eq(sw_curve_steps(c)[4], 4);
    cr_assert_float_eq(at(c, "val_em", 6), 0.781, 1e-12);
    cr_assert_float_eq(at(c, "val_loss", 6), 0.70, 1e-12);
    /* timestamps in ms: wall seconds from the file's first */
    cr_assert_float_eq(sw_curve_walls(c)[0], 0, 1e-9);
    cr_assert_float_eq(sw_curve_walls(c)[1], 60, 1e-9);
    sw_curve_free(c);

    /* a loss as the metric: min by its name, negated into val_em */
    o.metric = "val_loss";
    c = read_ok(FOREIGN "mlflow_metrics.csv", &o, &info);
    cr_assert_eq(info.maximize, 0);
    cr_assert_eq(info.negated, 1);
    cr_assert_float_eq(at(c, "val_em", 0), -1.42, 1e-12);
    cr_assert_float_eq(at(c, "val_loss", 0), 1.42, 1e-12);
    sw_curve_free(c);
}

Test(foreign, wandb_run_history)
{
    sw_curve_csv_info info;
    sw_curve *c = read_ok(FOREIGN "wandb_history.csv", NULL, &info);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_WANDB);
    cr_assert_str_eq(info.metric, "val/acc");
    cr_assert_str_eq(info.x_column, "_step");
    /* the eval rows (odd _step); the train rows have their own _step and no metric */
    cr_assert_eq(sw_curve_len(c), 6);
    cr_assert_eq(sw_curve_tokens(c)[0], 1);
    cr_assert_eq(sw_curve_tokens(c)[5], 11);
    cr_assert_float_eq(sw_curve_walls(c)[0], 14.1, 1e-9); /* _runtime */
    cr_assert_float_eq(at(c, "val/loss", 2), 1.05, 1e-12);
    cr_assert(!present(c, "train/loss", 0));
    cr_assert_null(sw_curve_column(c, "_timestamp", NULL));
    sw_curve_free(c);

    /* by its epoch column (float, as pandas writes it): rows without one are skipped */
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.x = SW_CURVE_AXIS_EPOCH;
    o.tokens_per_step = 1000;
    c = read_ok(FOREIGN "wandb_history.csv", &o, &info);
    cr_assert_eq(sw_curve_len(c), 6);
    cr_assert_eq(sw_curve_tokens(c)[1], 1000);
    cr_assert_eq(sw_curve_tokens(c)[5], 5000);
    sw_curve_free(c);
}

Test(foreign, wandb_panel_export)
{
    sw_curve_csv_info info;
    sw_curve *c = read_ok(FOREIGN "wandb_panel.csv", NULL, &info);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_WANDB);
    cr_assert_str_eq(info.metric, "dainty-sun-7 - val_acc");
    cr_assert_str_eq(info.x_column, "Step");
    cr_assert_eq(sw_curve_len(c), 6);
    cr_assert_eq(sw_curve_tokens(c)[5], 3000);
    cr_assert_float_eq(at(c, "val_acc", 4), 0.672, 1e-12); /* the run's prefix dropped */
    cr_assert_eq(sw_curve_n_columns(c), 2, "val_em and val_acc; __MIN and __MAX left out");
    sw_curve_free(c);
    /* two runs: the one asked for */
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.source_run = "rosy-moon-8";
    c = read_ok(FOREIGN "wandb_panel_two_runs.csv", &o, &info);
    cr_assert_str_eq(info.metric, "rosy-moon-8 - val_acc");
    cr_assert_float_eq(at(c, "val_em", 0), 0.425, 1e-12);
    sw_curve_free(c);
    sw_curve_csv_options_default(&o);
    o.metric = "dainty-sun-7 - val_acc";
    c = read_ok(FOREIGN "wandb_panel_two_runs.csv", &o, &info);
    cr_assert_float_eq(at(c, "val_em", 0), 0.455, 1e-12);
    sw_curve_free(c);
}

Test(foreign, tensorboard_scalars)
{
    sw_curve_csv_info info;
    sw_curve *c = read_ok(FOREIGN "tensorboard_val_acc.csv", NULL, &info);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_TENSORBOARD);
    cr_assert_str_eq(info.metric, "Value");
    cr_assert_eq(sw_curve_len(c), 11);
    cr_assert_eq(sw_curve_tokens(c)[0], 200);
    cr_assert_eq(sw_curve_steps(c)[0], 200);
    cr_assert_float_eq(sw_curve_walls(c)[0], 0, 1e-6);
    cr_assert_float_eq(sw_curve_walls(c)[2], 75, 1e-6);
    cr_assert_float_eq(at(c, "val_em", 3), 0.611, 1e-12);
    sw_curve_free(c);
}

/* ---- the mapping options ------------------------------------------------------------ */

Test(foreign, mode_min_negates_a_loss_into_val_em)
{
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.mode = -1;
    o.tokens_per_step = 512;
    sw_curve_csv_info info;
    sw_curve *c = read_ok(FOREIGN "tensorboard_val_loss.csv", &o, &info);
    cr_assert_eq(info.negated, 1);
    cr_assert_eq(sw_curve_tokens(c)[0], 200 * 512);
    cr_assert_float_eq(at(c, "val_em", 0), -1.61, 1e-12);
    cr_assert_float_eq(at(c, "Value", 0), 1.61, 1e-12);
    /* the best checkpoint is the lowest loss */
    sw_policy *p;
    cr_assert_eq(sw_policy_parse("patience=3", &p, NULL), SW_OK);
    sw_replay_result r;
    cr_assert_eq(sw_replay(p, c, &r, NULL), SW_OK);
    cr_assert_eq(r.best_tokens, 1400u * 512, "0.77 at step 1400");
    cr_assert_float_eq(r.best_em, -0.77, 1e-12);
    sw_policy_free(p);
    sw_curve_free(c);

    /* into a column the policy minimises, the loss goes as it is */
    sw_curve_csv_options_default(&o);
    o.metric = "val_loss";
    o.target = "val_loss";
    o.target_maximize = 0;
    c = read_ok(FOREIGN "keras_training.log", &o, &info);
    cr_assert_eq(info.negated, 0);
    cr_assert_float_eq(at(c, "val_loss", 0), 1.0511, 1e-12);
    cr_assert_null(sw_curve_column(c, "val_em", NULL));
    sw_curve_free(c);

    /* --mode max on a loss-named column is obeyed (it wins over the name) */
    sw_curve_csv_options_default(&o);
    o.metric = "val_loss";
    o.mode = 1;
    c = read_ok(FOREIGN "keras_training.log", &o, &info);
    cr_assert_eq(info.negated, 0);
    cr_assert_float_eq(at(c, "val_em", 0), 1.0511, 1e-12);
    sw_curve_free(c);
}

Test(foreign, x_column_and_tokens_axis)
{
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.format = SW_CURVE_FORMAT_LIGHTNING; /* the header has a tokens column too */
    o.x = SW_CURVE_AXIS_TOKENS;
    sw_curve_csv_info info;
    sw_curve *c = read_ok(FOREIGN "lightning_with_tokens.csv", &o, &info);
    cr_assert_str_eq(info.x_column, "tokens");
    cr_assert_eq(sw_curve_len(c), 2);
    cr_assert_eq(sw_curve_tokens(c)[0], 51200);
    cr_assert_eq(sw_curve_tokens(c)[1], 102400);
    cr_assert_float_eq(at(c, "train_loss", 1), 1.3502, 1e-12);
    sw_curve_free(c);
    /* --x-column: any column, no epoch offset */
    sw_curve_csv_options_default(&o);
    o.x_column = "epoch";
    o.tokens_per_step = 10;
    c = read_ok(FOREIGN "keras_training.log", &o, &info);
    cr_assert_eq(sw_curve_tokens(c)[0], 0);
    cr_assert_eq(sw_curve_tokens(c)[11], 110);
    sw_curve_free(c);
    /* a tokens axis holds whole numbers */
    sw_curve_csv_options_default(&o);
    o.format = SW_CURVE_FORMAT_LIGHTNING;
    o.x = SW_CURVE_AXIS_TOKENS;
    parse_fails("epoch,step,tokens,val_acc\n0,1,10.5,0.5\n", &o, SW_ERR_FORMAT, "mem.csv:2: tokens '10.5' is not a token count");
    o.tokens_per_step = 5;
    parse_fails("epoch,step,tokens,val_acc\n0,1,10,0.5\n", &o, SW_ERR_INVALID, "--tokens-per-step applies to --x step or epoch");
}

Test(foreign, native_curves_read_as_before)
{
    /* the same curve with and without the new reader's options */
    sw_curve *a, *b;
    sw_error err;
    cr_assert_eq(sw_curve_read_csv(CURVES "plateau.csv", &a, &err), SW_OK, "%s", err.msg);
    sw_curve_csv_info info;
    b = read_ok(CURVES "plateau.csv", NULL, &info);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_NATIVE);
    cr_assert_eq(sw_curve_len(a), sw_curve_len(b));
    cr_assert_eq(sw_curve_n_columns(a), sw_curve_n_columns(b));
    for (size_t i = 0; i < sw_curve_len(a); i++) {
        cr_assert_eq(sw_curve_tokens(a)[i], sw_curve_tokens(b)[i]);
        cr_assert_float_eq(at(a, "val_em", i), at(b, "val_em", i), 0);
    }
    sw_curve_free(a);
    sw_curve_free(b);
    /* a tokens column anywhere but no other tool's signature: native (extra.csv has it third) */
    b = read_ok(CURVES "extra.csv", NULL, &info);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_NATIVE);
    sw_curve_free(b);
    /* --metric on a native curve fills val_em from another column */
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.metric = "test_em";
    b = read_ok(CURVES "extra.csv", &o, &info);
    cr_assert_str_eq(info.metric, "test_em");
    cr_assert_float_eq(at(b, "val_em", 0), at(b, "test_em", 0), 0);
    sw_curve_free(b);
    /* the x options are for other tools' files */
    sw_curve_csv_options_default(&o);
    o.x = SW_CURVE_AXIS_STEP;
    read_fails(CURVES "plateau.csv", &o, SW_ERR_INVALID, "a stopwise curve counts its own tokens");
    /* the old messages stand */
    read_fails(CURVES "no_tokens.csv", NULL, SW_ERR_FORMAT, "no_tokens.csv:1: no 'tokens' column");
    read_fails(CURVES "ragged.csv", NULL, SW_ERR_FORMAT, "ragged.csv:3: 1 cells; expected 2 as in the header");
    parse_fails("", NULL, SW_ERR_FORMAT, "mem.csv:1: empty file");
    parse_fails("tokens,\"val_em\"\n1,2\n", NULL, SW_ERR_FORMAT, "quoted cells are not supported");
    /* a byte order mark (spreadsheets write one) is no part of the first name */
    b = NULL;
    const char *bom = "\xEF\xBB\xBFtokens,val_em\n10,1\n";
    cr_assert_eq(sw_curve_parse_csv(bom, strlen(bom), "bom.csv", &b, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_curve_tokens(b)[0], 10);
    sw_curve_free(b);
}

/* ---- ambiguity: exit 2 in the CLI, naming the columns and the option ----------------- */

Test(foreign, ambiguous_headers_name_columns_and_the_option)
{
    read_fails(FOREIGN "lightning_with_tokens.csv", NULL, SW_ERR_FORMAT,
               "lightning_with_tokens.csv:1: ambiguous header: it fits both a stopwise curve");
    read_fails(FOREIGN "lightning_with_tokens.csv", NULL, SW_ERR_FORMAT,
               "(columns: epoch, step, tokens, train_loss, val_acc); give --format native or --format lightning");
    read_fails(FOREIGN "unknown.csv", NULL, SW_ERR_FORMAT, "unknown.csv:1: no 'tokens' column");
    read_fails(FOREIGN "unknown.csv", NULL, SW_ERR_FORMAT, "(columns: iteration, acc, loss)");
    read_fails(FOREIGN "unknown.csv", NULL, SW_ERR_FORMAT, "give --format NAME");
    read_fails(FOREIGN "wandb_panel_two_runs.csv", NULL, SW_ERR_FORMAT,
               "several columns could be the metric: 'dainty-sun-7 - val_acc', 'rosy-moon-8 - val_acc'");
    read_fails(FOREIGN "wandb_panel_two_runs.csv", NULL, SW_ERR_FORMAT, "--source-run RUN");
    read_fails(FOREIGN "mlflow_two_runs.csv", NULL, SW_ERR_FORMAT,
               "several runs in one file (run_id a1b2c3d4, e5f6a7b8); choose one with --source-run ID");
    /* two validation accuracies, or none */
    parse_fails("epoch,val_acc,val_accuracy\n0,0.1,0.2\n", NULL, SW_ERR_FORMAT,
                "several columns could be the metric: 'val_acc', 'val_accuracy' (columns: epoch, val_acc, val_accuracy); "
                "choose one with --metric NAME");
    parse_fails("epoch,accuracy,loss\n0,0.1,0.2\n", NULL, SW_ERR_FORMAT,
                "mem.csv:1: no validation accuracy column (such as val_acc");
    parse_fails("epoch,accuracy,loss\n0,0.1,0.2\n", NULL, SW_ERR_FORMAT, "(columns: epoch, accuracy, loss); name it with --metric NAME");
    /* a header with two tools' signatures */
    parse_fails("epoch,step,_step,val_acc\n0,1,1,0.5\n", NULL, SW_ERR_FORMAT, "give --format lightning or --format wandb");
}

/* ---- bad input: file and line ----------------------------------------------------------- */

Test(foreign, bad_input_names_file_and_line)
{
    read_fails(FOREIGN "keras_resumed.log", NULL, SW_ERR_FORMAT,
               "keras_resumed.log:5: epoch 1 falls below the previous row's 2 (line 4); x must never fall");
    read_fails(FOREIGN "lightning_no_val.csv", NULL, SW_ERR_FORMAT, "column 'val_acc' has no value in any row");
    sw_curve_csv_options o;
    sw_curve_csv_options_default(&o);
    o.metric = "nope";
    read_fails(FOREIGN "keras_training.log", &o, SW_ERR_FORMAT,
               "keras_training.log:1: no column 'nope' (--metric); columns: epoch, accuracy, loss, val_accuracy, val_loss");
    o.metric = "val_acc";
    parse_fails("epoch,val_acc\n0,0.5\n1,abc\n", &o, SW_ERR_FORMAT, "mem.csv:3: column 'val_acc': 'abc' is not a number");
    parse_fails("epoch,step,val_acc\n0,1,0.5\n0,1,0.6\n", NULL, SW_ERR_FORMAT,
                "mem.csv:3: a second value of val_acc at step 1 (the first at line 2)");
    parse_fails("epoch,step,val_acc\n0,,0.5\n", NULL, SW_ERR_FORMAT, "mem.csv:2: a value of val_acc but no step");
    parse_fails("epoch,step,val_acc\n0,-3,0.5\n", NULL, SW_ERR_FORMAT, "mem.csv:2: step '-3' is not a number >= 0");
    parse_fails("run_id,key,value,step,timestamp\nr,val_acc,0.5,0,1\nr,val_acc,0.6,0,2\n", NULL, SW_ERR_FORMAT,
                "mem.csv:3: a second value of val_acc at step 0 (the first at line 2)");
    parse_fails("run_id,key,value,step,timestamp\nr,val_acc,0.5,x,1\n", NULL, SW_ERR_FORMAT,
                "mem.csv:2: step 'x' is not a whole number >= 0");
    /* HF-style fractional epochs need tokens per epoch to stay apart */
    sw_curve_csv_options_default(&o);
    o.x_column = "epoch";
    parse_fails("epoch,val_acc\n0.25,0.5\n0.5,0.6\n", &o, SW_ERR_FORMAT,
                "mem.csv:3: epoch 0.5 gives 0 tokens, not above the previous evaluation's 0 (line 2)");
    o.tokens_per_step = 1000;
    sw_curve *c = NULL;
    cr_assert_eq(sw_curve_parse_csv_with("epoch,val_acc\n0.25,0.5\n0.5,0.6\n", 31, "mem.csv", &o, &c, NULL, NULL), SW_OK);
    cr_assert_eq(sw_curve_tokens(c)[1], 500);
    sw_curve_free(c);
    /* quoting: a broken quote and a row of the wrong length */
    parse_fails("epoch,val_acc\n0,\"0.5\n", NULL, SW_ERR_FORMAT, "mem.csv:2: a quoted cell is never closed");
    parse_fails("epoch,val_acc\n0,0.5,9\n", NULL, SW_ERR_FORMAT, "mem.csv:2: 3 cells; expected 2 as in the header");
    /* options that cannot be */
    sw_curve_csv_options_default(&o);
    o.scale = -1;
    parse_fails("epoch,val_acc\n0,0.5\n", &o, SW_ERR_INVALID, "scale -1: expected a positive number");
    sw_curve_csv_options_default(&o);
    o.source_run = "x";
    parse_fails("epoch,val_acc\n0,0.5\n", &o, SW_ERR_INVALID, "--source-run applies to files that hold several runs");
}

Test(foreign, quoted_cells_and_keras_na)
{
    /* Python's csv module quotes a cell with a comma; Keras writes NA for a key a stopped epoch lacks */
    const char *text = "epoch,\"acc, top-1\",val_accuracy,\"note\"\n"
                       "0,0.5,0.61,\"a \"\"quoted\"\"\nline\"\n"
                       "1,0.6,NA,x\n"
                       "2,0.7,0.65,y\n";
    sw_curve *c = NULL;
    sw_error err;
    sw_curve_csv_info info;
    cr_assert_eq(sw_curve_parse_csv_with(text, strlen(text), "q.csv", NULL, &c, &info, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(info.format, SW_CURVE_FORMAT_KERAS);
    cr_assert_eq(sw_curve_len(c), 2, "the NA row has no metric");
    cr_assert_eq(sw_curve_tokens(c)[1], 3);
    cr_assert_null(sw_curve_column(c, "acc, top-1", NULL), "a name with a comma cannot be a curve column");
    cr_assert_null(sw_curve_column(c, "note", NULL), "text is no metric");
    sw_curve_free(c);
}

Test(foreign, accuracy_names)
{
    const char *yes[] = {"val_em", "val_acc", "val_accuracy", "VAL_ACC", "val/acc", "eval/accuracy", "eval_accuracy",
                         "valid_acc", "validation_accuracy", "val-exact_match", "val_acc_epoch", "val.em"};
    const char *no[] = {"accuracy", "val_loss", "train_acc", "val_acc_step", "val_acc5", "eval/loss", "val", "val_", "acc"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) cr_assert(sw_curve_is_accuracy_name(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) cr_assert(!sw_curve_is_accuracy_name(no[i]), "%s", no[i]);
    cr_assert_eq(sw_curve_metric_maximize("val_loss"), 0);
    cr_assert_eq(sw_curve_metric_maximize("eval/LOSS"), 0);
    cr_assert_eq(sw_curve_metric_maximize("val_acc"), 1);
    sw_curve_format f;
    cr_assert_eq(sw_curve_format_parse("tensorboard", &f), SW_OK);
    cr_assert_eq(f, SW_CURVE_FORMAT_TENSORBOARD);
    cr_assert_eq(sw_curve_format_parse("csv", &f), SW_ERR_INVALID);
    cr_assert_str_eq(sw_curve_format_name(SW_CURVE_FORMAT_MLFLOW), "mlflow");
    sw_curve_axis x;
    cr_assert_eq(sw_curve_axis_parse("epoch", &x), SW_OK);
    cr_assert_eq(x, SW_CURVE_AXIS_EPOCH);
    cr_assert_eq(sw_curve_axis_parse("wall", &x), SW_ERR_INVALID);
}

/* A foreign curve written in stopwise's format reads back the same. */
Test(foreign, converted_curves_write_and_read_back)
{
    const char *files[] = {"keras_training.log", "lightning_metrics.csv", "mlflow_metrics.csv", "wandb_history.csv",
                           "wandb_panel.csv", "tensorboard_val_acc.csv"};
    const char *dir = sw_test_tmpdir();
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char in[4096], out[4200];
        snprintf(in, sizeof in, FOREIGN "%s", files[f]);
        snprintf(out, sizeof out, "%s/%zu.csv", dir, f);
        sw_curve *c = read_ok(in, NULL, NULL), *d;
        sw_error err;
        cr_assert_eq(sw_curve_write_csv(c, out, &err), SW_OK, "%s", err.msg);
        sw_curve_csv_info info;
        d = read_ok(out, NULL, &info);
        cr_assert_eq(info.format, SW_CURVE_FORMAT_NATIVE, "%s", files[f]);
        cr_assert_eq(sw_curve_len(d), sw_curve_len(c));
        cr_assert_eq(sw_curve_n_columns(d), sw_curve_n_columns(c), "%s", files[f]);
        for (size_t i = 0; i < sw_curve_len(c); i++) {
            cr_assert_eq(sw_curve_tokens(d)[i], sw_curve_tokens(c)[i]);
            cr_assert_eq(sw_curve_steps(d)[i], sw_curve_steps(c)[i]);
            for (size_t k = 0; k < sw_curve_n_columns(c); k++) {
                const char *name = sw_curve_column_name(c, k);
                cr_assert_eq(present(c, name, i), present(d, name, i), "%s %s %zu", files[f], name, i);
                if (present(c, name, i)) cr_assert(at(c, name, i) == at(d, name, i), "%s %s %zu", files[f], name, i);
            }
        }
        sw_curve_free(c);
        sw_curve_free(d);
    }
}
