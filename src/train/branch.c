/* A trunk and its branches (ANNEAL.md). The trunk trains at the wsd
 * schedule's constant rate; at regular fork points its exact state is copied
 * in memory, each (c, shape) branch anneals from that copy for c x (tokens so
 * far) and is evaluated once, and the trunk then continues from the copy. The
 * copy holds everything a step reads or writes (weights, optimizer moments
 * and step count, tokens, step, schedule, data position, train-loss sums), so
 * the trunk ends bit-identical to a run without forks (tested). The
 * branches so far and the next fork point travel in the resumable
 * checkpoint, so an interrupted trunk resumes where it stopped, its
 * finished branches kept and none trained twice. */
#include "data/json_num.h"
#include "stopwise/store.h"
#include "train/trainer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sw_branch_result {
    size_t row;             /* the trunk's evaluation (curve row) it forked at */
    size_t family;          /* index into the (c, shape) families              */
    uint64_t anneal_tokens;
    double val_em, val_loss, test_em; /* test_em NaN without a test split       */
    int diverged;
} sw_branch_result;

typedef struct sw_branch_family {
    double c;
    sw_decay_shape shape;
} sw_branch_family;

struct sw_branches {
    sw_branch_family *fam;
    size_t n_fam;
    uint64_t every, next_fork;
    sw_branch_result *res;
    size_t n_res, cap_res;
    float *params, *moments; /* the trunk's copy at the fork */
    size_t n_params, n_moments;
};

sw_status sw_branches_setup(sw_trainer *r)
{
    const sw_train_options *o = &r->opt;
    if (o->forks <= 0) return SW_OK;
    if (o->forks > 1000) return sw_error_set(r->err, SW_ERR_INVALID, "forks must be 1..1000 (got %d)", o->forks);
    if (r->sched.kind != SW_SCHEDULE_WSD)
        return sw_error_set(r->err, SW_ERR_INVALID,
                            "forks (a trunk with cooldown branches) need the wsd schedule (--schedule wsd:lr=...)");
    size_t nc = o->branch_cooldowns ? o->n_branch_cooldowns : 1, ns = o->branch_shapes ? o->n_branch_shapes : 1;
    if (nc == 0 || ns == 0 || nc > 16 || ns > 2)
        return sw_error_set(r->err, SW_ERR_INVALID, "branch cooldowns: 1..16 fractions and 1..2 shapes");
    struct sw_branches *b = calloc(1, sizeof *b);
    if (!b) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    r->branches = b;
    b->fam = calloc(nc * ns, sizeof *b->fam);
    if (!b->fam) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nc; i++) {
        double c = o->branch_cooldowns ? o->branch_cooldowns[i] : 0.1;
        if (!(c > 0 && c <= 1))
            return sw_error_set(r->err, SW_ERR_INVALID, "branch cooldown %g: expected a fraction in (0, 1]", c);
        for (size_t j = 0; j < ns; j++) {
            sw_decay_shape sh = o->branch_shapes ? o->branch_shapes[j] : SW_DECAY_LINEAR;
            for (size_t k = 0; k < b->n_fam; k++)
                if (b->fam[k].c == c && b->fam[k].shape == sh)
                    return sw_error_set(r->err, SW_ERR_INVALID, "branch cooldown c=%g shape=%s given twice", c,
                                        sw_decay_shape_name(sh));
            b->fam[b->n_fam++] = (sw_branch_family){c, sh};
        }
    }
    b->every = o->budget / (uint64_t)o->forks ? o->budget / (uint64_t)o->forks : 1;
    b->next_fork = b->every;
    b->n_params = sw_model_num_params(r->model);
    sw_optimizer_state(r->optim, &b->n_moments);
    b->params = malloc(sizeof(float) * b->n_params);
    b->moments = malloc(sizeof(float) * (b->n_moments ? b->n_moments : 1));
    if (!b->params || !b->moments) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    /* the trunk: the stable rate over the whole budget (its decay window is
     * put past it, [2B, 3B), so no step or evaluation sees it); the branches
     * decay */
    r->sched.decay_start = 2 * o->budget;
    r->sched.decay = o->budget;
    return SW_OK;
}

