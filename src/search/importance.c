/* Importance of each dimension: the share of the spread of the trials'
 * ranks that grouping them by the dimension's value explains (formula in
 * include/stopwise/search.h).
 *
 * Why this and not fANOVA's random forest: studies here have tens of trials,
 * where a forest's marginals are mostly noise; a one-way decomposition per
 * dimension, on ranks (so the pruned trials' scores, which mix depth and EM,
 * count by order only), with the chance share of the bins subtracted, is
 * honest at that size and says "none of these matter" when nothing does.
 * It sees main effects only: two dimensions that matter together show as
 * less than they are. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct keyed {
    double key;
    size_t i;
} keyed;

static int by_key(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Ranks 1..n of v, ties sharing their mean rank. */
static void ranks(const double *v, size_t n, keyed *tmp, double *out)
{
    for (size_t i = 0; i < n; i++) tmp[i] = (keyed){v[i], i};
    qsort(tmp, n, sizeof *tmp, by_key);
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b + 1 < n && tmp[b + 1].key == tmp[a].key) b++;
        double mean = 0.5 * (double)(a + b) + 1;
        for (size_t k = a; k <= b; k++) out[tmp[k].i] = mean;
        a = b + 1;
    }
}

/* epsilon-squared of r grouped by group[] (values 0..k-1). */
static double eps_squared(const double *r, const size_t *group, size_t n, size_t k, double *sum, size_t *cnt)
{
    memset(sum, 0, k * sizeof *sum);
    memset(cnt, 0, k * sizeof *cnt);
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        sum[group[i]] += r[i];
        cnt[group[i]]++;
        mean += r[i];
    }
    mean /= (double)n;
    double sst = 0, ssb = 0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) sst += (r[i] - mean) * (r[i] - mean);
    for (size_t g = 0; g < k; g++) {
        if (!cnt[g]) continue;
        used++;
        double m = sum[g] / (double)cnt[g];
        ssb += (double)cnt[g] * (m - mean) * (m - mean);
    }
    if (used < 2 || n <= used || sst <= 0) return 0;
    double msw = (sst - ssb) / (double)(n - used);
    double e = (ssb - (double)(used - 1) * msw) / (sst + msw);
    return e > 0 ? e : 0;
}

sw_status sw_search_importance(const sw_space *s, const double *points, const double *scores, size_t n,
                               double *importance, sw_error *err)
{
    size_t d = sw_space_n_dims(s);
    if (n < 3) return sw_error_set(err, SW_ERR_INVALID, "importance needs at least 3 trials, got %zu", n);
    size_t bins = (size_t)lround(sqrt((double)n / 2));
    if (bins < 2) bins = 2;
    size_t kmax = bins;
    for (size_t j = 0; j < d; j++)
        if (sw_space_dim_n_choices(s, j) > kmax) kmax = sw_space_dim_n_choices(s, j);
    double *r = malloc(n * sizeof *r), *col = malloc(n * sizeof *col), *sum = malloc(kmax * sizeof *sum);
    keyed *tmp = malloc(n * sizeof *tmp);
    size_t *group = malloc(n * sizeof *group), *cnt = malloc(kmax * sizeof *cnt);
    if (!r || !col || !sum || !tmp || !group || !cnt) {
        free(r), free(col), free(sum), free(tmp), free(group), free(cnt);
        return sw_error_set(err, SW_ERR_NOMEM, "importance: out of memory");
    }
    ranks(scores, n, tmp, r);
    double total = 0;
    for (size_t j = 0; j < d; j++) {
        size_t k = sw_space_dim_n_choices(s, j);
        for (size_t i = 0; i < n; i++) col[i] = points[i * d + j];
        if (k) {
            for (size_t i = 0; i < n; i++) {
                size_t g = (size_t)(col[i] * (double)k);
                group[i] = g < k ? g : k - 1;
            }
        } else {
            /* equal-count bins over the sorted coordinate; equal values share a bin */
            k = bins;
            for (size_t i = 0; i < n; i++) tmp[i] = (keyed){col[i], i};
            qsort(tmp, n, sizeof *tmp, by_key);
            for (size_t a = 0; a < n;) {
                size_t b = a;
                while (b + 1 < n && tmp[b + 1].key == tmp[a].key) b++;
                for (size_t q = a; q <= b; q++) group[tmp[q].i] = a * k / n;
                a = b + 1;
            }
        }
        importance[j] = eps_squared(r, group, n, k, sum, cnt);
        total += importance[j];
    }
    for (size_t j = 0; j < d; j++) importance[j] = total > 0 ? importance[j] / total : 0;
    free(r), free(col), free(sum), free(tmp), free(group), free(cnt);
    return SW_OK;
}
