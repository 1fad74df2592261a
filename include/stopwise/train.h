/* stopwise train: the trainer loop, token accounting, evaluation (EM),
 * checkpoints (safetensors) and resume.
 *
 * Token accounting (DESIGN.md): a sequence example is `input SEP target EOS`;
 * the model is fed `input SEP target` and predicts the next symbol at each
 * position, the loss covering the target and EOS only. Its tokens are the
 * positions fed: len(input) + 1 + len(target); padding is never counted.
 * A tabular example is one token. */
#ifndef STOPWISE_TRAIN_H
#define STOPWISE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/base.h"
#include "stopwise/data.h"
#include "stopwise/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- evaluation ------------------------------------------------------------- */

typedef struct sw_eval_result {
    double em;       /* exact match, percent: the whole answer equals any reference */
    double loss;     /* mean masked cross-entropy (teacher forcing, first reference) */
    double per;      /* sequence tasks: phone (symbol) error rate, percent: edit
                        distance to the closest reference / that reference's length,
                        summed over examples; -1 for classification */
    double em_published; /* cmudict in the lexicon form: EM once predictions and
                            references are mapped to the published form (stress
                            removed, ax -> ah; BENCH.md section 3); -1 otherwise */
    size_t n;        /* examples evaluated */
    size_t correct;
} sw_eval_result;

/* The result as one compact JSON object (`stopwise eval --json`): em, n,
 * correct, loss, split, and per / em_published when measured. A non-finite
 * number is written as null (JSON has no NaN or infinity). Returns a
 * malloc'd string (caller frees), or NULL when out of memory. */
char *sw_eval_result_json(const sw_eval_result *r, const char *split);

/* Evaluates `model` on a split: greedy decoding with a key/value cache for
 * sequence tasks, argmax for classification. `limit` > 0 evaluates only the
 * first `limit` examples. */
sw_status sw_evaluate(sw_model *model, const sw_dataset *ds, sw_split split, size_t limit,
                      sw_eval_result *out, sw_error *err);

/* Evaluates the examples sel[0..n) of a split (sel NULL: the first n), and
 * gives each one's exact match in hits[i] (0/1; hits may be NULL), in the
 * order of sel: the paired data of a McNemar test between two weight sets. */
sw_status sw_evaluate_subset(sw_model *model, const sw_dataset *ds, sw_split split, const uint32_t *sel, size_t n,
                             uint8_t *hits, sw_eval_result *out, sw_error *err);

/* Scores one answer (target ids, no EOS) to example i of a split: returns 1
 * if it equals any reference (exact match), and gives the edit distance to
 * the closest reference by error rate and that reference's length. */
int sw_score_answer(const sw_dataset *ds, sw_split split, size_t i, const int32_t *answer, int len, int *distance,
                    int *ref_len);

/* Levenshtein distance between two id sequences (unit costs). */
int sw_edit_distance(const int32_t *a, int na, const int32_t *b, int nb);

/* ---- checkpoints -------------------------------------------------------------- */

/* A checkpoint is a safetensors file: an 8-byte little-endian header length,
 * a JSON header naming each tensor (dtype F32, shape, byte offsets) with a
 * "__metadata__" map of strings, then the raw little-endian data. Our
 * metadata: "format" = "stopwise", "model" = canonical model spec, "vocab"
 * (sequence tasks) or "labels" (classification) as JSON text, "task", and for
 * resumable checkpoints "train_state" (JSON). Optimizer moments, when saved,
 * are one flat tensor "optimizer.state". Written atomically (temp + rename). */
typedef struct sw_checkpoint {
    sw_model *model;          /* owned by the checkpoint after load            */
    char *meta_json;          /* the whole "__metadata__" object as JSON text   */
    float *optimizer_state;   /* NULL unless saved; `optimizer_count` floats    */
    size_t optimizer_count;
    float *average_state;     /* NULL unless saved (resumable runs with --average) */
    size_t average_count;
    void *meta;               /* private: the parsed metadata                   */
} sw_checkpoint;

/* Saves model (and optimizer state if opt != NULL) with `meta` as extra
 * metadata entries: an array of n_meta key/value string pairs. */
sw_status sw_checkpoint_save(const char *path, sw_model *model, sw_optimizer *opt,
                             const char *const *meta_kv, int n_meta, sw_error *err);
/* As sw_checkpoint_save, plus a flat "average.state" tensor of average_count
 * floats (the weight average of a resumable run) when average != NULL. */
