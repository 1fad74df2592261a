/* The CSV forms of runs and curves for runs export (RFC 4180). */
#include "cli/options.h"
#include "cli/runs.h"
#include "stopwise/base.h"
#include "stopwise/store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 4180: quote a field holding a comma, quote, CR or LF; double quotes. */
void sw_runs_csv_field(FILE *f, const char *s, int first)
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

void sw_runs_csv_num(FILE *f, double d)
{
    fputc(',', f);
    if (isfinite(d) || isinf(d)) sw_fprintf(f, "%.17g", d); /* the C locale, whatever the host set */
}

void sw_runs_csv_int(FILE *f, long long v) { fprintf(f, ",%lld", v); }

void sw_runs_csv_runs(FILE *f, const sw_store_run *runs, size_t n)
{
    fputs("id,name,task,status,policy,stop_rule,stop_reason,tokens,best_tokens,best_em,val_em,test_em,evaluations,"
          "host,pid,started,ended,heartbeat,config\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const sw_store_run *r = &runs[i];
        fprintf(f, "%lld", (long long)r->id);
        sw_runs_csv_field(f, r->name, 0);
        sw_runs_csv_field(f, r->task, 0);
        sw_runs_csv_field(f, sw_run_status_str(r->status), 0);
        sw_runs_csv_field(f, r->policy, 0);
        sw_runs_csv_field(f, r->stop_rule, 0);
        sw_runs_csv_field(f, r->stop_reason, 0);
        sw_runs_csv_int(f, (long long)r->tokens);
        if (isfinite(r->best_em)) sw_runs_csv_int(f, (long long)r->best_tokens);
        else fputc(',', f);
        sw_runs_csv_num(f, r->best_em);
        sw_runs_csv_num(f, r->val_em);
        sw_runs_csv_num(f, r->test_em);
        sw_runs_csv_int(f, (long long)r->n_evals);
        sw_runs_csv_field(f, r->host, 0);
        sw_runs_csv_int(f, (long long)r->pid);
        sw_runs_csv_num(f, r->started);
        sw_runs_csv_num(f, r->ended);
        sw_runs_csv_num(f, r->heartbeat);
        sw_runs_csv_field(f, r->config, 0);
        fputc('\n', f);
    }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* CSV of curves: the columns are the fixed ones plus the union of the
 * other metric names over all exported runs, sorted. */
void sw_runs_csv_curves(FILE *f, const sw_store_curve *curves, size_t nc)
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
    for (size_t j = 0; j < nn; j++) sw_runs_csv_field(f, names[j], 0);
    fputc('\n', f);
    for (size_t c = 0; c < nc; c++)
        for (size_t i = 0; i < curves[c].n; i++) {
            const sw_store_eval *e = &curves[c].evals[i];
            fprintf(f, "%lld,%zu,%llu,%lld", (long long)curves[c].run_id, i, (unsigned long long)e->tokens,
                    (long long)e->step);
            sw_runs_csv_num(f, e->wall_s);
            sw_runs_csv_num(f, e->val_em);
            sw_runs_csv_num(f, e->val_loss);
            sw_runs_csv_num(f, e->train_loss);
            for (size_t j = 0; j < nn; j++) {
                double v = NAN;
                for (size_t k = 0; k < e->n_metrics; k++)
                    if (!strcmp(e->metrics[k].name, names[j])) v = e->metrics[k].value;
                sw_runs_csv_num(f, v);
            }
            fputc('\n', f);
        }
    free(names);
}
