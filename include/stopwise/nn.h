/* stopwise nn: tensors and kernels (CBLAS GEMM, OpenMP), layers with forward
 * and backward, the models `gpt` and `mlp`, optimizers and learning-rate
 * schedules.
 *
 * Memory layout (llm.c's way): a model owns ONE float buffer of all its
 * parameters and one of the same layout for their gradients; an optimizer owns
 * its moments in that layout too. Zero-grad, clipping, the optimizer step and
 * checkpoint I/O are single passes over these buffers.
 *
 * Threads: a model or optimizer handle must be used by one thread at a time;
 * inside a call, work is spread with OpenMP and the BLAS. Results are
 * bit-identical for the same seed and thread count. */
#ifndef STOPWISE_NN_H
#define STOPWISE_NN_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- BLAS and threads ------------------------------------------------------ */

/* The host's once-only set-up of the BLAS and of the threads, from its main()
 * before the first matrix product (the CLI calls it; the library never does:
 * sw_train and the kernels leave the process's environment and thread count
 * alone). Chooses a fast GEMM kernel for this CPU unless the environment
 * already names one (BLIS_ARCH_TYPE for BLIS, set with setenv; OPENBLAS_CORETYPE
 * for OpenBLAS, which can only be reported, since OpenBLAS reads it when
 * loaded), then sw_threads_set(n_threads). Not thread-safe (it may setenv).
 * How idle threads wait (OMP_WAIT_POLICY) is read by libgomp before main()
 * and is the host's environment's to choose; see docs/ENGINE.md "Threads". */
void sw_blas_init(int n_threads);
/* Sets the thread count of our OpenMP loops and of the BLAS together
 * (n_threads <= 0: leave them as they are; the runtime's default is all
 * cores). Process-wide for the BLAS; for OpenMP, the calling thread's. */
void sw_threads_set(int n_threads);
/* One line describing the BLAS in use, e.g. "BLIS 0.9.0, kernel skx (chosen by
 * stopwise), 2 threads, wait passive" (the last part: OMP_WAIT_POLICY and
 * GOMP_SPINCOUNT as libgomp read them). Static storage, rewritten by each call. */
const char *sw_blas_info(void);
/* Threads used by our OpenMP loops and by the BLAS. */
int sw_threads(void);
/* Sharing the cores with other stopwise processes of this user, for a host
 * that lets stopwise choose the thread count (the CLI without --threads):
 * threads = cores / (1 + other processes sharing), at least 1, where cores is
 * sw_threads() at begin. begin joins (one flock'd file per core under
 * /tmp/stopwise-cores-UID, or $STOPWISE_CORES_DIR; it goes away with the process, even on kill -9)
 * and sets the count; adjust re-reads the others and sets it again (the
 * trainer calls it at every evaluation; a no-op unless begun); end leaves and
 * restores the count. Each returns the threads now in force. Why: BLIS's
 * barriers spin, so more threads than free cores make every run crawl
 * (docs/ENGINE.md "Threads"). Results do not depend on the thread count.
 * Process-wide, like the thread count; not thread-safe. */
int sw_threads_share_begin(void);
/* For a run with a fixed thread count: sets it and holds that many slots (as
 * many as are free), so sharing runs count its threads as taken; adjust
 * leaves the count alone; end leaves. */
int sw_threads_share_hold(int threads);
int sw_threads_share_adjust(void);
void sw_threads_share_end(void);

/* ---- model specs ------------------------------------------------------------ */

typedef enum sw_model_kind { SW_MODEL_GPT = 1, SW_MODEL_MLP = 2 } sw_model_kind;
typedef enum sw_activation { SW_ACTIVATION_RELU = 1, SW_ACTIVATION_GELU = 2 } sw_activation;

#define SW_MLP_MAX_HIDDEN 8

typedef struct sw_model_spec {
    sw_model_kind kind;
    /* gpt: decoder-only, pre-LayerNorm, causal multi-head attention, GELU MLP */
    int layers;   /* transformer blocks                    (default 4)   */
    int d_model;  /* width C                               (default 128) */
    int heads;    /* attention heads, divides d_model      (default 4)   */
    int ctx;      /* maximum sequence length T             (0: from data)*/
    int vocab;    /* vocabulary size V                     (0: from data)*/
    int tied;     /* output head shares the token embedding (default 1)  */
    int ff;       /* feed-forward width F; 0 = 4*d_model   (default 0)   */
    int head_dim; /* width of one head; 0 = d_model/heads  (default 0):
                     the attention is heads*head_dim wide, which need not
                     be d_model once heads are pruned (docs/PRUNING.md)   */
    /* mlp: n_inputs -> hidden[0] -> ... -> n_classes */
    int n_inputs;                     /* (0: from data)                  */
    int n_hidden;                     /* number of hidden layers         */
    int hidden[SW_MLP_MAX_HIDDEN];    /* widths                          */
    int n_classes;                    /* (0: from data)                  */
    sw_activation act;                /* (default relu)                  */
    /* both */
    float dropout;                    /* drop probability (default 0)    */
} sw_model_spec;

