/* What the runs subcommands share: opening the store, run ids, the JSON and
 * text forms of a run and of a curve summary, and the detail that show and
 * compare load. */
#include "cli/options.h"
#include "cli/runs.h"
#include "stopwise/base.h"
#include "stopwise/store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

sw_store *sw_runs_open_store(const sw_cli_args *a, const char *cmd, int *code)
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

int sw_runs_parse_id(const char *cmd, const char *text, int64_t *id)
{
    long long v;
    if (sw_parse_int(text, 1, INT64_MAX, &v)) return sw_cli_fail(cmd, 2, "'%s' is not a run id (a positive whole number)", text);
    *id = v;
    return 0;
}

int sw_runs_store_fail(const char *cmd, sw_store *s, sw_status st)
{
    return sw_cli_fail(cmd, sw_status_exit_code(st), "%s", sw_store_errmsg(s));
}

char *sw_runs_iso(double t, char *buf, size_t len)
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

json_t *sw_runs_jstr(const char *s) { return s ? json_string(s) : json_null(); }

void sw_runs_print_json(json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
    }
    free(text);
    json_decref(o);
}

sw_runs_summary sw_runs_summarize(const sw_store_curve *c)
{
    sw_runs_summary m = {0};
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

json_t *sw_runs_summary_json(const sw_runs_summary *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "evaluations", json_integer((json_int_t)m->n));
    json_object_set_new(o, "first_tokens", m->n ? json_integer((json_int_t)m->first_tokens) : json_null());
    json_object_set_new(o, "last_tokens", m->n ? json_integer((json_int_t)m->last_tokens) : json_null());
    json_object_set_new(o, "best_val_em", m->has_best ? json_real(m->best_em) : json_null());
    json_object_set_new(o, "best_eval", m->has_best ? json_integer((json_int_t)m->best_at) : json_null());
    json_object_set_new(o, "best_tokens", m->has_best ? json_integer((json_int_t)m->best_tokens) : json_null());
    json_object_set_new(o, "best_step", m->has_best ? json_integer((json_int_t)m->best_step) : json_null());
    json_object_set_new(o, "last_val_em", sw_json_num(m->last_em));
    json_object_set_new(o, "wall_s", sw_json_num(m->wall_s));
    return o;
}

/* The run as JSON; with_config adds the config (parsed when it is JSON). */
json_t *sw_runs_run_json(const sw_store_run *r, int with_config)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer((json_int_t)r->id));
    json_object_set_new(o, "name", sw_runs_jstr(r->name));
    json_object_set_new(o, "task", sw_runs_jstr(r->task));
    json_object_set_new(o, "status", json_string(sw_run_status_str(r->status)));
    json_object_set_new(o, "policy", sw_runs_jstr(r->policy));
    json_object_set_new(o, "stop_rule", sw_runs_jstr(r->stop_rule));
    json_object_set_new(o, "stop_reason", sw_runs_jstr(r->stop_reason));
    json_object_set_new(o, "tokens", json_integer((json_int_t)r->tokens));
    json_object_set_new(o, "best_tokens", isfinite(r->best_em) ? json_integer((json_int_t)r->best_tokens) : json_null());
    json_object_set_new(o, "best_em", sw_json_num(r->best_em));
    json_object_set_new(o, "val_em", sw_json_num(r->val_em));
    json_object_set_new(o, "test_em", sw_json_num(r->test_em));
    json_object_set_new(o, "evaluations", json_integer((json_int_t)r->n_evals));
    json_object_set_new(o, "host", sw_runs_jstr(r->host));
    json_object_set_new(o, "pid", json_integer((json_int_t)r->pid));
    json_object_set_new(o, "started", sw_json_num(r->started));
    json_object_set_new(o, "ended", sw_json_num(r->ended));
    json_object_set_new(o, "heartbeat", sw_json_num(r->heartbeat));
    if (r->parent_run_id > 0) { /* a branch of a trunk run */
        json_object_set_new(o, "parent_run_id", json_integer((json_int_t)r->parent_run_id));
        json_object_set_new(o, "fork_tokens", json_integer((json_int_t)r->fork_tokens));
    }
    if (with_config) {
        json_t *cfg = r->config ? json_loads(r->config, JSON_DECODE_ANY, NULL) : NULL;
        json_object_set_new(o, "config", cfg ? cfg : sw_runs_jstr(r->config));
    }
    return o;
}

