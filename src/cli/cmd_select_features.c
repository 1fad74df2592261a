/* stopwise select-features: ranks the feature columns of a CSV dataset and
 * writes the selected names (train.h sw_select_features; docs/FEATURES.md).
 * This file parses options and prints; the work is the library's. */
#include "cli/commands.h"
#include "cli/options.h"
#include "stopwise/nn.h"
#include "stopwise/train.h"
#include "data/json_num.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const sw_cli_option options[] = {
    {"data", SW_CLI_STRING, "SPEC", NULL, "csv:PATH: numeric feature columns named by a header (col1..colN without one)\nand the label in the last column"},
    {"method", SW_CLI_STRING, "NAME", "mi",
     "mi: mutual information with the label on the training split (k-NN, Ross 2014);\n"
     "l1: the order features enter the L1 path of a logistic regression;\n"
     "permutation: the rise of a trained mlp's validation loss when a column is shuffled"},
    {"keep", SW_CLI_STRING, "K|auto", "auto",
     "features to keep; auto: mi, above the largest MI against shuffled labels;\n"
     "l1, those in at the sparsest penalty within 1 SE of the best validation EM;\n"
     "permutation, a loss rise above 2 standard errors of the repeats and above the\n"
     "largest fall any column shows"},
    {"output", SW_CLI_STRING, "FILE", NULL, "write the selected names there, best first, one a line (-o for short);\nthen: stopwise train --features FILE"},
    {"seed", SW_CLI_INT, "N", "1", "seed of the label shuffles, the permutations and the model's training"},
    {"neighbors", SW_CLI_INT, "K", "3", "mi: neighbours of the estimator"},
    {"shuffles", SW_CLI_INT, "N", "5", "mi with --keep auto: label shuffles of the noise level"},
    {"path-points", SW_CLI_INT, "N", "50", "l1: penalties on the path, lambda_max down to --path-ratio x lambda_max"},
    {"path-ratio", SW_CLI_DOUBLE, "R", "0.001", "l1: the smallest penalty over the largest"},
    {"repeats", SW_CLI_INT, "N", "5", "permutation: shuffles of each column"},
    {"model", SW_CLI_STRING, "CKPT", NULL,
     "permutation: an mlp checkpoint trained on every column of this data (its\nrun's split is used); without it one is trained here"},
    {"train-model", SW_CLI_STRING, "SPEC", "per task", "permutation without --model: the model trained, e.g. mlp:hidden=64"},
    {"budget", SW_CLI_TOKENS, "TOKENS", "auto", "permutation without --model: its training tokens; auto: train's default"},
    {"train-out", SW_CLI_STRING, "DIR", "runs/select-features-TIME", "permutation without --model: its run folder"},
    {"data-seed", SW_CLI_INT, "N", "1", "seed of the train/validation/test split (as train's)"},
    {"val-frac", SW_CLI_DOUBLE, "F", "auto", "validation share (as train's: 0.05)"},
    {"test-frac", SW_CLI_DOUBLE, "F", "auto", "test share (as train's: 0.05)"},
    {"threads", SW_CLI_INT, "N", "0", "threads for the model (permutation); 0: as train"},
    {"json", SW_CLI_FLAG, NULL, NULL, "print one JSON object: method, keep, rule, selected, ranking"},
};

