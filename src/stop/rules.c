/* The rules, one function each: given the evaluation just appended to the
 * controller's history, update the rule's state and say whether it fires.
 * The formulas and their sources are in include/stopwise/stop.h; each
 * function follows its paragraph there line by line. */
#include "stop/internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Formats v as a short number for reasons. */
static const char *num(char *buf, double v)
{
    sw_snprintf(buf, 32, "%.4g", v);
    return buf;
}

static const char *tok(char *buf, uint64_t t)
{
    return sw_format_tokens(t, buf, 32);
}

static const char *loss_name(const sw_rule_ctx *x)
{
    if (x->pt->present & (1u << SW_SLOT_DIVERGE)) return x->c->diverge_on;
    return "val_loss";
}

/* Keras: improvement iff v > r + min_delta (strict, so a tie is none). */
static int rule_patience(const sw_rule_ctx *x, const sw_rule *r, sw_rule_state *s, char *reason, size_t cap)
{
    const sw_policy *p = &x->c->policy;
    char tb[32], nb[32];
    int improved = 0;
    if (isfinite(x->v)) {
        double thr = r->relative ? s->ref + fabs(s->ref) * r->min_delta / 100.0 : s->ref + r->min_delta;
        improved = !s->have_ref || x->v > thr;
    }
    if (improved) {
        s->ref = x->v;
        s->have_ref = 1;
        s->wait = 0;
        s->since = x->pt->tokens;
    } else {
        s->wait++;
    }
    if (s->wait < (long)r->value) return 0;
    char md[40];
    sw_format_double(r->min_delta, md, sizeof md);
    if (s->have_ref)
        snprintf(reason, cap, "patience: no %s improvement > %s%s for %ld evaluations since %s tokens (best %s)",
                 p->monitor, md, r->relative ? "%" : "", s->wait, tok(tb, s->since), num(nb, x->sign * x->best));
    else
        snprintf(reason, cap, "patience: no finite %s in %ld evaluations", p->monitor, s->wait);
    return 1;
}

static int rule_target(const sw_rule_ctx *x, const sw_rule *r, char *reason, size_t cap)
{
    char tb[32], nb[2][32];
    if (!(isfinite(x->v) && x->v >= x->sign * r->value)) return 0;
    snprintf(reason, cap, "target: %s %s reached %s at %s tokens", x->c->policy.monitor, num(nb[0], x->sign * x->v),
             num(nb[1], r->value), tok(tb, x->pt->tokens));
    return 1;
}

/* Returns 2 for a non-finite value (fires whatever the warm-up). */
static int rule_diverge(const sw_rule_ctx *x, const sw_rule *r, sw_rule_state *s, char *reason, size_t cap)
{
    const sw_point *pt = x->pt;
    char tb[32], nb[3][32];
    const char *bad = NULL;
    double badv = 0;
    if (!isfinite(pt->v[SW_SLOT_MONITOR])) bad = x->c->policy.monitor, badv = pt->v[SW_SLOT_MONITOR];
    else if ((pt->present & (1u << SW_SLOT_TRAIN_LOSS)) && !isfinite(pt->v[SW_SLOT_TRAIN_LOSS]))
        bad = "train_loss", badv = pt->v[SW_SLOT_TRAIN_LOSS];
    else if ((pt->present & (1u << SW_SLOT_VAL_LOSS)) && !isfinite(pt->v[SW_SLOT_VAL_LOSS]))
        bad = "val_loss", badv = pt->v[SW_SLOT_VAL_LOSS];
    else if (x->have_L && !isfinite(x->L)) bad = loss_name(x), badv = x->L;
    const double L = x->L;
    int had = s->have_ref;
    if (x->have_L && isfinite(L) && (!s->have_ref || L < s->ref)) s->ref = L, s->have_ref = 1;
    if (bad) {
        snprintf(reason, cap, "diverge: %s is %s at %s tokens", bad, num(nb[0], badv), tok(tb, pt->tokens));
        return 2;
    }
    if (x->have_L && (r->set & SW_OPT_MAX) && L > r->max_loss) {
        snprintf(reason, cap, "diverge: %s %s above %s at %s tokens", loss_name(x), num(nb[0], L),
                 num(nb[1], r->max_loss), tok(tb, pt->tokens));
        return 1;
    }
    if (x->have_L && (r->set & SW_OPT_FACTOR) && had && L > r->factor * s->ref) {
        snprintf(reason, cap, "diverge: %s %s above %s x its best %s at %s tokens", loss_name(x), num(nb[0], L),
                 num(nb[1], r->factor), num(nb[2], s->ref), tok(tb, pt->tokens));
        return 1;
    }
    return 0;
}

/* Prechelt 1998: E_opt(t) = min E_va, GL(t) = 100 (E_va(t)/E_opt(t) - 1).
 * Updates E_opt and returns GL, or NAN when E_va is not finite. */
static double prechelt_gl(const sw_rule_ctx *x, sw_rule_state *s)
{
    double e = x->c->vloss[x->n];
    if (!isfinite(e)) return NAN;
    if (!s->have_ref || e < s->ref) s->ref = e, s->have_ref = 1;
    return s->ref > 0 ? 100.0 * (e / s->ref - 1.0) : (e > 0 ? INFINITY : 0.0);
}

