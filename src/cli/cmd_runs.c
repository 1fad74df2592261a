/* stopwise runs ls | show | compare | export | rm | import: reads, removes
 * and imports runs in the store. One file per subcommand (runs_*.c), each with its own option
 * table; this file only dispatches, and `runs --help` is printed from the
 * subcommands' tables. */
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_runs_sub *const subs[] = {&sw_runs_ls,     &sw_runs_show, &sw_runs_compare,
                                          &sw_runs_export, &sw_runs_rm,   &sw_runs_import};
#define N_SUBS (sizeof subs / sizeof *subs)

static void usage(FILE *f, int full)
{
    fprintf(f, "stopwise runs: list, show, compare, export, remove and import runs in the store\n\nusage:\n");
    for (size_t i = 0; i < N_SUBS; i++) fprintf(f, "  %s\n", subs[i]->cmd->usage);
    if (!full) {
        fprintf(f, "\n'stopwise runs --help' or 'stopwise runs SUBCOMMAND --help' lists the options and defaults.\n");
        return;
    }
    for (size_t i = 0; i < N_SUBS; i++) {
        fprintf(f, "\n%s: %s\n", subs[i]->cmd->usage, subs[i]->cmd->synopsis);
        sw_cli_print_options(subs[i]->cmd, f);
    }
}

int sw_cmd_runs(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr, 0);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout, 1);
        return 0;
    }
    const sw_runs_sub *sub = NULL;
    for (size_t i = 0; i < N_SUBS && !sub; i++)
        if (!strcmp(name, subs[i]->cmd->name + strlen("runs "))) sub = subs[i];
    if (!sub) {
        fprintf(stderr, "stopwise runs: unknown subcommand '%s'\n\n", name);
        usage(stderr, 0);
        return 2;
    }
    sw_cli_args *a = calloc(1, sizeof *a); /* large: keep it off the stack */
    if (!a) return sw_cli_fail("runs", 1, "out of memory");
    int code = sw_cli_parse(sub->cmd, argc - 1, argv + 1, a);
    if (code < 0) code = sub->run(a);
    sw_cli_args_free(a);
    free(a);
    return code;
}
