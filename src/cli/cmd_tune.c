/* stopwise tune: record curves (or take existing ones), tune the stopping
 * thresholds by replay with cross-validation, save the policy under the task
 * key; `tune status` shows a task's tuned policy and online state. The logic
 * is in tune/; this file gathers curves, prints and saves. */
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "cli/store_curves.h"
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
    {"curves", SW_CLI_MULTI, "FILE.csv", NULL,
     "tune on recorded curves instead (the `replay` CSV format: tokens, val_em, val_loss,\n"
     "train_loss by header name); repeat for several curves"},
    {"runs", SW_CLI_STRING, "QUERY", NULL,
     "tune on curves in the store instead: run ids (12,15,20-25), task=NAME or study=NAME\n"
     "(completed runs only), or a bare task name"},
    {"folds", SW_CLI_INT, "K", "0",
     "with --data: runs to train (0 means 5), scored leave-one-curve-out; with --curves or\n"
     "--runs: cross-validation folds, curve i in fold i mod K (0: one fold per curve)"},
    {"budget", SW_CLI_TOKENS, "TOKENS", NULL,
     "the token budget B (required with --data); tokens fraction = T_stop / B\n"
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
    {"eval-every", SW_CLI_TOKENS, "TOKENS", NULL, "with --data: tokens between evaluations (default: budget/100)"},
    {"eval-limit", SW_CLI_INT, "N", "0", "with --data: evaluate on at most N validation examples (0: all)"},
    {"seed", SW_CLI_INT, "N", "1", "with --data: run k (0-based) trains with seed N+k"},
    {"threads", SW_CLI_INT, "N", "0", "threads for training and for the replay (0: all cores)"},
    {"out", SW_CLI_STRING, "DIR", "runs/tune-DATA-TIME", "with --data: folder of the run folders fold-1, fold-2, ..."},
    {"task", SW_CLI_STRING, "KEY", NULL,
     "the task key to save the policy under (default with --data: DATA|MODEL|BUDGET;\n"
     "with --curves and no --data, nothing is saved unless --task is given)"},
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db", "where runs and the tuned policy are recorded"},
    {"no-store", SW_CLI_FLAG, NULL, NULL, "record and save nothing"},
    {"pareto", SW_CLI_STRING, "FILE.csv", NULL, "write the tokens-vs-shortfall Pareto frontier as CSV"},
    {"quiet", SW_CLI_FLAG, NULL, NULL, "no progress on stderr"},
    {"json", SW_CLI_FLAG, NULL, NULL, "print one JSON object on stdout instead of tables"},
};

static const sw_cli_command command = {
    "tune",
    "tune stopping thresholds from recorded curves, cross-validated",
    "stopwise tune --data SPEC --budget T [--folds K] [--epsilon 0.5] [options]\n"
    "       stopwise tune --curves FILE.csv... [--budget T] [--epsilon 0.5] [options]\n"
    "       stopwise tune --runs QUERY [options]\n"
    "       stopwise tune status (--task KEY | --data SPEC --budget T [--model SPEC])",
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
    "`tune status` prints the task's tuned policy and online-mode state (--json: the state).",
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

/* Parses "12,15,20-25" into ids; returns 0 if QUERY is not such a list. */
static int parse_ids(const char *q, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (!*q || strspn(q, "0123456789,-") != strlen(q)) return 0;
    size_t cap = 0;
    const char *p = q;
    while (*p) {
        char *end;
        long long a = strtoll(p, &end, 10), b = a;
        if (end == p) return -1;
        if (*end == '-') {
            p = end + 1;
            b = strtoll(p, &end, 10);
            if (end == p || b < a || b - a > 100000) return -1;
        }
        for (long long v = a; v <= b; v++) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 16;
                int64_t *x = realloc(*ids, cap * sizeof *x);
                if (!x) return -1;
                *ids = x;
            }
            (*ids)[(*n)++] = v;
        }
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    return 1;
}

