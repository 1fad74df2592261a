/* gpt: beam search over an ensemble of models (docs/ENSEMBLES.md).
 *
 * Each example owns k slots of every model's cache (gpt_decode.h). At each
 * step every model is fed the same tokens, and the next-symbol distribution
 * is the members' mean:
 *
 *     p(v | y_<t, x) = (1/n) sum_m softmax(z_m)(v)            (n models)
 *     logp(y) = sum_t log p(y_t | y_<t, x)
 *
 * Search (the finalisation rule of fairseq's sequence generator): the live
 * hypotheses of an example (1 at the first step, then up to k) are extended
 * by every allowed token; the 2k best candidates by logp, in order, are
 * taken: one that ends with the stop token is finished if it is among the
 * first k, any other becomes a live hypothesis until there are k of them.
 * A live hypothesis that reaches max_new tokens, or the end of the context,
 * is finished as it stands. An example ends once k hypotheses have finished
 * (or none is live), and its answer is the finished one with the highest
 *
 *     score(y) = logp(y) / lp(y),   lp(y) = ((5 + |y|) / 6)^alpha
 *
 * (GNMT's length penalty, Wu et al. 2016, "Google's Neural Machine
 * Translation System", eq. 14; |y| counts the stop token; alpha = 0 is the
 * raw log-probability, which favours short answers).
 *
 * Width 1 is greedy decoding exactly: one live hypothesis, its best token
 * taken, finished at the stop token or the length limit. Candidates are
 * ranked in double precision, where z_a > z_b in float stays a strict order
 * after subtracting the log-sum-exp, and ties go to the lower token id, as
 * sw_gpt_generate's argmax does; the slots are fed in the order of its rows,
 * so the very logits are the same. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gpt_decode.h"

sw_decode_params sw_decode_default_params(void)
{
    sw_decode_params p = {.beam = 1, .alpha = 0.6};
    return p;
}

/* Log of the ensemble's next-symbol distribution for M rows: logp (M, V)
 * from each decoder's logits (M, V). One model: z - logsumexp(z), with no
 * exp/log round trip, so the order of the logits is kept exactly. */
static void combine(sw_gpt_decoder *dec, int n, int M, int V, double *logp)
{
    for (int i = 0; i < M; i++) {
        double *out = logp + (size_t)i * V;
        for (int m = 0; m < n; m++) {
            const float *z = dec[m].logits + (size_t)i * V;
            float mx = z[0];
            for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
            double sum = 0;
            for (int v = 0; v < V; v++) sum += exp((double)z[v] - mx);
            double lse = mx + log(sum);
            if (n == 1) {
                for (int v = 0; v < V; v++) out[v] = (double)z[v] - lse;
            } else {
                if (m == 0) memset(out, 0, sizeof(double) * (size_t)V);
                for (int v = 0; v < V; v++) out[v] += exp((double)z[v] - lse);
            }
        }
        if (n > 1)
            for (int v = 0; v < V; v++) out[v] = log(out[v] / n);
    }
}

/* Checks the arguments shared by both entry points and returns the common
 * context length (the members' smallest) in *maxT and the vocabulary in *V. */
