/* The tuner: candidates of every family replayed on every curve once, then
 * selection (select.c) inside a K-fold cross-validation, per family and over
 * all families, then the final choice on all curves and the Pareto frontier.
 * The replay is the expensive part and is shared by every fold: a fold only
 * re-reads the table, so CV costs almost nothing beyond one replay pass. */
#include "tune/internal.h"

#include <math.h>
#include <stdio.h>
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
    o.confidence = 0.9;
    o.bootstrap = 200;
    o.seed = 1;
    o.cooldowns = 1;
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

/* The cooldown families every curve carries (those of the first curve that
 * all the others have too), at most cap. */
static size_t common_cooldowns(const sw_curve *const *curves, size_t n, double *frac, sw_cooldown_shape *shape, size_t cap)
{
    size_t m = sw_curve_cooldowns(curves[0], NULL, frac, shape, cap), kept = 0;
    if (m > cap) m = cap;
    for (size_t j = 0; j < m; j++) {
        int everywhere = 1;
        for (size_t i = 1; i < n && everywhere; i++) {
            double f2[SW_TUNE_MAX_COOLDOWNS];
            sw_cooldown_shape s2[SW_TUNE_MAX_COOLDOWNS];
            size_t m2 = sw_curve_cooldowns(curves[i], NULL, f2, s2, SW_TUNE_MAX_COOLDOWNS), q = 0;
            if (m2 > SW_TUNE_MAX_COOLDOWNS) m2 = SW_TUNE_MAX_COOLDOWNS;
            while (q < m2 && !(f2[q] == frac[j] && s2[q] == shape[j])) q++;
            everywhere = q < m2;
        }
        if (everywhere) frac[kept] = frac[j], shape[kept] = shape[j], kept++;
    }
    return kept;
}

/* Appends `text` (owned: freed on failure) as a row of family f, once per
 * cooldown family (text + ",cooldown=C:shape=S"; "none" becomes the bare
 * cooldown), or as is without families. */
static int table_add(sw_tune_table *t, size_t *cap, char *text, int f, size_t n_cool, const double *frac,
                     const sw_cooldown_shape *shape)
{
    size_t need = t->n_pol + (n_cool ? n_cool : 1);
    if (need > *cap) { /* texts and family share one capacity */
        size_t nc = sw_array_grown_cap(*cap, need);
        if (SW_ARRAY_RESIZE(t->texts, nc) || SW_ARRAY_RESIZE(t->family, nc)) {
            free(text);
            return 0;
        }
        *cap = nc;
    }
    if (!n_cool) {
        t->texts[t->n_pol] = text;
        t->family[t->n_pol++] = f;
        return 1;
    }
    for (size_t j = 0; j < n_cool; j++) {
        char buf[384];
        int none = !strcmp(text, "none");
        sw_snprintf(buf, sizeof buf, "%s%scooldown=%g:shape=%s", none ? "" : text, none ? "" : ",", frac[j],
                 sw_cooldown_shape_name(shape[j]));
        if (!(t->texts[t->n_pol] = strdup(buf))) {
            free(text);
            return 0;
        }
        t->family[t->n_pol++] = f;
    }
    free(text);
    return 1;
}

static sw_status table_build(const sw_curve *const *curves, size_t n, const sw_tune_options *opt, sw_tune_table *t,
                             double *seconds, sw_tune_report *r, sw_error *err)
{
    memset(t, 0, sizeof *t);
    uint64_t ref = reference_budget(curves, n, opt->budget);
    size_t cap = 0, n_cool = 0;
    double *frac = r->cooldown_frac;
    sw_cooldown_shape *shape = r->cooldown_shape;
    if (opt->cooldowns) n_cool = common_cooldowns(curves, n, frac, shape, SW_TUNE_MAX_COOLDOWNS);
    r->n_cooldowns = n_cool;
    char *none = strdup("none");
    if (!none || !table_add(t, &cap, none, -1, n_cool, frac, shape))
        return sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
    t->n_none = t->n_pol;
    for (int f = 0; f < SW_TUNE_FAMILY_COUNT; f++) {
        if (!(opt->families & (1u << f))) continue;
        char **v;
        size_t k;
        sw_status st = sw_tune_candidates(f, ref, opt->warmups, opt->n_warmups, &v, &k, err);
        if (st) return st;
        for (size_t i = 0; i < k; i++) {
            if (!table_add(t, &cap, v[i], f, n_cool, frac, shape)) {
                for (size_t j = i + 1; j < k; j++) free(v[j]);
                free(v);
                return sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
            }
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

/* The binomial standard error of one EM measurement (report fields val_size,
 * em_se, epsilon_below_se): the validation size given, else the smallest
 * last `val_n` of the curves. */
static void standard_error(const sw_curve *const *curves, size_t n, const sw_tune_options *opt, sw_tune_report *r)
{
    size_t vn = opt->val_size;
    for (size_t i = 0; !opt->val_size && i < n; i++) {
        const double *col = sw_curve_column(curves[i], "val_n", NULL);
        size_t len = sw_curve_len(curves[i]);
        double last = NAN;
        for (size_t k = 0; col && k < len; k++)
            if (isfinite(col[k]) && col[k] >= 1) last = col[k];
        if (isfinite(last) && (!vn || (size_t)last < vn)) vn = (size_t)last;
    }
    r->val_size = vn;
    r->em_se = NAN;
    r->epsilon_below_se = 0;
    if (!vn) return;
    double p = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const double *em = sw_curve_column(curves[i], "val_em", NULL);
        double best = NAN;
        for (size_t k = 0; em && k < sw_curve_len(curves[i]); k++)
            if (isfinite(em[k]) && !(em[k] <= best)) best = em[k];
        if (isfinite(best)) p += best / 100, m++;
    }
    if (!m) return;
    p /= (double)m;
    if (p < 0) p = 0;
    if (p > 1) p = 1;
    r->em_se = 100 * sqrt(p * (1 - p) / (double)vn);
    r->epsilon_below_se = opt->objective != SW_TUNE_OBJECTIVE_PRICED && r->epsilon < r->em_se;
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
    if ((st = table_build(curves, n, &opt, &t, &secs, r, err))) {
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
    r->confidence = opt.objective == SW_TUNE_OBJECTIVE_CONSTRAINED ? opt.confidence : 0;
    r->bootstrap = opt.bootstrap;
    r->ucb_shortfall = sw_tune_ucb(&t, p, all, n, &opt);
    standard_error(curves, n, &opt, r);

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
        for (size_t q = 0; q < t.n_none; q++) rows[nc++] = q;
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
