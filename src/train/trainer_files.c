/* The run folder: best.safetensors, last.safetensors (resumable state),
 * curve.csv and events.jsonl. Every file but the append-only event log is
 * replaced atomically, so a kill at any moment leaves a consistent folder. */
#include "train/levers.h"
#include "train/trainer.h"
#include "train/train_state.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void path_in(const sw_trainer *r, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", r->opt.out_dir, name);
}

/* The settings a resumed run must share with the run it continues. */
char *sw_trainer_config_json(const sw_trainer *r)
{
    char sched[256];
    const sw_train_options *o = &r->opt;
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:I, s:I, s:f, s:f, s:I}", "data", o->data, "model",
                          r->res->model_spec, "optimizer", o->optimizer ? o->optimizer : "(default)", "schedule",
                          sw_schedule_format(&r->sched, sched, sizeof sched), "budget", (json_int_t)o->budget,
                          "eval_every", (json_int_t)r->eval_every, "batch", r->batch, "seed", (json_int_t)o->seed,
                          "data_seed", (json_int_t)o->data_opt.seed, "val_frac", o->data_opt.val_frac, "test_frac",
                          o->data_opt.test_frac, "max_examples", (json_int_t)o->data_opt.max_examples);
    json_object_set_new(c, "policy", o->policy ? json_string(o->policy) : json_null());
    json_object_set_new(c, "threads", json_integer(sw_threads()));
    /* data-parallel: the sums' order, like the thread count (absent alone, so older runs still resume) */
    if (r->ranks > 1) json_object_set_new(c, "ranks", json_integer(r->ranks));
    json_object_set_new(c, "published", json_boolean(o->data_opt.published));
    if (o->prune) json_object_set_new(c, "prune", json_string(o->prune)); /* absent without, so older runs resume */
    sw_trainer_levers_config(r, c); /* data levers: absent when off, so older runs still resume */
    sw_trainer_transfer_config(r, c); /* --init (path, SHA-256) and --freeze: absent when off */
    if (r->has_ramp) { /* --batch-ramp (docs/BATCH.md): absent without, so older runs resume */
        char ramp[160];
        json_object_set_new(c, "batch_ramp", json_string(sw_batch_ramp_format(&r->ramp, ramp, sizeof ramp)));
    }
    if (o->data_opt.features) { /* --features (docs/FEATURES.md): the columns trained on */
        json_t *f = json_array();
        for (int j = 0; j < o->data_opt.features->n; j++) json_array_append_new(f, json_string(o->data_opt.features->names[j]));
        json_object_set_new(c, "features", f);
    }
    if (sw_average_on(&r->avg)) {
        char avg[64];
        json_object_set_new(c, "average", json_string(sw_average_spec_format(&r->avg.spec, avg, sizeof avg)));
    }
    if (o->eval_limit) json_object_set_new(c, "eval_limit", json_integer((json_int_t)o->eval_limit));
    if (r->plan.n_test) json_object_set_new(c, "eval_test", json_integer((json_int_t)r->plan.n_test));
    if (o->final_limit)
        json_object_set_new(c, "final_limit", o->final_limit == SIZE_MAX ? json_string("all")
                                                                         : json_integer((json_int_t)o->final_limit));
    if (o->data_opt.train_folds > 1) {
        json_object_set_new(c, "train_fold", json_integer(o->data_opt.train_fold));
        json_object_set_new(c, "train_folds", json_integer(o->data_opt.train_folds));
    }
    char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(c);
    return s;
}

/* The model's companion: the vocabulary (sequence) or class names (classify). */
static char *task_meta(const sw_trainer *r, const char **key)
{
    if (sw_dataset_kind(r->ds) == SW_TASK_SEQUENCE) {
        *key = "vocab";
        return sw_vocab_to_json(sw_dataset_vocab(r->ds));
    }
    *key = "labels";
    return sw_classes_to_json(sw_dataset_classes(r->ds));
}

/* state and branches (either may be NULL) make the checkpoint resumable. */
static sw_status save(sw_trainer *r, const char *name, sw_optimizer *opt, const char *state, const char *branches)
{
    char path[4200], tokens[32], em[64];
    path_in(r, name, path, sizeof path);
    const char *tkey;
    char *tmeta = task_meta(r, &tkey), *config = sw_trainer_config_json(r);
    snprintf(tokens, sizeof tokens, "%" PRIu64, r->tokens);
    sw_snprintf(em, sizeof em, "%.17g", r->last_val_em);
    const char *kv[] = {"task", sw_dataset_kind(r->ds) == SW_TASK_SEQUENCE ? "sequence" : "classify",
                        "data", r->opt.data, tkey, tmeta, "config", config, "tokens", tokens, "val_em", em,
                        "train_state", state, "branch_state", branches};
    size_t avg_count = 0;
    const float *avg = state ? sw_average_state(&r->avg, &avg_count) : NULL;
    int n_kv = state ? (branches ? 8 : 7) : 6;
    sw_status st = sw_checkpoint_save_with(path, r->model, opt, avg, avg_count, kv, n_kv, r->err);
    free(tmeta);
    free(config);
    return st;
}

