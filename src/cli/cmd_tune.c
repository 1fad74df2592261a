/* stopwise tune: record curves (or take existing ones), tune the stopping
 * thresholds by replay with cross-validation, save the policy under the task
 * key; `tune status` shows a task's tuned policy and online state. A thin
 * layer: the option table and its reading here, the work in tune/ (record.c:
 * the runs of --data; curves.c: --runs; tuner.c), the printing in
 * tune_print.c. */
#include "cli/commands.h"
#include "cli/curve_options.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "cli/tune_print.h"
#include "cli/branch_options.h"
#include "stopwise/nn.h"
#include "stopwise/store.h"
#include "stopwise/train.h"
#include "stopwise/tune.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const sw_cli_option options[] = {
    {"data", SW_CLI_STRING, "SPEC", NULL,
     "train --folds runs on this dataset to the full budget, then tune on their curves"},
    {"curves", SW_CLI_LIST, "FILE.csv...", NULL,
     "tune on recorded curves instead: stopwise CSVs (tokens, val_em, val_loss, train_loss\n"
     "by header name) or other tools' (Keras, Lightning, MLflow, W&B, TensorBoard; see\n"
     "--format and the options after it); several after one flag (a shell glob:\n"
     "--curves runs/*.csv) or the flag repeated"},
    {"runs", SW_CLI_STRING, "QUERY", NULL,
     "tune on curves in the store instead: run ids (12,15,20-25), task=NAME or study=NAME\n"
     "(completed runs only), or a bare task name"},
    {"folds", SW_CLI_INT, "K", "0",
     "with --data: runs to train (0 means 5), scored leave-one-curve-out; with --curves or\n"
     "--runs: cross-validation folds, curve i in fold i mod K (0: one fold per curve)"},
    {"budget", SW_CLI_TOKENS, "TOKENS", NULL,
     "the token budget B (with --data, default: train's, 50 epochs of the data, at most\n"
     "20M); tokens fraction = T_stop / B\n"
     "(without it, each curve's last tokens)"},
    {"epsilon", SW_CLI_DOUBLE, "POINTS", "0.5",
     "EM points the tuned policy may lose on average: minimise mean T_stop/B subject to\n"
     "mean(best EM of the curve - EM of the kept checkpoint) <= epsilon"},
    {"lambda", SW_CLI_DOUBLE, "L", NULL,
     "priced objective instead: maximise mean EM - L x mean tokens in millions"},
    {"worst", SW_CLI_FLAG, NULL, NULL, "worst case: the largest shortfall over the curves must be <= epsilon"},
    {"families", SW_CLI_STRING, "LIST", "patience,gain,extrapolate,gl,pq,up",
     "rule families to search (comma-separated); each candidate is combined with diverge"},
    {"model", SW_CLI_STRING, "SPEC", NULL, "with --data: the model (default: per task)"},
    {"schedule", SW_CLI_STRING, "SPEC", NULL,
     "with --data: the learning-rate schedule (default: per task, a wsd). With wsd, each run\n"
     "is a trunk at the constant rate with cooldown branches (--forks); with another kind\n"
     "(e.g. cosine), a full run"},
    {"forks", SW_CLI_INT, "N", "10", "with --data and a wsd schedule: fork points per trunk (every budget/N)"},
    {"branch-cooldowns", SW_CLI_STRING, "LIST", "0.05,0.1,0.2",
     "with a wsd schedule: the branches' cooldown fractions c (anneal c x tokens so far)"},
    {"branch-shapes", SW_CLI_STRING, "LIST", "sqrt", "with a wsd schedule: the branches' decay shapes (linear and/or sqrt)"},
    {"eval-every", SW_CLI_TOKENS, "TOKENS", NULL, "with --data: tokens between evaluations (default: budget/100)"},
    {"eval-limit", SW_CLI_INT, "N", "0", "with --data: examples of the validation select half per evaluation\n(0: sized to keep evaluation within 10% of the wall time)"},
    {"seed", SW_CLI_INT, "N", "1", "with --data: run k (0-based) trains with seed N+k"},
    {"threads", SW_CLI_INT, "N", "0", "threads for training and for the replay (0: all cores)"},
    {"out", SW_CLI_STRING, "DIR", "runs/tune-DATA-TIME", "with --data: folder of the run folders fold-1, fold-2, ..."},
    {"task", SW_CLI_STRING, "KEY", NULL,
     "the task key to save the policy under (default with --data:\n"
     "DATA|MODEL|BUDGET|SCHEDULE|every=CADENCE;\n"
     "with --curves and no --data, nothing is saved unless --task is given)"},
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db", "where runs and the tuned policy are recorded"},
    {"no-store", SW_CLI_FLAG, NULL, NULL, "record and save nothing"},
    {"pareto", SW_CLI_STRING, "FILE.csv", NULL, "write the tokens-vs-shortfall Pareto frontier as CSV"},
    {"confidence", SW_CLI_DOUBLE, "Q", "0.9",
     "noise-honest choice: the Q bootstrap upper bound (over curves) of the mean shortfall\n"
     "must be <= epsilon too (0: the plain mean)"},
    {"val-size", SW_CLI_INT, "N", "0",
     "validation examples behind each EM, for the standard error epsilon is compared\n"
     "with (0: the curves' val_n column, else unknown)"},
    {"allow-truncated", SW_CLI_FLAG, NULL, NULL,
     "with --runs: tune on runs that stopped early too (flagged in the report)"},
    {"quiet", SW_CLI_FLAG, NULL, NULL, "no progress on stderr"},
    {"json", SW_CLI_FLAG, NULL, NULL, "print one JSON object on stdout instead of tables"},
    SW_CLI_CURVE_OPTIONS,
};

