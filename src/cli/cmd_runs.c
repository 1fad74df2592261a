/* stopwise runs ls | show | compare | export | rm: reads (and removes) runs
 * in the store. Each subcommand has its own option table; all take --store
 * and --json. */
#include "cli/commands.h"
#include "cli/options.h"
#include "stopwise/base.h"
#include "stopwise/store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_OPTION                                                                             \
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db",                    \
     "the store: an SQLite file, or a postgresql:// URL"},                                       \
    {                                                                                            \
        "json", SW_CLI_FLAG, NULL, NULL, "print one JSON object on stdout instead of text"       \
    }

static const sw_cli_option ls_options[] = {
    {"task", SW_CLI_STRING, "TASK", NULL, "only runs of this task key"},
    {"status", SW_CLI_STRING, "S", NULL,
     "only runs with this status: running, completed, stopped, pruned,\ndiverged, failed or crashed (running, "
     "heartbeat older than 60 s)"},
    {"study", SW_CLI_STRING, "NAME", NULL, "only the trials of this study"},
    {"tag", SW_CLI_MULTI, "K=V", NULL, "only runs with this tag (K alone: with the key); repeatable"},
    {"limit", SW_CLI_INT, "N", "50", "at most N runs, newest first (0: all)"},
    STORE_OPTION,
};
static const sw_cli_command ls_cmd = {"runs ls", "list runs, newest first", "stopwise runs ls [options]", NULL,
                                      ls_options, sizeof ls_options / sizeof *ls_options, 0, 0};

static const sw_cli_option show_options[] = {STORE_OPTION};
static const sw_cli_command show_cmd = {
    "runs show", "show a run: config, status, stop reason, curve summary", "stopwise runs show ID [options]", NULL,
    show_options, sizeof show_options / sizeof *show_options, 1, 1};

static const sw_cli_command compare_cmd = {
    "runs compare", "compare runs side by side", "stopwise runs compare ID ID... [options]", NULL,
    show_options, sizeof show_options / sizeof *show_options, 2, 16};

static const sw_cli_option export_options[] = {
    {"format", SW_CLI_STRING, "F", "csv", "csv (RFC 4180, a header line) or jsonl (one JSON object a line)"},
    {"curves", SW_CLI_FLAG, NULL, NULL, "export the evaluations of the runs instead of the runs"},
    {"run", SW_CLI_MULTI, "ID", NULL, "only this run; repeatable (default: every run)"},
    {"output", SW_CLI_STRING, "FILE", "-", "write here (written atomically); - is stdout"},
    STORE_OPTION,
};
static const sw_cli_command export_cmd = {
    "runs export", "export runs or their curves as CSV or JSON Lines", "stopwise runs export [options]",
    "With --json the records are printed as one JSON object ({\"runs\": [...]} or\n"
    "{\"evaluations\": [...]}), or, with --output FILE, a summary of what was written.",
    export_options, sizeof export_options / sizeof *export_options, 0, 0};

static const sw_cli_command rm_cmd = {"runs rm", "remove runs with their curves, tags and records",
                                      "stopwise runs rm ID... [options]", NULL, show_options,
                                      sizeof show_options / sizeof *show_options, 1, -1};

/* ---- helpers ---------------------------------------------------------------------- */

static sw_store *open_store(const sw_cli_args *a, const char *cmd, int *code)
{
    const char *loc = sw_cli_given(a, "store") ? sw_cli_str(a, "store") : getenv("STOPWISE_STORE");
    if (!loc || !*loc) loc = "./stopwise.db";
    sw_store_options o;
    sw_store_options_default(&o);
    o.create = 0; /* reading: a missing store is an error, not a new empty one */
    sw_store *s = NULL;
    sw_error err = {0};
    sw_status st = sw_store_open_with(loc, &o, &s, &err);
    if (st) *code = sw_cli_fail(cmd, sw_status_exit_code(st), "%s", err.msg);
    return s;
}

static int parse_id(const char *cmd, const char *text, int64_t *id)
{
    long long v;
    if (sw_parse_int(text, 1, INT64_MAX, &v)) return sw_cli_fail(cmd, 2, "'%s' is not a run id (a positive whole number)", text);
    *id = v;
    return 0;
}

static int store_fail(const char *cmd, sw_store *s, sw_status st)
{
    return sw_cli_fail(cmd, sw_status_exit_code(st), "%s", sw_store_errmsg(s));
}

