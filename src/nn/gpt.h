/* nn/ private: the gpt model's state, shared by gpt.c (build, forward,
 * backward) and gpt_decode.c (decoding with a key/value cache). */
#ifndef SW_NN_GPT_H
#define SW_NN_GPT_H

#include "nn/model.h"

/* Pointers into the parameter buffer, or the gradient buffer (same layout).
 * The layout is this order, each stacked over the L blocks (llm.c's).
 * A = NH * hs is the attention's width and F the feed-forward width: C and
 * 4C unless the model was pruned (spec hd=, ff=; docs/PRUNING.md). */
typedef struct sw_gpt_tensors {
    float *wte;      /* (V, C)        token embedding (and the tied head) */
    float *wpe;      /* (maxT, C)     position embedding                  */
    float *ln1w;     /* (L, C)                                            */
    float *ln1b;     /* (L, C)                                            */
    float *qkvw;     /* (L, 3*A, C)                                       */
    float *qkvb;     /* (L, 3*A)                                          */
    float *attprojw; /* (L, C, A)                                         */
    float *attprojb; /* (L, C)                                            */
    float *ln2w;     /* (L, C)                                            */
    float *ln2b;     /* (L, C)                                            */
    float *fcw;      /* (L, F, C)                                         */
    float *fcb;      /* (L, F)                                            */
    float *fcprojw;  /* (L, C, F)                                         */
    float *fcprojb;  /* (L, C)                                            */
    float *lnfw;     /* (C)                                               */
    float *lnfb;     /* (C)                                               */
    float *headw;    /* (V, C)  untied head; == wte when tied             */
} sw_gpt_tensors;

/* Activations of one forward, sized for (B,T); kept for backward. */
typedef struct sw_gpt_acts {
    float *encoded;  /* (B, T, C)  embeddings (after dropout)            */
    float *ln1;      /* (L, B, T, C)                                      */
    float *ln1_mean; /* (L, B, T)                                         */
    float *ln1_rstd; /* (L, B, T)                                         */
    float *qkv;      /* (L, B, T, 3*A)                                    */
    float *atty;     /* (L, B, T, A)                                      */
    float *att;      /* (L, B, NH, T, T)                                  */
    float *attproj;  /* (L, B, T, C)  (after dropout)                     */
    float *res2;     /* (L, B, T, C)                                      */
    float *ln2;      /* (L, B, T, C)                                      */
    float *ln2_mean; /* (L, B, T)                                         */
    float *ln2_rstd; /* (L, B, T)                                         */
    float *fch;      /* (L, B, T, F)                                      */
    float *fch_gelu; /* (L, B, T, F)                                      */
    float *fcproj;   /* (L, B, T, C)  (after dropout)                     */
    float *res3;     /* (L, B, T, C)                                      */
    float *lnf;      /* (B, T, C)                                         */
    float *lnf_mean; /* (B, T)                                            */
    float *lnf_rstd; /* (B, T)                                            */
    float *logits;   /* (B, T, V)                                         */
    float *probs;    /* (B, T, V)                                         */
    /* backward scratch, one block's worth, reused across blocks */
    float *dres;     /* (B, T, C)   gradient of the residual stream       */
    float *dbuf;     /* (B, T, max(C, A))                                 */
    float *ddrop;    /* (B, T, C)                                         */
    float *dqkv;     /* (B, T, 3*A)                                       */
    float *dfch;     /* (B, T, F)                                         */
    float *dfchg;    /* (B, T, F)                                         */
    float *dlogits;  /* (B, T, V)                                         */
    int32_t *inputs;  /* (B, T) copy of the batch                         */
    int32_t *targets; /* (B, T)                                           */
    float *mask;      /* (B, T) or unused                                 */
} sw_gpt_acts;

typedef struct sw_gpt {
    int L, C, NH, V, maxT;
    int HS, A, F;        /* head width, attention width NH*HS, feed-forward width */
    sw_gpt_tensors p, g; /* params, grads */
    sw_gpt_acts a;
    float *act_mem;      /* one allocation behind `a` */
    size_t act_cap;      /* its size in floats        */
    float *gen_mem;      /* generation's key/value cache and scratch, kept
                            between calls: evaluation decodes chunk after
                            chunk, and a fresh 10-100 MB allocation per
                            chunk cost more than the decoding (page faults) */
    size_t gen_cap;      /* its size in floats        */
    int B, T;            /* shape `a` is laid out for */
    int has_targets, has_mask;
    int dropout_on;      /* this forward applies dropout */
    float dropout_p;
    uint64_t dropout_seed;
    uint64_t dropout_first; /* the batch's first element in the whole batch: first_row x T x C */
} sw_gpt;

/* Lays the activations out for (B,T), growing the allocation if needed. */
sw_status sw_gpt_size(sw_model *m, int B, int T);
/* The forward of blocks and head over acts already holding `encoded`, from
 * the inputs (B,T) in `a.inputs`; used by forward and generate's prefill. */
void sw_gpt_forward_blocks(sw_gpt *g, int training);

#endif
