/* stopwise replay: where a stopping policy would have stopped recorded
 * curves, the tokens it saves and the EM it loses. The logic is sw_replay in
 * stop/; this file parses, prints and sums up. */
#include "cli/commands.h"
#include "cli/curve_options.h"
#include "cli/options.h"
#include "cli/store_curves.h"
#include "stopwise/stop.h"
#include "data/json_num.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    {"policy", SW_CLI_STRING, "POLICY", NULL,
     "the stopping policy, e.g. patience=5:min_delta=0.1,gain=0.2,diverge,warmup=1M or\n"
     "all(patience=5,gain=0.1),diverge,warmup=1M:ignore,cooldown=0.1:shape=sqrt\n"
     "(grammar and formulas: docs/STOPPING.md)"},
    {"curve", SW_CLI_LIST, "FILE.csv...", NULL,
     "recorded curves: stopwise CSVs with a header naming tokens, val_em, val_loss,\n"
     "train_loss (extra columns allowed), or other tools' CSVs (Keras, Lightning,\n"
     "MLflow, W&B, TensorBoard; see --format); several after one flag (a shell glob:\n"
     "--curve runs/*.csv) or the flag repeated"},
    {"run", SW_CLI_MULTI, "ID", NULL, "a run's curve from the store; repeat for several"},
    {"all", SW_CLI_FLAG, NULL, NULL, "every run in the store that has a curve"},
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db", "the store for --run and --all"},
    {"oracle", SW_CLI_DOUBLE, "EPS", NULL,
     "also report the oracle: the first evaluation whose score is within EPS EM points of\n"
     "the curve's best score (with the policy's cooldown, scored the same way)"},
    {"json", SW_CLI_FLAG, NULL, NULL, "print one JSON object on stdout instead of text"},
    SW_CLI_CURVE_OPTIONS,
};

static const sw_cli_command command = {
    "replay",
    "replay a stopping policy over recorded curves",
    "stopwise replay --policy POLICY (--curve FILE.csv... | --run ID ... | --all) [--store PATH|URL] [--json]\n"
    "                [--format NAME] [--x step|epoch|tokens] [--tokens-per-step N] [--metric NAME] [--mode max|min]",
    "For each curve: where the policy stops (tokens and rule), the best checkpoint up to\n"
    "the stop, tokens saved = curve end - stop tokens, and shortfall = best val_em of the\n"
    "whole curve - val_em of that checkpoint (EM lost). extrapolate predicts at the\n"
    "policy's budget, else at the curve's last tokens.\n"
    "--json with one curve prints {\"stop_tokens\",\"stop_rule\",\"reason\",\"best_tokens\",\n"
    "\"best_em\",\"saved_tokens\",\"shortfall\",...}; with several, {\"policy\",\"curves\":[those\n"
    "objects],\"mean_saved_tokens\",\"mean_saved_fraction\",\"mean_shortfall\",\"max_shortfall\"}.\n"
    "--run ID and --all replay curves recorded in the store (named run:ID).\n"
    "With cooldown=C:shape=S in the policy, a stop at evaluation k scores max(best checkpoint\n"
    "val_em, annealed val_em at k) and charges T_k + the cooldown's tokens, from the curve's\n"
    "branch columns val_em_annealed:c=C:shape=S and anneal_tokens:c=C:shape=S (predicted\n"
    "between forks); --json adds \"anneal\": {\"em\",\"tokens\",\"predicted\",\"charged_tokens\",\n"
    "\"score_em\",\"loo\": {\"n\",\"mae\",\"rmse\",\"bias\",\"max_abs\"}} per curve, the prediction's\n"
    "leave-one-fork-out error.\n"
    "Other tools' CSVs: the metric (--metric, else the validation accuracy column) fills\n"
    "the column the policy monitors (val_em, or monitor=NAME's column, which a policy\n"
    "naming another metric reads from the file under that name), oriented to the\n"
    "policy's mode: --mode min into a max monitor is negated (val_em = -loss), so EM lost\n"
    "is then in the metric's units; --scale 100 reads an accuracy in [0, 1] as percent.\n"
    "Each row is placed at tokens = round((x + e) x N) (see --x); rows of one x merge.",
    options,
    sizeof options / sizeof *options,
    0,
    0,
};

