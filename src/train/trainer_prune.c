/* Gradual pruning inside the trainer (opt.prune; docs/PRUNING.md): the
 * pruner (nn.h) is moved along its schedule by the steps, and its masks hold
 * everything a step touches at zero: the gradients before the update (so the
 * global norm that clipping reads ignores pruned weights), then the weights,
 * AdamW's moments and the weight average after it. At the end, structured
 * pruning turns the best checkpoint into the smaller dense model. */
#include "stopwise/nn.h"
#include "train/trainer.h"

#include <stdio.h>

sw_status sw_trainer_prune_setup(sw_trainer *r)
{
    r->res->sparsity = -1;
    if (!r->opt.prune) return SW_OK;
    if (r->opt.forks)
        return sw_error_set(r->err, SW_ERR_INVALID,
                            "--prune does not combine with --forks (a branch's steps would grow the trunk's masks)");
    sw_prune_params p;
    sw_status st = sw_prune_params_parse(r->opt.prune, &p, r->err);
    if (!st) st = sw_prune_params_resolve(&p, r->opt.budget, r->err);
    if (!st) st = sw_pruner_create(&p, r->model, &r->pruner, r->err);
    return st;
}

void sw_trainer_prune_grads(sw_trainer *r)
{
    if (!r->pruner) return;
    if (!r->prune_restored) {
        /* a resumed run (or a rank that just took rank 0's state) holds its
         * pruned weights only now: rebuild the masks from them */
        if (r->tokens > 0) sw_pruner_restore(r->pruner, r->model, r->tokens);
        r->prune_restored = 1;
    }
    sw_pruner_apply(r->pruner, sw_model_grads(r->model), sw_model_num_params(r->model));
}

void sw_trainer_prune_after_step(sw_trainer *r, uint64_t tokens)
{
    if (!r->pruner) return;
    int was_done = sw_pruner_done(r->pruner);
    sw_pruner_step(r->pruner, r->model, tokens);
    size_t count;
    float *moments = sw_optimizer_state(r->optim, &count);
    sw_pruner_apply(r->pruner, moments, count);
    float *avg = sw_average_state(&r->avg, &count);
    sw_pruner_apply(r->pruner, avg, count);
    if (!was_done && sw_pruner_done(r->pruner)) {
        /* the weights before the target was reached are not the pruned model:
         * the best checkpoint is chosen among the pruned weights from here on */
        r->best_em = -1;
        sw_trainer_note(r, "pruning reached its target (%.3g of the %s pruned): the best checkpoint starts afresh",
                        sw_pruner_sparsity(r->pruner),
                        sw_pruner_params(r->pruner)->kind == SW_PRUNE_MAGNITUDE ? "weights" : "units");
    }
}

sw_status sw_trainer_prune_finish(sw_trainer *r)
{
    if (!r->pruner) return SW_OK;
    r->res->sparsity = sw_pruner_measure(r->pruner, sw_model_params(r->model));
    if (sw_pruner_params(r->pruner)->kind == SW_PRUNE_MAGNITUDE) return SW_OK; /* sparse, not smaller */
    char *out = r->res->pruned_checkpoint;
    snprintf(out, sizeof r->res->pruned_checkpoint, "%s/pruned.safetensors", r->opt.out_dir);
    sw_status st = sw_checkpoint_prune(r->res->checkpoint, out, 1, 1, NULL, &r->res->pruned_params,
                                       r->res->pruned_spec, sizeof r->res->pruned_spec, r->err);
    if (st) out[0] = 0;
    return st;
}

void sw_trainer_prune_free(sw_trainer *r)
{
    sw_pruner_free(r->pruner);
    r->pruner = NULL;
}
