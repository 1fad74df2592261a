/* A run's evaluations: the fixed sample of the validation split's select half,
 * the cadence sized from measured costs, the raw and averaged weights side by
 * side, the paired test that confirms a stop, and the final report on both
 * halves. The formulas are in evalplan.h and docs/TRAINING.md. */
#include "stopwise/stop.h"
#include "train/evalplan.h"
#include "train/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Examples timed to measure the evaluation cost per example. */
enum { CALIBRATION_EXAMPLES = 128 };

/* A seeded permutation of 0..n-1 (malloc'd; NULL without memory). */
static uint32_t *seeded_order(size_t n, uint64_t seed)
{
    uint32_t *all = malloc(sizeof(uint32_t) * (n ? n : 1)), *order = malloc(sizeof(uint32_t) * (n ? n : 1));
    if (all && order) {
        for (size_t i = 0; i < n; i++) all[i] = (uint32_t)i;
        sw_eval_sample_order(all, n, seed, order);
    }
    free(all);
    if (!all) {
        free(order);
        return NULL;
    }
    return order;
}

sw_status sw_trainer_eval_setup(sw_trainer *r)
{
    sw_trainer_plan *p = &r->plan;
    size_t n = sw_dataset_count(r->ds, SW_SPLIT_VAL);
    if (n == 0) return sw_error_set(r->err, SW_ERR_INVALID, "%s: the validation split is empty", sw_dataset_name(r->ds));
    p->select = malloc(sizeof(uint32_t) * n);
    p->score = malloc(sizeof(uint32_t) * n);
    p->order = malloc(sizeof(uint32_t) * n);
    p->hits_a = malloc(n);
    p->hits_b = malloc(n);
    if (!p->select || !p->score || !p->order || !p->hits_a || !p->hits_b)
        return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    sw_eval_halves(n, r->opt.data_opt.seed, p->select, &p->n_select, p->score, &p->n_score);
    sw_eval_sample_order(p->select, p->n_select, r->opt.data_opt.seed, p->order);
    size_t nt = sw_dataset_count(r->ds, SW_SPLIT_TEST);
    if (nt) { /* the test sample (benchmarks, a sampled final report): a seeded permutation */
        if (!(p->test_order = seeded_order(nt, r->opt.data_opt.seed ^ 0x7e57)))
            return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
        p->n_test = r->opt.eval_test < nt ? r->opt.eval_test : nt;
    }
    if (!(p->score_order = seeded_order(p->n_score, r->opt.data_opt.seed ^ 0x5c0e)))
        return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < p->n_score; i++) p->score_order[i] = p->score[p->score_order[i]];
    sw_average_spec spec;
    sw_status st = sw_average_spec_parse(r->opt.average, &spec, r->err);
    if (st) return st;
    if ((st = sw_average_init(&r->avg, &spec, sw_model_params(r->model), sw_model_num_params(r->model), r->err)))
        return st;
    if (!p->calibrated) { /* a resumed run restored its sizes */
        p->every = r->eval_every;
        p->n_sample = r->opt.eval_limit && r->opt.eval_limit < p->n_select ? r->opt.eval_limit : p->n_select;
        /* both given: nothing to measure */
        p->calibrated = r->opt.eval_every && r->opt.eval_limit;
        p->n_final = r->opt.final_limit ? r->opt.final_limit : SIZE_MAX;
    }
    p->n_confirm = 4 * p->n_sample < p->n_select ? 4 * p->n_sample : p->n_select;
    return SW_OK;
}

void sw_trainer_eval_start(sw_trainer *r)
{
    r->plan.t0 = sw_now();
    r->plan.tokens0 = r->tokens;
    r->plan.eval_s0 = r->eval_s;
}

void sw_trainer_eval_free(sw_trainer *r)
{
    sw_trainer_plan *p = &r->plan;
    free(p->select);
    free(p->score);
    free(p->order);
    free(p->hits_a);
    free(p->hits_b);
    free(p->test_order);
    free(p->score_order);
    sw_average_free(&r->avg);
}

uint64_t sw_trainer_eval_every(const sw_trainer *r) { return r->plan.every ? r->plan.every : r->eval_every; }