static json_t *result_json(const char *policy, const char *path, const sw_replay_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "policy", json_string(policy));
    json_object_set_new(o, "curve", json_string(path));
    json_object_set_new(o, "stopped", json_boolean(r->stopped));
    json_object_set_new(o, "diverged", json_boolean(r->diverged));
    json_object_set_new(o, "stop_index", json_integer((json_int_t)r->stop_index));
    json_object_set_new(o, "stop_tokens", json_integer((json_int_t)r->stop_tokens));
    json_object_set_new(o, "end_tokens", json_integer((json_int_t)r->end_tokens));
    json_object_set_new(o, "stop_rule", r->stopped ? json_string(sw_rule_kind_name(r->stop_rule)) : json_null());
    json_object_set_new(o, "reason", json_string(r->reason));
    json_object_set_new(o, "best_index", json_integer((json_int_t)r->best_index));
    json_object_set_new(o, "best_tokens", json_integer((json_int_t)r->best_tokens));
    json_object_set_new(o, "best_em", sw_json_num(r->best_em));
    json_object_set_new(o, "curve_best_em", sw_json_num(r->curve_best_em));
    json_object_set_new(o, "saved_tokens", json_integer((json_int_t)r->saved_tokens));
    json_object_set_new(o, "shortfall", sw_json_num(r->shortfall));
    json_object_set_new(o, "charged_tokens", json_integer((json_int_t)r->charged_tokens));
    json_object_set_new(o, "score_em", sw_json_num(r->score_em));
    return o;
}

/* The cooldown's part of a curve's JSON, with the leave-one-fork-out error. */
static json_t *anneal_json(const sw_policy *p, const sw_curve *c, const sw_replay_result *r)
{
    double frac;
    sw_cooldown_shape shape;
    if (!r->annealed || !sw_policy_cooldown(p, &frac, &shape)) return json_null();
    json_t *a = json_object();
    json_object_set_new(a, "c", json_real(frac));
    json_object_set_new(a, "shape", json_string(sw_cooldown_shape_name(shape)));
    json_object_set_new(a, "em", sw_json_num(r->anneal_em));
    json_object_set_new(a, "tokens", json_integer((json_int_t)r->anneal_tokens));
    json_object_set_new(a, "predicted", json_boolean(r->anneal_predicted));
    json_object_set_new(a, "charged_tokens", json_integer((json_int_t)r->charged_tokens));
    json_object_set_new(a, "score_em", sw_json_num(r->score_em));
    sw_anneal_error e;
    if (sw_anneal_loo(c, NULL, frac, shape, &e, NULL) == SW_OK) {
        json_t *l = json_object();
        json_object_set_new(l, "n_forks", json_integer((json_int_t)e.n_forks));
        json_object_set_new(l, "n", json_integer((json_int_t)e.n));
        json_object_set_new(l, "mae", sw_json_num(e.mae));
        json_object_set_new(l, "rmse", sw_json_num(e.rmse));
        json_object_set_new(l, "bias", sw_json_num(e.bias));
        json_object_set_new(l, "max_abs", sw_json_num(e.max_abs));
        json_object_set_new(a, "loo", l);
    }
    return a;
}

static void print_text(const char *path, const sw_curve *c, const sw_replay_result *r, const char *monitor)
{
    char a[32], b[32], e[32];
    size_t n = sw_curve_len(c);
    printf("%s: %zu evaluations, %s tokens\n", path, n, sw_format_tokens(r->end_tokens, e, sizeof e));
    if (r->stopped)
        printf("  stops at %s tokens (evaluation %zu of %zu): %s\n", sw_format_tokens(r->stop_tokens, a, sizeof a),
               r->stop_index + 1, n, r->reason);
    else
        printf("  never stops: %s\n", r->reason);
    if (r->diverged) printf("  the run diverged\n");
    printf("  best checkpoint up to the stop: %s %.4g at %s tokens", monitor, r->best_value,
           sw_format_tokens(r->best_tokens, b, sizeof b));
    if (isfinite(r->best_em) && !(monitor[0] == 'v' && !strcmp(monitor, "val_em"))) printf(" (val_em %.4g)", r->best_em);
    printf("\n");
    if (r->annealed) {
        printf("  cooldown: %s tokens, annealed val_em %.4g (%s); score %.4g for %s tokens\n",
               sw_format_tokens(r->anneal_tokens, a, sizeof a), r->anneal_em,
               r->anneal_predicted ? "predicted between forks" : "measured at a fork", r->score_em,
               sw_format_tokens(r->charged_tokens, b, sizeof b));
        double used = r->end_tokens ? 100.0 * (double)r->charged_tokens / (double)r->end_tokens : 0;
        printf("  used %.1f%% of the curve's tokens (cooldown included), EM lost %.4g (best score %.4g)\n", used,
               r->shortfall, r->curve_best_em);
        return;
    }
    double frac = r->end_tokens ? 100.0 * (double)r->saved_tokens / (double)r->end_tokens : 0;
    printf("  saved %s tokens (%.1f%%), EM lost %.4g (curve best val_em %.4g)\n",
           sw_format_tokens(r->saved_tokens, a, sizeof a), frac, r->shortfall, r->curve_best_em);
}

