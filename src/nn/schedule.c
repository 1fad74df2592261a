/* Learning-rate schedules as functions of training tokens seen (not steps),
 * so a change of batch size keeps the same schedule over the same data.
 *
 * Every kind but constant starts with a linear warm-up 0 -> lr over `warmup`
 * tokens; the formulas below apply from the end of warm-up on, with
 * floor = lr * min_frac:
 *   constant  lr
 *   warmup    lr
 *   step      lr * gamma^floor(t / every)                      (t counted from 0)
 *   cosine    floor + (lr - floor) (1 + cos(pi t' / T')) / 2,  t' = t - warmup,
 *             T' = total - warmup; floor from `total` on (Loshchilov & Hutter 2017)
 *   restarts  the same cosine over periods P, P*mult, P*mult^2, ... (SGDR,
 *             Loshchilov & Hutter 2017), each restarting at lr
 *   wsd       lr until decay_start, then to floor over `decay` tokens, floor
 *             after (warm-up-stable-decay; Hu et al. 2024, MiniCPM); the decay
 *             is linear, or with shape=sqrt lr - (lr - floor) sqrt(x), x the
 *             decay's elapsed fraction ("1-sqrt", Hägele et al. 2024) */
#include "stopwise/nn.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/kvtext.h"

static const sw_kv_kind_def kinds[] = {
    {SW_SCHEDULE_CONSTANT, "constant", "lr"},
    {SW_SCHEDULE_WARMUP, "warmup", "lr, warmup"},
    {SW_SCHEDULE_STEP, "step", "lr, warmup, every, gamma"},
    {SW_SCHEDULE_COSINE, "cosine", "lr, warmup, min, total"},
    {SW_SCHEDULE_RESTARTS, "restarts", "lr, warmup, min, period, mult"},
    {SW_SCHEDULE_WSD, "wsd", "lr, warmup, min, total, decay, decay_start, decay_tokens, shape"},
};
#define N_KINDS (sizeof kinds / sizeof *kinds)

static int kind_index(sw_schedule_kind k)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (kinds[i].kind == (int)k) return (int)i;
    return -1;
}

const char *sw_decay_shape_name(sw_decay_shape s) { return s == SW_DECAY_SQRT ? "sqrt" : "linear"; }

int sw_decay_shape_find(const char *name)
{
    if (!name) return -1;
    if (!strcmp(name, "linear")) return SW_DECAY_LINEAR;
    if (!strcmp(name, "sqrt")) return SW_DECAY_SQRT;
    return -1;
}

static sw_schedule defaults(sw_schedule_kind kind)
{
    sw_schedule s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.lr = 1e-3;
    s.gamma = 0.1;
    s.mult = 2;
    s.decay_frac = 0.2;
    return s;
}