/* Parses "gpt:layers=4,d=128,heads=4,ctx=32[,vocab=V][,tied=0|1][,dropout=P][,ff=F][,hd=H]"
 * or "mlp:hidden=256x128,act=relu|gelu,dropout=0.2[,inputs=N][,classes=K]".
 * Fields not given keep their defaults; ff and hd equal to their defaults
 * (4d, d/heads) are stored as 0 and not written by the format, so the text of
 * an unpruned gpt is what it always was. On error returns SW_ERR_INVALID and a
 * message naming the bad part and what was expected. */
sw_status sw_model_spec_parse(const char *text, sw_model_spec *out, sw_error *err);
/* Writes the canonical text form (every field) into buf; returns buf. */
char *sw_model_spec_format(const sw_model_spec *spec, char *buf, size_t len);
/* Checks a complete spec (sizes filled in, heads divide d_model, ...). */
sw_status sw_model_spec_check(const sw_model_spec *spec, sw_error *err);

/* ---- models ----------------------------------------------------------------- */

typedef struct sw_model sw_model; /* opaque */

/* One training or evaluation batch.
 *  gpt: inputs (B,T) token ids; targets (B,T) the next token id at each
 *       position; mask (B,T) loss weight per position (1 on target positions,
 *       0 on prompt and padding; NULL = every position). Loss is
 *       sum(mask * CE) / sum(mask).
 *  mlp: features (B, n_inputs); targets (B) class labels; mask NULL. */
typedef struct sw_batch {
    int B, T;
    const int32_t *inputs;
    const int32_t *targets;
    const float *mask;
    const float *features;
    uint64_t dropout_seed; /* dropout draws hash (seed, layer, element): the
                              trainer passes a new seed per step            */
    int first_row;         /* a data-parallel shard: its first row in the
                              whole batch (0 otherwise). Dropout's element
                              index counts from there, so the shard draws the
                              masks the whole batch would (docs/SCALING.md) */
} sw_batch;

/* Creates a model with freshly initialised parameters (seeded; GPT-2 style
 * N(0, 0.02) with scaled residual projections, He/Xavier for the mlp).
 * The spec must pass sw_model_spec_check. Caller frees with sw_model_free. */
sw_status sw_model_create(const sw_model_spec *spec, uint64_t seed, sw_model **out, sw_error *err);
void sw_model_free(sw_model *m); /* NULL is a no-op */
/* The number of parameters sw_model_create would allocate for this spec (it
 * allocates them twice, parameters and gradients), counted from the tensor
 * layout without allocating them: readers of untrusted files (checkpoints)
 * check it against what the file holds first. The spec must pass
 * sw_model_spec_check. */
sw_status sw_model_spec_num_params(const sw_model_spec *spec, uint64_t *n, sw_error *err);
const sw_model_spec *sw_model_get_spec(const sw_model *m);

/* The parameter and gradient buffers (owned by the model, same layout). */
size_t sw_model_num_params(const sw_model *m);
float *sw_model_params(sw_model *m);
float *sw_model_grads(sw_model *m);
void sw_model_zero_grad(sw_model *m);

/* Named parameter tensors, for checkpoints: name ("wte", "h.0.ln1.w", ...),
 * shape, and offset into the parameter buffer; i < count. The names are owned
 * by the model and valid until sw_model_free. */
typedef struct sw_tensor_info {
    const char *name;
    int ndim;
    int64_t shape[4];
    size_t offset; /* in floats */
    size_t numel;
} sw_tensor_info;
int sw_model_num_tensors(const sw_model *m);
void sw_model_tensor(const sw_model *m, int i, sw_tensor_info *out);

/* Forward pass over a batch (B up to the size the model was last sized for;
 * buffers grow as needed). training != 0 applies dropout and keeps the
 * activations for backward. *loss receives the mean masked loss (may be NULL
 * when targets is NULL). */
