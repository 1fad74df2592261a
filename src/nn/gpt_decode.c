/* gpt: step-wise decoding with a key/value cache in slots (gpt_decode.h),
 * the one place a gpt decodes: greedy (gpt_generate.c) and beam search
 * (beam.c) both run on it. The cache is laid out per slot, (R, L, maxT, A),
 * so that moving a hypothesis to another slot is one copy per layer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gpt_decode.h"
#include "nn/kernels.h"

/* The cache of slot s at layer l: (maxT, A). */
static size_t cache_at(const sw_gpt *g, int s, int l) { return ((size_t)s * g->L + l) * g->maxT * g->A; }

sw_status sw_gpt_decoder_begin(sw_gpt_decoder *d, sw_model *m, int R)
{
    memset(d, 0, sizeof *d);
    if (!m || m->spec.kind != SW_MODEL_GPT) return SW_ERR_INVALID;
    sw_gpt *g = m->impl;
    int L = g->L, C = g->C, V = g->V, maxT = g->maxT, A = g->A, F = g->F;
    if (R < 1) return sw_model_fail(m, SW_ERR_INVALID, "decode: %d slots (expected at least 1)", R);
    size_t cache = (size_t)R * L * maxT * A;
    size_t rc = (size_t)R * C, ra = (size_t)R * A, rf = (size_t)R * F;
    size_t total = 2 * cache + rc * 4 /* x ln tmp x2 */ + ra * 4 /* qkv atty */ + rf * 2 + (size_t)R * V;
    if (total > g->gen_cap) { /* grow-only; every slot is written before it is read */
        float *fresh = sw_floats_alloc(total);
        if (!fresh) return sw_model_fail(m, SW_ERR_NOMEM, "decode: out of memory for the key/value cache");
        free(g->gen_mem);
        g->gen_mem = fresh;
        g->gen_cap = total;
    }
    d->m = m;
    d->g = g;
    d->R = R;
    d->kc = g->gen_mem;
    d->vc = d->kc + cache;
    d->x = d->vc + cache;
    d->ln = d->x + rc;
    d->qkv = d->ln + rc;
    d->atty = d->qkv + 3 * ra;
    d->tmp = d->atty + ra;
    d->fch = d->tmp + rc;
    d->fchg = d->fch + rf;
    d->x2 = d->fchg + rf;
    d->logits = d->x2 + rc;
    m->can_backward = 0;
    m->errmsg[0] = 0;
    return SW_OK;
}

sw_status sw_gpt_decoder_prefill(sw_gpt_decoder *d, const int32_t *prompts, int stride, int B, int P,
                                 const int *slots)
{
    sw_gpt *g = d->g;
    int L = g->L, C = g->C, V = g->V, A = g->A;
    if (B < 1 || B > d->R || P < 1 || P > g->maxT || P > stride)
        return sw_model_fail(d->m, SW_ERR_INVALID, "decode: prefill of %d rows of %d positions (expected 1..%d, 1..%d)",
                             B, P, d->R, g->maxT);
    /* sw_gpt_size lays out the activations, not gen_mem: the decoder's view stays valid */
    sw_status st = sw_gpt_size(d->m, B, P);
    if (st != SW_OK) return st;
    sw_gpt_acts *a = &g->a;
    for (int r = 0; r < B; r++)
        memcpy(a->inputs + (size_t)r * P, prompts + (size_t)r * stride, (size_t)P * sizeof(int32_t));
    g->dropout_on = 0;
    g->has_targets = 0;
    sw_embedding_forward(a->encoded, a->inputs, g->p.wte, g->p.wpe, B, P, C);
    sw_gpt_forward_blocks(g, 0);
    d->m->logits = a->logits;
    for (int l = 0; l < L; l++)
        for (int r = 0; r < B; r++)
            for (int t = 0; t < P; t++) {
                const float *row = a->qkv + (((size_t)l * B + r) * P + t) * 3 * A;
                size_t at = cache_at(g, slots[r], l) + (size_t)t * A;
                memcpy(d->kc + at, row + A, (size_t)A * sizeof(float));
                memcpy(d->vc + at, row + 2 * A, (size_t)A * sizeof(float));
            }
    for (int r = 0; r < B; r++)
        memcpy(d->logits + (size_t)r * V, a->logits + ((size_t)r * P + P - 1) * V, (size_t)V * sizeof(float));
    return SW_OK;
}

/* One query row against its cache: out (A) for position pos; kc, vc
 * (maxT, A) of its slot and layer. */
