/* Feature selection for tabular data (train.h sw_select_features;
 * docs/FEATURES.md): ranks a CSV dataset's columns by mutual information,
 * the L1 path or permutation importance, and decides how many to keep. */
#include "stopwise/train.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[] = {NULL, "mi", "l1", "permutation"};

const char *sw_select_method_name(sw_select_method m)
{
    return m >= SW_SELECT_MI && m <= SW_SELECT_PERMUTATION ? method_names[m] : NULL;
}

int sw_select_method_find(const char *name)
{
    for (int m = SW_SELECT_MI; name && m <= SW_SELECT_PERMUTATION; m++)
        if (!strcmp(name, method_names[m])) return m;
    return -1;
}

sw_select_options sw_select_default_options(void)
{
    sw_select_options o;
    memset(&o, 0, sizeof o);
    o.method = SW_SELECT_MI;
    o.seed = 1;
    o.neighbors = 3;
    o.shuffles = 5;
    o.l1 = sw_l1_path_default_params();
    o.repeats = 5;
    return o;
}

void sw_feature_ranking_free(sw_feature_ranking *r)
{
    if (!r) return;
    for (int j = 0; r->names && j < r->n; j++) free(r->names[j]);
    free(r->names);
    free(r->order);
    free(r->score);
    free(r->spread);
    free(r->em_drop);
    memset(r, 0, sizeof *r);
}

static sw_status ranking_alloc(sw_feature_ranking *r, const sw_dataset *ds, sw_error *err)
{
    int n = sw_dataset_num_features(ds);
    r->n = n;
    r->base_em = NAN;
    r->names = calloc((size_t)n, sizeof *r->names);
    r->order = calloc((size_t)n, sizeof *r->order);
    r->score = calloc((size_t)n, sizeof *r->score);
    r->spread = calloc((size_t)n, sizeof *r->spread);
    r->em_drop = calloc((size_t)n, sizeof *r->em_drop);
    int ok = r->names && r->order && r->score && r->spread && r->em_drop;
    for (int j = 0; ok && j < n; j++) ok = (r->names[j] = strdup(sw_dataset_feature_name(ds, j))) != NULL;
    return ok ? SW_OK : sw_error_set(err, SW_ERR_NOMEM, "out of memory");
}

typedef struct { int j; double s; } by_score;

static int by_score_cmp(const void *pa, const void *pb)
{
    const by_score *a = pa, *b = pb;
    if (a->s != b->s) return a->s > b->s ? -1 : 1;
    return a->j - b->j;
}

/* order = the features by score, highest first (ties: the earlier column). */
static sw_status order_by_score(sw_feature_ranking *r, sw_error *err)
{
    by_score *k = malloc(sizeof *k * (size_t)r->n);
    if (!k) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (int j = 0; j < r->n; j++) k[j] = (by_score){j, isnan(r->score[j]) ? -INFINITY : r->score[j]};
    qsort(k, (size_t)r->n, sizeof *k, by_score_cmp);
    for (int j = 0; j < r->n; j++) r->order[j] = k[j].j;
    free(k);
    return SW_OK;
}

/* A split's features (n, F) and labels, malloc'd. */
static sw_status split_rows(const sw_dataset *ds, sw_split s, float **x, int32_t **y, size_t *n, sw_error *err)
{
    int F = sw_dataset_num_features(ds);
    *n = sw_dataset_count(ds, s);
    *x = malloc(sizeof **x * (*n ? *n : 1) * (size_t)F);
    *y = malloc(sizeof **y * (*n ? *n : 1));
    if (!*x || !*y) return sw_error_set(err, SW_ERR_NOMEM, "out of memory for %zu rows", *n);
    for (size_t i = 0; i < *n; i++) {
        memcpy(*x + i * (size_t)F, sw_dataset_features(ds, s, i), sizeof **x * (size_t)F);
        (*y)[i] = sw_dataset_label(ds, s, i);
    }
    return SW_OK;
}

