/* stopwise eval: evaluates a checkpoint on a split of a dataset. */
#include "cli/commands.h"
#include "cli/options.h"
#include "stopwise/train.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    {"model", SW_CLI_STRING, "CKPT", NULL, "a checkpoint written by stopwise train (.safetensors)"},
    {"data", SW_CLI_STRING, "SPEC", NULL, "the dataset, as given to train"},
    {"split", SW_CLI_STRING, "NAME", "test", "train, val or test"},
    {"json", SW_CLI_FLAG, NULL, NULL, "print one JSON object on stdout: em, n, per (sequences), loss"},
};

static const sw_cli_command command = {
    .name = "eval",
    .synopsis = "evaluate a checkpoint: exact match (EM), loss and, for sequences, symbol error rate",
    .usage = "stopwise eval --model CKPT --data SPEC [--split test] [--json]",
    .details = "The dataset is split exactly as it was for training (the checkpoint records the\n"
               "split's seed and fractions) and encoded with the checkpoint's vocabulary.\n"
               "EM: % of examples whose whole answer equals a reference. PER: edit distance to\n"
               "the closest reference over its length, summed over examples, in %.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

int sw_cmd_eval(int argc, char **argv)
{
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, argv, &a);
    if (rc >= 0) return rc;
    sw_cli_args_free(&a);
    const char *model = sw_cli_str(&a, "model"), *data = sw_cli_str(&a, "data"), *split = sw_cli_str(&a, "split");
    if (!model || !data) return sw_cli_fail("eval", 2, "--model CKPT and --data SPEC are required");
    sw_split s;
    if (!strcmp(split, "train")) s = SW_SPLIT_TRAIN;
    else if (!strcmp(split, "val")) s = SW_SPLIT_VAL;
    else if (!strcmp(split, "test")) s = SW_SPLIT_TEST;
    else return sw_cli_fail("eval", 2, "--split must be train, val or test, not '%s'", split);
    sw_eval_result r;
    sw_error err;
    sw_status st = sw_evaluate_checkpoint(model, data, NULL, s, &r, &err);
    if (st) return sw_cli_fail("eval", sw_status_exit_code(st), "%s", err.msg);
    if (sw_cli_flag(&a, "json")) {
        char *text = sw_eval_result_json(&r, split);
        if (!text) return sw_cli_fail("eval", 1, "out of memory writing the result");
        puts(text);
        free(text);
    } else {
        printf("split  %s\nn      %zu\nEM     %.2f\nloss   %.4f\n", split, r.n, r.em, r.loss);
        if (r.per >= 0) printf("PER    %.2f\n", r.per);
        if (r.em_published >= 0) printf("EM     %.2f in the published form (no stress, ax = ah)\n", r.em_published);
    }
    return 0;
}