static char *iso(double t, char *buf, size_t len)
{
    if (isnan(t)) {
        snprintf(buf, len, "-");
        return buf;
    }
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static json_t *jreal(double d) { return isfinite(d) ? json_real(d) : json_null(); }
static json_t *jstr(const char *s) { return s ? json_string(s) : json_null(); }

static void print_json(json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
    }
    free(text);
    json_decref(o);
}

/* What a curve says in brief. */
typedef struct summary {
    size_t n;
    uint64_t first_tokens, last_tokens;
    int has_best;
    size_t best_at;
    double best_em, last_em, wall_s;
    uint64_t best_tokens;
    int64_t best_step;
} summary;

static summary summarize(const sw_store_curve *c)
{
    summary m = {0};
    m.n = c->n;
    m.best_em = m.last_em = m.wall_s = NAN;
    if (!c->n) return m;
    m.first_tokens = c->evals[0].tokens;
    m.last_tokens = c->evals[c->n - 1].tokens;
    m.last_em = c->evals[c->n - 1].val_em;
    m.wall_s = c->evals[c->n - 1].wall_s;
    for (size_t i = 0; i < c->n; i++) {
        double em = c->evals[i].val_em;
        if (isfinite(em) && (!m.has_best || em > m.best_em)) { /* the first best, as a controller keeps it */
            m.has_best = 1;
            m.best_em = em;
            m.best_at = i;
            m.best_tokens = c->evals[i].tokens;
            m.best_step = c->evals[i].step;
        }
    }
    return m;
}

static json_t *summary_json(const summary *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "evaluations", json_integer((json_int_t)m->n));
    json_object_set_new(o, "first_tokens", m->n ? json_integer((json_int_t)m->first_tokens) : json_null());
    json_object_set_new(o, "last_tokens", m->n ? json_integer((json_int_t)m->last_tokens) : json_null());
    json_object_set_new(o, "best_val_em", m->has_best ? json_real(m->best_em) : json_null());
    json_object_set_new(o, "best_eval", m->has_best ? json_integer((json_int_t)m->best_at) : json_null());
    json_object_set_new(o, "best_tokens", m->has_best ? json_integer((json_int_t)m->best_tokens) : json_null());
    json_object_set_new(o, "best_step", m->has_best ? json_integer((json_int_t)m->best_step) : json_null());
    json_object_set_new(o, "last_val_em", jreal(m->last_em));
    json_object_set_new(o, "wall_s", jreal(m->wall_s));
    return o;
}

/* The run as JSON; with_config adds the config (parsed when it is JSON). */
static json_t *run_json(const sw_store_run *r, int with_config)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer((json_int_t)r->id));
    json_object_set_new(o, "name", jstr(r->name));
    json_object_set_new(o, "task", jstr(r->task));
    json_object_set_new(o, "status", json_string(sw_run_status_str(r->status)));
    json_object_set_new(o, "policy", jstr(r->policy));
    json_object_set_new(o, "stop_rule", jstr(r->stop_rule));
    json_object_set_new(o, "stop_reason", jstr(r->stop_reason));
    json_object_set_new(o, "tokens", json_integer((json_int_t)r->tokens));
    json_object_set_new(o, "best_tokens", isfinite(r->best_em) ? json_integer((json_int_t)r->best_tokens) : json_null());
    json_object_set_new(o, "best_em", jreal(r->best_em));
    json_object_set_new(o, "val_em", jreal(r->val_em));
    json_object_set_new(o, "test_em", jreal(r->test_em));
    json_object_set_new(o, "evaluations", json_integer((json_int_t)r->n_evals));
    json_object_set_new(o, "host", jstr(r->host));
    json_object_set_new(o, "pid", json_integer((json_int_t)r->pid));
    json_object_set_new(o, "started", jreal(r->started));
    json_object_set_new(o, "ended", jreal(r->ended));
    json_object_set_new(o, "heartbeat", jreal(r->heartbeat));
    if (r->parent_run_id > 0) { /* a branch of a trunk run */
        json_object_set_new(o, "parent_run_id", json_integer((json_int_t)r->parent_run_id));
        json_object_set_new(o, "fork_tokens", json_integer((json_int_t)r->fork_tokens));
    }
    if (with_config) {
        json_t *cfg = r->config ? json_loads(r->config, JSON_DECODE_ANY, NULL) : NULL;
        json_object_set_new(o, "config", cfg ? cfg : jstr(r->config));
    }
    return o;
}

