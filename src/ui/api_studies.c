/* The studies endpoints: every study, and one study's trials with their
 * rows, parameters and EM curves (where each was pruned is where its curve
 * ends, status pruned). The page computes parameter importance from these.
 * A search study's trials show the search's own dimensions (the values
 * search_trials.params holds for the trial named by the run's "trial" tag),
 * not the run's composed options: grouping by "schedule = cosine:lr=0.0031"
 * would make every run its own group. Its importance is computed here, as
 * `stopwise search` reports it (sw_search_trials_importance). */
#include "ui/internal.h"

#include "data/json_num.h"
#include "stopwise/search.h"

#include <stdlib.h>
#include <string.h>

#define STUDY_MAX_TRIALS 2000 /* one answer; a bigger study says it was cut */

static json_t *study_json(const sw_store_study *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(st->id));
    json_object_set_new(o, "name", json_string(st->name));
    json_object_set_new(o, "direction", json_string(st->direction));
    json_object_set_new(o, "n_trials", json_integer(st->n_trials));
    json_object_set_new(o, "created", sw_json_num(st->created));
    return o;
}

sw_status sw_ui_api_studies(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err)
{
    (void)rq;
    sw_store_study *list;
    size_t n;
    sw_status st = sw_store_studies_list(s, &list, &n);
    if (st) return sw_ui_store_error(s, st, err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, study_json(&list[i]));
    sw_store_study_list_free(list, n);
    json_t *o = json_object();
    json_object_set_new(o, "studies", arr);
    *out = o;
    return SW_OK;
}

/* The search dimensions' values of a search study's run (NULL: not a search
 * trial's run, or none recorded); a new reference. */
static json_t *search_params(sw_store *s, int64_t run_id, const sw_store_search_trial *st, size_t n)
{
    char *tag = NULL;
    long long number;
    if (!n || sw_store_tag_get(s, run_id, "trial", &tag) != SW_OK) return NULL;
    json_t *p = NULL;
    if (sw_parse_int(tag, 0, INT64_MAX, &number) == SW_OK)
        for (size_t i = 0; i < n && !p; i++)
            if (st[i].number == number) {
                p = json_loads(st[i].params, 0, NULL);
                if (p && !json_is_object(p)) json_decref(p), p = NULL;
            }
    free(tag);
    return p;
}

/* One trial: its run's row, parameters and (tokens, val_em) curve. */
static sw_status trial_json(sw_store *s, int64_t number, int64_t run_id, const sw_store_search_trial *search,
                            size_t n_search, json_t **out, sw_error *err)
{
    sw_store_run_row row;
    sw_status st = sw_ui_row_get(s, run_id, &row, err);
    if (st) return st;
    sw_store_kv *params = NULL;
    size_t np = 0;
    sw_store_curve c = {0};
    st = sw_store_params_list(s, run_id, &params, &np);
    if (!st) st = sw_store_curve_get(s, run_id, &c);
    if (st) st = sw_ui_store_error(s, st, err);
    else {
        json_t *o = json_object(), *p = search_params(s, run_id, search, n_search), *tok = json_array(),
               *em = json_array();
        json_object_set_new(o, "number", json_integer(number));
        json_object_set_new(o, "run", sw_ui_row_json(&row));
        json_object_set_new(o, "search", json_boolean(p != NULL));
        if (!p) {
            p = json_object();
            for (size_t i = 0; i < np; i++) json_object_set_new(p, params[i].key, json_string(params[i].value));
        }
        json_object_set_new(o, "params", p);
        for (size_t i = 0; i < c.n; i++) {
            json_array_append_new(tok, json_integer((json_int_t)c.evals[i].tokens));
            json_array_append_new(em, sw_json_num(c.evals[i].val_em));
        }
        json_object_set_new(o, "tokens", tok);
        json_object_set_new(o, "val_em", em);
        *out = o;
    }
    sw_store_kv_list_free(params, np);
    sw_store_curve_clear(&c);
    sw_store_run_clear(&row.run);
    return st;
}

/* A search study's importance, [{name, share}] in the space's order; NULL
 * when the study is no search or has fewer than 3 finished trials. */
static json_t *search_importance(sw_store *s, const char *name, const sw_store_search_trial *t, size_t n)
{
    char *space_text = NULL, *settings_text = NULL;
    sw_space *sp = NULL;
    sw_search_settings set;
    sw_error e;
    double *imp = NULL;
    json_t *out = NULL;
    if (n && sw_store_search_open(s, name, NULL, NULL, NULL, &space_text, &settings_text) == SW_OK &&
        sw_space_parse(space_text, strlen(space_text), name, &sp, &e) == SW_OK &&
        sw_search_settings_parse(settings_text, &set, &e) == SW_OK && (imp = sw_search_trials_importance(sp, &set, t, n))) {
        out = json_array();
        for (size_t d = 0; d < sw_space_n_dims(sp); d++)
            json_array_append_new(out, json_pack("{s:s, s:o}", "name", sw_space_dim_name(sp, d), "share", sw_json_num(imp[d])));
    }
    free(imp);
    sw_space_free(sp);
    free(space_text);
    free(settings_text);
    return out;
}

sw_status sw_ui_api_study(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err)
{
    const char *name = rq->param(rq, "name");
    if (!name || !*name) return sw_error_set(err, SW_ERR_INVALID, "parameter name: a study name is needed");
    sw_store_study study;
    sw_status st = sw_store_study_get(s, name, &study);
    if (st) return sw_ui_store_error(s, st, err);
    int64_t *ids = NULL;
    size_t n = 0;
    st = sw_store_trials_list(s, study.id, &ids, &n);
    if (st) {
        sw_store_study_clear(&study);
        return sw_ui_store_error(s, st, err);
    }
    sw_store_search_trial *search = NULL;
    size_t n_search = 0;
    if (sw_store_search_trials(s, study.id, &search, &n_search) != SW_OK) search = NULL, n_search = 0;
    json_t *o = json_object(), *trials = json_array();
    json_object_set_new(o, "study", study_json(&study));
    for (size_t i = 0; i < n && i < STUDY_MAX_TRIALS && !st; i++) {
        json_t *t = NULL;
        st = trial_json(s, (int64_t)i, ids[i], search, n_search, &t, err);
        if (!st) json_array_append_new(trials, t);
    }
    json_t *imp = search_importance(s, name, search, n_search);
    if (imp) json_object_set_new(o, "importance", imp);
    sw_store_search_trial_list_free(search, n_search);
    json_object_set_new(o, "trials", trials);
    json_object_set_new(o, "truncated", json_boolean(n > STUDY_MAX_TRIALS));
    free(ids);
    sw_store_study_clear(&study);
    if (st) {
        json_decref(o);
        return st;
    }
    *out = o;
    return SW_OK;
}
