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

/* Structured pruning of a checkpoint file (docs/PRUNING.md): loads `in`; with
 * neurons_keep < 1 (heads_keep < 1) prunes each layer's lowest-scoring
 * neurons (heads) down to that fraction (nn.h sw_model_prune_units); then
 * writes the compact model (sw_model_compact: every unit that computes
 * nothing dropped, so the spec gets the new widths) to `out`, atomically,
 * with in's metadata (vocabulary or labels, task, data, config) plus
 * "pruned_from" (in) and "prune" (what was pruned here, if anything);
 * optimizer and resume state are left behind. keep values in (0, 1]; 1 =
 * only compact. *before and *after (may be NULL) get the parameter counts,
 * spec (may be NULL) the compact model's spec text. */
sw_status sw_checkpoint_prune(const char *in, const char *out, double neurons_keep, double heads_keep,
                              size_t *before, size_t *after, char *spec, size_t spec_len, sw_error *err);

/* ---- warm starts (`train --init CKPT`, docs/TRANSFER.md) ------------------------
 * A model starts from a checkpoint's weights, matched tensor by tensor by
 * name. Tensors of the same shape are copied whole. Rows that stand for what
 * the data decides are mapped: a gpt's wte (and an untied head.w) by
 * vocabulary symbol (the specials by id, input symbols among input symbols,
 * target symbols among target symbols), its wpe by position, an mlp's output
 * layer (the last fc.I.w and fc.I.b) by class name. A symbol, class or
 * position the checkpoint lacks keeps the fresh row the model's own
 * initialisation gave it; one the data lacks is dropped; a kept one moves to
 * its new index. Any other difference (layers, width, heads, feed-forward
 * width, tied head, kind, feature count) is another architecture. */

typedef struct sw_warm_start_report {
    int tensors;       /* tensors copied whole                                  */
    int mapped;        /* tensors mapped by row (symbols, classes, positions)   */
    int rows_kept;     /* symbols or classes taken from the checkpoint          */
    int rows_new;      /* the data's symbols or classes the checkpoint lacks    */
    int rows_dropped;  /* the checkpoint's symbols or classes the data lacks    */
    int positions_new; /* gpt: positions past the checkpoint's context          */
} sw_warm_start_report;

/* The spec of a model that starts from ck (read from `path`, named in errors)
 * and trains on ds: the checkpoint's architecture (kind, layers, width,
 * heads, feed-forward and head width, tied head, hidden layers, activation,
 * dropout), with the sizes the data decides set to 0 for the caller to fill
 * from the data: vocab (gpt), classes and inputs (mlp), and ctx when the
 * checkpoint's is too short for ds (a longer one is kept, so wpe stays
 * whole). SW_ERR_INVALID when the checkpoint is of the other task kind. */
sw_status sw_warm_start_spec(const sw_checkpoint *ck, const char *path, const sw_dataset *ds, sw_model_spec *spec,
                             sw_error *err);
/* Overwrites m's weights (m built for ds, freshly initialised) with ck's, as
 * described above; *rep gets the counts. SW_ERR_INVALID "another
 * architecture" naming the first tensor that differs and both shapes, e.g.
 * "--init a.safetensors: tensor 'h.0.attn.qkv.w' is (384, 128) in the
 * checkpoint but (768, 256) in the model: ...", or one of the checkpoint that
 * has no place in m; SW_ERR_FORMAT when ck has no vocabulary or class list;
 * m is unchanged on any error. Not thread-safe on m. */
sw_status sw_warm_start(sw_model *m, const sw_dataset *ds, const sw_checkpoint *ck, const char *path,
                        sw_warm_start_report *rep, sw_error *err);
/* One line for people: "52 tensors copied, 1 mapped by row; symbols 70 kept,
 * 2 new (fresh rows), 1 dropped". Returns buf. */
char *sw_warm_start_report_format(const sw_warm_start_report *rep, int sequence, char *buf, size_t len);

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

