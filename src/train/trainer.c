/* The trainer loop: batches, steps, token accounting, evaluations, the best
 * checkpoint, resumable state, and (through hooks) the stopping controller and
 * the store. */
#include "stopwise/nn.h"
#include "stopwise/stop.h"
#include "stopwise/train.h"
#include "train/batch.h"
#include "train/defaults.h"
#include "train/levers.h"
#include "train/trainer.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sw_train_options sw_train_default_options(void)
{
    sw_train_options o;
    memset(&o, 0, sizeof o);
    o.data_opt = sw_data_default_options();
    o.budget = 0; /* follows the data: SW_DEFAULT_EPOCHS epochs, capped */
    o.seed = 1;
    o.out_dir = "runs/latest";
    o.cooldown = 0.1;
    o.eval_share = 0.10;
    o.confirm_alpha = 0.05;
    return o;
}

/* Fills the sizes a spec leaves to the data. */
static sw_status complete_spec(sw_model_spec *spec, const sw_dataset *ds, sw_error *err)
{
    sw_task_kind kind = sw_dataset_kind(ds);
    if (spec->kind == SW_MODEL_GPT && kind != SW_TASK_SEQUENCE)
        return sw_error_set(err, SW_ERR_INVALID, "model gpt needs a sequence dataset; %s is a classification task "
                                                 "(use an mlp)", sw_dataset_name(ds));
    if (spec->kind == SW_MODEL_MLP && kind != SW_TASK_CLASSIFY)
        return sw_error_set(err, SW_ERR_INVALID, "model mlp needs a classification dataset; %s is a sequence task "
                                                 "(use a gpt)", sw_dataset_name(ds));
    if (spec->kind == SW_MODEL_GPT) {
        int need = sw_dataset_max_input_len(ds) + sw_dataset_max_ref_len(ds) + 2; /* input SEP ref EOS */
        if (!spec->vocab) spec->vocab = sw_vocab_size(sw_dataset_vocab(ds));
        if (!spec->ctx) spec->ctx = need;
        if (spec->vocab != sw_vocab_size(sw_dataset_vocab(ds)))
            return sw_error_set(err, SW_ERR_INVALID, "model vocab=%d but the data's vocabulary has %d symbols",
                                spec->vocab, sw_vocab_size(sw_dataset_vocab(ds)));
        if (spec->ctx < need)
            return sw_error_set(err, SW_ERR_INVALID, "model ctx=%d is shorter than the data needs (%d: longest input "
                                                     "+ longest target + 2)", spec->ctx, need);
    } else {
        if (!spec->n_inputs) spec->n_inputs = sw_dataset_num_features(ds);
        if (!spec->n_classes) spec->n_classes = sw_dataset_num_classes(ds);
        if (spec->n_inputs != sw_dataset_num_features(ds) || spec->n_classes < sw_dataset_num_classes(ds))
            return sw_error_set(err, SW_ERR_INVALID, "model inputs=%d classes=%d do not fit the data (%d features, "
                                                     "%d classes)", spec->n_inputs, spec->n_classes,
                                sw_dataset_num_features(ds), sw_dataset_num_classes(ds));
    }
    return sw_model_spec_check(spec, err);
}

sw_status sw_train(const sw_train_options *opt, sw_train_progress_fn progress, void *user_data,
                   sw_train_result *res, sw_error *err)
{
    sw_trainer run;
    sw_status st = sw_trainer_setup(&run, opt, progress, user_data, res, err);
    st = sw_trainer_dp_start(&run, st); /* data-parallel: the ranks agree, then start from rank 0's state */
    if (st == SW_OK) st = sw_trainer_loop(&run);
    if (st == SW_OK) st = sw_trainer_dp_agree(&run, sw_trainer_finish(&run)); /* rank 0's final report */
    if (st) sw_trainer_hooks_fail(&run);
    sw_trainer_teardown(&run);
    return st;
}

