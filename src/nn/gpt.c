/* gpt: a decoder-only transformer, pre-LayerNorm (GPT-2; llm.c's layout).
 *
 *   x_0 = dropout(wte[tokens] + wpe[positions])
 *   per block l:  x <- x + dropout(proj(attn(ln1(x))))          attn: NH heads of hs, A = NH*hs wide
 *                 x <- x + dropout(proj(gelu(fc(ln2(x)))))      fc: C -> F
 *   (A = C and F = 4C unless pruned: spec hd=, ff=; docs/PRUNING.md)
 *   logits = lnf(x) head^T        head = wte when tied
 *   loss   = sum(mask * CE) / sum(mask)
 *
 * Init (GPT-2, Radford et al. 2019): every weight matrix and embedding
 * N(0, 0.02); the two projections that write into the residual stream
 * N(0, 0.02/sqrt(2L)); biases 0, LayerNorm gains 1.
 * Dropout streams: 0 = embeddings, 1 + 2l = attention output of block l,
 * 2 + 2l = MLP output of block l. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gpt.h"
#include "nn/kernels.h"

static void point(const sw_gpt *g, float *base, int tied, sw_gpt_tensors *t)
{
    size_t L = (size_t)g->L, C = (size_t)g->C, V = (size_t)g->V, A = (size_t)g->A, F = (size_t)g->F;
    float *p = base;
    t->wte = p;      p += V * C;
    t->wpe = p;      p += (size_t)g->maxT * C;
    t->ln1w = p;     p += L * C;
    t->ln1b = p;     p += L * C;
    t->qkvw = p;     p += L * 3 * A * C;
    t->qkvb = p;     p += L * 3 * A;
    t->attprojw = p; p += L * C * A;
    t->attprojb = p; p += L * C;
    t->ln2w = p;     p += L * C;
    t->ln2b = p;     p += L * C;
    t->fcw = p;      p += L * F * C;
    t->fcb = p;      p += L * F;
    t->fcprojw = p;  p += L * C * F;
    t->fcprojb = p;  p += L * C;
    t->lnfw = p;     p += C;
    t->lnfb = p;     p += C;
    t->headw = tied ? t->wte : p;
}

/* The tensor table, in exactly the order of point(). */
sw_status sw_gpt_build(sw_model *m)
{
    const sw_model_spec *s = &m->spec;
    sw_gpt *g = calloc(1, sizeof *g);
    if (!g) return SW_ERR_NOMEM;
    m->impl = g;
    g->L = s->layers;
    g->C = s->d_model;
    g->NH = s->heads;
    g->V = s->vocab;
    g->maxT = s->ctx;
    g->HS = s->head_dim ? s->head_dim : s->d_model / s->heads;
    g->A = g->NH * g->HS;
    g->F = s->ff ? s->ff : 4 * s->d_model;
    int64_t C = g->C, A = g->A, F = g->F;
    sw_status st = SW_OK;
    st |= sw_model_add_tensor(m, "wte", 2, g->V, C, 0);
    st |= sw_model_add_tensor(m, "wpe", 2, g->maxT, C, 0);
    const struct { const char *name; int ndim; int64_t r, c; } per_layer[] = {
        {"ln1.w", 1, C, 0},       {"ln1.b", 1, C, 0},       {"attn.qkv.w", 2, 3 * A, C}, {"attn.qkv.b", 1, 3 * A, 0},
        {"attn.proj.w", 2, C, A}, {"attn.proj.b", 1, C, 0}, {"ln2.w", 1, C, 0},          {"ln2.b", 1, C, 0},
        {"mlp.fc.w", 2, F, C},    {"mlp.fc.b", 1, F, 0},    {"mlp.proj.w", 2, C, F},     {"mlp.proj.b", 1, C, 0},
    };
    for (size_t k = 0; k < sizeof per_layer / sizeof per_layer[0]; k++)
        for (int l = 0; l < g->L; l++) {
            char name[64];
            snprintf(name, sizeof name, "h.%d.%s", l, per_layer[k].name);
            st |= sw_model_add_tensor(m, name, per_layer[k].ndim, per_layer[k].r, per_layer[k].c, 0);
        }
    st |= sw_model_add_tensor(m, "lnf.w", 1, C, 0, 0);
    st |= sw_model_add_tensor(m, "lnf.b", 1, C, 0, 0);
    if (!s->tied) st |= sw_model_add_tensor(m, "head.w", 2, g->V, C, 0);
    return st ? SW_ERR_NOMEM : SW_OK;
}

