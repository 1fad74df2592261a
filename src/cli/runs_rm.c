/* stopwise runs rm: removes runs with their curves, tags and records, all
 * or nothing. */
#include "cli/options.h"
#include "cli/runs.h"
#include "stopwise/base.h"
#include "stopwise/store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {SW_RUNS_STORE_OPTIONS};
static int run(const sw_cli_args *a);

static const sw_cli_command command = {"runs rm", "remove runs with their curves, tags and records",
                                       "stopwise runs rm ID... [options]", NULL, options,
                                       sizeof options / sizeof *options, 1, -1};
const sw_runs_sub sw_runs_rm = {&command, run};

static int run(const sw_cli_args *a)
{
    const char *cmd = "runs rm";
    int n = a->n_positional;
    int64_t *ids = calloc((size_t)n, sizeof *ids);
    if (!ids) return sw_cli_fail(cmd, 1, "out of memory");
    int code = 0;
    for (int i = 0; i < n && !code; i++) code = sw_runs_parse_id(cmd, a->positional[i], &ids[i]);
    sw_store *s = code ? NULL : sw_runs_open_store(a, cmd, &code);
    if (!s) {
        free(ids);
        return code;
    }
    /* all or nothing: check every id before removing any */
    for (int i = 0; i < n && !code; i++) {
        sw_store_run r;
        sw_status st = sw_store_run_get(s, ids[i], &r);
        sw_store_run_clear(&r);
        if (st) code = sw_runs_store_fail(cmd, s, st);
    }
    json_t *removed = json_array();
    for (int i = 0; i < n && !code; i++) {
        sw_status st = sw_store_run_remove(s, ids[i]);
        if (st) code = sw_runs_store_fail(cmd, s, st);
        else {
            json_array_append_new(removed, json_integer((json_int_t)ids[i]));
            if (!sw_cli_flag(a, "json")) printf("removed run %lld\n", (long long)ids[i]);
        }
    }
    if (sw_cli_flag(a, "json") && !code) sw_runs_print_json(json_pack("{s:o}", "removed", removed));
    else json_decref(removed);
    sw_store_close(s);
    free(ids);
    return code;
}