sw_status sw_schedule_parse(const char *text, sw_schedule *out, sw_error *err)
{
    if (!text || !out) return sw_error_set(err, SW_ERR_INVALID, "schedule: no text given");
    char key[32], value[64], item[96];
    const char *opts;
    int ki = sw_kv_find_kind(text, kinds, N_KINDS, &opts);
    if (ki < 0)
        return sw_error_set(err, SW_ERR_INVALID,
                            "schedule '%s': unknown kind '%.*s' (expected constant, warmup, step, cosine, restarts or wsd)",
                            text, (int)strcspn(text, ":"), text);
    const char *keys = kinds[ki].keys;
    sw_schedule s = defaults((sw_schedule_kind)kinds[ki].kind);
    if (opts > text && opts[-1] == ':' && !*opts)
        return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': nothing after ':' (expected key=value, keys: %s)",
                            text, keys);
    int r;
    while ((r = sw_kv_next(&opts, key, sizeof key, value, sizeof value, item, sizeof item)) != 0) {
        if (r < 0)
            return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': bad item '%s' (expected key=value, keys: %s)", text,
                                item, keys);
        if (!sw_kv_takes_key(keys, key))
            return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': unknown key '%s' for %s (keys: %s)", text, key,
                                kinds[ki].name, keys);
        uint64_t *tok = !strcmp(key, "warmup")         ? &s.warmup
                        : !strcmp(key, "every")        ? &s.step
                        : !strcmp(key, "total")        ? &s.total
                        : !strcmp(key, "period")       ? &s.period
                        : !strcmp(key, "decay_start")  ? &s.decay_start
                        : !strcmp(key, "decay_tokens") ? &s.decay
                                                       : NULL;
        if (!strcmp(key, "shape")) {
            int sh = sw_decay_shape_find(value);
            if (sh < 0)
                return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': shape=%s (expected linear or sqrt)", text,
                                    value);
            s.shape = (sw_decay_shape)sh;
            continue;
        }
        if (tok) {
            if (sw_parse_tokens(value, tok) != SW_OK)
                return sw_error_set(err, SW_ERR_INVALID,
                                    "schedule '%s': %s=%s is not a token count (expected e.g. 500, 100k, 1.5M)", text,
                                    key, value);
            continue;
        }
        double d;
        if (sw_parse_double(value, &d) != SW_OK)
            return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': %s=%s is not a number", text, key, value);
        if (!strcmp(key, "lr")) s.lr = d;
        else if (!strcmp(key, "min")) s.min_frac = d;
        else if (!strcmp(key, "gamma")) s.gamma = d;
        else if (!strcmp(key, "mult")) s.mult = d;
        else if (!strcmp(key, "decay")) s.decay_frac = d;
    }
    if (!(s.lr > 0))
        return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': lr=%g (expected a positive number)", text, s.lr);
    if (!(s.min_frac >= 0 && s.min_frac <= 1))
        return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': min=%g (expected a fraction of lr in [0, 1])", text,
                            s.min_frac);
    if (!(s.gamma > 0 && s.gamma <= 1))
        return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': gamma=%g (expected a factor in (0, 1])", text, s.gamma);
    if (!(s.mult >= 1 && s.mult <= 1000))
        return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': mult=%g (expected a growth factor in [1, 1000])", text,
                            s.mult);
    if (!(s.decay_frac > 0 && s.decay_frac <= 1))
        return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': decay=%g (expected a fraction in (0, 1])", text,
                            s.decay_frac);
    if (s.kind == SW_SCHEDULE_STEP && s.step == 0)
        return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': step needs every=TOKENS (e.g. every=1M)", text);
    if (s.kind == SW_SCHEDULE_RESTARTS && s.period == 0)
        return sw_error_set(err, SW_ERR_INVALID, "schedule '%s': restarts needs period=TOKENS (e.g. period=1M)", text);
    *out = s;
    return SW_OK;
}

char *sw_schedule_format(const sw_schedule *s, char *buf, size_t len)
{
    if (!buf || len == 0) return buf;
    int ki = kind_index(s->kind);
    if (ki < 0) {
        snprintf(buf, len, "unknown");
        return buf;
    }
    const char *keys = kinds[ki].keys;
    char a[40], b[40];
    size_t used = (size_t)snprintf(buf, len, "%s:lr=%s", kinds[ki].name, sw_format_double(s->lr, a, sizeof a));
#define APPEND(...)                                                                              \
    do {                                                                                         \
        if (used < len) used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__);           \
    } while (0)
    if (sw_kv_takes_key(keys, "warmup")) APPEND(",warmup=%s", sw_format_tokens_exact(s->warmup, 0, a, sizeof a));
    if (sw_kv_takes_key(keys, "every"))
        APPEND(",every=%s,gamma=%s", sw_format_tokens_exact(s->step, 0, a, sizeof a), sw_format_double(s->gamma, b, sizeof b));
    if (sw_kv_takes_key(keys, "min")) APPEND(",min=%s", sw_format_double(s->min_frac, a, sizeof a));
    if (sw_kv_takes_key(keys, "total")) APPEND(",total=%s", sw_format_tokens_exact(s->total, 0, a, sizeof a));
    if (sw_kv_takes_key(keys, "period"))
        APPEND(",period=%s,mult=%s", sw_format_tokens_exact(s->period, 0, a, sizeof a), sw_format_double(s->mult, b, sizeof b));
    if (sw_kv_takes_key(keys, "decay")) {
        APPEND(",decay=%s", sw_format_double(s->decay_frac, a, sizeof a));
        if (s->decay_start) APPEND(",decay_start=%s", sw_format_tokens_exact(s->decay_start, 0, a, sizeof a));
        if (s->decay) APPEND(",decay_tokens=%s", sw_format_tokens_exact(s->decay, 0, a, sizeof a));
        if (s->shape != SW_DECAY_LINEAR) APPEND(",shape=%s", sw_decay_shape_name(s->shape));
    }
