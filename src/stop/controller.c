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
 * best so far) and fills the context the rules read. An ignored evaluation
 * (before warmup=N:ignore) is kept with its tokens only: no value of it is
 * ever best, and no rule sees it. */
static void append(sw_controller *c, const sw_point *pt, int ignored, sw_rule_ctx *x)
{
    const sw_policy *p = &c->policy;
    const double sign = p->maximize ? 1.0 : -1.0;
    const size_t n = c->n;
    const double v = ignored ? NAN : sign * pt->v[SW_SLOT_MONITOR];
    c->tokens[n] = pt->tokens;
    c->mon[n] = v;
    c->vloss[n] = !ignored && (pt->present & (1u << SW_SLOT_VAL_LOSS)) ? pt->v[SW_SLOT_VAL_LOSS] : NAN;
    c->tloss[n] = !ignored && (pt->present & (1u << SW_SLOT_TRAIN_LOSS)) ? pt->v[SW_SLOT_TRAIN_LOSS] : NAN;
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

/* Appends "; " (after the first) and s to buf, truncating. */
static void join(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap) return;
    snprintf(buf + n, cap - n, "%s%s", buf[0] && buf[n - 1] != ' ' ? "; " : "", s);
}

/* Whether group g fires (at least `need` members fired); if so the decision
 * names its first firing member and the reason lists every firing member. */
static int group_decide(const sw_policy *p, const sw_rule_group *g, const int *fired, char (*reasons)[SW_REASON_MAX],
                        sw_decision *out)
{
    int hits = 0, first = -1;
    for (int j = g->first; j < g->first + g->count; j++)
        if (fired[j]) hits++, first = first < 0 ? j : first;
    if (hits < g->need) return 0;
    char head[64];
    if (g->form == SW_GROUP_ALL) snprintf(head, sizeof head, "all of %d: ", g->count);
    else if (g->form == SW_GROUP_ANY) snprintf(head, sizeof head, "any of %d: ", g->count);
    else snprintf(head, sizeof head, "%d of %d (%d fired): ", g->need, g->count, hits);
    snprintf(out->reason, sizeof out->reason, "%s", head);
    for (int j = g->first; j < g->first + g->count; j++)
        if (fired[j]) join(out->reason, sizeof out->reason, reasons[j]);
    out->stop = 1;
    out->rule = p->rules[first].kind;
    out->rule_index = first;
    return 1;
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
    const int past_warmup = pt->tokens >= p->warmup;
    const int ignored = p->warmup_ignore && !past_warmup;
    sw_rule_ctx x;
    append(c, pt, ignored, &x);

    /* every rule sees every evaluation (its state moves on whether or not
     * anything stops); fired[j]: rule j fires and may (warm-up) */
    int fired[SW_POLICY_MAX_RULES] = {0}, div = -1;
    char reasons[SW_POLICY_MAX_RULES][SW_REASON_MAX];
    for (int j = 0; j < p->n_rules; j++) {
        const sw_rule *r = &p->rules[j];
        int fire;
        if (ignored) {
            /* nothing but diverge's non-finite check, on a scratch state */
            if (r->kind != SW_RULE_DIVERGE) continue;
            sw_rule_state scratch = c->rs[j];
            fire = sw_rule_eval(&x, r, &scratch, reasons[j], sizeof reasons[j]) == 2 ? 2 : 0;
        } else {
            fire = sw_rule_eval(&x, r, &c->rs[j], reasons[j], sizeof reasons[j]);
        }
        fired[j] = fire == 2 || (fire && past_warmup);
        if (fired[j] && r->kind == SW_RULE_DIVERGE && div < 0) div = j;
    }

    char tb[32], tb2[32];
    if (div >= 0) {
        out->stop = 1;
        out->diverged = 1;
        out->rule = SW_RULE_DIVERGE;
        out->rule_index = div;
        memcpy(out->reason, reasons[div], sizeof out->reason);
    } else if (p->budget && pt->tokens >= p->budget) {
        out->stop = 1;
        out->rule = SW_RULE_BUDGET;
        snprintf(out->reason, sizeof out->reason, "budget: %s tokens reached (budget %s)", tok(tb2, pt->tokens), tok(tb, p->budget));
    } else {
        /* the terms in policy order: a rule of its own, or a group */
        for (int j = 0; j < p->n_rules && !out->stop; j++) {
            const sw_rule *r = &p->rules[j];
            if (r->group) {
                const sw_rule_group *g = &p->groups[r->group - 1];
                group_decide(p, g, fired, reasons, out);
                j = g->first + g->count - 1;
            } else if (fired[j] && r->kind != SW_RULE_DIVERGE) {
                out->stop = 1;
                out->rule = r->kind;
                out->rule_index = j;
                memcpy(out->reason, reasons[j], sizeof out->reason);
            }
        }
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
