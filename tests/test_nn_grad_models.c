/* nn/: central-difference gradient checks of both whole models, over every
 * parameter: gpt tiny (2 layers, d=16, 2 heads, ctx 8, vocab 11) tied and
 * untied, with a partial mask and with dropout, and with a pruned gpt's
 * widths (3 heads of 4, feed-forward 24); mlp with 2 hidden layers,
 * relu and gelu (with dropout).
 *
 * f = the model's mean masked loss (float), step eps = 1e-2 (the float loss
 * rounds at ~1e-7, so a smaller step drowns the difference in noise; the
 * truncation error O(eps^2) stays ~1e-4 relative). Pass: norm-wise relative
 * error below 3e-3 (measured 2e-4..4e-4), gradient norm > 1e-3, and a copy with
 * one element moved by 10% of the norm fails. The mlps use eps = 1e-3: a
 * 1e-2 step sends some ReLU pre-activations across their kink. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_check.h"
#include "stopwise/nn.h"

#define TOL 3e-3

typedef struct { sw_model *m; sw_batch b; } mctx;

static double model_loss(void *p)
{
    mctx *c = p;
    float loss = 0;
    sw_status st = sw_model_forward(c->m, &c->b, 1, &loss);
    cr_assert_eq(st, SW_OK, "%s", sw_model_errmsg(c->m));
    return loss;
}

/* Checks the parameters i = 0, stride, 2 stride, ... (stride 1: all of them);
 * every tensor larger than the stride gets checked elements. */
static void check_model(const char *what, mctx *c, double eps, size_t stride)
{
    sw_model *m = c->m;
    size_t n = sw_model_num_params(m);
    sw_model_zero_grad(m);
    model_loss(c);
    cr_assert_eq(sw_model_backward(m), SW_OK, "%s", sw_model_errmsg(m));
    float *g = malloc(n * sizeof(float));
    memcpy(g, sw_model_grads(m), n * sizeof(float));
    /* the numeric gradient on the strided subset; elsewhere copy the
     * analytic one so the norms below only weigh the checked elements */
    double *num = malloc(n * sizeof(double));
    float *p = sw_model_params(m);
    for (size_t i = 0; i < n; i++) num[i] = g[i];
    for (size_t i = 0; i < n; i += stride) nn_numeric_grad(p + i, 1, model_loss, c, eps, num + i);
    float *gs = malloc(n * sizeof(float));
    double *ns = malloc(n * sizeof(double));
    size_t k = 0;
    for (size_t i = 0; i < n; i += stride, k++) gs[k] = g[i], ns[k] = num[i];
    double err = nn_grad_error(gs, ns, k), norm = nn_norm(gs, k), bad = nn_perturbed_error(gs, ns, k, k / 3);
    cr_log_info("%s: %zu of %zu params |g|=%.3g error %.3g (perturbed %.3g)", what, k, n, norm, err, bad);
    cr_assert(norm > 1e-3, "%s: gradient norm %g", what, norm);
    cr_assert(err < TOL, "%s: relative error %g >= %g", what, err, TOL);
    cr_assert(bad > TOL, "%s: a wrong gradient passes (%g)", what, bad);
    /* per tensor too: a tensor whose gradient is wrong but small must not
     * hide behind the big ones */
    int checked = 0;
    for (int t = 0; t < sw_model_num_tensors(m); t++) {
        sw_tensor_info ti;
        sw_model_tensor(m, t, &ti);
        size_t j = 0;
        for (size_t i = (ti.offset + stride - 1) / stride * stride; i < ti.offset + ti.numel; i += stride, j++)
            gs[j] = g[i], ns[j] = num[i];
        double tn = nn_norm(gs, j);
        if (j == 0 || tn < 1e-3) continue; /* e.g. wpe rows past T */
        double te = nn_grad_error(gs, ns, j);
        cr_assert(te < 5 * TOL, "%s: tensor %s relative error %g (|g| %g)", what, ti.name, te, tn);
        checked++;
    }
    cr_assert(checked >= sw_model_num_tensors(m) / 2, "%s: only %d tensors checked", what, checked);
    free(g);
    free(num);
    free(gs);
    free(ns);
}

