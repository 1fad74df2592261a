/* Task keys and the policy `train --stop auto` runs with. */
#include "stopwise/nn.h"
#include "stopwise/tune.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The schedule kind a run without --schedule gets: every task's default
 * (train/defaults.c) is a wsd; tests/test_tune_task.c checks they agree. */
#define DEFAULT_SCHEDULE_KIND "wsd"

sw_status sw_tune_task_key(const char *data, const char *model, uint64_t budget, const char *schedule,
                           uint64_t eval_every, char *buf, size_t cap, sw_error *err)
{
    char m[512] = "default", b[32], e[32], k[16] = DEFAULT_SCHEDULE_KIND;
    if (model && *model) {
        sw_model_spec spec;
        sw_error e;
        /* canonical form when it parses, so "mlp:hidden=256" and its
         * spelled-out twin share a key; else as written */
        if (sw_model_spec_parse(model, &spec, &e) == SW_OK && sw_model_spec_format(&spec, m, sizeof m))
            ;
        else
            snprintf(m, sizeof m, "%s", model);
    }
    if (schedule && *schedule) {
        /* the kind alone: a policy's meaning depends on the shape of the
         * curve (a wsd trunk's plateau, a cosine's late rise), not the rate */
        sw_schedule sc;
        sw_status st = sw_schedule_parse(schedule, &sc, err);
        if (st) return st;
        snprintf(k, sizeof k, "%.*s", (int)strcspn(schedule, ":"), schedule);
    }
    sw_format_tokens(budget, b, sizeof b);
    /* the cadence the trainer uses: --eval-every, else budget/100 */
    uint64_t every = eval_every ? eval_every : (budget / 100 ? budget / 100 : 1);
    sw_format_tokens(every, e, sizeof e);
    int n = snprintf(buf, cap, "%s|%s|%s|%s|every=%s", data ? data : "", m, b, k, e);
    if (n < 0 || (size_t)n >= cap) return sw_error_set(err, SW_ERR_INVALID, "task key too long (%d bytes)", n);
    return SW_OK;
}

void sw_tune_default_policy(uint64_t budget, char *buf, size_t cap)
{
    if (budget)
        snprintf(buf, cap, "patience=10,diverge,warmup=%llu", (unsigned long long)(budget / 10));
    else
        snprintf(buf, cap, "patience=10,diverge");
}

sw_status sw_tune_policy_for_task(sw_store *store, const char *task_key, uint64_t budget, char *policy, size_t plen,
                                  char *why, size_t wlen, int *tuned, sw_error *err)
{
    if (tuned) *tuned = 0;
    sw_store_policy sp;
    memset(&sp, 0, sizeof sp);
    sw_status st = store ? sw_store_policy_get(store, task_key, &sp) : SW_ERR_NOT_FOUND;
    if (st == SW_ERR_NOT_FOUND) {
        sw_tune_default_policy(budget, policy, plen);
        snprintf(why, wlen, "no tuned policy for task %s: the conservative default %s (run `stopwise tune` to tune one)",
                 task_key, policy);
        return SW_OK;
    }
    if (st) return sw_error_set(err, st, "store: %s", sw_store_errmsg(store));
    snprintf(policy, plen, "%s", sp.policy);
    if (tuned) *tuned = 1;
    double f = NAN, s = NAN;
    json_t *rep = sp.report ? json_loads(sp.report, 0, NULL) : NULL;
    if (rep) {
        json_t *x = json_object_get(rep, "cv_tokens_fraction"), *y = json_object_get(rep, "cv_shortfall");
        if (json_is_number(x)) f = json_number_value(x);
        if (json_is_number(y)) s = json_number_value(y);
        json_decref(rep);
    }
    if (isfinite(f) && isfinite(s))
        sw_snprintf(why, wlen, "tuned policy for task %s: %s (cross-validated: %.0f%% of the budget's tokens, %.2f EM points lost)",
                    task_key, policy, 100 * f, s);
    else
        snprintf(why, wlen, "tuned policy for task %s: %s", task_key, policy);
    sw_store_policy_clear(&sp);
    return SW_OK;
}
