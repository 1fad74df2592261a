/* Ensembles of checkpoints: opening them as one model, and answering input
 * lines with it (docs/ENSEMBLES.md). Evaluation is in ensemble_eval.c, and
 * where the members come from (a run's snapshots, the store's best runs) in
 * ensemble_members.c. */
#include "train/ensemble.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first difference between two vocabularies, or "" if none. */
static void vocab_difference(const sw_vocab *a, const sw_vocab *b, char *buf, size_t len)
{
    buf[0] = 0;
    if (sw_vocab_target_spaced(a) != sw_vocab_target_spaced(b)) {
        snprintf(buf, len, "targets split %s in one and %s in the other",
                 sw_vocab_target_spaced(a) ? "on spaces" : "into characters",
                 sw_vocab_target_spaced(b) ? "on spaces" : "into characters");
        return;
    }
    if (sw_vocab_num_input(a) != sw_vocab_num_input(b) || sw_vocab_num_target(a) != sw_vocab_num_target(b)) {
        snprintf(buf, len, "%d input and %d target symbols against %d and %d", sw_vocab_num_input(a),
                 sw_vocab_num_target(a), sw_vocab_num_input(b), sw_vocab_num_target(b));
        return;
    }
    for (int id = 0; id < sw_vocab_size(a); id++) {
        const char *x = sw_vocab_symbol(a, id), *y = sw_vocab_symbol(b, id);
        if (strcmp(x ? x : "", y ? y : "")) {
            snprintf(buf, len, "symbol %d is '%s' in one and '%s' in the other", id, x ? x : "", y ? y : "");
            return;
        }
    }
}

/* The first difference between two class lists, or "" if none. */
static void classes_difference(const sw_classes *a, const sw_classes *b, char *buf, size_t len)
{
    buf[0] = 0;
    if (sw_classes_count(a) != sw_classes_count(b)) {
        snprintf(buf, len, "%d classes against %d", sw_classes_count(a), sw_classes_count(b));
        return;
    }
    if (sw_classes_num_features(a) != sw_classes_num_features(b)) {
        snprintf(buf, len, "%d features against %d", sw_classes_num_features(a), sw_classes_num_features(b));
        return;
    }
    for (int c = 0; c < sw_classes_count(a); c++)
        if (strcmp(sw_classes_name(a, c), sw_classes_name(b, c))) {
            snprintf(buf, len, "class %d is '%s' in one and '%s' in the other", c, sw_classes_name(a, c),
                     sw_classes_name(b, c));
            return;
        }
    if (sw_classes_feature_scale(a) != sw_classes_feature_scale(b))
        sw_snprintf(buf, len, "features scaled by %g against %g", sw_classes_feature_scale(a),
                 sw_classes_feature_scale(b));
}

/* Member i's companion (vocabulary or class list), checked against member 0's. */
static sw_status add_companion(sw_ensemble *e, int i, sw_error *err)
{
    const sw_checkpoint *ck = &e->ckpt[i];
    const char *path = e->paths[i], *v = sw_checkpoint_meta(ck, "vocab"), *c = sw_checkpoint_meta(ck, "labels");
    if (!v && !c) return sw_error_set(err, SW_ERR_FORMAT, "%s: metadata has neither a vocabulary nor labels", path);
    int sequence = v != NULL;
    if (i > 0 && sequence != e->sequence)
        return sw_error_set(err, SW_ERR_INVALID, "%s is a %s and %s a %s: an ensemble's members share one task",
                            e->paths[0], e->sequence ? "sequence model" : "classifier", path,
                            sequence ? "sequence model" : "classifier");
    e->sequence = sequence;
    sw_error pe;
    char diff[512];
    if (sequence) {
        sw_vocab *vocab;
        if (sw_vocab_from_json(v, &vocab, &pe)) return sw_error_set(err, SW_ERR_FORMAT, "%s: %s", path, pe.msg);
        if (i == 0) {
            e->vocab = vocab;
            return SW_OK;
        }
        vocab_difference(e->vocab, vocab, diff, sizeof diff);
        sw_vocab_free(vocab);
    } else {
        sw_classes *classes;
        if (sw_classes_from_json(c, &classes, &pe)) return sw_error_set(err, SW_ERR_FORMAT, "%s: %s", path, pe.msg);
        if (i == 0) {
            e->classes = classes;
            return SW_OK;
        }
        classes_difference(e->classes, classes, diff, sizeof diff);
        sw_classes_free(classes);
    }
    if (diff[0])
        return sw_error_set(err, SW_ERR_INVALID, "%s and %s do not share their %s (%s): an ensemble averages "
                            "distributions over the same symbols", e->paths[0], path,
                            sequence ? "vocabulary" : "labels", diff);
    return SW_OK;
}