static const sw_cli_command command = {
    "tune",
    "tune stopping thresholds from recorded curves, cross-validated",
    "stopwise tune --data SPEC [--budget T] [--folds K] [--epsilon 0.5] [options]\n"
    "       stopwise tune --curves FILE.csv... [--budget T] [--epsilon 0.5] [options]\n"
    "       stopwise tune --runs QUERY [options]\n"
    "       stopwise tune status (--task KEY | --data SPEC --budget T [--model SPEC] [--schedule S]\n"
    "                             [--eval-every T])",
    "Every rule family (patience, gain, extrapolate, gl, pq, up; each with diverge) is\n"
    "searched over a grid of its thresholds and warm-ups; every candidate is replayed on\n"
    "every curve exactly as a live controller would decide. For a policy p and curve c:\n"
    "  tokens fraction f = T_stop / B,  shortfall s = max EM(c) - EM(best checkpoint up to the stop).\n"
    "Objective: minimise mean f s.t. mean s <= epsilon (--worst: max s <= epsilon;\n"
    "--lambda L: maximise mean EM - L x mean T_stop/1e6). Cross-validation: the policy is\n"
    "chosen on the other folds' curves and scored on the held-out ones, rotating; the CV\n"
    "figures are means over held-out curves, per family and for the overall choice; the\n"
    "final policy is then chosen on all curves and saved in the store under the task key,\n"
    "where `train --stop auto` finds it.\n"
    "--json prints {\"policy\",\"cv_tokens_fraction\",\"cv_shortfall\",\"cv_worst_shortfall\",\n"
    "\"families\":{NAME:{\"policy\",\"cv_tokens_fraction\",\"cv_shortfall\",...}},\"pareto\":[...],\n"
    "\"cv_folds\":[...],\"task_key\",\"saved\",...}. With --data, run k trains with seed N+k on\n"
    "the training split less its k-th fold (K folds of the training data); validation is shared.\n"
    "Under a wsd schedule (the default), run k is a trunk held at the constant rate with cooldown branches\n"
    "forked at every budget/--forks tokens (curve.csv's val_em_annealed:c=..:shape=.. columns).\n"
    "`tune status` prints the task's tuned policy and online-mode state (--json: the state).\n"
    "--curves of other tools: the metric (--metric, else the validation accuracy column)\n"
    "is read into val_em, the column the tuner scores, oriented to be maximised: --mode\n"
    "min negates it (val_em = -loss), so epsilon is then in the metric's units; --scale 100\n"
    "reads an accuracy in [0, 1] as EM in percent. Rows are placed at tokens = round((x + e)\n"
    "x N) (--x, --tokens-per-step; docs/STOPPING.md, \"Curves from other tools\").",
    options,
    sizeof options / sizeof *options,
    0,
    1,
};

