/* A study's settings as canonical JSON: the same settings always give the
 * same bytes (keys in a fixed order, specs in their canonical text), so the
 * store can tell a study's settings apart by comparing text. */
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sw_search_settings_json(const sw_search_settings *s)
{
    char sampler[128], pruner[SW_PRUNER_POLICY_MAX + 64];
    sw_sampler_format(&s->sampler, sampler, sizeof sampler);
    sw_pruner_format(&s->pruner, pruner, sizeof pruner);
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "sampler", json_string(sampler));
    json_object_set_new(o, "pruner", json_string(pruner));
    json_object_set_new(o, "budget", json_integer((json_int_t)s->budget));
    json_object_set_new(o, "total", json_integer((json_int_t)s->total));
    json_object_set_new(o, "trials", json_integer((json_int_t)s->max_trials));
    json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
    json_object_set_new(o, "max_tries", json_integer(s->max_tries));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

static sw_status want_int(json_t *o, const char *key, json_int_t lo, json_int_t *out, sw_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo)
        return sw_error_set(err, SW_ERR_FORMAT, "study settings: '%s' must be a whole number >= %lld", key, (long long)lo);
    *out = json_integer_value(v);
    return SW_OK;
}

sw_status sw_search_settings_parse(const char *text, sw_search_settings *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *o = json_loads(text ? text : "", 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return sw_error_set(err, SW_ERR_FORMAT, "study settings: not a JSON object (%s)", je.text);
    }
    sw_status st = SW_OK;
    const char *sampler = json_string_value(json_object_get(o, "sampler"));
    const char *pruner = json_string_value(json_object_get(o, "pruner"));
    if (!sampler || !pruner) st = sw_error_set(err, SW_ERR_FORMAT, "study settings: no sampler or pruner");
    if (!st) st = sw_sampler_parse(sampler, &out->sampler, err);
    if (!st) st = sw_pruner_parse(pruner, &out->pruner, err);
    json_int_t v;
    if (!st && !(st = want_int(o, "budget", 1, &v, err))) out->budget = (uint64_t)v;
    if (!st && !(st = want_int(o, "total", 0, &v, err))) out->total = (uint64_t)v;
    if (!st && !(st = want_int(o, "trials", 0, &v, err))) out->max_trials = (int64_t)v;
    if (!st && !(st = want_int(o, "seed", 0, &v, err))) out->seed = (uint64_t)v;
    if (!st && !(st = want_int(o, "max_tries", 1, &v, err))) out->max_tries = (int)v;
    json_decref(o);
    return st;
}
