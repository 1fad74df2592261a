/* stopwise predict: answers stdin lines with a checkpoint, one per line. */
#include "cli/commands.h"
#include "cli/options.h"
#include "stopwise/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    {"model", SW_CLI_STRING, "CKPT", NULL, "a checkpoint written by stopwise train (.safetensors)"},
    {"batch", SW_CLI_INT, "N", "256", "lines decoded together"},
};

static const sw_cli_command command = {
    .name = "predict",
    .synopsis = "answer standard-input lines with a checkpoint, one answer per line",
    .usage = "stopwise predict --model CKPT < inputs.txt",
    .details = "Sequence models read one input per line (e.g. a word) and print the decoded\n"
               "target (e.g. its phones). Classifiers read comma-separated feature values and\n"
               "print the class name.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

static int flush(sw_predictor *p, char **lines, int n, size_t first_line)
{
    char **answers = calloc((size_t)n, sizeof *answers);
    sw_error err;
    sw_status st = sw_predictor_run(p, (const char *const *)lines, n, first_line, answers, &err);
    for (int i = 0; i < n; i++) {
        if (!st) puts(answers[i]);
        free(answers[i]);
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
    if (rc >= 0) return rc;
    sw_cli_args_free(&a);
    const char *model = sw_cli_str(&a, "model");
    long long batch = sw_cli_int(&a, "batch");
    if (!model) return sw_cli_fail("predict", 2, "--model CKPT is required");
    if (batch < 1 || batch > 4096) return sw_cli_fail("predict", 2, "--batch must be 1..4096");
    sw_predictor *p;
    sw_error err;
    sw_status st = sw_predictor_open(model, &p, &err);
    if (st) return sw_cli_fail("predict", sw_status_exit_code(st), "%s", err.msg);
    char **lines = malloc(sizeof(char *) * (size_t)batch);
    int n = 0;
    size_t line_no = 0, first = 1;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    rc = 0;
    while (!rc && (len = getline(&buf, &cap, stdin)) >= 0) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = 0;
        line_no++;
        if (n == 0) first = line_no;
        lines[n++] = strdup(buf);
        if (n == batch) {
            rc = flush(p, lines, n, first);
            n = 0;
        }
    }
    if (!rc && n) rc = flush(p, lines, n, first);
    free(buf);
    free(lines);
    sw_predictor_free(p);
    return rc;
}
