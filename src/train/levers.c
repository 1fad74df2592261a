/* The data levers of a run: de-duplication, subsampling (with its probe),
 * augmentation and curriculum, set up around the trainer's batcher; see
 * levers.h and docs/LEVERS.md. */
#include "train/levers.h"

#include "train/curriculum.h"
#include "train/probe.h"
#include "train/trainer.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* seed streams, so the probe, the selection and the augmentation of one run
 * seed never draw the same numbers as each other or as the run */
enum { STREAM_PROBE = 0x70726f, STREAM_PICK = 0x7069636b, STREAM_AUG = 0x617567, STREAM_CURRICULUM = 0x637572 };

typedef struct sw_levers {
    int dedupe;
    sw_subsample_spec sub;
    sw_curriculum_spec cur_spec;
    sw_curriculum cur;
    sw_augment *aug;
    double *difficulty; /* (training examples) the probe's score the curriculum orders by */
} sw_levers;

static int any_on(const sw_train_options *o)
{
    return o->dedupe || (o->subsample && *o->subsample && strcmp(o->subsample, "none")) ||
           (o->augment && *o->augment && strcmp(o->augment, "none")) ||
           (o->curriculum && *o->curriculum && strcmp(o->curriculum, "none"));
}

/* The probe both score users share: the larger of their budgets and points. */
static sw_status run_probe(sw_trainer *r, sw_levers *L, const sw_model_spec *spec, const sw_optimizer_params *op,
                           sw_probe *p)
{
    int by_sub = sw_subsample_needs_scores(&L->sub), by_cur = L->cur_spec.kind == SW_CURRICULUM_DIFFICULTY;
    uint64_t dflt = r->opt.budget / 10 ? r->opt.budget / 10 : 1, tokens = 0;
    int points = 1;
    if (by_sub) {
        tokens = L->sub.probe ? L->sub.probe : dflt;
        points = L->sub.points;
    }
    if (by_cur) {
        uint64_t t = L->cur_spec.probe ? L->cur_spec.probe : dflt;
        if (t > tokens) tokens = t;
        if (L->cur_spec.points > points) points = L->cur_spec.points;
    }
    /* the settings used, so the run's recorded specs say what ran */
    if (by_sub) {
        L->sub.probe = tokens;
        L->sub.points = points;
    }
    if (by_cur) {
        L->cur_spec.probe = tokens;
        L->cur_spec.points = points;
    }
    sw_status st = sw_probe_run(r->ds, spec, op, &r->sched, r->batch, sw_hash3(r->opt.seed, STREAM_PROBE, 0), tokens,
                                points, p, r->err);
    if (st) return st;
    r->res->probe_tokens = p->tokens;
    sw_trainer_note(r, "probe: %" PRIu64 " tokens, %d scoring pass%s of %zu examples", p->tokens, p->points,
                    p->points == 1 ? "" : "es", p->n);
    return SW_OK;
}

/* Keeps the selection, and the curriculum's scores of the kept examples. */
static sw_status select_examples(sw_trainer *r, sw_levers *L, const sw_probe *p)
{
    size_t n = sw_dataset_count(r->ds, SW_SPLIT_TRAIN);
    double *scores = NULL;
    uint32_t *keep = malloc(sizeof(uint32_t) * (n ? n : 1));
    if (!keep) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    if (p->n && (scores = malloc(sizeof(double) * n)) == NULL) {
        free(keep);
        return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    }
    if (p->n) sw_probe_scores(p, L->sub.kind, scores);
    size_t m = 0;
    sw_status st = sw_subsample_select(r->ds, &L->sub, sw_hash3(r->opt.seed, STREAM_PICK, 0), p->n ? scores : NULL,
                                       keep, &m, r->err);
    if (!st && L->difficulty) /* positions k of the kept split are keep[k] of the old (both in source order) */
        for (size_t k = 0; k < m; k++) L->difficulty[k] = L->difficulty[keep[k]];
    if (!st && m < n) st = sw_dataset_keep_train(r->ds, keep, m, r->err);
    free(keep);
    free(scores);
    return st;
}

