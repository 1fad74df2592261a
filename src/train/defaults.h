/* Per-task training defaults, private to train/. */
#ifndef SW_TRAIN_DEFAULTS_H
#define SW_TRAIN_DEFAULTS_H

#include "stopwise/data.h"

typedef struct sw_task_defaults {
    const char *model, *schedule, *optimizer;
    double warmup_frac; /* warm-up as a fraction of the budget, when the schedule is the default */
    int batch;
} sw_task_defaults;

void sw_train_task_defaults(sw_task_kind kind, sw_task_defaults *d);

/* Tokens of one epoch of the training split (every example with every reference). */
uint64_t sw_train_epoch_tokens(const sw_dataset *ds);
/* The default budget: SW_DEFAULT_EPOCHS epochs, at most SW_DEFAULT_BUDGET_CAP tokens. */
uint64_t sw_train_budget_for(const sw_dataset *ds);

#endif