void sw_branches_free(sw_trainer *r)
{
    struct sw_branches *b = r->branches;
    if (!b) return;
    free(b->fam);
    free(b->res);
    free(b->params);
    free(b->moments);
    free(b);
    r->branches = NULL;
}

/* Everything a training step reads or writes, besides the weights and moments. */
typedef struct trunk_state {
    uint64_t tokens, step, opt_steps, epoch;
    size_t next_batch;
    sw_schedule sched;
    double loss_sum, loss_tokens;
    char stop_rule[32], stop_reason[512];
} trunk_state;

static void save_state(sw_trainer *r, trunk_state *t)
{
    struct sw_branches *b = r->branches;
    size_t count;
    memcpy(b->params, sw_model_params(r->model), sizeof(float) * b->n_params);
    memcpy(b->moments, sw_optimizer_state(r->optim, &count), sizeof(float) * b->n_moments);
    *t = (trunk_state){.tokens = r->tokens, .step = r->step, .opt_steps = sw_optimizer_steps(r->optim),
                       .epoch = r->batcher.epoch, .next_batch = r->batcher.next_batch, .sched = r->sched,
                       .loss_sum = r->loss_sum, .loss_tokens = r->loss_tokens};
    memcpy(t->stop_rule, r->res->stop_rule, sizeof t->stop_rule);
    memcpy(t->stop_reason, r->res->stop_reason, sizeof t->stop_reason);
}

static void restore_state(sw_trainer *r, const trunk_state *t)
{
    struct sw_branches *b = r->branches;
    size_t count;
    memcpy(sw_model_params(r->model), b->params, sizeof(float) * b->n_params);
    memcpy(sw_optimizer_state(r->optim, &count), b->moments, sizeof(float) * b->n_moments);
    sw_optimizer_set_steps(r->optim, t->opt_steps);
    if (r->batcher.epoch != t->epoch || r->batcher.next_batch != t->next_batch)
        sw_batcher_seek(&r->batcher, t->epoch, t->next_batch);
    r->tokens = t->tokens;
    r->step = t->step;
    r->sched = t->sched;
    r->loss_sum = t->loss_sum;
    r->loss_tokens = t->loss_tokens;
    r->diverged = 0;
    memcpy(r->res->stop_rule, t->stop_rule, sizeof t->stop_rule);
    memcpy(r->res->stop_reason, t->stop_reason, sizeof t->stop_reason);
}

/* The branch as a run in the store: a child of the trunk's run. */
static sw_status store_branch(sw_trainer *r, const sw_branch_family *f, const sw_branch_result *x, uint64_t fork)
{
    sw_store *s = r->store;
    if (!s || r->res->run_id < 0) return SW_OK;
    char name[160], cbuf[32], cfg[256];
    sw_snprintf(name, sizeof name, "branch c=%g shape=%s at %" PRIu64 " tokens", f->c, sw_decay_shape_name(f->shape),
             fork);
    sw_snprintf(cbuf, sizeof cbuf, "%g", f->c);
    snprintf(cfg, sizeof cfg, "{\"cooldown\":%s,\"cooldown_shape\":\"%s\",\"fork_tokens\":%" PRIu64 "}", cbuf,
             sw_decay_shape_name(f->shape), fork);
    sw_store_run_info info = {.name = name, .task = sw_dataset_name(r->ds), .config_json = cfg, .policy = "none",
                        .parent_run_id = r->res->run_id, .fork_tokens = fork};
    int64_t id;
    double t = sw_now();
    sw_status st = sw_store_run_begin(s, &info, &id);
    if (!st) st = sw_store_param_set(s, id, "cooldown", cbuf);
    if (!st) st = sw_store_param_set(s, id, "cooldown_shape", sw_decay_shape_name(f->shape));
    sw_store_metric m[2] = {{"anneal_tokens", (double)x->anneal_tokens}, {"test_em", x->test_em}};
    sw_store_eval e = {.tokens = fork + x->anneal_tokens, .step = (int64_t)r->step, .wall_s = 0, .val_em = x->val_em,
                       .val_loss = x->val_loss, .train_loss = NAN, .metrics = m, .n_metrics = isnan(x->test_em) ? 1 : 2};
    if (!st && !x->diverged) st = sw_store_log_eval(s, id, &e);
    sw_store_run_result out = {.status = x->diverged ? SW_RUN_DIVERGED : SW_RUN_COMPLETED,
                         .tokens = x->anneal_tokens,
                         .best_tokens = fork + x->anneal_tokens,
                         .best_em = x->val_em,
                         .val_em = x->val_em,
                         .test_em = x->test_em};
    if (!st) st = sw_store_run_end(s, id, &out);
    r->store_s += sw_now() - t;
    return st ? sw_error_set(r->err, st, "store: %s", sw_store_errmsg(s)) : SW_OK;
}

