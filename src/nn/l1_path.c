/* The L1 regularisation path of a multinomial logistic regression, for
 * ranking features (nn.h sw_l1_path_fit; docs/FEATURES.md).
 *
 * Sizes: n training rows, p features, K classes. W (p, K) row-major, b (K).
 * Loss and gradient at (W, b), with P = softmax(z W + b) and Y one-hot:
 *   f = (1/n) sum_i -log P_i,y_i
 *   dW = z^T (P - Y) / n   (p, K)        db = sum_i (P_i - Y_i) / n   (K)
 * FISTA step at penalty lambda from the extrapolated point V:
 *   W' = S(V - dW(V) / L, lambda / L),  S(a, c) = sign(a) max(|a| - c, 0)
 * and b' = Vb - db(V) / L (the intercepts are not penalised). */
#include "stopwise/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sw_l1_path_params sw_l1_path_default_params(void)
{
    sw_l1_path_params p = {.points = 50, .ratio = 1e-3, .max_iter = 2000, .tol = 1e-5};
    return p;
}

void sw_l1_path_free(sw_l1_path *path)
{
    if (!path) return;
    free(path->lambda);
    free(path->active);
    free(path->val_em);
    free(path->entry);
    free(path->order);
    free(path);
}

typedef struct {
    size_t n;
    int p, K;
    const double *z;  /* (n, p) standardised features */
    const int32_t *y; /* (n) */
    double *logit;    /* (K) scratch */
} problem;

/* The gradient (dW, db) of the mean cross-entropy at (W, b); returns the loss. */
static double gradient(const problem *q, const double *W, const double *b, double *dW, double *db)
{
    int p = q->p, K = q->K;
    memset(dW, 0, sizeof *dW * (size_t)p * (size_t)K);
    memset(db, 0, sizeof *db * (size_t)K);
    double loss = 0, *l = q->logit;
    for (size_t i = 0; i < q->n; i++) {
        const double *zi = q->z + i * (size_t)p;
        memcpy(l, b, sizeof *l * (size_t)K);
        for (int j = 0; j < p; j++)
            if (zi[j] != 0)
                for (int k = 0; k < K; k++) l[k] += zi[j] * W[(size_t)j * K + k];
        double mx = l[0], sum = 0;
        for (int k = 1; k < K; k++) mx = l[k] > mx ? l[k] : mx;
        for (int k = 0; k < K; k++) sum += l[k] = exp(l[k] - mx);
        loss -= log(l[q->y[i]] / sum);
        for (int k = 0; k < K; k++) l[k] = l[k] / sum - (k == q->y[i]); /* P - Y */
        for (int k = 0; k < K; k++) db[k] += l[k];
        for (int j = 0; j < p; j++)
            if (zi[j] != 0)
                for (int k = 0; k < K; k++) dW[(size_t)j * K + k] += zi[j] * l[k];
    }
    double inv = 1.0 / (double)q->n;
    for (size_t e = 0; e < (size_t)p * (size_t)K; e++) dW[e] *= inv;
    for (int k = 0; k < K; k++) db[k] *= inv;
    return loss * inv;
}

/* lambda_max of [z 1]^T [z 1] / n by power iteration (v -> A^T A v / n):
 * from below, so the caller adds a margin. */
static double top_eigenvalue(const problem *q, double *v, double *u)
{
    int p = q->p, d = p + 1; /* the ones column is the last coordinate */
    for (int j = 0; j < d; j++) v[j] = 1.0 + 0.01 * j; /* not orthogonal to the top vector */
    double lam = 1;
    for (int it = 0; it < 100; it++) {
        memset(u, 0, sizeof *u * (size_t)d);
        for (size_t i = 0; i < q->n; i++) {
            const double *zi = q->z + i * (size_t)p;
            double s = v[p];
            for (int j = 0; j < p; j++) s += zi[j] * v[j];
            for (int j = 0; j < p; j++) u[j] += zi[j] * s;
            u[p] += s;
        }
        double norm = 0;
        for (int j = 0; j < d; j++) {
            u[j] /= (double)q->n;
            norm += u[j] * u[j];
        }
        norm = sqrt(norm);
        if (norm == 0) return 1;
        double vv = 0, vu = 0;
        for (int j = 0; j < d; j++) vv += v[j] * v[j], vu += v[j] * u[j];
        lam = vu / vv;
        for (int j = 0; j < d; j++) v[j] = u[j] / norm;
    }
    return lam;
}

