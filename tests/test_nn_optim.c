/* nn/ optimizers: AdamW and SGD steps against values worked out by hand,
 * penalties, clipping, state layout, thread-count independence, parsing. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optimizer_kernels.h"
#include "stopwise/nn.h"

#define NEAR(a, b) cr_assert(fabs((double)(a) - (double)(b)) <= 2e-6 * (1 + fabs((double)(b))), \
                             "%s = %.9g, expected %.9g", #a, (double)(a), (double)(b))

static sw_optimizer *make(const sw_optimizer_params *p, size_t n)
{
    sw_optimizer *o = NULL;
    sw_error err;
    cr_assert_eq(sw_optimizer_create(p, n, &o, &err), SW_OK, "%s", err.msg);
    return o;
}

Test(optim, adamw_two_steps_by_hand)
{
    sw_optimizer_params pr = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
    pr.beta1 = 0.9f, pr.beta2 = 0.999f, pr.eps = 1e-8f, pr.weight_decay = 0.1f, pr.clip = 0;
    sw_optimizer *o = make(&pr, 3);
    float p[3] = {1.0f, -2.0f, 0.5f};
    float g[3] = {0.5f, -1.0f, 0.0f};
    float norm = 0;
    /* Step 1 (t = 1), lr = 0.01:
     *   m = 0.1 g = (0.05, -0.1, 0)        v = 0.001 g^2 = (2.5e-4, 1e-3, 0)
     *   m^ = m / (1 - 0.9) = g             v^ = v / (1 - 0.999) = g^2
     *   m^ / (sqrt(v^) + eps) = g / (|g| + 1e-8) ~ sign(g) = (1, -1, 0)
     *   p0: 1    - 0.01 (1 + 0.1 * 1)      = 0.989
     *   p1: -2   - 0.01 (-1 + 0.1 * -2)    = -1.988
     *   p2: 0.5  - 0.01 (0 + 0.1 * 0.5)    = 0.4995        |g| = sqrt(1.25) */
    cr_assert_eq(sw_optimizer_step(o, p, g, 0.01f, &norm), SW_OK);
    NEAR(norm, sqrt(1.25));
    NEAR(p[0], 0.989);
    NEAR(p[1], -1.988);
    NEAR(p[2], 0.4995);
    cr_assert_eq(sw_optimizer_steps(o), 1);
    size_t count = 0;
    float *st = sw_optimizer_state(o, &count);
    cr_assert_eq(count, 6, "AdamW keeps m then v, each in the parameters' layout");
    NEAR(st[0], 0.05);
    NEAR(st[1], -0.1);
    NEAR(st[3], 2.5e-4);
    NEAR(st[4], 1e-3);
    /* Step 2 (t = 2), g = (0.25, 0.5, -0.1), lr = 0.01, for p0:
     *   m = 0.9 * 0.05 + 0.1 * 0.25 = 0.07           m^ = 0.07 / (1 - 0.81) = 0.368421
     *   v = 0.999 * 2.5e-4 + 0.001 * 0.0625 = 3.1225e-4
     *   v^ = 3.1225e-4 / (1 - 0.998001) = 0.156203   sqrt = 0.395225
     *   p0 = 0.989 - 0.01 (0.368421 / 0.395225 + 0.1 * 0.989) = 0.978689204
     * the same arithmetic gives p1 = -1.98334863, p2 = 0.506441867. */
    float g2[3] = {0.25f, 0.5f, -0.1f};
    cr_assert_eq(sw_optimizer_step(o, p, g2, 0.01f, NULL), SW_OK);
    NEAR(st[0], 0.07);
    NEAR(st[3], 3.1225e-4);
    NEAR(p[0], 0.978689204);
    NEAR(p[1], -1.98334863);
    NEAR(p[2], 0.506441867);
    sw_optimizer_free(o);
}

Test(optim, adamw_resume_uses_step_counter)
{
    /* Bias correction depends on t: after set_steps(1) the next step is t = 2,
     * so a fresh optimizer given step 1's moments reproduces step 2 above. */
    sw_optimizer_params pr = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
    pr.beta1 = 0.9f, pr.beta2 = 0.999f, pr.weight_decay = 0.1f, pr.clip = 0;
    sw_optimizer *o = make(&pr, 3);
    size_t count;
    float *st = sw_optimizer_state(o, &count);
    const float m[3] = {0.05f, -0.1f, 0}, v[3] = {2.5e-4f, 1e-3f, 0};
    memcpy(st, m, sizeof m);
    memcpy(st + 3, v, sizeof v);
    sw_optimizer_set_steps(o, 1);
    float p[3] = {0.989f, -1.988f, 0.4995f}, g[3] = {0.25f, 0.5f, -0.1f};
    cr_assert_eq(sw_optimizer_step(o, p, g, 0.01f, NULL), SW_OK);
    NEAR(p[0], 0.978689204);
    NEAR(p[1], -1.98334863);
    cr_assert_eq(sw_optimizer_steps(o), 2);
    sw_optimizer_free(o);
}

