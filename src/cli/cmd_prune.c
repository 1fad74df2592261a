/* stopwise prune: structured pruning of a checkpoint into a smaller dense
 * model (docs/PRUNING.md). The work is sw_checkpoint_prune's. */
#include "cli/commands.h"
#include "cli/options.h"
#include "stopwise/train.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    {"model", SW_CLI_STRING, "CKPT", NULL, "a checkpoint written by stopwise train (.safetensors)"},
    {"out", SW_CLI_STRING, "PATH", NULL, "where the pruned checkpoint goes (written atomically)"},
    {"neurons", SW_CLI_DOUBLE, "KEEP", "1",
     "keep this fraction of every hidden layer's neurons (mlp hidden layers, gpt\n"
     "feed-forward blocks): round(KEEP x width), at least 1, the highest scores\n"
     "s_u = ||in_u||_2 x ||out_u||_2 (in: the neuron's input weights and bias; out:\n"
     "its output weights); 1 = none"},
    {"heads", SW_CLI_DOUBLE, "KEEP", "1",
     "keep this fraction of every gpt block's attention heads, scored the same way\n"
     "(in: the head's value rows and biases; out: its columns of the projection)"},
    {"json", SW_CLI_FLAG, NULL, NULL,
     "print one JSON object on stdout: out, model, params_before, params_after"},
};

static const sw_cli_command command = {
    .name = "prune",
    .synopsis = "prune a checkpoint's neurons or heads into a smaller dense model",
    .usage = "stopwise prune --model CKPT --out PATH [--neurons KEEP] [--heads KEEP] [--json]",
    .details =
        "Zeroes the lowest-scoring units, then drops every unit that computes nothing\n"
        "(input weights and bias all zero, or output weights all zero): the result has\n"
        "smaller tensors and a model spec with the new widths (mlp hidden=..., gpt ff=,\n"
        "heads=, hd=), computes what the masked model computes, and loads with eval and\n"
        "predict. Without --neurons and --heads it only compacts: a model trained with\n"
        "train --prune neurons:... or heads:... (whose pruned units are already zero)\n"
        "becomes its smaller dense form, output for output. A gpt keeps the same number\n"
        "of units in every block. Fine-tune the result with train to recover EM.\n"
        "Exit codes: 0 success, 1 failure, 2 bad input.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

int sw_cmd_prune(int argc, char **argv)
{
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, argv, &a);
    if (rc >= 0) return rc;
    sw_cli_args_free(&a);
    const char *model = sw_cli_str(&a, "model"), *out = sw_cli_str(&a, "out");
    double neurons = sw_cli_double(&a, "neurons"), heads = sw_cli_double(&a, "heads");
    if (!model || !out) return sw_cli_fail("prune", 2, "--model CKPT and --out PATH are required");
    if (!(neurons > 0 && neurons <= 1))
        return sw_cli_fail("prune", 2, "--neurons %g: expected a keep fraction in (0, 1]", neurons);
    if (!(heads > 0 && heads <= 1))
        return sw_cli_fail("prune", 2, "--heads %g: expected a keep fraction in (0, 1]", heads);
    if (!strcmp(model, out)) return sw_cli_fail("prune", 2, "--out must not be the --model checkpoint itself");
    size_t before = 0, after = 0;
    char spec[512];
    sw_error err;
    sw_status st = sw_checkpoint_prune(model, out, neurons, heads, &before, &after, spec, sizeof spec, &err);
    if (st) return sw_cli_fail("prune", sw_status_exit_code(st), "%s", err.msg);
    if (sw_cli_flag(&a, "json")) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "in", model, "out", out, "model", spec, "params_before",
                              (json_int_t)before, "params_after", (json_int_t)after);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s) return sw_cli_fail("prune", 1, "out of memory writing the result");
        puts(s);
        free(s);
    } else {
        printf("pruned      %s\nwritten     %s\nparameters  %zu of %zu (%.1f%%)\nmodel       %s\n", model, out, after,
               before, before ? 100.0 * (double)after / (double)before : 0.0, spec);
    }
    return 0;
}
