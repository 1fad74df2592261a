/* stopwise runs compare: runs side by side, one row per field, one column
 * per run, then the union of their params. */
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
    "runs compare", "compare runs side by side", "stopwise runs compare ID ID... [options]", NULL,
    options, sizeof options / sizeof *options, 2, SW_RUNS_MAX_COMPARE};
const sw_runs_sub sw_runs_compare = {&command, run};

static void compare_text(const sw_runs_detail *d, int n)
{
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
            case 6: sw_runs_em_text(r->best_em, v, sizeof v); break;
            case 7: snprintf(v, sizeof v, "%s", isfinite(r->best_em) ? sw_format_tokens(r->best_tokens, t, sizeof t) : "-"); break;
            case 8: sw_runs_em_text(r->val_em, v, sizeof v); break;
            case 9: sw_runs_em_text(r->test_em, v, sizeof v); break;
            case 10: snprintf(v, sizeof v, "%lld", (long long)r->n_evals); break;
            default: sw_runs_iso(r->started, v, sizeof v);
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

static int run(const sw_cli_args *a)
{
    int n = a->n_positional;
    sw_store *s = NULL;
    sw_runs_detail d[SW_RUNS_MAX_COMPARE];
    int code = sw_runs_details_load(a, "runs compare", &s, d);
    if (code) return code;
    if (sw_cli_flag(a, "json")) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) json_array_append_new(arr, sw_runs_detail_json(&d[i]));
        sw_runs_print_json(json_pack("{s:o}", "runs", arr));
    } else {
        compare_text(d, n);
    }
    sw_runs_details_free(s, d, n);
    return 0;
}
