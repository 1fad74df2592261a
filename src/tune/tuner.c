/* The tuner: candidates of every family replayed on every curve once, then
 * selection (select.c) inside a K-fold cross-validation, per family and over
 * all families, then the final choice on all curves and the Pareto frontier.
 * The replay is the expensive part and is shared by every fold: a fold only
 * re-reads the table, so CV costs almost nothing beyond one replay pass. */
#include "tune/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sw_tune_options sw_tune_default_options(void)
{
    sw_tune_options o;
    memset(&o, 0, sizeof o);
    o.epsilon = 0.5;
    o.lambda = 0;
    o.objective = SW_TUNE_OBJECTIVE_CONSTRAINED;
    o.folds = 0;
    o.budget = 0;
    o.families = (1u << SW_TUNE_FAMILY_COUNT) - 1;
    return o;
}

const char *sw_tune_objective_name(sw_tune_objective o)
{
    switch (o) {
    case SW_TUNE_OBJECTIVE_WORST: return "worst";
    case SW_TUNE_OBJECTIVE_PRICED: return "priced";
    default: return "constrained";
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The budget warm-up fractions refer to: the given one, else the median of
 * the curves' ends. */
static uint64_t reference_budget(const sw_curve *const *curves, size_t n, uint64_t budget)
{
    if (budget) return budget;
    uint64_t *ends = malloc(n * sizeof *ends);
    if (!ends) return 0;
    for (size_t i = 0; i < n; i++) ends[i] = sw_curve_tokens(curves[i])[sw_curve_len(curves[i]) - 1];
    qsort(ends, n, sizeof *ends, cmp_u64);
    uint64_t m = ends[n / 2];
    free(ends);
    return m;
}

static void table_free(sw_tune_table *t)
{
    sw_tune_texts_free(t->texts, t->n_pol);
    free(t->family);
    free(t->cells);
}

static sw_status table_build(const sw_curve *const *curves, size_t n, const sw_tune_options *opt, sw_tune_table *t,
                             double *seconds, sw_error *err)
{
    memset(t, 0, sizeof *t);
    uint64_t ref = reference_budget(curves, n, opt->budget);
    size_t cap = 1;
    char **all = malloc(sizeof *all);
    int *fam = malloc(sizeof *fam);
    if (!all || !fam || !(all[0] = strdup("none"))) {
        free(all);
        free(fam);
        return sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
    }
    fam[0] = -1;
    t->n_pol = 1;
    t->texts = all;
    t->family = fam;
    for (int f = 0; f < SW_TUNE_FAMILY_COUNT; f++) {
        if (!(opt->families & (1u << f))) continue;
        char **v;
        size_t k;
        sw_status st = sw_tune_candidates(f, ref, opt->warmups, opt->n_warmups, &v, &k, err);
        if (st) return st;
        if (t->n_pol + k > cap) {
            cap = t->n_pol + k;
            char **na = realloc(t->texts, cap * sizeof *na);
            if (na) t->texts = na;
            int *nf = na ? realloc(t->family, cap * sizeof *nf) : NULL;
            if (nf) t->family = nf;
            if (!na || !nf) {
                sw_tune_texts_free(v, k);
                return sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
            }
        }
        for (size_t i = 0; i < k; i++) {
            t->texts[t->n_pol] = v[i];
            t->family[t->n_pol++] = f;
        }
        free(v);
    }
    t->n_cur = n;
    t->cells = calloc(t->n_pol * n, sizeof *t->cells);
    sw_policy **pol = calloc(t->n_pol, sizeof *pol);
    sw_status st = SW_OK;
    if (!t->cells || !pol) st = sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
    for (size_t p = 0; !st && p < t->n_pol; p++) {
        sw_error pe; /* err may be NULL */
        if ((st = sw_policy_parse(t->texts[p], &pol[p], &pe)))
            st = sw_error_set(err, SW_ERR_INTERNAL, "tune: candidate '%s' does not parse: %s", t->texts[p], pe.msg);
    }
    if (!st) {
        double t0 = sw_now();
        st = sw_tune_replay_table((const sw_policy *const *)pol, t->n_pol, curves, n, opt->budget, opt->threads,
                                  t->cells, err);
        *seconds = sw_now() - t0;
    }
    for (size_t p = 0; pol && p < t->n_pol; p++) sw_policy_free(pol[p]);
    free(pol);
    return st;
}

static sw_status point_set(sw_tune_point *pt, const sw_tune_table *t, size_t p, const sw_tune_agg *a)
{
    pt->policy = strdup(t->texts[p]);
    pt->family = t->family[p];
    pt->tokens_fraction = a->tokens_fraction;
    pt->shortfall = a->shortfall;
    pt->worst_shortfall = a->worst_shortfall;
    pt->mean_tokens = a->mean_tokens;
    return pt->policy ? SW_OK : SW_ERR_NOMEM;
}

/* Cross-validates selection among `cand`: held-out means into *f, *s, *w;
 * when folds_out is non-NULL, each fold's record (marks instrumented). */
static sw_status cross_validate(const sw_tune_table *t, const size_t *cand, size_t n_cand, size_t k_folds,
                                const sw_tune_options *opt, sw_tune_fold *folds_out, double *f, double *s, double *w)
{
    size_t n = t->n_cur;
    size_t *train = malloc(n * sizeof *train), *test = malloc(n * sizeof *test);
    if (!train || !test) {
        free(train);
        free(test);
        return SW_ERR_NOMEM;
    }
    double sf = 0, ss = 0, worst = 0;
    size_t scored = 0;
    for (size_t k = 0; k < k_folds; k++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % k_folds == k)
                test[nte++] = i;
            else
                train[ntr++] = i;
        }
        unsigned char *chose = folds_out ? folds_out[k].chose_on : NULL;
        unsigned char *scoredm = folds_out ? folds_out[k].scored_on : NULL;
        size_t p = sw_tune_select(t, cand, n_cand, train, ntr, opt, chose, NULL);
        sw_tune_agg a;
        sw_tune_aggregate(t, p, test, nte, scoredm, &a);
        sf += a.tokens_fraction * (double)nte;
        ss += a.shortfall * (double)nte;
        if (a.worst_shortfall > worst) worst = a.worst_shortfall;
        scored += nte;
        if (folds_out) {
            folds_out[k].policy = strdup(t->texts[p]);
            folds_out[k].tokens_fraction = a.tokens_fraction;
            folds_out[k].shortfall = a.shortfall;
            if (!folds_out[k].policy) {
                free(train);
                free(test);
                return SW_ERR_NOMEM;
            }
        }
    }
    *f = sf / (double)scored;
    *s = ss / (double)scored;
    *w = worst;
    free(train);
    free(test);
    return SW_OK;
}