/* Sizes the cadence, the sample (unless `limit` fixes it) and the final
 * report from the measured costs (evalplan.h). */
static void apply_sizes(sw_trainer *r, double c_tok, double c_ex, size_t limit)
{
    sw_trainer_plan *p = &r->plan;
    sw_eval_sizing z = {.share = r->opt.eval_share,
                        .c_tok = c_tok,
                        .c_ex = c_ex,
                        .weight_sets = sw_average_on(&r->avg) ? 2 : 1,
                        .budget = r->opt.budget,
                        .every = r->opt.eval_every,
                        .limit = limit,
                        .n_select = p->n_select,
                        .n_score = p->n_score,
                        .n_test = sw_dataset_count(r->ds, SW_SPLIT_TEST),
                        .final_limit = r->opt.final_limit};
    sw_eval_sizes sz = sw_eval_size(&z);
    p->every = sz.every;
    p->n_sample = sz.sample;
    p->n_final = sz.final;
}

/* The first sizing timed an untrained model, whose answers end early; a
 * trained one decodes whole answers (about 4x the cost on cmudict). So after
 * each sized evaluation the cost is measured again, from that evaluation and
 * the training time so far, and the cadence raised (never lowered, and only
 * by more than a fifth, so it settles) when it no longer keeps the share. The
 * sample stays: every point of a curve reads the same examples. */
static void resize(sw_trainer *r, double eval_s, size_t examples)
{
    sw_trainer_plan *p = &r->plan;
    if (r->opt.eval_every || !examples || r->tokens <= p->tokens0) return;
    double train_s = sw_now() - p->t0 - (r->eval_s - p->eval_s0);
    uint64_t every = p->every;
    size_t final = p->n_final;
    apply_sizes(r, train_s / (double)(r->tokens - p->tokens0), eval_s / (double)examples, p->n_sample);
    if (p->every <= every + every / 5) { /* keeps the share, or only just not: keep the cadence */
        p->every = every;
        p->n_final = final;
        return;
    }
    r->next_eval += p->every - every;
    sw_trainer_note(r, "evaluation costs %.2f ms per example now: evaluating every %llu tokens",
                    1e3 * eval_s / (double)examples, (unsigned long long)p->every);
}

sw_status sw_trainer_eval_calibrate(sw_trainer *r)
{
    sw_trainer_plan *p = &r->plan;
    if (p->calibrated) return SW_OK;
    p->calibrated = 1;
    double train_s = sw_now() - p->t0;
    uint64_t trained = r->tokens - p->tokens0;
    size_t m = p->n_select < CALIBRATION_EXAMPLES ? p->n_select : CALIBRATION_EXAMPLES;
    sw_eval_result ev;
    double t = sw_now();
    sw_status st = sw_evaluate_subset(r->model, r->ds, SW_SPLIT_VAL, p->order, m, NULL, &ev, r->err);
    double eval_s = sw_now() - t;
    r->eval_s += eval_s;
    if (st) return st;
    apply_sizes(r, trained ? train_s / (double)trained : 0, eval_s / (double)m, r->opt.eval_limit);
    p->n_confirm = 4 * p->n_sample < p->n_select ? 4 * p->n_sample : p->n_select;
    /* the first evaluation moves to the new cadence */
    if (p->every > r->eval_every) r->next_eval = p->every;
    snprintf(r->note, sizeof r->note, "evaluating %zu of %zu validation examples every %llu tokens", p->n_sample,
             p->n_select + p->n_score, (unsigned long long)p->every);
    return SW_OK;
}

/* Evaluates the weights the model holds on order[0..n). */
static sw_status eval_sample(sw_trainer *r, size_t n, uint8_t *hits, sw_eval_result *ev)
{
    double t = sw_now();
    sw_status st = sw_evaluate_subset(r->model, r->ds, SW_SPLIT_VAL, r->plan.order, n, hits, ev, r->err);
    r->eval_s += sw_now() - t;
    return st;
}