sw_status sw_ensemble_open(const char *const *paths, int n, sw_ensemble **out, sw_error *err)
{
    *out = NULL;
    if (n < 1 || !paths) return sw_error_set(err, SW_ERR_INVALID, "an ensemble needs at least one checkpoint");
    if (n > SW_ENSEMBLE_MAX)
        return sw_error_set(err, SW_ERR_INVALID, "%d checkpoints: an ensemble takes at most %d", n, SW_ENSEMBLE_MAX);
    sw_ensemble *e = calloc(1, sizeof *e);
    if (!e) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    e->ckpt = calloc((size_t)n, sizeof *e->ckpt);
    e->models = calloc((size_t)n, sizeof *e->models);
    e->paths = calloc((size_t)n, sizeof *e->paths);
    sw_status st = e->ckpt && e->models && e->paths ? SW_OK : sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) {
        if (!(e->paths[i] = strdup(paths[i]))) {
            st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
            break;
        }
        if ((st = sw_checkpoint_load(paths[i], &e->ckpt[i], err))) break;
        e->n = i + 1;
        e->models[i] = e->ckpt[i].model;
        st = add_companion(e, i, err);
    }
    if (!st && e->sequence) { /* ids index every member's embedding: the sizes agree too */
        int V = sw_vocab_size(e->vocab);
        for (int i = 0; !st && i < n; i++)
            if (sw_model_get_spec(e->models[i])->vocab != V)
                st = sw_error_set(err, SW_ERR_FORMAT, "%s: the model has %d symbols, its vocabulary %d", paths[i],
                                  sw_model_get_spec(e->models[i])->vocab, V);
        e->allowed = malloc((size_t)V);
        if (!st && !e->allowed) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        for (int t = 0; !st && t < V; t++) e->allowed[t] = sw_vocab_is_target(e->vocab, t) || t == SW_TOKEN_EOS;
    }
    if (!st && !e->sequence) {
        int C = sw_classes_count(e->classes);
        for (int i = 0; !st && i < n; i++)
            if (sw_model_get_spec(e->models[i])->n_classes != C)
                st = sw_error_set(err, SW_ERR_FORMAT, "%s: the model has %d classes, its labels %d", paths[i],
                                  sw_model_get_spec(e->models[i])->n_classes, C);
    }
    if (st) {
        e->n = n; /* free every slot that was filled */
        sw_ensemble_free(e);
        return st;
    }
    *out = e;
    return SW_OK;
}

void sw_ensemble_free(sw_ensemble *e)
{
    if (!e) return;
    for (int i = 0; i < e->n; i++) {
        if (e->ckpt) sw_checkpoint_free(&e->ckpt[i]);
        if (e->paths) free(e->paths[i]);
    }
    free(e->ckpt);
    free(e->models);
    free(e->paths);
    sw_vocab_free(e->vocab);
    sw_classes_free(e->classes);
    free(e->allowed);
    free(e);
}

int sw_ensemble_size(const sw_ensemble *e) { return e ? e->n : 0; }

sw_model *sw_ensemble_member(const sw_ensemble *e, int i) { return e && i >= 0 && i < e->n ? e->models[i] : NULL; }