static void fill_normal(float *p, size_t n, double std, sw_rng *r)
{
    for (size_t i = 0; i < n; i++) p[i] = (float)(std * sw_rng_normal(r));
}

void sw_gpt_init(sw_model *m, uint64_t seed)
{
    sw_gpt *g = m->impl;
    int tied = m->spec.tied;
    point(g, m->params, tied, &g->p);
    point(g, m->grads, tied, &g->g);
    size_t L = (size_t)g->L, C = (size_t)g->C, V = (size_t)g->V, A = (size_t)g->A, F = (size_t)g->F;
    sw_rng r;
    sw_rng_seed(&r, seed);
    double std = 0.02, rstd = 0.02 / sqrt(2.0 * g->L);
    /* in buffer order, so the draws are a function of the layout only */
    fill_normal(g->p.wte, V * C, std, &r);
    fill_normal(g->p.wpe, (size_t)g->maxT * C, std, &r);
    for (size_t i = 0; i < L * C; i++) g->p.ln1w[i] = 1.0f;
    fill_normal(g->p.qkvw, L * 3 * A * C, std, &r);
    fill_normal(g->p.attprojw, L * C * A, rstd, &r);
    for (size_t i = 0; i < L * C; i++) g->p.ln2w[i] = 1.0f;
    fill_normal(g->p.fcw, L * F * C, std, &r);
    fill_normal(g->p.fcprojw, L * C * F, rstd, &r);
    for (size_t i = 0; i < C; i++) g->p.lnfw[i] = 1.0f;
    if (!tied) fill_normal(g->p.headw, V * C, std, &r);
}

void sw_gpt_free(sw_model *m)
{
    sw_gpt *g = m->impl;
    if (!g) return;
    free(g->act_mem);
    free(g->gen_mem);
    free(g);
    m->impl = NULL;
}

/* Lays out the activations of a (B, T) batch: returns the floats needed and,
 * if base != NULL, points every buffer into base. */
static size_t act_layout(sw_gpt *g, int B, int T, float *base)
{
    size_t L = (size_t)g->L, C = (size_t)g->C, V = (size_t)g->V, NH = (size_t)g->NH;
    size_t A = (size_t)g->A, F = (size_t)g->F, CA = C > A ? C : A;
    size_t BT = (size_t)B * T;
    /* (pointer, floats) in allocation order; each rounded to 16 floats (64 B) */
    struct { float **p; size_t n; } parts[] = {
        {&g->a.encoded, BT * C},
        {&g->a.ln1, L * BT * C},       {&g->a.ln1_mean, L * BT},      {&g->a.ln1_rstd, L * BT},
        {&g->a.qkv, L * BT * 3 * A},   {&g->a.atty, L * BT * A},      {&g->a.att, L * B * NH * T * T},
        {&g->a.attproj, L * BT * C},   {&g->a.res2, L * BT * C},      {&g->a.ln2, L * BT * C},
        {&g->a.ln2_mean, L * BT},      {&g->a.ln2_rstd, L * BT},      {&g->a.fch, L * BT * F},
        {&g->a.fch_gelu, L * BT * F},  {&g->a.fcproj, L * BT * C},    {&g->a.res3, L * BT * C},
        {&g->a.lnf, BT * C},           {&g->a.lnf_mean, BT},          {&g->a.lnf_rstd, BT},
        {&g->a.logits, BT * V},        {&g->a.probs, BT * V},
        {&g->a.dres, BT * C},          {&g->a.dbuf, BT * CA},         {&g->a.ddrop, BT * C},
        {&g->a.dqkv, BT * 3 * A},      {&g->a.dfch, BT * F},          {&g->a.dfchg, BT * F},
        {&g->a.dlogits, BT * V},       {(float **)&g->a.inputs, BT},  {(float **)&g->a.targets, BT},
        {&g->a.mask, BT},
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (base) *parts[i].p = base + total;
        total += (parts[i].n + 15) / 16 * 16;
    }
    return total;
}