static json_t *kv_json(const sw_store_kv *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) json_object_set_new(o, kv[i].key, json_string(kv[i].value));
    return o;
}

static const char *em_text(double em, char *buf, size_t len)
{
    if (isfinite(em)) snprintf(buf, len, "%.2f", em);
    else snprintf(buf, len, "-");
    return buf;
}

/* ---- ls ------------------------------------------------------------------------------ */

static int cmd_ls(const sw_cli_args *a)
{
    const char *cmd = "runs ls";
    sw_run_filter f = {0};
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
    sw_store *s = open_store(a, cmd, &code);
    if (!s) return code;
    sw_store_run *runs;
    size_t n;
    sw_status st = sw_store_runs_list(s, &f, &runs, &n);
    if (st) {
        code = store_fail(cmd, s, st);
        sw_store_close(s);
        return code;
    }
    if (sw_cli_flag(a, "json")) {
        json_t *o = json_object(), *arr = json_array();
        json_object_set_new(o, "store", json_string(sw_store_location(s)));
        for (size_t i = 0; i < n; i++) json_array_append_new(arr, run_json(&runs[i], 0));
        json_object_set_new(o, "count", json_integer((json_int_t)n));
        json_object_set_new(o, "runs", arr);
        print_json(o);
    } else if (!n) {
        fprintf(stderr, "no runs in %s%s\n", sw_store_location(s), f.task || f.has_status || f.study || nt ? " match" : "");
    } else {
        printf("%6s  %-20s %-14s %-9s %8s %8s %6s  %-20s %s\n", "ID", "NAME", "TASK", "STATUS", "TOKENS", "BEST EM",
               "EVALS", "STARTED (UTC)", "STOP");
        for (size_t i = 0; i < n; i++) {
            const sw_store_run *r = &runs[i];
            char tok[32], em[32], when[32];
            printf("%6lld  %-20.20s %-14.14s %-9s %8s %8s %6lld  %-20s %s%s%s\n", (long long)r->id, r->name,
                   r->task, sw_run_status_str(r->status), sw_format_tokens(r->tokens, tok, sizeof tok),
                   em_text(r->best_em, em, sizeof em), (long long)r->n_evals, iso(r->started, when, sizeof when),
                   r->stop_rule ? r->stop_rule : "", r->stop_rule && r->stop_reason ? ": " : "",
                   r->stop_reason ? r->stop_reason : "");
        }
    }
    sw_store_run_list_free(runs, n);
    sw_store_close(s);
    return 0;
}

/* ---- show and compare ---------------------------------------------------------------- */

/* Everything show and compare print about one run. */
typedef struct detail {
    sw_store_run run;
    summary sum;
    sw_store_kv *tags, *params;
    size_t n_tags, n_params;
    sw_artifact *arts;
    size_t n_arts;
} detail;

static void detail_free(detail *d)
{
    sw_store_run_clear(&d->run);
    sw_store_kv_list_free(d->tags, d->n_tags);
    sw_store_kv_list_free(d->params, d->n_params);
    sw_artifact_list_free(d->arts, d->n_arts);
    memset(d, 0, sizeof *d);
}

static sw_status detail_load(sw_store *s, int64_t id, detail *d)
{
    memset(d, 0, sizeof *d);
    sw_store_curve c;
    sw_status st = sw_store_run_get(s, id, &d->run);
    if (!st) st = sw_store_curve_get(s, id, &c);
    if (st) return st;
    d->sum = summarize(&c);
    sw_store_curve_clear(&c);
    st = sw_store_tags_list(s, id, &d->tags, &d->n_tags);
    if (!st) st = sw_store_params_list(s, id, &d->params, &d->n_params);
    if (!st) st = sw_store_artifacts_list(s, id, &d->arts, &d->n_arts);
    return st;
}

static json_t *detail_json(const detail *d)
{
    json_t *o = run_json(&d->run, 1);
    json_object_set_new(o, "curve", summary_json(&d->sum));
    json_object_set_new(o, "tags", kv_json(d->tags, d->n_tags));
    json_object_set_new(o, "params", kv_json(d->params, d->n_params));
    json_t *arr = json_array();
    for (size_t i = 0; i < d->n_arts; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)d->arts[i].id, "kind",
                                             d->arts[i].kind, "path", d->arts[i].path, "sha256", d->arts[i].sha256,
                                             "bytes", (json_int_t)d->arts[i].bytes));
    json_object_set_new(o, "artifacts", arr);
    return o;
}

