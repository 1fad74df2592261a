/* gpt: batched greedy decoding with a key/value cache, on the step-wise
 * decoder (gpt_decode.h), one slot per row.
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
 * The cache and step buffers are the decoder's, in the model's generation
 * buffer: (B, L, ctx, A) for k and for v (A = heads x head width, C unless
 * heads were pruned), plus (B, .) step buffers. */
#include <stdlib.h>

#include "nn/gpt_decode.h"

static int32_t argmax_allowed(const float *z, int V, const uint8_t *allowed)
{
    int32_t best = -1;
    for (int v = 0; v < V; v++) {
        if (allowed && !allowed[v]) continue;
        if (best < 0 || z[v] > z[best]) best = v;
    }
    return best;
}

sw_status sw_gpt_generate(sw_model *m, const int32_t *prompts, int prompt_stride, const int *prompt_lens, int B,
                          int max_new, const uint8_t *allowed, int32_t stop_token, int32_t *out, int *out_lens)
{
    if (!m || m->spec.kind != SW_MODEL_GPT) return SW_ERR_INVALID;
    sw_gpt *g = m->impl;
    int V = g->V, maxT = g->maxT;
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

    /* ---- per row: the token it is fed next, at which position, whether it
     * has ended; per step: the active rows (their slots), tokens, positions */
    int32_t *toks = malloc(sizeof(int32_t) * 2 * (size_t)B);
    int *ints = malloc(sizeof(int) * 4 * (size_t)B);
    if (!toks || !ints) {
        free(toks);
        free(ints);
        return sw_model_fail(m, SW_ERR_NOMEM, "generate: out of memory");
    }
    int32_t *feed = toks, *step_tok = toks + B;
    int *pos = ints, *done = pos + B, *rows = done + B, *step_pos = rows + B;

    /* ---- prefill: row r in slot r ---- */
    sw_gpt_decoder d;
    for (int r = 0; r < B; r++) rows[r] = r;
    sw_status st = sw_gpt_decoder_begin(&d, m, B);
    if (!st) st = sw_gpt_decoder_prefill(&d, prompts, prompt_stride, B, pmin, rows);
    if (st) {
        free(toks);
        free(ints);
        return st;
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
        ADVANCE(r, pmin - 1, d.logits + (size_t)r * V);
    }

    /* ---- one position at a time ---- */
    for (;;) {
        int M = 0;
        for (int r = 0; r < B; r++)
            if (!done[r]) {
                rows[M] = r;
                step_tok[M] = feed[r];
                step_pos[M++] = pos[r];
            }
        if (M == 0) break;
        sw_gpt_decoder_step(&d, rows, step_tok, step_pos, M);
        for (int i = 0; i < M; i++) {
            int r = rows[i];
            ADVANCE(r, pos[r], d.logits + (size_t)i * V);
        }
    }
#undef ADVANCE
    free(toks);
    free(ints);
    return SW_OK;
}