sw_status sw_gpt_size(sw_model *m, int B, int T)
{
    sw_gpt *g = m->impl;
    if (g->B == B && g->T == T && g->act_mem) return SW_OK;
    if (act_layout(g, B, T, NULL) > g->act_cap) {
        /* Room for the longest batch of this size at once: batches change
         * length (length buckets), and a fresh zeroed allocation each time
         * costs page faults. */
        size_t total = act_layout(g, B, T > g->maxT ? T : g->maxT, NULL);
        float *mem = sw_floats_alloc(total);
        if (!mem)
            return sw_model_fail(m, SW_ERR_NOMEM, "gpt: out of memory for the activations of a %dx%d batch", B, T);
        free(g->act_mem);
        g->act_mem = mem;
        g->act_cap = total;
    }
    act_layout(g, B, T, g->act_mem);
    g->B = B;
    g->T = T;
    return SW_OK;
}

void sw_gpt_forward_blocks(sw_gpt *g, int training)
{
    int B = g->B, T = g->T, C = g->C, NH = g->NH, V = g->V, BT = B * T, A = g->A, F = g->F;
    size_t btc = (size_t)BT * C, bta = (size_t)BT * A, btf = (size_t)BT * F;
    sw_gpt_tensors *p = &g->p;
    sw_gpt_acts *a = &g->a;
    const float *residual = a->encoded;
    for (int l = 0; l < g->L; l++) {
        float *ln1 = a->ln1 + l * btc, *qkv = a->qkv + l * bta * 3, *atty = a->atty + l * bta;
        float *att = a->att + (size_t)l * B * NH * T * T, *attproj = a->attproj + l * btc;
        float *res2 = a->res2 + l * btc, *ln2 = a->ln2 + l * btc, *fch = a->fch + l * btf;
        float *fchg = a->fch_gelu + l * btf, *fcproj = a->fcproj + l * btc, *res3 = a->res3 + l * btc;
        sw_layernorm_forward(ln1, a->ln1_mean + (size_t)l * BT, a->ln1_rstd + (size_t)l * BT, residual,
                             p->ln1w + (size_t)l * C, p->ln1b + (size_t)l * C, BT, C);
        sw_matmul_forward(qkv, ln1, p->qkvw + (size_t)l * 3 * A * C, p->qkvb + (size_t)l * 3 * A, BT, C, 3 * A);
        sw_attention_forward(atty, att, qkv, B, T, A, NH);
        sw_matmul_forward(attproj, atty, p->attprojw + (size_t)l * C * A, p->attprojb + (size_t)l * C, BT, A, C);
        if (training && g->dropout_on)
            sw_dropout_forward(attproj, attproj, btc, g->dropout_p, g->dropout_seed, 1 + 2 * (uint64_t)l,
                               g->dropout_first);
        sw_residual_forward(res2, residual, attproj, btc);
        sw_layernorm_forward(ln2, a->ln2_mean + (size_t)l * BT, a->ln2_rstd + (size_t)l * BT, res2,
                             p->ln2w + (size_t)l * C, p->ln2b + (size_t)l * C, BT, C);
        sw_matmul_forward(fch, ln2, p->fcw + (size_t)l * F * C, p->fcb + (size_t)l * F, BT, C, F);
        sw_gelu_forward(fchg, fch, btf);
        sw_matmul_forward(fcproj, fchg, p->fcprojw + (size_t)l * C * F, p->fcprojb + (size_t)l * C, BT, F, C);
        if (training && g->dropout_on)
            sw_dropout_forward(fcproj, fcproj, btc, g->dropout_p, g->dropout_seed, 2 + 2 * (uint64_t)l,
                               g->dropout_first);
        sw_residual_forward(res3, res2, fcproj, btc);
        residual = res3;
    }
    sw_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, residual, p->lnfw, p->lnfb, BT, C);
    sw_matmul_forward(a->logits, a->lnf, p->headw, NULL, BT, C, V);
}