static sw_status curves_from_store(sw_store *s, const char *query, sw_curve ***curves, size_t *n, char *task,
                                   size_t tcap, sw_error *err)
{
    sw_run_filter f;
    memset(&f, 0, sizeof f);
    int64_t *ids = NULL;
    size_t nids = 0;
    int kind = parse_ids(query, &ids, &nids);
    if (kind < 0) {
        free(ids);
        return sw_error_set(err, SW_ERR_INVALID, "--runs '%s': expected run ids (12,15,20-25), task=NAME or study=NAME",
                            query);
    }
    if (kind == 1) {
        f.ids = ids;
        f.n_ids = nids;
    } else {
        f.has_status = 1;
        f.status = SW_RUN_COMPLETED; /* a stopped run's curve ends early: not a full curve */
        f.branches = -1;             /* branches are columns of their trunk's curve */
        if (!strncmp(query, "study=", 6)) f.study = query + 6;
        else if (!strncmp(query, "task=", 5)) f.task = query + 5;
        else f.task = query;
    }
    sw_store_run *runs = NULL;
    size_t nr = 0;
    sw_status st = sw_store_runs_list(s, &f, &runs, &nr);
    free(ids);
    if (st) return sw_error_set(err, st, "store: %s", sw_store_errmsg(s));
    if (nr == 0) {
        sw_store_run_list_free(runs, nr);
        return sw_error_set(err, SW_ERR_NOT_FOUND, "--runs '%s': no matching %sruns in the store", query,
                            kind == 1 ? "" : "completed ");
    }
    *curves = calloc(nr, sizeof **curves);
    if (!*curves) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nr && !st; i++) {
        /* oldest first, so fold assignment follows the order runs were made */
        const sw_store_run *r = &runs[nr - 1 - i];
        sw_store_curve sc;
        if ((st = sw_store_curve_get_joined(s, r->id, &sc))) {
            sw_error_set(err, st, "store: %s", sw_store_errmsg(s));
            break;
        }
        if (sc.n == 0) {
            st = sw_error_set(err, SW_ERR_FORMAT, "run %lld has no evaluations", (long long)r->id);
        } else if (!(st = sw_cli_curve_convert(&sc, &(*curves)[*n], err))) {
            (*n)++;
        }
        sw_store_curve_clear(&sc);
        if (i == 0 && task && r->task) snprintf(task, tcap, "%s", r->task);
    }
    sw_store_run_list_free(runs, nr);
    return st;
}

/* ---- curves by training ------------------------------------------------------- */

static sw_status train_curves(const sw_cli_args *a, const char *data, uint64_t budget, int k_runs, const char *store,
                              sw_curve ***curves, size_t *n, sw_error *err)
{
    char outbuf[512];
    const char *out = sw_cli_str(a, "out");
    if (!sw_cli_given(a, "out")) {
        char stamp[32], name[64];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&now));
        snprintf(name, sizeof name, "%s", data);
        for (char *p = name; *p; p++)
            if (*p == ':' || *p == '/' || *p == ',' || *p == '=') *p = '_';
        snprintf(outbuf, sizeof outbuf, "runs/tune-%.40s-%s", name, stamp);
        out = outbuf;
    }
    sw_status made = sw_make_dirs(out, err);
    if (made) return made;
    *curves = calloc((size_t)k_runs, sizeof **curves);
    if (!*curves) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    int quiet = sw_cli_flag(a, "quiet");
    for (int k = 0; k < k_runs; k++) {
        sw_train_options o = sw_train_default_options();
        char dir[700], name[64];
        snprintf(dir, sizeof dir, "%s/fold-%d", out, k + 1);
        snprintf(name, sizeof name, "tune fold %d of %d", k + 1, k_runs);
        o.data = data;
        if (sw_cli_given(a, "model")) o.model = sw_cli_str(a, "model");
        o.budget = budget;
        if (sw_cli_given(a, "eval-every")) o.eval_every = sw_cli_tokens(a, "eval-every");
        o.eval_limit = (size_t)sw_cli_int(a, "eval-limit");
        o.seed = (uint64_t)sw_cli_int(a, "seed") + (uint64_t)k;
        /* run k trains without fold k of the training split: K folds of the data */
        o.data_opt.train_fold = k;
        o.data_opt.train_folds = k_runs;
        o.threads = (int)sw_cli_int(a, "threads");
        o.out_dir = dir;
        o.policy = NULL; /* the full budget: the tuner needs whole curves */
        o.store = store;
        o.run_name = name;
        if (!quiet) fprintf(stderr, "stopwise tune: run %d of %d (seed %llu) -> %s\n", k + 1, k_runs,
                            (unsigned long long)o.seed, dir);
        sw_cli_progress prog;
        sw_cli_progress_init(&prog, quiet);
        sw_train_result res;
        sw_status st = sw_train(&o, sw_cli_progress_update, &prog, &res, err);
        sw_cli_progress_done(&prog);
        if (st) return st;
        char csv[800];
        snprintf(csv, sizeof csv, "%s/curve.csv", dir);
        if ((st = sw_curve_read_csv(csv, &(*curves)[k], err))) return st;
        (*n)++;
        if (sw_curve_len((*curves)[k]) < 100 && !quiet)
            fprintf(stderr, "stopwise tune: note: run %d has %zu evaluations; the tuner works best with 100 or more\n",
                    k + 1, sw_curve_len((*curves)[k]));
    }
    return SW_OK;
}

