/* nn/: frozen parameters. The optimizer leaves a frozen range bit for bit as
 * it was (no update, no weight decay, no penalty, moments untouched) while the
 * rest trains exactly as if the frozen part had no gradient; a freeze spec
 * (`train --freeze`) picks tensors by glob and frees them at their unfreeze
 * points. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/nn.h"

enum { N = 50000 }; /* several optimizer chunks (8192 floats), so parts cross chunk edges */

static void fill(float *p, size_t n, uint64_t seed, double scale)
{
    sw_rng r;
    sw_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = (float)(scale * sw_rng_normal(&r));
}

static sw_optimizer *make(sw_optimizer_kind kind, float wd, float l1, float l2, float clip)
{
    sw_optimizer_params p = sw_optimizer_default_params(kind);
    p.weight_decay = wd;
    p.l1 = l1;
    p.l2 = l2;
    p.clip = clip;
    sw_optimizer *o;
    sw_error err;
    cr_assert_eq(sw_optimizer_create(&p, N, &o, &err), SW_OK, "%s", err.msg);
    return o;
}

static void frozen_ranges_keep_their_bits(sw_optimizer_kind kind)
{
    /* penalties, decay and clipping all on: each would move a weight */
    sw_optimizer *o = make(kind, 0.1f, 1e-3f, 1e-3f, 0.5f);
    float *p = malloc(sizeof(float) * N), *g = malloc(sizeof(float) * N), *p0 = malloc(sizeof(float) * N);
    fill(p, N, 1, 1.0);
    memcpy(p0, p, sizeof(float) * N);
    /* a range inside one chunk, one across a chunk edge, one at the very end */
    const size_t ranges[] = {100, 200, 8000, 9000, N - 7, N};
    sw_error err;
    cr_assert_eq(sw_optimizer_freeze(o, ranges, 3, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_optimizer_num_frozen(o), 100 + 1000 + 7);
    for (int step = 0; step < 5; step++) {
        fill(g, N, 10 + (uint64_t)step, 1.0);
        cr_assert_eq(sw_optimizer_step(o, p, g, 1e-2f, NULL), SW_OK);
    }
    size_t count;
    const float *state = sw_optimizer_state(o, &count);
    size_t changed = 0;
    for (size_t i = 0; i < N; i++) {
        int frozen = (i >= 100 && i < 200) || (i >= 8000 && i < 9000) || i >= N - 7;
        if (frozen) {
            cr_assert(memcmp(&p[i], &p0[i], sizeof(float)) == 0, "frozen parameter %zu moved: %.9g -> %.9g", i,
                      (double)p0[i], (double)p[i]);
            for (size_t k = 0; k * N < count; k++) cr_assert_eq(state[k * N + i], 0.0f, "moment of frozen %zu", i);
        } else {
            changed += p[i] != p0[i];
        }
    }
    cr_assert_eq(changed, N - 1107, "every trainable parameter moves (%zu did)", changed);
    free(p);
    free(g);
    free(p0);
    sw_optimizer_free(o);
}

Test(nn_freeze, adamw_leaves_frozen_ranges_bit_for_bit) { frozen_ranges_keep_their_bits(SW_OPTIMIZER_ADAMW); }
Test(nn_freeze, sgd_leaves_frozen_ranges_bit_for_bit) { frozen_ranges_keep_their_bits(SW_OPTIMIZER_SGD); }

/* Without penalties and clipping, freezing must not change how the rest
 * trains: the trainable parameters match, bit for bit, an optimizer that saw
 * no freeze at all. */
Test(nn_freeze, the_trainable_part_trains_as_without_a_freeze)
{
    sw_optimizer *a = make(SW_OPTIMIZER_ADAMW, 0.1f, 0, 0, 0), *b = make(SW_OPTIMIZER_ADAMW, 0.1f, 0, 0, 0);
    float *pa = malloc(sizeof(float) * N), *pb = malloc(sizeof(float) * N), *g = malloc(sizeof(float) * N);
    fill(pa, N, 2, 1.0);
    memcpy(pb, pa, sizeof(float) * N);
    const size_t ranges[] = {8190, 16390};
    sw_error err;
    cr_assert_eq(sw_optimizer_freeze(a, ranges, 1, &err), SW_OK);
    for (int step = 0; step < 3; step++) {
        fill(g, N, 20 + (uint64_t)step, 1.0);
        float *g2 = malloc(sizeof(float) * N);
        memcpy(g2, g, sizeof(float) * N);
        cr_assert_eq(sw_optimizer_step(a, pa, g, 1e-2f, NULL), SW_OK);
        cr_assert_eq(sw_optimizer_step(b, pb, g2, 1e-2f, NULL), SW_OK);
        free(g2);
    }
    for (size_t i = 0; i < N; i++)
        if (i < 8190 || i >= 16390) cr_assert(memcmp(&pa[i], &pb[i], sizeof(float)) == 0, "parameter %zu", i);
    /* and unfreezing (an empty set) trains the range from then on */
    cr_assert_eq(sw_optimizer_freeze(a, NULL, 0, &err), SW_OK);
    cr_assert_eq(sw_optimizer_num_frozen(a), 0);
    float before = pa[9000];
    fill(g, N, 30, 1.0);
    cr_assert_eq(sw_optimizer_step(a, pa, g, 1e-2f, NULL), SW_OK);
    cr_assert_neq(pa[9000], before);
    free(pa);
    free(pb);
    free(g);
    sw_optimizer_free(a);
    sw_optimizer_free(b);
}

/* The clipping norm counts only the trainable part: a huge gradient on a
 * frozen range must not shrink the others' update. */
Test(nn_freeze, the_clipping_norm_leaves_frozen_gradients_out)
{
    sw_optimizer *o = make(SW_OPTIMIZER_SGD, 0, 0, 0, 1.0f);
    float *p = calloc(N, sizeof(float)), *g = calloc(N, sizeof(float));
    g[5] = 1e6f;  /* frozen */
    g[20] = 0.5f; /* trainable, norm 0.5 < clip: not scaled */
    const size_t ranges[] = {0, 10};
    sw_error err;
    cr_assert_eq(sw_optimizer_freeze(o, ranges, 1, &err), SW_OK);
    float norm;
    cr_assert_eq(sw_optimizer_step(o, p, g, 1.0f, &norm), SW_OK);
    cr_assert_float_eq(norm, 0.5f, 1e-7f);
    cr_assert_float_eq(p[20], -0.5f, 1e-7f);
    cr_assert_eq(p[5], 0.0f);
    free(p);
    free(g);
    sw_optimizer_free(o);
}

Test(nn_freeze, a_range_outside_the_parameters_is_refused)
{
    sw_optimizer *o = make(SW_OPTIMIZER_ADAMW, 0.1f, 0, 0, 1);
    const size_t bad[] = {N - 1, N + 1}, backwards[] = {10, 5};
    sw_error err;
    cr_assert_eq(sw_optimizer_freeze(o, bad, 1, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "not inside"), "%s", err.msg);
    cr_assert_eq(sw_optimizer_freeze(o, backwards, 1, &err), SW_ERR_INVALID);
    sw_optimizer_free(o);
}

static sw_model *tiny_gpt(void)
{
    sw_model_spec spec;
    sw_model *m;
    sw_error err;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=2,d=8,heads=2,ctx=8,vocab=12,tied=0", &spec, &err), SW_OK);
    cr_assert_eq(sw_model_create(&spec, 1, &m, &err), SW_OK, "%s", err.msg);
    return m;
}

static int index_of(const sw_model *m, const char *name)
{
    for (int i = 0; i < sw_model_num_tensors(m); i++) {
        sw_tensor_info t;
        sw_model_tensor(m, i, &t);
        if (!strcmp(t.name, name)) return i;
    }
    cr_assert_fail("no tensor %s", name);
    return -1;
}

Test(nn_freeze, a_spec_picks_tensors_by_glob_until_their_unfreeze_points)
{
    sw_model *m = tiny_gpt();
    sw_freeze *f;
    sw_error err;
    /* h.0.* until 200k; wte for good; h.0.mlp.fc.w is matched twice: the later point wins */
    cr_assert_eq(sw_freeze_create("h.0.*@200k,wte,h.0.mlp.fc.*@1.5M", m, &f, &err), SW_OK, "%s", err.msg);
    cr_assert_str_eq(sw_freeze_text(f), "h.0.*@200k,wte,h.0.mlp.fc.*@1.5M");
    int qkv0 = index_of(m, "h.0.attn.qkv.w"), qkv1 = index_of(m, "h.1.attn.qkv.w"), wte = index_of(m, "wte"),
        fc0 = index_of(m, "h.0.mlp.fc.w"), head = index_of(m, "head.w");
    cr_assert(sw_freeze_tensor_frozen(f, qkv0, 0));
    cr_assert(sw_freeze_tensor_frozen(f, qkv0, 199999));
    cr_assert_not(sw_freeze_tensor_frozen(f, qkv0, 200000), "a step starting at the point trains");
    cr_assert_not(sw_freeze_tensor_frozen(f, qkv1, 0), "h.1 is not matched");
    cr_assert_not(sw_freeze_tensor_frozen(f, head, 0), "head.w is not wte");
    cr_assert(sw_freeze_tensor_frozen(f, wte, UINT64_MAX - 1));
    cr_assert(sw_freeze_tensor_frozen(f, fc0, 1000000));
    cr_assert_not(sw_freeze_tensor_frozen(f, fc0, 1500000));

    /* the optimizer's set follows the token count; a change is reported once */
    sw_optimizer_params op = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
    sw_optimizer *o;
    cr_assert_eq(sw_optimizer_create(&op, sw_model_num_params(m), &o, &err), SW_OK);
    sw_tensor_info t;
    size_t expect0 = 0;
    for (int i = 0; i < sw_model_num_tensors(m); i++) {
        sw_model_tensor(m, i, &t);
        if (sw_freeze_tensor_frozen(f, i, 0)) expect0 += t.numel;
    }
    int changed;
    cr_assert_eq(sw_freeze_apply(f, o, 0, &changed, &err), SW_OK);
    cr_assert(changed);
    cr_assert_eq(sw_optimizer_num_frozen(o), expect0);
    cr_assert_eq(sw_freeze_apply(f, o, 1000, &changed, &err), SW_OK);
    cr_assert_not(changed);
    cr_assert_eq(sw_freeze_apply(f, o, 200000, &changed, &err), SW_OK);
    cr_assert(changed);
    sw_model_tensor(m, wte, &t);
    size_t expect1 = t.numel;
    sw_model_tensor(m, fc0, &t);
    expect1 += t.numel;
    sw_model_tensor(m, index_of(m, "h.0.mlp.fc.b"), &t);
    expect1 += t.numel;
    cr_assert_eq(sw_optimizer_num_frozen(o), expect1);
    sw_optimizer_free(o);
    sw_freeze_free(f);
    sw_model_free(m);
}

Test(nn_freeze, bad_specs_say_what_was_expected)
{
    sw_model *m = tiny_gpt();
    sw_freeze *f = NULL;
    sw_error err;
    cr_assert_eq(sw_freeze_create("layer.0.*", m, &f, &err), SW_ERR_INVALID);
    cr_assert_null(f);
    /* the message names the pattern and lists the model's names, layers as N */
    cr_assert(strstr(err.msg, "'layer.0.*' matches no tensor"), "%s", err.msg);
    cr_assert(strstr(err.msg, "wte, wpe, h.N.ln1.w"), "%s", err.msg);
    cr_assert(strstr(err.msg, "head.w"), "%s", err.msg);
    cr_assert_eq(sw_freeze_create("wte@soon", m, &f, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "unfreeze point must be a positive token count"), "%s", err.msg);
    cr_assert_eq(sw_freeze_create("wte@0", m, &f, &err), SW_ERR_INVALID);
    cr_assert_eq(sw_freeze_create("wte,,wpe", m, &f, &err), SW_OK, "empty parts between commas are skipped: %s",
                 err.msg);
    cr_assert_str_eq(sw_freeze_text(f), "wte,wpe");
    sw_freeze_free(f);
    cr_assert_eq(sw_freeze_create("@200k", m, &f, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "empty pattern"), "%s", err.msg);
    cr_assert_eq(sw_freeze_create(",", m, &f, &err), SW_ERR_INVALID);
    cr_assert_eq(sw_freeze_create("", m, &f, &err), SW_ERR_INVALID);
    sw_freeze_free(NULL);
    sw_model_free(m);
}
