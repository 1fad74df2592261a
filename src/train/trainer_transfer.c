/* A run's transfer settings (docs/TRANSFER.md): --init, the checkpoint the
 * model starts from (sw_warm_start), and --freeze, the tensors the optimizer
 * leaves fixed until their unfreeze points (sw_freeze). The run records both
 * in its config (the store's run row and every checkpoint's metadata): the
 * init checkpoint by absolute path and SHA-256, so a later reader can tell
 * which weights the run grew from, and the freeze spec in canonical form. */
#include "train/trainer.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sw_transfer {
    sw_checkpoint ck;        /* --init's checkpoint, until the model has its weights */
    int loaded;
    char path[PATH_MAX];     /* its absolute path */
    char sha256[65];
    sw_freeze *freeze;       /* NULL without --freeze */
    size_t frozen;           /* parameters frozen for the step being taken */
};

sw_status sw_trainer_transfer_spec(sw_trainer *r, sw_model_spec *spec)
{
    const sw_train_options *o = &r->opt;
    if (!o->init && !o->freeze) return SW_OK;
    sw_transfer *t = calloc(1, sizeof *t);
    if (!t) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    r->transfer = t;
    if (!o->init) return SW_OK;
    if (!realpath(o->init, t->path)) snprintf(t->path, sizeof t->path, "%s", o->init);
    sw_error e;
    sw_status st = sw_checkpoint_load(o->init, &t->ck, &e);
    if (st) return sw_error_set(r->err, st, "--init: %s", e.msg);
    t->loaded = 1;
    if ((st = sw_sha256_file(o->init, t->sha256, NULL, &e))) return sw_error_set(r->err, st, "--init: %s", e.msg);
    /* without --model, the checkpoint's architecture; with it, sw_warm_start
     * checks the two agree tensor by tensor */
    if (!o->model) return sw_warm_start_spec(&t->ck, o->init, r->ds, spec, r->err);
    return SW_OK;
}

sw_status sw_trainer_transfer_setup(sw_trainer *r)
{
    sw_transfer *t = r->transfer;
    if (!t) return SW_OK;
    sw_status st;
    if (t->loaded) {
        sw_warm_start_report rep;
        if ((st = sw_warm_start(r->model, r->ds, &t->ck, r->opt.init, &rep, r->err))) return st;
        char line[400];
        sw_warm_start_report_format(&rep, sw_dataset_kind(r->ds) == SW_TASK_SEQUENCE, line, sizeof line);
        snprintf(r->res->warm_start, sizeof r->res->warm_start, "%s", line);
        sw_trainer_note(r, "warm start from %s: %s", r->opt.init, line);
        sw_checkpoint_free(&t->ck); /* its weights are the model's now */
        t->loaded = 0;
    }
    if (r->opt.freeze && (st = sw_freeze_create(r->opt.freeze, r->model, &t->freeze, r->err))) return st;
    return SW_OK;
}

sw_status sw_trainer_transfer_step(sw_trainer *r)
{
    sw_transfer *t = r->transfer;
    if (!t || !t->freeze) return SW_OK;
    int changed;
    sw_status st = sw_freeze_apply(t->freeze, r->optim, r->tokens, &changed, r->err);
    if (st) return st;
    if (changed) {
        size_t now = sw_optimizer_num_frozen(r->optim);
        if (now < t->frozen)
            sw_trainer_note(r, "unfroze %zu parameters at %" PRIu64 " tokens (%zu stay frozen)", t->frozen - now,
                            r->tokens, now);
        t->frozen = now;
    }
    return SW_OK;
}

void sw_trainer_transfer_config(const sw_trainer *r, struct json_t *config)
{
    const sw_transfer *t = r->transfer;
    if (!t) return; /* no keys: a run without transfer keeps the config it always had */
    if (r->opt.init) {
        json_object_set_new(config, "init", json_string(t->path));
        json_object_set_new(config, "init_sha256", json_string(t->sha256));
    }
    if (t->freeze) json_object_set_new(config, "freeze", json_string(sw_freeze_text(t->freeze)));
}

void sw_trainer_transfer_free(sw_trainer *r)
{
    sw_transfer *t = r->transfer;
    if (!t) return;
    if (t->loaded) sw_checkpoint_free(&t->ck);
    sw_freeze_free(t->freeze);
    free(t);
    r->transfer = NULL;
}
