/* A batch-size ramp in the trainer (opt.batch_ramp; nn.h sw_batch_ramp;
 * docs/BATCH.md). The batcher plans its epochs in batches of the ramp's unit
 * u = gcd(from, to), and a step of B examples joins B/u of them, so the data
 * order is a pure function of the seed and the resumable position is still
 * (epoch, planned batch): a resumed run goes on with the same batches. The
 * step's size comes from the tokens before it; its learning rate is the
 * schedule's times the ramp's factor for the rows it really has (a short
 * planned batch at the end of a tiny split makes it smaller). Tokens count
 * what each step fed, as at a fixed batch, so they stay exact across sizes. */
#include "train/trainer.h"

#include <string.h>

sw_status sw_trainer_batch_setup(sw_trainer *r)
{
    r->has_ramp = 0;
    if (!r->opt.batch_ramp) return SW_OK;
    if (r->opt.batch)
        return sw_error_set(r->err, SW_ERR_INVALID, "give --batch or --batch-ramp, not both (the ramp sets every step's size)");
    sw_status st = sw_batch_ramp_parse(r->opt.batch_ramp, &r->ramp, r->err);
    if (st) return st;
    r->ramp.total = r->opt.budget;
    /* the schedule's rate is the task's default recipe's, chosen for its
     * default batch (r->batch here), unless the ramp names another */
    if (!r->ramp.ref) r->ramp.ref = r->batch;
    r->has_ramp = 1;
    r->batch = sw_batch_ramp_unit(&r->ramp);
    return SW_OK;
}

sw_status sw_trainer_batch_reserve(sw_trainer *r)
{
    return r->has_ramp ? sw_batcher_reserve(&r->batcher, r->ramp.to, r->err) : SW_OK;
}

int sw_trainer_batch_units(const sw_trainer *r)
{
    return r->has_ramp ? sw_batch_ramp_size(&r->ramp, r->tokens) / r->batch : 1;
}

double sw_trainer_batch_lr_factor(const sw_trainer *r, int rows)
{
    if (!r->has_ramp) return 1.0;
    return sw_batch_ramp_lr_factor(&r->ramp, rows > 0 ? rows : sw_batch_ramp_size(&r->ramp, r->tokens));
}