sw_status sw_trainer_setup(sw_trainer *r, const sw_train_options *opt, sw_train_progress_fn progress, void *user_data,
                       sw_train_result *res, sw_error *err)
{
    memset(r, 0, sizeof *r);
    memset(res, 0, sizeof *res);
    res->run_id = -1;
    res->test_em_published = -1;
    r->opt = *opt;
    r->progress = progress;
    r->user_data = user_data;
    r->res = res;
    r->err = err;
    r->t0 = sw_now();
    r->rank = sw_parallel_rank();
    r->ranks = sw_parallel_size();
    if (!opt->data) return sw_error_set(err, SW_ERR_INVALID, "no dataset given (--data SPEC)");
    if (opt->batch < 0 || opt->batch > 4096) return sw_error_set(err, SW_ERR_INVALID, "batch must be 1..4096");
    if (!(opt->cooldown >= 0 && opt->cooldown <= 1))
        return sw_error_set(err, SW_ERR_INVALID, "cooldown must be a fraction of the tokens so far, in [0, 1]");
    r->cool_frac = opt->cooldown;
    r->cool_shape = opt->cooldown_shape;
    /* the texts the user gave are checked before any data is read */
    sw_model_spec spec;
    sw_optimizer_params op;
    sw_status st;
    if (opt->model && (st = sw_model_spec_parse(opt->model, &spec, err))) return st;
    if (opt->optimizer && (st = sw_optimizer_params_parse(opt->optimizer, &op, err))) return st;
    if (opt->schedule && (st = sw_schedule_parse(opt->schedule, &r->sched, err))) return st;
    if (opt->policy && strcmp(opt->policy, "none")) {
        sw_policy *p;
        if ((st = sw_policy_parse(opt->policy, &p, err))) return st;
        sw_policy_free(p);
        /* the policy's own cooldown clause wins over the option (ANNEAL.md) */
        sw_cooldown_from_policy(opt->policy, &r->cool_frac, &r->cool_shape);
    }
    if ((st = sw_dataset_load(opt->data, &opt->data_opt, &r->ds, err))) return st;
    if (!r->opt.budget) r->opt.budget = sw_train_budget_for(r->ds);
    opt = &r->opt;
    sw_task_defaults d;
    sw_train_task_defaults(sw_dataset_kind(r->ds), &d);
    if (!opt->model && (st = sw_model_spec_parse(d.model, &spec, err))) return st;
    if (!opt->optimizer && (st = sw_optimizer_params_parse(d.optimizer, &op, err))) return st;
    /* a bare kind ("cosine") keeps the task default's rate, floor and warm-up,
     * so changing the schedule's shape changes nothing else; the default's
     * own kind ("wsd") is the default exactly */
    int bare = opt->schedule && !strchr(opt->schedule, ':');
    if (!opt->schedule || bare) {
        sw_schedule base;
        if ((st = sw_schedule_parse(d.schedule, &base, err))) return st;
        if (!opt->schedule || base.kind == r->sched.kind) r->sched = base;
        r->sched.lr = base.lr;
        r->sched.min_frac = base.min_frac;
        r->sched.warmup = (uint64_t)(d.warmup_frac * (double)opt->budget);
    }
    if ((st = sw_trainer_transfer_spec(r, &spec))) return st; /* --init: the checkpoint's architecture */
    if ((st = complete_spec(&spec, r->ds, err))) return st;
    r->sched.total = opt->budget;
    r->batch = opt->batch ? opt->batch : d.batch;
    if ((st = sw_trainer_batch_setup(r))) return st; /* --batch-ramp: r->batch becomes its unit */
    if ((st = sw_trainer_dp_check(r))) return st;
    r->eval_every = opt->eval_every ? opt->eval_every : (opt->budget / 100 ? opt->budget / 100 : 1);
    if ((st = sw_model_create(&spec, opt->seed, &r->model, err))) return st;
    if ((st = sw_optimizer_create(&op, sw_model_num_params(r->model), &r->optim, err))) return st;
    if ((st = sw_trainer_transfer_setup(r))) return st; /* --init's weights, --freeze */
    if ((st = sw_trainer_levers_setup(r, &spec, &op))) return st; /* the training split the batcher reads */
    if ((st = sw_batcher_init(&r->batcher, r->ds, r->batch, spec.ctx, opt->seed, err))) return st;
    if ((st = sw_trainer_batch_reserve(r))) return st;
    if ((st = sw_trainer_levers_attach(r))) return st;
    if ((st = sw_branches_setup(r))) return st;
    if ((st = sw_trainer_prune_setup(r))) return st; /* --prune: the masks (trainer_prune.c) */
    r->best_params = malloc(sizeof(float) * sw_model_num_params(r->model));
    if (!r->best_params) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    memcpy(r->best_params, sw_model_params(r->model), sizeof(float) * sw_model_num_params(r->model));
    sw_model_spec_format(&spec, res->model_spec, sizeof res->model_spec);
    res->budget = opt->budget;
    r->best_em = -1;
    r->next_eval = r->eval_every;
    r->last_val_em = NAN;
    r->last_val_loss = NAN;

    /* the run folder: rank 0's alone, like the store */
    if (r->rank == 0 && (st = sw_make_dirs(opt->out_dir, err))) return st;
    snprintf(res->checkpoint, sizeof res->checkpoint, "%s/best.safetensors", opt->out_dir);
    if ((st = sw_trainer_eval_setup(r))) return st;
    if (opt->resume && r->rank == 0 && (st = sw_trainer_resume_load(r))) return st;
    if (r->rank == 0 && (st = sw_trainer_hooks_begin(r))) return st;
    sw_trainer_eval_start(r);
    return SW_OK;
}