/* SGD, momentum 0.9, decoupled wd 0.01, L2 0.5, L1 0.1, clip 1, lr 0.1. */
static sw_optimizer_params sgd_params(int nesterov)
{
    sw_optimizer_params pr = sw_optimizer_default_params(SW_OPTIMIZER_SGD);
    pr.momentum = 0.9f, pr.nesterov = nesterov, pr.weight_decay = 0.01f;
    pr.l2 = 0.5f, pr.l1 = 0.1f, pr.clip = 1.0f;
    return pr;
}

Test(optim, sgd_momentum_penalties_clip_by_hand)
{
    sw_optimizer_params pr = sgd_params(0);
    sw_optimizer *o = make(&pr, 4);
    float p[4] = {1.0f, -2.0f, 0.5f, 0.0f};
    float g[4] = {3.0f, 0.0f, -4.0f, 1.0f};
    float norm = 0;
    /* Step 1. Penalties g += 0.5 p + 0.1 sign(p)  (sign(0) = 0):
     *   g' = (3 + 0.5 + 0.1, 0 - 1 - 0.1, -4 + 0.25 + 0.1, 1 + 0 + 0) = (3.6, -1.1, -3.65, 1)
     *   |g'| = sqrt(12.96 + 1.21 + 13.3225 + 1) = sqrt(28.4925) = 5.33783664 > clip 1
     *   scale = 1 / 5.33783664 = 0.187341814;  g'' = g' * scale
     *   buf = 0.9 * 0 + g'' = (0.674430531, -0.206075996, -0.683797622, 0.187341814)
     *   p -= 0.1 (buf + 0.01 p):
     *   p0 = 1 - 0.1 (0.674430531 + 0.01) = 0.931556947
     *   p1 = -2 - 0.1 (-0.206075996 - 0.02) = -1.9773924
     *   p2 = 0.5 - 0.1 (-0.683797622 + 0.005) = 0.567879762
     *   p3 = 0 - 0.1 (0.187341814 + 0) = -0.0187341814 */
    cr_assert_eq(sw_optimizer_step(o, p, g, 0.1f, &norm), SW_OK);
    NEAR(norm, 5.33783664);
    NEAR(g[0], 3.6 * 0.187341814); /* clipped gradients are written back */
    NEAR(g[2], -3.65 * 0.187341814);
    NEAR(p[0], 0.931556947);
    NEAR(p[1], -1.9773924);
    NEAR(p[2], 0.567879762);
    NEAR(p[3], -0.0187341814);
    size_t count;
    float *buf = sw_optimizer_state(o, &count);
    cr_assert_eq(count, 4);
    NEAR(buf[1], -0.206075996);
    /* Step 2, g = (0.2, 0.1, 0, -0.3); now sign(p3) = -1, so
     *   g' = (0.765778473, -0.9886962, 0.383939881, -0.409367091), |g'| = 1.37073998
     *   scale = 0.729532963, buf = 0.9 buf + g' scale, p -= 0.1 (buf + 0.01 p):
     *   p = (0.814060578, -1.88473952, 0.600843988, -0.00571153183) */
    float g2[4] = {0.2f, 0.1f, 0.0f, -0.3f};
    cr_assert_eq(sw_optimizer_step(o, p, g2, 0.1f, &norm), SW_OK);
    NEAR(norm, 1.37073998);
    NEAR(buf[0], 1.16564812);
    NEAR(p[0], 0.814060578);
    NEAR(p[1], -1.88473952);
    NEAR(p[2], 0.600843988);
    NEAR(p[3], -0.00571153183);
    sw_optimizer_free(o);
}

Test(optim, sgd_nesterov_by_hand)
{
    sw_optimizer_params pr = sgd_params(1);
    sw_optimizer *o = make(&pr, 4);
    float p[4] = {1.0f, -2.0f, 0.5f, 0.0f};
    float g[4] = {3.0f, 0.0f, -4.0f, 1.0f};
    /* Same g'' and buf as above; the step uses d = g'' + 0.9 buf = 1.9 g'':
     *   p0 = 1 - 0.1 (1.9 * 0.674430531 + 0.01) = 0.870858199 */
    cr_assert_eq(sw_optimizer_step(o, p, g, 0.1f, NULL), SW_OK);
    NEAR(p[0], 0.870858199);
    NEAR(p[1], -1.95884556);
    NEAR(p[2], 0.629421548);
    NEAR(p[3], -0.0355949447);
    float g2[4] = {0.2f, 0.1f, 0.0f, -0.3f};
    cr_assert_eq(sw_optimizer_step(o, p, g2, 0.1f, NULL), SW_OK);
    NEAR(p[0], 0.712533073);
    NEAR(p[3], 0.00768109844);
    sw_optimizer_free(o);
}

