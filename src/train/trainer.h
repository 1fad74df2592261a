/* The state of one training run, private to train/: the trainer loop
 * (trainer.c), its files and resumable state (trainer_files.c), and its hooks into
 * the stopping controller and the store (trainer_hooks.c). */
#ifndef SW_TRAIN_TRAINER_H
#define SW_TRAIN_TRAINER_H

#include "stopwise/stop.h"
#include "stopwise/store.h"
#include "stopwise/train.h"
#include "train/average.h"
#include "train/batch.h"

#include <stdio.h>

/* One evaluation as the run records it. */
typedef struct sw_trainer_point {
    uint64_t tokens, step;
    double wall_s, train_loss, val_loss, val_em, val_per, lr;
    double val_em_raw, val_em_avg; /* both weight sets on the sample (avg NaN without an average) */
    int weights;                   /* the set val_em is from: 0 raw, 1 the average */
    size_t n_eval;                 /* examples evaluated */
    int vetoed;                    /* a rule fired here and the paired test refuted it */
    double test_em;                /* with opt.eval_test: the test sample's EM, else NaN */
} sw_trainer_point;

/* What evaluations read and how often (trainer_eval.c, evalplan.h). */
typedef struct sw_trainer_plan {
    uint32_t *select, *score;     /* the validation halves, sorted */
    size_t n_select, n_score;
    uint32_t *order;              /* (n_select) the sample order: a seeded permutation of select */
    size_t n_sample, n_confirm;   /* periodic evaluations read order[0..n_sample), confirmations order[0..n_confirm) */
    uint64_t every;               /* the cadence in force */
    int calibrated;               /* sizes fixed (measured, given, or restored) */
    double t0;                    /* sw_now() when training began in this process */
    uint64_t tokens0;             /* tokens then */
    double eval_s0;               /* eval_s then */
    uint8_t *hits_a, *hits_b;     /* (n_select) paired outcomes of a confirmation */
    uint32_t *test_order;         /* opt.eval_test: a seeded permutation of the test split */
    size_t n_test;                /* the test sample: test_order[0..n_test) (0: none) */
    uint32_t *score_order;        /* (n_score) a seeded permutation of the score half */
    size_t n_final;               /* the final report's examples per split; SIZE_MAX = whole splits */
    size_t confirmations, vetoes;
} sw_trainer_plan;

typedef struct sw_trainer {
    sw_train_options opt;
    sw_train_progress_fn progress;
    void *user_data;
    sw_train_result *res;
    sw_error *err;

    sw_dataset *ds;
    sw_model *model;
    sw_optimizer *optim;
    sw_schedule sched;
    sw_batcher batcher;
    int batch;
    uint64_t eval_every, next_eval;

    uint64_t tokens, step, tokens_at_start, cooldown_tokens;
    double t0, elapsed_before;          /* wall clock: this process, and earlier ones (resume) */
    double loss_sum, loss_tokens;       /* train loss since the last evaluation */
    double last_train_loss, last_val_em, last_val_loss;
    double best_em;                     /* -1 before the first evaluation */
    double best_loss;                   /* validation loss there (breaks EM ties) */
    uint64_t best_tokens;
    float *best_params;                 /* (n_params) the best evaluation's weights */
    int best_weights;                   /* where they came from: 0 raw, 1 the average */
    sw_average avg;                     /* the weight average, when --average is on */
    sw_trainer_plan plan;
    size_t evaluations;
    int diverged, in_cooldown;
    char note[512];                     /* a remark for the next progress report */

    sw_trainer_point *curve;                /* every evaluation so far */
    size_t n_curve, cap_curve;

    /* cooldown.c and branch.c: the stop's cooldown and the trunk's branches */
    double cool_frac;                   /* the stop's cooldown, a fraction of the tokens so far */
    sw_decay_shape cool_shape;
    struct sw_branches *branches;       /* NULL unless opt.forks > 0 */

    void *controller;                   /* sw_controller *, when a policy is set */
    sw_forecaster *forecaster;          /* forecast.c: the final best EM, calibrated on earlier runs */
    size_t forecast_refs;               /* the earlier runs it learned from (0: uncalibrated) */
    sw_forecast forecast;               /* as of the latest evaluation (NaN before one) */
    void *store;                        /* sw_store *, when a store is set */
    int owns_run;                       /* 1 once this process began or took back the run's row */
    double last_heartbeat;              /* sw_now() of the last store write */
    double eval_s, store_s;             /* time spent evaluating and in the store */
    int rank, ranks;                    /* data_parallel.c: this process's rank of the job's (0 of 1 alone) */
    struct sw_levers *levers;           /* levers.c: dedupe, subsample, augment, curriculum (NULL: none) */
    struct sw_pruner *pruner;           /* trainer_prune.c: opt.prune's masks, NULL without */
    int prune_restored;                 /* its masks were rebuilt from the (resumed) weights */
    struct sw_transfer *transfer;       /* trainer_transfer.c: --init and --freeze (NULL: neither) */
    sw_batch_ramp ramp;                 /* trainer_batch.c: opt.batch_ramp, when has_ramp */
    int has_ramp;
} sw_trainer;