static const char *store_location(const sw_cli_args *a)
{
    if (sw_cli_flag(a, "no-store")) return NULL;
    const char *env = getenv("STOPWISE_STORE");
    return sw_cli_given(a, "store") ? sw_cli_str(a, "store") : env && *env ? env : "stopwise.db";
}

/* Without --families: the families whose rules read a loss the curves lack
 * (gl, pq and up read val_loss, pq train_loss too; curves from other tools
 * often carry accuracy alone) are left out, with a note, rather than failing. */
static void drop_families_without_losses(sw_curve **curves, size_t n, sw_tune_options *o, int quiet)
{
    int val_loss = 1, train_loss = 1;
    for (size_t i = 0; i < n; i++) {
        val_loss &= sw_curve_column(curves[i], "val_loss", NULL) != NULL;
        train_loss &= sw_curve_column(curves[i], "train_loss", NULL) != NULL;
    }
    unsigned drop = 0;
    if (!val_loss) drop |= 1u << sw_tune_family_find("gl") | 1u << sw_tune_family_find("pq") | 1u << sw_tune_family_find("up");
    if (!train_loss) drop |= 1u << sw_tune_family_find("pq");
    if (!(o->families & drop)) return;
    o->families &= ~drop;
    if (!quiet)
        fprintf(stderr, "stopwise tune: note: %s; tuning %s without %s\n",
                !val_loss ? "a curve has no val_loss column" : "a curve has no train_loss column",
                "the families that need it", !val_loss ? "gl, pq and up" : "pq");
}

static unsigned parse_families(const char *list, sw_error *err, int *bad)
{
    unsigned mask = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *bad = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int f = sw_tune_family_find(t);
        if (f < 0) {
            sw_error_set(err, SW_ERR_INVALID, "--families: unknown family '%s'; expected patience, gain, extrapolate, gl, pq or up", t);
            *bad = 1;
            return 0;
        }
        mask |= 1u << f;
    }
    if (!mask) {
        sw_error_set(err, SW_ERR_INVALID, "--families: empty list");
        *bad = 1;
    }
    return mask;
}

/* The task key from --data, --model, --budget, --schedule, --eval-every. */
static sw_status task_key_of(const sw_cli_args *a, uint64_t budget, char *key, size_t cap, sw_error *err)
{
    uint64_t every = sw_cli_given(a, "eval-every") ? sw_cli_tokens(a, "eval-every") : 0;
    return sw_tune_task_key(sw_cli_str(a, "data"), sw_cli_str(a, "model"), budget, sw_cli_str(a, "schedule"), every,
                            key, cap, err);
}

/* ---- tune status ------------------------------------------------------------------ */

static int cmd_status(const sw_cli_args *a)
{
    const char *loc = store_location(a);
    if (!loc) return sw_cli_fail("tune", 2, "tune status reads the store; drop --no-store");
    char key[1024];
    sw_error err;
    if (sw_cli_given(a, "task")) {
        snprintf(key, sizeof key, "%s", sw_cli_str(a, "task"));
    } else if (sw_cli_given(a, "data") && sw_cli_given(a, "budget")) {
        if (task_key_of(a, sw_cli_tokens(a, "budget"), key, sizeof key, &err)) return sw_cli_fail("tune", 2, "%s", err.msg);
    } else {
        return sw_cli_fail("tune", 2, "tune status needs --task KEY, or --data SPEC --budget T [--model SPEC]");
    }
    sw_store_options so;
    sw_store_options_default(&so);
    so.create = 0;
    sw_store *s;
    sw_status st = sw_store_open_with(loc, &so, &s, &err);
    if (st) return sw_cli_fail("tune", sw_status_exit_code(st), "%s", err.msg);
    sw_store_policy pol;
    memset(&pol, 0, sizeof pol);
    sw_status pst = sw_store_policy_get(s, key, &pol);
    char *state = NULL;
    sw_status sst = sw_store_state_get(s, key, &state);
    int rc = 0;
    sw_online_state os;
    if ((pst && pst != SW_ERR_NOT_FOUND) || (sst && sst != SW_ERR_NOT_FOUND)) {
        rc = sw_cli_fail("tune", 1, "store: %s", sw_store_errmsg(s));
    } else if (sst == SW_OK && sw_online_from_json(state, &os, &err) != SW_OK) {
        rc = sw_cli_fail("tune", 1, "task %s: the stored online state does not parse: %s", key, err.msg);
    } else {
        sw_cli_tune_print_status(key, pst == SW_OK ? pol.policy : NULL, sst == SW_OK ? &os : NULL, state,
                                 sw_cli_flag(a, "json"));
    }
    free(state);
    sw_store_policy_clear(&pol);
    sw_store_close(s);
    return rc;
}

