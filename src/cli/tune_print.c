/* What `stopwise tune` prints (tables, JSON, status). */
#include "cli/tune_print.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

void sw_cli_tune_print_report(const sw_tune_report *r, const char *task_key, int saved)
{
    printf("tuned on %zu curves, %zu candidate policies (%zu replays in %.2f s), %zu-fold cross-validation\n",
           r->n_curves, r->n_candidates, r->n_replays, r->replay_seconds, r->n_folds);
    if (r->objective == SW_TUNE_OBJECTIVE_PRICED)
        printf("objective: maximise mean EM - %g x mean tokens (M)\n\n", r->lambda);
    else
        printf("objective: fewest tokens with %s shortfall <= %g EM points\n\n",
               r->objective == SW_TUNE_OBJECTIVE_WORST ? "worst" : "mean", r->epsilon);
    printf("%-12s %8s %10s %9s  %s\n", "family", "CV tok%", "CV short", "CV worst", "policy (chosen on all curves)");
    for (size_t i = 0; i < r->n_families; i++) {
        const sw_tune_family_report *f = &r->families[i];
        printf("%-12s %7.1f%% %10.3f %9.3f  %s\n", sw_tune_family_name(f->family), 100 * f->cv_tokens_fraction,
               f->cv_shortfall, f->cv_worst_shortfall, f->chosen.policy);
    }
    printf("%-12s %7.1f%% %10.3f %9.3f  %s\n\n", "overall", 100 * r->cv_tokens_fraction, r->cv_shortfall,
           r->cv_worst_shortfall, r->chosen.policy);
    printf("Pareto frontier (all curves, in-sample): %zu policies\n", r->n_pareto);
    printf("%8s %10s %10s  %s\n", "tokens%", "shortfall", "worst", "policy");
    for (size_t i = 0; i < r->n_pareto; i++)
        printf("%7.1f%% %10.3f %10.3f  %s\n", 100 * r->pareto[i].tokens_fraction, r->pareto[i].shortfall,
               r->pareto[i].worst_shortfall, r->pareto[i].policy);
    printf("\npolicy: %s\n", r->chosen.policy);
    printf("cross-validated: %.1f%% of the budget's tokens (%.1f%% saved), mean EM shortfall %.3f points\n",
           100 * r->cv_tokens_fraction, 100 * (1 - r->cv_tokens_fraction), r->cv_shortfall);
    if (r->n_cooldowns)
        printf("scored with a cooldown at each stop (%zu families tuned with the thresholds; tokens include it)\n",
               r->n_cooldowns);
    if (r->confidence > 0)
        printf("noise-honest choice: %g bootstrap upper bound of its mean shortfall %.3f <= epsilon %g\n",
               r->confidence, r->ucb_shortfall, r->epsilon);
    if (r->epsilon_below_se)
        printf("note: epsilon %g is below one evaluation's standard error %.3f EM points (binomial, %zu validation "
               "examples): such shortfalls cannot be told from noise\n", r->epsilon, r->em_se, r->val_size);
    if (saved) printf("saved for task %s (train --stop auto uses it)\n", task_key);
}

void sw_cli_tune_print_json(const char *report_json, const char *task_key, int saved, const char *runs_task,
                            sw_curve *const *curves, size_t n, const sw_tune_truncated *truncated,
                            size_t n_truncated)
{
    json_t *j = json_loads(report_json, 0, NULL);
    json_object_set_new(j, "task_key", task_key && task_key[0] ? json_string(task_key) : json_null());
    json_object_set_new(j, "saved", json_boolean(saved));
    if (runs_task && runs_task[0]) json_object_set_new(j, "runs_task", json_string(runs_task));
    json_t *names = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(names, json_string(sw_curve_source(curves[i])));
    json_object_set_new(j, "curves", names);
    json_t *tr = json_array();
    for (size_t i = 0; i < n_truncated; i++)
        json_array_append_new(tr, json_pack("{s:I, s:s}", "run", (json_int_t)truncated[i].run_id, "why", truncated[i].why));
    json_object_set_new(j, "truncated_runs", tr);
    char *txt = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    printf("%s\n", txt);
    free(txt);
    json_decref(j);
}

void sw_cli_tune_print_status(const char *key, const char *tuned_policy, const sw_online_state *os,
                              const char *state_json, int json)
{
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "task_key", json_string(key));
        json_object_set_new(o, "tuned_policy", tuned_policy ? json_string(tuned_policy) : json_null());
        json_t *st_json = os && state_json ? json_loads(state_json, 0, NULL) : NULL;
        json_object_set_new(o, "online", st_json ? st_json : json_null());
        char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
        printf("%s\n", txt);
        free(txt);
        json_decref(o);
        return;
    }
    printf("task %s\n", key);
    printf("tuned policy: %s\n", tuned_policy ? tuned_policy : "(none: train --stop auto uses the conservative default)");
    if (!os) {
        printf("online mode: no state (train --stop auto --online starts it)\n");
        return;
    }
    printf("online mode: %lld runs, an audit every %d, epsilon %g\n", (long long)os->runs, os->audit_every, os->epsilon);
    printf("current policy: %s (level %d of %d, ceiling %d)\n", os->ladder[os->level], os->level + 1, os->n_ladder,
           os->ceiling + 1);
    if (os->n_history) {
        printf("%6s %10s %10s %8s  %s\n", "run", "shortfall", "next", "tokens%", "level");
        for (int i = 0; i < os->n_history; i++) {
            const sw_online_audit *h = &os->history[i];
            printf("%6lld %10.3f %10.3f %7.1f%%  %d -> %d\n", (long long)h->run, h->shortfall, h->next_shortfall,
                   100 * h->tokens_fraction, h->level_before + 1, h->level_after + 1);
        }
    }
}