sw_status sw_model_forward(sw_model *m, const sw_batch *b, int training, float *loss);
/* Backward pass of the last training forward; ADDS into the gradients. */
sw_status sw_model_backward(sw_model *m);
/* The handle's last error message (forward, backward, generate), "" if none.
 * Owned by the model, valid until the next call on it. */
const char *sw_model_errmsg(const sw_model *m);
/* Logits of the last forward: gpt (B,T,V), mlp (B,n_classes). Owned by the model. */
const float *sw_model_logits(const sw_model *m);

/* Batched greedy decoding with a key/value cache (gpt only).
 * prompts: B rows of `prompt_stride` ids, row b using prompt_lens[b] of them.
 * Generates up to max_new tokens per row, stopping a row at stop_token (which
 * is written and counted). allowed: NULL or a (V) mask of tokens that may be
 * generated (0 = never). out: (B, max_new); out_lens: (B). */
sw_status sw_gpt_generate(sw_model *m, const int32_t *prompts, int prompt_stride, const int *prompt_lens,
                          int B, int max_new, const uint8_t *allowed, int32_t stop_token,
                          int32_t *out, int *out_lens);

/* ---- ensembles and beam search (docs/ENSEMBLES.md) ---------------------------- */

/* How sequences are decoded. */
typedef struct sw_decode_params {
    int beam;     /* beam width k, 1..4096 (1: greedy decoding, token for token)  */
    double alpha; /* length normalisation: a finished hypothesis y ranks by
                     logp(y) / lp(y), lp(y) = ((5 + |y|) / 6)^alpha (GNMT's,
                     Wu et al. 2016), |y| its tokens with the stop token;
                     0 = raw log-probability (0.6)                            */
} sw_decode_params;

sw_decode_params sw_decode_default_params(void);
/* lp(y) for |y| = len. */
double sw_decode_length_penalty(int len, double alpha);

/* Decodes B prompts (as sw_gpt_generate takes them) with an ensemble of
 * n_models gpts, beam search of width params->beam (NULL: the defaults).
 * At each step the next-symbol distribution is the mean of the members'
 * softmax; the members must share the vocabulary (the same V; ids are not
 * mapped), and a row ends at the smallest context among them. out (B,
 * max_new) gets each row's best finished hypothesis (stop token written
 * and counted, as greedy does), out_lens (B) its length, and scores (B; may
 * be NULL) its score logp / lp. Beam width 1 with one model gives exactly
 * what sw_gpt_generate gives. Errors (bad arguments, SW_ERR_NOMEM) leave
 * their message on models[0] (sw_model_errmsg). Uses each member's
 * generation buffer; a member is used by one thread at a time. */
sw_status sw_gpt_decode(sw_model *const *models, int n_models, const int32_t *prompts, int prompt_stride,
                        const int *prompt_lens, int B, int max_new, const uint8_t *allowed, int32_t stop_token,
                        const sw_decode_params *params, int32_t *out, int *out_lens, double *scores);

/* The ensemble's next-symbol log-probabilities after each whole prompt:
 * logp (B, V) = log of the members' mean softmax at the prompt's last
 * position, computed with the key/value cache as decoding does. */
sw_status sw_gpt_next_logprobs(sw_model *const *models, int n_models, const int32_t *prompts, int prompt_stride,
                               const int *prompt_lens, int B, double *logp);

/* The members' mean predicted distribution for one batch (a forward each,
 * no dropout): probs (B, n_classes) for mlps, (B, T, V) for gpts, each row
 * (1/n) sum_m softmax(logits_m). The members must be of one kind with as
 * many outputs; SW_ERR_INVALID otherwise (message on models[0]). */
sw_status sw_model_ensemble_probs(sw_model *const *models, int n_models, const sw_batch *b, double *probs);

/* ---- optimizers -------------------------------------------------------------- */

typedef enum sw_optimizer_kind { SW_OPTIMIZER_ADAMW = 1, SW_OPTIMIZER_SGD = 2 } sw_optimizer_kind;

typedef struct sw_optimizer_params {
    sw_optimizer_kind kind;
    float beta1, beta2, eps;  /* AdamW (0.9, 0.95, 1e-8)                       */
    float momentum;           /* SGD momentum (0.9); 0 = plain SGD             */
    int nesterov;             /* SGD Nesterov momentum (0)                     */
    float weight_decay;       /* decoupled: p -= lr * wd * p (AdamW 0.1, SGD 0)*/
    float l2;                 /* classic L2: g += l2 * p (0)                   */
    float l1;                 /* L1: g += l1 * sign(p) (0)                     */
    float clip;               /* clip the global gradient norm to this; 0 = off (1.0) */
} sw_optimizer_params;