sw_status sw_trainer_eval_test(sw_trainer *r, double *em)
{
    *em = NAN;
    if (!r->plan.n_test) return SW_OK;
    sw_eval_result ev;
    double t = sw_now();
    sw_status st = sw_evaluate_subset(r->model, r->ds, SW_SPLIT_TEST, r->plan.test_order, r->plan.n_test, NULL, &ev,
                                      r->err);
    r->eval_s += sw_now() - t;
    if (!st) *em = ev.em;
    return st;
}

/* Swaps the model's parameters with the best checkpoint's (again to undo). */
static void swap_best(sw_trainer *r)
{
    float *w = sw_model_params(r->model), *b = r->best_params;
    size_t n = sw_model_num_params(r->model);
    for (size_t i = 0; i < n; i++) {
        float t = w[i];
        w[i] = b[i];
        b[i] = t;
    }
}

sw_status sw_trainer_eval_point(sw_trainer *r, sw_trainer_point *pt)
{
    sw_average *a = &r->avg;
    float *w = sw_model_params(r->model);
    size_t n = sw_model_num_params(r->model);
    sw_eval_result raw, avg;
    sw_average_snapshot(a, w);
    double t0 = sw_now();
    sw_status st = eval_sample(r, r->plan.n_sample, NULL, &raw);
    if (st) return st;
    int use_avg = 0;
    pt->val_em_raw = raw.em;
    pt->val_em_avg = NAN;
    if (sw_average_on(a)) {
        sw_average_swap(a, w);
        st = eval_sample(r, r->plan.n_sample, NULL, &avg);
        sw_average_swap(a, w);
        if (st) return st;
        pt->val_em_avg = avg.em;
        use_avg = avg.em > raw.em || (avg.em == raw.em && avg.loss < raw.loss);
    }
    resize(r, sw_now() - t0, r->plan.n_sample * (sw_average_on(a) ? 2 : 1));
    const sw_eval_result *ev = use_avg ? &avg : &raw;
    pt->val_em = ev->em;
    pt->val_loss = ev->loss;
    pt->val_per = ev->per;
    pt->weights = use_avg;
    pt->n_eval = ev->n;
    if (use_avg) sw_average_swap(a, w);
    st = sw_trainer_eval_test(r, &pt->test_em);
    if (use_avg) sw_average_swap(a, w);
    if (st) return st;
    /* the best checkpoint: highest EM, ties broken by lower validation loss */
    if (ev->em > r->best_em || (ev->em == r->best_em && ev->loss < r->best_loss)) {
        r->best_em = ev->em;
        r->best_loss = ev->loss;
        r->best_tokens = r->tokens;
        r->best_weights = use_avg;
        if (use_avg) sw_average_swap(a, w);
        memcpy(r->best_params, w, sizeof(float) * n);
        double em = r->last_val_em;
        r->last_val_em = ev->em; /* the checkpoint's metadata */
        st = sw_trainer_save_best(r);
        r->last_val_em = em;
        if (use_avg) sw_average_swap(a, w);
        if (st) return st;
    }
    return SW_OK;
}

/* Rules a paired test can confirm: those that say "no more gain". */
static int confirmable(const char *rule)
{
    return strcmp(rule, "diverge") && strcmp(rule, "budget") && strcmp(rule, "target") && rule[0];
}

