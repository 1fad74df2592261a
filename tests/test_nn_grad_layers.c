/* nn/: central-difference gradient checks of every layer's backward.
 *
 * Each layer's output y is reduced to the scalar loss f = sum_i y_i r_i with
 * fixed random r (so dy = r); f is evaluated in double over the float
 * forward. Step eps = 1e-3 (inputs ~ N(0,1)). Pass: norm-wise relative error
 * below 2e-3 (measured ~1e-5..1e-4: float rounding over 2 eps), AND the
 * gradient's norm well above zero, AND a copy with one element moved by 10%
 * of the norm fails the same check. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "nn/kernels.h"
#include "nn_check.h"

#define TOL 2e-3
#define EPS 1e-3

/* Checks one gradient; `what` names it in failure messages. */
static void check(const char *what, float *x, size_t n, const float *analytic, nn_loss_fn f, void *ctx)
{
    double *num = malloc(n * sizeof(double));
    nn_numeric_grad(x, n, f, ctx, EPS, num);
    double err = nn_grad_error(analytic, num, n);
    double norm = nn_norm(analytic, n);
    double bad = nn_perturbed_error(analytic, num, n, n / 2);
    cr_log_info("%s: n=%zu |g|=%.3g error %.3g (perturbed %.3g)", what, n, norm, err, bad);
    cr_assert(norm > 1e-2, "%s: gradient norm %g is (near) zero", what, norm);
    cr_assert(err < TOL, "%s: relative error %g >= %g", what, err, TOL);
    cr_assert(bad > TOL, "%s: a wrong gradient passes (error %g)", what, bad);
    free(num);
}

static double dot_out(const float *y, const float *r, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * r[i];
    return s;
}

/* ---- linear ---- */
typedef struct { float *out, *inp, *w, *b, *r; int N, C, OC; } lin_ctx;
static double lin_loss(void *p)
{
    lin_ctx *c = p;
    sw_matmul_forward(c->out, c->inp, c->w, c->b, c->N, c->C, c->OC);
    return dot_out(c->out, c->r, (size_t)c->N * c->OC);
}

Test(nn_grad, linear)
{
    lin_ctx c = {.N = 6, .C = 7, .OC = 5};
    c.inp = nn_floats(42); c.w = nn_floats(35); c.b = nn_floats(5); c.out = nn_floats(30); c.r = nn_floats(30);
    nn_fill_normal(c.inp, 42, 1, 1); nn_fill_normal(c.w, 35, 1, 2); nn_fill_normal(c.b, 5, 1, 3);
    nn_fill_normal(c.r, 30, 1, 4);
    float *di = nn_floats(42), *dw = nn_floats(35), *db = nn_floats(5);
    lin_loss(&c);
    sw_matmul_backward(di, dw, db, c.r, c.inp, c.w, c.N, c.C, c.OC, 1);
    check("linear dinp", c.inp, 42, di, lin_loss, &c);
    check("linear dweight", c.w, 35, dw, lin_loss, &c);
    check("linear dbias", c.b, 5, db, lin_loss, &c);
}

/* ---- embedding ---- */
typedef struct { float *out, *wte, *wpe, *r; const int32_t *ids; int B, T, C; } emb_ctx;
static double emb_loss(void *p)
{
    emb_ctx *c = p;
    sw_embedding_forward(c->out, c->ids, c->wte, c->wpe, c->B, c->T, c->C);
    return dot_out(c->out, c->r, (size_t)c->B * c->T * c->C);
}

Test(nn_grad, embedding)
{
    static const int32_t ids[8] = {3, 1, 3, 0, 2, 3, 1, 1}; /* repeats: the scatter must add */
    emb_ctx c = {.ids = ids, .B = 2, .T = 4, .C = 5};
    c.wte = nn_floats(4 * 5); c.wpe = nn_floats(4 * 5); c.out = nn_floats(40); c.r = nn_floats(40);
    nn_fill_normal(c.wte, 20, 1, 5); nn_fill_normal(c.wpe, 20, 1, 6); nn_fill_normal(c.r, 40, 1, 7);
    float *dwte = nn_floats(20), *dwpe = nn_floats(20);
    emb_loss(&c);
    sw_embedding_backward(dwte, dwpe, c.r, c.ids, c.B, c.T, c.C);
    check("embedding dwte", c.wte, 20, dwte, emb_loss, &c);
    check("embedding dwpe", c.wpe, 20, dwpe, emb_loss, &c);
}