static sw_status check_models(sw_model *const *models, int n, const int32_t *prompts, int stride, const int *lens, int B,
                              int *maxT, int *V)
{
    if (!models || n < 1 || !models[0] || models[0]->spec.kind != SW_MODEL_GPT) return SW_ERR_INVALID;
    sw_model *m0 = models[0];
    *V = ((sw_gpt *)m0->impl)->V;
    *maxT = ((sw_gpt *)m0->impl)->maxT;
    for (int i = 1; i < n; i++) {
        if (!models[i] || models[i]->spec.kind != SW_MODEL_GPT)
            return sw_model_fail(m0, SW_ERR_INVALID, "decode: member %d of the ensemble is not a gpt", i);
        const sw_gpt *g = models[i]->impl;
        if (g->V != *V)
            return sw_model_fail(m0, SW_ERR_INVALID, "decode: member %d has %d symbols, member 0 has %d", i, g->V, *V);
        if (g->maxT < *maxT) *maxT = g->maxT;
    }
    if (B < 1 || !prompts || !lens) return sw_model_fail(m0, SW_ERR_INVALID, "decode: bad arguments (B=%d)", B);
    for (int r = 0; r < B; r++) {
        if (lens[r] < 1 || lens[r] > *maxT || lens[r] > stride)
            return sw_model_fail(m0, SW_ERR_INVALID, "decode: row %d has prompt length %d (expected 1..%d)", r,
                                 lens[r], *maxT < stride ? *maxT : stride);
        for (int t = 0; t < lens[r]; t++)
            if (prompts[(size_t)r * stride + t] < 0 || prompts[(size_t)r * stride + t] >= *V)
                return sw_model_fail(m0, SW_ERR_INVALID, "decode: row %d position %d: id %d (expected 0..%d)", r, t,
                                     (int)prompts[(size_t)r * stride + t], *V - 1);
    }
    return SW_OK;
}

/* Every member's decoder with R slots, prefilled with the shortest prompt
 * length of the B prompts (row b into slot b * k); *pmin gets it. */
static sw_status begin_all(sw_model *const *models, int n, sw_gpt_decoder *dec, int R, int k, const int32_t *prompts,
                           int stride, const int *lens, int B, int *slots, int *pmin)
{
    *pmin = lens[0];
    for (int r = 1; r < B; r++) *pmin = lens[r] < *pmin ? lens[r] : *pmin;
    for (int r = 0; r < B; r++) slots[r] = r * k;
    for (int m = 0; m < n; m++) {
        sw_status st = sw_gpt_decoder_begin(&dec[m], models[m], R);
        if (!st) st = sw_gpt_decoder_prefill(&dec[m], prompts, stride, B, *pmin, slots);
        if (st) {
            if (m > 0) sw_model_fail(models[0], st, "decode: member %d: %s", m, sw_model_errmsg(models[m]));
            return st;
        }
    }
    return SW_OK;
}

sw_status sw_gpt_next_logprobs(sw_model *const *models, int n_models, const int32_t *prompts, int prompt_stride,
                               const int *prompt_lens, int B, double *logp)
{
    int maxT, V, pmin;
    sw_status st = check_models(models, n_models, prompts, prompt_stride, prompt_lens, B, &maxT, &V);
    if (st) return st;
    if (!logp) return sw_model_fail(models[0], SW_ERR_INVALID, "decode: no output");
    sw_gpt_decoder *dec = calloc((size_t)n_models, sizeof *dec);
    int *slots = malloc(sizeof(int) * (size_t)B), *pos = malloc(sizeof(int) * (size_t)B);
    int32_t *tok = malloc(sizeof(int32_t) * (size_t)B);
    double *lp = malloc(sizeof(double) * (size_t)B * V);
    if (!dec || !slots || !pos || !tok || !lp) {
        st = sw_model_fail(models[0], SW_ERR_NOMEM, "decode: out of memory");
        goto done;
    }
    if ((st = begin_all(models, n_models, dec, B, 1, prompts, prompt_stride, prompt_lens, B, slots, &pmin))) goto done;
    combine(dec, n_models, B, V, lp);
    for (int r = 0; r < B; r++)
        if (prompt_lens[r] == pmin) memcpy(logp + (size_t)r * V, lp + (size_t)r * V, sizeof(double) * (size_t)V);
    /* the longer prompts, one position at a time */
    for (int p = pmin; p < maxT; p++) {
        int M = 0;
        for (int r = 0; r < B; r++)
            if (prompt_lens[r] > p) {
                slots[M] = r;
                tok[M] = prompts[(size_t)r * prompt_stride + p];
                pos[M++] = p;
            }
        if (M == 0) break;
        for (int m = 0; m < n_models; m++) sw_gpt_decoder_step(&dec[m], slots, tok, pos, M);
        combine(dec, n_models, M, V, lp);
        for (int i = 0; i < M; i++)
            if (prompt_lens[slots[i]] == p + 1)
                memcpy(logp + (size_t)slots[i] * V, lp + (size_t)i * V, sizeof(double) * (size_t)V);
    }
done:
    free(dec);
    free(slots);
    free(pos);
    free(tok);
    free(lp);
    return st;
}

