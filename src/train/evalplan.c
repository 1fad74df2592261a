/* The evaluation plan: halves, sample, sizing and the paired test (evalplan.h). */
#include "train/evalplan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void sw_eval_halves(size_t n, uint64_t seed, uint32_t *select, size_t *n_select, uint32_t *score, size_t *n_score)
{
    uint32_t *perm = malloc(sizeof(uint32_t) * (n ? n : 1));
    size_t ns = (n + 1) / 2;
    if (!perm) { /* no memory for a permutation: alternate examples (still disjoint) */
        *n_select = *n_score = 0;
        for (size_t i = 0; i < n; i++)
            if (i % 2 == 0) select[(*n_select)++] = (uint32_t)i;
            else score[(*n_score)++] = (uint32_t)i;
        return;
    }
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    sw_rng rng;
    sw_rng_seed(&rng, sw_hash3(seed, 0x5e1ec7, n));
    sw_rng_shuffle(&rng, perm, n);
    memcpy(select, perm, sizeof(uint32_t) * ns);
    memcpy(score, perm + ns, sizeof(uint32_t) * (n - ns));
    qsort(select, ns, sizeof(uint32_t), cmp_u32);
    qsort(score, n - ns, sizeof(uint32_t), cmp_u32);
    *n_select = ns;
    *n_score = n - ns;
    free(perm);
}

void sw_eval_sample_order(const uint32_t *select, size_t n_select, uint64_t seed, uint32_t *order)
{
    memcpy(order, select, sizeof(uint32_t) * n_select);
    sw_rng rng;
    sw_rng_seed(&rng, sw_hash3(seed, 0x5a3b1e, n_select));
    sw_rng_shuffle(&rng, order, n_select);
}

/* x rounded to two significant digits, up or down. */
static double two_digits(double x, int up)
{
    if (x <= 0) return x;
    double p = pow(10, floor(log10(x)) - 1);
    return (up ? ceil(x / p - 1e-9) : floor(x / p + 1e-9)) * p;
}

/* Examples the final report reads when it reads at most k per split. */
static size_t final_examples(const sw_eval_sizing *z, size_t k)
{
    return (k < z->n_score ? k : z->n_score) + (k < z->n_test ? k : z->n_test);
}

sw_eval_sizes sw_eval_size(const sw_eval_sizing *z)
{
    double s = z->share > 0 && z->share < 1 ? z->share : 0.10;
    int w = z->weight_sets > 0 ? z->weight_sets : 1;
    uint64_t e0 = z->every ? z->every : (z->budget / 100 ? z->budget / 100 : 1);
    uint64_t cap = z->budget / 10 ? z->budget / 10 : 1;
    if (cap < e0) cap = e0;
    size_t ns = z->n_select ? z->n_select : 1;
    int timed = z->c_tok > 0 && z->c_ex > 0;
    sw_eval_sizes out = {.final = z->final_limit ? z->final_limit : SIZE_MAX};
    /* the final report's part of the allowance A, and the ratio left to periodic evaluation */
    double ratio = s / (1 - s);
    if (timed) {
        double allowance = ratio * (double)z->budget * z->c_tok;
        if (!z->final_limit && (double)final_examples(z, SIZE_MAX) * z->c_ex > allowance / 4) {
            double fit = two_digits(allowance / 4 / (2 * z->c_ex), 0);
            out.final = fit > SW_EVAL_FINAL_MIN ? (size_t)fit : SW_EVAL_FINAL_MIN;
        }
        double left = allowance - (double)final_examples(z, out.final) * z->c_ex;
        ratio *= left > 0 ? left / allowance : 0;
    }
    if (out.final >= z->n_score && out.final >= z->n_test) out.final = SIZE_MAX;
    if (z->limit) out.sample = z->limit < ns ? z->limit : ns;
    else if (!timed) out.sample = ns;
    else {
        double fit = ratio * (double)e0 * z->c_tok / (w * z->c_ex);
        out.sample = fit >= (double)ns ? ns : (size_t)two_digits(fit, 0);
        size_t floor_n = ns < SW_EVAL_MIN_SAMPLE ? ns : SW_EVAL_MIN_SAMPLE;
        if (out.sample < floor_n) out.sample = floor_n;
    }
    uint64_t e = e0;
    if (!z->every && timed) {
        double need = ratio > 0 ? (double)out.sample * w * z->c_ex / (z->c_tok * ratio) : (double)cap;
        if (need > (double)e) e = need < (double)cap ? (uint64_t)two_digits(need, 1) : cap;
        if (e > cap) e = cap;
    }
    out.every = e ? e : 1;
    return out;
}

double sw_eval_sign_test(size_t b, size_t c)
{
    size_t n = b + c;
    if (n == 0) return 1;
    /* sum_{k>=b} C(n,k) / 2^n, in logs so large n does not overflow */
    double p = 0;
    for (size_t k = b; k <= n; k++)
        p += exp(lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) - (double)n * log(2.0));
    return p > 1 ? 1 : p;
}