/* ---- ensembles and beam search (docs/ENSEMBLES.md) ------------------------------
 * Several checkpoints answer as one model: a classifier ensemble averages the
 * members' class probabilities, a sequence ensemble their next-symbol
 * distributions at each decoding step (nn.h sw_gpt_decode), so the members
 * may differ in architecture but must share the vocabulary or the labels.
 * One member is a model of its own, which lets beam search (sw_decode_params)
 * run on a single checkpoint. A handle is used by one thread at a time. */

typedef struct sw_ensemble sw_ensemble;
#define SW_ENSEMBLE_MAX 64

/* Loads n checkpoints (1..SW_ENSEMBLE_MAX). SW_ERR_INVALID when a member is
 * of the other task kind or does not share member 0's vocabulary (the same
 * symbols with the same ids) or labels (names, order, feature count and
 * scale), naming both files and the first difference; load errors as
 * sw_checkpoint_load. Caller frees with sw_ensemble_free. */
sw_status sw_ensemble_open(const char *const *paths, int n, sw_ensemble **out, sw_error *err);
void sw_ensemble_free(sw_ensemble *e); /* NULL is a no-op */
int sw_ensemble_size(const sw_ensemble *e);
/* Member i's model (owned by the ensemble), NULL out of range. */
sw_model *sw_ensemble_member(const sw_ensemble *e, int i);

/* Loads a dataset for evaluating the ensemble, as sw_evaluate_checkpoint
 * does for one checkpoint: encoded with the members' vocabulary or labels and
 * split as member 0 was trained (seed, fractions, subsample, published form),
 * unless data_opt is given. SW_ERR_INVALID when the members were split
 * differently (a member's test example could be another's training example)
 * or a member's context cannot hold the data. Caller frees *ds. */
sw_status sw_ensemble_load_data(const sw_ensemble *e, const char *data_spec, const sw_data_options *data_opt,
                                sw_dataset **ds, sw_error *err);
/* Evaluates the ensemble on a split of ds (loaded as above): EM, PER and the
 * published-form EM as sw_evaluate gives them, with sequences decoded by
 * `dec` (NULL: greedy); loss is the cross-entropy of the averaged
 * distribution (teacher forcing, first reference). limit > 0 evaluates a
 * fixed seeded sample of that many examples of the split, the same sample
 * for any ensemble and decoding, so that results compare example by example.
 * *decode_s and *decode_cpu_s (either may be NULL) get the wall and the
 * process CPU seconds spent answering (decoding, or the classifiers'
 * forwards): the inference cost, without the loss's forwards. CPU seconds
 * measure the work on a machine other processes share. */
sw_status sw_ensemble_evaluate(sw_ensemble *e, const sw_dataset *ds, sw_split split, size_t limit,
                               const sw_decode_params *dec, sw_eval_result *out, double *decode_s,
                               double *decode_cpu_s, sw_error *err);

/* Answers input lines as sw_predictor_run does, with the ensemble and `dec`
 * (NULL: greedy). answers[i] receives a malloc'd string the caller frees
 * (all NULL on failure). */
sw_status sw_ensemble_predict(sw_ensemble *e, const sw_decode_params *dec, const char *const *lines, int n,
                              size_t first_line, char **answers, sw_error *err);

/* Where members come from. Both give *paths, an array of *n malloc'd paths
 * (free with sw_paths_free).
 * A run folder's checkpoints (a snapshot ensemble): its snapshot-*.safetensors
 * (`train --snapshots K`) in token order, then best.safetensors and
 * last.safetensors, leaving out a file whose weights equal an earlier one's.
 * SW_ERR_NOT_FOUND when the folder has none. */
