/* Optimizers: AdamW and SGD with momentum, with decoupled weight decay,
 * classic L2 and L1 penalties and clipping by the global gradient norm.
 *
 * The moments live in the parameters' layout (llm.c's way), so a step is two
 * flat passes: (1) penalties into the gradients and the squared norm, (2) the
 * clipped update. Every element is independent except the norm, which is
 * summed in fixed chunks of SW_NORM_CHUNK floats (each chunk in double, the
 * chunk sums then added serially in chunk order): the result is the same bits
 * whatever the thread count.
 *
 * Frozen parameters (sw_optimizer_freeze, for `train --freeze`) are skipped
 * by both passes: no penalty, no part in the norm, no update, no decay, their
 * moments untouched, so they keep their bits. The passes walk each chunk's
 * trainable parts in order, so the sums' order still does not depend on the
 * thread count. */
#include "stopwise/nn.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optimizer_check.h"
#include "nn/optimizer_kernels.h"

#define SW_NORM_CHUNK 8192
/* Below this many floats a pass is cheaper on one thread than waking a team. */
#define SW_OPT_PARALLEL_MIN 65536

struct sw_optimizer {
    sw_optimizer_params p;
    size_t n;          /* parameters                                        */
    float *state;      /* AdamW: m (n) then v (n); SGD with momentum: buf (n) */
    size_t state_count;
    double *partial;   /* (n_chunks) squared-norm partial sums              */
    size_t n_chunks;
    uint64_t steps;
    /* sw_optimizer_freeze: the trainable segments [seg[2s], seg[2s+1]),
     * sorted and disjoint; NULL when nothing is frozen (one segment, all) */
    size_t *seg;
    size_t n_seg;
};

sw_optimizer_params sw_optimizer_default_params(sw_optimizer_kind kind)
{
    sw_optimizer_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.beta1 = 0.9f;
    p.beta2 = 0.95f;
    p.eps = 1e-8f;
    p.momentum = 0.9f;
    p.nesterov = 0;
    p.weight_decay = kind == SW_OPTIMIZER_ADAMW ? 0.1f : 0.0f;
    p.l2 = 0;
    p.l1 = 0;
    p.clip = 1.0f;
    return p;
}

sw_status sw_optimizer_params_check(const sw_optimizer_params *p, sw_error *err)
{
    if (p->kind != SW_OPTIMIZER_ADAMW && p->kind != SW_OPTIMIZER_SGD)
        return sw_error_set(err, SW_ERR_INVALID, "optimizer: unknown kind %d (expected adamw or sgd)", (int)p->kind);
#define RANGE(field, name, lo_ok, hi_ok)                                                                   \
    if (!(isfinite(p->field) && (lo_ok) && (hi_ok)))                                                       \
        return sw_error_set(err, SW_ERR_INVALID, "optimizer: %s=%g is out of range", name, (double)p->field)
    RANGE(beta1, "beta1", p->beta1 >= 0, p->beta1 < 1);
    RANGE(beta2, "beta2", p->beta2 >= 0, p->beta2 < 1);
    RANGE(eps, "eps", p->eps > 0, 1);
    RANGE(momentum, "momentum", p->momentum >= 0, p->momentum < 1);
    RANGE(weight_decay, "wd", p->weight_decay >= 0, 1);
    RANGE(l2, "l2", p->l2 >= 0, 1);
    RANGE(l1, "l1", p->l1 >= 0, 1);
    RANGE(clip, "clip", p->clip >= 0, 1);
#undef RANGE
    if (p->nesterov && (p->kind != SW_OPTIMIZER_SGD || p->momentum <= 0))
        return sw_error_set(err, SW_ERR_INVALID, "optimizer: nesterov=1 needs sgd with momentum > 0");
    return SW_OK;
}

sw_status sw_optimizer_create(const sw_optimizer_params *p, size_t n_params, sw_optimizer **out, sw_error *err)
{
    *out = NULL;
    if (!p) return sw_error_set(err, SW_ERR_INVALID, "optimizer: no parameters given");
    sw_status st = sw_optimizer_params_check(p, err);
    if (st) return st;
    if (n_params == 0) return sw_error_set(err, SW_ERR_INVALID, "optimizer: the model has no parameters");
    sw_optimizer *o = calloc(1, sizeof *o);
    if (!o) return sw_error_set(err, SW_ERR_NOMEM, "optimizer: out of memory");
    o->p = *p;
    o->n = n_params;
    if (p->kind == SW_OPTIMIZER_ADAMW) o->state_count = 2 * n_params;
    else if (p->momentum > 0) o->state_count = n_params;
    o->n_chunks = (n_params + SW_NORM_CHUNK - 1) / SW_NORM_CHUNK;
    o->partial = malloc(o->n_chunks * sizeof *o->partial);
    /* calloc: moments start at zero (Kingma & Ba 2015; PyTorch's SGD buffer
     * starts at g, which is mu*0 + g). */
    o->state = o->state_count ? calloc(o->state_count, sizeof *o->state) : NULL;
    if (!o->partial || (o->state_count && !o->state)) {
        sw_optimizer_free(o);
        return sw_error_set(err, SW_ERR_NOMEM, "optimizer: out of memory for %zu state floats", o->state_count);
    }
    *out = o;
    return SW_OK;
}

