/* Branch results in a curve: the annealed metric and the cooldown's tokens
 * at fork points, in columns named after the cooldown
 * ("val_em_annealed:c=0.1:shape=linear", "anneal_tokens:c=0.1:shape=linear";
 * docs/STOPPING.md, "Stop and anneal"), the prediction between forks, and its
 * leave-one-fork-out error. Nothing here allocates. */
#include "stop/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sw_status sw_anneal_family_open(const sw_curve *c, const char *metric, double frac, sw_cooldown_shape shape,
                                sw_anneal_family *f, sw_error *err)
{
    memset(f, 0, sizeof *f);
    f->curve = c;
    f->frac = frac;
    f->n = sw_curve_len(c);
    f->tokens = sw_curve_tokens(c);
    char name[160], why[200];
    sw_anneal_column(metric, frac, shape, name, sizeof name);
    sw_snprintf(why, sizeof why, "the policy's cooldown=%g:shape=%s is scored with the branches' results", frac,
             sw_cooldown_shape_name(shape));
    sw_status st = sw_curve_require(c, name, why, err);
    if (st) return st;
    f->em = sw_curve_column(c, name, &f->em_present);
    sw_anneal_column(NULL, frac, shape, name, sizeof name);
    if ((st = sw_curve_require(c, name, why, err))) return st;
    f->tok = sw_curve_column(c, name, &f->tok_present);
    f->base = sw_curve_column(c, metric, NULL);
    if (!f->base) return sw_curve_require(c, metric, "the metric the branches anneal", err);
    for (size_t k = 0; k < f->n; k++) f->n_forks += sw_anneal_is_fork(f, k, (size_t)-1);
    if (!f->n_forks) {
        const char *src = sw_curve_source(c)[0] ? sw_curve_source(c) : "(curve)";
        sw_anneal_column(metric, frac, shape, name, sizeof name);
        return sw_error_set(err, SW_ERR_FORMAT, "%s: column '%s' has no fork result (every cell is empty or not finite)",
                            src, name);
    }
    return SW_OK;
}

int sw_anneal_is_fork(const sw_anneal_family *f, size_t k, size_t skip)
{
    return k != skip && f->em_present[k] && isfinite(f->em[k]);
}

/* Best-so-far of the base metric up to k (-inf before the first finite).
 * O(k); replay's scan (sw_anneal_scan) keeps it running instead. */
static double best_upto(const sw_anneal_family *f, size_t k)
{
    double b = -INFINITY;
    for (size_t q = 0; q <= k; q++)
        if (isfinite(f->base[q]) && f->base[q] > b) b = f->base[q];
    return b;
}

/* The cooldown gain at fork j: annealed - best so far. */
static double gain_at(const sw_anneal_family *f, size_t j)
{
    return f->em[j] - best_upto(f, j);
}

double sw_anneal_predict(const sw_anneal_family *f, size_t k, size_t skip)
{
    /* the neighbouring forks (skip excluded): p before k, q after */
    size_t p = (size_t)-1, q = (size_t)-1;
    for (size_t j = k + 1; j-- > 0;)
        if (j != k && sw_anneal_is_fork(f, j, skip)) {
            p = j;
            break;
        }
    for (size_t j = k + 1; j < f->n; j++)
        if (sw_anneal_is_fork(f, j, skip)) {
            q = j;
            break;
        }
    double b = best_upto(f, k);
    if (!isfinite(b)) return NAN;
    if (p == (size_t)-1 && q == (size_t)-1) return NAN;
    if (p == (size_t)-1) return b + gain_at(f, q);
    if (q == (size_t)-1) return b + gain_at(f, p);
    double gp = gain_at(f, p), gq = gain_at(f, q);
    double w = (double)(f->tokens[k] - f->tokens[p]) / (double)(f->tokens[q] - f->tokens[p]);
    return b + gp + (gq - gp) * w;
}

/* ---- one pass over every evaluation (replay) ---------------------------------- */

static size_t next_fork(const sw_anneal_family *f, size_t from)
{
    for (size_t j = from; j < f->n; j++)
        if (sw_anneal_is_fork(f, j, (size_t)-1)) return j;
    return (size_t)-1;
}