static void curve_text(const summary *m, char *buf, size_t len)
{
    char t0[32], t1[32], tb[32];
    if (!m->n) {
        snprintf(buf, len, "no evaluations");
        return;
    }
    int k = snprintf(buf, len, "%zu evaluations, tokens %s to %s", m->n, sw_format_tokens(m->first_tokens, t0, sizeof t0),
                     sw_format_tokens(m->last_tokens, t1, sizeof t1));
    if (m->has_best && k > 0 && (size_t)k < len)
        snprintf(buf + k, len - (size_t)k, "; best val EM %.2f at %s tokens (evaluation %zu, step %lld)", m->best_em,
                 sw_format_tokens(m->best_tokens, tb, sizeof tb), m->best_at + 1, (long long)m->best_step);
}

static void show_text(const detail *d)
{
    const sw_store_run *r = &d->run;
    char a[64], b[64], c[64], t[32], line[512];
    printf("run %lld: %s\n", (long long)r->id, r->name && *r->name ? r->name : "(unnamed)");
    printf("  %-10s %s\n", "task", r->task);
    printf("  %-10s %s", "status", sw_run_status_str(r->status));
    if (r->stop_rule || r->stop_reason)
        printf(" (%s%s%s)", r->stop_rule ? r->stop_rule : "", r->stop_rule && r->stop_reason ? ": " : "",
               r->stop_reason ? r->stop_reason : "");
    printf("\n  %-10s %s\n", "policy", r->policy && *r->policy ? r->policy : "-");
    printf("  %-10s %s tokens", "tokens", sw_format_tokens(r->tokens, t, sizeof t));
    if (isfinite(r->best_em)) printf(", best EM %.2f at %s tokens", r->best_em, sw_format_tokens(r->best_tokens, t, sizeof t));
    printf("\n  %-10s val %s, test %s\n", "EM", em_text(r->val_em, a, sizeof a), em_text(r->test_em, b, sizeof b));
    curve_text(&d->sum, line, sizeof line);
    printf("  %-10s %s\n", "curve", line);
    printf("  %-10s %s pid %lld\n", "host", r->host, (long long)r->pid);
    printf("  %-10s started %s, ended %s, heartbeat %s\n", "time", iso(r->started, a, sizeof a),
           iso(r->ended, b, sizeof b), iso(r->heartbeat, c, sizeof c));
    for (size_t i = 0; i < d->n_tags; i++)
        printf("  %-10s %s=%s\n", i ? "" : "tags", d->tags[i].key, d->tags[i].value);
    for (size_t i = 0; i < d->n_params; i++)
        printf("  %-10s %s=%s\n", i ? "" : "params", d->params[i].key, d->params[i].value);
    for (size_t i = 0; i < d->n_arts; i++)
        printf("  %-10s %s %s sha256:%s\n", i ? "" : "artifacts", d->arts[i].kind, d->arts[i].path, d->arts[i].sha256);
    /* the config last, pretty-printed when it is JSON */
    json_t *cfg = r->config ? json_loads(r->config, JSON_DECODE_ANY, NULL) : NULL;
    char *pretty = cfg ? json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    printf("  config\n");
    const char *text = pretty ? pretty : r->config;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        int l = nl ? (int)(nl - p) : (int)strlen(p);
        printf("    %.*s\n", l, p);
        p += l + (nl ? 1 : 0);
    }
    free(pretty);
    json_decref(cfg);
}