sw_status sw_gpt_forward(sw_model *m, const sw_batch *b, int training, float *loss)
{
    sw_gpt *g = m->impl;
    if (b->B < 1 || b->T < 1 || b->T > g->maxT || !b->inputs)
        return sw_model_fail(m, SW_ERR_INVALID, "gpt forward: batch %dx%d (expected B >= 1, 1 <= T <= ctx=%d, inputs)",
                             b->B, b->T, g->maxT);
    if ((size_t)b->B * b->T > (size_t)1 << 30)
        return sw_model_fail(m, SW_ERR_INVALID, "gpt forward: batch %dx%d too large", b->B, b->T);
    if (training && !b->targets)
        return sw_model_fail(m, SW_ERR_INVALID, "gpt forward: a training forward needs targets");
    int BT = b->B * b->T, V = g->V;
    for (int i = 0; i < BT; i++)
        if (b->inputs[i] < 0 || b->inputs[i] >= V)
            return sw_model_fail(m, SW_ERR_INVALID, "gpt forward: input id %d at position %d (expected 0..%d)",
                                 (int)b->inputs[i], i, V - 1);
    if (b->targets)
        for (int i = 0; i < BT; i++) {
            float w = b->mask ? b->mask[i] : 1.0f;
            if (!(w >= 0.0f && w < INFINITY))
                return sw_model_fail(m, SW_ERR_INVALID, "gpt forward: mask %g at position %d (expected >= 0)",
                                     (double)w, i);
            if (w != 0.0f && (b->targets[i] < 0 || b->targets[i] >= V))
                return sw_model_fail(m, SW_ERR_INVALID, "gpt forward: target id %d at position %d (expected 0..%d)",
                                     (int)b->targets[i], i, V - 1);
        }
    sw_status st = sw_gpt_size(m, b->B, b->T);
    if (st != SW_OK) return st;
    sw_gpt_acts *a = &g->a;
    memcpy(a->inputs, b->inputs, (size_t)BT * sizeof(int32_t));
    g->has_targets = b->targets != NULL;
    g->has_mask = b->mask != NULL;
    if (b->targets) memcpy(a->targets, b->targets, (size_t)BT * sizeof(int32_t));
    if (b->mask) memcpy(a->mask, b->mask, (size_t)BT * sizeof(float));
    g->dropout_p = m->spec.dropout;
    g->dropout_on = training && m->spec.dropout > 0.0f;
    g->dropout_seed = b->dropout_seed;
    g->dropout_first = (uint64_t)b->first_row * (uint64_t)b->T * (uint64_t)g->C; /* (B,T,C) rows */

    size_t btc = (size_t)BT * g->C;
    sw_embedding_forward(a->encoded, a->inputs, g->p.wte, g->p.wpe, b->B, b->T, g->C);
    if (g->dropout_on) sw_dropout_forward(a->encoded, a->encoded, btc, g->dropout_p, g->dropout_seed, 0, g->dropout_first);
    sw_gpt_forward_blocks(g, training);
    m->logits = a->logits;
    if (b->targets) {
        float l = sw_xent_forward(a->probs, a->logits, a->targets, g->has_mask ? a->mask : NULL, BT, V);
        if (loss) *loss = l;
    } else if (loss) {
        *loss = 0.0f;
    }
    return SW_OK;
}