void sw_anneal_scan_init(const sw_anneal_family *f, sw_anneal_scan *s)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    s->b = -INFINITY;
    s->p = (size_t)-1;
    s->q = next_fork(f, 0);
    s->bq = -INFINITY;
    if (s->q != (size_t)-1) {
        for (size_t j = 0; j <= s->q; j++)
            if (isfinite(f->base[j]) && f->base[j] > s->bq) s->bq = f->base[j];
        s->gq = f->em[s->q] - s->bq;
    }
}

void sw_anneal_scan_next(sw_anneal_scan *s, double *em, uint64_t *tokens, int *predicted)
{
    const sw_anneal_family *f = s->f;
    size_t k = s->k++;
    if (isfinite(f->base[k]) && f->base[k] > s->b) s->b = f->base[k];
    if (k == s->q) {
        /* k is the next fork: it becomes the previous one; find the next */
        s->p = k;
        s->gp = s->gq;
        s->q = next_fork(f, k + 1);
        if (s->q != (size_t)-1) {
            double bq = s->b;
            for (size_t j = k + 1; j <= s->q; j++)
                if (isfinite(f->base[j]) && f->base[j] > bq) bq = f->base[j];
            s->gq = f->em[s->q] - bq;
        }
    }
    int fork = sw_anneal_is_fork(f, k, (size_t)-1);
    if (predicted) *predicted = !fork;
    if (em) {
        if (fork) *em = f->em[k];
        else if (!isfinite(s->b)) *em = NAN;
        else if (s->p == (size_t)-1) *em = s->b + s->gq;
        else if (s->q == (size_t)-1) *em = s->b + s->gp;
        else {
            double w = (double)(f->tokens[k] - f->tokens[s->p]) / (double)(f->tokens[s->q] - f->tokens[s->p]);
            *em = s->b + s->gp + (s->gq - s->gp) * w;
        }
    }
    if (tokens) {
        if (fork && f->tok_present[k] && isfinite(f->tok[k]) && f->tok[k] >= 0)
            *tokens = (uint64_t)llround(f->tok[k]);
        else
            *tokens = (uint64_t)llround(f->frac * (double)f->tokens[k]);
    }
}

sw_status sw_anneal_loo(const sw_curve *c, const char *metric, double frac, sw_cooldown_shape shape, sw_anneal_error *out,
                        sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->mae = out->rmse = out->bias = out->max_abs = NAN;
    sw_anneal_family f;
    sw_status st = sw_anneal_family_open(c, metric ? metric : "val_em", frac, shape, &f, err);
    if (st) return st;
    out->n_forks = f.n_forks;
    double sa = 0, s2 = 0, s1 = 0, mx = 0;
    size_t n = 0;
    for (size_t j = 0; j < f.n && f.n_forks >= 2; j++) {
        if (!sw_anneal_is_fork(&f, j, (size_t)-1)) continue;
        double pred = sw_anneal_predict(&f, j, j);
        if (!isfinite(pred)) continue;
        double e = pred - f.em[j];
        sa += fabs(e);
        s2 += e * e;
        s1 += e;
        if (fabs(e) > mx) mx = fabs(e);
        n++;
    }
    out->n = n;
    if (n) {
        out->mae = sa / (double)n;
        out->rmse = sqrt(s2 / (double)n);
        out->bias = s1 / (double)n;
        out->max_abs = mx;
    }
    return SW_OK;
}

size_t sw_curve_cooldowns(const sw_curve *c, const char *metric, double *frac, sw_cooldown_shape *shape, size_t cap)
{
    if (!metric) metric = "val_em";
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s_annealed:c=", metric);
    size_t pl = strlen(prefix), n = 0;
    for (size_t i = 0; i < sw_curve_n_columns(c); i++) {
        const char *name = sw_curve_column_name(c, i);
        if (strncmp(name, prefix, pl)) continue;
        char *end;
        double v = strtod(name + pl, &end);
        sw_cooldown_shape sh;
        if (end == name + pl || strncmp(end, ":shape=", 7) || sw_cooldown_shape_parse(end + 7, &sh) || !(v > 0 && v <= 1))
            continue;
        char canon[160], tcol[160];
        sw_anneal_column(metric, v, sh, canon, sizeof canon);
        if (strcmp(canon, name)) continue; /* C written as %g, as the writers do */
        sw_anneal_column(NULL, v, sh, tcol, sizeof tcol);
        if (!sw_curve_column(c, tcol, NULL)) continue; /* a family needs both columns */
        if (n < cap) {
            if (frac) frac[n] = v;
            if (shape) shape[n] = sh;
        }
        n++;
    }
    return n;
}