sw_status sw_trainer_confirm_stop(sw_trainer *r, const sw_trainer_point *pt, int *stop)
{
    sw_trainer_plan *p = &r->plan;
    if (!*stop || r->opt.confirm_alpha <= 0 || r->in_cooldown || r->diverged || !confirmable(r->res->stop_rule) ||
        r->best_tokens == r->tokens)
        return SW_OK;
    size_t n = p->n_confirm;
    float *w = sw_model_params(r->model);
    sw_eval_result cur, best;
    if (pt->weights) sw_average_swap(&r->avg, w);
    sw_status st = eval_sample(r, n, p->hits_a, &cur);
    if (pt->weights) sw_average_swap(&r->avg, w);
    if (st) return st;
    swap_best(r);
    st = eval_sample(r, n, p->hits_b, &best);
    swap_best(r);
    if (st) return st;
    size_t b = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        b += p->hits_a[i] && !p->hits_b[i];
        c += !p->hits_a[i] && p->hits_b[i];
    }
    double pval = sw_eval_sign_test(b, c);
    p->confirmations++;
    char test[200];
    sw_snprintf(test, sizeof test, "paired sign test on %zu examples: current %.2f vs best %.2f EM, %zu vs %zu, p = %.3g",
             n, cur.em, best.em, b, c, pval);
    if (pval < r->opt.confirm_alpha) { /* the current weights are better: the stop is refuted */
        p->vetoes++;
        r->curve[r->n_curve - 1].vetoed = 1;
        sw_snprintf(r->note, sizeof r->note, "%.200s not confirmed (%s < %g): continuing", r->res->stop_reason, test,
                 r->opt.confirm_alpha);
        r->res->stop_rule[0] = r->res->stop_reason[0] = 0;
        *stop = 0;
        return sw_trainer_hooks_rebuild(r);
    }
    size_t len = strlen(r->res->stop_reason);
    snprintf(r->res->stop_reason + len, sizeof r->res->stop_reason - len, "; confirmed by a %s", test);
    return SW_OK;
}

sw_status sw_trainer_eval_final(sw_trainer *r, sw_eval_result *val, sw_eval_result *test)
{
    sw_trainer_plan *p = &r->plan;
    size_t n = sw_dataset_count(r->ds, SW_SPLIT_VAL), nt = sw_dataset_count(r->ds, SW_SPLIT_TEST);
    sw_train_result *res = r->res;
    sw_status st;
    if (p->n_final == SIZE_MAX || (p->n_final >= p->n_score && p->n_final >= nt)) {
        uint8_t *hits = malloc(n ? n : 1);
        if (!hits) return sw_error_set(r->err, SW_ERR_NOMEM, "out of memory");
        st = sw_evaluate_subset(r->model, r->ds, SW_SPLIT_VAL, NULL, n, hits, val, r->err);
        if (!st) {
            size_t cs = 0, cc = 0;
            for (size_t i = 0; i < p->n_select; i++) cs += hits[p->select[i]];
            for (size_t i = 0; i < p->n_score; i++) cc += hits[p->score[i]];
            res->select_em = p->n_select ? 100.0 * (double)cs / (double)p->n_select : -1;
            res->score_em = p->n_score ? 100.0 * (double)cc / (double)p->n_score : -1;
        }
        free(hits);
        if (!st) st = sw_evaluate(r->model, r->ds, SW_SPLIT_TEST, 0, test, r->err);
        res->final_sample = 0;
    } else {
        /* sampled: the select half's EM is the best checkpoint's on the
         * periodic sample; the score half and the test split are read on
         * their seeded samples; val_em weighs the halves by their sizes */
        size_t ns = p->n_final < p->n_score ? p->n_final : p->n_score;
        size_t ntest = p->n_final < nt ? p->n_final : nt;
        st = sw_evaluate_subset(r->model, r->ds, SW_SPLIT_VAL, p->score_order, ns, NULL, val, r->err);
        if (!st) st = sw_evaluate_subset(r->model, r->ds, SW_SPLIT_TEST, p->test_order, ntest, NULL, test, r->err);
        if (!st) {
            res->select_em = r->best_em;
            res->score_em = ns ? val->em : -1;
            val->em = ((double)p->n_select * r->best_em + (double)p->n_score * (ns ? val->em : 0)) / (double)n;
            res->final_sample = p->n_final;
        }
    }
    /* the test EM's standard error, with the finite-population correction (0 when read whole) */
    size_t read = res->final_sample && res->final_sample < nt ? res->final_sample : nt;
    double q = test->em / 100;
    res->test_se = read && nt > 1 ? 100 * sqrt(q * (1 - q) / (double)read * (double)(nt - read) / (double)(nt - 1)) : 0;
    snprintf(res->weights, sizeof res->weights, "%s", r->best_weights ? sw_average_name(r->avg.spec.kind) : "raw");
    res->eval_every = p->every;
    res->eval_sample = p->n_sample;
    res->confirmations = p->confirmations;
    res->vetoes = p->vetoes;
    return st;
}
