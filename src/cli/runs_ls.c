/* stopwise runs ls: the runs in the store, newest first, filtered. */
#include "cli/options.h"
#include "cli/runs.h"
#include "stopwise/base.h"
#include "stopwise/store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    {"task", SW_CLI_STRING, "TASK", NULL, "only runs of this task key"},
    {"status", SW_CLI_STRING, "S", NULL,
     "only runs with this status: running, completed, stopped, pruned,\ndiverged, failed or crashed (running, "
     "heartbeat older than 60 s)"},
    {"study", SW_CLI_STRING, "NAME", NULL, "only the trials of this study"},
    {"tag", SW_CLI_MULTI, "K=V", NULL, "only runs with this tag (K alone: with the key); repeatable"},
    {"limit", SW_CLI_INT, "N", "50", "at most N runs, newest first (0: all)"},
    SW_RUNS_STORE_OPTIONS,
};

static int run(const sw_cli_args *a);

static const sw_cli_command command = {"runs ls", "list runs, newest first", "stopwise runs ls [options]", NULL,
                                       options, sizeof options / sizeof *options, 0, 0};
const sw_runs_sub sw_runs_ls = {&command, run};

static int run(const sw_cli_args *a)
{
    const char *cmd = "runs ls";
    sw_store_run_filter f = {0};
    f.task = sw_cli_str(a, "task");
    f.study = sw_cli_str(a, "study");
    if (sw_cli_str(a, "status")) {
        if (sw_run_status_parse(sw_cli_str(a, "status"), &f.status))
            return sw_cli_fail(cmd, 2,
                               "--status expects running, completed, stopped, pruned, diverged, failed or crashed, "
                               "got '%s'",
                               sw_cli_str(a, "status"));
        f.has_status = 1;
    }
    long long limit = sw_cli_int(a, "limit");
    if (limit < 0) return sw_cli_fail(cmd, 2, "--limit expects 0 or more, got %lld", limit);
    f.limit = (size_t)limit;
    const char **tags;
    int nt = sw_cli_multi(a, "tag", &tags);
    sw_store_kv kv[SW_CLI_MAX_MULTI];
    char buf[SW_CLI_MAX_MULTI][512];
    for (int i = 0; i < nt; i++) {
        snprintf(buf[i], sizeof buf[i], "%s", tags[i]);
        char *eq = strchr(buf[i], '=');
        if (eq) *eq = 0;
        if (!buf[i][0]) return sw_cli_fail(cmd, 2, "--tag expects K=V or K, got '%s'", tags[i]);
        kv[i].key = buf[i];
        kv[i].value = eq ? eq + 1 : NULL;
    }
    f.tags = kv;
    f.n_tags = (size_t)nt;
    int code = 0;
    sw_store *s = sw_runs_open_store(a, cmd, &code);
    if (!s) return code;
    sw_store_run *runs;
    size_t n;
    sw_status st = sw_store_runs_list(s, &f, &runs, &n);
    if (st) {
        code = sw_runs_store_fail(cmd, s, st);
        sw_store_close(s);
        return code;
    }
    if (sw_cli_flag(a, "json")) {
        json_t *o = json_object(), *arr = json_array();
        json_object_set_new(o, "store", json_string(sw_store_location(s)));
        for (size_t i = 0; i < n; i++) json_array_append_new(arr, sw_runs_run_json(&runs[i], 0));
        json_object_set_new(o, "count", json_integer((json_int_t)n));
        json_object_set_new(o, "runs", arr);
        sw_runs_print_json(o);
    } else if (!n) {
        fprintf(stderr, "no runs in %s%s\n", sw_store_location(s), f.task || f.has_status || f.study || nt ? " match" : "");
    } else {
        printf("%6s  %-20s %-14s %-9s %8s %8s %6s  %-20s %s\n", "ID", "NAME", "TASK", "STATUS", "TOKENS", "BEST EM",
               "EVALS", "STARTED (UTC)", "STOP");
        for (size_t i = 0; i < n; i++) {
            const sw_store_run *r = &runs[i];
            char tok[32], em[32], when[32], stop[1024];
            printf("%6lld  %-20.20s %-14.14s %-9s %8s %8s %6lld  %-20s %s\n", (long long)r->id, r->name,
                   r->task, sw_run_status_str(r->status), sw_format_tokens(r->tokens, tok, sizeof tok),
                   sw_runs_em_text(r->best_em, em, sizeof em), (long long)r->n_evals, sw_runs_iso(r->started, when, sizeof when),
                   sw_runs_stop_text(r, stop, sizeof stop));
        }
    }
    sw_store_run_list_free(runs, n);
    sw_store_close(s);
    return 0;
}