#undef APPEND
    return buf;
}

/* (1 + cos(pi x)) / 2 for x in [0, 1]: 1 -> 0. */
static double half_cosine(double x) { return 0.5 * (1.0 + cos(M_PI * x)); }

/* wsd's decay window [start, start + len); has_decay 0 when `total` is not
 * known and no explicit start was given (then it stays stable). */
static int wsd_window(const sw_schedule *s, double *start, double *len)
{
    if (s->decay_start == 0 && s->total == 0) return 0;
    *start = s->decay_start ? (double)s->decay_start : (double)s->total * (1.0 - s->decay_frac);
    *len = s->decay ? (double)s->decay : (double)s->total * s->decay_frac;
    return 1;
}

double sw_schedule_lr(const sw_schedule *s, uint64_t tokens)
{
    const double lr = s->lr, floor_lr = s->lr * s->min_frac, t = (double)tokens;
    if (s->kind != SW_SCHEDULE_CONSTANT && tokens < s->warmup) return lr * t / (double)s->warmup;
    const double tw = t - (double)s->warmup; /* tokens since warm-up ended */
    switch (s->kind) {
    case SW_SCHEDULE_CONSTANT:
    case SW_SCHEDULE_WARMUP:
        return lr;
    case SW_SCHEDULE_STEP:
        return lr * pow(s->gamma, floor(t / (double)s->step));
    case SW_SCHEDULE_COSINE: {
        if (s->total == 0) return lr; /* length unknown: hold the peak */
        if (tokens >= s->total) return floor_lr;
        double span = (double)s->total - (double)s->warmup;
        return floor_lr + (lr - floor_lr) * half_cosine(tw / span);
    }
    case SW_SCHEDULE_RESTARTS: {
        double period = (double)s->period, pos = tw;
        if (s->mult == 1.0) {
            pos = fmod(tw, period);
        } else {
            /* The periods grow geometrically, so this loop runs O(log t) times. */
            while (pos >= period) {
                pos -= period;
                period *= s->mult;
            }
        }
        return floor_lr + (lr - floor_lr) * half_cosine(pos / period);
    }
    case SW_SCHEDULE_WSD: {
        double start, len;
        if (!wsd_window(s, &start, &len) || t < start) return lr;
        if (t >= start + len) return floor_lr;
        double x = (t - start) / len;
        return lr - (lr - floor_lr) * (s->shape == SW_DECAY_SQRT ? sqrt(x) : x);
    }
    }
    return lr;
}

/* Any kind becomes a wsd that stays at the current rate and decays linearly
 * from it to the same absolute floor over decay_tokens: the stop's cool-down
 * starts from wherever the run is (mid warm-up, mid cosine, mid decay). */
void sw_schedule_decay_now(sw_schedule *s, uint64_t tokens, uint64_t decay_tokens)
{
    double now = sw_schedule_lr(s, tokens), floor_lr = s->lr * s->min_frac;
    if (s->kind != SW_SCHEDULE_WSD) s->shape = SW_DECAY_LINEAR;
    /* 0 reads as "the default length" in the struct; a zero-length cool-down
     * is a drop to the floor, which one token expresses exactly. */
    if (decay_tokens == 0) decay_tokens = 1;
    s->kind = SW_SCHEDULE_WSD;
    s->lr = now;
    /* A rate already at or below the floor (early warm-up) just holds. */
    s->min_frac = now > 0 ? (floor_lr < now ? floor_lr / now : 1.0) : 0.0;
    s->warmup = 0;
    s->decay_start = tokens;
    s->decay = decay_tokens;
    s->total = tokens + decay_tokens;
    /* Keep the defaults consistent with the explicit window (decay_start = 0
     * reads as total * (1 - decay_frac), which is then 0 as well). */
    s->decay_frac = s->total ? (double)decay_tokens / (double)s->total : 1.0;
    if (s->decay_frac <= 0) s->decay_frac = 1.0;
}
