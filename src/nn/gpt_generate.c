/* gpt: batched greedy decoding with a key/value cache.
 *
 * 1. Prefill: one ordinary forward over the first Pmin = min(prompt_lens)
 *    positions of every row (GEMMs over B*Pmin rows); the k and v columns of
 *    each block's qkv activations become the cache.
 * 2. Then one position at a time for all unfinished rows together: a row
 *    whose prompt is longer than Pmin is fed its own prompt tokens (its
 *    outputs ignored) until the prompt ends; from then on it is fed its own
 *    greedy choice. Each step is a batch of M <= B single positions, so the
 *    matmuls stay GEMMs (M rows) and each row attends over its cache.
 * A row ends at stop_token (written and counted), after max_new tokens, or
 * when it reaches the context length ctx.
 *
 * The cache is one allocation per call: (L, B, ctx, A) for k and for v
 * (A = heads x head width, C unless heads were pruned), plus (B, .) step
 * buffers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gpt.h"
#include "nn/kernels.h"

static int32_t argmax_allowed(const float *z, int V, const uint8_t *allowed)
{
    int32_t best = -1;
    for (int v = 0; v < V; v++) {
        if (allowed && !allowed[v]) continue;
        if (best < 0 || z[v] > z[best]) best = v;
    }
    return best;
}

/* One query row against its cache: out (A) for position pos of batch row r;
 * A = NH x hs is the attention's width (the cache rows' stride). */
SW_SIMD static void att_step_row(float *out, const float *qkv_row, const float *kc, const float *vc, int pos,
                                 int C, int NH)
{
    int hs = C / NH; /* here C is the attention width A */
    float s = 1.0f / sqrtf((float)hs);
    float e[pos + 1];
    for (int h = 0; h < NH; h++) {
        const float *q = qkv_row + h * hs;
        float mx = -INFINITY;
        for (int u = 0; u <= pos; u++) {
            float z = sw_lanes_dot(q, kc + (size_t)u * C + h * hs, hs) * s;
            e[u] = z;
            mx = z > mx ? z : mx;
        }
        for (int u = 0; u <= pos; u++) e[u] = sw_expf_fast(e[u] - mx);
        float inv = 1.0f / sw_lanes_sum(e, pos + 1);
        float *o = out + h * hs;
        for (int i = 0; i < hs; i++) o[i] = 0.0f;
        for (int u = 0; u <= pos; u++) sw_axpy(o, e[u] * inv, vc + (size_t)u * C + h * hs, hs);
    }
}