int sw_ensemble_ctx(const sw_ensemble *e)
{
    int ctx = sw_model_get_spec(e->models[0])->ctx;
    for (int i = 1; i < e->n; i++)
        if (sw_model_get_spec(e->models[i])->ctx < ctx) ctx = sw_model_get_spec(e->models[i])->ctx;
    return ctx;
}

/* ---- answering lines ---- */

static sw_status predict_sequence(sw_ensemble *e, const sw_decode_params *dec, const char *const *lines, int n,
                                  char **answers, sw_error *err)
{
    int T = sw_ensemble_ctx(e), max_new = T / 2 + 1;
    int32_t *prompts = malloc(sizeof(int32_t) * (size_t)n * T), *gen = malloc(sizeof(int32_t) * (size_t)n * max_new);
    int *plens = malloc(sizeof(int) * (size_t)n), *glens = malloc(sizeof(int) * (size_t)n);
    sw_status st = SW_OK;
    if (!prompts || !gen || !plens || !glens) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) {
        int len = sw_vocab_encode_input(e->vocab, lines[i], prompts + (size_t)i * T, T - 2, NULL);
        if (len > T - 2) len = T - 2; /* longer than any training input: truncated */
        prompts[(size_t)i * T + len] = SW_TOKEN_SEP;
        plens[i] = len + 1;
    }
    sw_status ds = st ? SW_OK
                      : sw_gpt_decode(e->models, e->n, prompts, T, plens, n, max_new, e->allowed, SW_TOKEN_EOS, dec, gen,
                                      glens, NULL);
    if (ds) st = sw_error_set(err, ds, "decoding failed: %s", sw_model_errmsg(e->models[0]));
    for (int i = 0; !st && i < n; i++) {
        char buf[4096];
        sw_vocab_decode_target(e->vocab, gen + (size_t)i * max_new, glens[i], buf, sizeof buf);
        if (!(answers[i] = strdup(buf))) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    free(prompts);
    free(gen);
    free(plens);
    free(glens);
    return st;
}

static sw_status predict_classify(sw_ensemble *e, const char *const *lines, int n, size_t first_line, char **answers,
                                  sw_error *err)
{
    int F = sw_classes_num_features(e->classes), C = sw_classes_count(e->classes);
    float *x = malloc(sizeof(float) * (size_t)n * F);
    double *probs = malloc(sizeof(double) * (size_t)n * C);
    sw_status st = x && probs ? SW_OK : sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) {
        sw_error pe;
        if (sw_classes_parse_features(e->classes, lines[i], x + (size_t)i * F, &pe))
            st = sw_error_set(err, SW_ERR_FORMAT, "<stdin>:%zu: %s", first_line + (size_t)i, pe.msg);
    }
    sw_batch b = {.B = n, .T = 1, .features = x};
    sw_status fs = st ? SW_OK : sw_model_ensemble_probs(e->models, e->n, &b, probs);
    if (fs) st = sw_error_set(err, fs, "forward pass failed: %s", sw_model_errmsg(e->models[0]));
    for (int i = 0; !st && i < n; i++) {
        const char *name = sw_classes_name(e->classes, sw_argmax_double(probs + (size_t)i * C, C));
        if (!(answers[i] = strdup(name ? name : "?"))) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    free(x);
    free(probs);
    return st;
}

sw_status sw_ensemble_predict(sw_ensemble *e, const sw_decode_params *dec, const char *const *lines, int n,
                              size_t first_line, char **answers, sw_error *err)
{
    if (n <= 0) return SW_OK;
    for (int i = 0; i < n; i++) answers[i] = NULL;
    sw_status st = e->sequence ? predict_sequence(e, dec, lines, n, answers, err)
                               : predict_classify(e, lines, n, first_line, answers, err);
    if (st)
        for (int i = 0; i < n; i++) {
            free(answers[i]);
            answers[i] = NULL;
        }
    return st;
}

int sw_argmax_double(const double *p, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (p[i] > p[best]) best = i;
    return best;
}