sw_status sw_ensemble_snapshots(const char *run_dir, char ***paths, int *n, sw_error *err);
/* The k best runs of a task in a store: finished runs (completed or stopped,
 * no branches) of that task with a checkpoint artifact still on disk, by
 * the kept checkpoint's validation EM (ties: best EM, then the newer run).
 * Test EM is never read: choosing members by it would leak the test set.
 * SW_ERR_NOT_FOUND when fewer than k such runs exist (the message says how
 * many). */
sw_status sw_ensemble_top_runs(const char *store, const char *task, int k, char ***paths, int *n, sw_error *err);
void sw_paths_free(char **paths, int n);

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
    const char *batch_ramp;   /* a batch-size ramp instead (nn.h sw_batch_ramp text form:
                                 "from=32,to=256,over=0.3,scale=sqrt"; docs/BATCH.md):
                                 the batch grows with the tokens and each step's learning
                                 rate is scaled to its size, relative to ref= or else the
                                 task's default batch (the one its schedule's rate was
                                 chosen for); batch must then be 0. NULL = none */
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
    /* Data levers (docs/LEVERS.md); NULL / 0 = off. The default budget stays the
     * whole training split's, so a subsample trains as many tokens on fewer
     * examples. */
    int dedupe;               /* remove exact duplicates from the training split first  */
    const char *subsample;    /* which training examples to keep (data.h
                                 sw_subsample_parse: "0.5", "stratified:keep=0.5",
                                 "el2n:keep=0.5,take=hard,probe=100k", ...)             */
    const char *augment;      /* "image:shift=2,flip=1", "noise:sigma=0.1" (data.h)      */
    const char *curriculum;   /* "length[:...]" or "difficulty[:...]": easy to hard,
                                 paced in tokens (docs/LEVERS.md)                        */
    const char *prune;        /* gradual pruning (nn.h sw_prune_params_parse, docs/PRUNING.md):
                                 "magnitude:sparsity=0.8", "neurons:keep=0.5", "heads:keep=0.5";
                                 NULL = none. Masks grow on the schedule and hold after every
                                 step; once the target is reached the best checkpoint is chosen
                                 among pruned weights only; structured kinds also write the
                                 smaller dense model, pruned.safetensors                  */
    /* transfer (docs/TRANSFER.md) */
    const char *init;         /* start from this checkpoint (sw_warm_start); the model
                                 spec defaults to its architecture; NULL = fresh        */
    const char *freeze;       /* tensors kept fixed: "PATTERN[@TOKENS],..." (nn.h,
                                 sw_freeze_create); NULL = none                         */
    /* snapshot ensembles (docs/ENSEMBLES.md) */
    int snapshots;            /* K > 0: keep the raw weights after the step that crosses
                                 each multiple of budget/K, as snapshot-<tokens>.safetensors
                                 in the run folder (K files for a run that reaches its
                                 budget); with --schedule restarts:period=budget/K these
                                 are the ends of its cycles (Huang et al. 2017). 0 = none */
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
    /* data levers (docs/LEVERS.md) */
    size_t train_examples;    /* training examples the run used (after dedupe and subsample) */
    size_t train_examples_all;/* the training split before them                         */
    size_t duplicates;        /* removed by dedupe                                        */
    uint64_t probe_tokens;    /* trained by the probe run that scored the examples (not in
                                 `tokens`; 0 without one)                                 */
    uint64_t train_fingerprint; /* sw_dataset_train_fingerprint of the examples used      */
    char subsample[192], augment[64], curriculum[192]; /* the canonical specs in force ("" off) */
    /* pruning (opt.prune; docs/PRUNING.md) */
    double sparsity;          /* the best checkpoint's pruned fraction (of the prunable weights,
                                 or of the units); -1 without pruning                     */
    char pruned_checkpoint[4096]; /* neurons/heads: the compact model's path, else ""     */
    char pruned_spec[512];    /* and its model spec                                      */
    size_t pruned_params;     /* and its parameter count                                 */
    /* transfer (docs/TRANSFER.md) */
    char warm_start[512];     /* with opt.init: what the warm start took
                                 (sw_warm_start_report_format); "" otherwise            */
} sw_train_result;