sw_status sw_trainer_save_best(sw_trainer *r) { return save(r, "best.safetensors", NULL, NULL, NULL); }

sw_status sw_trainer_save_weights(sw_trainer *r, const char *name) { return save(r, name, NULL, NULL, NULL); }

sw_status sw_trainer_save_resume(sw_trainer *r)
{
    sw_train_state s = {
        .tokens = r->tokens,
        .step = r->step,
        .epoch = r->batcher.epoch,
        .next_batch = r->batcher.next_batch,
        .next_eval = r->next_eval,
        .best_tokens = r->best_tokens,
        .optimizer_steps = sw_optimizer_steps(r->optim),
        .best_em = r->best_em,
        .best_loss = r->best_loss,
        .elapsed_s = sw_now() - r->t0 + r->elapsed_before,
        .loss_sum = r->loss_sum,
        .loss_tokens = r->loss_tokens,
        .run_id = r->res->run_id,
        .best_weights = r->best_weights,
        .average_updates = r->avg.updates,
        .has_plan = 1,
        .plan_every = r->plan.every,
        .plan_sample = r->plan.n_sample,
        .plan_confirm = r->plan.n_confirm,
        .plan_calibrated = r->plan.calibrated,
        .plan_confirmations = r->plan.confirmations,
        .plan_vetoes = r->plan.vetoes,
        .plan_final = r->plan.n_final == SIZE_MAX ? 0 : r->plan.n_final,
        .curve = r->curve,
        .n_curve = r->n_curve,
    };
    char *text = sw_train_state_to_json(&s), *branches = sw_branches_state_json(r);
    sw_status st = save(r, "last.safetensors", r->optim, text, branches);
    free(text);
    free(branches);
    return st;
}

static sw_status bad_state(sw_trainer *r, const char *path, const char *what)
{
    return sw_error_set(r->err, SW_ERR_FORMAT, "%s: cannot resume: %s", path, what);
}

sw_status sw_trainer_resume_load(sw_trainer *r)
{
    char path[4200], best_path[4200];
    path_in(r, "last.safetensors", path, sizeof path);
    path_in(r, "best.safetensors", best_path, sizeof best_path);
    sw_checkpoint ck, best;
    sw_status st = sw_checkpoint_load(path, &ck, r->err);
    if (st) return st;
    sw_train_state s = {0};
    char *config = sw_trainer_config_json(r);
    const char *saved = sw_checkpoint_meta(&ck, "config"), *state = sw_checkpoint_meta(&ck, "train_state");
    size_t n = sw_model_num_params(r->model), count = 0;
    if (!saved || strcmp(saved, config)) {
        st = sw_error_set(r->err, SW_ERR_INVALID,
                          "%s: cannot resume: the run was started with other settings (%s); this one has %s", path,
                          saved ? saved : "(none)", config);
        goto done;
    }
    sw_error se;
    if (sw_train_state_from_json(state, &s, &se)) {
        st = bad_state(r, path, se.msg);
        goto done;
    }
    float *ostate = sw_optimizer_state(r->optim, &count);
    if (sw_model_num_params(ck.model) != n || ck.optimizer_count != count) {
        st = bad_state(r, path, "its model or optimizer state does not match the settings");
        goto done;
    }
    size_t avg_count = 0;
    float *avg = sw_average_state(&r->avg, &avg_count);
    if (ck.average_count != avg_count) {
        st = bad_state(r, path, "its weight average does not match the settings");
        goto done;
    }
    if (avg) memcpy(avg, ck.average_state, sizeof(float) * avg_count);
    memcpy(sw_model_params(r->model), sw_model_params(ck.model), sizeof(float) * n);
    memcpy(ostate, ck.optimizer_state, sizeof(float) * count);
    r->tokens = s.tokens;
    r->step = s.step;
    r->next_eval = s.next_eval;
    r->best_em = s.best_em;
    r->best_loss = s.best_loss;
    r->best_tokens = s.best_tokens;
    r->elapsed_before = s.elapsed_s;
    r->loss_sum = s.loss_sum;
    r->loss_tokens = s.loss_tokens;
    r->res->run_id = s.run_id;
    r->best_weights = s.best_weights;
    r->avg.updates = s.average_updates;
    if (s.has_plan) {
        r->plan.every = s.plan_every;
        r->plan.n_sample = s.plan_sample;
        r->plan.n_confirm = s.plan_confirm;
        r->plan.calibrated = s.plan_calibrated;
        r->plan.confirmations = s.plan_confirmations;
        r->plan.vetoes = s.plan_vetoes;
        r->plan.n_final = s.plan_final ? s.plan_final : SIZE_MAX;
        if (!r->plan.every || !r->plan.n_sample || r->plan.n_sample > r->plan.n_select ||
            r->plan.n_confirm > r->plan.n_select) {
            st = bad_state(r, path, "its evaluation plan does not fit the validation split");
            goto done;
        }
    }
    sw_optimizer_set_steps(r->optim, s.optimizer_steps);
    sw_batcher_seek(&r->batcher, s.epoch, (size_t)s.next_batch);
    for (size_t i = 0; i < s.n_curve; i++)
        if ((st = sw_trainer_append_point(r, &s.curve[i]))) goto done;
    r->evaluations = r->n_curve;
    if ((st = sw_branches_resume(r, sw_checkpoint_meta(&ck, "branch_state"), path))) goto done;
    if (r->n_curve) {
        r->last_val_em = r->curve[r->n_curve - 1].val_em;
        r->last_val_loss = r->curve[r->n_curve - 1].val_loss;
    }
    /* the best weights so far */
    if (r->best_em >= 0) {
        if ((st = sw_checkpoint_load(best_path, &best, r->err))) goto done;
        memcpy(r->best_params, sw_model_params(best.model), sizeof(float) * n);
        sw_checkpoint_free(&best);
    }
done:
    free(s.curve);
    free(config);
    sw_checkpoint_free(&ck);
    return st;
}

