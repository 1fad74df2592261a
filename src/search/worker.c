/* A worker: claims trials of a study from the store and trains each one
 * segment by segment through the caller's runner, pausing at every decision
 * point to report its value and ask the pruner (search.h).
 *
 * Determinism: a trial's configuration is fixed when it is created (its
 * point is stored), its training seed is the study's, its evaluation cadence
 * follows from the decision points, and the runner fixes the thread count;
 * so the curve a trial trains does not depend on which worker runs it, or
 * on how often it was re-queued. Pruning decisions read the other trials'
 * values as they are at that moment, as in any asynchronous search. */
#include "internal.h"

#include "stopwise/stop.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_POINTS 64

typedef struct cached_curve {
    int64_t run_id;
    sw_curve *curve;
} cached_curve;

typedef struct worker {
    sw_store *s;
    int64_t study_id;
    const char *study;
    const sw_space *space;
    const sw_search_settings *set;
    const sw_search_runner *runner;
    const sw_search_worker_options *o;
    sw_error *err;
    /* the trial in hand */
    int64_t number, tries;
    double last_beat;
    /* the finished trials' curves, for the policy pruner's calibration */
    cached_curve *curves;
    size_t n_curves, cap_curves;
} worker;

static void say(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(worker *w, const char *fmt, ...)
{
    if (!w->o->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    sw_vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    w->o->log(line, w->o->log_user);
}

static void nap(double seconds)
{
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
}

/* ---- points as JSON ---------------------------------------------------------------- */

static char *point_json(const double *p, size_t n)
{
    size_t cap = 2 + n * 34;
    char *s = malloc(cap), num[32];
    if (!s) return NULL;
    size_t k = 0;
    s[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        k += (size_t)snprintf(s + k, cap - k, "%s%s", i ? ", " : "", sw_format_double(p[i], num, sizeof num));
    }
    snprintf(s + k, cap - k, "]");
    return s;
}

/* ---- proposing a new trial (inside the claim's transaction) ------------------------------- */

static sw_status propose(int64_t number, const sw_store_search_trial *trials, size_t n, char **params, char **point,
                         int64_t *bracket, void *user)
{
    worker *w = user;
    size_t d = sw_space_n_dims(w->space);
    double *pts = malloc((n + 1) * (d ? d : 1) * sizeof *pts);
    sw_search_obs *obs = malloc((n ? n : 1) * sizeof *obs);
    sw_status st = pts && obs ? SW_OK : sw_error_set(w->err, SW_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; !st && i < n; i++) {
        const sw_store_search_trial *t = &trials[i];
        if (t->state != SW_STORE_TRIAL_COMPLETED && t->state != SW_STORE_TRIAL_PRUNED) continue;
        if ((st = sw_search_trial_point(t, d, pts + m * d, w->err))) break;
        obs[m] = (sw_search_obs){pts + m * d, sw_search_trial_score(w->set, t)};
        m++;
    }
    double *mine = pts ? pts + n * d : NULL;
    if (!st)
        st = sw_sampler_propose(&w->set->sampler, w->space, w->set->seed, (uint64_t)number, obs, m, mine, w->err);
    sw_space_config cfg = {0};
    if (!st) st = sw_space_config_make(w->space, mine, d, &cfg, w->err);
    if (!st) {
        *params = cfg.params_json;
        cfg.params_json = NULL;
        *point = point_json(mine, d);
        *bracket = sw_pruner_bracket(&w->set->pruner, w->set->budget, w->set->seed, (uint64_t)number);
        if (!*point) st = sw_error_set(w->err, SW_ERR_NOMEM, "out of memory");
    }
    sw_space_config_clear(&cfg);
    free(pts);
    free(obs);
    return st;
}

/* ---- running one trial ------------------------------------------------------------------- */

static int beat(void *ctx)
{
    worker *w = ctx;
    if (sw_now() - w->last_beat < w->o->beat_every_s) return 0;
    sw_status st = sw_store_search_heartbeat(w->s, w->study_id, w->number, w->o->worker, w->tries);
    if (st == SW_ERR_STATE) return 1;
    /* another failure (the store briefly away): try again next time; if it
     * stays away the trial is re-queued and the next update says so */
    if (!st) w->last_beat = sw_now();
    return 0;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The evaluation cadence: about budget/100 (train's own default), and a
 * divisor of every decision point, so an evaluation lands on each. */
static uint64_t cadence(uint64_t budget, const uint64_t *points, size_t n);

uint64_t sw_search_eval_every(const sw_search_settings *s, int bracket)
{
    uint64_t points[MAX_POINTS];
    size_t n = sw_pruner_points(&s->pruner, s->budget, bracket, points, MAX_POINTS);
    return cadence(s->budget, points, n < MAX_POINTS ? n : MAX_POINTS);
}

static uint64_t cadence(uint64_t budget, const uint64_t *points, size_t n)
{
    uint64_t base = budget / 100 ? budget / 100 : 1, g = 0;
    for (size_t i = 0; i < n; i++) g = gcd(points[i], g);
    if (!g) return base;
    uint64_t m = (uint64_t)llround((double)g / (double)base);
    if (m < 1) m = 1;
    return g / m ? g / m : 1;
}

static void result_free(sw_search_segment_result *r)
{
    free(r->curve_tokens);
    free(r->curve_em);
    memset(r, 0, sizeof *r);
}

static double best_of(const double *v, size_t n)
{
    double b = NAN;
    for (size_t i = 0; i < n; i++)
        if (v[i] == v[i] && !(v[i] <= b)) b = v[i];
    return b;
}

/* The completed trials' curves (cached: they never change) and the best
 * value among them, for the policy pruner. */
static sw_status finished_curves(worker *w, double *incumbent, size_t *n_finished, sw_forecaster **fc)
{
    sw_store_search_trial *all;
    size_t n;
    *incumbent = NAN;
    *n_finished = 0;
    *fc = NULL;
    sw_status st = sw_store_search_trials(w->s, w->study_id, &all, &n);
    if (st) return sw_error_set(w->err, st, "store: %s", sw_store_errmsg(w->s));
    const sw_curve **refs = malloc((n ? n : 1) * sizeof *refs);
    size_t n_refs = 0;
    for (size_t i = 0; refs && i < n; i++) {
        const sw_store_search_trial *t = &all[i];
        if (t->state != SW_STORE_TRIAL_COMPLETED) continue;
        (*n_finished)++;
        if (t->value == t->value && !(t->value <= *incumbent)) *incumbent = t->value;
        if (w->set->pruner.kind != SW_PRUNER_POLICY || t->run_id <= 0) continue;
        size_t k = 0;
        while (k < w->n_curves && w->curves[k].run_id != t->run_id) k++;
        if (k == w->n_curves) {
            sw_store_curve sc;
            if (sw_store_curve_get(w->s, t->run_id, &sc)) continue; /* removed meanwhile: calibrate without it */
            sw_curve *c = NULL;
            if (!sw_curve_create(&c, NULL)) {
                for (size_t e = 0; e < sc.n; e++) {
                    sw_metric m = {"val_em", sc.evals[e].val_em};
                    sw_eval ev = {sc.evals[e].tokens, sc.evals[e].step, sc.evals[e].wall_s, &m, 1};
                    if (sw_curve_append(c, &ev, NULL)) break;
                }
            }
            sw_store_curve_clear(&sc);
            if (!c || SW_ARRAY_RESERVE(w->curves, w->cap_curves, w->n_curves + 1)) {
                sw_curve_free(c);
                continue;
            }
            w->curves[w->n_curves++] = (cached_curve){t->run_id, c};
        }
        refs[n_refs++] = w->curves[k].curve;
    }
    if (refs && w->set->pruner.kind == SW_PRUNER_POLICY)
        st = sw_forecaster_create(refs, n_refs, "val_em", 1, SW_FORECAST_FIT, w->set->pruner.level, fc, w->err);
    free(refs);
    sw_store_search_trial_list_free(all, n);
    return st;
}

/* Asks the pruner at decision point k of the trial; *prune and reason out. */
static sw_status decide(worker *w, const sw_store_search_trial *t, size_t k, uint64_t point,
                        const sw_search_segment_result *r, double value, sw_pruner_decision *dec)
{
    const sw_pruner_options *po = &w->set->pruner;
    double *peers = NULL, incumbent = NAN;
    size_t n_peers = 0, n_finished = 0;
    sw_forecaster *fc = NULL;
    sw_status st = SW_OK;
    if (po->kind == SW_PRUNER_MEDIAN || po->kind == SW_PRUNER_POLICY) st = finished_curves(w, &incumbent, &n_finished, &fc);
    if (!st && po->kind != SW_PRUNER_POLICY) {
        int finished = po->kind == SW_PRUNER_MEDIAN;
        int64_t bracket = po->kind == SW_PRUNER_HYPERBAND ? t->bracket : -1;
        if ((st = sw_store_search_rung_values(w->s, w->study_id, (int64_t)k, bracket, finished, t->number, &peers, &n_peers)))
            st = sw_error_set(w->err, st, "store: %s", sw_store_errmsg(w->s));
    }
    if (!st) {
        sw_pruner_input in = {.rung = k, .tokens = point, .budget = w->set->budget, .value = value,
                              .peers = peers, .n_peers = n_peers, .n_finished = n_finished, .incumbent = incumbent,
                              .curve_tokens = r->curve_tokens, .curve_em = r->curve_em, .curve_n = r->curve_n,
                              .forecaster = fc};
        st = sw_pruner_decide(po, &in, dec, w->err);
    }
    sw_forecaster_free(fc);
    free(peers);
    return st;
}

/* Ends the trial in the store; a trial taken away meanwhile is no error. */
static sw_status finish(worker *w, const sw_store_search_end *end)
{
    sw_status st = sw_store_search_finish(w->s, w->study_id, w->number, w->o->worker, w->tries, end);
    if (st == SW_ERR_STATE) {
        say(w, "trial %lld: taken over by another worker (its heartbeat went stale); this try is dropped",
            (long long)w->number);
        return SW_OK;
    }
    return st ? sw_error_set(w->err, st, "store: %s", sw_store_errmsg(w->s)) : SW_OK;
}

/* The paused run of a pruned trial ends as pruned, with the reason. */
static void end_run_pruned(worker *w, const sw_search_segment_result *r, const char *reason)
{
    if (r->run_id < 0) return;
    size_t best = 0;
    for (size_t i = 1; i < r->curve_n; i++)
        if (r->curve_em[i] > r->curve_em[best]) best = i;
    sw_store_run_result res = {.status = SW_RUN_PRUNED, .stop_rule = "pruner", .stop_reason = reason,
                               .tokens = r->tokens, .best_tokens = r->curve_n ? r->curve_tokens[best] : 0,
                               .best_em = best_of(r->curve_em, r->curve_n), .val_em = NAN, .test_em = NAN};
    sw_store_run_end(w->s, r->run_id, &res); /* best effort: the trial's own row says pruned either way */
}

static sw_status run_trial(worker *w, const sw_store_search_trial *t, sw_search_work_stats *stats)
{
    size_t d = sw_space_n_dims(w->space);
    double *pt = malloc((d ? d : 1) * sizeof *pt);
    if (!pt) return sw_error_set(w->err, SW_ERR_NOMEM, "out of memory");
    sw_space_config cfg = {0};
    sw_status st = sw_search_trial_point(t, d, pt, w->err);
    if (!st) st = sw_space_config_make(w->space, pt, d, &cfg, w->err);
    free(pt);
    if (st) return st;
    w->number = t->number;
    w->tries = t->tries;
    w->last_beat = sw_now();
    say(w, "trial %lld (try %lld): %s", (long long)t->number, (long long)t->tries, cfg.params_json);
    uint64_t points[MAX_POINTS];
    size_t n_points = sw_pruner_points(&w->set->pruner, w->set->budget, (int)t->bracket, points, MAX_POINTS);
    if (n_points > MAX_POINTS) n_points = MAX_POINTS;
    sw_search_segment seg = {.study = w->study, .number = t->number, .attempt = t->tries, .config = &cfg,
                             .seed = w->set->seed, .budget = w->set->budget,
                             .stop = w->set->pruner.kind == SW_PRUNER_POLICY ? w->set->pruner.policy : NULL,
                             .eval_every = cadence(w->set->budget, points, n_points)};
    uint64_t before = 0; /* tokens already reported */
    sw_search_segment_result r = {0};
    for (size_t k = 0; k <= n_points; k++) {
        seg.stop_after = k < n_points ? points[k] : 0;
        seg.resume = k > 0;
        result_free(&r);
        r.run_id = -1;
        st = w->runner->run(w->runner->user, &seg, beat, w, &r, w->err);
        if (st == SW_ERR_STATE) { /* taken from us: the runner stopped the training */
            say(w, "trial %lld: taken over by another worker (its heartbeat went stale); this try is dropped",
                (long long)t->number);
            st = SW_OK;
            break;
        }
        if (st) {
            sw_error keep = *w->err;
            sw_store_search_end end = {SW_STORE_TRIAL_FAILED, NAN, NAN, NAN, r.tokens, 0, keep.msg};
            finish(w, &end);
            *w->err = keep;
            break;
        }
        uint64_t delta = r.tokens > before ? r.tokens - before : 0;
        before = r.tokens;
        stats->tokens += delta;
        if (k == 0 && r.run_id >= 0) {
            if ((st = sw_store_search_set_run(w->s, w->study_id, t->number, w->o->worker, t->tries, r.run_id))) {
                if (st == SW_ERR_STATE) {
                    st = SW_OK;
                    break;
                }
                st = sw_error_set(w->err, st, "store: %s", sw_store_errmsg(w->s));
                break;
            }
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)t->number);
            sw_store_tag_set(w->s, r.run_id, "study", w->study); /* best effort: the study link is the trial row's */
            sw_store_tag_set(w->s, r.run_id, "trial", num);
        }
        double value = best_of(r.curve_em, r.curve_n);
        if (!strcmp(r.status, "failed")) {
            sw_store_search_end end = {SW_STORE_TRIAL_FAILED, value, NAN, NAN, r.tokens, delta, r.reason};
            say(w, "trial %lld: failed: %s", (long long)t->number, r.reason);
            st = finish(w, &end);
            break;
        }
        if (strcmp(r.status, "interrupted")) { /* trained to its end: completed, stopped or diverged */
            sw_store_search_end end = {SW_STORE_TRIAL_COMPLETED, r.best_val_em, r.val_em, r.test_em, r.tokens, delta,
                                       r.reason[0] ? r.reason : NULL};
            char tok[32];
            say(w, "trial %lld: %s at %s tokens: best val EM %.2f, test EM %.2f", (long long)t->number, r.status,
                sw_format_tokens(r.tokens, tok, sizeof tok), r.best_val_em, r.test_em);
            st = finish(w, &end);
            break;
        }
        st = sw_store_search_report(w->s, w->study_id, t->number, w->o->worker, t->tries, (int64_t)k, r.tokens, value,
                                    delta);
        if (st == SW_ERR_STATE) {
            st = SW_OK;
            break;
        }
        if (st) {
            st = sw_error_set(w->err, st, "store: %s", sw_store_errmsg(w->s));
            break;
        }
        sw_pruner_decision dec;
        if ((st = decide(w, t, k, points[k], &r, value, &dec))) break;
        char tok[32];
        say(w, "trial %lld: rung %zu at %s tokens: EM %.2f: %s", (long long)t->number, k + 1,
            sw_format_tokens(points[k], tok, sizeof tok), value, dec.prune ? dec.reason : "goes on");
        if (dec.prune) {
            end_run_pruned(w, &r, dec.reason);
            sw_store_search_end end = {SW_STORE_TRIAL_PRUNED, value, NAN, NAN, r.tokens, 0, dec.reason};
            st = finish(w, &end);
            break;
        }
    }
    result_free(&r);
    sw_space_config_clear(&cfg);
    stats->trials++;
    return st;
}

sw_status sw_search_work(sw_store *store, int64_t study_id, const char *study, const sw_space *space,
                         const sw_search_settings *settings, const sw_search_runner *runner,
                         const sw_search_worker_options *opt, sw_search_work_stats *stats, sw_error *err)
{
    memset(stats, 0, sizeof *stats);
    if (!opt->worker || !*opt->worker) return sw_error_set(err, SW_ERR_INVALID, "a worker needs a name");
    worker w = {store, study_id, study, space, settings, runner, opt, err, -1, 0, 0, NULL, 0, 0};
    sw_store_search_claim_options co = {.worker = opt->worker, .stale_after_s = opt->stale_after_s,
                                        .max_tries = settings->max_tries, .max_trials = settings->max_trials,
                                        .total = settings->total, .propose = propose, .user_data = &w};
    sw_status st = SW_OK;
    for (;;) {
        sw_store_claim outcome;
        sw_store_search_trial t;
        sw_error_clear(err);
        st = sw_store_search_claim(store, study_id, &co, &outcome, &t);
        if (st) {
            /* a failed proposal left its own message in err */
            if (!err->msg[0]) sw_error_set(err, st, "store: %s", sw_store_errmsg(store));
            else sw_error_set(err, st, "%s", err->msg);
            break;
        }
        if (outcome == SW_STORE_CLAIM_DONE) break;
        if (outcome == SW_STORE_CLAIM_WAIT) {
            nap(opt->idle_sleep_s > 0 ? opt->idle_sleep_s : 0.5);
            continue;
        }
        st = run_trial(&w, &t, stats);
        sw_store_search_trial_clear(&t);
        if (st) break;
    }
    for (size_t i = 0; i < w.n_curves; i++) sw_curve_free(w.curves[i].curve);
    free(w.curves);
    return st;
}
