/* Evaluation: exact match (EM), loss and symbol error rate on a split. */
#include "stopwise/train.h"
#include "train/batch.h"
#include "train/published.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* rows decoded together; rows per loss forward */
enum { EVAL_CHUNK = 128, LOSS_CHUNK = 64 };

int sw_edit_distance(const int32_t *a, int na, const int32_t *b, int nb)
{
    int stackrow[256] = {0};
    int *row = nb + 1 <= 256 ? stackrow : malloc(sizeof(int) * (size_t)(nb + 1));
    for (int j = 0; j <= nb; j++) row[j] = j;
    for (int i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= nb; j++) {
            int up = row[j];
            int sub = diag + (a[i - 1] != b[j - 1]);
            int best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = up;
        }
    }
    int d = row[nb];
    if (row != stackrow) free(row);
    return d;
}

int sw_score_answer(const sw_dataset *ds, sw_split split, size_t i, const int32_t *answer, int len, int *distance,
                    int *ref_len)
{
    int refs = sw_dataset_num_refs(ds, split, i), hit = 0;
    *distance = -1;
    *ref_len = 1;
    for (int j = 0; j < refs; j++) {
        int lr;
        const int32_t *ref = sw_dataset_ref(ds, split, i, j, &lr);
        int d = sw_edit_distance(answer, len, ref, lr);
        if (d == 0) hit = 1;
        /* the closest reference by error rate; ties keep the first */
        if (*distance < 0 || (double)d / (lr ? lr : 1) < (double)*distance / *ref_len) {
            *distance = d;
            *ref_len = lr ? lr : 1;
        }
    }
    return hit;
}

int sw_eval_published(const sw_dataset *ds)
{
    const char *name = sw_dataset_name(ds);
    return !strncmp(name, "cmudict", 7) && !strstr(name, "+published");
}

int sw_score_published(const sw_dataset *ds, sw_split split, size_t i, const int32_t *answer, int len)
{
    char pred[1024], mapped[1024], ref[1024];
    sw_vocab_decode_target(sw_dataset_vocab(ds), answer, len, pred, sizeof pred);
    sw_phones_published(pred, mapped, sizeof mapped);
    for (int j = 0; j < sw_dataset_num_refs(ds, split, i); j++) {
        sw_phones_published(sw_dataset_ref_text(ds, split, i, j), ref, sizeof ref);
        if (!strcmp(mapped, ref)) return 1;
    }
    return 0;
}

/* The i-th example evaluated: sel[i], or i without a selection. */
#define EX(i) ((size_t)(sel ? sel[i] : (i)))

static sw_status eval_sequence(sw_model *m, const sw_dataset *ds, sw_split split, const uint32_t *sel, size_t n,
                               uint8_t *hits, sw_eval_result *out, sw_error *err)
{
    const sw_model_spec *spec = sw_model_get_spec(m);
    const sw_vocab *vocab = sw_dataset_vocab(ds);
    int V = spec->vocab, T = spec->ctx;
    int max_new = sw_dataset_max_ref_len(ds) + 1;
    uint8_t *allowed = calloc((size_t)V, 1);
    int32_t *prompts = malloc(sizeof(int32_t) * EVAL_CHUNK * (size_t)T);
    int *plens = malloc(sizeof(int) * EVAL_CHUNK);
    int32_t *gen = malloc(sizeof(int32_t) * EVAL_CHUNK * (size_t)max_new);
    int *glens = malloc(sizeof(int) * EVAL_CHUNK);
    int32_t *inputs = malloc(sizeof(int32_t) * EVAL_CHUNK * (size_t)T);
    int32_t *targets = malloc(sizeof(int32_t) * EVAL_CHUNK * (size_t)T);
    float *mask = malloc(sizeof(float) * EVAL_CHUNK * (size_t)T);
    uint32_t idx[EVAL_CHUNK];
    sw_status st = SW_OK;
    if (!allowed || !prompts || !plens || !gen || !glens || !inputs || !targets || !mask) {
        st = sw_error_set(err, SW_ERR_NOMEM, "out of memory in evaluation");
        goto done;
    }
    for (int v = 0; v < V; v++) allowed[v] = sw_vocab_is_target(vocab, v) || v == SW_TOKEN_EOS;
    double loss_sum = 0, edits = 0, ref_len = 0, loss_weight = 0;
    int published = sw_eval_published(ds);
    size_t published_correct = 0;
    for (size_t s = 0; s < n; s += EVAL_CHUNK) {
        int B = (int)(n - s < EVAL_CHUNK ? n - s : EVAL_CHUNK);
        for (int r = 0; r < B; r++) {
            int li;
            const int32_t *in = sw_dataset_input(ds, split, EX(s + (size_t)r), &li);
            if (li > T - 2) li = T - 2;
            memcpy(prompts + (size_t)r * T, in, sizeof(int32_t) * (size_t)li);
            prompts[(size_t)r * T + li] = SW_TOKEN_SEP;
            plens[r] = li + 1;
            idx[r] = (uint32_t)EX(s + (size_t)r);
        }
        st = sw_gpt_generate(m, prompts, T, plens, B, max_new, allowed, SW_TOKEN_EOS, gen, glens);
        if (st) {
            sw_error_set(err, st, "decoding failed");
            goto done;
        }
        for (int r = 0; r < B; r++) {
            const int32_t *g = gen + (size_t)r * max_new;
            int gl = glens[r];
            if (gl > 0 && g[gl - 1] == SW_TOKEN_EOS) gl--;
            size_t e = EX(s + (size_t)r);
            int best_d, best_len;
            int hit = sw_score_answer(ds, split, e, g, gl, &best_d, &best_len);
            out->correct += (size_t)hit;
            if (hits) hits[s + (size_t)r] = (uint8_t)hit;
            if (published) published_correct += (size_t)sw_score_published(ds, split, e, g, gl);
            edits += best_d;
            ref_len += best_len;
        }
        /* teacher-forced loss on the first reference, in training-sized
         * pieces (the forward keeps every activation for a backward) */
        for (int s0 = 0; s0 < B; s0 += LOSS_CHUNK) {
            int nb = B - s0 < LOSS_CHUNK ? B - s0 : LOSS_CHUNK;
            uint64_t tok;
            int Tb = sw_batch_fill_sequence(ds, split, idx + s0, NULL, nb, T, inputs, targets, mask, &tok);
            sw_batch b = {.B = nb, .T = Tb, .inputs = inputs, .targets = targets, .mask = mask};
            float loss;
            st = sw_model_forward(m, &b, 0, &loss);
            if (st) {
                sw_error_set(err, st, "forward pass failed in evaluation");
                goto done;
            }
            double w = 0;
            for (size_t k = 0; k < (size_t)nb * (size_t)Tb; k++) w += mask[k];
            loss_sum += (double)loss * w;
            loss_weight += w;
        }
    }
    out->loss = loss_weight > 0 ? loss_sum / loss_weight : NAN;
    out->per = ref_len > 0 ? 100.0 * edits / ref_len : 0;
    if (published) out->em_published = 100.0 * (double)published_correct / (double)n;
done:
    free(allowed);
    free(prompts);
    free(plens);
    free(gen);
    free(glens);
    free(inputs);
    free(targets);
    free(mask);
    return st;
}

