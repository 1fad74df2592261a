/* nn/ private: step-wise decoding of a gpt with a key/value cache held in
 * slots, for beam search and ensembles (beam.c).
 *
 * Beam search needs the steps apart: a hypothesis may move to another slot,
 * or split into several, between two steps, and an ensemble feeds the same
 * tokens to several models and combines their next-symbol distributions
 * before any choice is made. So here a slot is one row of the cache, fed
 * any token at any position, and copied onto another slot on request.
 * sw_gpt_generate (gpt_generate.c) is greedy decoding on the same decoder,
 * one slot per row, so a slot fed the tokens greedy decoding feeds a row
 * gives the same logits bit for bit (tests/test_nn_beam.c checks the outcome).
 *
 * Memory: the model's generation buffer (gen_mem, grow-only; a model handle
 * is used by one thread at a time). A decoder is a view into it, valid until
 * the next generate or begin on the same model. */
#ifndef SW_NN_GPT_DECODE_H
#define SW_NN_GPT_DECODE_H

#include "nn/gpt.h"

typedef struct sw_gpt_decoder {
    sw_model *m;
    sw_gpt *g;
    int R;          /* slots */
    float *kc, *vc; /* (R, L, maxT, A) each: one slot's cache is contiguous */
    float *x;       /* (R, C)   residual stream */
    float *ln;      /* (R, C)                   */
    float *qkv;     /* (R, 3A)                  */
    float *atty;    /* (R, A)                   */
    float *tmp;     /* (R, C)                   */
    float *fch;     /* (R, F)                   */
    float *fchg;    /* (R, F)                   */
    float *x2;      /* (R, C)                   */
    float *logits;  /* (R, V)   the last prefill's or step's logits, one row per row fed */
} sw_gpt_decoder;

/* Lays a decoder of R slots out in m's generation buffer (growing it).
 * SW_ERR_INVALID for a model that is not a gpt; SW_ERR_NOMEM. */
sw_status sw_gpt_decoder_begin(sw_gpt_decoder *d, sw_model *m, int R);

/* The first P positions of B prompts (row b at prompts + b * stride) in one
 * ordinary forward; row b's keys and values go to slot slots[b], and the
 * logits at its position P-1 to d->logits row b. 1 <= P <= maxT, B <= R. */
sw_status sw_gpt_decoder_prefill(sw_gpt_decoder *d, const int32_t *prompts, int stride, int B, int P,
                                 const int *slots);

/* One position for M slots: slot slots[i] is fed tokens[i] at position pos[i]
 * (its cache must hold positions 0 .. pos[i]-1); its logits go to d->logits
 * row i. The slots must be distinct; M <= R; pos[i] < maxT. */
void sw_gpt_decoder_step(sw_gpt_decoder *d, const int *slots, const int32_t *tokens, const int *pos, int M);

/* Copies positions 0 .. n_pos-1 of slot src's cache onto slot dst. */
void sw_gpt_decoder_copy(sw_gpt_decoder *d, int dst, int src, int n_pos);

#endif
