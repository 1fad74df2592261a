/* stopwise runs import: curves recorded by other tools (or by stopwise) as
 * completed runs in the store, so that `tune --runs` and `runs ls/show`
 * see them. Every file is read and checked before the first is recorded,
 * and each is recorded in one transaction (sw_store_run_import), so bad
 * input leaves the store as it was and a run is never half there. */
#include "cli/curve_options.h"
#include "cli/options.h"
#include "cli/runs.h"
#include "stopwise/base.h"
#include "stopwise/stop.h"
#include "stopwise/store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    {"task", SW_CLI_STRING, "KEY", "none",
     "the task key the runs are recorded under\n(tune --runs task=KEY tunes on them)"},
    SW_CLI_CURVE_OPTIONS,
    SW_RUNS_STORE_OPTIONS,
};
static int run(const sw_cli_args *a);

static const sw_cli_command command = {
    "runs import",
    "record curve CSVs (other tools' or stopwise's) as completed runs",
    "stopwise runs import FILE... [--task KEY] [--store PATH|URL] [--format NAME] [--x step|epoch|tokens]\n"
    "                           [--tokens-per-step N] [--metric NAME] [--mode max|min] [--scale K] [--json]",
    "Each FILE becomes one completed run (name: the file as given) with its curve as the run's\n"
    "evaluations: the metric in val_em, oriented to be maximised (--mode min negates it: val_em =\n"
    "-loss), val_loss and train_loss where the file has them (Keras's loss is train_loss), every\n"
    "other numeric column as a metric of its own name. Tags: imported_from (the file) and\n"
    "import_format; the run's config records the whole mapping. Every file is read before the\n"
    "first is recorded, so one bad file records none (exit 2, naming its line); each run is\n"
    "written in one transaction, never half. Importing a file twice makes two runs.\n"
    "--json prints {\"imported\":[{\"file\",\"run_id\",\"format\",\"metric\",\"target\",\"negated\",\n"
    "\"evaluations\"}]}.",
    options,
    sizeof options / sizeof *options,
    1,
    -1,
};
const sw_runs_sub sw_runs_import = {&command, run};

/* A curve as the store's evaluations; what they point at is the curve's. */
typedef struct converted {
    sw_store_eval *evals;
    sw_store_metric *metrics; /* n * n_columns, each evaluation's slice */
    size_t n;
    sw_store_run_result res;
} converted;

static void converted_free(converted *c)
{
    free(c->evals);
    free(c->metrics);
}

static int convert(const sw_curve *c, converted *out)
{
    memset(out, 0, sizeof *out);
    size_t n = sw_curve_len(c), nc = sw_curve_n_columns(c);
    out->evals = calloc(n ? n : 1, sizeof *out->evals);
    out->metrics = calloc((n ? n : 1) * (nc ? nc : 1), sizeof *out->metrics);
    if (!out->evals || !out->metrics) return 0;
    const unsigned char *pe, *pv, *pt;
    const double *em = sw_curve_column(c, "val_em", &pe), *vl = sw_curve_column(c, "val_loss", &pv),
                 *tl = sw_curve_column(c, "train_loss", &pt);
    out->res = (sw_store_run_result){.status = SW_RUN_COMPLETED, .best_em = NAN, .val_em = NAN, .test_em = NAN};
    for (size_t i = 0; i < n; i++) {
        sw_store_eval *e = &out->evals[i];
        e->tokens = sw_curve_tokens(c)[i];
        e->step = sw_curve_steps(c)[i];
        /* the store's wall_s holds a number: 0 where the file had no clock (Keras) */
        e->wall_s = isnan(sw_curve_walls(c)[i]) ? 0 : sw_curve_walls(c)[i];
        e->val_em = em && pe[i] ? em[i] : NAN;
        e->val_loss = vl && pv[i] ? vl[i] : NAN;
        e->train_loss = tl && pt[i] ? tl[i] : NAN;
        sw_store_metric *m = out->metrics + i * nc;
        for (size_t k = 0; k < nc; k++) {
            const char *name = sw_curve_column_name(c, k);
            const unsigned char *p;
            const double *v = sw_curve_column(c, name, &p);
            if (!p[i] || !strcmp(name, "val_em") || !strcmp(name, "val_loss") || !strcmp(name, "train_loss")) continue;
            m[e->n_metrics++] = (sw_store_metric){name, v[i]};
        }
        e->metrics = m;
        if (isfinite(e->val_em) && !(e->val_em <= out->res.best_em)) { /* the first best */
            out->res.best_em = e->val_em;
            out->res.best_tokens = e->tokens;
        }
    }
    out->res.tokens = n ? sw_curve_tokens(c)[n - 1] : 0;
    out->n = n;
    return 1;
}