sw_optimizer_params sw_optimizer_default_params(sw_optimizer_kind kind);
/* Parses "adamw[:beta1=..,beta2=..,eps=..,wd=..,l2=..,l1=..,clip=..]" or
 * "sgd[:momentum=..,nesterov=0|1,wd=..,l2=..,l1=..,clip=..]". */
sw_status sw_optimizer_params_parse(const char *text, sw_optimizer_params *out, sw_error *err);

typedef struct sw_optimizer sw_optimizer; /* opaque */
sw_status sw_optimizer_create(const sw_optimizer_params *p, size_t n_params, sw_optimizer **out, sw_error *err);
void sw_optimizer_free(sw_optimizer *o); /* NULL is a no-op */
/* One update of params from grads at learning rate lr: penalties, clipping
 * (grads are scaled in place), then the update. *grad_norm (may be NULL) gets
 * the global norm before clipping (of the penalised gradient; summed in a
 * fixed order, so the same bits for any thread count). A non-finite norm
 * leaves params, moments and the step counter untouched and returns
 * SW_ERR_INVALID (the caller reports divergence). */
sw_status sw_optimizer_step(sw_optimizer *o, float *params, float *grads, float lr, float *grad_norm);
/* The optimizer's state for checkpoints: `count` floats (moments, same layout
 * as the parameters, one or two of them) and the step counter. */
float *sw_optimizer_state(sw_optimizer *o, size_t *count);
uint64_t sw_optimizer_steps(const sw_optimizer *o);
void sw_optimizer_set_steps(sw_optimizer *o, uint64_t steps);
/* Freezes parameters: the ranges [ranges[2i], ranges[2i+1]) of the parameter
 * buffer (i < n_ranges; any order, may overlap) are left untouched by every
 * later step: no L1/L2 penalty, no part in the clipping norm, no update, no
 * weight decay, their moments unchanged. So a frozen parameter keeps its bits
 * exactly, and unfreezing it later resumes from the moments it had (zero if
 * it was frozen from the start). Replaces the earlier set; n_ranges 0 frees
 * everything. SW_ERR_INVALID for a range outside the parameters, SW_ERR_NOMEM
 * (the earlier set then stays). */
sw_status sw_optimizer_freeze(sw_optimizer *o, const size_t *ranges, size_t n_ranges, sw_error *err);
/* The number of parameters frozen now. */
size_t sw_optimizer_num_frozen(const sw_optimizer *o);

/* ---- frozen tensors (`train --freeze`, docs/TRANSFER.md) ----------------------
 * A freeze spec is a comma-separated list of PATTERN[@TOKENS]: PATTERN is a
 * shell glob (fnmatch(3), `*` matching dots too) over the model's tensor
 * names, TOKENS an unfreeze point (k, M, G suffixes): the tensors it matches
 * stay fixed for every step that starts before TOKENS training tokens, and
 * train from then on; without @TOKENS they stay fixed for the whole run. A
 * tensor several patterns match is frozen until the latest of their points.
 * Tensor names (sw_model_tensor):
 *   gpt  wte, wpe, h.L.ln1.w, h.L.ln1.b, h.L.attn.qkv.w, h.L.attn.qkv.b,
 *        h.L.attn.proj.w, h.L.attn.proj.b, h.L.ln2.w, h.L.ln2.b, h.L.mlp.fc.w,
 *        h.L.mlp.fc.b, h.L.mlp.proj.w, h.L.mlp.proj.b, lnf.w, lnf.b, and
 *        head.w when the head is untied (tied: wte is the head too); L is the
 *        block, from 0
 *   mlp  fc.I.w, fc.I.b, I the layer from 0 (the last is the output layer)
 * e.g. "wte,wpe,h.0.*" or "h.*@200k" or "fc.0.*@1M,fc.1.*". */
typedef struct sw_freeze sw_freeze; /* opaque; one thread at a time */
/* Parses spec against m's tensors. SW_ERR_INVALID naming the part when the
 * syntax is wrong, a token count does not parse, or a pattern matches no
 * tensor (the message lists the model's names). Caller frees. */