/* Trains as configured. Returns SW_OK for completed, stopped and diverged runs
 * (see result->status); an error status for bad input or a failure, with
 * err filled. */
sw_status sw_train(const sw_train_options *opt, sw_train_progress_fn progress, void *user_data,
                   sw_train_result *result, sw_error *err);

/* ---- data-parallel training (docs/SCALING.md) ----------------------------------
 * `mpirun -np N stopwise train ...` trains one model on N processes (ranks).
 * Every rank calls sw_train with the same options. Each step, every rank
 * computes the gradients of its batch/N rows of the step's batch, the ranks
 * sum them (MPI_Allreduce over the flat gradient buffer), weighted so the sum
 * is the whole batch's mean-loss gradient, and each rank applies the same
 * update: the weights stay identical (checked at every evaluation). Rank 0
 * alone evaluates, decides stops, writes the run folder and the store and
 * reports progress; its decisions are broadcast, so all ranks stop, cool
 * down and end together. Tokens count the whole batch, as in one process.
 *
 * The MPI world is process-wide by nature: sw_parallel_begin once per
 * process before sw_train, sw_parallel_end once after. A process that
 * mpirun did not start never touches MPI and is rank 0 of 1. Not
 * thread-safe: call them from the main thread. */

/* 1 if this build can train data-parallel (built with MPI, STOPWISE_MPI). */
int sw_parallel_available(void);
/* The world mpirun's environment announces (Open MPI's OMPI_COMM_WORLD_SIZE
 * and _RANK, or PMI_SIZE and PMI_RANK): returns its size and gives this
 * process's rank in *rank (may be NULL); 1 and 0 when started alone. Reads
 * the environment only, so a caller may use it before sw_parallel_begin. */
int sw_parallel_launched(int *rank);
/* Joins the MPI job when mpirun started this process (MPI_Init_thread,
 * funneled: only the calling thread talks to MPI); otherwise does nothing.
 * A build without MPI started by mpirun with more than one process fails
 * with SW_ERR_INVALID and a message saying how to build one with MPI. */
sw_status sw_parallel_begin(sw_error *err);
/* This process's rank (0..size-1) and the number of ranks; 0 and 1 alone. */
int sw_parallel_rank(void);
int sw_parallel_size(void);
/* Leaves the job. exit_code 0: MPI_Finalize. Otherwise, if the ranks failed
 * together (every error sw_train returns after the ranks agreed on it), also
 * MPI_Finalize; if only this rank failed, MPI_Abort(exit_code) ends the whole
 * job, so no rank waits forever for one that is gone. */
void sw_parallel_end(int exit_code);
/* 1 once the ranks have failed together (sw_train returned an error every
 * rank agreed on; rank 0 holds the first failing rank's message, which the
 * CLI prints once), else 0. */
int sw_parallel_failed_together(void);

/* ---- feature selection (tabular data; docs/FEATURES.md) ----------------------
 * `stopwise select-features`: ranks the feature columns of a CSV dataset and
 * keeps the best K, by one of three methods:
 *   mi           mutual information of each feature with the label on the
 *                training split (data.h sw_mutual_info, k-NN, model-free)
 *   l1           the order features enter the L1 path of a logistic
 *                regression fitted on the training split (nn.h sw_l1_path_fit)
 *   permutation  how much a trained stopwise model's validation loss rises
 *                when a feature's column is shuffled (Breiman 2001)
 * With keep = 0 ("auto") each method keeps what its own test calls signal:
 *   mi           features whose MI exceeds the largest MI of any feature
 *                against shuffled labels (a permutation null, `shuffles` times)
 *   l1           the features entered at the sparsest penalty whose validation
 *                EM is within one standard error of the path's best (the 1-SE
 *                rule of Breiman et al. 1984), se = sqrt(a (100 - a) / n_val)
 *   permutation  features whose mean loss increase exceeds 2 standard errors
 *                of their repeats and the largest decrease any feature shows
 *                (an ignored feature scores about 0 either way, so that is how
 *                far noise reaches upwards too)
 * and at least one. */
