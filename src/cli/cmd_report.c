/* stopwise report: the dashboard's view of a run, a tuned task or a task's
 * runs as one self-contained HTML file (ui/report.c does the work). */
#include "cli/commands.h"
#include "cli/options.h"
#include "ui/ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    {"out", SW_CLI_STRING, "FILE.html", NULL, "where to write the report (required; -o FILE.html is the same)"},
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db",
     "the store: an SQLite file, or a postgresql:// URL; opened read-only"},
};

static const sw_cli_command command = {
    .name = "report",
    .synopsis = "write a run's, a tuned task's or a task's runs' dashboard view as one HTML file",
    .usage = "stopwise report RUN|TASK -o FILE.html [--store PATH|URL]",
    .details = "RUN: a run id: its view (learning curves, best checkpoint, stop and reason,\n"
               "cooldown, forecast band, config). TASK: a tuned task key (as `stopwise tune`\n"
               "saved it): its tuning view (the policy, cross-validation per family, the Pareto\n"
               "frontier, online audits); else a task name of runs (runs ls's TASK): the table of\n"
               "its runs (up to 1000; sortable in the file) with the 20 newest runs' views and\n"
               "their comparison.\n"
               "The file needs nothing else: the page's scripts, styles and the data are inside\n"
               "it, so it opens offline and can be attached to a review. docs/UI.md.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 1,
    .max_positional = 1,
};

int sw_cmd_report(int argc, char **argv)
{
    /* -o FILE, the compilers' spelling the issue asked for, is --out FILE: the
     * one short option, mapped here so the option table stays the only
     * definition */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) return sw_cli_fail("report", 1, "out of memory");
    for (int i = 0; i < argc; i++) args[i] = !strcmp(argv[i], "-o") ? "--out" : argv[i];
    sw_cli_args a;
    int code = sw_cli_parse(&command, argc, args, &a);
    if (code >= 0) {
        sw_cli_args_free(&a);
        free(args);
        return code;
    }
    const char *out = sw_cli_str(&a, "out"), *what = a.positional[0];
    const char *loc = sw_cli_given(&a, "store") ? sw_cli_str(&a, "store") : getenv("STOPWISE_STORE");
    if (!loc || !*loc) loc = "./stopwise.db";
    if (!out || !*out) code = sw_cli_fail("report", 2, "-o FILE.html (or --out) is needed: where to write the report");
    else {
        sw_store *s = NULL;
        sw_error err = {0};
        sw_status st = sw_store_open_read_only(loc, NULL, &s, &err);
        if (!st) st = sw_ui_report_write(s, what, out, &err);
        sw_store_close(s);
        if (st) code = sw_cli_fail("report", sw_status_exit_code(st), "%s", err.msg);
        else {
            fprintf(stderr, "stopwise report: wrote %s\n", out);
            code = 0;
        }
    }
    sw_cli_args_free(&a);
    free(args);
    return code;
}
