/* The pruning spec's text form and its schedule (Zhu & Gupta 2017, "To prune,
 * or not to prune: exploring the efficacy of pruning for model compression"),
 * in tokens:
 *   s(t) = s_f + (s_i - s_f) (1 - (t - t0) / (t1 - t0))^3     t0 <= t <= t1
 * 0 before t0, s_f from t1 on. The cubic prunes fast while the network is
 * redundant and slowly as it nears the target, leaving the rest of the budget
 * (t1 .. budget) to recover.
 *
 *   magnitude:sparsity=0.8[,initial=0][,start=10%][,end=60%][,every=1%]
 *   neurons:keep=0.5[,start=..][,end=..][,every=..]
 *   heads:keep=0.5[,start=..][,end=..][,every=..]
 * start, end, every: token counts (500k, 1.5M) or percentages of the budget. */
#include "stopwise/nn.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/kvtext.h"

static const sw_kv_kind_def kinds[] = {
    {SW_PRUNE_MAGNITUDE, "magnitude", "sparsity, initial, start, end, every"},
    {SW_PRUNE_NEURONS, "neurons", "keep, start, end, every"},
    {SW_PRUNE_HEADS, "heads", "keep, start, end, every"},
};
#define N_KINDS (sizeof kinds / sizeof *kinds)

const char *sw_prune_kind_name(sw_prune_kind k)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (kinds[i].kind == (int)k) return kinds[i].name;
    return "?";
}

/* "10%" -> *pct = 10, *tokens = 0; "500k" -> *tokens = 500000, *pct = 0. */
static int parse_point(const char *value, uint64_t *tokens, double *pct)
{
    size_t n = strlen(value);
    if (n > 1 && value[n - 1] == '%') {
        char num[64];
        if (n - 1 >= sizeof num) return -1;
        memcpy(num, value, n - 1);
        num[n - 1] = 0;
        double d;
        if (sw_parse_double(num, &d) != SW_OK || !(d >= 0 && d <= 100)) return -1;
        *pct = d;
        *tokens = 0;
        return 0;
    }
    if (sw_parse_tokens(value, tokens) != SW_OK) return -1;
    *pct = 0;
    return 0;
}

sw_status sw_prune_params_parse(const char *text, sw_prune_params *out, sw_error *err)
{
    if (!text || !out) return sw_error_set(err, SW_ERR_INVALID, "prune: no text given");
    char key[32], value[64], item[96];
    const char *opts;
    int ki = sw_kv_find_kind(text, kinds, N_KINDS, &opts);
    if (ki < 0)
        return sw_error_set(err, SW_ERR_INVALID,
                            "prune '%s': unknown kind '%.*s' (expected magnitude, neurons or heads)", text,
                            (int)strcspn(text, ":"), text);
    const char *keys = kinds[ki].keys;
    sw_prune_params p;
    memset(&p, 0, sizeof p);
    p.kind = (sw_prune_kind)kinds[ki].kind;
    p.final = -1; /* required */
    p.pct_start = 10;
    p.pct_end = 60;
    p.pct_every = 1;
    int structured = p.kind != SW_PRUNE_MAGNITUDE, r;
    while ((r = sw_kv_next(&opts, key, sizeof key, value, sizeof value, item, sizeof item)) != 0) {
        if (r < 0)
            return sw_error_set(err, SW_ERR_INVALID, "prune '%s': bad item '%s' (expected key=value, keys: %s)", text,
                                item, keys);
        if (!sw_kv_takes_key(keys, key))
            return sw_error_set(err, SW_ERR_INVALID, "prune '%s': unknown key '%s' for %s (keys: %s)", text, key,
                                kinds[ki].name, keys);
        uint64_t *tok = !strcmp(key, "start") ? &p.start
                        : !strcmp(key, "end") ? &p.end
                        : !strcmp(key, "every") ? &p.every
                                                : NULL;
        double *pct = !strcmp(key, "start") ? &p.pct_start : !strcmp(key, "end") ? &p.pct_end : &p.pct_every;
        if (tok) {
            if (parse_point(value, tok, pct))
                return sw_error_set(err, SW_ERR_INVALID,
                                    "prune '%s': %s=%s (expected a token count such as 500k or a percentage of the "
                                    "budget such as 10%%)",
                                    text, key, value);
            continue;
        }
        double d;
        if (sw_parse_double(value, &d) != SW_OK)
            return sw_error_set(err, SW_ERR_INVALID, "prune '%s': %s=%s is not a number", text, key, value);
        if (!strcmp(key, "keep")) {
            if (!(d > 0 && d <= 1))
                return sw_error_set(err, SW_ERR_INVALID, "prune '%s': keep=%s (expected a fraction in (0, 1])", text,
                                    value);
            p.final = 1 - d;
        } else if (!strcmp(key, "sparsity")) {
            if (!(d > 0 && d < 1))
                return sw_error_set(err, SW_ERR_INVALID, "prune '%s': sparsity=%s (expected a fraction in (0, 1))",
                                    text, value);
            p.final = d;
        } else { /* initial */
            if (!(d >= 0 && d < 1))
                return sw_error_set(err, SW_ERR_INVALID, "prune '%s': initial=%s (expected a fraction in [0, 1))", text,
                                    value);
            p.initial = d;
        }
    }
    if (p.final < 0)
        return sw_error_set(err, SW_ERR_INVALID, "prune '%s': %s= is required (e.g. %s)", text,
                            structured ? "keep" : "sparsity",
                            structured ? "neurons:keep=0.5" : "magnitude:sparsity=0.8");
    if (p.initial > p.final)
        return sw_error_set(err, SW_ERR_INVALID, "prune '%s': initial=%g is above the final sparsity %g", text,
                            p.initial, p.final);
    if (p.every == 0 && !(p.pct_every > 0))
        return sw_error_set(err, SW_ERR_INVALID, "prune '%s': every must be positive", text);
    /* both ends in the same unit can be checked now; mixed ones at resolve */
    int both_pct = !p.start && !p.end, both_tok = p.end && (p.start || p.pct_start == 0);
    if ((both_pct && !(p.pct_end > p.pct_start)) || (both_tok && !(p.end > p.start)))
        return sw_error_set(err, SW_ERR_INVALID, "prune '%s': end must come after start", text);
    *out = p;
    return SW_OK;
}

