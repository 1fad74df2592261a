/* The state of one training run, private to train/: the trainer loop
 * (trainer.c), its files and resumable state (trainer_files.c), and its hooks into
 * the stopping controller and the store (trainer_hooks.c). */
#ifndef SW_TRAIN_TRAINER_H
#define SW_TRAIN_TRAINER_H

#include "stopwise/train.h"
#include "train/batch.h"

/* One evaluation as the run records it. */
typedef struct sw_trainer_point {
    uint64_t tokens, step;
    double wall_s, train_loss, val_loss, val_em, val_per, lr;
} sw_trainer_point;

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
    size_t evaluations;
    int diverged, in_cooldown;
    char note[512];                     /* a remark for the next progress report */

    sw_trainer_point *curve;                /* every evaluation so far */
    size_t n_curve, cap_curve;

    void *controller;                   /* sw_controller *, when a policy is set */
    void *store;                        /* sw_store *, when a store is set */
    int owns_run;                       /* 1 once this process began or took back the run's row */
    double last_heartbeat;              /* sw_now() of the last store write */
    double eval_s, store_s;             /* time spent evaluating and in the store */
} sw_trainer;

sw_status sw_trainer_setup(sw_trainer *r, const sw_train_options *opt, sw_train_progress_fn progress, void *user_data,
                       sw_train_result *res, sw_error *err);
sw_status sw_trainer_loop(sw_trainer *r);
sw_status sw_trainer_finish(sw_trainer *r);
void sw_trainer_teardown(sw_trainer *r);

/* trainer_files.c: the run folder. best.safetensors (the best weights), last.safetensors
 * (weights + optimizer + train_state, for --resume), curve.csv, events.jsonl. */
sw_status sw_trainer_save_best(sw_trainer *r);
sw_status sw_trainer_save_resume(sw_trainer *r);
sw_status sw_trainer_resume_load(sw_trainer *r);
sw_status sw_trainer_append_point(sw_trainer *r, const sw_trainer_point *pt);
/* Writes curve.csv (atomically) and appends the point to events.jsonl. */
sw_status sw_trainer_write_curve(sw_trainer *r, const sw_trainer_point *pt);
/* The run's settings as JSON text (malloc'd): what a resume must match. */
char *sw_trainer_config_json(const sw_trainer *r);

/* trainer_hooks.c: the stopping controller and the store. */
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