sw_status sw_trainer_levers_setup(sw_trainer *r, const sw_model_spec *spec, const sw_optimizer_params *op)
{
    const sw_train_options *o = &r->opt;
    r->res->train_examples = r->res->train_examples_all = sw_dataset_count(r->ds, SW_SPLIT_TRAIN);
    if (!any_on(o)) return SW_OK;
    sw_levers *L = calloc(1, sizeof *L);
    if (!L) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    r->levers = L;
    L->dedupe = o->dedupe;
    sw_status st;
    if ((st = sw_subsample_parse(o->subsample, &L->sub, r->err))) return st;
    if ((st = sw_curriculum_parse(o->curriculum, &L->cur_spec, r->err))) return st;
    if (L->cur_spec.kind == SW_CURRICULUM_LENGTH && sw_dataset_kind(r->ds) != SW_TASK_SEQUENCE)
        return sw_error_set(r->err, SW_ERR_INVALID,
                            "curriculum '%s': %s is a classification task, whose examples have no length (use "
                            "difficulty)",
                            o->curriculum, sw_dataset_name(r->ds));
    if (L->dedupe && (st = sw_dataset_dedupe_train(r->ds, &r->res->duplicates, r->err))) return st;
    sw_probe p = {0};
    if (sw_subsample_needs_scores(&L->sub) || L->cur_spec.kind == SW_CURRICULUM_DIFFICULTY) {
        if ((st = run_probe(r, L, spec, op, &p))) return st;
        if (L->cur_spec.kind == SW_CURRICULUM_DIFFICULTY) {
            if (!(L->difficulty = malloc(sizeof(double) * (p.n ? p.n : 1)))) st = sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
            else sw_probe_scores(&p, L->cur_spec.score, L->difficulty);
        }
    }
    if (!st && L->sub.kind != SW_SUBSAMPLE_NONE) st = select_examples(r, L, &p);
    sw_probe_free(&p);
    if (st) return st;
    r->res->train_examples = sw_dataset_count(r->ds, SW_SPLIT_TRAIN);
    r->res->train_fingerprint = sw_dataset_train_fingerprint(r->ds);
    if (L->sub.kind != SW_SUBSAMPLE_NONE) sw_subsample_format(&L->sub, r->res->subsample, sizeof r->res->subsample);
    if (L->cur_spec.kind != SW_CURRICULUM_NONE)
        sw_curriculum_format(&L->cur_spec, r->res->curriculum, sizeof r->res->curriculum);
    if (L->dedupe || L->sub.kind != SW_SUBSAMPLE_NONE) {
        sw_trainer_note(r, "training on %zu of %zu examples", r->res->train_examples, r->res->train_examples_all);
        /* the selection, for others to reproduce: rank 0 writes the run folder */
        char path[4200];
        snprintf(path, sizeof path, "%s/split.tsv", o->out_dir);
        if (r->rank == 0 && ((st = sw_make_dirs(o->out_dir, r->err)) || (st = sw_dataset_write_split(r->ds, path, r->err))))
            return st;
    }
    return SW_OK;
}

/* Each batcher item's curriculum key: its length or its example's score. */
static sw_status curriculum_keys(const sw_trainer *r, const sw_levers *L, double **out)
{
    const sw_batcher *b = &r->batcher;
    double *key = malloc(sizeof(double) * (b->n_items ? b->n_items : 1));
    if (!key) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < b->n_items; i++) {
        uint32_t e = b->item_example[i];
        if (L->cur_spec.kind == SW_CURRICULUM_DIFFICULTY) {
            key[i] = L->difficulty[e];
        } else {
            int li, lr;
            sw_dataset_input(r->ds, SW_SPLIT_TRAIN, e, &li);
            sw_dataset_ref(r->ds, SW_SPLIT_TRAIN, e, b->item_ref[i], &lr);
            key[i] = li + 1 + lr;
        }
    }
    *out = key;
    return SW_OK;
}

sw_status sw_trainer_levers_attach(sw_trainer *r)
{
    sw_levers *L = r->levers;
    if (!L) return SW_OK;
    sw_status st;
    if ((st = sw_augment_create(r->opt.augment, r->ds, sw_hash3(r->opt.seed, STREAM_AUG, 0), &L->aug, r->err)))
        return st;
    r->batcher.augment = L->aug;
    if (L->aug) snprintf(r->res->augment, sizeof r->res->augment, "%s", sw_augment_text(L->aug));
    if (L->cur_spec.kind != SW_CURRICULUM_NONE) {
        double *key = NULL;
        if ((st = curriculum_keys(r, L, &key))) return st;
        st = sw_curriculum_init(&L->cur, &L->cur_spec, key, r->batcher.n_items, r->opt.budget,
                                sw_hash3(r->opt.seed, STREAM_CURRICULUM, 0), &r->tokens, r->err);
        free(key);
        if (st) return st;
        r->batcher.curriculum = &L->cur;
    }
    return SW_OK;
}

void sw_trainer_levers_config(const sw_trainer *r, void *config)
{
    const sw_levers *L = r->levers;
    json_t *c = config;
    if (!L) return;
    char buf[256], hex[24];
    if (L->dedupe) json_object_set_new(c, "dedupe", json_true());
    if (L->sub.kind != SW_SUBSAMPLE_NONE)
        json_object_set_new(c, "subsample", json_string(sw_subsample_format(&L->sub, buf, sizeof buf)));
    if (L->aug) json_object_set_new(c, "augment", json_string(sw_augment_text(L->aug)));
    if (L->cur_spec.kind != SW_CURRICULUM_NONE)
        json_object_set_new(c, "curriculum", json_string(sw_curriculum_format(&L->cur_spec, buf, sizeof buf)));
    if (L->dedupe || L->sub.kind != SW_SUBSAMPLE_NONE) {
        json_object_set_new(c, "train_examples", json_integer((json_int_t)r->res->train_examples));
        snprintf(hex, sizeof hex, "%016" PRIx64, r->res->train_fingerprint);
        json_object_set_new(c, "train_fingerprint", json_string(hex));
    }
}

void sw_trainer_levers_free(sw_trainer *r)
{
    sw_levers *L = r->levers;
    if (!L) return;
    sw_augment_free(L->aug);
    sw_curriculum_free(&L->cur);
    free(L->difficulty);
    free(L);
    r->levers = NULL;
}