Test(optim, plain_sgd_has_no_state_and_no_clip_below_threshold)
{
    sw_optimizer_params pr = sw_optimizer_default_params(SW_OPTIMIZER_SGD);
    pr.momentum = 0, pr.clip = 10;
    sw_optimizer *o = make(&pr, 2);
    size_t count = 99;
    cr_assert_null(sw_optimizer_state(o, &count));
    cr_assert_eq(count, 0);
    float p[2] = {1, 2}, g[2] = {3, 4};
    float norm;
    /* |g| = 5 < 10: no clipping; p -= 0.5 g = (1 - 1.5, 2 - 2) */
    cr_assert_eq(sw_optimizer_step(o, p, g, 0.5f, &norm), SW_OK);
    NEAR(norm, 5.0);
    NEAR(p[0], -0.5);
    NEAR(p[1], 0.0);
    NEAR(g[0], 3.0);
    sw_optimizer_free(o);
}

Test(optim, non_finite_gradient_leaves_weights_alone)
{
    sw_optimizer_params pr = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
    sw_optimizer *o = make(&pr, 2);
    float p[2] = {1, 2}, g[2] = {NAN, 1};
    float norm = 0;
    cr_assert_eq(sw_optimizer_step(o, p, g, 0.1f, &norm), SW_ERR_INVALID);
    cr_assert(isnan(norm));
    cr_assert_eq(p[0], 1.0f);
    cr_assert_eq(p[1], 2.0f);
    cr_assert_eq(sw_optimizer_steps(o), 0);
    size_t count;
    float *st = sw_optimizer_state(o, &count);
    for (size_t i = 0; i < count; i++) cr_assert_eq(st[i], 0.0f);
    sw_optimizer_free(o);
}

/* The norm is summed in fixed chunks, so 1 and 2 threads give the same bits,
 * and so do the weights after a clipped step. */
Test(optim, same_bits_for_any_thread_count)
{
    const size_t n = 300001;
    float *p[2], *g[2], norm[2];
    for (int r = 0; r < 2; r++) {
        p[r] = malloc(n * sizeof(float));
        g[r] = malloc(n * sizeof(float));
        sw_rng rng;
        sw_rng_seed(&rng, 42);
        for (size_t i = 0; i < n; i++) {
            p[r][i] = (float)sw_rng_normal(&rng);
            g[r][i] = (float)sw_rng_normal(&rng);
        }
        omp_set_num_threads(r + 1);
        sw_optimizer_params pr = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
        pr.l1 = 1e-3f, pr.l2 = 1e-2f;
        sw_optimizer *o = make(&pr, n);
        for (int s = 0; s < 3; s++) cr_assert_eq(sw_optimizer_step(o, p[r], g[r], 1e-3f, &norm[r]), SW_OK);
        sw_optimizer_free(o);
    }
    cr_assert(norm[0] > 1.0f, "the norm must be real, not a trivially equal zero");
    cr_assert_eq(memcmp(&norm[0], &norm[1], sizeof(float)), 0);
    cr_assert_eq(memcmp(p[0], p[1], n * sizeof(float)), 0);
    for (int r = 0; r < 2; r++) free(p[r]), free(g[r]);
}

/* The SIMD AdamW kernel against its scalar twin: the same bits, with and
 * without a clip factor, over a length that leaves a tail of every size. */