sw_status sw_gpt_backward(sw_model *m)
{
    sw_gpt *g = m->impl;
    if (!g->has_targets) return sw_model_fail(m, SW_ERR_STATE, "gpt backward: the last forward had no targets");
    int B = g->B, T = g->T, C = g->C, NH = g->NH, V = g->V, BT = B * T, A = g->A, F = g->F;
    size_t btc = (size_t)BT * C, bta = (size_t)BT * A, btf = (size_t)BT * F;
    sw_gpt_tensors *p = &g->p, *d = &g->g;
    sw_gpt_acts *a = &g->a;
    const float *mask = g->has_mask ? a->mask : NULL;

    /* Input gradients are overwritten (acc = 0) where the buffer is about to
     * be written whole; dres accumulates the residual stream. */
    sw_xent_backward(a->dlogits, a->probs, a->targets, mask, BT, V, 1.0f, 0);
    sw_matmul_backward(a->dbuf, d->headw, NULL, a->dlogits, a->lnf, p->headw, BT, C, V, 0);
    memset(a->dres, 0, btc * sizeof(float));
    const float *last = a->res3 + (size_t)(g->L - 1) * btc;
    sw_layernorm_backward(a->dres, d->lnfw, d->lnfb, a->dbuf, last, p->lnfw, a->lnf_mean, a->lnf_rstd, BT, C);

    for (int l = g->L - 1; l >= 0; l--) {
        const float *residual = l == 0 ? a->encoded : a->res3 + (size_t)(l - 1) * btc;
        float *ln1 = a->ln1 + l * btc, *qkv = a->qkv + l * bta * 3, *atty = a->atty + l * bta;
        float *att = a->att + (size_t)l * B * NH * T * T, *res2 = a->res2 + l * btc, *ln2 = a->ln2 + l * btc;
        float *fch = a->fch + l * btf, *fchg = a->fch_gelu + l * btf;
        /* MLP branch: x3 = x2 + drop(fcproj(gelu(fc(ln2(x2))))); dres holds dx3 */
        const float *dy = a->dres;
        if (g->dropout_on) {
            sw_dropout_backward(a->ddrop, a->dres, btc, g->dropout_p, g->dropout_seed, 2 + 2 * (uint64_t)l,
                                g->dropout_first, 0);
            dy = a->ddrop;
        }
        sw_matmul_backward(a->dfchg, d->fcprojw + (size_t)l * C * F, d->fcprojb + (size_t)l * C, dy, fchg,
                           p->fcprojw + (size_t)l * C * F, BT, F, C, 0);
        sw_gelu_backward(a->dfch, fch, a->dfchg, btf, 0);
        sw_matmul_backward(a->dbuf, d->fcw + (size_t)l * F * C, d->fcb + (size_t)l * F, a->dfch, ln2,
                           p->fcw + (size_t)l * F * C, BT, C, F, 0);
        sw_layernorm_backward(a->dres, d->ln2w + (size_t)l * C, d->ln2b + (size_t)l * C, a->dbuf, res2,
                              p->ln2w + (size_t)l * C, a->ln2_mean + (size_t)l * BT, a->ln2_rstd + (size_t)l * BT,
                              BT, C);
        /* attention branch: x2 = x1 + drop(attproj(attn(qkv(ln1(x1))))); dres holds dx2 */
        dy = a->dres;
        if (g->dropout_on) {
            sw_dropout_backward(a->ddrop, a->dres, btc, g->dropout_p, g->dropout_seed, 1 + 2 * (uint64_t)l,
                                g->dropout_first, 0);
            dy = a->ddrop;
        }
        sw_matmul_backward(a->dbuf, d->attprojw + (size_t)l * C * A, d->attprojb + (size_t)l * C, dy, atty,
                           p->attprojw + (size_t)l * C * A, BT, A, C, 0); /* dbuf: d atty (B,T,A) */
        sw_attention_backward(a->dqkv, a->dbuf, qkv, att, B, T, A, NH, 0);
        sw_matmul_backward(a->dbuf, d->qkvw + (size_t)l * 3 * A * C, d->qkvb + (size_t)l * 3 * A, a->dqkv, ln1,
                           p->qkvw + (size_t)l * 3 * A * C, BT, C, 3 * A, 0);
        sw_layernorm_backward(a->dres, d->ln1w + (size_t)l * C, d->ln1b + (size_t)l * C, a->dbuf, residual,
                              p->ln1w + (size_t)l * C, a->ln1_mean + (size_t)l * BT, a->ln1_rstd + (size_t)l * BT,
                              BT, C);
    }
    const float *denc = a->dres;
    if (g->dropout_on) {
        sw_dropout_backward(a->ddrop, a->dres, btc, g->dropout_p, g->dropout_seed, 0, g->dropout_first, 0);
        denc = a->ddrop;
    }
    sw_embedding_backward(d->wte, d->wpe, denc, a->inputs, B, T, C);
    return SW_OK;
}
