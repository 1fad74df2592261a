/* One model trained by the ranks of an MPI job (stopwise/train.h,
 * docs/SCALING.md). Every rank runs the same trainer loop over the same
 * batches (the batcher is seeded, so each rank builds the step's whole batch);
 * each computes the forward and backward of its rows, and the ranks sum the
 * weighted loss and gradients, so every rank holds the whole batch's gradient
 * and applies the same optimizer step. Rank 0 alone evaluates, writes and asks
 * the controller; the others take its decision at each evaluation point.
 *
 * Why the sum is the one-process gradient: the loss of a batch is
 * sum(mask * CE) / sum(mask) (gpt; the mean over rows for the mlp), so with
 * M_k the mask sum of rank k's rows and M the whole batch's,
 *   L = sum_k (M_k / M) L_k     and     dL = sum_k (M_k / M) dL_k,
 * the gradient each rank computed (dL_k, normalised by its own M_k) weighted
 * by its share w_k = M_k / M. Only the order of the float additions differs
 * from one process (float reduction noise). Dropout draws its mask per
 * element of the whole batch (sw_batch.first_row), so it is the same too.
 *
 * In one process (ranks == 1) every function here is the identity. */
#include "stopwise/train.h"
#include "train/parallel.h"
#include "train/trainer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

sw_status sw_trainer_dp_check(sw_trainer *r)
{
    if (r->ranks == 1) return SW_OK;
    if (r->batch % r->ranks)
        return sw_error_set(r->err, SW_ERR_INVALID,
                            "batch %d does not divide among %d ranks (mpirun -np %d): each rank trains on batch/%d "
                            "rows of every step; give a --batch that is a multiple of %d",
                            r->batch, r->ranks, r->ranks, r->ranks, r->ranks);
    if (r->opt.forks > 0)
        return sw_error_set(r->err, SW_ERR_INVALID,
                            "--forks (a trunk with cooldown branches) runs in one process only, not under mpirun "
                            "with %d ranks",
                            r->ranks);
    return SW_OK;
}

/* What a step reads besides the weights and moments: rank 0's, so a resumed
 * run (which only rank 0 loads) goes on from the same point everywhere. */
typedef struct dp_state {
    uint64_t tokens, step, epoch, next_batch, next_eval, budget, optimizer_steps;
    double cool_frac;
    int32_t cool_shape, batch;
    sw_schedule sched;
} dp_state;

sw_status sw_trainer_dp_start(sw_trainer *r, sw_status st)
{
    if (r->ranks == 1) return st;
    if ((st = sw_parallel_agree(st, r->err))) return st;
    dp_state s;
    memset(&s, 0, sizeof s);
    if (r->rank == 0)
        s = (dp_state){.tokens = r->tokens, .step = r->step, .epoch = r->batcher.epoch,
                       .next_batch = r->batcher.next_batch, .next_eval = r->next_eval, .budget = r->opt.budget,
                       .optimizer_steps = sw_optimizer_steps(r->optim), .cool_frac = r->cool_frac,
                       .cool_shape = (int32_t)r->cool_shape, .batch = r->batch, .sched = r->sched};
    sw_parallel_bcast(&s, sizeof s);
    size_t moments = 0;
    float *m = sw_optimizer_state(r->optim, &moments);
    sw_parallel_bcast(sw_model_params(r->model), sizeof(float) * sw_model_num_params(r->model));
    if (moments) sw_parallel_bcast(m, sizeof(float) * moments);
    if (r->rank == 0) return sw_parallel_agree(SW_OK, r->err);
    /* the same options give the same batch everywhere; a mismatch would be a bug */
    if (s.batch != r->batch)
        return sw_parallel_agree(sw_error_set(r->err, SW_ERR_INTERNAL, "rank %d has batch %d, rank 0 has %d",
                                              r->rank, r->batch, (int)s.batch),
                                 r->err);
    r->tokens = s.tokens;
    r->step = s.step;
    r->next_eval = s.next_eval;
    r->opt.budget = s.budget;
    r->cool_frac = s.cool_frac;
    r->cool_shape = (sw_decay_shape)s.cool_shape;
    r->sched = s.sched;
    sw_optimizer_set_steps(r->optim, s.optimizer_steps);
    sw_batcher_seek(&r->batcher, s.epoch, (size_t)s.next_batch);
    return sw_parallel_agree(SW_OK, r->err);
}

double sw_trainer_dp_shard(sw_trainer *r, sw_batch *b)
{
    if (r->ranks == 1) return 1.0;
    int B = b->B, T = b->T;
    int lo = (int)((long)B * r->rank / r->ranks), hi = (int)((long)B * (r->rank + 1) / r->ranks);
    double mine = hi - lo, all = B; /* rows, unless a mask weighs positions */
    if (b->mask) {
        mine = all = 0;
        for (int i = 0; i < B * T; i++) {
            all += b->mask[i];
            if (i >= lo * T && i < hi * T) mine += b->mask[i];
        }
    }
    size_t off = (size_t)lo * (size_t)T; /* (B,T) arrays; the mlp's T is 1 */
    if (b->inputs) b->inputs += off;
    if (b->targets) b->targets += off;
    if (b->mask) b->mask += off;
    if (b->features) b->features += (size_t)lo * (size_t)sw_dataset_num_features(r->ds);
    b->B = hi - lo;
    b->first_row = lo;
    return all > 0 ? mine / all : 0;
}

sw_status sw_trainer_dp_reduce(sw_trainer *r, double share, float *loss)
{
    if (r->ranks == 1) return SW_OK;
    float *g = sw_model_grads(r->model), w = (float)share;
    size_t n = sw_model_num_params(r->model);
    for (size_t i = 0; i < n; i++) g[i] *= w;
    double l = share * (double)*loss;
    sw_parallel_sum_doubles(&l, 1);
    sw_parallel_sum_floats(g, n);
    *loss = (float)l;
    return SW_OK;
}

/* FNV-1a over the weights' bits: equal on every rank unless they drifted. */
static uint64_t weights_hash(const sw_trainer *r)
{
    const float *w = sw_model_params(r->model);
    size_t n = sw_model_num_params(r->model);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &w[i], sizeof u);
        h = (h ^ u) * 0x100000001b3ull;
    }
    return h;
}

/* Rank 0's verdict at an evaluation point. */
typedef struct dp_decision {
    int32_t status, stop, diverged, pad;
    uint64_t next_eval, weights;
} dp_decision;

sw_status sw_trainer_dp_decide(sw_trainer *r, sw_status st, int *stop)
{
    if (r->ranks == 1) return st;
    dp_decision d = {0};
    uint64_t mine = weights_hash(r);
    if (r->rank == 0)
        d = (dp_decision){.status = (int32_t)st, .stop = *stop, .diverged = r->diverged, .next_eval = r->next_eval,
                          .weights = mine};
    sw_parallel_bcast(&d, sizeof d);
    if (r->rank != 0) {
        st = SW_OK; /* rank 0's error, if any, comes with its message from the agreement */
        *stop = d.stop;
        r->diverged = d.diverged;
        r->next_eval = d.next_eval;
        if (d.status == SW_OK && d.weights != mine)
            st = sw_error_set(r->err, SW_ERR_INTERNAL,
                              "the weights of rank %d differ from rank 0's at step %" PRIu64 " (%" PRIu64
                              " tokens): the ranks no longer train one model",
                              r->rank, r->step, r->tokens);
    }
    return sw_parallel_agree(st, r->err);
}

sw_status sw_trainer_dp_agree(sw_trainer *r, sw_status st)
{
    return r->ranks == 1 ? st : sw_parallel_agree(st, r->err);
}
