/* Pruners: the spec text, decision points and hyperband's brackets, and the
 * dispatch to each pruner's decision (pruner_*.c). Formulas in
 * include/stopwise/search.h. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 64

static sw_status bad(sw_error *err, const char *spec, const char *what, const char *v)
{
    return sw_error_set(err, SW_ERR_INVALID, "pruner '%s': %s%s%s", spec, what, v ? ", got " : "", v ? v : "");
}

static sw_status set_option(sw_pruner_options *o, const char *spec, const char *k, const char *v, sw_error *err)
{
    long long n;
    uint64_t t;
    int hb = o->kind == SW_PRUNER_ASHA || o->kind == SW_PRUNER_HYPERBAND;
    if (hb && !strcmp(k, "eta")) {
        if (sw_parse_int(v, 2, 100, &n)) return bad(err, spec, "eta=N: a whole number from 2 to 100", v);
        o->eta = (int)n;
    } else if (hb && !strcmp(k, "min")) {
        if (sw_parse_tokens(v, &t) || !t) return bad(err, spec, "min=TOKENS: a positive token count", v);
        o->min_tokens = t;
    } else if (o->kind == SW_PRUNER_MEDIAN && !strcmp(k, "startup")) {
        if (sw_parse_int(v, 0, 1000000, &n)) return bad(err, spec, "startup=N: a whole number >= 0", v);
        o->startup = (size_t)n;
    } else if (o->kind == SW_PRUNER_MEDIAN && !strcmp(k, "warmup")) {
        if (sw_parse_tokens(v, &t)) return bad(err, spec, "warmup=TOKENS: a token count", v);
        o->warmup = t;
    } else if (o->kind == SW_PRUNER_MEDIAN && !strcmp(k, "every")) {
        if (sw_parse_tokens(v, &t) || !t) return bad(err, spec, "every=TOKENS: a positive token count", v);
        o->every = t;
    } else {
        return bad(err, spec,
                   hb ? "options are eta=N and min=TOKENS" : "options are startup=N, warmup=TOKENS and every=TOKENS",
                   k);
    }
    return SW_OK;
}

sw_status sw_pruner_parse(const char *spec, sw_pruner_options *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->eta = 3;
    out->startup = 5;
    out->level = 0.9;
    snprintf(out->policy, sizeof out->policy, "auto");
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    static const struct { const char *name; sw_pruner_kind kind; } names[] = {
        {"none", SW_PRUNER_NONE}, {"asha", SW_PRUNER_ASHA}, {"hyperband", SW_PRUNER_HYPERBAND},
        {"median", SW_PRUNER_MEDIAN}, {"policy", SW_PRUNER_POLICY}};
    size_t i = 0;
    while (i < 5 && !(strlen(names[i].name) == n && !strncmp(spec, names[i].name, n))) i++;
    if (i == 5)
        return bad(err, spec, "expected none, asha[:eta=N,min=TOKENS], hyperband[:eta=N,min=TOKENS], "
                              "median[:startup=N,warmup=TOKENS,every=TOKENS] or policy[:POLICY]", NULL);
    out->kind = names[i].kind;
    if (!colon) return SW_OK;
    if (out->kind == SW_PRUNER_NONE) return bad(err, spec, "none takes no options", NULL);
    if (out->kind == SW_PRUNER_POLICY) {
        if (!colon[1] || strlen(colon + 1) >= sizeof out->policy) return bad(err, spec, "policy:POLICY needs a policy", NULL);
        snprintf(out->policy, sizeof out->policy, "%s", colon + 1);
        return SW_OK;
    }
    char buf[256];
    if (strlen(colon + 1) >= sizeof buf) return bad(err, spec, "options too long", NULL);
    snprintf(buf, sizeof buf, "%s", colon + 1);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv || !eq[1]) return bad(err, spec, "expected KEY=VALUE", kv);
        *eq = 0;
        sw_status st = set_option(out, spec, kv, eq + 1, err);
        if (st) return st;
    }
    return SW_OK;
}

size_t sw_pruner_format(const sw_pruner_options *o, char *buf, size_t cap)
{
    char a[24], b[24];
    int n = 0;
    switch (o->kind) {
    case SW_PRUNER_NONE: n = snprintf(buf, cap, "none"); break;
    case SW_PRUNER_ASHA:
    case SW_PRUNER_HYPERBAND:
        if (o->min_tokens)
            n = snprintf(buf, cap, "%s:eta=%d,min=%s", o->kind == SW_PRUNER_ASHA ? "asha" : "hyperband", o->eta,
                         sw_format_tokens_exact(o->min_tokens, 3, a, sizeof a));
        else
            n = snprintf(buf, cap, "%s:eta=%d", o->kind == SW_PRUNER_ASHA ? "asha" : "hyperband", o->eta);
        break;
    case SW_PRUNER_MEDIAN:
        n = snprintf(buf, cap, "median:startup=%zu", o->startup);
        if (o->warmup && n >= 0 && (size_t)n < cap) n += snprintf(buf + n, cap - (size_t)n, ",warmup=%s", sw_format_tokens_exact(o->warmup, 3, a, sizeof a));
        if (o->every && n >= 0 && (size_t)n < cap) n += snprintf(buf + n, cap - (size_t)n, ",every=%s", sw_format_tokens_exact(o->every, 3, b, sizeof b));
        break;
    case SW_PRUNER_POLICY: n = snprintf(buf, cap, "policy:%s", o->policy); break;
    }
    return n < 0 ? 0 : (size_t)n;
}

/* The first rung r: min, else B / eta^3, at least 1. */
static uint64_t first_rung(const sw_pruner_options *o, uint64_t budget)
{
    if (o->min_tokens) return o->min_tokens;
    uint64_t r = budget / ((uint64_t)o->eta * (uint64_t)o->eta * (uint64_t)o->eta);
    return r ? r : 1;
}