void sw_optimizer_free(sw_optimizer *o)
{
    if (!o) return;
    free(o->state);
    free(o->partial);
    free(o->seg);
    free(o);
}

static inline float sign_of(float x) { return (float)((x > 0) - (x < 0)); }

/* The first trainable segment that ends after `at`. */
static size_t first_segment(const sw_optimizer *o, size_t at)
{
    size_t lo = 0, hi = o->n_seg;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->seg[2 * mid + 1] <= at) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The next trainable part [*a, *b) of [at, hi): 1, or 0 when none is left.
 * A pass walks a chunk [lo, hi) as
 *   for (size_t a, b, at = lo; next_part(o, at, hi, &a, &b); at = b) ...
 * Nothing frozen: the chunk is one part. */
static int next_part(const sw_optimizer *o, size_t at, size_t hi, size_t *a, size_t *b)
{
    if (!o->seg) {
        *a = at;
        *b = hi;
        return at < hi;
    }
    if (at >= hi) return 0;
    size_t s = first_segment(o, at);
    if (s >= o->n_seg || o->seg[2 * s] >= hi) return 0;
    *a = o->seg[2 * s] > at ? o->seg[2 * s] : at;
    *b = o->seg[2 * s + 1] < hi ? o->seg[2 * s + 1] : hi;
    return 1;
}

/* Pass 1: g += l2 p + l1 sign(p), in place; returns sqrt(sum g^2), over the
 * trainable parameters (frozen ones take no penalty and no part in the norm).
 * Each chunk sums in 8 interleaved double lanes (independent adds keep the
 * pipeline full), combined in a fixed order, then the chunks in order. */
static double penalize_and_norm(sw_optimizer *o, const float *params, float *grads)
{
    const float l2 = o->p.l2, l1 = o->p.l1;
    const int penal = l2 != 0 || l1 != 0;
    const long nc = (long)o->n_chunks;
    const size_t n = o->n;
    double *partial = o->partial;
#pragma omp parallel for schedule(static) if (n >= SW_OPT_PARALLEL_MIN)
    for (long c = 0; c < nc; c++) {
        size_t lo = (size_t)c * SW_NORM_CHUNK, hi = lo + SW_NORM_CHUNK < n ? lo + SW_NORM_CHUNK : n;
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t a, b, at = lo; next_part(o, at, hi, &a, &b); at = b) {
            if (penal)
                for (size_t i = a; i < b; i++) grads[i] += l2 * params[i] + l1 * sign_of(params[i]);
            size_t i = a;
            for (; i + 8 <= b; i += 8)
                for (int j = 0; j < 8; j++) acc[j] += (double)grads[i + j] * (double)grads[i + j];
            for (int j = 0; i < b; i++, j++) acc[j] += (double)grads[i] * (double)grads[i];
        }
        partial[c] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
    double total = 0;
    for (long c = 0; c < nc; c++) total += partial[c];
    return sqrt(total);
}

/* AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"):
 *   m = b1 m + (1-b1) g            v = b2 v + (1-b2) g^2
 *   m^ = m / (1 - b1^t)            v^ = v / (1 - b2^t)
 *   p -= lr (m^ / (sqrt(v^) + eps) + wd p)
 * where g is the gradient times the clip factor; the per-element arithmetic
 * (PyTorch's order of operations) is in optimizer_kernels.h. */
static void adamw_update(sw_optimizer *o, float *params, float *grads, float lr, float scale)
{
    const double t = (double)o->steps;
    sw_adamw_consts k = {
        .b1 = o->p.beta1, .one_minus_b1 = 1.0f - o->p.beta1,
        .b2 = o->p.beta2, .one_minus_b2 = 1.0f - o->p.beta2,
        .sqrt_bc2 = (float)sqrt(1.0 - pow(o->p.beta2, t)),
        .eps = o->p.eps,
        .decay = (float)(1.0 - (double)lr * o->p.weight_decay),
        .step = (float)((double)lr / (1.0 - pow(o->p.beta1, t))),
        .scale = scale, .scaled = scale != 1.0f,
    };
    float *m = o->state, *v = o->state + o->n;
    const long nc = (long)o->n_chunks;
    const size_t n = o->n;
#pragma omp parallel for schedule(static) if (n >= SW_OPT_PARALLEL_MIN)
    for (long c = 0; c < nc; c++) {
        size_t lo = (size_t)c * SW_NORM_CHUNK, hi = lo + SW_NORM_CHUNK < n ? lo + SW_NORM_CHUNK : n;
        for (size_t a, b, at = lo; next_part(o, at, hi, &a, &b); at = b) sw_adamw_range(params, grads, m, v, a, b, &k);
    }
}

