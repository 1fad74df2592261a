/* Class lists of classification tasks: names, feature count and scale (and,
 * for a model trained on a selection of CSV columns, those columns' names),
 * with a JSON form for checkpoints and a parser for predict's feature lines. */
#include "data/internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sw_classes {
    int k, nf;
    double scale;
    char **names;
    char **fnames; /* (nf) the feature columns' names, or NULL (docs/FEATURES.md) */
};

void sw_classes_free(sw_classes *c)
{
    if (!c) return;
    for (int i = 0; i < c->k; i++) free(c->names[i]);
    free(c->names);
    for (int j = 0; c->fnames && j < c->nf; j++) free(c->fnames[j]);
    free(c->fnames);
    free(c);
}

sw_classes *sw_classes_new(int num_features, double scale, const char *const *names, int k)
{
    sw_classes *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->nf = num_features;
    c->scale = scale;
    c->names = calloc(k ? (size_t)k : 1, sizeof *c->names);
    if (!c->names) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < k; i++) {
        c->names[i] = strdup(names[i]);
        c->k = i + 1;
        if (!c->names[i]) {
            sw_classes_free(c);
            return NULL;
        }
    }
    c->k = k;
    return c;
}

sw_status sw_classes_set_feature_names(sw_classes *c, const char *const *names, sw_error *err)
{
    char **f = calloc((size_t)c->nf, sizeof *f);
    for (int j = 0; f && j < c->nf; j++)
        if (!(f[j] = strdup(names[j]))) {
            for (int i = 0; i < j; i++) free(f[i]);
            free(f);
            f = NULL;
        }
    if (!f) return sw_error_set(err, SW_ERR_NOMEM, "classes: out of memory");
    for (int j = 0; c->fnames && j < c->nf; j++) free(c->fnames[j]);
    free(c->fnames);
    c->fnames = f;
    return SW_OK;
}

sw_classes *sw_classes_copy(const sw_classes *c)
{
    if (!c) return NULL;
    sw_classes *d = sw_classes_new(c->nf, c->scale, (const char *const *)c->names, c->k);
    if (d && c->fnames && sw_classes_set_feature_names(d, (const char *const *)c->fnames, NULL)) {
        sw_classes_free(d);
        return NULL;
    }
    return d;
}

const char *sw_classes_feature_name(const sw_classes *c, int j)
{
    return c && c->fnames && j >= 0 && j < c->nf ? c->fnames[j] : NULL;
}

int sw_classes_count(const sw_classes *c) { return c ? c->k : 0; }
int sw_classes_num_features(const sw_classes *c) { return c ? c->nf : 0; }
double sw_classes_feature_scale(const sw_classes *c) { return c ? c->scale : 1; }
const char *sw_classes_name(const sw_classes *c, int k) { return c && k >= 0 && k < c->k ? c->names[k] : NULL; }

int sw_classes_find(const sw_classes *c, const char *name)
{
    if (!c || !name) return -1;
    for (int i = 0; i < c->k; i++)
        if (strcmp(c->names[i], name) == 0) return i;
    return -1;
}

char *sw_classes_to_json(const sw_classes *c)
{
    if (!c) return NULL;
    json_t *o = json_object(), *a = json_array();
    if (!o || !a) {
        json_decref(o);
        json_decref(a);
        return NULL;
    }
    for (int i = 0; i < c->k; i++) json_array_append_new(a, json_string(c->names[i]));
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "num_features", json_integer(c->nf));
    json_object_set_new(o, "feature_scale", json_real(c->scale));
    json_object_set_new(o, "names", a);
    if (c->fnames) { /* only a model trained on a selection of columns carries them */
        json_t *f = json_array();
        for (int j = 0; f && j < c->nf; j++) json_array_append_new(f, json_string(c->fnames[j]));
        json_object_set_new(o, "features", f);
    }
    /* JSON_REAL_PRECISION(17): the scale survives the round trip exactly */
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

