/* bench_parity_dump: builds one of our models from a seed, runs one training
 * forward and backward on a seeded batch, and writes everything a reference
 * implementation needs to recompute the loss and every gradient
 * (bench/parity.py does it in PyTorch):
 *
 *   DIR/manifest.json   spec, loss, batch shape, tensor table (name, shape, offset)
 *   DIR/params.f32      the parameter buffer, float32 little-endian
 *   DIR/grads.f32       the gradient buffer (same layout)
 *   DIR/inputs.i32 DIR/targets.i32 DIR/mask.f32 (gpt) | DIR/features.f32 DIR/targets.i32 (mlp)
 *
 *   bench_parity_dump --spec SPEC --batch B [--T T] [--mask] [--seed N] --out DIR
 *
 * Raw files for now; checkpoints will be safetensors (DESIGN.md, Files). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stopwise/base.h"
#include "stopwise/nn.h"

static int write_raw(const char *dir, const char *name, const void *data, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    sw_error err;
    /* x86-64 and aarch64 are little-endian: the buffers are written as they are */
    if (sw_file_write_atomic(path, data, bytes, &err)) {
        fprintf(stderr, "bench_parity_dump: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *spec_text = NULL, *out = NULL;
    long long B = 4, T = 0, seed = 1;
    int use_mask = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--spec") && v) spec_text = v, i++;
        else if (!strcmp(a, "--out") && v) out = v, i++;
        else if (!strcmp(a, "--batch") && v && !sw_parse_int(v, 1, 1 << 20, &B)) i++;
        else if (!strcmp(a, "--T") && v && !sw_parse_int(v, 1, 1 << 20, &T)) i++;
        else if (!strcmp(a, "--seed") && v && !sw_parse_int(v, 0, (1ll << 62), &seed)) i++;
        else if (!strcmp(a, "--mask")) use_mask = 1;
        else spec_text = NULL, out = NULL, i = argc;
    }
    if (!spec_text || !out) {
        fprintf(stderr, "usage: bench_parity_dump --spec SPEC --batch B [--T T] [--mask] [--seed N] --out DIR\n");
        return 2;
    }
    sw_blas_init(1);
    sw_error err;
    sw_model_spec spec;
    sw_model *m = NULL;
    if (sw_model_spec_parse(spec_text, &spec, &err) || sw_model_spec_check(&spec, &err) ||
        sw_model_create(&spec, (uint64_t)seed, &m, &err)) {
        fprintf(stderr, "bench_parity_dump: %s: %s\n", spec_text, err.msg);
        return 2;
    }
    int gpt = spec.kind == SW_MODEL_GPT;
    if (gpt && T == 0) T = spec.ctx;
    if (!gpt) T = 1;
    size_t BT = (size_t)B * (size_t)T;
    sw_rng rng;
    sw_rng_seed(&rng, (uint64_t)seed + 1000);
    int32_t *inputs = NULL, *targets = malloc(BT * sizeof *targets);
    float *mask = NULL, *features = NULL;
    sw_batch b = {.B = (int)B, .T = (int)T, .targets = targets};
    if (gpt) {
        inputs = malloc(BT * sizeof *inputs);
        for (size_t i = 0; i < BT; i++) inputs[i] = (int32_t)sw_rng_below(&rng, (uint64_t)spec.vocab);
        for (size_t i = 0; i < BT; i++) targets[i] = (int32_t)sw_rng_below(&rng, (uint64_t)spec.vocab);
        b.inputs = inputs;
        if (use_mask) {
            /* a prompt of random length per row gets weight 0, like `input SEP target EOS` */
            mask = malloc(BT * sizeof *mask);
            for (long long r = 0; r < B; r++) {
                long long prompt = (long long)sw_rng_below(&rng, (uint64_t)T);
                for (long long t = 0; t < T; t++) mask[r * T + t] = t >= prompt ? 1.0f : 0.0f;
            }
            b.mask = mask;
        }
    } else {
        features = malloc(BT * (size_t)spec.n_inputs * sizeof *features);
        for (size_t i = 0; i < BT * (size_t)spec.n_inputs; i++) features[i] = (float)sw_rng_normal(&rng);
        for (size_t i = 0; i < BT; i++) targets[i] = (int32_t)sw_rng_below(&rng, (uint64_t)spec.n_classes);
        b.features = features;
    }
    float loss = 0;
    sw_model_zero_grad(m);
    if (sw_model_forward(m, &b, 1, &loss) || sw_model_backward(m)) {
        fprintf(stderr, "bench_parity_dump: forward/backward failed\n");
        return 1;
    }
    mkdir(out, 0777);
    size_t n = sw_model_num_params(m);
    int rc = write_raw(out, "params.f32", sw_model_params(m), n * sizeof(float)) ||
             write_raw(out, "grads.f32", sw_model_grads(m), n * sizeof(float)) ||
             write_raw(out, "targets.i32", targets, BT * sizeof *targets) ||
             (inputs && write_raw(out, "inputs.i32", inputs, BT * sizeof *inputs)) ||
             (mask && write_raw(out, "mask.f32", mask, BT * sizeof *mask)) ||
             (features && write_raw(out, "features.f32", features, BT * (size_t)spec.n_inputs * sizeof *features));

    char canon[512];
    json_t *j = json_object(), *tensors = json_array(), *hidden = json_array();
    json_object_set_new(j, "spec", json_string(sw_model_spec_format(&spec, canon, sizeof canon)));
    json_object_set_new(j, "kind", json_string(gpt ? "gpt" : "mlp"));
    json_object_set_new(j, "layers", json_integer(spec.layers));
    json_object_set_new(j, "d_model", json_integer(spec.d_model));
    json_object_set_new(j, "heads", json_integer(spec.heads));
    json_object_set_new(j, "ctx", json_integer(spec.ctx));
    json_object_set_new(j, "vocab", json_integer(spec.vocab));
    json_object_set_new(j, "tied", json_integer(spec.tied));
    json_object_set_new(j, "n_inputs", json_integer(spec.n_inputs));
    for (int i = 0; i < spec.n_hidden; i++) json_array_append_new(hidden, json_integer(spec.hidden[i]));
    json_object_set_new(j, "hidden", hidden);
    json_object_set_new(j, "n_classes", json_integer(spec.n_classes));
    json_object_set_new(j, "act", json_string(spec.act == SW_ACTIVATION_GELU ? "gelu" : "relu"));
    json_object_set_new(j, "B", json_integer(B));
    json_object_set_new(j, "T", json_integer(T));
    json_object_set_new(j, "mask", json_boolean(mask != NULL));
    json_object_set_new(j, "loss", json_real(loss));
    json_object_set_new(j, "num_params", json_integer((json_int_t)n));
    for (int i = 0; i < sw_model_num_tensors(m); i++) {
        sw_tensor_info ti;
        sw_model_tensor(m, i, &ti);
        json_t *t = json_object(), *shape = json_array();
        for (int k = 0; k < ti.ndim; k++) json_array_append_new(shape, json_integer(ti.shape[k]));
        json_object_set_new(t, "name", json_string(ti.name));
        json_object_set_new(t, "shape", shape);
        json_object_set_new(t, "offset", json_integer((json_int_t)ti.offset));
        json_object_set_new(t, "numel", json_integer((json_int_t)ti.numel));
        json_array_append_new(tensors, t);
    }
    json_object_set_new(j, "tensors", tensors);
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", out);
    if (!rc && json_dump_file(j, path, JSON_INDENT(1) | JSON_REAL_PRECISION(9))) {
        fprintf(stderr, "bench_parity_dump: cannot write %s\n", path);
        rc = 1;
    }
    json_decref(j);
    free(inputs), free(targets), free(mask), free(features);
    sw_model_free(m);
    return rc ? 1 : 0;
}