sw_status sw_freeze_create(const char *spec, const sw_model *m, sw_freeze **out, sw_error *err);
void sw_freeze_free(sw_freeze *f); /* NULL is a no-op */
/* The canonical text: the patterns in the order given, each unfreeze point
 * written exactly (sw_format_tokens_exact: "h.*@200k"); reads back to the
 * same spec. Owned by f. */
const char *sw_freeze_text(const sw_freeze *f);
/* 1 if tensor i (sw_model_tensor's index) is frozen for a step that starts
 * after `tokens` training tokens. */
int sw_freeze_tensor_frozen(const sw_freeze *f, int i, uint64_t tokens);
/* Gives o the frozen set of a step that starts after `tokens` tokens (call
 * before every step; cheap when nothing changes). *changed (may be NULL) is 1
 * when the set differs from the last call's (the first call: when anything
 * is frozen). SW_ERR_NOMEM. */
sw_status sw_freeze_apply(sw_freeze *f, sw_optimizer *o, uint64_t tokens, int *changed, sw_error *err);

/* ---- learning-rate schedules (functions of tokens seen, not of steps) -------- */

typedef enum sw_schedule_kind {
    SW_SCHEDULE_CONSTANT = 1, /* lr                                              */
    SW_SCHEDULE_WARMUP,       /* linear 0 -> lr over warmup, then lr             */
    SW_SCHEDULE_STEP,         /* lr * gamma^floor(t / step)  (after warm-up)     */
    SW_SCHEDULE_COSINE,       /* min + (lr-min)(1+cos(pi t'/T'))/2 (after warm-up)*/
    SW_SCHEDULE_RESTARTS,     /* cosine with warm restarts (SGDR, Loshchilov & Hutter 2017):
                                 period P, each next period P*mult           */
    SW_SCHEDULE_WSD           /* warm-up, stable at lr, then a decay to min
                                 over `decay` tokens, from decay_start        */
} sw_schedule_kind;

/* The shape of wsd's decay, x = (t - decay_start) / decay in [0, 1]:
 *   linear  lr - (lr - floor) x
 *   sqrt    lr - (lr - floor) sqrt(x)   ("1-sqrt": Hägele et al. 2024, "Scaling
 *           Laws and Compute-Optimal Training Beyond Fixed Training Durations") */
typedef enum sw_decay_shape {
    SW_DECAY_LINEAR = 0,
    SW_DECAY_SQRT
} sw_decay_shape;

/* "linear", "sqrt" (static); the reverse returns -1 for an unknown name. */
const char *sw_decay_shape_name(sw_decay_shape s);
int sw_decay_shape_find(const char *name);

typedef struct sw_schedule {
    sw_schedule_kind kind;
    double lr;             /* peak learning rate                             */
    double min_frac;       /* floor as a fraction of lr (cosine, wsd; 0)     */
    uint64_t total;        /* tokens of the whole run (cosine, wsd)          */
    uint64_t warmup;       /* linear warm-up tokens (all kinds but constant) */
    uint64_t step;         /* step: tokens between decays                    */
    double gamma;          /* step: decay factor (0.1)                       */
    uint64_t period;       /* restarts: first period in tokens               */
    double mult;           /* restarts: period growth (2)                    */
    double decay_frac;     /* wsd: the last fraction of total spent decaying (0.2) */
    uint64_t decay_start;  /* wsd: tokens where decay begins; 0 = total*(1-decay_frac) */
    uint64_t decay;        /* wsd: decay length; 0 = total*decay_frac        */
    sw_decay_shape shape;  /* wsd: the decay's shape (linear)                */
} sw_schedule;

/* Parses "cosine:lr=3e-3,warmup=100k,min=0.1", "wsd:lr=..,decay=0.2[,shape=sqrt]", "step:lr=..,every=1M,gamma=0.5",
 * "restarts:lr=..,period=1M,mult=2", "warmup:lr=..,warmup=..", "constant:lr=..". `total` is
 * filled by the caller (the budget); `total=`, and for wsd `decay_start=`/`decay_tokens=`, may
 * also be given (the format writes them, so the text round-trips). A key the kind does not
 * take is an error naming it. Defaults: lr 1e-3, min 0, gamma 0.1, mult 2, decay 0.2. */