sw_status sw_checkpoint_save_with(const char *path, sw_model *model, sw_optimizer *opt, const float *average,
                                  size_t average_count, const char *const *meta_kv, int n_meta, sw_error *err);
/* Loads a checkpoint, validating the header (size limits before any
 * allocation, dtype, shapes against the model spec, offsets inside the
 * file). Caller frees with sw_checkpoint_free. Errors name the file and the
 * byte offset or header key, and what was expected (SW_ERR_FORMAT). */
sw_status sw_checkpoint_load(const char *path, sw_checkpoint *out, sw_error *err);
/* A metadata value (static within ckpt), or NULL. */
const char *sw_checkpoint_meta(const sw_checkpoint *ckpt, const char *key);
void sw_checkpoint_free(sw_checkpoint *ckpt);

/* ---- using a trained model ----------------------------------------------------- */

/* Evaluates a checkpoint on a dataset split. The dataset is encoded with the
 * checkpoint's vocabulary or class list, and split with the settings the run
 * was trained with (seed, fractions, subsample) unless `data_opt` is non-NULL. */
sw_status sw_evaluate_checkpoint(const char *ckpt_path, const char *data_spec, const sw_data_options *data_opt,
                                 sw_split split, sw_eval_result *out, sw_error *err);

/* Answers input lines with a checkpoint: for a sequence model the decoded
 * target, for a classifier the class name of a line of comma-separated
 * features. */
typedef struct sw_predictor sw_predictor;
sw_status sw_predictor_open(const char *ckpt_path, sw_predictor **out, sw_error *err);
void sw_predictor_free(sw_predictor *p); /* NULL is a no-op */
/* answers[i] receives a malloc'd string the caller frees. A classification
 * line that does not parse is SW_ERR_FORMAT naming the line (first_line + i). */
sw_status sw_predictor_run(sw_predictor *p, const char *const *lines, int n, size_t first_line, char **answers,
                           sw_error *err);

/* ---- training ----------------------------------------------------------------- */

typedef struct sw_train_options {
    const char *data;         /* data spec ("cmudict", "fashion-mnist", ...)            */
    sw_data_options data_opt;
    const char *model;        /* model spec; NULL = the task's default                  */
    const char *optimizer;    /* "adamw:..." / "sgd:..."; NULL = adamw                  */
    const char *schedule;     /* "cosine:lr=..."; NULL = the task's default             */
    uint64_t budget;          /* training tokens; 0 = SW_DEFAULT_EPOCHS epochs of the
                                 training split, at most SW_DEFAULT_BUDGET_CAP          */
    uint64_t eval_every;      /* tokens between evaluations; 0 = sized from the measured
                                 evaluation cost (docs/TRAINING.md)                    */
    size_t eval_limit;        /* examples of the select half each evaluation reads;
                                 0 = sized from the measured cost                      */
    size_t eval_test;         /* benchmarks: also score this many test examples (a
                                 fixed seeded sample; SIZE_MAX = all) at every
                                 evaluation, with the weights it chose, and at every
                                 branch (curve.csv's test_em); nothing reads it to
                                 decide; 0 = none                                    */
    double eval_share;        /* the wall-time share evaluation may take when sized: 0.10 */
    size_t final_limit;       /* the final report's examples per split (score half, test);
                                 0 = sized with the cadence: whole splits unless they
                                 would cost more than a quarter of the evaluation share
                                 (docs/TRAINING.md); SIZE_MAX = whole splits         */
    double confirm_alpha;     /* a stop is refuted when a paired sign test on a larger
                                 sample finds the current weights better than the best
                                 checkpoint at this significance; 0 = no confirmation */
    const char *average;      /* weight average: "none", "ema[:decay=D]", "lawa[:k=K]";
                                 NULL = the default                                    */
    int batch;                /* examples per step; 0 = the task's default               */
    uint64_t seed;            /* model init, data order and dropout                     */
    const char *out_dir;      /* run folder: checkpoints, curve.csv, events.jsonl       */
    const char *policy;       /* stopping policy text (stop.h), NULL = none (full budget)*/
    double cooldown;          /* wsd only: at a stop, decay over this fraction of the
                                 tokens so far, then evaluate once more (0 = none); a
                                 policy's cooldown= clause wins. The cooldown never runs
                                 past the budget: a stop at T ends it by min(T + c T, B),
                                 and a stop at the budget has none (a wsd run that
                                 reaches its budget has annealed in its own decay)    */
    sw_decay_shape cooldown_shape; /* its decay shape (linear)                          */
    /* A trunk with branches (ANNEAL.md; needs the wsd schedule, which the trunk
     * holds at its constant rate: no decay within the budget). At the first
     * evaluation at or past each multiple of budget/forks, the trunk's exact
     * state (weights, optimizer moments, data position) is copied; for every
     * (c, shape) a branch anneals from it for c x the tokens so far and is
     * evaluated once (validation, and test where the data has one, both with
     * eval_limit); then the trunk continues from the copy, bit-identical to a
     * run without forks. Results: curve.csv's annealed columns at the fork
     * rows, and branch runs in the store. Branch tokens are not the trunk's. */
    int forks;                      /* 0 = no branches                                */
    const double *branch_cooldowns; /* c values; NULL = {0.1}                         */
    size_t n_branch_cooldowns;
    const sw_decay_shape *branch_shapes; /* NULL = {linear}                          */
    size_t n_branch_shapes;
    int resume;               /* continue the run in out_dir from its last checkpoint  */
    uint64_t stop_after;      /* testing aid: interrupt (as if killed) after this many
                                 tokens, leaving a resumable checkpoint; 0 = never       */
    const char *store;        /* store location (path or postgresql:// URL), NULL = none */
    const char *run_name;     /* optional name of the run in the store                  */
} sw_train_options;