static sw_status eval_classify(sw_model *m, const sw_dataset *ds, sw_split split, const uint32_t *sel, size_t n,
                               uint8_t *hits, sw_eval_result *out, sw_error *err)
{
    int F = sw_dataset_num_features(ds), C = sw_dataset_num_classes(ds);
    float *features = malloc(sizeof(float) * EVAL_CHUNK * (size_t)F);
    int32_t labels[EVAL_CHUNK];
    uint32_t idx[EVAL_CHUNK];
    if (!features) return sw_error_set(err, SW_ERR_NOMEM, "out of memory in evaluation");
    double loss_sum = 0;
    sw_status st = SW_OK;
    for (size_t s = 0; s < n; s += EVAL_CHUNK) {
        int B = (int)(n - s < EVAL_CHUNK ? n - s : EVAL_CHUNK);
        for (int r = 0; r < B; r++) idx[r] = (uint32_t)EX(s + (size_t)r);
        sw_batch_fill_classify(ds, split, idx, B, features, labels);
        sw_batch b = {.B = B, .T = 1, .features = features, .targets = labels};
        float loss;
        st = sw_model_forward(m, &b, 0, &loss);
        if (st) {
            sw_error_set(err, st, "forward pass failed in evaluation");
            break;
        }
        loss_sum += (double)loss * B;
        const float *logits = sw_model_logits(m);
        for (int r = 0; r < B; r++) {
            const float *l = logits + (size_t)r * C;
            int arg = 0;
            for (int c = 1; c < C; c++)
                if (l[c] > l[arg]) arg = c;
            out->correct += arg == labels[r];
            if (hits) hits[s + (size_t)r] = arg == labels[r];
        }
    }
    out->loss = loss_sum / (double)n;
    out->per = -1;
    free(features);
    return st;
}

sw_status sw_evaluate_subset(sw_model *model, const sw_dataset *ds, sw_split split, const uint32_t *sel, size_t n,
                             uint8_t *hits, sw_eval_result *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->em_published = -1;
    size_t count = sw_dataset_count(ds, split);
    if (n == 0) return sw_error_set(err, SW_ERR_INVALID, "%s: the split to evaluate is empty", sw_dataset_name(ds));
    for (size_t i = 0; sel && i < n; i++)
        if (sel[i] >= count)
            return sw_error_set(err, SW_ERR_INVALID, "%s: example %u is outside the %s split (%zu examples)",
                                sw_dataset_name(ds), sel[i], sw_split_name(split), count);
    if (!sel && n > count) n = count;
    out->n = n;
    sw_status st = sw_dataset_kind(ds) == SW_TASK_SEQUENCE ? eval_sequence(model, ds, split, sel, n, hits, out, err)
                                                            : eval_classify(model, ds, split, sel, n, hits, out, err);
    out->em = 100.0 * (double)out->correct / (double)n;
    return st;
}

sw_status sw_evaluate(sw_model *model, const sw_dataset *ds, sw_split split, size_t limit, sw_eval_result *out,
                      sw_error *err)
{
    size_t n = sw_dataset_count(ds, split);
    if (limit && limit < n) n = limit;
    return sw_evaluate_subset(model, ds, split, NULL, n, NULL, out, err);
}
