/* The batch-size ramp and its learning-rate scaling (nn.h sw_batch_ramp;
 * docs/BATCH.md). Sizes are integers computed in integers, so a test can
 * state B(t) at hand-computed token counts exactly. */
#include "stopwise/nn.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/kvtext.h"

static const char *const scaling_names[] = {"sqrt", "linear", "none"};

static int gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

sw_status sw_batch_ramp_parse(const char *text, sw_batch_ramp *out, sw_error *err)
{
    if (!text) return sw_error_set(err, SW_ERR_INVALID, "batch ramp: no text given");
    sw_batch_ramp r = {.over = 0.3, .scale = SW_LR_SCALING_SQRT};
    const char *keys = "from, to, over, over_tokens, scale, ref", *cur = text;
    char key[32], value[64], item[96];
    int rc;
    while ((rc = sw_kv_next(&cur, key, sizeof key, value, sizeof value, item, sizeof item)) != 0) {
        if (rc < 0)
            return sw_error_set(err, SW_ERR_INVALID, "batch ramp '%s': bad item '%s' (expected key=value, keys: %s)", text,
                                item, keys);
        long long v = 0;
        double d = 0;
        if (!strcmp(key, "from") || !strcmp(key, "to") || !strcmp(key, "ref")) {
            if (sw_parse_int(value, 1, 4096, &v))
                return sw_error_set(err, SW_ERR_INVALID, "batch ramp '%s': %s=%s (expected a batch size in 1..4096)", text,
                                    key, value);
            *(!strcmp(key, "from") ? &r.from : !strcmp(key, "to") ? &r.to : &r.ref) = (int)v;
        } else if (!strcmp(key, "over")) {
            if (sw_parse_double(value, &d) || !(d >= 0 && d <= 1))
                return sw_error_set(err, SW_ERR_INVALID, "batch ramp '%s': over=%s (expected a fraction of the budget in [0, 1])",
                                    text, value);
            r.over = d;
        } else if (!strcmp(key, "over_tokens")) {
            if (sw_parse_tokens(value, &r.over_tokens))
                return sw_error_set(err, SW_ERR_INVALID, "batch ramp '%s': over_tokens=%s (expected a token count such as 500k)",
                                    text, value);
        } else if (!strcmp(key, "scale")) {
            int s = -1;
            for (int i = 0; i < 3; i++)
                if (!strcmp(value, scaling_names[i])) s = i;
            if (s < 0)
                return sw_error_set(err, SW_ERR_INVALID, "batch ramp '%s': scale=%s (expected sqrt, linear or none)", text,
                                    value);
            r.scale = (sw_lr_scaling)s;
        } else {
            return sw_error_set(err, SW_ERR_INVALID, "batch ramp '%s': unknown key '%s' (keys: %s)", text, key, keys);
        }
    }
    if (!r.from || !r.to)
        return sw_error_set(err, SW_ERR_INVALID, "batch ramp '%s': expected from=N and to=N (e.g. from=32,to=256)", text);
    if (r.from > r.to)
        return sw_error_set(err, SW_ERR_INVALID, "batch ramp '%s': from=%d is above to=%d (a ramp grows the batch)", text,
                            r.from, r.to);
    *out = r;
    return SW_OK;
}

char *sw_batch_ramp_format(const sw_batch_ramp *r, char *buf, size_t len)
{
    char a[40];
    if (r->over_tokens)
        snprintf(buf, len, "from=%d,to=%d,over_tokens=%s,scale=%s,ref=%d", r->from, r->to,
                 sw_format_tokens_exact(r->over_tokens, 0, a, sizeof a), scaling_names[r->scale],
                 r->ref ? r->ref : r->to);
    else
        snprintf(buf, len, "from=%d,to=%d,over=%s,scale=%s,ref=%d", r->from, r->to, sw_format_double(r->over, a, sizeof a),
                 scaling_names[r->scale], r->ref ? r->ref : r->to);
    return buf;
}

int sw_batch_ramp_unit(const sw_batch_ramp *r) { return gcd(r->from, r->to); }

uint64_t sw_batch_ramp_length(const sw_batch_ramp *r)
{
    return r->over_tokens ? r->over_tokens : (uint64_t)(r->over * (double)r->total);
}

int sw_batch_ramp_size(const sw_batch_ramp *r, uint64_t tokens)
{
    uint64_t R = sw_batch_ramp_length(r);
    if (tokens >= R) return r->to;
    int u = sw_batch_ramp_unit(r);
    uint64_t steps = (uint64_t)((r->to - r->from) / u); /* at most 4095: steps x tokens fits 64 bits below 2^52 tokens */
    return r->from + u * (int)(steps * tokens / R);
}

double sw_batch_ramp_lr_factor(const sw_batch_ramp *r, int batch)
{
    double x = (double)batch / (double)(r->ref ? r->ref : r->to);
    return r->scale == SW_LR_SCALING_SQRT ? sqrt(x) : r->scale == SW_LR_SCALING_LINEAR ? x : 1.0;
}
