/* stopwise predict: answers stdin lines with a checkpoint, or an ensemble of
 * them, one answer per line. */
#include "cli/commands.h"
#include "cli/ensemble_options.h"
#include "cli/options.h"
#include "stopwise/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    SW_CLI_ENSEMBLE_OPTIONS,
    {"batch", SW_CLI_INT, "N", "256", "lines decoded together"},
};

static const sw_cli_command command = {
    .name = "predict",
    .synopsis = "answer standard-input lines with a checkpoint or an ensemble, one answer per line",
    .usage = "stopwise predict (--model CKPT... | --snapshots DIR | --top-k K --task NAME) [--beam K] < inputs.txt",
    .details = "Sequence models read one input per line (e.g. a word) and print the decoded\n"
               "target (e.g. its phones). Classifiers read comma-separated feature values and\n"
               "print the class name. An ensemble answers with the mean of its members'\n"
               "distributions (docs/ENSEMBLES.md).",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

/* Who answers: one checkpoint decoded greedily (sw_predictor, as predict
 * always answered), or an ensemble and/or beam search. */
typedef struct answerer {
    sw_predictor *single;
    sw_ensemble *ensemble;
    sw_decode_params dec;
} answerer;

static int flush(answerer *w, char **lines, int n, size_t first_line)
{
    char **answers = calloc((size_t)n, sizeof *answers);
    sw_error err;
    sw_status st = !answers ? sw_error_set(&err, SW_ERR_NOMEM, "out of memory")
                   : w->single ? sw_predictor_run(w->single, (const char *const *)lines, n, first_line, answers, &err)
                               : sw_ensemble_predict(w->ensemble, &w->dec, (const char *const *)lines, n, first_line,
                                                     answers, &err);
    for (int i = 0; i < n; i++) {
        if (!st) puts(answers[i]);
        if (answers) free(answers[i]);
        free(lines[i]);
    }
    free(answers);
    fflush(stdout);
    return st ? sw_cli_fail("predict", sw_status_exit_code(st), "%s", err.msg) : 0;
}

int sw_cmd_predict(int argc, char **argv)
{
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, argv, &a);
    if (rc >= 0) {
        sw_cli_args_free(&a);
        return rc;
    }
    long long batch = sw_cli_int(&a, "batch");
    char **paths = NULL;
    int n_paths = 0;
    answerer w = {0};
    if (batch < 1 || batch > 4096) rc = sw_cli_fail("predict", 2, "--batch must be 1..4096");
    if (rc < 0) rc = sw_cli_ensemble_members(&a, "predict", &paths, &n_paths, &w.dec);
    sw_cli_args_free(&a);
    if (rc >= 0) return rc;
    sw_error err;
    sw_status st = sw_cli_ensemble_is_single(n_paths, &w.dec)
                       ? sw_predictor_open(paths[0], &w.single, &err)
                       : sw_ensemble_open((const char *const *)paths, n_paths, &w.ensemble, &err);
    sw_paths_free(paths, n_paths);
    if (st) return sw_cli_fail("predict", sw_status_exit_code(st), "%s", err.msg);
    char **lines = malloc(sizeof(char *) * (size_t)batch);
    int n = 0;
    size_t line_no = 0, first = 1;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    rc = lines ? 0 : sw_cli_fail("predict", 1, "out of memory");
    while (!rc && (len = getline(&buf, &cap, stdin)) >= 0) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = 0;
        line_no++;
        if (n == 0) first = line_no;
        lines[n++] = strdup(buf);
        if (n == batch) {
            rc = flush(&w, lines, n, first);
            n = 0;
        }
    }
    if (!rc && n) rc = flush(&w, lines, n, first);
    free(buf);
    free(lines);
    sw_predictor_free(w.single);
    sw_ensemble_free(w.ensemble);
    return rc;
}