/* How many rungs r eta^k lie below the budget: S. */
static int rungs_below(const sw_pruner_options *o, uint64_t budget)
{
    int S = 0;
    for (double t = (double)first_rung(o, budget); t < (double)budget && S < MAX_POINTS; t *= o->eta) S++;
    return S;
}

int sw_pruner_n_brackets(const sw_pruner_options *o, uint64_t budget)
{
    return o->kind == SW_PRUNER_HYPERBAND ? rungs_below(o, budget) + 1 : 1;
}

int sw_pruner_bracket(const sw_pruner_options *o, uint64_t budget, uint64_t seed, uint64_t number)
{
    if (o->kind != SW_PRUNER_HYPERBAND) return 0;
    int S = rungs_below(o, budget);
    double w[MAX_POINTS + 1], total = 0;
    for (int s = 0; s <= S; s++) {
        int below = S - s; /* the rungs bracket s has */
        w[s] = ceil((double)(S + 1) / (double)(below + 1) * pow(o->eta, below));
        total += w[s];
    }
    sw_rng r;
    sw_search_rng(&r, seed, SW_SEARCH_STREAM_BRACKET, number);
    double u = sw_rng_uniform(&r) * total;
    for (int s = 0; s <= S; s++) {
        if (u < w[s]) return s;
        u -= w[s];
    }
    return S;
}

size_t sw_pruner_points(const sw_pruner_options *o, uint64_t budget, int bracket, uint64_t *points, size_t cap)
{
    size_t n = 0;
    if (o->kind == SW_PRUNER_NONE) return 0;
    if (o->kind == SW_PRUNER_MEDIAN) {
        uint64_t every = o->every ? o->every : budget / 8 ? budget / 8 : 1;
        uint64_t t = o->warmup ? o->warmup : every;
        for (; t < budget && n < MAX_POINTS; t += every) {
            if (n < cap) points[n] = t;
            n++;
        }
        return n;
    }
    double t = (double)first_rung(o, budget);
    for (int s = 0; s < bracket; s++) t *= o->eta;
    for (; t < (double)budget && n < MAX_POINTS; t *= o->eta) {
        if (n < cap) points[n] = (uint64_t)t;
        n++;
    }
    return n;
}

sw_status sw_pruner_decide(const sw_pruner_options *o, const sw_pruner_input *in, sw_pruner_decision *out,
                           sw_error *err)
{
    memset(out, 0, sizeof *out);
    if (in->n_peers && !in->peers) return sw_error_set(err, SW_ERR_INVALID, "pruner: peers missing");
    switch (o->kind) {
    case SW_PRUNER_NONE: return SW_OK;
    case SW_PRUNER_ASHA:
    case SW_PRUNER_HYPERBAND: sw_pruner_asha_decide(o->eta, in, out); return SW_OK;
    case SW_PRUNER_MEDIAN: sw_pruner_median_decide(o->startup, in, out); return SW_OK;
    case SW_PRUNER_POLICY: return sw_pruner_policy_decide(o->level, in, out, err);
    }
    return sw_error_set(err, SW_ERR_INVALID, "unknown pruner %d", (int)o->kind);
}