sw_status sw_schedule_parse(const char *text, sw_schedule *out, sw_error *err);
char *sw_schedule_format(const sw_schedule *s, char *buf, size_t len);
/* The learning rate after `tokens` training tokens. */
double sw_schedule_lr(const sw_schedule *s, uint64_t tokens);
/* Start the decay now, at `tokens`, lasting `decay_tokens` (a stop's cooldown): the schedule
 * becomes a wsd that decays from its current rate at `tokens` to the same absolute floor
 * (lr * min_frac), with the wsd's `shape` (linear for other kinds; set s->shape after the call
 * to choose). Works from any kind and phase (warm-up, mid-cosine, mid-decay). */
void sw_schedule_decay_now(sw_schedule *s, uint64_t tokens, uint64_t decay_tokens);

/* ---- pruning (docs/PRUNING.md) ------------------------------------------------ */

typedef enum sw_prune_kind {
    SW_PRUNE_MAGNITUDE = 1, /* unstructured: the smallest |w| of each weight matrix   */
    SW_PRUNE_NEURONS,       /* structured: hidden units of the mlp's hidden layers and
                               of the gpt's feed-forward blocks                       */
    SW_PRUNE_HEADS          /* structured: the gpt's attention heads                  */
} sw_prune_kind;

/* "magnitude", "neurons", "heads" (static; "?" for another value). */
const char *sw_prune_kind_name(sw_prune_kind k);

/* Gradual pruning on the cubic schedule of Zhu & Gupta 2017 ("To prune, or not
 * to prune"), in training tokens t rather than steps:
 *   s(t) = s_f + (s_i - s_f) (1 - (t - t0) / (t1 - t0))^3      t0 <= t <= t1
 * s(t) = 0 before t0 and s_f after t1. s is the pruned fraction: of each
 * weight matrix's entries (magnitude; s_f = sparsity), or of each layer's
 * units (neurons, heads; s_f = 1 - keep, s_i = 0). Masks are recomputed at the
 * scheduled points t0, t0 + dt, t0 + 2 dt, ..., t1, each with s at the point
 * itself (whichever optimizer step first reaches it), and only grow: a pruned
 * weight or unit stays pruned.
 *
 * Where the schedule puts t0, t1 and dt: each either in tokens, or as a
 * percentage of the run's budget (the tokens field 0: pct_* is used). */
typedef struct sw_prune_params {
    sw_prune_kind kind;
    double final;           /* s_f: magnitude sparsity in (0, 1); structured 1 - keep, keep in (0, 1] */
    double initial;         /* s_i in [0, s_f] (magnitude only; 0)                     */
    uint64_t start, end, every;              /* t0, t1, dt in tokens (0: use pct_*)     */
    double pct_start, pct_end, pct_every;    /* percent of the budget (10, 60, 1)       */
} sw_prune_params;

/* Parses "magnitude:sparsity=0.8[,initial=0][,start=10%][,end=60%][,every=1%]",
 * "neurons:keep=0.5[,start=..,end=..,every=..]" or "heads:keep=0.5[,...]";
 * start, end and every are token counts (500k, 1.5M) or percentages of the
 * budget (10%). SW_ERR_INVALID with a message naming the bad part and what
 * was expected (a keep outside (0, 1], a sparsity outside (0, 1), end before
 * start, an unknown key or kind). */
sw_status sw_prune_params_parse(const char *text, sw_prune_params *out, sw_error *err);
/* The canonical text (reads back to the same params); returns buf. */
char *sw_prune_params_format(const sw_prune_params *p, char *buf, size_t len);
/* Fills start, end and every in tokens from the percentages of `budget` (a
 * given token count stays), every at least 1. SW_ERR_INVALID when end is past
 * the budget (the target would never be reached) or not after start. */
sw_status sw_prune_params_resolve(sw_prune_params *p, uint64_t budget, sw_error *err);
/* s(t) of resolved params: the pruned fraction after `tokens` tokens. */
double sw_prune_sparsity(const sw_prune_params *p, uint64_t tokens);

/* A pruner: the masks of one model, moved along the schedule by the training
 * loop. The mask is one byte per parameter (1 kept, 0 pruned), in the
 * parameters' layout, so it applies with one pass to the weights, their
 * gradients, the optimizer's moments and a weight average alike.
 *
 * Which parameters: magnitude prunes the weight matrices (2-D tensors) but
 * not the embeddings (gpt wte, wpe, an untied head.w), the biases or the
 * LayerNorm gains. A unit (neurons, heads) is pruned whole: its input row(s)
 * and bias (for a head: its q, k and v rows and biases) and its output
 * column(s), so that it computes exactly zero and sw_model_compact can drop
 * it. Units are scored per layer by s_u = ||in_u||_2 x ||out_u||_2 (in_u:
 * the unit's input weights and bias, for a head its value rows and biases;
 * out_u: the output columns), a magnitude score invariant to rescaling a ReLU
 * unit's input up and its output down; the lowest go first, ties by index.
 * Every layer keeps the same number of units (the gpt stacks its layers in
 * one tensor per kind).
 * A pruner is used by one thread at a time. */
