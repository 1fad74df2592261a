/* Samplers: the spec text, the random sampler and the dispatch. The Halton
 * sequence and TPE live in their own files. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw_search_rng(sw_rng *r, uint64_t seed, uint64_t stream, uint64_t number)
{
    sw_rng_seed(r, sw_hash3(seed, stream, number));
}

double sw_search_score(int64_t depth, double value)
{
    /* NaN: below every value at this depth (EM >= 0) */
    return (double)depth * 1000.0 + (value == value ? value : -1.0);
}

/* "key=value" pairs after "name:", comma-separated; calls set for each.
 * Returns SW_OK or the first failure. */
typedef sw_status (*kv_fn)(void *o, const char *key, const char *value, sw_error *err);

static sw_status parse_kv(const char *what, const char *opts, kv_fn set, void *o, sw_error *err)
{
    char buf[512];
    if (strlen(opts) >= sizeof buf) return sw_error_set(err, SW_ERR_INVALID, "%s: options too long", what);
    snprintf(buf, sizeof buf, "%s", opts);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv || !eq[1])
            return sw_error_set(err, SW_ERR_INVALID, "%s: '%s': expected KEY=VALUE", what, kv);
        *eq = 0;
        sw_status st = set(o, kv, eq + 1, err);
        if (st) return st;
    }
    return SW_OK;
}

static sw_status set_tpe(void *vo, const char *k, const char *v, sw_error *err)
{
    sw_sampler_options *o = vo;
    long long n;
    double g;
    if (!strcmp(k, "startup")) {
        if (sw_parse_int(v, 0, 1000000, &n)) return sw_error_set(err, SW_ERR_INVALID, "tpe: startup=%s: expected a whole number >= 0", v);
        o->startup = (size_t)n;
    } else if (!strcmp(k, "gamma")) {
        if (sw_parse_double(v, &g) || !(g > 0 && g < 1)) return sw_error_set(err, SW_ERR_INVALID, "tpe: gamma=%s: expected a share in (0, 1)", v);
        o->gamma = g;
    } else if (!strcmp(k, "candidates")) {
        if (sw_parse_int(v, 1, 100000, &n)) return sw_error_set(err, SW_ERR_INVALID, "tpe: candidates=%s: expected a whole number >= 1", v);
        o->candidates = (size_t)n;
    } else {
        return sw_error_set(err, SW_ERR_INVALID, "tpe: unknown option '%s' (startup, gamma, candidates)", k);
    }
    return SW_OK;
}

sw_status sw_sampler_parse(const char *spec, sw_sampler_options *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->startup = 10;
    out->gamma = 0.2;
    out->candidates = 24;
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n == 6 && !strncmp(spec, "random", 6)) out->kind = SW_SAMPLER_RANDOM;
    else if (n == 6 && !strncmp(spec, "halton", 6)) out->kind = SW_SAMPLER_HALTON;
    else if (n == 3 && !strncmp(spec, "tpe", 3)) out->kind = SW_SAMPLER_TPE;
    else return sw_error_set(err, SW_ERR_INVALID, "sampler '%s': expected random, halton or tpe[:startup=N,gamma=G,candidates=N]", spec);
    if (!colon) return SW_OK;
    if (out->kind != SW_SAMPLER_TPE) return sw_error_set(err, SW_ERR_INVALID, "sampler '%s': %.*s takes no options", spec, (int)n, spec);
    return parse_kv("tpe", colon + 1, set_tpe, out, err);
}

size_t sw_sampler_format(const sw_sampler_options *o, char *buf, size_t cap)
{
    int n;
    if (o->kind == SW_SAMPLER_RANDOM) n = snprintf(buf, cap, "random");
    else if (o->kind == SW_SAMPLER_HALTON) n = snprintf(buf, cap, "halton");
    else {
        char g[32];
        n = snprintf(buf, cap, "tpe:startup=%zu,gamma=%s,candidates=%zu", o->startup, sw_format_double(o->gamma, g, sizeof g),
                     o->candidates);
    }
    return n < 0 ? 0 : (size_t)n;
}

sw_status sw_sampler_propose(const sw_sampler_options *o, const sw_space *space, uint64_t seed, uint64_t number,
                             const sw_search_obs *history, size_t n_history, double *point, sw_error *err)
{
    size_t d = sw_space_n_dims(space);
    if (o->kind == SW_SAMPLER_RANDOM) {
        sw_rng r;
        sw_search_rng(&r, seed, SW_SEARCH_STREAM_RANDOM, number);
        for (size_t j = 0; j < d; j++) point[j] = sw_rng_uniform(&r);
        return SW_OK;
    }
    if (o->kind == SW_SAMPLER_HALTON) return sw_halton_point(seed, number, d, point, err);
    return sw_sampler_tpe(o, space, seed, number, history, n_history, point, err);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sw_search_sorted_at(double *v, size_t n, size_t k)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[k < n ? k : n - 1];
}
