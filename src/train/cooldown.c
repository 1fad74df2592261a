/* The stop's cooldown: when a rule stops a run under the wsd schedule, the
 * learning rate decays from its current value to the floor over c x (tokens
 * so far), linearly or as 1-sqrt (nn.h, sw_decay_shape), then the run is
 * evaluated once more (ANNEAL.md, docs/STOPPING.md).
 *
 * Two rules keep it honest:
 * - divergence: a non-finite loss during the cooldown ends it at once, the
 *   run diverged (the step neither advances the tokens nor changes the
 *   weights, so looping on would never end);
 * - the budget: the cooldown never runs past the budget. A stop at T anneals
 *   over min(c T, B - T) tokens; a stop at (or past) the budget has no
 *   cooldown at all: a wsd run that reaches its budget has already annealed
 *   in its own decay, and annealing again from the floor would only spend
 *   tokens past the budget at the floor rate. */
#include "stopwise/nn.h"
#include "train/trainer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses "C[:shape=S]" (the value of a cooldown= item). */
static int parse_clause(const char *v, size_t n, double *frac, sw_decay_shape *shape)
{
    char buf[96];
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, v, n);
    buf[n] = 0;
    char *colon = strchr(buf, ':');
    if (colon) *colon = 0;
    double c;
    if (sw_parse_double(buf, &c) != SW_OK || !(c > 0 && c <= 1)) return 0;
    sw_decay_shape sh = SW_DECAY_LINEAR;
    if (colon) {
        if (strncmp(colon + 1, "shape=", 6)) return 0;
        int k = sw_decay_shape_find(colon + 7);
        if (k < 0) return 0;
        sh = (sw_decay_shape)k;
    }
    *frac = c;
    *shape = sh;
    return 1;
}

/* Reads the clause from the policy's text form, so it needs nothing from
 * stop/ beyond the grammar (ANNEAL.md): items are comma-separated and the
 * clause has no comma inside. A policy parsed by stop/ is canonical text, so
 * this agrees with sw_policy_cooldown once that exists. */
int sw_cooldown_from_policy(const char *policy, double *frac, sw_decay_shape *shape)
{
    if (!policy) return 0;
    for (const char *p = policy; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 9 && !strncmp(p, "cooldown=", 9)) return parse_clause(p + 9, n - 9, frac, shape);
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

uint64_t sw_cooldown_length(double frac, uint64_t tokens, uint64_t budget)
{
    if (!(frac > 0) || tokens >= budget) return 0;
    uint64_t len = (uint64_t)(frac * (double)tokens);
    return len < budget - tokens ? len : budget - tokens;
}

sw_status sw_trainer_anneal(sw_trainer *r, uint64_t len, sw_decay_shape shape, uint64_t *used)
{
    uint64_t start = r->tokens, end = start + len;
    sw_schedule_decay_now(&r->sched, start, len);
    r->sched.shape = shape;
    sw_status st = SW_OK;
    while (r->tokens < end && !r->diverged)
        if ((st = sw_trainer_step(r))) break;
    *used = r->tokens - start;
    return st;
}

sw_status sw_trainer_stop_cooldown(sw_trainer *r)
{
    if (r->sched.kind != SW_SCHEDULE_WSD) return SW_OK;
    uint64_t len = sw_cooldown_length(r->cool_frac, r->tokens, r->opt.budget);
    if (len == 0) return SW_OK;
    /* the floor already reached (the run's own decay is over): nothing to anneal */
    if (sw_schedule_lr(&r->sched, r->tokens) <= r->sched.lr * r->sched.min_frac) return SW_OK;
    sw_status st = sw_trainer_anneal(r, len, r->cool_shape, &r->cooldown_tokens);
    if (st || r->diverged) return st; /* diverged: no evaluation of non-finite weights */
    int ignored = 0;
    r->in_cooldown = 1;
    st = r->rank == 0 ? sw_trainer_evaluate(r, &ignored) : SW_OK; /* data-parallel: rank 0 evaluates */
    return sw_trainer_dp_decide(r, st, &ignored);
}