typedef struct sw_pruner sw_pruner; /* opaque */

/* Creates the pruner of model m (all kept) for resolved params. SW_ERR_INVALID
 * when the kind does not fit the model (heads on an mlp, neurons on an mlp
 * without hidden layers) or a keep leaves no unit of a layer. Caller frees
 * with sw_pruner_free. */
sw_status sw_pruner_create(const sw_prune_params *p, const sw_model *m, sw_pruner **out, sw_error *err);
void sw_pruner_free(sw_pruner *pr); /* NULL is a no-op */
/* After an optimizer step that brought the run to `tokens`: when it reached
 * the next scheduled point, the masks grow to s(point) from the model's
 * current weights; then the masked weights of m are set to zero. Returns 1
 * when the masks grew, else 0. */
int sw_pruner_step(sw_pruner *pr, sw_model *m, uint64_t tokens);
/* Sets the masked entries of buf to zero: `count` floats, a whole number of
 * copies of the parameters' layout (gradients, AdamW's two moments, a
 * weight average's snapshots). A no-op before the first mask. */
void sw_pruner_apply(const sw_pruner *pr, float *buf, size_t count);
/* For a resumed run: rebuilds the masks from the weights (an entry, or a
 * unit, is pruned iff its weights are exactly zero; training never leaves an
 * unpruned weight at exactly 0.0f) and moves the schedule past `tokens`. */
void sw_pruner_restore(sw_pruner *pr, const sw_model *m, uint64_t tokens);
/* The pruned fraction the masks hold now (of prunable weights, or of units). */
double sw_pruner_sparsity(const sw_pruner *pr);
/* The same fraction measured on a set of weights in m's layout: the
 * prunable entries (or units) that are exactly zero. */
double sw_pruner_measure(const sw_pruner *pr, const float *params);
/* 1 once the final masks (at t1) are in force. */
int sw_pruner_done(const sw_pruner *pr);
const sw_prune_params *sw_pruner_params(const sw_pruner *pr);

/* One-shot structured pruning: in every layer, zeroes the lowest-scoring
 * units (scored as above) so that round(keep x units) stay, at least 1.
 * kind neurons or heads; keep in (0, 1]. */
sw_status sw_model_prune_units(sw_model *m, sw_prune_kind kind, double keep, sw_error *err);
/* The smaller dense model that computes the same function: drops every unit
 * whose output is exactly zero (its input weights and bias all zero, or its
 * output columns all zero): mlp hidden neurons, gpt feed-forward neurons and
 * attention heads (the spec then gets ff= and hd=, heads fewer). A gpt keeps
 * the same count in every layer, the most any layer needs. Caller frees *out
 * (a fresh model; m is unchanged). */
sw_status sw_model_compact(const sw_model *m, sw_model **out, sw_error *err);

/* ---- L1 regularisation path (feature ranking; docs/FEATURES.md) ---------------
 * A multinomial logistic regression with an L1 penalty, fitted over a path of
 * decreasing penalties; the order in which features first get a nonzero
 * weight ranks them (the lasso path; Tibshirani 1996, Friedman, Hastie and
 * Tibshirani 2010 for the path with warm starts). At penalty lambda it
 * minimises over W (p, K) and b (K)
 *   (1/n) sum_i CE(softmax(z_i W + b), y_i) + lambda sum_jk |W_jk|
 * with z the features standardised by the training rows' mean and standard
 * deviation (a constant feature stays 0 and never enters), by FISTA (Beck and
 * Teboulle 2009) with the gradient restart of O'Donoghue and Candes 2015 and
 * step 1/L, L = (1/2) lambda_max([z 1]^T [z 1] / n) (Boehning's bound on the
 * softmax Hessian), warm-started from the previous penalty. The path runs
 * from lambda_max = max_jk |dCE/dW_jk| at W = 0 (every weight zero) down to
 * ratio x lambda_max, evenly in log lambda. Single-threaded and deterministic. */
