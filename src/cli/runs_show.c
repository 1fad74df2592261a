/* stopwise runs show: one run, all it has (config, status, stop reason,
 * curve summary, tags, params, artifacts). */
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

static const sw_cli_command command = {
    "runs show", "show a run: config, status, stop reason, curve summary", "stopwise runs show ID [options]", NULL,
    options, sizeof options / sizeof *options, 1, 1};
const sw_runs_sub sw_runs_show = {&command, run};

static void curve_text(const sw_runs_summary *m, char *buf, size_t len)
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

static void show_text(const sw_runs_detail *d)
{
    const sw_store_run *r = &d->run;
    char a[64], b[64], c[64], t[32], line[512];
    printf("run %lld: %s\n", (long long)r->id, r->name && *r->name ? r->name : "(unnamed)");
    printf("  %-10s %s\n", "task", r->task);
    printf("  %-10s %s", "status", sw_run_status_str(r->status));
    char stop[1024];
    if (*sw_runs_stop_text(r, stop, sizeof stop)) printf(" (%s)", stop);
    printf("\n  %-10s %s\n", "policy", r->policy && *r->policy ? r->policy : "-");
    printf("  %-10s %s tokens", "tokens", sw_format_tokens(r->tokens, t, sizeof t));
    if (isfinite(r->best_em)) printf(", best EM %.2f at %s tokens", r->best_em, sw_format_tokens(r->best_tokens, t, sizeof t));
    printf("\n  %-10s val %s, test %s\n", "EM", sw_runs_em_text(r->val_em, a, sizeof a), sw_runs_em_text(r->test_em, b, sizeof b));
    curve_text(&d->sum, line, sizeof line);
    printf("  %-10s %s\n", "curve", line);
    printf("  %-10s %s pid %lld\n", "host", r->host, (long long)r->pid);
    printf("  %-10s started %s, ended %s, heartbeat %s\n", "time", sw_runs_iso(r->started, a, sizeof a),
           sw_runs_iso(r->ended, b, sizeof b), sw_runs_iso(r->heartbeat, c, sizeof c));
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

static int run(const sw_cli_args *a)
{
    sw_store *s = NULL;
    sw_runs_detail d;
    int code = sw_runs_details_load(a, "runs show", &s, &d);
    if (code) return code;
    if (sw_cli_flag(a, "json")) sw_runs_print_json(sw_runs_detail_json(&d));
    else show_text(&d);
    sw_runs_details_free(s, &d, 1);
    return 0;
}