static int cmd_show(const sw_cli_args *a, int compare)
{
    const char *cmd = compare ? "runs compare" : "runs show";
    int n = a->n_positional;
    int64_t ids[16];
    for (int i = 0; i < n; i++) {
        int code = parse_id(cmd, a->positional[i], &ids[i]);
        if (code) return code;
    }
    int code = 0;
    sw_store *s = open_store(a, cmd, &code);
    if (!s) return code;
    detail d[16];
    memset(d, 0, sizeof d);
    for (int i = 0; i < n; i++) {
        sw_status st = detail_load(s, ids[i], &d[i]);
        if (st) {
            code = store_fail(cmd, s, st);
            for (int j = 0; j <= i; j++) detail_free(&d[j]);
            sw_store_close(s);
            return code;
        }
    }
    if (sw_cli_flag(a, "json")) {
        if (!compare) print_json(detail_json(&d[0]));
        else {
            json_t *arr = json_array();
            for (int i = 0; i < n; i++) json_array_append_new(arr, detail_json(&d[i]));
            print_json(json_pack("{s:o}", "runs", arr));
        }
    } else if (!compare) {
        show_text(&d[0]);
    } else {
        /* one row per field, one column per run */
        const char *rows[] = {"name", "task", "status", "stop", "policy", "tokens", "best EM", "best tokens",
                              "val EM", "test EM", "evaluations", "started"};
        size_t nr = sizeof rows / sizeof *rows;
        printf("%-12s", "");
        for (int i = 0; i < n; i++) printf("  run %-18lld", (long long)d[i].run.id);
        printf("\n");
        for (size_t k = 0; k < nr; k++) {
            printf("%-12s", rows[k]);
            for (int i = 0; i < n; i++) {
                const sw_store_run *r = &d[i].run;
                char v[64], t[32];
                switch (k) {
                case 0: snprintf(v, sizeof v, "%s", r->name); break;
                case 1: snprintf(v, sizeof v, "%s", r->task); break;
                case 2: snprintf(v, sizeof v, "%s", sw_run_status_str(r->status)); break;
                case 3: snprintf(v, sizeof v, "%s", r->stop_rule ? r->stop_rule : "-"); break;
                case 4: snprintf(v, sizeof v, "%s", r->policy && *r->policy ? r->policy : "-"); break;
                case 5: sw_format_tokens(r->tokens, v, sizeof v); break;
                case 6: em_text(r->best_em, v, sizeof v); break;
                case 7: snprintf(v, sizeof v, "%s", isfinite(r->best_em) ? sw_format_tokens(r->best_tokens, t, sizeof t) : "-"); break;
                case 8: em_text(r->val_em, v, sizeof v); break;
                case 9: em_text(r->test_em, v, sizeof v); break;
                case 10: snprintf(v, sizeof v, "%lld", (long long)r->n_evals); break;
                default: iso(r->started, v, sizeof v);
                }
                printf("  %-22.22s", v);
            }
            printf("\n");
        }
        /* params, the union of their keys */
        for (int i = 0; i < n; i++)
            for (size_t p = 0; p < d[i].n_params; p++) {
                const char *key = d[i].params[p].key;
                int earlier = 0;
                for (int j = 0; j < i && !earlier; j++)
                    for (size_t q = 0; q < d[j].n_params; q++)
                        if (!strcmp(d[j].params[q].key, key)) earlier = 1;
                if (earlier) continue;
                char label[64];
                snprintf(label, sizeof label, "param %s", key);
                printf("%-12s", label);
                for (int j = 0; j < n; j++) {
                    const char *v = "-";
                    for (size_t q = 0; q < d[j].n_params; q++)
                        if (!strcmp(d[j].params[q].key, key)) v = d[j].params[q].value;
                    printf("  %-22.22s", v);
                }
                printf("\n");
            }
    }
    for (int i = 0; i < n; i++) detail_free(&d[i]);
    sw_store_close(s);
    return 0;
}

/* ---- export ---------------------------------------------------------------------------- */

/* RFC 4180: quote a field holding a comma, quote, CR or LF; double quotes. */
static void csv_field(FILE *f, const char *s, int first)
{
    if (!first) fputc(',', f);
    if (!s) return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double d)
{
    fputc(',', f);
    if (isfinite(d) || isinf(d)) sw_fprintf(f, "%.17g", d); /* the C locale, whatever the host set */
}

static void csv_int(FILE *f, long long v) { fprintf(f, ",%lld", v); }

static void export_runs_csv(FILE *f, const sw_store_run *runs, size_t n)
{
    fputs("id,name,task,status,policy,stop_rule,stop_reason,tokens,best_tokens,best_em,val_em,test_em,evaluations,"
          "host,pid,started,ended,heartbeat,config\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const sw_store_run *r = &runs[i];
        fprintf(f, "%lld", (long long)r->id);
        csv_field(f, r->name, 0);
        csv_field(f, r->task, 0);
        csv_field(f, sw_run_status_str(r->status), 0);
        csv_field(f, r->policy, 0);
        csv_field(f, r->stop_rule, 0);
        csv_field(f, r->stop_reason, 0);
        csv_int(f, (long long)r->tokens);
        if (isfinite(r->best_em)) csv_int(f, (long long)r->best_tokens);
        else fputc(',', f);
        csv_num(f, r->best_em);
        csv_num(f, r->val_em);
        csv_num(f, r->test_em);
        csv_int(f, (long long)r->n_evals);
        csv_field(f, r->host, 0);
        csv_int(f, (long long)r->pid);
        csv_num(f, r->started);
        csv_num(f, r->ended);
        csv_num(f, r->heartbeat);
        csv_field(f, r->config, 0);
        fputc('\n', f);
    }
}