/* ---- printing ------------------------------------------------------------------ */

static void print_report(const sw_tune_report *r, const char *task_key, int saved)
{
    printf("tuned on %zu curves, %zu candidate policies (%zu replays in %.2f s), %zu-fold cross-validation\n",
           r->n_curves, r->n_candidates, r->n_replays, r->replay_seconds, r->n_folds);
    if (r->objective == SW_TUNE_OBJECTIVE_PRICED)
        printf("objective: maximise mean EM - %g x mean tokens (M)\n\n", r->lambda);
    else
        printf("objective: fewest tokens with %s shortfall <= %g EM points\n\n",
               r->objective == SW_TUNE_OBJECTIVE_WORST ? "worst" : "mean", r->epsilon);
    printf("%-12s %8s %10s %9s  %s\n", "family", "CV tok%", "CV short", "CV worst", "policy (chosen on all curves)");
    for (size_t i = 0; i < r->n_families; i++) {
        const sw_tune_family_report *f = &r->families[i];
        printf("%-12s %7.1f%% %10.3f %9.3f  %s\n", sw_tune_family_name(f->family), 100 * f->cv_tokens_fraction,
               f->cv_shortfall, f->cv_worst_shortfall, f->chosen.policy);
    }
    printf("%-12s %7.1f%% %10.3f %9.3f  %s\n\n", "overall", 100 * r->cv_tokens_fraction, r->cv_shortfall,
           r->cv_worst_shortfall, r->chosen.policy);
    printf("Pareto frontier (all curves, in-sample): %zu policies\n", r->n_pareto);
    printf("%8s %10s %10s  %s\n", "tokens%", "shortfall", "worst", "policy");
    for (size_t i = 0; i < r->n_pareto; i++)
        printf("%7.1f%% %10.3f %10.3f  %s\n", 100 * r->pareto[i].tokens_fraction, r->pareto[i].shortfall,
               r->pareto[i].worst_shortfall, r->pareto[i].policy);
    printf("\npolicy: %s\n", r->chosen.policy);
    printf("cross-validated: %.1f%% of the budget's tokens (%.1f%% saved), mean EM shortfall %.3f points\n",
           100 * r->cv_tokens_fraction, 100 * (1 - r->cv_tokens_fraction), r->cv_shortfall);
    if (saved) printf("saved for task %s (train --stop auto uses it)\n", task_key);
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
        if (sw_tune_task_key(sw_cli_str(a, "data"), sw_cli_str(a, "model"), sw_cli_tokens(a, "budget"), key, sizeof key,
                             &err))
            return sw_cli_fail("tune", 2, "%s", err.msg);
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
    if ((pst && pst != SW_ERR_NOT_FOUND) || (sst && sst != SW_ERR_NOT_FOUND)) {
        rc = sw_cli_fail("tune", 1, "store: %s", sw_store_errmsg(s));
        goto done;
    }
    sw_online_state os;
    int have_state = sst == SW_OK && sw_online_from_json(state, &os, &err) == SW_OK;
    if (sst == SW_OK && !have_state) {
        rc = sw_cli_fail("tune", 1, "task %s: the stored online state does not parse: %s", key, err.msg);
        goto done;
    }
    if (sw_cli_flag(a, "json")) {
        json_t *o = json_object();
        json_object_set_new(o, "task_key", json_string(key));
        json_object_set_new(o, "tuned_policy", pst == SW_OK ? json_string(pol.policy) : json_null());
        json_t *st_json = have_state ? json_loads(state, 0, NULL) : NULL;
        json_object_set_new(o, "online", st_json ? st_json : json_null());
        char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
        printf("%s\n", txt);
        free(txt);
        json_decref(o);
        goto done;
    }
    printf("task %s\n", key);
    printf("tuned policy: %s\n", pst == SW_OK ? pol.policy : "(none: train --stop auto uses the conservative default)");
    if (!have_state) {
        printf("online mode: no state (train --stop auto --online starts it)\n");
        goto done;
    }
    printf("online mode: %lld runs, an audit every %d, epsilon %g\n", (long long)os.runs, os.audit_every, os.epsilon);
    printf("current policy: %s (level %d of %d, ceiling %d)\n", os.ladder[os.level], os.level + 1, os.n_ladder,
           os.ceiling + 1);
    if (os.n_history) {
        printf("%6s %10s %10s %8s  %s\n", "run", "shortfall", "next", "tokens%", "level");
        for (int i = 0; i < os.n_history; i++) {
            const sw_online_audit *h = &os.history[i];
            printf("%6lld %10.3f %10.3f %7.1f%%  %d -> %d\n", (long long)h->run, h->shortfall, h->next_shortfall,
                   100 * h->tokens_fraction, h->level_before + 1, h->level_after + 1);
        }
    }
done:
    free(state);
    sw_store_policy_clear(&pol);
    sw_store_close(s);
    return rc;
}