typedef struct pidx {
    size_t p;
    sw_tune_agg a;
} pidx;

static int cmp_pareto(const void *x, const void *y)
{
    const pidx *a = x, *b = y;
    if (a->a.tokens_fraction != b->a.tokens_fraction) return a->a.tokens_fraction < b->a.tokens_fraction ? -1 : 1;
    if (a->a.shortfall != b->a.shortfall) return a->a.shortfall < b->a.shortfall ? -1 : 1;
    return a->p < b->p ? -1 : a->p > b->p;
}

/* Non-dominated candidates by (mean tokens fraction, mean shortfall), both
 * minimised, over all curves: sorted by tokens, each kept point loses less
 * EM than every cheaper one. */
static sw_status pareto(const sw_tune_table *t, const size_t *all, sw_tune_report *r)
{
    pidx *v = malloc(t->n_pol * sizeof *v);
    r->pareto = calloc(t->n_pol, sizeof *r->pareto);
    if (!v || !r->pareto) {
        free(v);
        return SW_ERR_NOMEM;
    }
    for (size_t p = 0; p < t->n_pol; p++) {
        v[p].p = p;
        sw_tune_aggregate(t, p, all, t->n_cur, NULL, &v[p].a);
    }
    qsort(v, t->n_pol, sizeof *v, cmp_pareto);
    double best_s = INFINITY;
    sw_status st = SW_OK;
    for (size_t i = 0; i < t->n_pol && !st; i++) {
        if (v[i].a.shortfall < best_s) {
            best_s = v[i].a.shortfall;
            st = point_set(&r->pareto[r->n_pareto++], t, v[i].p, &v[i].a);
        }
    }
    free(v);
    return st;
}