double sw_decode_length_penalty(int len, double alpha)
{
    return alpha == 0 ? 1.0 : pow((5.0 + len) / 6.0, alpha);
}

/* ---- beam search ---- */

typedef struct candidate {
    double logp; /* of the extended hypothesis */
    int slot;    /* its parent's slot */
    int32_t tok;
} candidate;

typedef struct search {
    int B, k, V, maxT, max_new, n_models;
    int32_t stop;
    double alpha;
    const int32_t *prompts;
    int stride;
    const int *lens;
    sw_gpt_decoder *dec;
    /* per slot (R = B k) */
    int32_t *tokens;  /* (R, max_new) the hypothesis so far */
    int *len;         /* (R) its tokens */
    double *slot_lp;  /* (R) its logp */
    uint8_t *live;    /* (R) holds a live hypothesis, or the prompt being read (in_prompt) */
    int *fed;         /* (R) the last position fed */
    int32_t *feed;    /* (R) the token to feed next */
    int *row;         /* (R) its row in the last step's logp, -1 if not fed */
    /* per example */
    uint8_t *in_prompt, *done;
    int *n_finished;
    double *best;     /* the best finished score so far (-inf) */
    /* output */
    int32_t *out;
    int *out_lens;
    double *scores;
    /* scratch */
    candidate *cand;  /* (2k) */
    candidate *next;  /* (k) the new live hypotheses */
    int *next_len;    /* (k) */
    int *next_slot;   /* (k) */
} search;

/* A hypothesis of example b ends: its tokens are those of `slot` (first
 * `keep` of them) followed by `extra` (>= 0), with log-probability lp. */
static void finish(search *s, int b, int slot, int keep, int32_t extra, double lp)
{
    int len = keep + (extra >= 0);
    double score = lp / sw_decode_length_penalty(len, s->alpha);
    s->n_finished[b]++;
    if (score > s->best[b]) { /* ties keep the one finished first */
        s->best[b] = score;
        int32_t *o = s->out + (size_t)b * s->max_new;
        memcpy(o, s->tokens + (size_t)slot * s->max_new, sizeof(int32_t) * (size_t)keep);
        if (extra >= 0) o[keep] = extra;
        s->out_lens[b] = len;
        if (s->scores) s->scores[b] = score;
    }
}

/* Keeps cand[0..*n) sorted by logp (descending), at most cap of them; equal
 * logps keep their arrival order (lower slot, then lower token). */
static void offer(candidate *cand, int *n, int cap, candidate c)
{
    int at = *n;
    while (at > 0 && cand[at - 1].logp < c.logp) at--;
    if (at >= cap) return;
    int last = *n < cap ? *n : cap - 1;
    memmove(cand + at + 1, cand + at, sizeof *cand * (size_t)(last - at));
    cand[at] = c;
    if (*n < cap) (*n)++;
}