static sw_status rank_mi(const sw_dataset *ds, const sw_select_options *o, sw_feature_ranking *r, sw_error *err)
{
    float *x = NULL;
    int32_t *y = NULL, *shuffled = NULL;
    uint32_t *perm = NULL;
    size_t n;
    int F = r->n;
    sw_status st = split_rows(ds, SW_SPLIT_TRAIN, &x, &y, &n, err);
    if (!st && (!(shuffled = malloc(sizeof *shuffled * (n ? n : 1))) || !(perm = malloc(sizeof *perm * (n ? n : 1)))))
        st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (int j = 0; !st && j < F; j++) r->score[j] = sw_mutual_info(x + j, (size_t)F, y, n, o->neighbors);
    if (!st) st = order_by_score(r, err);
    if (!st && o->keep == 0) {
        /* the noise level: the largest MI of any feature against shuffled labels */
        double null = 0;
        for (int s = 0; s < o->shuffles; s++) {
            sw_rng rng;
            sw_rng_seed(&rng, sw_hash3(o->seed, 0x6d69, (uint64_t)s));
            for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
            sw_rng_shuffle(&rng, perm, n);
            for (size_t i = 0; i < n; i++) shuffled[i] = y[perm[i]];
            for (int j = 0; j < F; j++) null = fmax(null, sw_mutual_info(x + j, (size_t)F, shuffled, n, o->neighbors));
        }
        while (r->keep < F && r->score[r->order[r->keep]] > null) r->keep++;
        snprintf(r->rule, sizeof r->rule,
                 "MI above %.4f nats, the largest of any feature against shuffled labels (%d shuffles)", null,
                 o->shuffles);
    }
    free(x);
    free(y);
    free(shuffled);
    free(perm);
    return st;
}

static sw_status rank_l1(const sw_dataset *ds, const sw_select_options *o, sw_feature_ranking *r, sw_error *err)
{
    float *x = NULL, *xv = NULL;
    int32_t *y = NULL, *yv = NULL;
    size_t n, nv;
    sw_l1_path *path = NULL;
    sw_status st = split_rows(ds, SW_SPLIT_TRAIN, &x, &y, &n, err);
    if (!st) st = split_rows(ds, SW_SPLIT_VAL, &xv, &yv, &nv, err);
    if (!st) st = sw_l1_path_fit(x, y, n, r->n, sw_dataset_num_classes(ds), xv, yv, nv, &o->l1, &path, err);
    if (!st) {
        for (int j = 0; j < r->n; j++) {
            r->order[j] = path->order[j];
            r->score[j] = path->entry[j] >= 0 && path->lambda[0] > 0 ? path->lambda[path->entry[j]] / path->lambda[0] : 0;
        }
        int last = path->points - 1; /* the sparsest point within 1 SE of the best validation EM */
        double best = -1;
        for (int t = 0; nv && t < path->points; t++) best = fmax(best, path->val_em[t]);
        double se = nv ? sqrt(best * (100 - best) / (double)nv) : 0;
        if (nv)
            for (last = 0; path->val_em[last] < best - se; last++) {}
        if (o->keep == 0) {
            for (int j = 0; j < r->n; j++) r->keep += path->entry[j] >= 0 && path->entry[j] <= last;
            if (nv)
                snprintf(r->rule, sizeof r->rule,
                         "the features in at the sparsest penalty within 1 SE of the best validation EM: %.2f at "
                         "lambda = %.3g x lambda_max (best %.2f, SE %.2f, %zu rows)",
                         path->val_em[last], path->lambda[last] / path->lambda[0], best, se, nv);
            else
                snprintf(r->rule, sizeof r->rule, "no validation rows: every feature that entered the path");
        }
    }
    sw_l1_path_free(path);
    free(x);
    free(y);
    free(xv);
    free(yv);
    return st;
}

/* The split options a run recorded in its checkpoint (as eval reads them). */
static void split_of_checkpoint(const sw_checkpoint *ck, sw_data_options *o)
{
    const char *cfg = sw_checkpoint_meta(ck, "config");
    json_t *c = cfg ? json_loads(cfg, 0, NULL) : NULL;
    if (!c) return;
    o->seed = (uint64_t)json_integer_value(json_object_get(c, "data_seed"));
    o->val_frac = json_real_value(json_object_get(c, "val_frac"));
    o->test_frac = json_real_value(json_object_get(c, "test_frac"));
    o->max_examples = (size_t)json_integer_value(json_object_get(c, "max_examples"));
    json_decref(c);
}