static json_t *eval_json(int64_t run_id, size_t i, const sw_store_eval *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "run_id", json_integer((json_int_t)run_id));
    json_object_set_new(o, "eval", json_integer((json_int_t)i));
    json_object_set_new(o, "tokens", json_integer((json_int_t)e->tokens));
    json_object_set_new(o, "step", json_integer((json_int_t)e->step));
    json_object_set_new(o, "wall_s", jreal(e->wall_s));
    json_object_set_new(o, "val_em", jreal(e->val_em));
    json_object_set_new(o, "val_loss", jreal(e->val_loss));
    json_object_set_new(o, "train_loss", jreal(e->train_loss));
    json_t *m = json_object();
    for (size_t k = 0; k < e->n_metrics; k++) json_object_set_new(m, e->metrics[k].name, jreal(e->metrics[k].value));
    json_object_set_new(o, "metrics", m);
    return o;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* CSV of curves: the columns are the fixed ones plus the union of the
 * other metric names over all exported runs, sorted. */
static void export_curves_csv(FILE *f, const sw_store_curve *curves, size_t nc)
{
    const char **names = NULL;
    size_t nn = 0, cap = 0;
    for (size_t c = 0; c < nc; c++)
        for (size_t i = 0; i < curves[c].n; i++)
            for (size_t k = 0; k < curves[c].evals[i].n_metrics; k++) {
                const char *name = curves[c].evals[i].metrics[k].name;
                int seen = 0;
                for (size_t j = 0; j < nn && !seen; j++) seen = !strcmp(names[j], name);
                if (seen) continue;
                if (SW_ARRAY_RESERVE(names, cap, nn + 1)) abort();
                names[nn++] = name;
            }
    if (nn) qsort(names, nn, sizeof *names, cmp_str);
    fputs("run_id,eval,tokens,step,wall_s,val_em,val_loss,train_loss", f);
    for (size_t j = 0; j < nn; j++) csv_field(f, names[j], 0);
    fputc('\n', f);
    for (size_t c = 0; c < nc; c++)
        for (size_t i = 0; i < curves[c].n; i++) {
            const sw_store_eval *e = &curves[c].evals[i];
            fprintf(f, "%lld,%zu,%llu,%lld", (long long)curves[c].run_id, i, (unsigned long long)e->tokens,
                    (long long)e->step);
            csv_num(f, e->wall_s);
            csv_num(f, e->val_em);
            csv_num(f, e->val_loss);
            csv_num(f, e->train_loss);
            for (size_t j = 0; j < nn; j++) {
                double v = NAN;
                for (size_t k = 0; k < e->n_metrics; k++)
                    if (!strcmp(e->metrics[k].name, names[j])) v = e->metrics[k].value;
                csv_num(f, v);
            }
            fputc('\n', f);
        }
    free(names);
}

