/* nn/: a batch cut into data-parallel shards (docs/SCALING.md) gives the
 * whole batch's loss and gradient once each shard's is weighted by its share
 * of the loss normaliser, dropout included: a shard that says where it starts
 * (sw_batch.first_row) draws the masks the whole batch would. This is what
 * train/data_parallel.c sums over MPI ranks; here the ranks are simulated in
 * one process, so it runs in every build.
 *
 *   gpt: L = sum(mask CE) / sum(mask), shard k's weight w_k = sum(mask_k) / sum(mask)
 *   mlp: L = mean over rows,           w_k = rows_k / rows
 * and L = sum_k w_k L_k, dL = sum_k w_k dL_k. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "stopwise/nn.h"

/* The whole batch's loss and gradient, then the weighted sum over `shards`
 * equal shards (each told its first row, unless `tell` is 0); returns the
 * largest gradient error relative to the gradient's largest element, and
 * the losses in *whole and *summed. */
static double shard_error(const char *spec_text, sw_batch b, int shards, int tell, float *whole, float *summed)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse(spec_text, &s, NULL), SW_OK);
    sw_model *m;
    cr_assert_eq(sw_model_create(&s, 7, &m, NULL), SW_OK);
    size_t n = sw_model_num_params(m);
    float *g = malloc(sizeof(float) * n), *sum = calloc(n, sizeof(float));
    sw_model_zero_grad(m);
    cr_assert_eq(sw_model_forward(m, &b, 1, whole), SW_OK, "%s", sw_model_errmsg(m));
    cr_assert_eq(sw_model_backward(m), SW_OK, "%s", sw_model_errmsg(m));
    memcpy(g, sw_model_grads(m), sizeof(float) * n);
    double total = 0;
    for (int i = 0; i < b.B * b.T; i++) total += b.mask ? b.mask[i] : 1;
    *summed = 0;
    int rows = b.B / shards, F = b.features ? s.n_inputs : 0;
    for (int k = 0; k < shards; k++) {
        sw_batch p = b;
        size_t off = (size_t)k * rows * b.T;
        p.B = rows;
        p.first_row = tell ? k * rows : 0;
        if (p.inputs) p.inputs += off;
        if (p.targets) p.targets += off;
        if (p.mask) p.mask += off;
        if (p.features) p.features += (size_t)k * rows * F;
        double mine = 0;
        for (int i = 0; i < rows * b.T; i++) mine += p.mask ? p.mask[i] : 1;
        float w = (float)(mine / total), loss;
        sw_model_zero_grad(m);
        cr_assert_eq(sw_model_forward(m, &p, 1, &loss), SW_OK, "%s", sw_model_errmsg(m));
        cr_assert_eq(sw_model_backward(m), SW_OK, "%s", sw_model_errmsg(m));
        *summed += w * loss;
        const float *gk = sw_model_grads(m);
        for (size_t i = 0; i < n; i++) sum[i] += w * gk[i];
    }
    double big = 0, err = 0;
    for (size_t i = 0; i < n; i++) {
        big = fmax(big, fabs(g[i]));
        err = fmax(err, fabs(g[i] - sum[i]));
    }
    cr_assert_gt(big, 1e-4, "an all-zero gradient would pass trivially");
    free(g);
    free(sum);
    sw_model_free(m);
    return err / big;
}

/* 8 sequences of 6 positions, the loss on a varying tail of each (so the
 * shards' mask sums differ and the weights matter). */
static sw_batch gpt_batch(void)
{
    static int32_t in[8 * 6], tg[8 * 6];
    static float mask[8 * 6];
    sw_rng r;
    sw_rng_seed(&r, 11);
    for (int i = 0; i < 48; i++) {
        in[i] = (int32_t)sw_rng_below(&r, 13);
        tg[i] = (int32_t)sw_rng_below(&r, 13);
        mask[i] = i % 6 >= 1 + (i / 6) % 4;
    }
    return (sw_batch){.B = 8, .T = 6, .inputs = in, .targets = tg, .mask = mask, .dropout_seed = 99};
}

static sw_batch mlp_batch(void)
{
    static float x[12 * 5];
    static int32_t y[12];
    sw_rng r;
    sw_rng_seed(&r, 12);
    for (int i = 0; i < 60; i++) x[i] = (float)sw_rng_normal(&r);
    for (int i = 0; i < 12; i++) y[i] = (int32_t)sw_rng_below(&r, 3);
    return (sw_batch){.B = 12, .T = 1, .features = x, .targets = y, .dropout_seed = 5};
}

Test(nn_shard, gpt_shards_sum_to_the_whole_batch_with_dropout)
{
    float whole, summed;
    for (int shards = 2; shards <= 4; shards *= 2) {
        double e = shard_error("gpt:layers=2,d=16,heads=2,ctx=6,vocab=13,dropout=0.3", gpt_batch(), shards, 1,
                               &whole, &summed);
        cr_assert_lt(e, 1e-5, "%d shards: gradient error %.3g", shards, e);
        cr_assert_lt(fabsf(whole - summed), 1e-5f * fabsf(whole), "%d shards: loss %.7f vs %.7f", shards, whole,
                     summed);
    }
}

Test(nn_shard, mlp_shards_sum_to_the_whole_batch_with_dropout)
{
    float whole, summed;
    double e = shard_error("mlp:hidden=16x8,dropout=0.4,inputs=5,classes=3", mlp_batch(), 3, 1, &whole, &summed);
    cr_assert_lt(e, 1e-5, "gradient error %.3g", e);
    cr_assert_lt(fabsf(whole - summed), 1e-5f * fabsf(whole), "loss %.7f vs %.7f", whole, summed);
}

/* The control: shards that do not say where they start draw other masks, and
 * the sum is no longer the whole batch's (so the tests above can fail). */
Test(nn_shard, shards_without_their_first_row_draw_other_masks)
{
    float whole, summed;
    double e = shard_error("gpt:layers=2,d=16,heads=2,ctx=6,vocab=13,dropout=0.3", gpt_batch(), 2, 0, &whole, &summed);
    cr_assert_gt(e, 1e-3, "gradient error %.3g: the masks did not change", e);
    e = shard_error("mlp:hidden=16x8,dropout=0.4,inputs=5,classes=3", mlp_batch(), 3, 0, &whole, &summed);
    cr_assert_gt(e, 1e-3, "gradient error %.3g: the masks did not change", e);
}
