/* The tuner's report as JSON (jansson; numbers are written by jansson with
 * "%.17g", locale-independent) and its Pareto frontier as CSV (sw_snprintf:
 * the "C" locale whatever the process's). */
#include "stopwise/tune.h"
#include "data/json_num.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *point_json(const sw_tune_point *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "policy", json_string(p->policy));
    json_object_set_new(o, "family", json_string(sw_tune_family_name(p->family)));
    json_object_set_new(o, "tokens_fraction", sw_json_num(p->tokens_fraction));
    json_object_set_new(o, "shortfall", sw_json_num(p->shortfall));
    json_object_set_new(o, "worst_shortfall", sw_json_num(p->worst_shortfall));
    json_object_set_new(o, "mean_tokens", sw_json_num(p->mean_tokens));
    return o;
}

char *sw_tune_report_json(const sw_tune_report *r)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "policy", json_string(r->chosen.policy));
    json_object_set_new(o, "family", json_string(sw_tune_family_name(r->chosen.family)));
    json_object_set_new(o, "cv_tokens_fraction", sw_json_num(r->cv_tokens_fraction));
    json_object_set_new(o, "cv_shortfall", sw_json_num(r->cv_shortfall));
    json_object_set_new(o, "cv_worst_shortfall", sw_json_num(r->cv_worst_shortfall));
    json_object_set_new(o, "tokens_fraction", sw_json_num(r->chosen.tokens_fraction));
    json_object_set_new(o, "shortfall", sw_json_num(r->chosen.shortfall));
    json_object_set_new(o, "worst_shortfall", sw_json_num(r->chosen.worst_shortfall));
    json_object_set_new(o, "objective", json_string(sw_tune_objective_name(r->objective)));
    json_object_set_new(o, "epsilon", sw_json_num(r->epsilon));
    json_object_set_new(o, "lambda", sw_json_num(r->lambda));
    json_object_set_new(o, "budget", json_integer((json_int_t)r->budget));
    json_object_set_new(o, "n_curves", json_integer((json_int_t)r->n_curves));
    json_object_set_new(o, "folds", json_integer((json_int_t)r->n_folds));
    json_object_set_new(o, "n_candidates", json_integer((json_int_t)r->n_candidates));
    json_object_set_new(o, "n_replays", json_integer((json_int_t)r->n_replays));
    json_object_set_new(o, "replay_seconds", sw_json_num(r->replay_seconds));
    json_object_set_new(o, "confidence", sw_json_num(r->confidence));
    json_object_set_new(o, "bootstrap", json_integer(r->bootstrap));
    json_object_set_new(o, "ucb_shortfall", sw_json_num(r->ucb_shortfall));
    json_t *cool = json_array();
    for (size_t i = 0; i < r->n_cooldowns; i++) {
        char buf[64];
        sw_snprintf(buf, sizeof buf, "cooldown=%g:shape=%s", r->cooldown_frac[i], sw_cooldown_shape_name(r->cooldown_shape[i]));
        json_array_append_new(cool, json_string(buf));
    }
    json_object_set_new(o, "cooldowns", cool);
    json_object_set_new(o, "val_size", r->val_size ? json_integer((json_int_t)r->val_size) : json_null());
    json_object_set_new(o, "em_standard_error", sw_json_num(r->em_se));
    json_object_set_new(o, "epsilon_below_se", json_boolean(r->epsilon_below_se));
    json_t *fam = json_object();
    for (size_t i = 0; i < r->n_families; i++) {
        const sw_tune_family_report *f = &r->families[i];
        json_t *x = json_object();
        json_object_set_new(x, "policy", json_string(f->chosen.policy));
        json_object_set_new(x, "cv_tokens_fraction", sw_json_num(f->cv_tokens_fraction));
        json_object_set_new(x, "cv_shortfall", sw_json_num(f->cv_shortfall));
        json_object_set_new(x, "cv_worst_shortfall", sw_json_num(f->cv_worst_shortfall));
        json_object_set_new(x, "tokens_fraction", sw_json_num(f->chosen.tokens_fraction));
        json_object_set_new(x, "shortfall", sw_json_num(f->chosen.shortfall));
        json_object_set_new(x, "n_candidates", json_integer((json_int_t)f->n_candidates));
        json_object_set_new(fam, sw_tune_family_name(f->family), x);
    }
    json_object_set_new(o, "families", fam);
    json_t *folds = json_array();
    for (size_t k = 0; k < r->n_folds; k++) {
        const sw_tune_fold *f = &r->folds[k];
        json_t *x = json_object(), *held = json_array();
        for (size_t c = 0; c < r->n_curves; c++)
            if (f->scored_on[c]) json_array_append_new(held, json_integer((json_int_t)c));
        json_object_set_new(x, "held_out", held);
        json_object_set_new(x, "policy", json_string(f->policy));
        json_object_set_new(x, "tokens_fraction", sw_json_num(f->tokens_fraction));
        json_object_set_new(x, "shortfall", sw_json_num(f->shortfall));
        json_array_append_new(folds, x);
    }
    json_object_set_new(o, "cv_folds", folds);
    json_t *par = json_array();
    for (size_t i = 0; i < r->n_pareto; i++) json_array_append_new(par, point_json(&r->pareto[i]));
    json_object_set_new(o, "pareto", par);
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

sw_status sw_tune_pareto_write_csv(const sw_tune_report *r, const char *path, sw_error *err)
{
    size_t cap = 128 + r->n_pareto * 400, len = 0;
    char *buf = malloc(cap);
    if (!buf) return sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
    len += (size_t)snprintf(buf + len, cap - len, "policy,family,tokens_fraction,shortfall,worst_shortfall,mean_tokens\n");
    for (size_t i = 0; i < r->n_pareto; i++) {
        const sw_tune_point *p = &r->pareto[i];
        /* the policy text has commas: quote it (it never holds a quote) */
        len += (size_t)sw_snprintf(buf + len, cap - len, "\"%s\",%s,%.17g,%.17g,%.17g,%.17g\n", p->policy,
                                   sw_tune_family_name(p->family), p->tokens_fraction, p->shortfall,
                                   p->worst_shortfall, p->mean_tokens);
        if (len >= cap) {
            free(buf);
            return sw_error_set(err, SW_ERR_INTERNAL, "tune: Pareto CSV line too long");
        }
    }
    sw_status st = sw_file_write_atomic(path, buf, len, err);
    free(buf);
    return st;
}