/* SGD with momentum, PyTorch's convention (dampening 0):
 *   buf = mu buf + g;  d = nesterov ? g + mu buf : buf;  p -= lr (d + wd p)
 * where wd is decoupled (the classic coupled form is l2). */
static void sgd_update(sw_optimizer *o, float *params, float *grads, float lr, float scale)
{
    const float mu = o->p.momentum, wd = o->p.weight_decay;
    const int nesterov = o->p.nesterov;
    float *buf = o->state;
    const int scaled = scale != 1.0f;
    const long nc = (long)o->n_chunks;
    const size_t n = o->n;
#pragma omp parallel for schedule(static) if (n >= SW_OPT_PARALLEL_MIN)
    for (long c = 0; c < nc; c++) {
        size_t lo = (size_t)c * SW_NORM_CHUNK, hi = lo + SW_NORM_CHUNK < n ? lo + SW_NORM_CHUNK : n;
        for (size_t a, b, at = lo; next_part(o, at, hi, &a, &b); at = b)
            for (size_t i = a; i < b; i++) {
                float g = grads[i] * scale, d = g;
                if (scaled) grads[i] = g;
                if (buf) {
                    float m = mu * buf[i] + g;
                    buf[i] = m;
                    d = nesterov ? g + mu * m : m;
                }
                params[i] -= lr * (d + wd * params[i]);
            }
    }
}

sw_status sw_optimizer_step(sw_optimizer *o, float *params, float *grads, float lr, float *grad_norm)
{
    if (!o || !params || !grads || !isfinite(lr) || lr < 0) return SW_ERR_INVALID;
    double norm = penalize_and_norm(o, params, grads);
    if (grad_norm) *grad_norm = (float)norm;
    /* A non-finite norm would poison every weight and moment; leave them as
     * they were so the caller can report divergence from a sane state. */
    if (!isfinite(norm)) return SW_ERR_INVALID;
    /* Clipping by the global norm (Pascanu et al. 2013): g *= clip / |g|
     * when |g| > clip. The scaled gradient is written back as the header
     * promises, within the update pass (no extra pass over the buffer). */
    float scale = 1.0f;
    if (o->p.clip > 0 && norm > o->p.clip) scale = (float)(o->p.clip / norm);
    o->steps++;
    if (o->p.kind == SW_OPTIMIZER_ADAMW) adamw_update(o, params, grads, lr, scale);
    else sgd_update(o, params, grads, lr, scale);
    return SW_OK;
}

float *sw_optimizer_state(sw_optimizer *o, size_t *count)
{
    if (count) *count = o ? o->state_count : 0;
    return o ? o->state : NULL;
}

uint64_t sw_optimizer_steps(const sw_optimizer *o) { return o ? o->steps : 0; }

void sw_optimizer_set_steps(sw_optimizer *o, uint64_t steps)
{
    if (o) o->steps = steps;
}

sw_status sw_optimizer_freeze(sw_optimizer *o, const size_t *ranges, size_t n_ranges, sw_error *err)
{
    for (size_t r = 0; r < n_ranges; r++)
        if (ranges[2 * r] > ranges[2 * r + 1] || ranges[2 * r + 1] > o->n)
            return sw_error_set(err, SW_ERR_INVALID, "optimizer: frozen range [%zu, %zu) is not inside the %zu parameters",
                                ranges[2 * r], ranges[2 * r + 1], o->n);
    /* one byte per parameter while building: ranges may overlap or come in any order */
    uint8_t *frozen = calloc(o->n, 1);
    if (!frozen) return sw_error_set(err, SW_ERR_NOMEM, "optimizer: out of memory");
    size_t n_frozen = 0;
    for (size_t r = 0; r < n_ranges; r++) memset(frozen + ranges[2 * r], 1, ranges[2 * r + 1] - ranges[2 * r]);
    size_t n_seg = 0;
    for (size_t i = 0; i < o->n; i++) {
        n_frozen += frozen[i];
        if (!frozen[i] && (i == 0 || frozen[i - 1])) n_seg++;
    }
    size_t *seg = NULL;
    if (n_frozen) {
        seg = malloc(sizeof(size_t) * 2 * (n_seg ? n_seg : 1));
        if (!seg) {
            free(frozen);
            return sw_error_set(err, SW_ERR_NOMEM, "optimizer: out of memory");
        }
        size_t s = 0;
        for (size_t i = 0; i < o->n; i++) {
            if (!frozen[i] && (i == 0 || frozen[i - 1])) seg[2 * s] = i;
            if (!frozen[i] && (i + 1 == o->n || frozen[i + 1])) seg[2 * s++ + 1] = i + 1;
        }
    }
    free(frozen);
    free(o->seg);
    o->seg = seg; /* NULL: nothing frozen, the passes take whole chunks */
    o->n_seg = n_seg;
    return SW_OK;
}

size_t sw_optimizer_num_frozen(const sw_optimizer *o)
{
    if (!o || !o->seg) return 0;
    size_t trainable = 0;
    for (size_t s = 0; s < o->n_seg; s++) trainable += o->seg[2 * s + 1] - o->seg[2 * s];
    return o->n - trainable;
}