/* ---- layernorm ---- */
typedef struct { float *out, *mean, *rstd, *inp, *w, *b, *r; int N, C; } ln_ctx;
static double ln_loss(void *p)
{
    ln_ctx *c = p;
    sw_layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b, c->N, c->C);
    return dot_out(c->out, c->r, (size_t)c->N * c->C);
}

Test(nn_grad, layernorm)
{
    ln_ctx c = {.N = 5, .C = 11}; /* C not a multiple of the 8 lanes */
    size_t n = 55;
    c.inp = nn_floats(n); c.w = nn_floats(11); c.b = nn_floats(11); c.out = nn_floats(n); c.r = nn_floats(n);
    c.mean = nn_floats(5); c.rstd = nn_floats(5);
    nn_fill_normal(c.inp, n, 1, 8); nn_fill_normal(c.w, 11, 1, 9); nn_fill_normal(c.b, 11, 1, 10);
    nn_fill_normal(c.r, n, 1, 11);
    float *di = nn_floats(n), *dw = nn_floats(11), *db = nn_floats(11);
    ln_loss(&c);
    sw_layernorm_backward(di, dw, db, c.r, c.inp, c.w, c.mean, c.rstd, c.N, c.C);
    check("layernorm dinp", c.inp, n, di, ln_loss, &c);
    check("layernorm dweight", c.w, 11, dw, ln_loss, &c);
    check("layernorm dbias", c.b, 11, db, ln_loss, &c);
}

/* ---- gelu, relu ---- */
typedef struct { float *out, *inp, *r; size_t n; int relu; } act_ctx;
static double act_loss(void *p)
{
    act_ctx *c = p;
    if (c->relu)
        sw_relu_forward(c->out, c->inp, c->n);
    else
        sw_gelu_forward(c->out, c->inp, c->n);
    return dot_out(c->out, c->r, c->n);
}

Test(nn_grad, gelu)
{
    act_ctx c = {.n = 37};
    c.inp = nn_floats(37); c.out = nn_floats(37); c.r = nn_floats(37);
    nn_fill_normal(c.inp, 37, 2, 12); nn_fill_normal(c.r, 37, 1, 13);
    float *di = nn_floats(37);
    sw_gelu_backward(di, c.inp, c.r, c.n, 1);
    check("gelu dinp", c.inp, 37, di, act_loss, &c);
}

Test(nn_grad, relu)
{
    act_ctx c = {.n = 37, .relu = 1};
    c.inp = nn_floats(37); c.out = nn_floats(37); c.r = nn_floats(37);
    nn_fill_normal(c.inp, 37, 1, 14); nn_fill_normal(c.r, 37, 1, 15);
    for (int i = 0; i < 37; i++) /* keep away from the kink at 0 */
        if (fabsf(c.inp[i]) < 0.05f) c.inp[i] = c.inp[i] < 0 ? -0.1f : 0.1f;
    float *di = nn_floats(37);
    sw_relu_backward(di, c.inp, c.r, c.n, 1);
    check("relu dinp", c.inp, 37, di, act_loss, &c);
}

/* ---- residual ---- */
typedef struct { float *out, *a, *b, *r; size_t n; } res_ctx;
static double res_loss(void *p)
{
    res_ctx *c = p;
    sw_residual_forward(c->out, c->a, c->b, c->n);
    return dot_out(c->out, c->r, c->n);
}

Test(nn_grad, residual)
{
    res_ctx c = {.n = 20};
    c.a = nn_floats(20); c.b = nn_floats(20); c.out = nn_floats(20); c.r = nn_floats(20);
    nn_fill_normal(c.a, 20, 1, 16); nn_fill_normal(c.b, 20, 1, 17); nn_fill_normal(c.r, 20, 1, 18);
    float *da = nn_floats(20), *db = nn_floats(20);
    sw_residual_backward(da, db, c.r, c.n);
    check("residual da", c.a, 20, da, res_loss, &c);
    check("residual db", c.b, 20, db, res_loss, &c);
}