/* Opens the store and lists the runs to replay: the --run ids, or with --all
 * every run that has evaluations (oldest first). Returns an exit code. */
static int open_store(const sw_cli_args *a, sw_store **store, int64_t **ids, int *nids, const char **run_ids,
                      int nruns, int all)
{
    const char *env = getenv("STOPWISE_STORE");
    const char *loc = sw_cli_given(a, "store") ? sw_cli_str(a, "store") : env && *env ? env : "stopwise.db";
    sw_store_options so;
    sw_store_options_default(&so);
    so.create = 0;
    sw_error err;
    sw_status st = sw_store_open_with(loc, &so, store, &err);
    if (st) return sw_cli_fail("replay", sw_status_exit_code(st), "%s", err.msg);
    if (!all) {
        *ids = malloc(sizeof(int64_t) * (size_t)nruns);
        for (int i = 0; i < nruns; i++) {
            long long v;
            if (sw_parse_int(run_ids[i], 1, INT64_MAX, &v))
                return sw_cli_fail("replay", 2, "--run expects a run id (a positive whole number), got '%s'",
                                   run_ids[i]);
            (*ids)[i] = v;
        }
        *nids = nruns;
        return 0;
    }
    sw_store_run *runs;
    size_t n;
    sw_store_run_filter no_branches = {.branches = -1}; /* a branch is one point of its trunk's curve */
    if ((st = sw_store_runs_list(*store, &no_branches, &runs, &n)))
        return sw_cli_fail("replay", sw_status_exit_code(st), "%s", sw_store_errmsg(*store));
    *ids = malloc(sizeof(int64_t) * (n ? n : 1));
    for (size_t i = n; i-- > 0;)
        if (runs[i].n_evals > 0) (*ids)[(*nids)++] = runs[i].id;
    sw_store_run_list_free(runs, n);
    if (*nids == 0) return sw_cli_fail("replay", 2, "%s: no run with a curve to replay", loc);
    return 0;
}

