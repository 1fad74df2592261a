/* Per-task defaults: what a practitioner would start with for each kind of
 * task. Chosen from short runs on this project's data (see README, bench/).
 * The schedule is warm-up-stable-decay with a 1-sqrt decay over the last 20%
 * of the budget: a run stopped in its stable phase anneals from there
 * (train/cooldown.c), and one trained to the budget anneals in its own decay.
 * bench/tokens.sh measured it against the cosine it replaced, at about the
 * same tokens: +0.24 test EM on fashion-mnist (5 seeds), +0.60 on cmudict
 * (2 seeds) (docs/TRAINING.md). */
#include "train/defaults.h"

#include <string.h>

#include "stopwise/train.h"

void sw_train_task_defaults(sw_task_kind kind, sw_task_defaults *d)
{
    memset(d, 0, sizeof *d);
    if (kind == SW_TASK_SEQUENCE) {
        d->model = "gpt:layers=4,d=128,heads=4,dropout=0.1";
        d->schedule = "wsd:lr=2e-3,min=0.05,shape=sqrt";
        d->warmup_frac = 0.02;
        d->optimizer = "adamw:wd=0.05,clip=1";
        d->batch = 64;
    } else {
        d->model = "mlp:hidden=256,act=relu,dropout=0.2";
        d->schedule = "wsd:lr=1e-3,min=0.01,shape=sqrt";
        d->warmup_frac = 0.01;
        d->optimizer = "adamw:wd=0.01,clip=0";
        d->batch = 128;
    }
}

uint64_t sw_train_epoch_tokens(const sw_dataset *ds)
{
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    if (sw_dataset_kind(ds) != SW_TASK_SEQUENCE) return (uint64_t)n;
    /* one epoch feeds every (example, reference) pair once: input SEP target */
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++) {
        int li, lr;
        sw_dataset_input(ds, SW_SPLIT_TRAIN, i, &li);
        for (int j = 0, refs = sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, i); j < refs; j++) {
            sw_dataset_ref(ds, SW_SPLIT_TRAIN, i, j, &lr);
            t += (uint64_t)li + 1 + (uint64_t)lr;
        }
    }
    return t;
}

uint64_t sw_train_budget_for(const sw_dataset *ds)
{
    uint64_t b = SW_DEFAULT_EPOCHS * sw_train_epoch_tokens(ds);
    return b > SW_DEFAULT_BUDGET_CAP ? SW_DEFAULT_BUDGET_CAP : b ? b : 1;
}

sw_status sw_train_default_budget(const char *data, const sw_data_options *opt, uint64_t *budget, sw_error *err)
{
    sw_dataset *ds;
    sw_status st = sw_dataset_load(data, opt, &ds, err);
    if (st) return st;
    *budget = sw_train_budget_for(ds);
    sw_dataset_free(ds);
    return SW_OK;
}