static int cmd_export(const sw_cli_args *a)
{
    const char *cmd = "runs export";
    const char *format = sw_cli_str(a, "format");
    int jsonl = !strcmp(format, "jsonl");
    if (!jsonl && strcmp(format, "csv")) return sw_cli_fail(cmd, 2, "--format expects csv or jsonl, got '%s'", format);
    const char **id_text;
    int nid = sw_cli_multi(a, "run", &id_text);
    int64_t ids[SW_CLI_MAX_MULTI];
    for (int i = 0; i < nid; i++) {
        int code = parse_id(cmd, id_text[i], &ids[i]);
        if (code) return code;
    }
    int code = 0;
    sw_store *s = open_store(a, cmd, &code);
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
    sw_run_filter f = {.ids = nid ? ids : NULL, .n_ids = (size_t)nid};
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
        code = store_fail(cmd, s, st);
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
            for (size_t i = n; i-- > 0;) json_array_append_new(arr, run_json(&runs[i], 1));
        }
        print_json(json_pack("{s:o}", want_curves ? "evaluations" : "runs", arr));
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
        export_curves_csv(fp, curves, n);
    } else if (jsonl) {
        for (size_t i = n; i-- > 0;) {
            json_t *o = run_json(&runs[i], 1);
            json_dumpf(o, fp, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
            fputc('\n', fp);
            json_decref(o);
        }
    } else {
        /* oldest first, like the curves */
        sw_store_run *rev = n ? malloc(n * sizeof *rev) : NULL;
        for (size_t i = 0; i < n; i++) rev[i] = runs[n - 1 - i];
        export_runs_csv(fp, rev, n);
        free(rev);
    }
    if (!to_stdout) {
        sw_error err = {0};
        if (sw_atomic_file_commit(&af, &err)) {
            code = sw_cli_fail(cmd, 1, "%s", err.msg);
            goto done;
        }
        if (sw_cli_flag(a, "json"))
            print_json(json_pack("{s:s, s:s, s:s, s:I}", "output", out, "format", format, "records",
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

/* ---- rm ------------------------------------------------------------------------------------ */

static int cmd_rm(const sw_cli_args *a)
{
    const char *cmd = "runs rm";
    int n = a->n_positional;
    int64_t *ids = calloc((size_t)n, sizeof *ids);
    if (!ids) return sw_cli_fail(cmd, 1, "out of memory");
    int code = 0;
    for (int i = 0; i < n && !code; i++) code = parse_id(cmd, a->positional[i], &ids[i]);
    sw_store *s = code ? NULL : open_store(a, cmd, &code);
    if (!s) {
        free(ids);
        return code;
    }
    /* all or nothing: check every id before removing any */
    for (int i = 0; i < n && !code; i++) {
        sw_store_run r;
        sw_status st = sw_store_run_get(s, ids[i], &r);
        sw_store_run_clear(&r);
        if (st) code = store_fail(cmd, s, st);
    }
    json_t *removed = json_array();
    for (int i = 0; i < n && !code; i++) {
        sw_status st = sw_store_run_remove(s, ids[i]);
        if (st) code = store_fail(cmd, s, st);
        else {
            json_array_append_new(removed, json_integer((json_int_t)ids[i]));
            if (!sw_cli_flag(a, "json")) printf("removed run %lld\n", (long long)ids[i]);
        }
    }
    if (sw_cli_flag(a, "json") && !code) print_json(json_pack("{s:o}", "removed", removed));
    else json_decref(removed);
    sw_store_close(s);
    free(ids);
    return code;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "stopwise runs: list, show, compare, export and remove runs in the store\n\n"
               "usage:\n"
               "  stopwise runs ls [--task T] [--status S] [--study S] [--tag K=V] [--limit N]\n"
               "  stopwise runs show ID\n"
               "  stopwise runs compare ID ID...\n"
               "  stopwise runs export [--format csv|jsonl] [--curves] [--run ID...] [--output FILE]\n"
               "  stopwise runs rm ID...\n\n"
               "All take --store PATH|URL (default $STOPWISE_STORE, else ./stopwise.db) and --json.\n"
               "'stopwise runs SUBCOMMAND --help' lists a subcommand's options and defaults.\n");
}

int sw_cmd_runs(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return 0;
    }
    const sw_cli_command *cmd = !strcmp(sub, "ls")        ? &ls_cmd
                                : !strcmp(sub, "show")    ? &show_cmd
                                : !strcmp(sub, "compare") ? &compare_cmd
                                : !strcmp(sub, "export")  ? &export_cmd
                                : !strcmp(sub, "rm")      ? &rm_cmd
                                                          : NULL;
    if (!cmd) {
        fprintf(stderr, "stopwise runs: unknown subcommand '%s'\n\n", sub);
        usage(stderr);
        return 2;
    }
    sw_cli_args *a = calloc(1, sizeof *a); /* large: keep it off the stack */
    if (!a) return sw_cli_fail("runs", 1, "out of memory");
    int code = sw_cli_parse(cmd, argc - 1, argv + 1, a);
    if (code < 0) {
        if (cmd == &ls_cmd) code = cmd_ls(a);
        else if (cmd == &show_cmd) code = cmd_show(a, 0);
        else if (cmd == &compare_cmd) code = cmd_show(a, 1);
        else if (cmd == &export_cmd) code = cmd_export(a);
        else code = cmd_rm(a);
    }
    free(a->positional);
    free(a);
    return code;
}