int sw_cmd_replay(int argc, char **argv)
{
    sw_cli_args args;
    int rc = sw_cli_parse(&command, argc, argv, &args);
    if (rc >= 0) {
        sw_cli_args_free(&args);
        return rc;
    }
    const char **curves;
    int ncurves = sw_cli_multi(&args, "curve", &curves);
    const char *ptext = sw_cli_str(&args, "policy");
    int json = sw_cli_flag(&args, "json");
    rc = 0;
    sw_policy *p = NULL;
    sw_error err;
    json_t *list = NULL;
    sw_store *store = NULL;
    int64_t *ids = NULL;
    int nids = 0;
    if (!ptext) {
        rc = sw_cli_fail("replay", 2, "--policy is required (e.g. --policy patience=5)");
        goto done;
    }
    const char **run_ids;
    int nruns = sw_cli_multi(&args, "run", &run_ids);
    int all = sw_cli_flag(&args, "all");
    if (ncurves + nruns == 0 && !all) {
        rc = sw_cli_fail("replay", 2, "give at least one --curve FILE.csv, --run ID or --all");
        goto done;
    }
    sw_curve_csv_options copt;
    if ((rc = sw_cli_curve_options("replay", &args, &copt)) >= 0) goto done;
    rc = 0;
    if (!ncurves && sw_cli_curve_options_given(&args)) {
        rc = sw_cli_fail("replay", 2, "--format, --x, --metric and the other mapping options apply to --curve files");
        goto done;
    }
    if ((nruns || all) && (rc = open_store(&args, &store, &ids, &nids, run_ids, nruns, all))) goto done;
    if (sw_policy_parse(ptext, &p, &err)) {
        rc = sw_cli_fail("replay", 2, "--policy: %s", err.msg);
        goto done;
    }
    /* another tool's metric fills the column the policy monitors, turned
     * to its mode; a policy monitoring another column than val_em reads
     * that column from the file unless --metric says otherwise */
    copt.target = sw_policy_monitor(p);
    copt.target_maximize = sw_policy_maximize(p);
    if (!copt.metric && strcmp(copt.target, "val_em")) {
        copt.metric = copt.target;
        if (!copt.mode) copt.mode = copt.target_maximize ? 1 : -1;
    }
    sw_cli_curve_notes notes = {0};
    char canon[4096];
    sw_policy_format(p, canon, sizeof canon);
    list = json_array();
    double sum_saved = 0, sum_frac = 0, sum_short = 0, max_short = -INFINITY, sum_stop = 0, sum_charged = 0;
    int n_short = 0;
    int total = ncurves + nids;
    for (int k = 0; k < total; k++) {
        sw_curve *c;
        sw_replay_result r;
        char name[64];
        const char *label = k < ncurves ? curves[k] : name;
        if (k >= ncurves) snprintf(name, sizeof name, "run:%lld", (long long)ids[k - ncurves]);
        sw_status st = k < ncurves ? sw_cli_curve_read("replay", curves[k], &copt, &notes, &c, NULL, &err)
                                   : sw_cli_curve_from_store(store, ids[k - ncurves], &c, &err);
        if (!st) {
            st = sw_replay(p, c, &r, &err);
            if (st) sw_curve_free(c);
        }
        if (st) {
            rc = sw_cli_fail("replay", sw_status_exit_code(st), "%s", err.msg);
            goto done;
        }
        if (!json) {
            if (k) printf("\n");
            print_text(label, c, &r, sw_policy_monitor(p));
        }
        json_t *one = result_json(canon, label, &r);
        json_object_set_new(one, "anneal", anneal_json(p, c, &r));
        if (sw_cli_given(&args, "oracle")) {
            sw_replay_result orr;
            if ((st = sw_replay_oracle(p, c, sw_cli_double(&args, "oracle"), &orr, &err))) {
                json_decref(one);
                sw_curve_free(c);
                rc = sw_cli_fail("replay", sw_status_exit_code(st), "%s", err.msg);
                goto done;
            }
            json_t *oj = result_json("oracle", label, &orr);
            json_object_set_new(oj, "anneal", anneal_json(p, c, &orr));
            json_object_set_new(one, "oracle", oj);
            if (!json)
                printf("  oracle (within %g): %s tokens charged, score %.4g, EM lost %.4g\n",
                       sw_cli_double(&args, "oracle"), sw_format_tokens(orr.charged_tokens, name, sizeof name),
                       orr.score_em, orr.shortfall);
        }
        json_array_append_new(list, one);
        sum_saved += (double)r.saved_tokens;
        sum_stop += (double)r.stop_tokens;
        sum_charged += (double)r.charged_tokens;
        sum_frac += r.end_tokens ? (double)r.saved_tokens / (double)r.end_tokens : 0;
        if (isfinite(r.shortfall)) {
            sum_short += r.shortfall;
            if (r.shortfall > max_short) max_short = r.shortfall;
            n_short++;
        }
        sw_curve_free(c);
    }
    double mean_short = n_short ? sum_short / n_short : NAN;
    if (json) {
        json_t *o;
        if (total == 1) {
            o = json_incref(json_array_get(list, 0));
        } else {
            o = json_object();
            json_object_set_new(o, "policy", json_string(canon));
            json_object_set(o, "curves", list);
            json_object_set_new(o, "mean_stop_tokens", sw_json_num(sum_stop / total));
            json_object_set_new(o, "mean_charged_tokens", sw_json_num(sum_charged / total));
            json_object_set_new(o, "mean_saved_tokens", sw_json_num(sum_saved / total));
            json_object_set_new(o, "mean_saved_fraction", sw_json_num(sum_frac / total));
            json_object_set_new(o, "mean_shortfall", sw_json_num(mean_short));
            json_object_set_new(o, "max_shortfall", sw_json_num(n_short ? max_short : NAN));
        }
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else if (total > 1) {
        printf("\npolicy %s over %d curves: mean saved %.1f%% of the tokens, mean EM lost %.4g, worst %.4g\n", canon,
               total, 100 * sum_frac / total, mean_short, n_short ? max_short : NAN);
    }
done:
    free(ids);
    sw_store_close(store);
    json_decref(list);
    sw_policy_free(p);
    sw_cli_args_free(&args);
    return rc;
}