static int rule_gl(const sw_rule_ctx *x, const sw_rule *r, sw_rule_state *s, char *reason, size_t cap)
{
    char nb[4][32];
    double gl = prechelt_gl(x, s);
    if (!(gl > r->value)) return 0;
    snprintf(reason, cap, "gl: generalization loss %s > %s (val_loss %s, best %s)", num(nb[0], gl), num(nb[1], r->value),
             num(nb[2], x->c->vloss[x->n]), num(nb[3], s->ref));
    return 1;
}

/* P_k(t) = 1000 (sum of the strip's E_tr / (k min E_tr) - 1), at strip ends */
static int rule_pq(const sw_rule_ctx *x, const sw_rule *r, sw_rule_state *s, char *reason, size_t cap)
{
    char nb[4][32];
    double gl = prechelt_gl(x, s);
    if (isnan(gl)) return 0;
    size_t k = (size_t)r->k;
    if (x->i % k) return 0;
    double sum = 0, mn = INFINITY;
    for (size_t q = x->i - k; q < x->i; q++) {
        double tl = x->c->tloss[q];
        if (!isfinite(tl)) return 0;
        sum += tl;
        if (tl < mn) mn = tl;
    }
    double pk = mn > 0 ? 1000.0 * (sum / ((double)k * mn) - 1.0) : INFINITY;
    double pq = pk > 0 ? gl / pk : (gl > 0 ? INFINITY : 0.0);
    if (!(pq > r->value)) return 0;
    snprintf(reason, cap, "pq: GL/P%zu %s > %s (GL %s, training progress %s)", k, num(nb[0], pq), num(nb[1], r->value),
             num(nb[2], gl), num(nb[3], pk));
    return 1;
}

static int rule_up(const sw_rule_ctx *x, const sw_rule *r, sw_rule_state *s, char *reason, size_t cap)
{
    char nb[32];
    size_t k = (size_t)r->k;
    if (x->i % k) return 0;
    double e = x->c->vloss[x->n];
    if (s->have_strip && e > s->last_strip) s->rises++;
    else s->rises = 0;
    s->last_strip = e;
    s->have_strip = 1;
    if (s->rises < (long)r->value) return 0;
    snprintf(reason, cap, "up: val_loss rose at the end of %ld successive strips of %zu evaluations (now %s)", s->rises, k,
             num(nb, e));
    return 1;
}

/* gain = (b(i) - b(i-W)) / (T(i) - T(i-W)) * 1e6, b the best so far */
static int rule_gain(const sw_rule_ctx *x, const sw_rule *r, char *reason, size_t cap)
{
    const sw_controller *c = x->c;
    char nb[2][32];
    size_t w = (size_t)r->window;
    if (x->i <= w) return 0;
    double b0 = c->best[x->n - w];
    if (!isfinite(b0) || !isfinite(x->best)) return 0;
    double dt = (double)(x->pt->tokens - c->tokens[x->n - w]);
    double gain = (x->best - b0) / dt * 1e6;
    if (!(gain < r->value)) return 0;
    snprintf(reason, cap, "gain: %s gained %s per 1M tokens over the last %zu evaluations (< %s)", c->policy.monitor,
             num(nb[0], gain), w, num(nb[1], r->value));
    return 1;
}

static int rule_extrapolate(const sw_rule_ctx *x, const sw_rule *r, sw_rule_state *s, char *reason, size_t cap)
{
    sw_controller *c = x->c;
    char tb[32], nb[6][32];
    size_t m = 0;
    double H = (double)s->horizon;
    for (size_t q = 0; q < c->n; q++) {
        if (c->tokens[q] == 0 || !isfinite(c->mon[q])) continue;
        c->scr_t[m] = (double)c->tokens[q] / H;
        c->scr_y[m] = c->mon[q];
        m++;
    }
    if (m < (size_t)r->min_points) return 0;
    double mean, sd;
    if (!sw_extrapolate_fit(c->scr_t, c->scr_y, m, s->theta, s->theta_ok, &mean, &sd)) return 0;
    if (s->horizon == c->horizon) {
        c->pred_mean = x->sign * mean;
        c->pred_sd = sd;
        c->have_pred = 1;
    }
    double opt = mean + r->z * sd;
    if (!(isfinite(x->best) && opt - x->best < r->value)) return 0;
    snprintf(reason, cap,
             "extrapolate: predicted %s at %s tokens %s +- %s; even %s (mean + %s sd) gains less than %s over the best %s",
             c->policy.monitor, tok(tb, s->horizon), num(nb[0], x->sign * mean), num(nb[1], sd),
             num(nb[2], x->sign * opt), num(nb[3], r->z), num(nb[4], r->value), num(nb[5], x->sign * x->best));
    return 1;
}

int sw_rule_eval(const sw_rule_ctx *x, const sw_rule *r, sw_rule_state *s, char *reason, size_t cap)
{
    reason[0] = 0;
    switch (r->kind) {
    case SW_RULE_PATIENCE: return rule_patience(x, r, s, reason, cap);
    case SW_RULE_TARGET: return rule_target(x, r, reason, cap);
    case SW_RULE_DIVERGE: return rule_diverge(x, r, s, reason, cap);
    case SW_RULE_GL: return rule_gl(x, r, s, reason, cap);
    case SW_RULE_PQ: return rule_pq(x, r, s, reason, cap);
    case SW_RULE_UP: return rule_up(x, r, s, reason, cap);
    case SW_RULE_GAIN: return rule_gain(x, r, reason, cap);
    case SW_RULE_EXTRAPOLATE: return rule_extrapolate(x, r, s, reason, cap);
    default: return 0;
    }
}