/* ---- tune ------------------------------------------------------------------------- */

int sw_cmd_tune(int argc, char **argv)
{
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, argv, &a);
    if (rc >= 0) {
        free(a.positional);
        return rc;
    }
    if (a.n_positional == 1) {
        if (strcmp(a.positional[0], "status")) {
            rc = sw_cli_fail("tune", 2, "unknown subcommand '%s' (expected status)", a.positional[0]);
        } else {
            rc = cmd_status(&a);
        }
        free(a.positional);
        return rc;
    }
    free(a.positional);
    const char **files;
    int nfiles = sw_cli_multi(&a, "curves", &files);
    const char *data = sw_cli_str(&a, "data"), *runsq = sw_cli_str(&a, "runs");
    int sources = (nfiles > 0) + (runsq != NULL) + (data != NULL && nfiles == 0 && !runsq);
    if (sources == 0) return sw_cli_fail("tune", 2, "give --data SPEC (train and tune), --curves FILE.csv... or --runs QUERY");
    if ((nfiles > 0) + (runsq != NULL) > 1) return sw_cli_fail("tune", 2, "give either --curves or --runs, not both");
    int json = sw_cli_flag(&a, "json"), quiet = sw_cli_flag(&a, "quiet");
    sw_error err;
    sw_error_clear(&err);
    sw_tune_options o = sw_tune_default_options();
    o.epsilon = sw_cli_double(&a, "epsilon");
    o.threads = (int)sw_cli_int(&a, "threads");
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
    if (train_mode && !budget) return sw_cli_fail("tune", 2, "--data needs --budget T, the budget each run trains to");
    if (runsq && !loc) return sw_cli_fail("tune", 2, "--runs reads the store; drop --no-store");

    sw_store *store = NULL;
    sw_curve **curves = NULL;
    size_t n = 0;
    sw_tune_report *rep = NULL;
    char *report_json = NULL;
    char key[1024] = "", runs_task[256] = "";
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
        for (int i = 0; i < nfiles; i++) {
            if ((st = sw_curve_read_csv(files[i], &curves[i], &err))) goto fail;
            n++;
        }
        if (folds) o.folds = (int)folds;
    } else if (runsq) {
        if ((st = curves_from_store(store, runsq, &curves, &n, runs_task, sizeof runs_task, &err))) goto fail;
        if (folds) o.folds = (int)folds;
    } else {
        int k = folds ? (int)folds : 5;
        if ((st = train_curves(&a, data, budget, k, loc, &curves, &n, &err))) goto fail;
        o.folds = 0; /* leave one run out */
    }
    if (!quiet && !json) fprintf(stderr, "stopwise tune: replaying candidate policies over %zu curves\n", n);
    if ((st = sw_tune_run((const sw_curve *const *)curves, n, &o, &rep, &err))) goto fail;

    /* the task key: --task, else computed from --data/--model/--budget */
    if (sw_cli_given(&a, "task")) {
        snprintf(key, sizeof key, "%s", sw_cli_str(&a, "task"));
    } else if (data && budget) {
        if ((st = sw_tune_task_key(data, sw_cli_str(&a, "model"), budget, key, sizeof key, &err))) goto fail;
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
    if (json) {
        json_t *j = json_loads(report_json, 0, NULL);
        json_object_set_new(j, "task_key", key[0] ? json_string(key) : json_null());
        json_object_set_new(j, "saved", json_boolean(saved));
        if (runs_task[0]) json_object_set_new(j, "runs_task", json_string(runs_task));
        json_t *names = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(names, json_string(sw_curve_source(curves[i])));
        json_object_set_new(j, "curves", names);
        char *txt = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
        printf("%s\n", txt);
        free(txt);
        json_decref(j);
    } else {
        print_report(rep, key, saved);
    }
    goto done;
fail:
    rc = sw_cli_fail("tune", sw_status_exit_code(st), "%s", err.msg);
done:
    free(report_json);
    sw_tune_report_free(rep);
    for (size_t i = 0; i < n; i++) sw_curve_free(curves[i]);
    free(curves);
    sw_store_close(store);
    return rc;
}