SW_SIMD static void att_step_row(float *out, const float *qkv_row, const float *kc, const float *vc, int pos, int A,
                                 int NH)
{
    int hs = A / NH;
    float s = 1.0f / sqrtf((float)hs);
    float e[pos + 1];
    for (int h = 0; h < NH; h++) {
        const float *q = qkv_row + h * hs;
        float mx = -INFINITY;
        for (int u = 0; u <= pos; u++) {
            float z = sw_lanes_dot(q, kc + (size_t)u * A + h * hs, hs) * s;
            e[u] = z;
            mx = z > mx ? z : mx;
        }
        for (int u = 0; u <= pos; u++) e[u] = sw_expf_fast(e[u] - mx);
        float inv = 1.0f / sw_lanes_sum(e, pos + 1);
        float *o = out + h * hs;
        for (int i = 0; i < hs; i++) o[i] = 0.0f;
        for (int u = 0; u <= pos; u++) sw_axpy(o, e[u] * inv, vc + (size_t)u * A + h * hs, hs);
    }
}

void sw_gpt_decoder_step(sw_gpt_decoder *d, const int *slots, const int32_t *tokens, const int *pos, int M)
{
    sw_gpt *g = d->g;
    int L = g->L, C = g->C, NH = g->NH, V = g->V, A = g->A, F = g->F;
    sw_gpt_tensors *p = &g->p;
    if (M < 1) return;
    for (int i = 0; i < M; i++) {
        const float *te = p->wte + (size_t)tokens[i] * C, *pe = p->wpe + (size_t)pos[i] * C;
        for (int c = 0; c < C; c++) d->x[(size_t)i * C + c] = te[c] + pe[c];
    }
    for (int l = 0; l < L; l++) {
        sw_layernorm_forward(d->ln, NULL, NULL, d->x, p->ln1w + (size_t)l * C, p->ln1b + (size_t)l * C, M, C);
        sw_matmul_forward(d->qkv, d->ln, p->qkvw + (size_t)l * 3 * A * C, p->qkvb + (size_t)l * 3 * A, M, C, 3 * A);
        for (int i = 0; i < M; i++) {
            size_t at = cache_at(g, slots[i], l) + (size_t)pos[i] * A;
            memcpy(d->kc + at, d->qkv + (size_t)i * 3 * A + A, (size_t)A * sizeof(float));
            memcpy(d->vc + at, d->qkv + (size_t)i * 3 * A + 2 * A, (size_t)A * sizeof(float));
        }
#pragma omp parallel for schedule(static) if ((size_t)M * A * (pos[0] + 1) >= SW_PAR_MIN)
        for (int i = 0; i < M; i++) {
            size_t base = cache_at(g, slots[i], l);
            att_step_row(d->atty + (size_t)i * A, d->qkv + (size_t)i * 3 * A, d->kc + base, d->vc + base, pos[i], A,
                         NH);
        }
        sw_matmul_forward(d->tmp, d->atty, p->attprojw + (size_t)l * C * A, p->attprojb + (size_t)l * C, M, A, C);
        sw_residual_forward(d->x2, d->x, d->tmp, (size_t)M * C);
        sw_layernorm_forward(d->ln, NULL, NULL, d->x2, p->ln2w + (size_t)l * C, p->ln2b + (size_t)l * C, M, C);
        sw_matmul_forward(d->fch, d->ln, p->fcw + (size_t)l * F * C, p->fcb + (size_t)l * F, M, C, F);
        sw_gelu_forward(d->fchg, d->fch, (size_t)M * F);
        sw_matmul_forward(d->tmp, d->fchg, p->fcprojw + (size_t)l * C * F, p->fcprojb + (size_t)l * C, M, F, C);
        sw_residual_forward(d->x, d->x2, d->tmp, (size_t)M * C);
    }
    sw_layernorm_forward(d->ln, NULL, NULL, d->x, p->lnfw, p->lnfb, M, C);
    sw_matmul_forward(d->logits, d->ln, p->headw, NULL, M, C, V);
}

void sw_gpt_decoder_copy(sw_gpt_decoder *d, int dst, int src, int n_pos)
{
    if (dst == src || n_pos <= 0) return;
    const sw_gpt *g = d->g;
    size_t n = (size_t)n_pos * g->A * sizeof(float);
    for (int l = 0; l < g->L; l++) {
        memcpy(d->kc + cache_at(g, dst, l), d->kc + cache_at(g, src, l), n);
        memcpy(d->vc + cache_at(g, dst, l), d->vc + cache_at(g, src, l), n);
    }
}
