/* A run's resumable state (the `train_state` metadata of last.safetensors)
 * as JSON text: counters, the best so far and every evaluation. Private to
 * train/ (and its tests). */
#ifndef SW_TRAIN_STATE_H
#define SW_TRAIN_STATE_H

#include "train/trainer.h"

typedef struct sw_train_state {
    uint64_t tokens, step, epoch, next_batch, next_eval, best_tokens, optimizer_steps;
    double best_em, best_loss, elapsed_s, loss_sum, loss_tokens;
    int64_t run_id;
    int best_weights;         /* which weights the best checkpoint holds (train/average.h) */
    uint64_t average_updates; /* the weight average's update count                  */
    int has_plan;             /* the evaluation plan below was saved (evalplan.h)     */
    uint64_t plan_every;
    size_t plan_sample, plan_confirm, plan_confirmations, plan_vetoes;
    size_t plan_final;        /* the final report's examples per split; 0 = whole splits */
    int plan_calibrated;
    sw_trainer_point *curve; /* to_json: borrowed; from_json: malloc'd, the caller frees */
    size_t n_curve;
} sw_train_state;

/* The state as compact JSON (malloc'd), or NULL when out of memory. */
char *sw_train_state_to_json(const sw_train_state *s);
/* Reads the text back; SW_ERR_FORMAT (message in err) if it is not a state. */
sw_status sw_train_state_from_json(const char *text, sw_train_state *s, sw_error *err);

#endif
