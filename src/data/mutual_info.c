/* Mutual information between a continuous feature and a class label, by
 * Ross's k-nearest-neighbour estimator (data.h sw_mutual_info; Ross 2014,
 * "Mutual information between discrete and continuous data sets", PLoS ONE
 * 9(2): e87357, the discrete-continuous form of Kraskov, Stoegbauer and
 * Grassberger 2004, "Estimating mutual information", Phys. Rev. E 69).
 *
 * Why k-NN and not binning (docs/FEATURES.md): a histogram estimate moves
 * with its bin width (too wide hides a dependence, too narrow makes noise
 * look informative, and the bias grows with the number of bins); features
 * with heavy tails or a few repeated values make any fixed width wrong
 * somewhere. The k-NN estimate adapts its resolution to the local density,
 * has one small parameter (k = 3, as scikit-learn's mutual_info_classif,
 * which uses the same estimator, so the reference is comparable), and is
 * invariant to any monotone rescaling of the feature's distances.
 *
 * In one dimension distances are |x_i - x_j|, so sorting once gives every
 * k-th neighbour by walking outwards and every count by binary search:
 * O(n log n) per feature. */
#include "data/internal.h"

#include <math.h>
#include <stdlib.h>

/* digamma for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10,
 * then psi(x) ~ ln x - 1/(2x) - 1/(12x^2) + 1/(120x^4) - 1/(252x^6) + 1/(240x^8),
 * whose error there is below 1e-12. */
static double digamma(double x)
{
    double r = 0;
    while (x < 10) {
        r -= 1 / x;
        x += 1;
    }
    double f = 1 / (x * x);
    return r + log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240))));
}

typedef struct { double v; int32_t y; uint32_t i; } point;

static int point_cmp(const void *pa, const void *pb)
{
    const point *a = pa, *b = pb;
    if (a->v != b->v) return a->v < b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i; /* a total order: the same result every time */
}

/* The number of a[0..n) (ascending) within distance d of a[p], a[p] itself
 * excluded. The tests compare the same differences the neighbour walk
 * computed d from, so the neighbour that set d always counts. */
static size_t within(const double *a, size_t n, size_t p, double d)
{
    double v = a[p];
    size_t lo = 0, hi = p; /* first j <= p with v - a[j] <= d */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v - a[mid] <= d) hi = mid;
        else lo = mid + 1;
    }
    size_t left = lo;
    lo = p, hi = n; /* first j >= p with a[j] - v > d */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] - v <= d) lo = mid + 1;
        else hi = mid;
    }
    return lo - left - 1;
}

double sw_mutual_info(const float *x, size_t stride, const int32_t *y, size_t n, int k)
{
    if (n < 2 || k < 1) return 0;
    int32_t K = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0) return NAN;
        if (y[i] + 1 > K) K = y[i] + 1;
    }
    size_t *count = calloc((size_t)K + 1, sizeof *count), *start = calloc((size_t)K + 1, sizeof *start);
    point *pt = malloc(n * sizeof *pt);
    double *all = malloc(n * sizeof *all), *cls = malloc(n * sizeof *cls);
    size_t *pos = malloc(n * sizeof *pos);
    double mi = NAN;
    if (!count || !start || !pt || !all || !cls || !pos) goto done;
    for (size_t i = 0; i < n; i++) count[y[i]]++;
    size_t N = 0; /* points whose class has another member */
    for (size_t i = 0; i < n; i++)
        if (count[y[i]] >= 2) pt[N++] = (point){x[i * stride], y[i], (uint32_t)i};
    mi = 0;
    if (N < 2) goto done;
    qsort(pt, N, sizeof *pt, point_cmp);
    /* each class's values, ascending, one after the other in cls */
    for (int32_t c = 1; c <= K; c++) start[c] = start[c - 1] + (count[c - 1] >= 2 ? count[c - 1] : 0);
    size_t *fill = calloc((size_t)K, sizeof *fill);
    if (!fill) {
        mi = NAN;
        goto done;
    }
    for (size_t i = 0; i < N; i++) {
        all[i] = pt[i].v;
        pos[i] = fill[pt[i].y]++;
        cls[start[pt[i].y] + pos[i]] = pt[i].v;
    }
    free(fill);
    double sum_ny = 0, sum_k = 0, sum_m = 0;
    for (size_t i = 0; i < N; i++) {
        size_t nc = count[pt[i].y];
        const double *c = cls + start[pt[i].y];
        int kc = (size_t)k < nc ? k : (int)(nc - 1);
        /* the kc-th nearest neighbour in the class: walk outwards from i */
        size_t p = pos[i];
        long lo = (long)p - 1;
        size_t hi = p + 1;
        double d = 0, v = pt[i].v;
        for (int t = 0; t < kc; t++) {
            double dl = lo >= 0 ? v - c[lo] : INFINITY, dh = hi < nc ? c[hi] - v : INFINITY;
            if (dl <= dh) d = dl, lo--;
            else d = dh, hi++;
        }
        sum_ny += digamma((double)nc);
        sum_k += digamma((double)kc);
        sum_m += digamma((double)within(all, N, i, d));
    }
    double Nd = (double)N;
    mi = digamma(Nd) - sum_ny / Nd + sum_k / Nd - sum_m / Nd;
    if (mi < 0) mi = 0;
done:
    free(count);
    free(start);
    free(pt);
    free(all);
    free(cls);
    free(pos);
    return mi;
}
