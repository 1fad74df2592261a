/* Evaluating an ensemble (or one checkpoint with beam search): EM, PER, the
 * published-form EM and the loss of the averaged distribution
 * (docs/ENSEMBLES.md). The scoring is eval.c's, example for example; what
 * differs is how answers are produced (sw_gpt_decode over the members) and
 * that the loss is the cross-entropy of the members' mean distribution. */
#include "train/batch.h"
#include "train/ensemble.h"
#include "train/published.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* rows decoded together (hypotheses: examples x beam width); rows per loss forward */
enum { DECODE_ROWS = 128, LOSS_CHUNK = 64 };

/* The seed of evaluation samples (limit > 0): one fixed sample per split and
 * size, so that every ensemble and decoding is scored on the same examples. */
#define SAMPLE_SEED 1

/* The split settings a member was trained with, from its checkpoint's config. */
typedef struct split_settings {
    int known;
    uint64_t seed;
    double val_frac, test_frac;
    size_t max_examples;
    int published;
} split_settings;

static split_settings split_of(const sw_checkpoint *ck)
{
    split_settings s = {0};
    const char *cfg = sw_checkpoint_meta(ck, "config");
    json_t *c = cfg ? json_loads(cfg, 0, NULL) : NULL;
    if (!c) return s;
    s.known = 1;
    s.seed = (uint64_t)json_integer_value(json_object_get(c, "data_seed"));
    s.val_frac = json_real_value(json_object_get(c, "val_frac"));
    s.test_frac = json_real_value(json_object_get(c, "test_frac"));
    s.max_examples = (size_t)json_integer_value(json_object_get(c, "max_examples"));
    s.published = json_is_true(json_object_get(c, "published"));
    json_decref(c);
    return s;
}