/* One optimisation step on the next batch. */
sw_status sw_trainer_step(sw_trainer *r)
{
    sw_batch b;
    uint64_t tokens;
    sw_status st = sw_trainer_transfer_step(r); /* --freeze: the tensors this step leaves fixed */
    if (st) return st;
    r->batcher.units = sw_trainer_batch_units(r); /* --batch-ramp: this step's size, in planned batches */
    sw_batcher_next(&r->batcher, &b, &tokens); /* the whole batch: its tokens are the step's */
    double lr_factor = sw_trainer_batch_lr_factor(r, b.B); /* --batch-ramp: scaled to the batch; else 1 */
    b.dropout_seed = sw_hash3(r->opt.seed, 0xd50, r->step);
    double share = sw_trainer_dp_shard(r, &b); /* data-parallel: this rank's rows of it */
    float lr = (float)(sw_schedule_lr(&r->sched, r->tokens) * lr_factor), loss, gnorm = 0;
    sw_model_zero_grad(r->model);
    st = sw_model_forward(r->model, &b, 1, &loss);
    if (!st) st = sw_model_backward(r->model);
    if (!st) st = sw_trainer_dp_reduce(r, share, &loss); /* summed over the ranks */
    if (!st) sw_trainer_prune_grads(r); /* --prune: pruned weights get no gradient */
    if (!st) st = sw_optimizer_step(r->optim, sw_model_params(r->model), sw_model_grads(r->model), lr, &gnorm);
    if (!st) sw_trainer_prune_after_step(r, r->tokens + tokens); /* and stay zero, moments too */
    if (!st) sw_average_step(&r->avg, sw_model_params(r->model));
    /* A non-finite loss or gradient ends the run as diverged (the optimizer
     * refuses the step, so the weights stay finite), whatever the policy. */
    if ((!st || st == SW_ERR_INVALID) && (!isfinite(loss) || !isfinite(gnorm))) {
        r->diverged = 1;
        snprintf(r->res->stop_rule, sizeof r->res->stop_rule, "diverge");
        snprintf(r->res->stop_reason, sizeof r->res->stop_reason,
                 "diverge: non-finite %s at step %" PRIu64 " (%" PRIu64 " tokens)", isfinite(loss) ? "gradient" : "loss",
                 r->step, r->tokens);
        return SW_OK;
    }
    if (st) return sw_error_set(r->err, st, "training step %" PRIu64 " failed: %s", r->step, sw_model_errmsg(r->model));
    r->tokens += tokens;
    r->step++;
    /* the train loss reported at an evaluation is the token-weighted mean since the last one */
    r->loss_sum += (double)loss * (double)tokens;
    r->loss_tokens += (double)tokens;
    return SW_OK;
}

static void report(sw_trainer *r, int is_eval, const char *note)
{
    if (!r->progress) return;
    double el = sw_now() - r->t0 + r->elapsed_before;
    sw_train_progress p = {
        .tokens = r->tokens,
        .budget = r->opt.budget,
        .step = r->step,
        .tokens_per_s = el > 0 ? (double)(r->tokens - r->tokens_at_start) / (sw_now() - r->t0) : 0,
        .elapsed_s = el,
        .train_loss = r->last_train_loss,
        .val_em = r->last_val_em,
        .val_loss = r->last_val_loss,
        .best_em = r->best_em >= 0 ? r->best_em : NAN,
        .is_eval = is_eval,
        .note = note,
    };
    r->progress(&p, r->user_data);
}