/* One expansion of example b from the logp rows of its live slots. */
static void expand(search *s, int b, const double *logp, const uint8_t *allowed)
{
    int k = s->k, first = b * k, n = 0;
    for (int j = 0; j < k; j++) {
        int slot = first + j;
        if (!s->live[slot]) continue;
        const double *lp = logp + (size_t)s->row[slot] * s->V;
        for (int v = 0; v < s->V; v++) {
            if (allowed && !allowed[v]) continue;
            candidate c = {.logp = s->slot_lp[slot] + lp[v], .slot = slot, .tok = v};
            offer(s->cand, &n, 2 * k, c);
        }
    }
    int n_next = 0;
    for (int i = 0; i < n && n_next < k; i++) {
        candidate c = s->cand[i];
        if (c.tok == s->stop) {
            if (i < k) finish(s, b, c.slot, s->len[c.slot], c.tok, c.logp);
        } else {
            s->next[n_next] = c;
            s->next_len[n_next++] = s->len[c.slot] + 1;
        }
    }
    /* slots: a new hypothesis takes its parent's slot if no earlier one took
     * it (no copy), else a slot no new hypothesis took, copied from the parent */
    uint8_t taken[k];
    memset(taken, 0, (size_t)k);
    for (int i = 0; i < n_next; i++) {
        int j = s->next[i].slot - first;
        s->next_slot[i] = -1;
        if (!taken[j]) {
            taken[j] = 1;
            s->next_slot[i] = s->next[i].slot;
        }
    }
    for (int i = 0, free_j = 0; i < n_next; i++) {
        if (s->next_slot[i] >= 0) continue;
        while (taken[free_j]) free_j++;
        taken[free_j] = 1;
        int dst = first + free_j, src = s->next[i].slot, keep = s->len[src];
        s->next_slot[i] = dst;
        for (int m = 0; m < s->n_models; m++) sw_gpt_decoder_copy(&s->dec[m], dst, src, s->lens[b] + keep);
        memcpy(s->tokens + (size_t)dst * s->max_new, s->tokens + (size_t)src * s->max_new,
               sizeof(int32_t) * (size_t)keep);
    }
    for (int j = 0; j < k; j++) s->live[first + j] = 0;
    for (int i = 0; i < n_next; i++) {
        int slot = s->next_slot[i], len = s->next_len[i];
        s->tokens[(size_t)slot * s->max_new + len - 1] = s->next[i].tok;
        s->len[slot] = len;
        s->slot_lp[slot] = s->next[i].logp;
        s->feed[slot] = s->next[i].tok;
        s->live[slot] = 1;
        /* the length limit, or no position left to feed it at */
        if (len == s->max_new || s->lens[b] + len - 1 >= s->maxT) {
            finish(s, b, slot, len, -1, s->slot_lp[slot]);
            s->live[slot] = 0;
        }
    }
    int any = 0;
    for (int j = 0; j < k; j++) any |= s->live[first + j];
    if (s->n_finished[b] >= k || !any) s->done[b] = 1;
}

/* What example b does with the logps of the step just taken. */
static void advance(search *s, int b, const double *logp, const uint8_t *allowed)
{
    int slot = b * s->k;
    if (s->in_prompt[b]) {
        int p = s->fed[slot];
        if (p + 1 < s->lens[b]) { /* still reading its prompt */
            s->feed[slot] = s->prompts[(size_t)b * s->stride + p + 1];
            return;
        }
        s->in_prompt[b] = 0;
        s->len[slot] = 0;
        s->slot_lp[slot] = 0;
    }
    expand(s, b, logp, allowed);
}

