/* Ensembles: the mean of the members' predicted distributions
 * (docs/ENSEMBLES.md). Sequence decoding averages the next-symbol
 * distribution step by step in beam.c; this is the one-forward form, for
 * classifiers and for a gpt's teacher-forced positions:
 *
 *     p(c | x) = (1/n) sum_m softmax(z_m(x))(c)
 *
 * Probabilities, not logits, are averaged: a member that is sure and wrong
 * moves the mean by at most 1/n, where averaged logits let it dominate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"

/* Rows and width of a model's logits for a batch. */
static void logits_shape(const sw_model *m, const sw_batch *b, size_t *rows, int *width)
{
    if (m->spec.kind == SW_MODEL_GPT) {
        *rows = (size_t)b->B * b->T;
        *width = m->spec.vocab;
    } else {
        *rows = (size_t)b->B;
        *width = m->spec.n_classes;
    }
}

sw_status sw_model_ensemble_probs(sw_model *const *models, int n_models, const sw_batch *b, double *probs)
{
    if (!models || n_models < 1 || !models[0] || !b || !probs) return SW_ERR_INVALID;
    size_t rows;
    int width;
    logits_shape(models[0], b, &rows, &width);
    for (int m = 1; m < n_models; m++) {
        size_t r;
        int w;
        if (!models[m] || models[m]->spec.kind != models[0]->spec.kind)
            return sw_model_fail(models[0], SW_ERR_INVALID, "ensemble: member %d is another kind of model", m);
        logits_shape(models[m], b, &r, &w);
        if (w != width)
            return sw_model_fail(models[0], SW_ERR_INVALID, "ensemble: member %d has %d outputs, member 0 has %d", m,
                                 w, width);
    }
    memset(probs, 0, sizeof(double) * rows * (size_t)width);
    for (int m = 0; m < n_models; m++) {
        sw_status st = sw_model_forward(models[m], b, 0, NULL);
        if (st) {
            if (m > 0) sw_model_fail(models[0], st, "ensemble: member %d: %s", m, sw_model_errmsg(models[m]));
            return st;
        }
        const float *logits = sw_model_logits(models[m]);
        for (size_t r = 0; r < rows; r++) {
            const float *z = logits + r * width;
            double *p = probs + r * width;
            float mx = z[0];
            for (int c = 1; c < width; c++) mx = z[c] > mx ? z[c] : mx;
            double sum = 0;
            for (int c = 0; c < width; c++) sum += exp((double)z[c] - mx);
            for (int c = 0; c < width; c++) p[c] += exp((double)z[c] - mx) / sum / n_models;
        }
    }
    return SW_OK;
}