sw_status sw_gpt_generate(sw_model *m, const int32_t *prompts, int prompt_stride, const int *prompt_lens, int B,
                          int max_new, const uint8_t *allowed, int32_t stop_token, int32_t *out, int *out_lens)
{
    if (!m || m->spec.kind != SW_MODEL_GPT) return SW_ERR_INVALID;
    sw_gpt *g = m->impl;
    int L = g->L, C = g->C, NH = g->NH, V = g->V, maxT = g->maxT, A = g->A, F = g->F;
    m->can_backward = 0;
    m->errmsg[0] = 0;
    if (B < 1 || max_new < 0 || !prompts || !prompt_lens || !out || !out_lens)
        return sw_model_fail(m, SW_ERR_INVALID, "generate: bad arguments (B=%d, max_new=%d)", B, max_new);
    int pmin = maxT;
    for (int r = 0; r < B; r++) {
        if (prompt_lens[r] < 1 || prompt_lens[r] > maxT || prompt_lens[r] > prompt_stride)
            return sw_model_fail(m, SW_ERR_INVALID, "generate: row %d has prompt length %d (expected 1..%d)", r,
                                 prompt_lens[r], maxT < prompt_stride ? maxT : prompt_stride);
        for (int t = 0; t < prompt_lens[r]; t++)
            if (prompts[(size_t)r * prompt_stride + t] < 0 || prompts[(size_t)r * prompt_stride + t] >= V)
                return sw_model_fail(m, SW_ERR_INVALID, "generate: row %d position %d: id %d (expected 0..%d)", r, t,
                                     (int)prompts[(size_t)r * prompt_stride + t], V - 1);
        if (prompt_lens[r] < pmin) pmin = prompt_lens[r];
    }
    if (allowed) {
        int any = 0;
        for (int v = 0; v < V; v++) any |= allowed[v] != 0;
        if (!any) return sw_model_fail(m, SW_ERR_INVALID, "generate: the allowed mask allows no token");
    }
    for (int r = 0; r < B; r++) out_lens[r] = 0;
    if (max_new == 0) return SW_OK;

    /* ---- buffers: cache and step scratch, one allocation ---- */
    size_t cache = (size_t)L * B * maxT * A;
    size_t bc = (size_t)B * C, ba = (size_t)B * A, bf = (size_t)B * F;
    size_t total = 2 * cache + bc * 4 /* x ln tmp x2 */ + ba * 4 /* qkv atty */ + bf * 2 + (size_t)B * V + 4 * (size_t)B;
    if (total > g->gen_cap) { /* grow-only; every slot is written before it is read */
        float *fresh = sw_floats_alloc(total);
        if (!fresh) return sw_model_fail(m, SW_ERR_NOMEM, "generate: out of memory for the key/value cache");
        free(g->gen_mem);
        g->gen_mem = fresh;
        g->gen_cap = total;
    }
    float *mem = g->gen_mem;
    float *kc = mem, *vc = kc + cache;          /* (L, B, maxT, A) each */
    float *x = vc + cache;                       /* (B, C)   residual stream  */
    float *ln = x + bc;                          /* (B, C)                    */
    float *qkv = ln + bc;                        /* (B, 3A)                   */
    float *atty = qkv + 3 * ba;                  /* (B, A)                    */
    float *tmp = atty + ba;                      /* (B, C)                    */
    float *fch = tmp + bc;                       /* (B, F)                    */
    float *fchg = fch + bf;                      /* (B, F)                    */
    float *x2 = fchg + bf;                       /* (B, C)                    */
    float *logits = x2 + bc;                     /* (B, V)                    */
    int32_t *feed = (int32_t *)(logits + (size_t)B * V); /* (B) next token    */
    int32_t *pos = feed + B;                     /* (B) its position          */
    int32_t *rows = pos + B;                     /* (M) active rows           */
    int32_t *done = rows + B;                    /* (B)                       */

    /* ---- prefill ---- */
    sw_status st = sw_gpt_size(m, B, pmin);
    if (st != SW_OK) return st;
    sw_gpt_acts *a = &g->a;
    for (int r = 0; r < B; r++) memcpy(a->inputs + (size_t)r * pmin, prompts + (size_t)r * prompt_stride,
                                       (size_t)pmin * sizeof(int32_t));
    g->dropout_on = 0;
    g->has_targets = 0;
    sw_embedding_forward(a->encoded, a->inputs, g->p.wte, g->p.wpe, B, pmin, C);
    sw_gpt_forward_blocks(g, 0);
    m->logits = a->logits;
    for (int l = 0; l < L; l++)
        for (int r = 0; r < B; r++)
            for (int t = 0; t < pmin; t++) {
                const float *row = a->qkv + (((size_t)l * B + r) * pmin + t) * 3 * A;
                size_t at = (((size_t)l * B + r) * maxT + t) * A;
                memcpy(kc + at, row + A, (size_t)A * sizeof(float));
                memcpy(vc + at, row + 2 * A, (size_t)A * sizeof(float));
            }

    /* what each row does after seeing position p, given the logits there */
#define ADVANCE(r, p, z)                                                                  \
    do {                                                                                  \
        if ((p) + 1 < prompt_lens[r]) {                                                   \
            feed[r] = prompts[(size_t)(r) * prompt_stride + (p) + 1];                     \
        } else {                                                                          \
            int32_t tok = argmax_allowed((z), V, allowed);                                \
            out[(size_t)(r) * max_new + out_lens[r]++] = tok;                             \
            feed[r] = tok;                                                                \
            if (tok == stop_token || out_lens[r] == max_new) done[r] = 1;                 \
        }                                                                                 \
        pos[r] = (p) + 1;                                                                 \
        if (pos[r] >= maxT) done[r] = 1;                                                  \
    } while (0)

    for (int r = 0; r < B; r++) {
        done[r] = 0;
        ADVANCE(r, pmin - 1, a->logits + ((size_t)r * pmin + pmin - 1) * V);
    }

    /* ---- one position at a time ---- */
    sw_gpt_tensors *p = &g->p;
    for (;;) {
        int M = 0;
        for (int r = 0; r < B; r++)
            if (!done[r]) rows[M++] = r;
        if (M == 0) break;
        for (int i = 0; i < M; i++) {
            int r = rows[i];
            const float *te = p->wte + (size_t)feed[r] * C, *pe = p->wpe + (size_t)pos[r] * C;
            for (int c = 0; c < C; c++) x[(size_t)i * C + c] = te[c] + pe[c];
        }
        for (int l = 0; l < L; l++) {
            sw_layernorm_forward(ln, NULL, NULL, x, p->ln1w + (size_t)l * C, p->ln1b + (size_t)l * C, M, C);
            sw_matmul_forward(qkv, ln, p->qkvw + (size_t)l * 3 * A * C, p->qkvb + (size_t)l * 3 * A, M, C, 3 * A);
            for (int i = 0; i < M; i++) {
                int r = rows[i];
                size_t at = (((size_t)l * B + r) * maxT + pos[r]) * A;
                memcpy(kc + at, qkv + (size_t)i * 3 * A + A, (size_t)A * sizeof(float));
                memcpy(vc + at, qkv + (size_t)i * 3 * A + 2 * A, (size_t)A * sizeof(float));
            }
#pragma omp parallel for schedule(static) if ((size_t)M * A * (pos[rows[0]] + 1) >= SW_PAR_MIN)
            for (int i = 0; i < M; i++) {
                int r = rows[i];
                size_t base = ((size_t)l * B + r) * maxT * A;
                att_step_row(atty + (size_t)i * A, qkv + (size_t)i * 3 * A, kc + base, vc + base, pos[r], A, NH);
            }
            sw_matmul_forward(tmp, atty, p->attprojw + (size_t)l * C * A, p->attprojb + (size_t)l * C, M, A, C);
            sw_residual_forward(x2, x, tmp, (size_t)M * C);
            sw_layernorm_forward(ln, NULL, NULL, x2, p->ln2w + (size_t)l * C, p->ln2b + (size_t)l * C, M, C);
            sw_matmul_forward(fch, ln, p->fcw + (size_t)l * F * C, p->fcb + (size_t)l * F, M, C, F);
            sw_gelu_forward(fchg, fch, (size_t)M * F);
            sw_matmul_forward(tmp, fchg, p->fcprojw + (size_t)l * C * F, p->fcprojb + (size_t)l * C, M, F, C);
            sw_residual_forward(x, x2, tmp, (size_t)M * C);
        }
        sw_layernorm_forward(ln, NULL, NULL, x, p->lnfw, p->lnfb, M, C);
        sw_matmul_forward(logits, ln, p->headw, NULL, M, C, V);
        for (int i = 0; i < M; i++) {
            int r = rows[i];
            ADVANCE(r, pos[r], logits + (size_t)i * V);
        }
    }
#undef ADVANCE
    return SW_OK;
}
