/* Using a trained model: evaluating a checkpoint and answering input lines. */
#include "stopwise/train.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct sw_predictor {
    sw_checkpoint ckpt;
    sw_vocab *vocab;     /* sequence models */
    sw_classes *classes; /* classifiers */
    uint8_t *allowed;    /* (V) tokens a sequence model may generate */
};

/* The vocabulary or class list a checkpoint carries. */
static sw_status companions(const char *path, const sw_checkpoint *ck, sw_vocab **vocab, sw_classes **classes,
                            sw_error *err)
{
    const char *v = sw_checkpoint_meta(ck, "vocab"), *c = sw_checkpoint_meta(ck, "labels");
    sw_error e;
    sw_status st = SW_OK;
    if (v) st = sw_vocab_from_json(v, vocab, &e);
    else if (c) st = sw_classes_from_json(c, classes, &e);
    else return sw_error_set(err, SW_ERR_FORMAT, "%s: metadata has neither a vocabulary nor labels", path);
    if (st) return sw_error_set(err, st, "%s: %s", path, e.msg);
    return SW_OK;
}

sw_status sw_predictor_open(const char *ckpt_path, sw_predictor **out, sw_error *err)
{
    *out = NULL;
    sw_predictor *p = calloc(1, sizeof *p);
    if (!p) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    sw_status st = sw_checkpoint_load(ckpt_path, &p->ckpt, err);
    if (!st) st = companions(ckpt_path, &p->ckpt, &p->vocab, &p->classes, err);
    if (!st && p->vocab) {
        int V = sw_model_get_spec(p->ckpt.model)->vocab;
        p->allowed = malloc((size_t)V);
        if (!p->allowed) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        for (int t = 0; !st && t < V; t++) p->allowed[t] = sw_vocab_is_target(p->vocab, t) || t == SW_TOKEN_EOS;
    }
    if (st) {
        sw_predictor_free(p);
        return st;
    }
    *out = p;
    return SW_OK;
}

void sw_predictor_free(sw_predictor *p)
{
    if (!p) return;
    sw_checkpoint_free(&p->ckpt);
    sw_vocab_free(p->vocab);
    sw_classes_free(p->classes);
    free(p->allowed);
    free(p);
}

static sw_status run_sequence(sw_predictor *p, const char *const *lines, int n, char **answers, sw_error *err)
{
    const sw_model_spec *spec = sw_model_get_spec(p->ckpt.model);
    int T = spec->ctx, max_new = T / 2 + 1;
    int32_t *prompts = malloc(sizeof(int32_t) * (size_t)n * (size_t)T), *gen = malloc(sizeof(int32_t) * (size_t)n * (size_t)T);
    int *plens = malloc(sizeof(int) * (size_t)n), *glens = malloc(sizeof(int) * (size_t)n);
    sw_status st = SW_OK;
    if (!prompts || !gen || !plens || !glens) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) {
        int len = sw_vocab_encode_input(p->vocab, lines[i], prompts + (size_t)i * T, T - 2, NULL);
        if (len > T - 2) len = T - 2; /* longer than any training input: truncated */
        prompts[(size_t)i * T + len] = SW_TOKEN_SEP;
        plens[i] = len + 1;
    }
    if (!st) st = sw_gpt_generate(p->ckpt.model, prompts, T, plens, n, max_new, p->allowed, SW_TOKEN_EOS, gen, glens);
    for (int i = 0; !st && i < n; i++) {
        char buf[4096];
        sw_vocab_decode_target(p->vocab, gen + (size_t)i * max_new, glens[i], buf, sizeof buf);
        answers[i] = strdup(buf);
    }
    free(prompts);
    free(gen);
    free(plens);
    free(glens);
    return st;
}

static sw_status run_classify(sw_predictor *p, const char *const *lines, int n, size_t first_line, char **answers,
                              sw_error *err)
{
    int F = sw_classes_num_features(p->classes), C = sw_model_get_spec(p->ckpt.model)->n_classes;
    float *x = malloc(sizeof(float) * (size_t)n * (size_t)F);
    if (!x) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        sw_error e;
        if (sw_classes_parse_features(p->classes, lines[i], x + (size_t)i * F, &e)) {
            free(x);
            return sw_error_set(err, SW_ERR_FORMAT, "<stdin>:%zu: %s", first_line + (size_t)i, e.msg);
        }
    }
    sw_batch b = {.B = n, .T = 1, .features = x};
    sw_status st = sw_model_forward(p->ckpt.model, &b, 0, NULL);
    if (!st) {
        const float *logits = sw_model_logits(p->ckpt.model);
        for (int i = 0; i < n; i++) {
            int arg = 0;
            for (int c = 1; c < C; c++)
                if (logits[(size_t)i * C + c] > logits[(size_t)i * C + arg]) arg = c;
            const char *name = sw_classes_name(p->classes, arg);
            answers[i] = strdup(name ? name : "?");
        }
    }
    free(x);
    return st;
}

sw_status sw_predictor_run(sw_predictor *p, const char *const *lines, int n, size_t first_line, char **answers,
                           sw_error *err)
{
    if (n <= 0) return SW_OK;
    return p->vocab ? run_sequence(p, lines, n, answers, err) : run_classify(p, lines, n, first_line, answers, err);
}

sw_status sw_evaluate_checkpoint(const char *ckpt_path, const char *data_spec, const sw_data_options *data_opt,
                                 sw_split split, sw_eval_result *out, sw_error *err)
{
    sw_checkpoint ck;
    sw_vocab *vocab = NULL;
    sw_classes *classes = NULL;
    sw_dataset *ds = NULL;
    json_t *config = NULL;
    sw_status st = sw_checkpoint_load(ckpt_path, &ck, err);
    if (st) return st;
    if ((st = companions(ckpt_path, &ck, &vocab, &classes, err))) goto done;
    sw_data_options o = data_opt ? *data_opt : sw_data_default_options();
    const char *cfg = sw_checkpoint_meta(&ck, "config");
    config = cfg ? json_loads(cfg, 0, NULL) : NULL;
    if (!data_opt && config) { /* the split the model was trained with */
        o.seed = (uint64_t)json_integer_value(json_object_get(config, "data_seed"));
        o.val_frac = json_real_value(json_object_get(config, "val_frac"));
        o.test_frac = json_real_value(json_object_get(config, "test_frac"));
        o.max_examples = (size_t)json_integer_value(json_object_get(config, "max_examples"));
        o.published = json_is_true(json_object_get(config, "published"));
    }
    o.vocab = vocab;
    o.classes = classes;
    if ((st = sw_dataset_load(data_spec, &o, &ds, err))) goto done;
    if (sw_dataset_kind(ds) == SW_TASK_SEQUENCE) {
        int need = sw_dataset_max_input_len(ds) + sw_dataset_max_ref_len(ds) + 2;
        if (!vocab || need > sw_model_get_spec(ck.model)->ctx) {
            st = sw_error_set(err, SW_ERR_INVALID, "%s: the model (ctx %d) does not fit %s (needs %d positions)",
                              ckpt_path, sw_model_get_spec(ck.model)->ctx, data_spec, need);
            goto done;
        }
    } else if (!classes) {
        st = sw_error_set(err, SW_ERR_INVALID, "%s: a sequence model cannot evaluate the classification data %s",
                          ckpt_path, data_spec);
        goto done;
    }
    st = sw_evaluate(ck.model, ds, split, 0, out, err);
done:
    json_decref(config);
    sw_dataset_free(ds);
    sw_vocab_free(vocab);
    sw_classes_free(classes);
    sw_checkpoint_free(&ck);
    return st;
}