static const sw_cli_command command = {
    .name = "select-features",
    .synopsis = "rank the feature columns of CSV data and keep the most useful",
    .usage = "stopwise select-features --data csv:PATH [--method mi|l1|permutation] [--keep K|auto] [-o FILE]",
    .details =
        "Every method reads the training split to fit and the validation split to\n"
        "choose, as train splits the data (same --data-seed and fractions), never test.\n"
        "mi:  I = psi(N) - <psi(N_y)> + psi(k) - <psi(m)> per feature, in nats.\n"
        "l1:  min (1/n) sum CE(softmax(zW + b), y) + lambda |W|_1 on standardised z, over\n"
        "     --path-points penalties; score = lambda at entry / lambda_max.\n"
        "permutation: score = mean over repeats of loss(column shuffled) - loss.\n"
        "The ranking goes to stdout; --output writes the kept names, which\n"
        "`stopwise train --features FILE` trains on (docs/FEATURES.md).",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

static void print_json(const sw_feature_ranking *r, const sw_select_options *o, const char *output)
{
    json_t *sel = json_array(), *rank = json_array();
    for (int i = 0; i < r->n; i++) {
        int j = r->order[i];
        if (i < r->keep) json_array_append_new(sel, json_string(r->names[j]));
        json_t *e = json_pack("{s:s, s:i, s:o, s:b}", "feature", r->names[j], "rank", i + 1, "score",
                              sw_json_num(r->score[j]), "kept", i < r->keep);
        if (o->method == SW_SELECT_PERMUTATION) {
            json_object_set_new(e, "spread", sw_json_num(r->spread[j]));
            json_object_set_new(e, "em_drop", sw_json_num(r->em_drop[j]));
        }
        json_array_append_new(rank, e);
    }
    json_t *j = json_pack("{s:s, s:i, s:i, s:s, s:o, s:o}", "method", sw_select_method_name(o->method), "keep", r->keep,
                          "features", r->n, "rule", r->rule, "selected", sel, "ranking", rank);
    if (output) json_object_set_new(j, "output", json_string(output));
    if (r->model[0]) {
        json_object_set_new(j, "model", json_string(r->model));
        json_object_set_new(j, "base_em", sw_json_num(r->base_em));
    }
    char *s = json_dumps(j, JSON_COMPACT);
    puts(s ? s : "{}");
    free(s);
    json_decref(j);
}

static void print_human(const sw_feature_ranking *r, const sw_select_options *o)
{
    int perm = o->method == SW_SELECT_PERMUTATION;
    const char *what = o->method == SW_SELECT_MI ? "MI (nats)" : o->method == SW_SELECT_L1 ? "lambda/max" : "loss rise";
    printf("%-5s %-32s %12s%s\n", "rank", "feature", what, perm ? "           sd  EM drop" : "");
    for (int i = 0; i < r->n; i++) {
        int j = r->order[i];
        printf("%-5d %-32s %12.6f", i + 1, r->names[j], r->score[j]);
        if (perm) printf(" %12.6f %8.2f", r->spread[j], r->em_drop[j]);
        printf("%s\n", i < r->keep ? "  kept" : "");
    }
    printf("kept %d of %d: %s\n", r->keep, r->n, r->rule);
    if (r->model[0]) printf("model %s (validation EM %.2f)\n", r->model, r->base_em);
}

int sw_cmd_select_features(int argc, char **argv)
{
    /* -o is --output's short form (the one short option: the parser's are long) */
    char **args = malloc(sizeof *args * ((size_t)argc + 1));
    if (!args) return sw_cli_fail("select-features", 1, "out of memory");
    for (int i = 0; i < argc; i++) args[i] = !strcmp(argv[i], "-o") && i > 0 ? "--output" : argv[i];
    args[argc] = NULL;
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, args, &a);
    if (rc >= 0) {
        free(args);
        return rc;
    }
    sw_select_options o = sw_select_default_options();
    sw_data_options d = sw_data_default_options();
    const char *data = sw_cli_str(&a, "data"), *keep = sw_cli_str(&a, "keep"), *output = sw_cli_str(&a, "output");
    int m = sw_select_method_find(sw_cli_str(&a, "method"));
    rc = -1;
    if (!data) rc = sw_cli_fail("select-features", 2, "--data csv:PATH is required");
    else if (m < 0)
        rc = sw_cli_fail("select-features", 2, "--method %s: expected mi, l1 or permutation", sw_cli_str(&a, "method"));
    o.method = (sw_select_method)m;
    if (rc < 0 && strcmp(keep, "auto")) {
        long long k;
        if (sw_parse_int(keep, 1, 1 << 24, &k))
            rc = sw_cli_fail("select-features", 2, "--keep %s: expected a positive count or auto", keep);
        o.keep = (int)k;
    }
    o.seed = (uint64_t)sw_cli_int(&a, "seed");
    o.neighbors = (int)sw_cli_int(&a, "neighbors");
    o.shuffles = (int)sw_cli_int(&a, "shuffles");
    o.repeats = (int)sw_cli_int(&a, "repeats");
    o.l1.points = (int)sw_cli_int(&a, "path-points");
    o.l1.ratio = sw_cli_double(&a, "path-ratio");
    if (rc < 0 && (o.neighbors < 1 || o.shuffles < 1 || o.repeats < 1 || o.l1.points < 1 ||
                   !(o.l1.ratio > 0 && o.l1.ratio <= 1)))
        rc = sw_cli_fail("select-features", 2,
                         "--neighbors, --shuffles, --repeats and --path-points must be at least 1, --path-ratio in (0, 1]");
    o.model = sw_cli_str(&a, "model");
    if (sw_cli_given(&a, "train-model")) o.model_spec = sw_cli_str(&a, "train-model");
    if (sw_cli_given(&a, "budget")) o.budget = sw_cli_tokens(&a, "budget");
    char out[512];
    if (sw_cli_given(&a, "train-out")) {
        o.out_dir = sw_cli_str(&a, "train-out");
    } else {
        char stamp[32];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&now));
        snprintf(out, sizeof out, "runs/select-features-%s", stamp);
        o.out_dir = out;
    }
    d.seed = (uint64_t)sw_cli_int(&a, "data-seed");
    if (sw_cli_given(&a, "val-frac")) d.val_frac = sw_cli_double(&a, "val-frac");
    if (sw_cli_given(&a, "test-frac")) d.test_frac = sw_cli_double(&a, "test-frac");
    if (rc >= 0) {
        sw_cli_args_free(&a);
        free(args);
        return rc;
    }
    int threads = (int)sw_cli_int(&a, "threads");
    if (threads) sw_threads_share_hold(threads);
    else sw_threads_share_begin();
    sw_feature_ranking r;
    sw_error err;
    sw_status st = sw_select_features(data, &d, &o, &r, &err);
    sw_threads_share_end();
    if (!st && output) {
        const char **names = malloc(sizeof *names * (size_t)(r.keep ? r.keep : 1));
        char comment[1024];
        snprintf(comment, sizeof comment, "stopwise select-features --data %s --method %s: %d of %d columns, best first (%s)",
                 data, sw_select_method_name(o.method), r.keep, r.n, r.rule);
        for (int i = 0; names && i < r.keep; i++) names[i] = r.names[r.order[i]];
        st = names ? sw_feature_list_write(output, names, r.keep, comment, &err)
                   : sw_error_set(&err, SW_ERR_NOMEM, "out of memory");
        free(names);
    }
    if (!st) {
        if (sw_cli_flag(&a, "json")) print_json(&r, &o, output);
        else {
            print_human(&r, &o);
            if (output) printf("wrote %s\n", output);
        }
    }
    sw_feature_ranking_free(&r);
    sw_cli_args_free(&a);
    free(args);
    return st ? sw_cli_fail("select-features", sw_status_exit_code(st), "%s", err.msg) : 0;
}
