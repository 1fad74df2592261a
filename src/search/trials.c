/* A study's stored trials as the search layer reads them: their points,
 * their scores (how far each got, then its value) and the importance of each
 * dimension over the finished ones. The workers' samplers, the report and
 * the dashboard all read trials through these, so they rank alike. */
#include "internal.h"

#include <jansson.h>
#include <stdlib.h>

sw_status sw_search_trial_point(const sw_store_search_trial *t, size_t n, double *p, sw_error *err)
{
    json_error_t je;
    const char *text = t->point ? t->point : "";
    json_t *a = json_loads(text, 0, &je);
    sw_status st = SW_OK;
    if (!json_is_array(a) || json_array_size(a) != n)
        st = sw_error_set(err, SW_ERR_FORMAT, "trial %lld's point '%.60s' is not an array of %zu numbers",
                          (long long)t->number, text, n);
    for (size_t i = 0; !st && i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_number(v))
            st = sw_error_set(err, SW_ERR_FORMAT, "trial %lld's point has a non-number", (long long)t->number);
        else p[i] = json_number_value(v);
    }
    json_decref(a);
    return st;
}

/* How far a finished trial got: its place on the ladder of decision points
 * (a hyperband bracket starts higher up), or above all for one that trained
 * to its end. */
double sw_search_trial_score(const sw_search_settings *set, const sw_store_search_trial *t)
{
    int64_t level = t->state == SW_STORE_TRIAL_COMPLETED
                        ? 1000
                        : t->depth + (set->pruner.kind == SW_PRUNER_HYPERBAND ? t->bracket : 0);
    return sw_search_score(level, t->value);
}

double *sw_search_trials_importance(const sw_space *sp, const sw_search_settings *set, const sw_store_search_trial *t,
                                    size_t n)
{
    size_t d = sw_space_n_dims(sp);
    if (!d) return NULL;
    double *pts = malloc((n ? n : 1) * d * sizeof *pts), *scores = malloc((n ? n : 1) * sizeof *scores);
    double *imp = malloc(d * sizeof *imp);
    size_t m = 0;
    sw_error err;
    for (size_t i = 0; pts && scores && i < n; i++) {
        if (t[i].state != SW_STORE_TRIAL_COMPLETED && t[i].state != SW_STORE_TRIAL_PRUNED) continue;
        if (sw_search_trial_point(&t[i], d, pts + m * d, &err)) continue;
        scores[m++] = sw_search_trial_score(set, &t[i]);
    }
    if (!pts || !scores || !imp || m < 3 || sw_search_importance(sp, pts, scores, m, imp, &err)) {
        free(imp);
        imp = NULL;
    }
    free(pts);
    free(scores);
    return imp;
}