static double soft(double a, double c) { return a > c ? a - c : a < -c ? a + c : 0; }

/* FISTA at one penalty from the warm start (W, b); Wp, bp hold the previous
 * iterate, V, vb the extrapolated point, dW, db its gradient. */
static void solve(const problem *q, double lambda, double step, int max_iter, double tol, double *W, double *b,
                  double *Wp, double *bp, double *V, double *vb, double *dW, double *db)
{
    size_t m = (size_t)q->p * (size_t)q->K;
    int K = q->K;
    memcpy(Wp, W, sizeof *W * m);
    memcpy(bp, b, sizeof *b * (size_t)K);
    double t = 1;
    for (int it = 0; it < max_iter; it++) {
        double tn = (1 + sqrt(1 + 4 * t * t)) / 2, beta = (t - 1) / tn;
        for (size_t e = 0; e < m; e++) V[e] = W[e] + beta * (W[e] - Wp[e]);
        for (int k = 0; k < K; k++) vb[k] = b[k] + beta * (b[k] - bp[k]);
        gradient(q, V, vb, dW, db);
        double moved = 0, dir = 0; /* dir > 0: the step went against the momentum */
        for (size_t e = 0; e < m; e++) {
            double w = soft(V[e] - step * dW[e], step * lambda);
            dir += (V[e] - w) * (w - W[e]);
            moved = fmax(moved, fabs(w - W[e]));
            Wp[e] = W[e];
            W[e] = w;
        }
        for (int k = 0; k < K; k++) {
            double c = vb[k] - step * db[k];
            dir += (vb[k] - c) * (c - b[k]);
            moved = fmax(moved, fabs(c - b[k]));
            bp[k] = b[k];
            b[k] = c;
        }
        t = dir > 0 ? 1 : tn; /* restart: momentum off for the next step */
        if (moved < tol) return;
    }
}

typedef struct { int j, entry; double norm, near; } rank_key;

static int rank_cmp(const void *pa, const void *pb)
{
    const rank_key *a = pa, *b = pb;
    int ea = a->entry < 0 ? 1 << 30 : a->entry, eb = b->entry < 0 ? 1 << 30 : b->entry;
    if (ea != eb) return ea < eb ? -1 : 1;
    if (a->entry >= 0 && a->norm != b->norm) return a->norm > b->norm ? -1 : 1;
    if (a->entry < 0 && a->near != b->near) return a->near > b->near ? -1 : 1;
    return a->j - b->j;
}

