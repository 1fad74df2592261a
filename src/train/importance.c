/* Permutation importance (train.h sw_permutation_importance): shuffle one
 * feature's column over a split, score the model again, repeat.
 *
 * Why the loss and not only EM ranks: on a few hundred validation rows most
 * features change no argmax when shuffled, so EM drops tie at 0 and say
 * nothing about their order; the cross-entropy moves with every probability,
 * ranks the same way where EM separates, and keeps ranking where it does not.
 * Both are reported. */
#include "stopwise/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 512 /* rows per forward pass */

/* Mean cross-entropy and EM (%) of the model on rows x (n, F) with labels y. */
static sw_status score_rows(sw_model *m, const float *x, const int32_t *y, size_t n, int F, double *loss, double *em,
                            sw_error *err)
{
    int C = sw_model_get_spec(m)->n_classes;
    double total = 0;
    size_t hit = 0;
    for (size_t s = 0; s < n; s += CHUNK) {
        int B = (int)(n - s < CHUNK ? n - s : CHUNK);
        sw_batch b = {.B = B, .T = 1, .features = x + s * (size_t)F, .targets = y + s};
        float l;
        if (sw_model_forward(m, &b, 0, &l))
            return sw_error_set(err, SW_ERR_INVALID, "permutation importance: %s", sw_model_errmsg(m));
        total += (double)l * B;
        const float *logits = sw_model_logits(m);
        for (int r = 0; r < B; r++) {
            int arg = 0;
            for (int c = 1; c < C; c++)
                if (logits[(size_t)r * C + c] > logits[(size_t)r * C + arg]) arg = c;
            hit += arg == y[s + (size_t)r];
        }
    }
    *loss = total / (double)n;
    *em = 100.0 * (double)hit / (double)n;
    return SW_OK;
}

sw_status sw_permutation_importance(sw_model *model, const sw_dataset *ds, sw_split split, int repeats, uint64_t seed,
                                    double *score, double *spread, double *em_drop, double *base_em, sw_error *err)
{
    size_t n = sw_dataset_count(ds, split);
    int F = sw_dataset_num_features(ds);
    if (sw_dataset_kind(ds) != SW_TASK_CLASSIFY || sw_model_get_spec(model)->kind != SW_MODEL_MLP)
        return sw_error_set(err, SW_ERR_INVALID, "permutation importance needs an mlp and classification data");
    if (sw_model_get_spec(model)->n_inputs != F)
        return sw_error_set(err, SW_ERR_INVALID, "permutation importance: the model takes %d features, %s has %d",
                            sw_model_get_spec(model)->n_inputs, sw_dataset_name(ds), F);
    if (n == 0 || repeats < 1)
        return sw_error_set(err, SW_ERR_INVALID, "permutation importance: the %s split of %s is empty (or repeats < 1)",
                            sw_split_name(split), sw_dataset_name(ds));
    float *x = malloc(sizeof *x * n * (size_t)F), *col = malloc(sizeof *col * n);
    int32_t *y = malloc(sizeof *y * n);
    uint32_t *perm = malloc(sizeof *perm * n);
    double *loss_r = malloc(sizeof *loss_r * (size_t)repeats), *em_r = malloc(sizeof *em_r * (size_t)repeats);
    sw_status st = SW_OK;
    if (!x || !col || !y || !perm || !loss_r || !em_r) {
        st = sw_error_set(err, SW_ERR_NOMEM, "permutation importance: out of memory for %zu rows", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(x + i * (size_t)F, sw_dataset_features(ds, split, i), sizeof *x * (size_t)F);
        y[i] = sw_dataset_label(ds, split, i);
    }
    double loss0, em0;
    if ((st = score_rows(model, x, y, n, F, &loss0, &em0, err))) goto done;
    if (base_em) *base_em = em0;
    for (int j = 0; j < F; j++) {
        for (size_t i = 0; i < n; i++) col[i] = x[i * (size_t)F + j];
        double mean = 0, drop = 0;
        for (int r = 0; r < repeats; r++) {
            sw_rng rng;
            sw_rng_seed(&rng, sw_hash3(seed, 0x7065726dull + (uint64_t)j, (uint64_t)r));
            for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
            sw_rng_shuffle(&rng, perm, n);
            for (size_t i = 0; i < n; i++) x[i * (size_t)F + j] = col[perm[i]];
            double l, e;
            if ((st = score_rows(model, x, y, n, F, &l, &e, err))) goto done;
            loss_r[r] = l - loss0;
            em_r[r] = em0 - e;
            mean += loss_r[r];
            drop += em_r[r];
        }
        for (size_t i = 0; i < n; i++) x[i * (size_t)F + j] = col[i];
        mean /= repeats;
        double var = 0;
        for (int r = 0; r < repeats; r++) var += (loss_r[r] - mean) * (loss_r[r] - mean);
        if (score) score[j] = mean;
        if (spread) spread[j] = repeats > 1 ? sqrt(var / (repeats - 1)) : 0;
        if (em_drop) em_drop[j] = drop / repeats;
    }
done:
    free(x);
    free(col);
    free(y);
    free(perm);
    free(loss_r);
    free(em_r);
    return st;
}