/* The run's config: where the curve came from and how it was read. */
static char *config_json(const char *file, const sw_curve_csv_options *opt, const sw_curve_csv_info *info)
{
    json_t *m = json_object();
    json_object_set_new(m, "file", json_string(file));
    json_object_set_new(m, "format", json_string(sw_curve_format_name(info->format)));
    json_object_set_new(m, "metric", json_string(info->metric[0] ? info->metric : info->target));
    json_object_set_new(m, "mode", json_string(info->maximize ? "max" : "min"));
    json_object_set_new(m, "target", json_string(info->target));
    json_object_set_new(m, "negated", json_boolean(info->negated));
    json_object_set_new(m, "scale", json_real(opt->scale ? opt->scale : 1));
    json_object_set_new(m, "x", json_string(sw_curve_axis_name(info->x)));
    json_object_set_new(m, "x_column", json_string(info->x_column));
    json_object_set_new(m, "tokens_per_step",
                        json_integer((json_int_t)(opt->tokens_per_step ? opt->tokens_per_step : 1)));
    json_t *o = json_pack("{s:o}", "import", m);
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

static sw_store *open_for_writing(const sw_cli_args *a, const char *cmd, int *code)
{
    const char *loc = sw_cli_given(a, "store") ? sw_cli_str(a, "store") : getenv("STOPWISE_STORE");
    if (!loc || !*loc) loc = "./stopwise.db";
    sw_store *s = NULL;
    sw_error err = {0};
    sw_status st = sw_store_open(loc, &s, &err); /* created if absent */
    if (st) *code = sw_cli_fail(cmd, sw_status_exit_code(st), "%s", err.msg);
    return s;
}

static int run(const sw_cli_args *a)
{
    const char *cmd = "runs import";
    int n = a->n_positional, code = 0, json = sw_cli_flag(a, "json");
    sw_curve_csv_options o; /* the target is val_em, maximised: what the store and the tuner read as EM */
    if ((code = sw_cli_curve_options(cmd, a, &o)) >= 0) return code;
    code = 0;
    sw_curve **curves = calloc((size_t)n, sizeof *curves);
    sw_curve_csv_info *info = calloc((size_t)n, sizeof *info);
    converted *conv = calloc((size_t)n, sizeof *conv);
    if (!curves || !info || !conv) {
        free(curves), free(info), free(conv);
        return sw_cli_fail(cmd, 1, "out of memory");
    }
    /* every file first: one bad file records none */
    sw_cli_curve_notes notes = {0};
    int read = 0;
    for (int i = 0; i < n && !code; i++, read++) {
        sw_error err;
        sw_status st = sw_cli_curve_read(cmd, a->positional[i], &o, &notes, &curves[i], &info[i], &err);
        if (st) code = sw_cli_fail(cmd, sw_status_exit_code(st), "%s (nothing imported)", err.msg);
        else if (!convert(curves[i], &conv[i])) code = sw_cli_fail(cmd, 1, "out of memory");
    }
    sw_store *s = code ? NULL : open_for_writing(a, cmd, &code);
    json_t *list = json_array();
    const char *task = sw_cli_given(a, "task") ? sw_cli_str(a, "task") : "";
    for (int i = 0; s && i < n && !code; i++) {
        const char *file = a->positional[i];
        char *config = config_json(file, &o, &info[i]);
        sw_store_kv tags[] = {{"imported_from", (char *)file},
                              {"import_format", (char *)sw_curve_format_name(info[i].format)}};
        sw_store_run_info ri = {.name = file, .task = task, .config_json = config};
        int64_t id = 0;
        sw_status st = sw_store_run_import(s, &ri, &conv[i].res, conv[i].evals, conv[i].n, tags, 2, &id);
        free(config);
        if (st) {
            code = sw_cli_fail(cmd, sw_status_exit_code(st), "%s: %s (%d of %d files imported before it)", file,
                               sw_store_errmsg(s), i, n);
            break;
        }
        json_t *one = json_object();
        json_object_set_new(one, "file", json_string(file));
        json_object_set_new(one, "run_id", json_integer((json_int_t)id));
        json_object_set_new(one, "format", json_string(sw_curve_format_name(info[i].format)));
        json_object_set_new(one, "metric", json_string(info[i].metric[0] ? info[i].metric : info[i].target));
        json_object_set_new(one, "target", json_string(info[i].target));
        json_object_set_new(one, "negated", json_boolean(info[i].negated));
        json_object_set_new(one, "evaluations", json_integer((json_int_t)conv[i].n));
        json_array_append_new(list, one);
        if (!json) {
            char tok[32];
            printf("imported %s as run %lld: %s, %zu evaluations to %s tokens, %s%s -> %s\n", file, (long long)id,
                   sw_curve_format_name(info[i].format), conv[i].n,
                   sw_format_tokens(conv[i].res.tokens, tok, sizeof tok), info[i].negated ? "-" : "",
                   info[i].metric[0] ? info[i].metric : info[i].target, info[i].target);
        }
    }
    if (json && !code) sw_runs_print_json(json_pack("{s:o}", "imported", list));
    else json_decref(list);
    sw_store_close(s);
    for (int i = 0; i < read; i++) {
        sw_curve_free(curves[i]);
        converted_free(&conv[i]);
    }
    free(curves);
    free(info);
    free(conv);
    return code;
}