typedef struct sw_l1_path_params {
    int points;      /* penalties on the path (50)                                  */
    double ratio;    /* smallest / largest penalty (1e-3)                           */
    int max_iter;    /* iterations per penalty at most (2000)                       */
    double tol;      /* a penalty is done when no weight moves more than tol (1e-5) */
} sw_l1_path_params;
sw_l1_path_params sw_l1_path_default_params(void);

typedef struct sw_l1_path {
    int points, p;
    double *lambda;  /* (points) the penalties, descending                          */
    int *active;     /* (points) features with a nonzero weight at each penalty     */
    double *val_em;  /* (points) EM (%) on the validation rows at each penalty; NaN without them */
    int *entry;      /* (p) the first point at which feature j has a nonzero weight; -1 never */
    int *order;      /* (p) features, the earliest entry first; ties by the larger
                        weight norm at entry; those never entering last, by their
                        largest |gradient| at the smallest penalty (how near they came) */
} sw_l1_path;

/* Fits the path on X (n, p) row-major with labels y in [0, K); Xv (nv, p) and
 * yv are validation rows scored at each penalty (nv may be 0). *out is new;
 * free with sw_l1_path_free. SW_ERR_INVALID on bad sizes or labels,
 * SW_ERR_NOMEM. */
sw_status sw_l1_path_fit(const float *X, const int32_t *y, size_t n, int p, int K, const float *Xv,
                         const int32_t *yv, size_t nv, const sw_l1_path_params *params, sw_l1_path **out,
                         sw_error *err);
void sw_l1_path_free(sw_l1_path *path); /* NULL is a no-op */

/* ---- batch-size ramp (docs/BATCH.md) ------------------------------------------
 * The batch grows with the tokens seen, from `from` to `to` examples over the
 * first R tokens (R = over x total, or over_tokens), in steps of
 * u = gcd(from, to), equal in tokens:
 *   B(t) = from + u floor(((to - from) / u) t / R)   for t < R,   to after
 * and the learning rate of a step of B examples is the schedule's times
 *   sqrt(B / ref)   scale=sqrt (default)      B / ref   scale=linear      1   scale=none
 * with ref = the batch the schedule's rate was chosen for (0 here reads as
 * `to`; the trainer fills in the task's default batch, 64 sequences or 128
 * tabular, whose recipe the default schedule is). Why sqrt: for Adam
 * the square-root rule keeps the update's noise scale (Malladi et al. 2022,
 * "On the SDEs and scaling rules for adaptive gradient algorithms"; Hoffer et
 * al. 2017); the linear rule is SGD's (Goyal et al. 2017). Schedules count
 * tokens, so they are the same whatever the batch. Text form (`train
 * --batch-ramp`): from=N,to=N[,over=F|over_tokens=T][,scale=sqrt|linear|none][,ref=N]. */
typedef enum sw_lr_scaling { SW_LR_SCALING_SQRT = 0, SW_LR_SCALING_LINEAR = 1, SW_LR_SCALING_NONE = 2 } sw_lr_scaling;

typedef struct sw_batch_ramp {
    int from, to;          /* examples per step at t = 0 and from t = R on; from <= to */
    double over;           /* R as a fraction of total (0.3)                          */
    uint64_t over_tokens;  /* R in tokens; 0 = over x total                           */
    uint64_t total;        /* the run's budget (the trainer sets it)                  */
    sw_lr_scaling scale;   /* (sqrt)                                                  */
    int ref;               /* the schedule's batch; 0 = to                            */
} sw_batch_ramp;

/* Parses the text form (keys in any order; from and to required, 1..4096).
 * SW_ERR_INVALID naming the bad part and what was expected. */
sw_status sw_batch_ramp_parse(const char *text, sw_batch_ramp *out, sw_error *err);
/* The canonical text (every key but total), which parses back the same. */
char *sw_batch_ramp_format(const sw_batch_ramp *r, char *buf, size_t len);
/* u = gcd(from, to): every batch size is a multiple of it. */
int sw_batch_ramp_unit(const sw_batch_ramp *r);
/* R, the ramp's length in tokens (0: no ramp, `to` from the start). */
uint64_t sw_batch_ramp_length(const sw_batch_ramp *r);
/* B(t) above. */
int sw_batch_ramp_size(const sw_batch_ramp *r, uint64_t tokens);
/* The learning-rate factor of a step of `batch` examples. */
double sw_batch_ramp_lr_factor(const sw_batch_ramp *r, int batch);

#ifdef __cplusplus
}
#endif
#endif