/* ---- tune --data: the runs' progress on stderr ------------------------------------ */

typedef struct record_view {
    int quiet;
    sw_cli_progress bar;
} record_view;

static void run_begin(int k, int n, const sw_train_options *o, void *user)
{
    record_view *v = user;
    if (!v->quiet)
        fprintf(stderr, "stopwise tune: %s %d of %d (seed %llu) -> %s\n", o->forks ? "trunk" : "run", k + 1, n,
                (unsigned long long)o->seed, o->out_dir);
    sw_cli_progress_init(&v->bar, v->quiet);
}

static void run_progress(const sw_train_progress *p, void *user) { sw_cli_progress_update(p, &((record_view *)user)->bar); }

static void run_end(int k, int n, const sw_train_result *res, void *user)
{
    (void)n;
    record_view *v = user;
    sw_cli_progress_done(&v->bar);
    if (res && !v->quiet && res->evaluations < 100)
        fprintf(stderr, "stopwise tune: note: run %d has %zu evaluations; the tuner works best with 100 or more\n",
                k + 1, res->evaluations);
    if (res && !v->quiet && res->branches)
        fprintf(stderr, "stopwise tune: run %d: %zu branches, %llu cooldown tokens\n", k + 1, res->branches,
                (unsigned long long)res->branch_tokens);
}

/* ---- tune ------------------------------------------------------------------------- */

/* The --data settings: where the runs go and what they train. */
static int read_record_options(const sw_cli_args *a, const char *loc, int k, uint64_t budget,
                               sw_tune_record_options *r, char *outbuf, size_t outcap, double *cools,
                               sw_decay_shape *shapes)
{
    memset(r, 0, sizeof *r);
    r->data = sw_cli_str(a, "data");
    r->model = sw_cli_str(a, "model");
    r->schedule = sw_cli_str(a, "schedule");
    r->budget = budget;
    if (sw_cli_given(a, "eval-every")) r->eval_every = sw_cli_tokens(a, "eval-every");
    r->eval_limit = (size_t)sw_cli_int(a, "eval-limit");
    r->seed = (uint64_t)sw_cli_int(a, "seed");
    r->runs = k;
    r->store = loc;
    r->forks = (int)sw_cli_int(a, "forks");
    if (r->forks < 1) return sw_cli_fail("tune", 2, "--forks %d: expected 1 or more", r->forks);
    int rc;
    if ((rc = sw_cli_parse_cooldowns("tune", sw_cli_str(a, "branch-cooldowns"), cools, 16, &r->n_cooldowns)) >= 0)
        return rc;
    if ((rc = sw_cli_parse_shapes("tune", sw_cli_str(a, "branch-shapes"), shapes, 2, &r->n_shapes)) >= 0) return rc;
    r->cooldowns = cools;
    r->shapes = shapes;
    if (sw_cli_given(a, "out")) {
        snprintf(outbuf, outcap, "%s", sw_cli_str(a, "out"));
    } else {
        char stamp[32], name[64];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&now));
        snprintf(name, sizeof name, "%s", r->data);
        for (char *p = name; *p; p++)
            if (*p == ':' || *p == '/' || *p == ',' || *p == '=') *p = '_';
        snprintf(outbuf, outcap, "runs/tune-%.40s-%s", name, stamp);
    }
    r->out_dir = outbuf;
    return -1;
}

static int tune(const sw_cli_args *parsed);

int sw_cmd_tune(int argc, char **argv)
{
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, argv, &a);
    if (rc < 0) rc = tune(&a);
    sw_cli_args_free(&a);
    return rc;
}

/* tune after parsing; the parsed lists (--curves) stay allocated until it
 * returns, whichever way it does. */