typedef enum sw_select_method { SW_SELECT_MI = 1, SW_SELECT_L1 = 2, SW_SELECT_PERMUTATION = 3 } sw_select_method;
const char *sw_select_method_name(sw_select_method m); /* "mi", "l1", "permutation"; NULL otherwise */
int sw_select_method_find(const char *name);            /* the method, or -1 */

typedef struct sw_select_options {
    sw_select_method method;  /* (mi)                                                  */
    int keep;                 /* features kept; 0 = auto (above)                       */
    uint64_t seed;            /* label shuffles, permutations, the model's training (1) */
    int neighbors;            /* mi: k of the estimator (3)                            */
    int shuffles;             /* mi: label shuffles of the null (5)                    */
    sw_l1_path_params l1;     /* l1: the path (nn.h defaults)                          */
    int repeats;              /* permutation: shuffles per feature (5)                 */
    /* permutation: a checkpoint of an mlp trained on every column of this data
     * (its run's split is used); NULL = train one with the default recipe (or
     * model_spec, budget) into out_dir, not recorded in any store */
    const char *model;
    const char *model_spec;   /* NULL = the task's default                          */
    uint64_t budget;          /* 0 = train's default budget                         */
    const char *out_dir;      /* where that model's run folder goes (required then) */
} sw_select_options;
sw_select_options sw_select_default_options(void);

typedef struct sw_feature_ranking {
    int n;           /* feature columns of the data                                     */
    char **names;    /* (n) their names, in the file's column order                     */
    int *order;      /* (n) feature indices, the most useful first                      */
    double *score;   /* (n) by feature index: mi, MI in nats; l1, lambda at entry /
                        lambda_max (1 first, 0 never); permutation, the mean increase of
                        the validation loss (nats)                                       */
    double *spread;  /* (n) permutation: the standard deviation over repeats; else 0    */
    double *em_drop; /* (n) permutation: the mean drop of validation EM (points); else 0 */
    int keep;        /* the selection: order[0..keep)                                   */
    char rule[256];  /* how keep was chosen, one line                                   */
    char model[4096];/* permutation: the checkpoint scored; "" otherwise                */
    double base_em;  /* permutation: the model's validation EM unshuffled; else NaN     */
} sw_feature_ranking;

/* Ranks the features of `data` (a CSV spec) loaded with data_opt (NULL =
 * defaults; its `features` must be NULL: selection starts from every column)
 * and fills *out (free with sw_feature_ranking_free). Deterministic given
 * the seed (and, for permutation, the thread count, as training is).
 * SW_ERR_INVALID: not CSV data, keep above the feature count, a model that
 * is not an mlp over every column of this data; and the loader's errors. */
sw_status sw_select_features(const char *data, const sw_data_options *data_opt, const sw_select_options *opt,
                             sw_feature_ranking *out, sw_error *err);
void sw_feature_ranking_free(sw_feature_ranking *r); /* leaves *r zeroed; NULL is a no-op */

/* Permutation importance of every feature of a classification model on a
 * split (Breiman 2001; Fisher, Rudin and Dominici 2019): for feature j and
 * repeat r, column j of the split is shuffled (seeded by (seed, j, r)) and
 * the model scored again. score[j] = mean over repeats of the loss increase,
 * spread[j] its standard deviation, em_drop[j] the mean EM drop (points);
 * each (num_features) and may be NULL; *base_em (may be NULL) the unshuffled
 * EM. The model must take the dataset's features. */
sw_status sw_permutation_importance(sw_model *model, const sw_dataset *ds, sw_split split, int repeats, uint64_t seed,
                                    double *score, double *spread, double *em_drop, double *base_em, sw_error *err);

#ifdef __cplusplus
}
#endif
#endif