json_t *sw_runs_kv_json(const sw_store_kv *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) json_object_set_new(o, kv[i].key, json_string(kv[i].value));
    return o;
}

const char *sw_runs_em_text(double em, char *buf, size_t len)
{
    if (isfinite(em)) snprintf(buf, len, "%.2f", em);
    else snprintf(buf, len, "-");
    return buf;
}

const char *sw_runs_stop_text(const sw_store_run *r, char *buf, size_t len)
{
    const char *rule = r->stop_rule ? r->stop_rule : "", *reason = r->stop_reason ? r->stop_reason : "";
    size_t rl = strlen(rule);
    int named = rl && !strncmp(reason, rule, rl) && reason[rl] == ':';
    if (!*rule || !*reason || named) snprintf(buf, len, "%s", *reason ? reason : rule);
    else snprintf(buf, len, "%s: %s", rule, reason);
    return buf;
}

static void sw_runs_detail_free(sw_runs_detail *d)
{
    sw_store_run_clear(&d->run);
    sw_store_kv_list_free(d->tags, d->n_tags);
    sw_store_kv_list_free(d->params, d->n_params);
    sw_store_artifact_list_free(d->arts, d->n_arts);
    memset(d, 0, sizeof *d);
}

static sw_status sw_runs_detail_load(sw_store *s, int64_t id, sw_runs_detail *d)
{
    memset(d, 0, sizeof *d);
    sw_store_curve c;
    sw_status st = sw_store_run_get(s, id, &d->run);
    if (!st) st = sw_store_curve_get(s, id, &c);
    if (st) return st;
    d->sum = sw_runs_summarize(&c);
    sw_store_curve_clear(&c);
    st = sw_store_tags_list(s, id, &d->tags, &d->n_tags);
    if (!st) st = sw_store_params_list(s, id, &d->params, &d->n_params);
    if (!st) st = sw_store_artifacts_list(s, id, &d->arts, &d->n_arts);
    return st;
}

json_t *sw_runs_detail_json(const sw_runs_detail *d)
{
    json_t *o = sw_runs_run_json(&d->run, 1);
    json_object_set_new(o, "curve", sw_runs_summary_json(&d->sum));
    json_object_set_new(o, "tags", sw_runs_kv_json(d->tags, d->n_tags));
    json_object_set_new(o, "params", sw_runs_kv_json(d->params, d->n_params));
    json_t *arr = json_array();
    for (size_t i = 0; i < d->n_arts; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)d->arts[i].id, "kind",
                                             d->arts[i].kind, "path", d->arts[i].path, "sha256", d->arts[i].sha256,
                                             "bytes", (json_int_t)d->arts[i].bytes));
    json_object_set_new(o, "artifacts", arr);
    return o;
}

int sw_runs_details_load(const sw_cli_args *a, const char *cmd, sw_store **s, sw_runs_detail *d)
{
    int n = a->n_positional;
    int64_t ids[SW_RUNS_MAX_COMPARE];
    for (int i = 0; i < n; i++) {
        int code = sw_runs_parse_id(cmd, a->positional[i], &ids[i]);
        if (code) return code;
    }
    int code = 0;
    *s = sw_runs_open_store(a, cmd, &code);
    if (!*s) return code;
    memset(d, 0, (size_t)n * sizeof *d);
    for (int i = 0; i < n; i++) {
        sw_status st = sw_runs_detail_load(*s, ids[i], &d[i]);
        if (st) {
            code = sw_runs_store_fail(cmd, *s, st);
            sw_runs_details_free(*s, d, i + 1);
            *s = NULL;
            return code;
        }
    }
    return 0;
}

void sw_runs_details_free(sw_store *s, sw_runs_detail *d, int n)
{
    for (int i = 0; i < n; i++) sw_runs_detail_free(&d[i]);
    sw_store_close(s);
}