sw_status sw_tune_run(const sw_curve *const *curves, size_t n, const sw_tune_options *opt_in, sw_tune_report **out,
                      sw_error *err)
{
    *out = NULL;
    sw_tune_options opt = opt_in ? *opt_in : sw_tune_default_options();
    if (!opt.families) opt.families = (1u << SW_TUNE_FAMILY_COUNT) - 1;
    sw_status st = sw_tune_check(curves, n, &opt, err);
    if (st) return st;
    sw_tune_report *r = calloc(1, sizeof *r);
    if (!r) return sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
    sw_tune_table t;
    double secs = 0;
    if ((st = table_build(curves, n, &opt, &t, &secs, err))) {
        table_free(&t);
        free(r);
        return st;
    }
    size_t k_folds = opt.folds ? (size_t)opt.folds : n;
    r->n_curves = n;
    r->n_candidates = t.n_pol;
    r->n_folds = k_folds;
    r->epsilon = opt.epsilon;
    r->lambda = opt.lambda;
    r->objective = opt.objective;
    r->budget = opt.budget;
    r->replay_seconds = secs;
    r->n_replays = t.n_pol * n;

    size_t *all = malloc(n * sizeof *all), *rows = malloc(t.n_pol * sizeof *rows);
    r->folds = calloc(k_folds, sizeof *r->folds);
    if (!all || !rows || !r->folds) goto oom;
    for (size_t i = 0; i < n; i++) all[i] = i;
    for (size_t k = 0; k < k_folds; k++) {
        r->folds[k].chose_on = calloc(n, 1);
        r->folds[k].scored_on = calloc(n, 1);
        if (!r->folds[k].chose_on || !r->folds[k].scored_on) goto oom;
    }

    /* overall: every candidate, "none" (row 0) first */
    for (size_t p = 0; p < t.n_pol; p++) rows[p] = p;
    if (cross_validate(&t, rows, t.n_pol, k_folds, &opt, r->folds, &r->cv_tokens_fraction, &r->cv_shortfall,
                       &r->cv_worst_shortfall))
        goto oom;
    sw_tune_agg a;
    size_t p = sw_tune_select(&t, rows, t.n_pol, all, n, &opt, NULL, &a);
    if (point_set(&r->chosen, &t, p, &a)) goto oom;

    /* per family: its own grid, with "none" as the fallback when nothing in
     * the grid is feasible */
    for (int f = 0; f < SW_TUNE_FAMILY_COUNT; f++) {
        if (!(opt.families & (1u << f))) continue;
        size_t nc = 0;
        for (size_t q = 0; q < t.n_pol; q++)
            if (t.family[q] == f) rows[nc++] = q;
        sw_tune_family_report *fr = &r->families[r->n_families++];
        fr->family = f;
        fr->n_candidates = nc;
        rows[nc++] = 0;
        if (cross_validate(&t, rows, nc, k_folds, &opt, NULL, &fr->cv_tokens_fraction, &fr->cv_shortfall,
                           &fr->cv_worst_shortfall))
            goto oom;
        p = sw_tune_select(&t, rows, nc, all, n, &opt, NULL, &a);
        if (point_set(&fr->chosen, &t, p, &a)) goto oom;
    }
    if (pareto(&t, all, r)) goto oom;
    free(all);
    free(rows);
    table_free(&t);
    *out = r;
    return SW_OK;
oom:
    free(all);
    free(rows);
    table_free(&t);
    sw_tune_report_free(r);
    return sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
}

void sw_tune_report_free(sw_tune_report *r)
{
    if (!r) return;
    free(r->chosen.policy);
    for (size_t i = 0; i < r->n_families; i++) free(r->families[i].chosen.policy);
    if (r->folds) {
        for (size_t k = 0; k < r->n_folds; k++) {
            free(r->folds[k].policy);
            free(r->folds[k].chose_on);
            free(r->folds[k].scored_on);
        }
    }
    free(r->folds);
    for (size_t i = 0; i < r->n_pareto; i++) free(r->pareto[i].policy);
    free(r->pareto);
    free(r);
}