static sw_status add_result(sw_trainer *r, const sw_branch_result *x)
{
    struct sw_branches *b = r->branches;
    if (SW_ARRAY_RESERVE(b->res, b->cap_res, b->n_res + 1)) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    b->res[b->n_res++] = *x;
    return SW_OK;
}

/* One branch from the saved state: anneal, evaluate, record. */
static sw_status run_branch(sw_trainer *r, size_t fam, const trunk_state *t)
{
    struct sw_branches *b = r->branches;
    const sw_branch_family *f = &b->fam[fam];
    restore_state(r, t);
    uint64_t len = (uint64_t)(f->c * (double)t->tokens), used = 0;
    sw_branch_result x = {.row = r->n_curve - 1, .family = fam, .val_em = NAN, .val_loss = NAN, .test_em = NAN};
    sw_status st = sw_trainer_anneal(r, len ? len : 1, f->shape, &used);
    if (st) return st;
    x.anneal_tokens = used;
    x.diverged = r->diverged;
    if (!x.diverged) {
        sw_eval_result ev;
        double t0 = sw_now();
        /* the examples the trunk's evaluations read, so annealed and trunk EM compare */
        st = sw_evaluate_subset(r->model, r->ds, SW_SPLIT_VAL, r->plan.order, r->plan.n_sample, NULL, &ev, r->err);
        r->eval_s += sw_now() - t0;
        if (st) return st;
        x.val_em = ev.em;
        x.val_loss = ev.loss;
        if ((st = sw_trainer_eval_test(r, &x.test_em))) return st;
    }
    r->res->branch_tokens += used;
    r->res->branches++;
    if ((st = add_result(r, &x))) return st;
    return store_branch(r, f, &x, t->tokens);
}

sw_status sw_branches_fork(sw_trainer *r)
{
    struct sw_branches *b = r->branches;
    if (!b || r->diverged || !r->n_curve || r->tokens < b->next_fork) return SW_OK;
    while (b->next_fork <= r->tokens) b->next_fork += b->every;
    trunk_state t;
    save_state(r, &t);
    sw_status st = SW_OK;
    for (size_t k = 0; k < b->n_fam && !st; k++) st = run_branch(r, k, &t);
    restore_state(r, &t);
    if (st) return st;
    if (r->progress) {
        snprintf(r->note, sizeof r->note, "forked %zu branches at %" PRIu64 " tokens", b->n_fam, t.tokens);
    }
    /* the fork's row gained its annealed cells */
    return sw_trainer_write_curve_csv(r);
}

/* ---- the resumable state ---------------------------------------------------------- */

