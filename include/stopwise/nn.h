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
    /* mlp: n_inputs -> hidden[0] -> ... -> n_classes */
    int n_inputs;                     /* (0: from data)                  */
    int n_hidden;                     /* number of hidden layers         */
    int hidden[SW_MLP_MAX_HIDDEN];    /* widths                          */
    int n_classes;                    /* (0: from data)                  */
    sw_activation act;                /* (default relu)                  */
    /* both */
    float dropout;                    /* drop probability (default 0)    */
} sw_model_spec;

/* Parses "gpt:layers=4,d=128,heads=4,ctx=32[,vocab=V][,tied=0|1][,dropout=P]"
 * or "mlp:hidden=256x128,act=relu|gelu,dropout=0.2[,inputs=N][,classes=K]".
 * Fields not given keep their defaults. On error returns SW_ERR_INVALID and a
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

#ifdef __cplusplus
}
#endif
#endif
