/* stopwise <command>: dispatches to the command; no logic of its own. */
#include "cli/commands.h"
#include "cli/wait_policy.h"
#include "stopwise/base.h"
#include "stopwise/nn.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *synopsis;
} commands[] = {
    {"train", sw_cmd_train, "train a model, evaluating EM and stopping by a policy"},
    {"eval", sw_cmd_eval, "evaluate a checkpoint on a dataset split"},
    {"predict", sw_cmd_predict, "answer stdin lines with a checkpoint"},
    {"replay", sw_cmd_replay, "replay a stopping policy over recorded curves"},
    {"tune", sw_cmd_tune, "tune stopping thresholds from learning curves"},
    {"runs", sw_cmd_runs, "list, show, compare, export, remove and import runs"},
    {"ui", sw_cmd_ui, "serve a live dashboard of runs, stops, tuned policies and studies"},
    {"report", sw_cmd_report, "write a run's or a task's dashboard view as one HTML file"},
    {"select-features", sw_cmd_select_features, "rank the feature columns of CSV data and keep the most useful"},
    {"search", sw_cmd_search, "search train options, pruning weak trials in tokens; shared studies"},
    {"prune", sw_cmd_prune, "prune a checkpoint's neurons or heads into a smaller dense model"},
};

static void usage(FILE *f)
{
    fprintf(f, "stopwise %s: token-efficient training with tuned early stopping\n\n"
               "usage: stopwise <command> [options]\n\ncommands:\n", sw_version());
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].synopsis);
    fprintf(f, "\n'stopwise <command> --help' lists a command's options and defaults.\n"
               "Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input.\n");
}

int main(int argc, char **argv)
{
    /* Idle OpenMP threads sleep instead of spinning, unless the user chose
     * (re-executes once; see cli/wait_policy.c). */
    sw_cli_wait_policy_apply(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("stopwise %s\n", sw_version());
        return 0;
    }
    /* The process's one BLAS set-up: a fast kernel before the first matrix
     * product (respects the user's own BLIS_ARCH_TYPE / OPENBLAS_CORETYPE),
     * all cores; a command's --threads changes the count (sw_threads_set). */
    sw_blas_init(0);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "stopwise: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