sw_status sw_l1_path_fit(const float *X, const int32_t *y, size_t n, int p, int K, const float *Xv,
                         const int32_t *yv, size_t nv, const sw_l1_path_params *params, sw_l1_path **out,
                         sw_error *err)
{
    *out = NULL;
    sw_l1_path_params pp = params ? *params : sw_l1_path_default_params();
    if (n < 1 || p < 1 || K < 2 || pp.points < 1 || !(pp.ratio > 0 && pp.ratio <= 1) || pp.max_iter < 1)
        return sw_error_set(err, SW_ERR_INVALID, "l1 path: expected rows, features, 2+ classes, points >= 1, ratio in (0, 1]");
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= K) return sw_error_set(err, SW_ERR_INVALID, "l1 path: label %d of row %zu is not in [0, %d)", y[i], i, K);
    size_t m = (size_t)p * (size_t)K;
    sw_l1_path *r = calloc(1, sizeof *r);
    double *z = malloc(sizeof *z * n * (size_t)p), *mu = calloc((size_t)p, sizeof *mu), *sd = calloc((size_t)p, sizeof *sd);
    double *buf = calloc(6 * m + 5 * (size_t)K + 2 * ((size_t)p + 1), sizeof *buf);
    double *norm_at_entry = calloc((size_t)p, sizeof *norm_at_entry);
    rank_key *keys = malloc(sizeof *keys * (size_t)p);
    if (r) {
        r->points = pp.points;
        r->p = p;
        r->lambda = malloc(sizeof *r->lambda * (size_t)pp.points);
        r->active = calloc((size_t)pp.points, sizeof *r->active);
        r->val_em = malloc(sizeof *r->val_em * (size_t)pp.points);
        r->entry = malloc(sizeof *r->entry * (size_t)p);
        r->order = malloc(sizeof *r->order * (size_t)p);
    }
    sw_status st = SW_OK;
    if (!r || !z || !mu || !sd || !buf || !norm_at_entry || !keys || !r->lambda || !r->active || !r->val_em ||
        !r->entry || !r->order) {
        st = sw_error_set(err, SW_ERR_NOMEM, "l1 path: out of memory for %zu rows x %d features", n, p);
        goto done;
    }
    double *W = buf, *Wp = W + m, *V = Wp + m, *dW = V + m, *b = dW + m, *bp = b + K, *vb = bp + K, *db = vb + K,
           *logit = db + K, *ev = logit + K, *eu = ev + p + 1;
    /* standardise by the training rows (a constant feature stays 0) */
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++) mu[j] += X[i * (size_t)p + j];
    for (int j = 0; j < p; j++) mu[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++) {
            double d = X[i * (size_t)p + j] - mu[j];
            sd[j] += d * d;
        }
    for (int j = 0; j < p; j++) sd[j] = sqrt(sd[j] / (double)n);
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++) z[i * (size_t)p + j] = sd[j] > 0 ? (X[i * (size_t)p + j] - mu[j]) / sd[j] : 0;
    problem q = {n, p, K, z, y, logit};
    /* the intercept-only optimum: b = log of the class shares */
    for (size_t i = 0; i < n; i++) b[y[i]] += 1;
    for (int k = 0; k < K; k++) b[k] = log(b[k] > 0 ? b[k] / (double)n : 1e-9);
    gradient(&q, W, b, dW, db);
    double lmax = 0;
    for (size_t e = 0; e < m; e++) lmax = fmax(lmax, fabs(dW[e]));
    double step = 1 / (0.5 * 1.1 * top_eigenvalue(&q, ev, eu));
    for (int j = 0; j < p; j++) r->entry[j] = -1;
    for (int t = 0; t < pp.points; t++) {
        double lam = pp.points == 1 ? lmax : lmax * pow(pp.ratio, (double)t / (double)(pp.points - 1));
        r->lambda[t] = lam;
        solve(&q, lam, step, pp.max_iter, pp.tol, W, b, Wp, bp, V, vb, dW, db);
        for (int j = 0; j < p; j++) {
            double nrm = 0;
            for (int k = 0; k < K; k++) nrm += fabs(W[(size_t)j * K + k]);
            if (nrm > 0) r->active[t]++;
            if (nrm > 0 && r->entry[j] < 0) {
                r->entry[j] = t;
                norm_at_entry[j] = nrm;
            }
        }
        /* the model on the validation rows, standardised the same way */
        size_t hit = 0;
        for (size_t i = 0; i < nv; i++) {
            for (int k = 0; k < K; k++) logit[k] = b[k];
            for (int j = 0; j < p; j++) {
                double zj = sd[j] > 0 ? (Xv[i * (size_t)p + j] - mu[j]) / sd[j] : 0;
                for (int k = 0; k < K; k++) logit[k] += zj * W[(size_t)j * K + k];
            }
            int arg = 0;
            for (int k = 1; k < K; k++) arg = logit[k] > logit[arg] ? k : arg;
            hit += arg == yv[i];
        }
        r->val_em[t] = nv ? 100.0 * (double)hit / (double)nv : NAN;
    }
    /* how near the features that never entered came: |gradient| at the end */
    gradient(&q, W, b, dW, db);
    for (int j = 0; j < p; j++) {
        double near = 0;
        for (int k = 0; k < K; k++) near = fmax(near, fabs(dW[(size_t)j * K + k]));
        keys[j] = (rank_key){j, r->entry[j], norm_at_entry[j], near};
    }
    qsort(keys, (size_t)p, sizeof *keys, rank_cmp);
    for (int j = 0; j < p; j++) r->order[j] = keys[j].j;
done:
    free(z);
    free(mu);
    free(sd);
    free(buf);
    free(norm_at_entry);
    free(keys);
    if (st) sw_l1_path_free(r);
    else *out = r;
    return st;
}