sw_status sw_classes_from_json(const char *json, sw_classes **out, sw_error *err)
{
    *out = NULL;
    if (!json) return sw_error_set(err, SW_ERR_INVALID, "classes: no JSON");
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    if (!o) return sw_error_set(err, SW_ERR_FORMAT, "classes: invalid JSON at offset %d: %s", je.position, je.text);
    sw_status st = SW_OK;
    const char **names = NULL, **fnames = NULL;
    json_t *ver = json_object_get(o, "version"), *nf = json_object_get(o, "num_features"),
           *sc = json_object_get(o, "feature_scale"), *a = json_object_get(o, "names");
    if (!json_is_integer(ver)) {
        st = sw_error_set(err, SW_ERR_FORMAT, "classes: expected an object with an integer \"version\"");
        goto done;
    }
    if (json_integer_value(ver) != 1) {
        st = sw_error_set(err, SW_ERR_VERSION, "classes: version %lld, expected 1", (long long)json_integer_value(ver));
        goto done;
    }
    if (!json_is_integer(nf) || json_integer_value(nf) < 1 || json_integer_value(nf) > (1 << 26) || !json_is_number(sc) ||
        !isfinite(json_number_value(sc)) || !json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > (1 << 20)) {
        st = sw_error_set(err, SW_ERR_FORMAT,
                          "classes: expected \"num_features\" (1..2^26), a finite \"feature_scale\" and a non-empty \"names\" array");
        goto done;
    }
    size_t k = json_array_size(a);
    names = malloc(k * sizeof *names);
    if (!names) {
        st = sw_error_set(err, SW_ERR_NOMEM, "classes: out of memory");
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_string(e)) {
            st = sw_error_set(err, SW_ERR_FORMAT, "classes: names[%zu]: expected a string", i);
            goto done;
        }
        names[i] = json_string_value(e);
    }
    json_t *fa = json_object_get(o, "features");
    if (fa && (!json_is_array(fa) || json_array_size(fa) != (size_t)json_integer_value(nf))) {
        st = sw_error_set(err, SW_ERR_FORMAT, "classes: \"features\": expected an array of num_features (%lld) names",
                          (long long)json_integer_value(nf));
        goto done;
    }
    if (fa) {
        fnames = malloc(json_array_size(fa) * sizeof *fnames);
        if (!fnames) {
            st = sw_error_set(err, SW_ERR_NOMEM, "classes: out of memory");
            goto done;
        }
        for (size_t j = 0; j < json_array_size(fa); j++) {
            json_t *e = json_array_get(fa, j);
            if (!json_is_string(e)) {
                st = sw_error_set(err, SW_ERR_FORMAT, "classes: features[%zu]: expected a string", j);
                goto done;
            }
            fnames[j] = json_string_value(e);
        }
    }
    *out = sw_classes_new((int)json_integer_value(nf), json_number_value(sc), names, (int)k);
    if (!*out) st = sw_error_set(err, SW_ERR_NOMEM, "classes: out of memory");
    else if (fnames && (st = sw_classes_set_feature_names(*out, fnames, err))) {
        sw_classes_free(*out);
        *out = NULL;
    }
done:
    free(fnames);
    free(names);
    json_decref(o);
    return st;
}

sw_status sw_classes_parse_features(const sw_classes *c, const char *line, float *out, sw_error *err)
{
    if (!c || !line) return sw_error_set(err, SW_ERR_INVALID, "features: no class list or line");
    const char *p = line;
    char field[128];
    for (int col = 0;; col++) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n')) n--;
        while (n && (*p == ' ' || *p == '\t')) p++, n--;
        if (col >= c->nf)
            return sw_error_set(err, SW_ERR_FORMAT, "features: column %d: expected %d comma-separated numbers, got more",
                                col + 1, c->nf);
        double v;
        if (n >= sizeof field) n = sizeof field - 1;
        memcpy(field, p, n);
        field[n] = 0;
        if (sw_parse_double(field, &v))
            return sw_error_set(err, SW_ERR_FORMAT, "features: column %d: expected a number, got \"%s\"", col + 1, field);
        out[col] = (float)(v * c->scale);
        if (!end) {
            if (col + 1 != c->nf)
                return sw_error_set(err, SW_ERR_FORMAT, "features: expected %d comma-separated numbers, got %d", c->nf,
                                    col + 1);
            return SW_OK;
        }
        p = end + 1;
    }
}
