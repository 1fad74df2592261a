/* The controller: keeps a run's evaluation history and every rule's state,
 * and answers continue or stop. The formulas and their sources are in
 * include/stopwise/stop.h; this file follows them line by line. */
#include "stop/internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sw_status cerr(sw_controller *c, sw_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static sw_status cerr(sw_controller *c, sw_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sw_vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
    return s;
}

sw_status sw_controller_create(const sw_policy *policy, uint64_t budget, sw_controller **out, sw_error *err)
{
    *out = NULL;
    if (!policy) return sw_error_set(err, SW_ERR_INVALID, "controller: no policy");
    sw_controller *c = calloc(1, sizeof *c);
    if (!c) return sw_error_set(err, SW_ERR_NOMEM, "controller: out of memory");
    c->policy = *policy;
    c->budget = budget;
    const sw_policy *p = &c->policy;
    for (int j = 0; j < p->n_rules; j++) {
        const sw_rule *r = &p->rules[j];
        if (r->kind == SW_RULE_DIVERGE) {
            if (c->diverge_on[0] && strcmp(c->diverge_on, r->on)) {
                sw_error_set(err, SW_ERR_INVALID, "controller: two diverge rules watch different losses (%s, %s); use one",
                             c->diverge_on, r->on);
                free(c);
                return SW_ERR_INVALID;
            }
            strcpy(c->diverge_on, r->on);
        }
        if (r->kind == SW_RULE_EXTRAPOLATE) {
            uint64_t h = r->at ? r->at : p->budget ? p->budget : budget;
            if (!h) {
                free(c);
                return sw_error_set(err, SW_ERR_INVALID,
                                    "controller: extrapolate needs a horizon: extrapolate=D:at=TOKENS, "
                                    "budget=TOKENS in the policy, or the run's budget");
            }
            c->rs[j].horizon = h;
            if (!c->horizon) c->horizon = h;
        }
    }
    *out = c;
    return SW_OK;
}

void sw_controller_free(sw_controller *c)
{
    if (!c) return;
    free(c->tokens);
    free(c->mon);
    free(c->best);
    free(c->vloss);
    free(c->tloss);
    free(c->scr_t);
    free(c->scr_y);
    free(c);
}

const sw_policy *sw_controller_policy(const sw_controller *c) { return &c->policy; }
const char *sw_controller_errmsg(const sw_controller *c) { return c->errmsg; }
size_t sw_controller_count(const sw_controller *c) { return c->n; }
int sw_controller_stopped(const sw_controller *c) { return c->stopped; }

sw_status sw_controller_reserve(sw_controller *c, size_t cap)
{
    if (cap <= c->cap) return SW_OK;
    size_t nc = sw_array_grown_cap(c->cap, cap);
    int ok = SW_ARRAY_RESIZE(c->tokens, nc) == SW_OK;
    double **d[6] = {&c->mon, &c->best, &c->vloss, &c->tloss, &c->scr_t, &c->scr_y};
    for (int k = 0; k < 6; k++) ok &= sw_array_resize(d[k], nc, sizeof(double)) == SW_OK;
    if (!ok) return cerr(c, SW_ERR_NOMEM, "controller: out of memory for %zu evaluations", nc);
    c->cap = nc;
    return SW_OK;
}

sw_status sw_controller_best(const sw_controller *c, size_t *index, uint64_t *tokens, double *value)
{
    if (!c->have_best) return SW_ERR_NOT_FOUND;
    if (index) *index = c->best_index;
    if (tokens) *tokens = c->tokens[c->best_index];
    if (value) *value = c->policy.maximize ? c->mon[c->best_index] : -c->mon[c->best_index];
    return SW_OK;
}

sw_status sw_controller_prediction(const sw_controller *c, double *mean, double *sd, uint64_t *horizon)
{
    if (!c->have_pred) return SW_ERR_NOT_FOUND;
    if (mean) *mean = c->pred_mean;
    if (sd) *sd = c->pred_sd;
    if (horizon) *horizon = c->horizon;
    return SW_OK;
}

/* ---- the core --------------------------------------------------------------- */

static const char *loss_name(const sw_controller *c, const sw_point *pt)
{
    if (pt->present & (1u << SW_SLOT_DIVERGE)) return c->diverge_on;
    return "val_loss";
}

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