static sw_status rank_permutation(const char *data, const sw_data_options *data_opt, const sw_select_options *o,
                                  sw_feature_ranking *r, sw_error *err)
{
    sw_status st;
    if (o->model) {
        snprintf(r->model, sizeof r->model, "%s", o->model);
    } else {
        if (!o->out_dir) return sw_error_set(err, SW_ERR_INVALID, "permutation importance: no model and no folder to train one in");
        sw_train_options t = sw_train_default_options();
        t.data = data;
        t.data_opt = *data_opt;
        t.model = o->model_spec;
        t.budget = o->budget;
        t.seed = o->seed;
        t.out_dir = o->out_dir;
        sw_train_result res;
        if ((st = sw_train(&t, NULL, NULL, &res, err))) return st;
        snprintf(r->model, sizeof r->model, "%s", res.checkpoint);
    }
    sw_checkpoint ck;
    if ((st = sw_checkpoint_load(r->model, &ck, err))) return st;
    sw_classes *classes = NULL;
    sw_dataset *ds = NULL;
    const char *labels = sw_checkpoint_meta(&ck, "labels");
    sw_data_options d = *data_opt;
    split_of_checkpoint(&ck, &d);
    if (!labels || sw_model_get_spec(ck.model)->kind != SW_MODEL_MLP) {
        st = sw_error_set(err, SW_ERR_INVALID, "%s: permutation importance needs an mlp classifier's checkpoint", r->model);
    } else if ((st = sw_classes_from_json(labels, &classes, err))) {
        st = sw_error_set(err, st, "%s: %s", r->model, err->msg);
    } else if (sw_classes_feature_name(classes, 0)) {
        st = sw_error_set(err, SW_ERR_INVALID, "%s: the model was trained on a selection of %d columns; permutation "
                                               "importance ranks every column, so it needs a model of all of them",
                          r->model, sw_classes_num_features(classes));
    } else {
        d.classes = classes; /* the model's class ids */
        st = sw_dataset_load(data, &d, &ds, err);
    }
    if (!st) st = ranking_alloc(r, ds, err);
    if (!st)
        st = sw_permutation_importance(ck.model, ds, SW_SPLIT_VAL, o->repeats, o->seed, r->score, r->spread, r->em_drop,
                                       &r->base_em, err);
    if (!st) st = order_by_score(r, err);
    if (!st && o->keep == 0) {
        /* a column the model ignores scores about 0 either way: the largest
         * decrease any column shows is how far noise reaches, upwards too */
        double f = 2 / sqrt((double)o->repeats), noise = 0;
        for (int j = 0; j < r->n; j++) noise = fmax(noise, -r->score[j]);
        while (r->keep < r->n && r->score[r->order[r->keep]] > noise &&
               r->score[r->order[r->keep]] > f * r->spread[r->order[r->keep]])
            r->keep++;
        snprintf(r->rule, sizeof r->rule,
                 "a validation loss rise above 2 standard errors of its %d repeats and above %.4f, the largest "
                 "fall any column shows (%zu rows)",
                 o->repeats, noise, sw_dataset_count(ds, SW_SPLIT_VAL));
    }
    sw_dataset_free(ds);
    sw_classes_free(classes);
    sw_checkpoint_free(&ck);
    return st;
}

sw_status sw_select_features(const char *data, const sw_data_options *data_opt, const sw_select_options *opt,
                             sw_feature_ranking *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    sw_data_options def = sw_data_default_options();
    if (!data_opt) data_opt = &def;
    sw_select_options o = opt ? *opt : sw_select_default_options();
    if (!data || strncmp(data, "csv:", 4))
        return sw_error_set(err, SW_ERR_INVALID, "feature selection reads named columns: the data must be csv:PATH, not %s",
                            data ? data : "(none)");
    if (data_opt->features)
        return sw_error_set(err, SW_ERR_INVALID, "feature selection ranks every column: give no feature list");
    if (!sw_select_method_name(o.method))
        return sw_error_set(err, SW_ERR_INVALID, "feature selection: unknown method %d", (int)o.method);
    if (o.keep < 0 || o.neighbors < 1 || o.shuffles < 1 || o.repeats < 1)
        return sw_error_set(err, SW_ERR_INVALID, "feature selection: keep >= 0, neighbors, shuffles and repeats >= 1");
    sw_status st;
    if (o.method == SW_SELECT_PERMUTATION) {
        st = rank_permutation(data, data_opt, &o, out, err);
    } else {
        sw_dataset *ds;
        if ((st = sw_dataset_load(data, data_opt, &ds, err))) return st;
        st = ranking_alloc(out, ds, err);
        if (!st) st = o.method == SW_SELECT_MI ? rank_mi(ds, &o, out, err) : rank_l1(ds, &o, out, err);
        sw_dataset_free(ds);
    }
    if (!st && o.keep > out->n)
        st = sw_error_set(err, SW_ERR_INVALID, "--keep %d: %s has %d feature columns", o.keep, data + 4, out->n);
    if (!st && o.keep > 0) {
        out->keep = o.keep;
        snprintf(out->rule, sizeof out->rule, "the %d best, as asked", o.keep);
    }
    if (!st && out->keep < 1) {
        out->keep = 1;
        snprintf(out->rule + strlen(out->rule), sizeof out->rule - strlen(out->rule), "; none passed, so the best one");
    }
    if (st) sw_feature_ranking_free(out);
    return st;
}
