/* Where `tune --data` gets its curves: K runs of the task, each to the full
 * budget on the training split less one fold; under the wsd schedule (the
 * default), K trunks with cooldown branches instead (ANNEAL.md). */
#include "stopwise/tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double default_cooldowns[] = {0.05, 0.1, 0.2};
/* 1-sqrt only: it annealed at least as well as linear on both benchmark tasks
 * (docs/TRAINING.md), and each shape adds a family of branches to every trunk */
static const sw_decay_shape default_shapes[] = {SW_DECAY_SQRT};

sw_status sw_tune_record_curves(const sw_tune_record_options *o, const sw_tune_record_hooks *hooks,
                                sw_curve ***curves, size_t *n, sw_error *err)
{
    static const sw_tune_record_hooks none = {0};
    if (!hooks) hooks = &none;
    *curves = NULL;
    *n = 0;
    if (!o->data || !o->budget || o->runs < 2 || !o->out_dir)
        return sw_error_set(err, SW_ERR_INVALID, "recording curves needs data, a budget, 2 or more runs and a folder");
    /* every task's default schedule is a wsd (train/defaults.c) */
    int trunks = o->forks > 0;
    if (o->schedule && trunks) {
        sw_schedule sc;
        sw_status st = sw_schedule_parse(o->schedule, &sc, err);
        if (st) return st;
        trunks = sc.kind == SW_SCHEDULE_WSD;
    }
    sw_status st = sw_make_dirs(o->out_dir, err);
    if (st) return st;
    *curves = calloc((size_t)o->runs, sizeof **curves);
    if (!*curves) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (int k = 0; k < o->runs; k++) {
        sw_train_options t = sw_train_default_options();
        char dir[4200], name[96];
        snprintf(dir, sizeof dir, "%s/fold-%d", o->out_dir, k + 1);
        snprintf(name, sizeof name, "tune %s %d of %d", trunks ? "trunk" : "fold", k + 1, o->runs);
        t.data = o->data;
        t.model = o->model;
        t.schedule = o->schedule;
        t.budget = o->budget;
        /* recorded curves keep the fixed cadence replay and the task key assume */
        t.eval_every = o->eval_every ? o->eval_every : o->budget / 100 ? o->budget / 100 : 1;
        t.eval_limit = o->eval_limit;
        t.seed = o->seed + (uint64_t)k;
        /* run k trains without fold k of the training split: K folds of the data */
        t.data_opt.train_fold = k;
        t.data_opt.train_folds = o->runs;
        t.out_dir = dir;
        t.policy = NULL; /* the full budget: the tuner needs whole curves */
        t.store = o->store;
        t.run_name = name;
        if (trunks) {
            t.forks = o->forks;
            t.branch_cooldowns = o->cooldowns ? o->cooldowns : default_cooldowns;
            t.n_branch_cooldowns = o->cooldowns ? o->n_cooldowns : 3;
            t.branch_shapes = o->shapes ? o->shapes : default_shapes;
            t.n_branch_shapes = o->shapes ? o->n_shapes : 1;
        }
        if (hooks->run_begin) hooks->run_begin(k, o->runs, &t, hooks->user);
        sw_train_result res;
        st = sw_train(&t, hooks->progress, hooks->user, &res, err);
        if (hooks->run_end) hooks->run_end(k, o->runs, st ? NULL : &res, hooks->user);
        if (st) return st;
        char csv[4300];
        snprintf(csv, sizeof csv, "%s/curve.csv", dir);
        if ((st = sw_curve_read_csv(csv, &(*curves)[k], err))) return st;
        (*n)++;
    }
    return SW_OK;
}