sw_status sw_ensemble_load_data(const sw_ensemble *e, const char *data_spec, const sw_data_options *data_opt,
                                sw_dataset **ds, sw_error *err)
{
    *ds = NULL;
    sw_data_options o = data_opt ? *data_opt : sw_data_default_options();
    split_settings s0 = split_of(&e->ckpt[0]);
    for (int i = 1; !data_opt && s0.known && i < e->n; i++) {
        split_settings s = split_of(&e->ckpt[i]);
        if (!s.known) continue;
        if (s.seed != s0.seed || s.val_frac != s0.val_frac || s.test_frac != s0.test_frac ||
            s.max_examples != s0.max_examples || s.published != s0.published)
            return sw_error_set(err, SW_ERR_INVALID,
                                "%s and %s were trained on different splits (data seed %llu and %llu, validation "
                                "%g and %g, test %g and %g, max examples %zu and %zu, published %d and %d): an "
                                "example one was tested on may be one the other trained on",
                                e->paths[0], e->paths[i], (unsigned long long)s0.seed, (unsigned long long)s.seed,
                                s0.val_frac, s.val_frac, s0.test_frac, s.test_frac, s0.max_examples, s.max_examples,
                                s0.published, s.published);
    }
    if (!data_opt && s0.known) { /* the split the members were trained with */
        o.seed = s0.seed;
        o.val_frac = s0.val_frac;
        o.test_frac = s0.test_frac;
        o.max_examples = s0.max_examples;
        o.published = s0.published;
    }
    o.vocab = e->vocab;
    o.classes = e->classes;
    sw_status st = sw_dataset_load(data_spec, &o, ds, err);
    if (st) return st;
    if (sw_dataset_kind(*ds) == SW_TASK_SEQUENCE) {
        int need = sw_dataset_max_input_len(*ds) + sw_dataset_max_ref_len(*ds) + 2;
        for (int i = 0; !st && i < e->n; i++) {
            int ctx = sw_model_get_spec(e->models[i])->ctx;
            if (!e->sequence || need > ctx)
                st = sw_error_set(err, SW_ERR_INVALID, "%s: the model (ctx %d) does not fit %s (needs %d positions)",
                                  e->paths[i], ctx, data_spec, need);
        }
    } else if (e->sequence) {
        st = sw_error_set(err, SW_ERR_INVALID, "%s: a sequence model cannot evaluate the classification data %s",
                          e->paths[0], data_spec);
    }
    if (st) {
        sw_dataset_free(*ds);
        *ds = NULL;
    }
    return st;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The examples to evaluate: all of the split, or a seeded sample of `limit`
 * of them in split order. *sel (malloc'd) and *n. */
static sw_status choose(const sw_dataset *ds, sw_split split, size_t limit, uint32_t **sel, size_t *n, sw_error *err)
{
    size_t count = sw_dataset_count(ds, split);
    if (count == 0) return sw_error_set(err, SW_ERR_INVALID, "%s: the split to evaluate is empty", sw_dataset_name(ds));
    uint32_t *idx = malloc(sizeof(uint32_t) * count);
    if (!idx) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) idx[i] = (uint32_t)i;
    *n = count;
    if (limit && limit < count) {
        sw_rng r;
        sw_rng_seed(&r, SAMPLE_SEED);
        sw_rng_shuffle(&r, idx, count);
        *n = limit;
        qsort(idx, limit, sizeof *idx, u32_cmp); /* split order within the sample */
    }
    *sel = idx;
    return SW_OK;
}

/* Cross-entropy of the averaged distribution on the examples sel[0..n):
 * the sum over target positions of -log p(target), and their count. */
static sw_status ensemble_loss(sw_ensemble *e, const sw_dataset *ds, sw_split split, const uint32_t *sel, size_t n,
                               double *loss_sum, double *weight, sw_error *err)
{
    int seq = sw_dataset_kind(ds) == SW_TASK_SEQUENCE;
    int T = seq ? sw_ensemble_ctx(e) : 1;
    int W = seq ? sw_vocab_size(e->vocab) : sw_classes_count(e->classes);
    int F = seq ? 0 : sw_dataset_num_features(ds);
    int32_t *inputs = malloc(sizeof(int32_t) * LOSS_CHUNK * (size_t)T);
    int32_t *targets = malloc(sizeof(int32_t) * LOSS_CHUNK * (size_t)T);
    float *mask = malloc(sizeof(float) * LOSS_CHUNK * (size_t)T);
    float *features = malloc(sizeof(float) * LOSS_CHUNK * (size_t)(F ? F : 1));
    double *probs = malloc(sizeof(double) * LOSS_CHUNK * (size_t)T * W);
    sw_status st = inputs && targets && mask && features && probs ? SW_OK
                                                                  : sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (size_t s = 0; !st && s < n; s += LOSS_CHUNK) {
        int nb = (int)(n - s < LOSS_CHUNK ? n - s : LOSS_CHUNK);
        sw_batch b = {.B = nb, .T = 1, .targets = targets};
        if (seq) {
            uint64_t tok;
            b.T = sw_batch_fill_sequence(ds, split, sel + s, NULL, nb, T, inputs, targets, mask, &tok);
            b.inputs = inputs;
            b.mask = mask;
        } else {
            sw_batch_fill_classify(ds, split, sel + s, nb, features, targets);
            b.features = features;
        }
        sw_status fs = sw_model_ensemble_probs(e->models, e->n, &b, probs);
        if (fs) {
            st = sw_error_set(err, fs, "forward pass failed in evaluation: %s", sw_model_errmsg(e->models[0]));
            break;
        }
        for (size_t k = 0; k < (size_t)nb * b.T; k++) {
            double w = seq ? mask[k] : 1.0;
            if (w == 0 || targets[k] < 0) continue;
            *loss_sum -= w * log(probs[k * W + targets[k]]);
            *weight += w;
        }
    }
    free(inputs);
    free(targets);
    free(mask);
    free(features);
    free(probs);
    return st;
}

static sw_status answer_sequences(sw_ensemble *e, const sw_dataset *ds, sw_split split, const uint32_t *sel, size_t n,
                                  const sw_decode_params *dec, sw_eval_result *out, sw_error *err)
{
    int T = sw_ensemble_ctx(e), beam = dec ? dec->beam : 1;
    int max_new = sw_dataset_max_ref_len(ds) + 1;
    int G = beam >= DECODE_ROWS ? 1 : DECODE_ROWS / (beam > 0 ? beam : 1); /* examples per call */
    int32_t *prompts = malloc(sizeof(int32_t) * (size_t)G * T), *gen = malloc(sizeof(int32_t) * (size_t)G * max_new);
    int *plens = malloc(sizeof(int) * (size_t)G), *glens = malloc(sizeof(int) * (size_t)G);
    sw_status st = prompts && gen && plens && glens ? SW_OK : sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    double edits = 0, ref_len = 0;
    int published = sw_eval_published(ds);
    size_t published_correct = 0;
    for (size_t s = 0; !st && s < n; s += (size_t)G) {
        int B = (int)(n - s < (size_t)G ? n - s : (size_t)G);
        for (int r = 0; r < B; r++) {
            int li;
            const int32_t *in = sw_dataset_input(ds, split, sel[s + (size_t)r], &li);
            if (li > T - 2) li = T - 2;
            memcpy(prompts + (size_t)r * T, in, sizeof(int32_t) * (size_t)li);
            prompts[(size_t)r * T + li] = SW_TOKEN_SEP;
            plens[r] = li + 1;
        }
        sw_status ds_st = sw_gpt_decode(e->models, e->n, prompts, T, plens, B, max_new, e->allowed, SW_TOKEN_EOS, dec,
                                        gen, glens, NULL);
        if (ds_st) {
            st = sw_error_set(err, ds_st, "decoding failed: %s", sw_model_errmsg(e->models[0]));
            break;
        }
        for (int r = 0; r < B; r++) {
            const int32_t *g = gen + (size_t)r * max_new;
            int gl = glens[r];
            if (gl > 0 && g[gl - 1] == SW_TOKEN_EOS) gl--;
            size_t ex = sel[s + (size_t)r];
            int best_d, best_len;
            out->correct += (size_t)sw_score_answer(ds, split, ex, g, gl, &best_d, &best_len);
            edits += best_d;
            ref_len += best_len;
            if (published) published_correct += (size_t)sw_score_published(ds, split, ex, g, gl);
        }
    }
    out->per = ref_len > 0 ? 100.0 * edits / ref_len : 0;
    if (published) out->em_published = 100.0 * (double)published_correct / (double)n;
    free(prompts);
    free(gen);
    free(plens);
    free(glens);
    return st;
}

static sw_status answer_classes(sw_ensemble *e, const sw_dataset *ds, sw_split split, const uint32_t *sel, size_t n,
                                sw_eval_result *out, sw_error *err)
{
    int F = sw_dataset_num_features(ds), C = sw_classes_count(e->classes);
    enum { CHUNK = 128 };
    float *features = malloc(sizeof(float) * CHUNK * (size_t)F);
    double *probs = malloc(sizeof(double) * CHUNK * (size_t)C);
    int32_t labels[CHUNK];
    sw_status st = features && probs ? SW_OK : sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (size_t s = 0; !st && s < n; s += CHUNK) {
        int B = (int)(n - s < CHUNK ? n - s : CHUNK);
        sw_batch_fill_classify(ds, split, sel + s, B, features, labels);
        sw_batch b = {.B = B, .T = 1, .features = features};
        sw_status fs = sw_model_ensemble_probs(e->models, e->n, &b, probs);
        if (fs) {
            st = sw_error_set(err, fs, "forward pass failed in evaluation: %s", sw_model_errmsg(e->models[0]));
            break;
        }
        for (int r = 0; r < B; r++) out->correct += sw_argmax_double(probs + (size_t)r * C, C) == labels[r];
    }
    out->per = -1;
    free(features);
    free(probs);
    return st;
}

/* CPU seconds of the whole process (every thread), 0 if the clock fails. */
static double cpu_now(void)
{
    struct timespec t;
    return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) ? 0 : (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

sw_status sw_ensemble_evaluate(sw_ensemble *e, const sw_dataset *ds, sw_split split, size_t limit,
                               const sw_decode_params *dec, sw_eval_result *out, double *decode_s,
                               double *decode_cpu_s, sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->em_published = -1;
    if (decode_s) *decode_s = 0;
    if (decode_cpu_s) *decode_cpu_s = 0;
    int seq = sw_dataset_kind(ds) == SW_TASK_SEQUENCE;
    if (seq != e->sequence)
        return sw_error_set(err, SW_ERR_INVALID, "%s: the ensemble's task is not the data's (%s)", e->paths[0],
                            sw_dataset_name(ds));
    uint32_t *sel = NULL;
    size_t n = 0;
    sw_status st = choose(ds, split, limit, &sel, &n, err);
    if (st) return st;
    out->n = n;
    double t0 = sw_now(), c0 = cpu_now();
    st = seq ? answer_sequences(e, ds, split, sel, n, dec, out, err) : answer_classes(e, ds, split, sel, n, out, err);
    if (decode_s) *decode_s = sw_now() - t0;
    if (decode_cpu_s) *decode_cpu_s = cpu_now() - c0;
    double loss_sum = 0, weight = 0;
    if (!st) st = ensemble_loss(e, ds, split, sel, n, &loss_sum, &weight, err);
    out->loss = weight > 0 ? loss_sum / weight : NAN;
    out->em = 100.0 * (double)out->correct / (double)n;
    free(sel);
    return st;
}