void sw_trainer_note(sw_trainer *r, const char *fmt, ...)
{
    size_t len = strlen(r->note);
    if (len && len + 2 < sizeof r->note) {
        memcpy(r->note + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + len, sizeof r->note - len, fmt, ap);
    va_end(ap);
}

/* Evaluates on the validation sample (raw and averaged weights), records the
 * point, keeps the best parameters, and asks the controller whether to go on
 * (*stop = 1 if not; a stop a paired test refutes is taken back). */
sw_status sw_trainer_evaluate(sw_trainer *r, int *stop)
{
    sw_trainer_point pt = {0};
    sw_status st = sw_trainer_eval_point(r, &pt);
    if (st) return st;
    r->last_train_loss = r->loss_tokens > 0 ? r->loss_sum / r->loss_tokens : NAN;
    r->loss_sum = r->loss_tokens = 0;
    r->last_val_em = pt.val_em;
    r->last_val_loss = pt.val_loss;
    r->evaluations++;
    pt.tokens = r->tokens;
    pt.step = r->step;
    pt.wall_s = sw_now() - r->t0 + r->elapsed_before;
    pt.train_loss = r->last_train_loss;
    pt.lr = sw_schedule_lr(&r->sched, r->tokens) * sw_trainer_batch_lr_factor(r, 0); /* the rate the next step uses */
    if ((st = sw_trainer_record(r, &pt, stop))) return st;
    if ((st = sw_trainer_confirm_stop(r, &pt, stop))) return st;
    report(r, 1, r->note[0] ? r->note : NULL);
    r->note[0] = 0;
    return SW_OK;
}

/* An evaluation point: rank 0 evaluates, forks branches and saves the
 * resumable state; every rank then takes its decision (sw_trainer_dp_decide). */
static sw_status evaluation_point(sw_trainer *r, int *stop)
{
    sw_status st;
    if (r->rank != 0) {
        sw_threads_share_adjust();
        return SW_OK;
    }
    if ((st = sw_trainer_eval_calibrate(r))) return st; /* once: sizes the sample and the cadence */
    while (r->next_eval <= r->tokens) r->next_eval += sw_trainer_eval_every(r);
    if ((st = sw_trainer_evaluate(r, stop))) return st;
    if ((st = sw_branches_fork(r))) return st;
    sw_threads_share_adjust(); /* other runs came or went (a no-op unless the host shares) */
    return sw_trainer_save_resume(r);
}

sw_status sw_trainer_loop(sw_trainer *r)
{
    sw_status st;
    double last_report = sw_now();
    r->tokens_at_start = r->tokens;
    int stop = 0;
    while (r->tokens < r->opt.budget && !stop) {
        uint64_t before = r->tokens;
        if ((st = sw_trainer_step(r))) return st;
        if (r->diverged) break;
        if ((st = sw_trainer_snapshot(r, before))) return st; /* --snapshots K */
        if (r->tokens >= r->next_eval || r->tokens >= r->opt.budget) {
            st = evaluation_point(r, &stop);
            if ((st = sw_trainer_dp_decide(r, st, &stop))) return st;
            last_report = sw_now();
        } else if (sw_now() - last_report >= 1.0) {
            report(r, 0, NULL);
            last_report = sw_now();
        }
        /* after the step's evaluation, if it has one: an interruption that
         * skipped it would resume past it and lose that point of the curve */
        if (!stop && r->opt.stop_after && r->tokens >= r->opt.stop_after && r->tokens < r->opt.budget) {
            snprintf(r->res->status, sizeof r->res->status, "interrupted");
            return r->rank == 0 ? sw_trainer_save_resume(r) : SW_OK;
        }
        /* every step: the heartbeat interval may be shorter than a report's */
        if ((st = sw_trainer_hooks_tick(r))) return st;
    }
    if (stop && !r->diverged && (st = sw_trainer_stop_cooldown(r))) return st;
    if (!r->res->status[0]) snprintf(r->res->status, sizeof r->res->status, "%s",
                                     r->diverged ? "diverged" : stop ? "stopped" : "completed");
    return SW_OK;
}

sw_status sw_trainer_finish(sw_trainer *r)
{
    sw_train_result *res = r->res;
    res->tokens = r->tokens;
    res->cooldown_tokens = r->cooldown_tokens;
    res->best_tokens = r->best_tokens;
    res->evaluations = r->evaluations;
    res->store_s = r->store_s;
    if (strcmp(res->status, "interrupted") && r->rank == 0) {
        /* report the best checkpoint: its validation and test figures */
        memcpy(sw_model_params(r->model), r->best_params, sizeof(float) * sw_model_num_params(r->model));
        sw_eval_result val, test;
        double t = sw_now();
        sw_status st = sw_trainer_eval_final(r, &val, &test);
        r->eval_s += sw_now() - t;
        if (st) return st;
        res->best_val_em = r->best_em;
        res->val_em = val.em;
        res->val_per = val.per;
        res->test_em = test.em;
        res->test_per = test.per;
        res->test_em_published = test.em_published;
        if ((st = sw_trainer_prune_finish(r))) return st; /* --prune: sparsity, pruned.safetensors */
    }
    /* after the report: the wall time and the evaluation share count it */
    res->wall_s = sw_now() - r->t0 + r->elapsed_before;
    res->eval_s = r->eval_s;
    return sw_trainer_hooks_end(r);
}

void sw_trainer_teardown(sw_trainer *r)
{
    sw_branches_free(r);
    sw_trainer_prune_free(r);
    sw_trainer_transfer_free(r);
    sw_trainer_hooks_free(r);
    sw_batcher_free(&r->batcher);
    sw_trainer_levers_free(r);
    sw_optimizer_free(r->optim);
    sw_model_free(r->model);
    sw_dataset_free(r->ds);
    free(r->best_params);
    free(r->curve);
    sw_trainer_eval_free(r);
}