static void format_point(uint64_t tokens, double pct, char *buf, size_t len)
{
    if (tokens) {
        sw_format_tokens_exact(tokens, 3, buf, len);
    } else {
        char d[32];
        snprintf(buf, len, "%s%%", sw_format_double(pct, d, sizeof d));
    }
}

char *sw_prune_params_format(const sw_prune_params *p, char *buf, size_t len)
{
    if (!buf || len == 0) return buf;
    char fin[32], ini[32], a[40], b[40], c[40];
    format_point(p->start, p->pct_start, a, sizeof a);
    format_point(p->end, p->pct_end, b, sizeof b);
    format_point(p->every, p->pct_every, c, sizeof c);
    if (p->kind == SW_PRUNE_MAGNITUDE)
        snprintf(buf, len, "magnitude:sparsity=%s,initial=%s,start=%s,end=%s,every=%s",
                 sw_format_double(p->final, fin, sizeof fin), sw_format_double(p->initial, ini, sizeof ini), a, b, c);
    else
        snprintf(buf, len, "%s:keep=%s,start=%s,end=%s,every=%s", sw_prune_kind_name(p->kind),
                 sw_format_double(1 - p->final, fin, sizeof fin), a, b, c);
    return buf;
}

static uint64_t of_budget(double pct, uint64_t budget) { return (uint64_t)llround(pct / 100.0 * (double)budget); }

sw_status sw_prune_params_resolve(sw_prune_params *p, uint64_t budget, sw_error *err)
{
    char tb[32], te[32], tbud[32];
    if (!p->start) p->start = of_budget(p->pct_start, budget);
    if (!p->end) p->end = of_budget(p->pct_end, budget);
    if (!p->every) p->every = of_budget(p->pct_every, budget);
    if (!p->every) p->every = 1;
    if (p->end <= p->start)
        return sw_error_set(err, SW_ERR_INVALID, "prune: end (%s tokens) must come after start (%s tokens)",
                            sw_format_tokens(p->end, te, sizeof te), sw_format_tokens(p->start, tb, sizeof tb));
    if (p->end > budget)
        return sw_error_set(err, SW_ERR_INVALID,
                            "prune: end (%s tokens) is past the budget (%s): the target would never be reached",
                            sw_format_tokens(p->end, te, sizeof te), sw_format_tokens(budget, tbud, sizeof tbud));
    return SW_OK;
}

double sw_prune_sparsity(const sw_prune_params *p, uint64_t tokens)
{
    if (tokens < p->start) return 0.0;
    if (tokens >= p->end) return p->final;
    double x = (double)(tokens - p->start) / (double)(p->end - p->start), r = 1.0 - x;
    return p->final + (p->initial - p->final) * r * r * r;
}