char *sw_branches_state_json(const sw_trainer *r)
{
    const struct sw_branches *b = r->branches;
    if (!b) return NULL;
    json_t *list = json_array();
    for (size_t i = 0; i < b->n_res; i++) {
        const sw_branch_result *x = &b->res[i];
        json_array_append_new(list, json_pack("[I,I,I,o,o,o,b]", (json_int_t)x->row, (json_int_t)x->family,
                                              (json_int_t)x->anneal_tokens, sw_json_num(x->val_em),
                                              sw_json_num(x->val_loss), sw_json_num(x->test_em), x->diverged));
    }
    json_t *o = json_pack("{s:I,s:o}", "next_fork", (json_int_t)b->next_fork, "results", list);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

sw_status sw_branches_resume(sw_trainer *r, const char *text, const char *path)
{
    struct sw_branches *b = r->branches;
    if (!b && !text) return SW_OK;
    if (!b || !text)
        return sw_error_set(r->err, SW_ERR_INVALID, "%s: cannot resume: the run was %s forks and this one %s", path,
                            text ? "trained with" : "trained without", b ? "has them" : "has none");
    json_error_t je;
    json_t *o = json_loads(text, 0, &je), *list = json_object_get(o, "results"), *x;
    json_int_t next = json_integer_value(json_object_get(o, "next_fork"));
    sw_status st = SW_OK;
    if (!json_is_array(list) || next <= 0 || (uint64_t)next % b->every)
        st = sw_error_set(r->err, SW_ERR_FORMAT, "%s: cannot resume: its branch state is not one", path);
    size_t i;
    json_array_foreach(list, i, x) {
        if (st) break;
        json_int_t row, fam, used;
        json_t *val, *loss, *test;
        int diverged, bad = 0;
        sw_branch_result y;
        if (json_unpack(x, "[I,I,I,o,o,o,b]", &row, &fam, &used, &val, &loss, &test, &diverged) || row < 0 ||
            (size_t)row >= r->n_curve || fam < 0 || (size_t)fam >= b->n_fam || used < 0) {
            st = sw_error_set(r->err, SW_ERR_FORMAT, "%s: cannot resume: branch %zu does not fit this trunk", path, i);
            break;
        }
        y = (sw_branch_result){.row = (size_t)row, .family = (size_t)fam, .anneal_tokens = (uint64_t)used,
                               .val_em = sw_json_num_get(val, &bad), .val_loss = sw_json_num_get(loss, &bad),
                               .test_em = sw_json_num_get(test, &bad), .diverged = diverged};
        if (bad) st = sw_error_set(r->err, SW_ERR_FORMAT, "%s: cannot resume: branch %zu has a non-number", path, i);
        else if (!(st = add_result(r, &y))) {
            r->res->branch_tokens += y.anneal_tokens;
            r->res->branches++;
        }
    }
    if (!st) b->next_fork = (uint64_t)next;
    json_decref(o);
    return st;
}

void sw_branches_csv_header(const sw_trainer *r, FILE *fp)
{
    const struct sw_branches *b = r->branches;
    if (!b) return;
    char name[160];
    for (size_t k = 0; k < b->n_fam; k++) {
        const char *sh = sw_decay_shape_name(b->fam[k].shape);
        sw_store_annealed_name("val_em", b->fam[k].c, sh, name, sizeof name);
        fprintf(fp, ",%s", name);
        sw_store_annealed_name(NULL, b->fam[k].c, sh, name, sizeof name);
        fprintf(fp, ",%s", name);
        sw_store_annealed_name("test_em", b->fam[k].c, sh, name, sizeof name);
        fprintf(fp, ",%s", name);
    }
}

void sw_branches_csv_cells(const sw_trainer *r, FILE *fp, size_t row)
{
    const struct sw_branches *b = r->branches;
    if (!b) return;
    for (size_t k = 0; k < b->n_fam; k++) {
        const sw_branch_result *x = NULL;
        for (size_t i = b->n_res; i-- > 0;)
            if (b->res[i].row == row && b->res[i].family == k) {
                x = &b->res[i];
                break;
            }
        if (!x) {
            fputs(",,,", fp); /* no fork here: missing */
            continue;
        }
        /* a diverged branch: its EM is NaN (a number, not missing) */
        sw_fprintf(fp, ",%.9g,%" PRIu64 ",", x->val_em, x->anneal_tokens);
        if (!isnan(x->test_em)) sw_fprintf(fp, "%.9g", x->test_em);
    }
}
