/* Per-task defaults: what a practitioner would start with for each kind of
 * task. Chosen from short runs on this project's data (see README, bench/). */
#include "train/defaults.h"

#include <string.h>

void sw_train_task_defaults(sw_task_kind kind, sw_task_defaults *d)
{
    memset(d, 0, sizeof *d);
    if (kind == SW_TASK_SEQUENCE) {
        d->model = "gpt:layers=4,d=128,heads=4,dropout=0.1";
        d->schedule = "cosine:lr=2e-3,min=0.05";
        d->warmup_frac = 0.02;
        d->optimizer = "adamw:wd=0.05,clip=1";
        d->batch = 64;
    } else {
        d->model = "mlp:hidden=256,act=relu,dropout=0.2";
        d->schedule = "cosine:lr=1e-3,min=0.01";
        d->warmup_frac = 0.01;
        d->optimizer = "adamw:wd=0.01,clip=0";
        d->batch = 128;
    }
}