sw_status sw_controller_feed_point(sw_controller *c, const sw_point *pt, const char *where, sw_decision *out)
{
    const sw_policy *p = &c->policy;
    char tb[32], tb2[32], nb[6][32];
    memset(out, 0, sizeof *out);
    out->rule_index = -1;
    c->errmsg[0] = 0;
    if (!where) where = "";
    if (c->stopped)
        return cerr(c, SW_ERR_STATE, "%scontroller already stopped after %zu evaluations at %s tokens; feed a new controller",
                    where, c->n, tok(tb, c->tokens[c->n - 1]));
    if (c->n && pt->tokens <= c->tokens[c->n - 1])
        return cerr(c, SW_ERR_INVALID, "%sevaluation %zu: tokens %llu not above the previous evaluation's %llu (tokens must rise)",
                    where, c->n + 1, (unsigned long long)pt->tokens, (unsigned long long)c->tokens[c->n - 1]);
    if (!(pt->present & (1u << SW_SLOT_MONITOR)))
        return cerr(c, SW_ERR_INVALID, "%sevaluation %zu (tokens %s): no metric '%s' (the policy monitors it)", where,
                    c->n + 1, tok(tb, pt->tokens), p->monitor);
    if (sw_policy_needs(p, "val_loss") && !(pt->present & (1u << SW_SLOT_VAL_LOSS)))
        return cerr(c, SW_ERR_INVALID, "%sevaluation %zu (tokens %s): no metric 'val_loss' (needed by gl, pq and up)", where,
                    c->n + 1, tok(tb, pt->tokens));
    if (sw_policy_needs(p, "train_loss") && !(pt->present & (1u << SW_SLOT_TRAIN_LOSS)))
        return cerr(c, SW_ERR_INVALID, "%sevaluation %zu (tokens %s): no metric 'train_loss' (needed by pq)", where,
                    c->n + 1, tok(tb, pt->tokens));
    sw_status st = sw_controller_reserve(c, c->n + 1);
    if (st) return st;

    /* append to the history */
    const double sign = p->maximize ? 1.0 : -1.0;
    const size_t n = c->n;
    const double v = sign * pt->v[SW_SLOT_MONITOR];
    c->tokens[n] = pt->tokens;
    c->mon[n] = v;
    c->vloss[n] = (pt->present & (1u << SW_SLOT_VAL_LOSS)) ? pt->v[SW_SLOT_VAL_LOSS] : NAN;
    c->tloss[n] = (pt->present & (1u << SW_SLOT_TRAIN_LOSS)) ? pt->v[SW_SLOT_TRAIN_LOSS] : NAN;
    if (isfinite(v) && (!c->have_best || v > c->mon[c->best_index])) {
        c->best_index = n;
        c->have_best = 1;
    }
    c->best[n] = c->have_best ? c->mon[c->best_index] : -INFINITY;
    c->n = n + 1;
    const size_t i = n + 1; /* 1-based evaluation number, as in Prechelt */
    const double best = c->best[n];
    const int past_warmup = pt->tokens >= p->warmup;

    /* the loss the diverge rule watches */
    double L = NAN;
    int have_L = 0;
    if (pt->present & (1u << SW_SLOT_DIVERGE)) L = pt->v[SW_SLOT_DIVERGE], have_L = 1;
    else if (pt->present & (1u << SW_SLOT_VAL_LOSS)) L = pt->v[SW_SLOT_VAL_LOSS], have_L = 1;

    int fired_div = -1, fired_other = -1;
    char div_reason[SW_REASON_MAX] = "", other_reason[SW_REASON_MAX] = "";

    for (int j = 0; j < p->n_rules; j++) {
        const sw_rule *r = &p->rules[j];
        sw_rule_state *s = &c->rs[j];
        char reason[SW_REASON_MAX];
        int fire = 0;
        switch (r->kind) {
        case SW_RULE_PATIENCE: {
            /* Keras: improvement iff v > r + min_delta (strict, so a tie is none) */
            int improved = 0;
            if (isfinite(v)) {
                double thr = r->relative ? s->ref + fabs(s->ref) * r->min_delta / 100.0 : s->ref + r->min_delta;
                improved = !s->have_ref || v > thr;
            }
            if (improved) {
                s->ref = v;
                s->have_ref = 1;
                s->wait = 0;
                s->since = pt->tokens;
            } else {
                s->wait++;
            }
            if (s->wait >= (long)r->value) {
                fire = 1;
                char md[40];
                sw_format_double(r->min_delta, md, sizeof md);
                if (s->have_ref)
                    snprintf(reason, sizeof reason, "patience: no %s improvement > %s%s for %ld evaluations since %s tokens (best %s)",
                             p->monitor, md, r->relative ? "%" : "", s->wait, tok(tb2, s->since), num(nb[0], sign * best));
                else
                    snprintf(reason, sizeof reason, "patience: no finite %s in %ld evaluations", p->monitor, s->wait);
            }
            break;
        }
        case SW_RULE_TARGET:
            if (isfinite(v) && v >= sign * r->value) {
                fire = 1;
                snprintf(reason, sizeof reason, "target: %s %s reached %s at %s tokens", p->monitor,
                         num(nb[0], sign * v), num(nb[1], r->value), tok(tb2, pt->tokens));
            }
            break;
        case SW_RULE_DIVERGE: {
            const char *bad = NULL;
            double badv = 0;
            if (!isfinite(pt->v[SW_SLOT_MONITOR])) bad = p->monitor, badv = pt->v[SW_SLOT_MONITOR];
            else if ((pt->present & (1u << SW_SLOT_TRAIN_LOSS)) && !isfinite(pt->v[SW_SLOT_TRAIN_LOSS]))
                bad = "train_loss", badv = pt->v[SW_SLOT_TRAIN_LOSS];
            else if ((pt->present & (1u << SW_SLOT_VAL_LOSS)) && !isfinite(pt->v[SW_SLOT_VAL_LOSS]))
                bad = "val_loss", badv = pt->v[SW_SLOT_VAL_LOSS];
            else if (have_L && !isfinite(L)) bad = loss_name(c, pt), badv = L;
            double prev_best = s->ref;
            int had = s->have_ref;
            if (have_L && isfinite(L) && (!s->have_ref || L < s->ref)) s->ref = L, s->have_ref = 1;
            if (bad) {
                fire = 2; /* ignores warmup */
                snprintf(reason, sizeof reason, "diverge: %s is %s at %s tokens", bad, num(nb[0], badv), tok(tb2, pt->tokens));
            } else if (have_L && (r->set & SW_OPT_MAX) && L > r->max_loss) {
                fire = 1;
                snprintf(reason, sizeof reason, "diverge: %s %s above %s at %s tokens", loss_name(c, pt), num(nb[0], L),
                         num(nb[1], r->max_loss), tok(tb2, pt->tokens));
            } else if (have_L && (r->set & SW_OPT_FACTOR) && had && L > r->factor * s->ref) {
                fire = 1;
                (void)prev_best;
                snprintf(reason, sizeof reason, "diverge: %s %s above %s x its best %s at %s tokens", loss_name(c, pt),
                         num(nb[0], L), num(nb[1], r->factor), num(nb[2], s->ref), tok(tb2, pt->tokens));
            }
            if (fire && fired_div < 0 && (fire == 2 || past_warmup)) {
                fired_div = j;
                memcpy(div_reason, reason, sizeof reason);
            }
            fire = 0; /* handled above */
            break;
        }
        case SW_RULE_GL:
        case SW_RULE_PQ: {
            /* Prechelt 1998: E_opt(t) = min E_va, GL(t) = 100 (E_va(t)/E_opt(t) - 1) */
            double e = c->vloss[n];
            if (!isfinite(e)) break;
            if (!s->have_ref || e < s->ref) s->ref = e, s->have_ref = 1;
            double gl = s->ref > 0 ? 100.0 * (e / s->ref - 1.0) : (e > 0 ? INFINITY : 0.0);
            if (r->kind == SW_RULE_GL) {
                if (gl > r->value) {
                    fire = 1;
                    snprintf(reason, sizeof reason, "gl: generalization loss %s > %s (val_loss %s, best %s)", num(nb[0], gl),
                             num(nb[1], r->value), num(nb[2], e), num(nb[3], s->ref));
                }
                break;
            }
            /* P_k(t) = 1000 (sum of the strip's E_tr / (k min E_tr) - 1), at strip ends */
            size_t k = (size_t)r->k;
            if (i % k) break;
            double sum = 0, mn = INFINITY;
            int ok = 1;
            for (size_t q = i - k; q < i; q++) {
                double tl = c->tloss[q];
                if (!isfinite(tl)) ok = 0;
                sum += tl;
                if (tl < mn) mn = tl;
            }
            if (!ok) break;
            double pk = mn > 0 ? 1000.0 * (sum / ((double)k * mn) - 1.0) : INFINITY;
            double pq = pk > 0 ? gl / pk : (gl > 0 ? INFINITY : 0.0);
            if (pq > r->value) {
                fire = 1;
                snprintf(reason, sizeof reason, "pq: GL/P%zu %s > %s (GL %s, training progress %s)", k, num(nb[0], pq),
                         num(nb[1], r->value), num(nb[2], gl), num(nb[3], pk));
            }
            break;
        }
        case SW_RULE_UP: {
            size_t k = (size_t)r->k;
            if (i % k) break;
            double e = c->vloss[n];
            if (s->have_strip && e > s->last_strip) s->rises++;
            else s->rises = 0;
            s->last_strip = e;
            s->have_strip = 1;
            if (s->rises >= (long)r->value) {
                fire = 1;
                snprintf(reason, sizeof reason, "up: val_loss rose at the end of %ld successive strips of %zu evaluations (now %s)",
                         s->rises, k, num(nb[0], e));
            }
            break;
        }
        case SW_RULE_GAIN: {
            /* gain = (b(i) - b(i-W)) / (T(i) - T(i-W)) * 1e6, b the best so far */
            size_t w = (size_t)r->window;
            if (i <= w) break;
            double b0 = c->best[n - w];
            if (!isfinite(b0) || !isfinite(best)) break;
            double dt = (double)(pt->tokens - c->tokens[n - w]);
            double gain = (best - b0) / dt * 1e6;
            if (gain < r->value) {
                fire = 1;
                snprintf(reason, sizeof reason, "gain: %s gained %s per 1M tokens over the last %zu evaluations (< %s)",
                         p->monitor, num(nb[0], gain), w, num(nb[1], r->value));
            }
            break;
        }
        case SW_RULE_EXTRAPOLATE: {
            size_t m = 0;
            double H = (double)s->horizon;
            for (size_t q = 0; q < c->n; q++) {
                if (c->tokens[q] == 0 || !isfinite(c->mon[q])) continue;
                c->scr_t[m] = (double)c->tokens[q] / H;
                c->scr_y[m] = c->mon[q];
                m++;
            }
            if (m < (size_t)r->min_points) break;
            double mean, sd;
            if (!sw_extrapolate_fit(c->scr_t, c->scr_y, m, s->theta, s->theta_ok, &mean, &sd)) break;
            if (s->horizon == c->horizon) {
                c->pred_mean = sign * mean;
                c->pred_sd = sd;
                c->have_pred = 1;
            }
            double opt = mean + r->z * sd;
            if (isfinite(best) && opt - best < r->value) {
                fire = 1;
                snprintf(reason, sizeof reason,
                         "extrapolate: predicted %s at %s tokens %s +- %s; even %s (mean + %s sd) gains less than %s over the best %s",
                         p->monitor, tok(tb2, s->horizon), num(nb[0], sign * mean), num(nb[1], sd), num(nb[2], sign * opt),
                         num(nb[3], r->z), num(nb[4], r->value), num(nb[5], sign * best));
            }
            break;
        }
        default: break;
        }
        if (fire && past_warmup && fired_other < 0) {
            fired_other = j;
            memcpy(other_reason, reason, sizeof reason);
        }
    }

    if (fired_div >= 0) {
        out->stop = 1;
        out->diverged = 1;
        out->rule = SW_RULE_DIVERGE;
        out->rule_index = fired_div;
        memcpy(out->reason, div_reason, sizeof out->reason);
    } else if (p->budget && pt->tokens >= p->budget) {
        out->stop = 1;
        out->rule = SW_RULE_BUDGET;
        snprintf(out->reason, sizeof out->reason, "budget: %s tokens reached (budget %s)", tok(tb2, pt->tokens), tok(tb, p->budget));
    } else if (fired_other >= 0) {
        out->stop = 1;
        out->rule = p->rules[fired_other].kind;
        out->rule_index = fired_other;
        memcpy(out->reason, other_reason, sizeof out->reason);
    }
    c->stopped = out->stop;
    return SW_OK;
}