#define GPT_TINY "gpt:layers=2,d=16,heads=2,ctx=8,vocab=11"

static void gpt_case(const char *what, const char *spec, int tied, float dropout, int masked, size_t stride)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse(spec, &s, NULL), SW_OK);
    s.tied = tied;
    s.dropout = dropout;
    mctx c;
    cr_assert_eq(sw_model_create(&s, 7, &c.m, NULL), SW_OK);
    /* bigger weights than the init, so every path carries gradient */
    float *p = sw_model_params(c.m);
    for (int t = 0; t < sw_model_num_tensors(c.m); t++) {
        sw_tensor_info ti;
        sw_model_tensor(c.m, t, &ti);
        if (ti.ndim == 2) nn_fill_normal(p + ti.offset, ti.numel, 0.3, 100 + t);
        else nn_fill_normal(p + ti.offset, ti.numel, 0.3, 100 + t), p[ti.offset] += 1.0f;
    }
    static int32_t in[2 * 7], tg[2 * 7];
    static float mask[2 * 7];
    for (int i = 0; i < 14; i++) {
        in[i] = (i * 5 + 3) % 11;
        tg[i] = (i * 3 + 1) % 11;
        mask[i] = masked ? (i % 7 >= 3 ? 1.0f : 0.0f) : 1.0f;
    }
    c.b = (sw_batch){.B = 2, .T = 7, .inputs = in, .targets = tg, .mask = masked ? mask : NULL, .dropout_seed = 5};
    check_model(what, &c, 1e-2, stride);
    sw_model_free(c.m);
}

/* Every parameter in the plain build; under the sanitizers (STOPWISE_SANITIZED,
 * set by scripts/test.sh; ~25x slower) every 5th. The two variants check
 * every 5th (7th) parameter, which still reaches every tensor. */
static size_t full_stride(void) { return getenv("STOPWISE_SANITIZED") ? 5 : 1; }
Test(nn_grad_models, gpt_tied) { gpt_case("gpt tied", GPT_TINY, 1, 0.0f, 0, full_stride()); }
Test(nn_grad_models, gpt_untied_masked) { gpt_case("gpt untied masked", GPT_TINY, 0, 0.0f, 1, 5); }
Test(nn_grad_models, gpt_tied_dropout_masked) { gpt_case("gpt tied dropout", GPT_TINY, 1, 0.2f, 1, 7); }
/* a pruned gpt's shapes: 3 heads of 4 (attention 12 wide, not d = 16) and a
 * feed-forward width of 24 (not 4d = 64); docs/PRUNING.md */
Test(nn_grad_models, gpt_pruned_widths)
{
    gpt_case("gpt pruned widths", "gpt:layers=2,d=16,heads=3,hd=4,ff=24,ctx=8,vocab=11", 0, 0.0f, 1, full_stride());
}

static void mlp_case(const char *what, const char *spec)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse(spec, &s, NULL), SW_OK);
    mctx c;
    cr_assert_eq(sw_model_create(&s, 3, &c.m, NULL), SW_OK);
    static float x[6 * 5];
    static int32_t y[6];
    nn_fill_normal(x, 30, 1, 11);
    for (int i = 0; i < 6; i++) y[i] = i % 3;
    c.b = (sw_batch){.B = 6, .T = 1, .features = x, .targets = y, .dropout_seed = 9};
    check_model(what, &c, 1e-3, 1);
    sw_model_free(c.m);
}

Test(nn_grad_models, mlp_relu) { mlp_case("mlp relu", "mlp:hidden=9x7,act=relu,inputs=5,classes=3"); }
Test(nn_grad_models, mlp_gelu_dropout)
{
    mlp_case("mlp gelu dropout", "mlp:hidden=9x7,act=gelu,dropout=0.25,inputs=5,classes=3");
}