sw_status sw_trainer_append_point(sw_trainer *r, const sw_trainer_point *pt)
{
    if (SW_ARRAY_RESERVE(r->curve, r->cap_curve, r->n_curve + 1))
        return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    r->curve[r->n_curve++] = *pt;
    return SW_OK;
}

/* A JSON number, or null for NaN and infinities (a diverged run's losses). */
static const char *json_number(char buf[32], double v)
{
    if (isfinite(v)) sw_snprintf(buf, 32, "%.9g", v);
    else snprintf(buf, 32, "null");
    return buf;
}

sw_status sw_trainer_write_curve_csv(sw_trainer *r)
{
    char path[4200];
    path_in(r, "curve.csv", path, sizeof path);
    sw_atomic_file f;
    sw_status st = sw_atomic_file_open(&f, path, r->err);
    if (st) return st;
    FILE *fp = sw_atomic_file_fp(&f);
    /* with an average: val_em is the better of val_em_raw and val_em_<average> */
    int avg = sw_average_on(&r->avg);
    const char *an = sw_average_name(r->avg.spec.kind);
    fprintf(fp, "tokens,step,wall_s,train_loss,val_loss,val_em,val_per,lr,eval_n");
    if (avg) fprintf(fp, ",val_em_raw,val_em_%s", an);
    int test = r->plan.n_test > 0; /* the benchmark's test sample (--eval-test) */
    if (test) fprintf(fp, ",test_em");
    sw_branches_csv_header(r, fp);
    fputc('\n', fp);
    for (size_t i = 0; i < r->n_curve; i++) {
        const sw_trainer_point *p = &r->curve[i];
        sw_fprintf(fp, "%" PRIu64 ",%" PRIu64 ",%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%zu", p->tokens, p->step, p->wall_s,
                   p->train_loss, p->val_loss, p->val_em, p->val_per, p->lr, p->n_eval);
        if (avg) sw_fprintf(fp, ",%.9g,%.9g", p->val_em_raw, p->val_em_avg);
        if (test) sw_fprintf(fp, ",%.9g", p->test_em);
        sw_branches_csv_cells(r, fp, i);
        fputc('\n', fp);
    }
    return sw_atomic_file_commit(&f, r->err);
}

sw_status sw_trainer_write_curve(sw_trainer *r, const sw_trainer_point *pt)
{
    char path[4200];
    sw_status st = sw_trainer_write_curve_csv(r);
    if (st) return st;

    path_in(r, "events.jsonl", path, sizeof path);
    FILE *ev = fopen(path, "a");
    if (!ev) return sw_error_set(r->err, SW_ERR_IO, "%s: %s", path, strerror(errno));
    /* a full disk must not leave half a line: the size before, to cut back to */
    struct stat sb;
    off_t before = fstat(fileno(ev), &sb) == 0 ? sb.st_size : -1;
    char tl[32], vl[32], em[32], per[32];
    sw_fprintf(ev,
            "{\"event\":\"eval\",\"tokens\":%" PRIu64 ",\"step\":%" PRIu64 ",\"wall_s\":%.9g,\"train_loss\":%s,"
            "\"val_loss\":%s,\"val_em\":%s,\"val_per\":%s,\"lr\":%.9g,\"best_em\":%.9g,\"eval_n\":%zu,"
            "\"weights\":\"%s\"%s}\n",
            pt->tokens, pt->step, pt->wall_s, json_number(tl, pt->train_loss), json_number(vl, pt->val_loss),
            json_number(em, pt->val_em), json_number(per, pt->val_per), pt->lr, r->best_em, pt->n_eval,
            pt->weights ? sw_average_name(r->avg.spec.kind) : "raw", r->in_cooldown ? ",\"cooldown\":true" : "");
    int bad = fflush(ev) != 0 || ferror(ev);
    int saved = errno;
    if (bad && before >= 0 && ftruncate(fileno(ev), before) != 0) saved = errno;
    bad |= fclose(ev) != 0;
    return bad ? sw_error_set(r->err, SW_ERR_IO, "%s: write failed: %s", path, strerror(saved)) : SW_OK;
}