/* ---- dropout, with the mask fixed by its seed ---- */
typedef struct { float *out, *inp, *r; size_t n; float p; } drop_ctx;
static double drop_loss(void *p)
{
    drop_ctx *c = p;
    sw_dropout_forward(c->out, c->inp, c->n, c->p, 42, 7, 0);
    return dot_out(c->out, c->r, c->n);
}

Test(nn_grad, dropout_fixed_mask)
{
    drop_ctx c = {.n = 64, .p = 0.3f};
    c.inp = nn_floats(64); c.out = nn_floats(64); c.r = nn_floats(64);
    nn_fill_normal(c.inp, 64, 1, 19); nn_fill_normal(c.r, 64, 1, 20);
    float *di = nn_floats(64);
    sw_dropout_backward(di, c.r, c.n, c.p, 42, 7, 0, 1);
    int zeros = 0;
    for (int i = 0; i < 64; i++) zeros += di[i] == 0.0f;
    cr_assert(zeros > 5 && zeros < 40, "p=0.3 dropped %d of 64", zeros);
    check("dropout dinp", c.inp, 64, di, drop_loss, &c);
}

/* ---- attention ---- */
typedef struct { float *out, *att, *inp, *r; int B, T, C, NH; } att_ctx;
static double att_loss(void *p)
{
    att_ctx *c = p;
    sw_attention_forward(c->out, c->att, c->inp, c->B, c->T, c->C, c->NH);
    return dot_out(c->out, c->r, (size_t)c->B * c->T * c->C);
}

Test(nn_grad, attention)
{
    att_ctx c = {.B = 2, .T = 5, .C = 12, .NH = 3};
    size_t ni = 2 * 5 * 36, no = 2 * 5 * 12;
    c.inp = nn_floats(ni); c.out = nn_floats(no); c.r = nn_floats(no); c.att = nn_floats(2 * 3 * 25);
    nn_fill_normal(c.inp, ni, 1, 21); nn_fill_normal(c.r, no, 1, 22);
    float *di = nn_floats(ni);
    att_loss(&c);
    sw_attention_backward(di, c.r, c.inp, c.att, c.B, c.T, c.C, c.NH, 1);
    check("attention dinp", c.inp, ni, di, att_loss, &c);
}

/* ---- softmax cross-entropy with a mask ---- */
typedef struct { float *probs, *logits; const int32_t *tg; const float *mask; int N, V; } xe_ctx;
static double xe_loss(void *p)
{
    xe_ctx *c = p;
    return sw_xent_forward(c->probs, c->logits, c->tg, c->mask, c->N, c->V);
}

Test(nn_grad, xent_masked)
{
    /* position 2 has an out-of-range target under a zero mask: never read */
    static const int32_t tg[6] = {1, 4, -1, 0, 2, 3};
    static const float mask[6] = {1, 1, 0, 0.5f, 1, 0};
    xe_ctx c = {.tg = tg, .mask = mask, .N = 6, .V = 5};
    c.logits = nn_floats(30); c.probs = nn_floats(30);
    nn_fill_normal(c.logits, 30, 1, 23);
    float *dl = nn_floats(30);
    xe_loss(&c);
    sw_xent_backward(dl, c.probs, c.tg, c.mask, c.N, c.V, 1.0f, 1);
    for (int v = 0; v < 5; v++) cr_assert_eq(dl[2 * 5 + v], 0.0f, "masked row got a gradient");
    /* the loss is a float mean: use a double-friendly step */
    double *num = malloc(30 * sizeof(double));
    nn_numeric_grad(c.logits, 30, xe_loss, &c, 1e-2, num);
    double err = nn_grad_error(dl, num, 30), bad = nn_perturbed_error(dl, num, 30, 7);
    cr_assert(nn_norm(dl, 30) > 1e-2);
    cr_assert(err < TOL, "xent: relative error %g", err);
    cr_assert(bad > TOL, "xent: a wrong gradient passes (%g)", bad);
    free(num);
}