/* trainer.c: one optimisation step (sets r->diverged instead of failing on a
 * non-finite loss), and one validation evaluation recorded as a curve point
 * (asks the controller: *stop = 1 to stop). */
sw_status sw_trainer_step(sw_trainer *r);
/* Adds a remark to the next progress report's note ("; " between remarks). */
void sw_trainer_note(sw_trainer *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
sw_status sw_trainer_evaluate(sw_trainer *r, int *stop);

/* forecast.c: the progress line's forecast of the best EM by the budget.
 * begin: learns from the task's earlier full-budget runs in the store (none
 * without a store); update: forecasts from the curve so far into
 * r->forecast and the progress note; free: releases it. */
sw_status sw_trainer_forecast_begin(sw_trainer *r);
void sw_trainer_forecast_update(sw_trainer *r);
void sw_trainer_forecast_free(sw_trainer *r);

/* cooldown.c: the stop's cooldown. */
/* The cooldown a policy text names (its `cooldown=C[:shape=linear|sqrt]`
 * clause, ANNEAL.md): 1 and the values if present, 0 if not. */
int sw_cooldown_from_policy(const char *policy, double *frac, sw_decay_shape *shape);
/* Tokens the stop's cooldown takes when the run stops at `tokens`:
 * frac x tokens, cut so it never ends past the budget (0 at or past it). */
uint64_t sw_cooldown_length(double frac, uint64_t tokens, uint64_t budget);
/* Anneals from the current state over `len` tokens (the learning rate decays
 * from its current value to the floor with `shape`); ends early, with
 * r->diverged set, on a non-finite loss. *used gets the tokens trained. */
sw_status sw_trainer_anneal(sw_trainer *r, uint64_t len, sw_decay_shape shape, uint64_t *used);
/* After a stop: the cooldown (wsd only) and its evaluation. */
sw_status sw_trainer_stop_cooldown(sw_trainer *r);

/* branch.c: a trunk's branches (opt.forks > 0). setup checks the options and
 * holds the wsd schedule at its constant rate; fork runs every branch due at
 * the evaluation just recorded; the csv functions add the annealed columns to
 * curve.csv (header, and the cells of row i). */
sw_status sw_branches_setup(sw_trainer *r);
sw_status sw_branches_fork(sw_trainer *r);
void sw_branches_csv_header(const sw_trainer *r, FILE *fp);
void sw_branches_csv_cells(const sw_trainer *r, FILE *fp, size_t row);
void sw_branches_free(sw_trainer *r);
/* The branches so far and the next fork point as JSON text for the
 * resumable checkpoint (malloc'd; NULL without forks), and back: resume
 * checks that the run had forks exactly when this one has (text NULL: it had
 * none) and that every branch fits the trunk's curve, already loaded. */
char *sw_branches_state_json(const sw_trainer *r);
sw_status sw_branches_resume(sw_trainer *r, const char *text, const char *path);

/* data_parallel.c: one model trained by the ranks of an MPI job (docs/SCALING.md);
 * with one rank each is the identity. Rank 0 alone evaluates, writes and asks
 * the controller (r->rank == 0 guards those calls); the others follow it. */
/* Checks the options against the ranks: the batch divides among them, no forks. */
sw_status sw_trainer_dp_check(sw_trainer *r);
/* After setup, on every rank whatever it returned (st): the ranks agree on
 * its outcome, then take rank 0's state (weights, optimizer, data position,
 * tokens, schedule, next evaluation; a resumed run's, which only rank 0 read). */
sw_status sw_trainer_dp_start(sw_trainer *r, sw_status st);
/* Cuts the step's whole batch *b to this rank's rows (in place) and returns
 * their share of the batch's loss normaliser (mask sum, or rows). */
double sw_trainer_dp_shard(sw_trainer *r, sw_batch *b);
/* After this rank's backward: the loss and the gradients, weighted by the
 * share, summed over the ranks, so each holds the whole batch's. */
sw_status sw_trainer_dp_reduce(sw_trainer *r, double share, float *loss);
/* At an evaluation point, after rank 0 evaluated (st: its status; the others
 * pass SW_OK): every rank takes rank 0's stop, divergence and next evaluation,
 * checks its weights are bit-identical to rank 0's, and all agree on errors. */
sw_status sw_trainer_dp_decide(sw_trainer *r, sw_status st, int *stop);
/* The ranks agree on a status (after the final report). */
sw_status sw_trainer_dp_agree(sw_trainer *r, sw_status st);

/* trainer_prune.c: gradual pruning (opt.prune; docs/PRUNING.md). setup parses
 * and resolves the spec against the budget and creates the pruner; grads, just
 * before the optimizer step, masks the gradients (the first call rebuilds the
 * masks from the weights, which a resume or rank 0 just set); after_step, just
 * after it, grows the masks at a scheduled point (`tokens`: the run's tokens
 * after this step) and zeroes the pruned weights, their moments and the weight
 * average; when the target is reached the best checkpoint starts afresh, so it
 * is chosen among pruned weights. finish (rank 0, the model holding the best
 * weights) reports the sparsity and writes the compact pruned.safetensors. */
sw_status sw_trainer_prune_setup(sw_trainer *r);
void sw_trainer_prune_grads(sw_trainer *r);
void sw_trainer_prune_after_step(sw_trainer *r, uint64_t tokens);
sw_status sw_trainer_prune_finish(sw_trainer *r);
void sw_trainer_prune_free(sw_trainer *r);

/* trainer_transfer.c: --init and --freeze (docs/TRANSFER.md). spec, once the
 * data is loaded: reads the init checkpoint (and its SHA-256) and, without
 * opt.model, makes *spec its architecture (sw_warm_start_spec); setup, once
 * the model and the optimizer exist: the warm start, then the freeze spec
 * bound to the model; step, before every optimizer step: the frozen set of a
 * step that starts at r->tokens; config: adds init, init_sha256 and freeze to
 * the run's config JSON (a json_t object; nothing when both are off). */
typedef struct sw_transfer sw_transfer;
sw_status sw_trainer_transfer_spec(sw_trainer *r, sw_model_spec *spec);
sw_status sw_trainer_transfer_setup(sw_trainer *r);
sw_status sw_trainer_transfer_step(sw_trainer *r);
struct json_t;
void sw_trainer_transfer_config(const sw_trainer *r, struct json_t *config);
void sw_trainer_transfer_free(sw_trainer *r);

sw_status sw_trainer_setup(sw_trainer *r, const sw_train_options *opt, sw_train_progress_fn progress, void *user_data,
                       sw_train_result *res, sw_error *err);
sw_status sw_trainer_loop(sw_trainer *r);
sw_status sw_trainer_finish(sw_trainer *r);
void sw_trainer_teardown(sw_trainer *r);

/* trainer_files.c: the run folder. best.safetensors (the best weights), last.safetensors
 * (weights + optimizer + train_state, for --resume), curve.csv, events.jsonl. */
sw_status sw_trainer_save_best(sw_trainer *r);
/* The current weights, without optimizer or resume state, as `name` in the run folder. */
sw_status sw_trainer_save_weights(sw_trainer *r, const char *name);
sw_status sw_trainer_save_resume(sw_trainer *r);
sw_status sw_trainer_resume_load(sw_trainer *r);
sw_status sw_trainer_append_point(sw_trainer *r, const sw_trainer_point *pt);
/* Writes curve.csv (atomically; with a trunk's annealed columns). */
sw_status sw_trainer_write_curve_csv(sw_trainer *r);
/* Writes curve.csv and appends the point to events.jsonl. */
sw_status sw_trainer_write_curve(sw_trainer *r, const sw_trainer_point *pt);
/* The run's settings as JSON text (malloc'd): what a resume must match. */
char *sw_trainer_config_json(const sw_trainer *r);

/* trainer_snapshot.c: train --snapshots K (docs/ENSEMBLES.md). After a step
 * that took the run from `before` tokens to r->tokens: when it crossed a
 * multiple of budget/K, saves the weights as snapshot-<tokens>.safetensors. */
sw_status sw_trainer_snapshot(sw_trainer *r, uint64_t before);

/* trainer_eval.c: evaluation sample, cadence, weight averaging, confirmation. */
sw_status sw_trainer_eval_setup(sw_trainer *r);
/* Marks the start of training in this process (the clock of the calibration). */
void sw_trainer_eval_start(sw_trainer *r);
/* Once, at the first evaluation point: measures training and evaluation speed
 * and fixes the sample size and cadence (may move r->next_eval later). */
sw_status sw_trainer_eval_calibrate(sw_trainer *r);
uint64_t sw_trainer_eval_every(const sw_trainer *r);
/* Evaluates the raw and averaged weights on the sample, fills the point's
 * metrics with the better, keeps the best checkpoint. */
sw_status sw_trainer_eval_point(sw_trainer *r, sw_trainer_point *pt);
/* The test sample's EM (opt.eval_test) for the weights the model holds; NaN without one. */
sw_status sw_trainer_eval_test(sw_trainer *r, double *em);
/* After a rule fired (*stop = 1): the paired test of the current weights
 * against the best checkpoint on the larger sample; clears *stop if refuted. */
sw_status sw_trainer_confirm_stop(sw_trainer *r, const sw_trainer_point *pt, int *stop);
/* The final report on the best weights (held by the model): the validation
 * split, its select and score halves, and the test split; whole, or a seeded
 * sample of plan.n_final per split (evalplan.h), the select half then read
 * from the periodic sample the checkpoint was chosen on. */
sw_status sw_trainer_eval_final(sw_trainer *r, sw_eval_result *val, sw_eval_result *test);
void sw_trainer_eval_free(sw_trainer *r);

/* trainer_batch.c: a batch-size ramp (opt.batch_ramp; docs/BATCH.md). setup
 * parses it (before the batcher: r->batch becomes its unit, gcd(from, to);
 * the ramp's ref, unless given, the task's default batch),
 * reserve sizes the batcher for its largest batch; units gives the planned
 * batches the next step joins (1 without a ramp), lr_factor a step's learning-
 * rate factor for `rows` examples (rows <= 0: the size the ramp gives now; 1
 * without a ramp). */
sw_status sw_trainer_batch_setup(sw_trainer *r);
sw_status sw_trainer_batch_reserve(sw_trainer *r);
int sw_trainer_batch_units(const sw_trainer *r);
double sw_trainer_batch_lr_factor(const sw_trainer *r, int rows);

/* trainer_hooks.c: the stopping controller and the store. */
/* Rebuilds the controller from the curve, leaving out vetoed points. */
sw_status sw_trainer_hooks_rebuild(sw_trainer *r);
sw_status sw_trainer_hooks_begin(sw_trainer *r);
/* Records an evaluation: curve, event log, controller (sets *stop), store. */
sw_status sw_trainer_record(sw_trainer *r, const sw_trainer_point *pt, int *stop);
sw_status sw_trainer_hooks_end(sw_trainer *r);
/* Called about once a second between evaluations: keeps the store's
 * heartbeat fresh when evaluations are far apart. */
sw_status sw_trainer_hooks_tick(sw_trainer *r);
/* Marks the run failed in the store after an error (best effort). */
void sw_trainer_hooks_fail(sw_trainer *r);
void sw_trainer_hooks_free(sw_trainer *r);

#endif