sw_status sw_gpt_decode(sw_model *const *models, int n_models, const int32_t *prompts, int prompt_stride,
                        const int *prompt_lens, int B, int max_new, const uint8_t *allowed, int32_t stop_token,
                        const sw_decode_params *params, int32_t *out, int *out_lens, double *scores)
{
    int maxT, V, pmin;
    sw_status st = check_models(models, n_models, prompts, prompt_stride, prompt_lens, B, &maxT, &V);
    if (st) return st;
    sw_decode_params p = params ? *params : sw_decode_default_params();
    if (p.beam < 1 || p.beam > 4096 || !isfinite(p.alpha) || p.alpha < 0 || max_new < 0 || !out || !out_lens)
        return sw_model_fail(models[0], SW_ERR_INVALID, "decode: bad arguments (beam %d, alpha %g, max_new %d)",
                             p.beam, p.alpha, max_new);
    if (allowed) {
        int any = 0;
        for (int v = 0; v < V; v++) any |= allowed[v] != 0;
        if (!any) return sw_model_fail(models[0], SW_ERR_INVALID, "decode: the allowed mask allows no token");
    }
    for (int r = 0; r < B; r++) {
        out_lens[r] = 0;
        if (scores) scores[r] = 0;
    }
    if (max_new == 0) return SW_OK;
    int k = p.beam, R = B * k;
    search s = {.B = B, .k = k, .V = V, .maxT = maxT, .max_new = max_new, .n_models = n_models, .stop = stop_token,
                .alpha = p.alpha, .prompts = prompts, .stride = prompt_stride, .lens = prompt_lens, .out = out,
                .out_lens = out_lens, .scores = scores};
    s.dec = calloc((size_t)n_models, sizeof *s.dec);
    s.tokens = malloc(sizeof(int32_t) * (size_t)R * max_new);
    s.len = calloc((size_t)R, sizeof(int));
    s.slot_lp = calloc((size_t)R, sizeof(double));
    s.live = calloc((size_t)R, 1);
    s.fed = calloc((size_t)R, sizeof(int));
    s.feed = calloc((size_t)R, sizeof(int32_t));
    s.row = malloc(sizeof(int) * (size_t)R);
    s.in_prompt = malloc((size_t)B);
    s.done = calloc((size_t)B, 1);
    s.n_finished = calloc((size_t)B, sizeof(int));
    s.best = malloc(sizeof(double) * (size_t)B);
    s.cand = malloc(sizeof(candidate) * 2 * (size_t)k);
    s.next = malloc(sizeof(candidate) * (size_t)k);
    s.next_len = malloc(sizeof(int) * (size_t)k);
    s.next_slot = malloc(sizeof(int) * (size_t)k);
    int *slots = malloc(sizeof(int) * (size_t)R), *pos = malloc(sizeof(int) * (size_t)R);
    int32_t *tok = malloc(sizeof(int32_t) * (size_t)R);
    double *logp = malloc(sizeof(double) * (size_t)R * V);
    if (!s.dec || !s.tokens || !s.len || !s.slot_lp || !s.live || !s.fed || !s.feed || !s.row || !s.in_prompt ||
        !s.done || !s.n_finished || !s.best || !s.cand || !s.next || !s.next_len || !s.next_slot || !slots || !pos ||
        !tok || !logp) {
        st = sw_model_fail(models[0], SW_ERR_NOMEM, "decode: out of memory for %d hypotheses", R);
        goto done;
    }
    if ((st = begin_all(models, n_models, s.dec, R, k, prompts, prompt_stride, prompt_lens, B, slots, &pmin)))
        goto done;
    combine(s.dec, n_models, B, V, logp);
    for (int i = 0; i < R; i++) s.row[i] = -1;
    for (int b = 0; b < B; b++) {
        s.in_prompt[b] = 1;
        s.best[b] = -INFINITY;
        s.live[b * k] = 1;
        s.fed[b * k] = pmin - 1;
        s.row[b * k] = b;
        advance(&s, b, logp, allowed);
    }
    for (;;) {
        /* the slots to feed, in slot order (greedy's row order when k = 1) */
        int M = 0;
        for (int slot = 0; slot < R; slot++) {
            s.row[slot] = -1;
            if (s.done[slot / k] || !s.live[slot]) continue;
            slots[M] = slot;
            tok[M] = s.feed[slot];
            pos[M] = s.fed[slot] = s.in_prompt[slot / k] ? s.fed[slot] + 1 : prompt_lens[slot / k] + s.len[slot] - 1;
            s.row[slot] = M++;
        }
        if (M == 0) break;
        for (int m = 0; m < n_models; m++) sw_gpt_decoder_step(&s.dec[m], slots, tok, pos, M);
        combine(s.dec, n_models, M, V, logp);
        for (int b = 0; b < B; b++)
            if (!s.done[b]) advance(&s, b, logp, allowed);
    }
done:
    free(s.dec);
    free(s.tokens);
    free(s.len);
    free(s.slot_lp);
    free(s.live);
    free(s.fed);
    free(s.feed);
    free(s.row);
    free(s.in_prompt);
    free(s.done);
    free(s.n_finished);
    free(s.best);
    free(s.cand);
    free(s.next);
    free(s.next_len);
    free(s.next_slot);
    free(slots);
    free(pos);
    free(tok);
    free(logp);
    return st;
}