sw_train_options sw_train_default_options(void);

/* The default budget follows the data: this many epochs of the training split
 * (every example with every reference; a tabular example is one token), at
 * most the cap. E.g. Fashion-MNIST 50 x 54k = 2.7M tokens; cmudict ~20M (the cap). */
#define SW_DEFAULT_EPOCHS 50
#define SW_DEFAULT_BUDGET_CAP 20000000ull
/* Loads the dataset as sw_train would and gives the default budget for it
 * (what budget = 0 means), e.g. for a task key before training. */
sw_status sw_train_default_budget(const char *data, const sw_data_options *opt, uint64_t *budget, sw_error *err);

/* Progress, for a progress bar or log lines: called after every evaluation
 * (is_eval = 1) and about once a second between them (is_eval = 0). */
typedef struct sw_train_progress {
    uint64_t tokens, budget, step;
    double tokens_per_s, elapsed_s, train_loss;
    double val_em, val_loss, best_em; /* NaN before the first evaluation */
    int is_eval;
    const char *note;                 /* a one-line remark (a stop, a prediction), or NULL */
} sw_train_progress;
typedef void (*sw_train_progress_fn)(const sw_train_progress *p, void *user_data);

typedef struct sw_train_result {
    char status[16];          /* completed | stopped | diverged | interrupted          */
    char stop_rule[32];       /* "" unless stopped                                      */
    char stop_reason[512];
    int64_t run_id;           /* id in the store, -1 without one                        */
    uint64_t tokens;          /* training tokens used (cooldown included)               */
    uint64_t cooldown_tokens; /* of which the cooldown                                   */
    uint64_t branch_tokens;   /* trained by the branches (not in `tokens`)               */
    size_t branches;          /* branches evaluated                                      */
    uint64_t best_tokens;     /* tokens at the best checkpoint                           */
    uint64_t budget;
    double best_val_em, val_em, test_em, test_per, val_per; /* of the best checkpoint   */
    double select_em, score_em; /* the best checkpoint on the validation halves: select
                                   (read by decisions) and score (read by none; -1 if empty) */
    size_t final_sample;      /* examples per split the final report read; 0 = whole splits */
    double test_se;           /* test_em's standard error from that sampling (0 when whole) */
    char weights[8];          /* the best checkpoint's weights: raw, ema or lawa         */
    uint64_t eval_every;      /* the cadence used                                         */
    size_t eval_sample;       /* examples per periodic evaluation                         */
    size_t confirmations, vetoes; /* paired tests run, and stops they refuted             */
    double test_em_published; /* cmudict lexicon form scored in the published form, else -1 */
    double wall_s;
    double eval_s;            /* of which validation evaluations                         */
    double store_s;           /* of which writing to the store                           */
    size_t evaluations;
    char checkpoint[4096];    /* path of the best checkpoint                             */
    char model_spec[512];
} sw_train_result;

/* Trains as configured. Returns SW_OK for completed, stopped and diverged runs
 * (see result->status); an error status for bad input or a failure, with
 * err filled. */
sw_status sw_train(const sw_train_options *opt, sw_train_progress_fn progress, void *user_data,
                   sw_train_result *result, sw_error *err);

#ifdef __cplusplus
}
#endif
#endif
