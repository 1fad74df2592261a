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
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
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
    size_t nc = c->cap ? c->cap : 64;
    while (nc < cap) nc *= 2;
    void *p[7] = {realloc(c->tokens, nc * sizeof *c->tokens), NULL, NULL, NULL, NULL, NULL, NULL};
    if (p[0]) c->tokens = p[0];
    double **d[6] = {&c->mon, &c->best, &c->vloss, &c->tloss, &c->scr_t, &c->scr_y};
    int ok = p[0] != NULL;
    for (int k = 0; k < 6; k++) {
        double *q = realloc(*d[k], nc * sizeof(double));
        if (q) *d[k] = q;
        else ok = 0;
    }
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

static const char *tok(char *buf, uint64_t t)
{
    return sw_format_tokens(t, buf, 32);
}

/* Checks an evaluation before anything changes; SW_OK or an error status
 * with the message in c->errmsg. */
static sw_status validate(sw_controller *c, const sw_point *pt, const char *where)
{
    const sw_policy *p = &c->policy;
    char tb[32];
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
    return sw_controller_reserve(c, c->n + 1);
}

/* Appends the evaluation to the history (oriented monitored value, losses,
 * best so far) and fills the context the rules read. */
static void append(sw_controller *c, const sw_point *pt, sw_rule_ctx *x)
{
    const sw_policy *p = &c->policy;
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
    memset(x, 0, sizeof *x);
    x->c = c;
    x->pt = pt;
    x->n = n;
    x->i = n + 1;
    x->sign = sign;
    x->v = v;
    x->best = c->best[n];
    x->L = NAN;
    /* the loss the diverge rule watches */
    if (pt->present & (1u << SW_SLOT_DIVERGE)) x->L = pt->v[SW_SLOT_DIVERGE], x->have_L = 1;
    else if (pt->present & (1u << SW_SLOT_VAL_LOSS)) x->L = pt->v[SW_SLOT_VAL_LOSS], x->have_L = 1;
}

sw_status sw_controller_feed_point(sw_controller *c, const sw_point *pt, const char *where, sw_decision *out)
{
    const sw_policy *p = &c->policy;
    memset(out, 0, sizeof *out);
    out->rule_index = -1;
    c->errmsg[0] = 0;
    if (!where) where = "";
    sw_status st = validate(c, pt, where);
    if (st) return st;
    sw_rule_ctx x;
    append(c, pt, &x);
    const int past_warmup = pt->tokens >= p->warmup;

    int fired_div = -1, fired_other = -1;
    char div_reason[SW_REASON_MAX] = "", other_reason[SW_REASON_MAX] = "";
    for (int j = 0; j < p->n_rules; j++) {
        char reason[SW_REASON_MAX];
        int fire = sw_rule_eval(&x, &p->rules[j], &c->rs[j], reason, sizeof reason);
        if (!fire || !(fire == 2 || past_warmup)) continue;
        if (p->rules[j].kind == SW_RULE_DIVERGE) {
            if (fired_div < 0) fired_div = j, memcpy(div_reason, reason, sizeof reason);
        } else if (fired_other < 0) {
            fired_other = j;
            memcpy(other_reason, reason, sizeof reason);
        }
    }

    char tb[32], tb2[32];
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