static int tune(const sw_cli_args *parsed)
{
    const sw_cli_args a = *parsed;
    int rc;
    if (a.n_positional == 1) {
        if (strcmp(a.positional[0], "status")) {
            rc = sw_cli_fail("tune", 2, "unknown subcommand '%s' (expected status)", a.positional[0]);
        } else {
            rc = cmd_status(&a);
        }
        return rc;
    }
    const char **files;
    int nfiles = sw_cli_multi(&a, "curves", &files);
    const char *data = sw_cli_str(&a, "data"), *runsq = sw_cli_str(&a, "runs");
    int sources = (nfiles > 0) + (runsq != NULL) + (data != NULL && nfiles == 0 && !runsq);
    if (sources == 0) return sw_cli_fail("tune", 2, "give --data SPEC (train and tune), --curves FILE.csv... or --runs QUERY");
    if ((nfiles > 0) + (runsq != NULL) > 1) return sw_cli_fail("tune", 2, "give either --curves or --runs, not both");
    sw_curve_csv_options copt; /* the target is val_em, maximised: what the tuner scores */
    if ((rc = sw_cli_curve_options("tune", &a, &copt)) >= 0) return rc;
    if (!nfiles && sw_cli_curve_options_given(&a))
        return sw_cli_fail("tune", 2, "--format, --x, --metric and the other mapping options apply to --curves files");
    int json = sw_cli_flag(&a, "json"), quiet = sw_cli_flag(&a, "quiet");
    sw_error err;
    sw_error_clear(&err);
    sw_tune_options o = sw_tune_default_options();
    o.epsilon = sw_cli_double(&a, "epsilon");
    o.threads = (int)sw_cli_int(&a, "threads");
    /* the training runs' threads (the replay's come with o); 0: shared out
     * among the stopwise runs on this machine, as train does */
    if (!o.threads && !getenv("OMP_NUM_THREADS")) sw_threads_share_begin();
    else sw_threads_share_hold(o.threads);
    o.confidence = sw_cli_double(&a, "confidence");
    if (!(o.confidence >= 0 && o.confidence < 1)) return sw_cli_fail("tune", 2, "--confidence %g: must be in [0, 1)", o.confidence);
    if (sw_cli_int(&a, "val-size") < 0) return sw_cli_fail("tune", 2, "--val-size must be >= 0");
    o.val_size = (size_t)sw_cli_int(&a, "val-size");
    if (sw_cli_given(&a, "lambda")) {
        o.objective = SW_TUNE_OBJECTIVE_PRICED;
        o.lambda = sw_cli_double(&a, "lambda");
        if (sw_cli_flag(&a, "worst")) return sw_cli_fail("tune", 2, "--lambda and --worst are different objectives; pick one");
    } else if (sw_cli_flag(&a, "worst")) {
        o.objective = SW_TUNE_OBJECTIVE_WORST;
    }
    if (!(o.epsilon >= 0)) return sw_cli_fail("tune", 2, "--epsilon %g: must be >= 0 (EM points)", o.epsilon);
    if (!(o.lambda >= 0)) return sw_cli_fail("tune", 2, "--lambda %g: must be >= 0 (EM points per million tokens)", o.lambda);
    int bad;
    o.families = parse_families(sw_cli_str(&a, "families"), &err, &bad);
    if (bad) return sw_cli_fail("tune", 2, "%s", err.msg);
    long long folds = sw_cli_int(&a, "folds");
    if (folds < 0 || folds == 1)
        return sw_cli_fail("tune", 2, "--folds %lld: cross-validation needs at least 2 (0: the default)", folds);
    uint64_t budget = sw_cli_given(&a, "budget") ? sw_cli_tokens(&a, "budget") : 0;
    if (sw_cli_given(&a, "budget") && budget == 0) return sw_cli_fail("tune", 2, "--budget must be positive");
    o.budget = budget;
    const char *loc = store_location(&a);
    int train_mode = nfiles == 0 && !runsq;
    if (train_mode && !budget) { /* train's default: 50 epochs of the data, so --stop auto finds the key */
        sw_data_options dopt = sw_data_default_options();
        sw_status bst = sw_train_default_budget(sw_cli_str(&a, "data"), &dopt, &budget, &err);
        if (bst) return sw_cli_fail("tune", sw_status_exit_code(bst), "%s", err.msg);
        o.budget = budget;
    }
    if (runsq && !loc) return sw_cli_fail("tune", 2, "--runs reads the store; drop --no-store");
    sw_tune_record_options ro;
    char outbuf[512];
    double cools[16];
    sw_decay_shape shapes[2];
    if (train_mode &&
        (rc = read_record_options(&a, loc, folds ? (int)folds : 5, budget, &ro, outbuf, sizeof outbuf, cools,
                                  shapes)) >= 0)
        return rc;

    sw_store *store = NULL;
    sw_curve **curves = NULL;
    size_t n = 0;
    sw_tune_report *rep = NULL;
    char *report_json = NULL;
    char key[1024] = "", runs_task[256] = "";
    sw_tune_truncated *truncated = NULL;
    size_t n_truncated = 0;
    int saved = 0;
    rc = 0;
    sw_status st = SW_OK;
    if (loc && (train_mode || runsq || sw_cli_given(&a, "task") || data)) {
        if ((st = sw_store_open(loc, &store, &err))) goto fail;
    }
    if (nfiles > 0) {
        curves = calloc((size_t)nfiles, sizeof *curves);
        if (!curves) {
            st = sw_error_set(&err, SW_ERR_NOMEM, "out of memory");
            goto fail;
        }
        sw_cli_curve_notes notes = {0};
        for (int i = 0; i < nfiles; i++) {
            if ((st = sw_cli_curve_read("tune", files[i], &copt, quiet ? NULL : &notes, &curves[i], NULL, &err)))
                goto fail;
            n++;
        }
        if (folds) o.folds = (int)folds;
    } else if (runsq) {
        if ((st = sw_tune_curves_from_store(store, runsq, sw_cli_flag(&a, "allow-truncated"), &curves, &n, runs_task,
                                            sizeof runs_task, &truncated, &n_truncated, &err)))
            goto fail;
        if (n_truncated && !quiet)
            fprintf(stderr, "stopwise tune: warning: %zu truncated run(s) included (--allow-truncated); the "
                            "shortfalls are optimistic\n", n_truncated);
        if (folds) o.folds = (int)folds;
    } else {
        record_view view = {.quiet = quiet};
        sw_tune_record_hooks hooks = {run_begin, run_progress, run_end, &view};
        if ((st = sw_tune_record_curves(&ro, &hooks, &curves, &n, &err))) goto fail;
        o.folds = 0; /* leave one run out */
    }
    if (!sw_cli_given(&a, "families")) drop_families_without_losses(curves, n, &o, quiet);
    if (!quiet && !json) fprintf(stderr, "stopwise tune: replaying candidate policies over %zu curves\n", n);
    if ((st = sw_tune_run((const sw_curve *const *)curves, n, &o, &rep, &err))) goto fail;

    /* the task key: --task, else computed from the --data settings */
    if (sw_cli_given(&a, "task")) {
        snprintf(key, sizeof key, "%s", sw_cli_str(&a, "task"));
    } else if (data && budget) {
        if ((st = task_key_of(&a, budget, key, sizeof key, &err))) goto fail;
    }
    report_json = sw_tune_report_json(rep);
    if (!report_json) {
        st = sw_error_set(&err, SW_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (key[0] && store) {
        if ((st = sw_store_policy_put(store, key, rep->chosen.policy, report_json))) {
            sw_error_set(&err, st, "store: %s", sw_store_errmsg(store));
            goto fail;
        }
        saved = 1;
    } else if (!quiet && !json) {
        fprintf(stderr, "stopwise tune: not saved in a store (give --task KEY%s)\n", store ? "" : " and a store");
    }
    if (sw_cli_given(&a, "pareto") && (st = sw_tune_pareto_write_csv(rep, sw_cli_str(&a, "pareto"), &err))) goto fail;
    if (json) sw_cli_tune_print_json(report_json, key, saved, runs_task, curves, n, truncated, n_truncated);
    else sw_cli_tune_print_report(rep, key, saved);
    goto done;
fail:
    rc = sw_cli_fail("tune", sw_status_exit_code(st), "%s", err.msg);
done:
    sw_threads_share_end();
    free(truncated);
    free(report_json);
    sw_tune_report_free(rep);
    for (size_t i = 0; i < n; i++) sw_curve_free(curves[i]);
    free(curves);
    sw_store_close(store);
    return rc;
}
