/* The tuning endpoints: every tuned task key, and one key's policy in force,
 * the tuner's report (cross-validation per family, Pareto frontier), the
 * policies before it and the online tuner's state with its audits. */
#include "ui/internal.h"

#include "data/json_num.h"

#include <stdlib.h>
#include <string.h>

/* A summary of a recorded policy: the report's cross-validated figures. */
static json_t *policy_summary(const sw_store_policy *p)
{
    json_t *o = json_object(), *rep = p->report ? json_loads(p->report, 0, NULL) : NULL;
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "policy", json_string(p->policy));
    json_object_set_new(o, "created", sw_json_num(p->created));
    static const char *const keys[] = {"family", "cv_tokens_fraction", "cv_shortfall", "objective", "epsilon",
                                       "n_curves"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *v = rep ? json_object_get(rep, keys[i]) : NULL;
        json_object_set(o, keys[i], v ? v : json_null());
    }
    json_decref(rep);
    return o;
}

sw_status sw_ui_api_tuning(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err)
{
    (void)rq;
    char **keys;
    size_t n;
    sw_status st = sw_store_policy_keys(s, &keys, &n);
    if (st) return sw_ui_store_error(s, st, err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n && !st; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "key", json_string(keys[i]));
        sw_store_policy p;
        st = sw_store_policy_get(s, keys[i], &p);
        if (!st) {
            json_object_set_new(x, "latest", policy_summary(&p));
            sw_store_policy_clear(&p);
        } else if (st == SW_ERR_NOT_FOUND) { /* an online state only */
            json_object_set_new(x, "latest", json_null());
            st = SW_OK;
        }
        char *state = NULL;
        sw_status ss = sw_store_state_get(s, keys[i], &state);
        if (ss && ss != SW_ERR_NOT_FOUND && !st) st = ss;
        json_object_set_new(x, "online", json_boolean(state != NULL));
        free(state);
        json_array_append_new(arr, x);
    }
    sw_store_keys_free(keys, n);
    if (st) {
        json_decref(arr);
        return sw_ui_store_error(s, st, err);
    }
    json_t *o = json_object();
    json_object_set_new(o, "tasks", arr);
    *out = o;
    return SW_OK;
}

sw_status sw_ui_api_task(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err)
{
    const char *key = rq->param(rq, "key");
    if (!key || !*key) return sw_error_set(err, SW_ERR_INVALID, "parameter key: a task key is needed");
    sw_store_policy *hist = NULL;
    size_t n = 0;
    char *state = NULL;
    sw_status st = sw_store_policy_history(s, key, &hist, &n);
    if (!st) {
        st = sw_store_state_get(s, key, &state);
        if (st == SW_ERR_NOT_FOUND) st = SW_OK;
    }
    if (st) {
        sw_store_policy_list_free(hist, n);
        return sw_ui_store_error(s, st, err);
    }
    if (!n && !state)
        return sw_error_set(err, SW_ERR_NOT_FOUND, "no tuned policy or online state for task key '%.200s' in %s", key,
                            sw_store_location(s));
    json_t *o = json_object(), *h = json_array();
    json_object_set_new(o, "key", json_string(key));
    if (n) { /* newest first: the first is in force */
        json_t *latest = policy_summary(&hist[0]);
        json_object_set_new(latest, "report", sw_ui_json_or_text(hist[0].report));
        json_object_set_new(o, "latest", latest);
    } else {
        json_object_set_new(o, "latest", json_null());
    }
    for (size_t i = 0; i < n; i++) json_array_append_new(h, policy_summary(&hist[i]));
    json_object_set_new(o, "history", h);
    json_object_set_new(o, "state", state ? sw_ui_json_or_text(state) : json_null());
    sw_store_policy_list_free(hist, n);
    free(state);
    *out = o;
    return SW_OK;
}