Test(optim, adamw_kernel_matches_naive_twin)
{
    enum { N = 1000 + 15 };
    float p[2][N], g[2][N], m[2][N], v[2][N];
    sw_rng rng;
    sw_rng_seed(&rng, 3);
    for (int i = 0; i < N; i++) {
        p[0][i] = (float)sw_rng_normal(&rng);
        g[0][i] = (float)sw_rng_normal(&rng) * 1e-2f;
        m[0][i] = (float)sw_rng_normal(&rng) * 1e-3f;
        v[0][i] = (float)sw_rng_uniform(&rng) * 1e-4f;
    }
    for (int scaled = 0; scaled < 2; scaled++) {
        memcpy(p[1], p[0], sizeof p[0]), memcpy(g[1], g[0], sizeof g[0]);
        memcpy(m[1], m[0], sizeof m[0]), memcpy(v[1], v[0], sizeof v[0]);
        float before = p[0][500];
        sw_adamw_consts k = {.b1 = 0.9f, .one_minus_b1 = 0.1f, .b2 = 0.95f, .one_minus_b2 = 0.05f,
                             .sqrt_bc2 = 0.3f, .eps = 1e-8f, .decay = 0.9999f, .step = 0.01f,
                             .scale = scaled ? 0.37f : 1.0f, .scaled = scaled};
        for (int lo = 0; lo < 16; lo += 5) {
            sw_adamw_range(p[0], g[0], m[0], v[0], (size_t)lo, (size_t)N - (size_t)lo, &k);
            sw_adamw_range_naive(p[1], g[1], m[1], v[1], (size_t)lo, (size_t)N - (size_t)lo, &k);
        }
        cr_assert_eq(memcmp(p[0], p[1], sizeof p[0]), 0, "params differ (scaled %d)", scaled);
        cr_assert_eq(memcmp(g[0], g[1], sizeof g[0]), 0);
        cr_assert_eq(memcmp(m[0], m[1], sizeof m[0]), 0);
        cr_assert_eq(memcmp(v[0], v[1], sizeof v[0]), 0);
        cr_assert_neq(p[0][500], before, "the update must change the weights");
    }
}

Test(optim, create_rejects_bad_params)
{
    sw_optimizer *o = (sw_optimizer *)1;
    sw_error err;
    sw_optimizer_params pr = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
    pr.beta2 = 1.0f;
    cr_assert_eq(sw_optimizer_create(&pr, 10, &o, &err), SW_ERR_INVALID);
    cr_assert_null(o);
    cr_assert(strstr(err.msg, "beta2"), "%s", err.msg);
    pr = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
    cr_assert_eq(sw_optimizer_create(&pr, 0, &o, &err), SW_ERR_INVALID);
    sw_optimizer_free(NULL);
}

Test(optim, parse)
{
    sw_optimizer_params p;
    sw_error err;
    cr_assert_eq(sw_optimizer_params_parse("adamw:beta2=0.99,wd=0.1,clip=1", &p, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(p.kind, SW_OPTIMIZER_ADAMW);
    cr_assert_float_eq(p.beta2, 0.99f, 1e-7);
    cr_assert_float_eq(p.beta1, 0.9f, 1e-7, "unspecified keys keep their defaults");
    cr_assert_float_eq(p.weight_decay, 0.1f, 1e-7);
    cr_assert_float_eq(p.clip, 1.0f, 1e-7);
    cr_assert_eq(sw_optimizer_params_parse("adamw", &p, &err), SW_OK);
    cr_assert_float_eq(p.beta2, 0.95f, 1e-7);
    cr_assert_eq(sw_optimizer_params_parse("sgd:momentum=0.8,nesterov=1,l1=1e-4,l2=1e-3,wd=0,clip=0", &p, &err), SW_OK,
                 "%s", err.msg);
    cr_assert_eq(p.kind, SW_OPTIMIZER_SGD);
    cr_assert_eq(p.nesterov, 1);
    cr_assert_float_eq(p.momentum, 0.8f, 1e-7);
    cr_assert_float_eq(p.l1, 1e-4f, 1e-10);
    cr_assert_float_eq(p.l2, 1e-3f, 1e-10);
    cr_assert_eq(p.clip, 0.0f);
}

static void parse_fails(const char *text, const char *needle)
{
    sw_optimizer_params p;
    sw_error err;
    err.msg[0] = 0;
    cr_assert_eq(sw_optimizer_params_parse(text, &p, &err), SW_ERR_INVALID, "'%s' parsed", text);
    cr_assert(strstr(err.msg, needle), "'%s': message '%s' does not name '%s'", text, err.msg, needle);
}

Test(optim, parse_errors_name_the_bad_part)
{
    parse_fails("adam", "unknown kind 'adam'");
    parse_fails("adamw:beta3=0.9", "unknown key 'beta3'");
    parse_fails("sgd:beta1=0.9", "unknown key 'beta1'");
    parse_fails("adamw:momentum=0.9", "unknown key 'momentum'");
    parse_fails("adamw:beta2=x", "beta2=x is not a number");
    parse_fails("adamw:beta2=1.5", "beta2=1.5");
    parse_fails("adamw:wd", "bad item 'wd'");
    parse_fails("adamw:clip=1,,wd=0", "bad item ''");
    parse_fails("adamw:", "nothing after ':'");
    parse_fails("sgd:nesterov=2", "nesterov=2");
    parse_fails("sgd:momentum=0,nesterov=1", "nesterov");
    parse_fails("sgd:clip=-1", "clip");
}
