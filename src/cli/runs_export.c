/* stopwise runs export: runs or their curves as CSV or JSON Lines. */
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
    {"format", SW_CLI_STRING, "F", "csv", "csv (RFC 4180, a header line) or jsonl (one JSON object a line)"},
    {"curves", SW_CLI_FLAG, NULL, NULL, "export the evaluations of the runs instead of the runs"},
    {"run", SW_CLI_MULTI, "ID", NULL, "only this run; repeatable (default: every run)"},
    {"output", SW_CLI_STRING, "FILE", "-", "write here (written atomically); - is stdout"},
    SW_RUNS_STORE_OPTIONS,
};
static int run(const sw_cli_args *a);

static const sw_cli_command command = {
    "runs export", "export runs or their curves as CSV or JSON Lines", "stopwise runs export [options]",
    "With --json the records are printed as one JSON object ({\"runs\": [...]} or\n"
    "{\"evaluations\": [...]}), or, with --output FILE, a summary of what was written.",
    options, sizeof options / sizeof *options, 0, 0};
const sw_runs_sub sw_runs_export = {&command, run};

static json_t *eval_json(int64_t run_id, size_t i, const sw_store_eval *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "run_id", json_integer((json_int_t)run_id));
    json_object_set_new(o, "eval", json_integer((json_int_t)i));
    json_object_set_new(o, "tokens", json_integer((json_int_t)e->tokens));
    json_object_set_new(o, "step", json_integer((json_int_t)e->step));
    json_object_set_new(o, "wall_s", sw_json_num(e->wall_s));
    json_object_set_new(o, "val_em", sw_json_num(e->val_em));
    json_object_set_new(o, "val_loss", sw_json_num(e->val_loss));
    json_object_set_new(o, "train_loss", sw_json_num(e->train_loss));
    json_t *m = json_object();
    for (size_t k = 0; k < e->n_metrics; k++) json_object_set_new(m, e->metrics[k].name, sw_json_num(e->metrics[k].value));
    json_object_set_new(o, "metrics", m);
    return o;
}

static int run(const sw_cli_args *a)
{
    const char *cmd = "runs export";
    const char *format = sw_cli_str(a, "format");
    int jsonl = !strcmp(format, "jsonl");
    if (!jsonl && strcmp(format, "csv")) return sw_cli_fail(cmd, 2, "--format expects csv or jsonl, got '%s'", format);
    const char **id_text;
    int nid = sw_cli_multi(a, "run", &id_text);
    int64_t ids[SW_CLI_MAX_MULTI];
    for (int i = 0; i < nid; i++) {
        int code = sw_runs_parse_id(cmd, id_text[i], &ids[i]);
        if (code) return code;
    }
    int code = 0;
    sw_store *s = sw_runs_open_store(a, cmd, &code);
    if (!s) return code;
    sw_store_run *runs = NULL;
    size_t n = 0;
    sw_store_curve *curves = NULL;
    sw_status st = SW_OK;
    for (int i = 0; i < nid && !st; i++) { /* every named run must exist */
        sw_store_run r;
        st = sw_store_run_get(s, ids[i], &r);
        sw_store_run_clear(&r);
    }
    sw_store_run_filter f = {.ids = nid ? ids : NULL, .n_ids = (size_t)nid};
    if (!st) st = sw_store_runs_list(s, &f, &runs, &n);
    int want_curves = sw_cli_flag(a, "curves");
    if (!st && want_curves && n) {
        curves = calloc(n, sizeof *curves);
        if (!curves) st = SW_ERR_NOMEM;
        /* oldest first reads naturally in a curve file */
        /* a trunk's curve carries its branches' annealed columns at the fork rows */
        for (size_t i = 0; !st && i < n; i++) st = sw_store_curve_get_joined(s, runs[n - 1 - i].id, &curves[i]);
    }
    if (st) {
        code = sw_runs_store_fail(cmd, s, st);
        goto done;
    }
    const char *out = sw_cli_str(a, "output");
    int to_stdout = !strcmp(out, "-");
    size_t records = 0;
    if (want_curves)
        for (size_t i = 0; i < n; i++) records += curves[i].n;
    else records = n;
    if (sw_cli_flag(a, "json") && to_stdout) {
        json_t *arr = json_array();
        if (want_curves) {
            for (size_t c = 0; c < n; c++)
                for (size_t i = 0; i < curves[c].n; i++)
                    json_array_append_new(arr, eval_json(curves[c].run_id, i, &curves[c].evals[i]));
        } else {
            for (size_t i = n; i-- > 0;) json_array_append_new(arr, sw_runs_run_json(&runs[i], 1));
        }
        sw_runs_print_json(json_pack("{s:o}", want_curves ? "evaluations" : "runs", arr));
        goto done;
    }
    sw_atomic_file af;
    FILE *fp = stdout;
    if (!to_stdout) {
        sw_error err = {0};
        if (sw_atomic_file_open(&af, out, &err)) {
            code = sw_cli_fail(cmd, 1, "%s", err.msg);
            goto done;
        }
        fp = sw_atomic_file_fp(&af);
    }
    if (want_curves && jsonl) {
        for (size_t c = 0; c < n; c++)
            for (size_t i = 0; i < curves[c].n; i++) {
                json_t *o = eval_json(curves[c].run_id, i, &curves[c].evals[i]);
                json_dumpf(o, fp, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
                fputc('\n', fp);
                json_decref(o);
            }
    } else if (want_curves) {
        sw_runs_csv_curves(fp, curves, n);
    } else if (jsonl) {
        for (size_t i = n; i-- > 0;) {
            json_t *o = sw_runs_run_json(&runs[i], 1);
            json_dumpf(o, fp, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
            fputc('\n', fp);
            json_decref(o);
        }
    } else {
        /* oldest first, like the curves */
        sw_store_run *rev = n ? malloc(n * sizeof *rev) : NULL;
        for (size_t i = 0; i < n; i++) rev[i] = runs[n - 1 - i];
        sw_runs_csv_runs(fp, rev, n);
        free(rev);
    }
    if (!to_stdout) {
        sw_error err = {0};
        if (sw_atomic_file_commit(&af, &err)) {
            code = sw_cli_fail(cmd, 1, "%s", err.msg);
            goto done;
        }
        if (sw_cli_flag(a, "json"))
            sw_runs_print_json(json_pack("{s:s, s:s, s:s, s:I}", "output", out, "format", format, "records",
                                 want_curves ? "evaluations" : "runs", "count", (json_int_t)records));
        else fprintf(stderr, "wrote %zu %s to %s\n", records, want_curves ? "evaluations" : "runs", out);
    } else if (fflush(stdout) != 0) {
        code = sw_cli_fail(cmd, 1, "writing to stdout failed");
    }
done:
    if (curves)
        for (size_t i = 0; i < n; i++) sw_store_curve_clear(&curves[i]);
    free(curves);
    sw_store_run_list_free(runs, n);
    sw_store_close(s);
    return code;
}