sw_status sw_controller_feed(sw_controller *c, const sw_eval *ev, sw_decision *out)
{
    sw_decision scratch;
    if (!out) out = &scratch;
    if (!ev) {
        memset(out, 0, sizeof *out);
        return cerr(c, SW_ERR_INVALID, "controller: no evaluation");
    }
    sw_point pt = {.tokens = ev->tokens};
    for (size_t k = 0; k < ev->n_metrics; k++) {
        const sw_metric *m = &ev->metrics[k];
        if (!m->name) continue;
        if (!strcmp(m->name, c->policy.monitor)) pt.v[SW_SLOT_MONITOR] = m->value, pt.present |= 1u << SW_SLOT_MONITOR;
        if (!strcmp(m->name, "val_loss")) pt.v[SW_SLOT_VAL_LOSS] = m->value, pt.present |= 1u << SW_SLOT_VAL_LOSS;
        if (!strcmp(m->name, "train_loss")) pt.v[SW_SLOT_TRAIN_LOSS] = m->value, pt.present |= 1u << SW_SLOT_TRAIN_LOSS;
        if (c->diverge_on[0] && !strcmp(m->name, c->diverge_on))
            pt.v[SW_SLOT_DIVERGE] = m->value, pt.present |= 1u << SW_SLOT_DIVERGE;
    }
    return sw_controller_feed_point(c, &pt, "", out);
}
