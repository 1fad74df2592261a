/* nn/ pruning: the cubic schedule at hand-computed tokens, masks that keep
 * pruned weights (and their AdamW moments) exactly zero through optimizer
 * steps, unit pruning to the exact counts, compaction to a smaller dense model
 * whose outputs equal the masked dense model's (mlp, and a gpt with pruned
 * heads and feed-forward neurons, greedy decoding included), restore from
 * weights, and the spec's text form and its errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_check.h"
#include "stopwise/nn.h"

#define NEAR(a, b) cr_assert(fabs((double)(a) - (double)(b)) <= 1e-12, "%s = %.17g, expected %.17g", #a, \
                             (double)(a), (double)(b))

static sw_prune_params parse_resolved(const char *text, uint64_t budget)
{
    sw_prune_params p;
    sw_error err;
    cr_assert_eq(sw_prune_params_parse(text, &p, &err), SW_OK, "%s: %s", text, err.msg);
    cr_assert_eq(sw_prune_params_resolve(&p, budget, &err), SW_OK, "%s: %s", text, err.msg);
    return p;
}

/* ---- the schedule ------------------------------------------------------------ */

Test(nn_prune, cubic_schedule_at_hand_computed_tokens)
{
    /* t0 = 100, t1 = 1100, s_f = 0.8, s_i = 0:
     *   t = 350: x = 0.25, (1-x)^3 = 0.421875, s = 0.8 - 0.8 x 0.421875 = 0.4625
     *   t = 600: x = 0.5,  (1-x)^3 = 0.125,    s = 0.8 - 0.1 = 0.7
     *   t = 850: x = 0.75, (1-x)^3 = 0.015625, s = 0.8 - 0.0125 = 0.7875 */
    sw_prune_params p = parse_resolved("magnitude:sparsity=0.8,start=100,end=1100,every=100", 2000);
    cr_assert_eq(p.start, 100);
    cr_assert_eq(p.end, 1100);
    cr_assert_eq(p.every, 100);
    NEAR(sw_prune_sparsity(&p, 0), 0);
    NEAR(sw_prune_sparsity(&p, 99), 0);
    NEAR(sw_prune_sparsity(&p, 100), 0);
    NEAR(sw_prune_sparsity(&p, 350), 0.4625);
    NEAR(sw_prune_sparsity(&p, 600), 0.7);
    NEAR(sw_prune_sparsity(&p, 850), 0.7875);
    NEAR(sw_prune_sparsity(&p, 1100), 0.8);
    NEAR(sw_prune_sparsity(&p, 99999), 0.8);
    /* s_i = 0.2: at t = 600, 0.8 + (0.2 - 0.8) x 0.125 = 0.725; at t0 itself s_i */
    p = parse_resolved("magnitude:sparsity=0.8,initial=0.2,start=100,end=1100", 2000);
    NEAR(sw_prune_sparsity(&p, 100), 0.2);
    NEAR(sw_prune_sparsity(&p, 600), 0.725);
    /* percentages of the budget: 10%, 60%, 1% of 1000 tokens; keep=0.5 -> s_f = 0.5;
     * t = 350: x = 0.5, s = 0.5 - 0.5 x 0.125 = 0.4375 */
    p = parse_resolved("neurons:keep=0.5", 1000);
    cr_assert_eq(p.start, 100);
    cr_assert_eq(p.end, 600);
    cr_assert_eq(p.every, 10);
    NEAR(sw_prune_sparsity(&p, 350), 0.4375);
    NEAR(sw_prune_sparsity(&p, 600), 0.5);
}

Test(nn_prune, spec_text_round_trips)
{
    const char *texts[] = {"magnitude:sparsity=0.8,initial=0,start=10%,end=60%,every=1%",
                           "magnitude:sparsity=0.9,initial=0.1,start=1M,end=2.5M,every=20k",
                           "neurons:keep=0.5,start=0%,end=50%,every=2%", "heads:keep=0.75,start=10%,end=60%,every=1%"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        sw_prune_params p, q;
        char buf[256];
        cr_assert_eq(sw_prune_params_parse(texts[i], &p, NULL), SW_OK, "%s", texts[i]);
        sw_prune_params_format(&p, buf, sizeof buf);
        cr_assert_str_eq(buf, texts[i]);
        cr_assert_eq(sw_prune_params_parse(buf, &q, NULL), SW_OK);
        cr_assert_eq(memcmp(&p, &q, sizeof p), 0, "%s does not read back the same", buf);
    }
}

Test(nn_prune, bad_specs_name_what_was_expected)
{
    static const struct { const char *text, *expect; } bad[] = {
        {"neurons:keep=0", "keep=0 (expected a fraction in (0, 1])"},
        {"neurons:keep=1.5", "keep=1.5 (expected a fraction in (0, 1])"},
        {"heads:keep=-0.5", "expected a fraction in (0, 1]"},
        {"magnitude:sparsity=1", "sparsity=1 (expected a fraction in (0, 1))"},
        {"magnitude:sparsity=0.5,initial=0.7", "initial=0.7 is above the final sparsity"},
        {"magnitude", "sparsity= is required"},
        {"neurons:start=10%", "keep= is required"},
        {"neurons:keep=0.5,sparsity=0.5", "unknown key 'sparsity' for neurons"},
        {"magnitude:keep=0.5", "unknown key 'keep' for magnitude"},
        {"random:keep=0.5", "unknown kind 'random' (expected magnitude, neurons or heads)"},
        {"neurons:keep=0.5,start=70%,end=60%", "end must come after start"},
        {"neurons:keep=0.5,start=2M,end=1M", "end must come after start"},
        {"neurons:keep=0.5,every=0", "every must be positive"},
        {"neurons:keep=0.5,end=half", "end=half (expected a token count such as 500k or a percentage"},
        {"neurons:keep=0.5,end=120%", "end=120% (expected"},
        {"neurons:keep", "bad item 'keep' (expected key=value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sw_prune_params p;
        sw_error err;
        cr_assert_eq(sw_prune_params_parse(bad[i].text, &p, &err), SW_ERR_INVALID, "%s parsed", bad[i].text);
        cr_assert(strstr(err.msg, bad[i].expect), "%s: message '%s' lacks '%s'", bad[i].text, err.msg, bad[i].expect);
    }
    /* an end past the budget would never reach the target */
    sw_prune_params p;
    sw_error err;
    cr_assert_eq(sw_prune_params_parse("neurons:keep=0.5,start=100,end=5k", &p, NULL), SW_OK);
    cr_assert_eq(sw_prune_params_resolve(&p, 2000, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "past the budget"), "%s", err.msg);
    /* mixed units are checked against the budget: end 1% = 10 tokens < start 500 */
    cr_assert_eq(sw_prune_params_parse("neurons:keep=0.5,start=500,end=1%", &p, NULL), SW_OK);
    cr_assert_eq(sw_prune_params_resolve(&p, 1000, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "must come after start"), "%s", err.msg);
}

Test(nn_prune, kind_must_fit_the_model)
{
    sw_model_spec s;
    sw_model *m;
    sw_pruner *pr;
    sw_error err;
    cr_assert_eq(sw_model_spec_parse("mlp:hidden=8,inputs=4,classes=3", &s, NULL), SW_OK);
    cr_assert_eq(sw_model_create(&s, 1, &m, NULL), SW_OK);
    sw_prune_params p = parse_resolved("heads:keep=0.5", 1000);
    cr_assert_eq(sw_pruner_create(&p, m, &pr, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "heads need a gpt"), "%s", err.msg);
    p = parse_resolved("neurons:keep=0.01", 1000); /* 0.08 of 8 neurons rounds to none */
    cr_assert_eq(sw_pruner_create(&p, m, &pr, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "leaves no unit of a layer of 8"), "%s", err.msg);
    sw_model_free(m);
    cr_assert_eq(sw_model_spec_parse("mlp:hidden=8,inputs=4,classes=3", &s, NULL), SW_OK);
    s.n_hidden = 0;
    cr_assert_eq(sw_model_create(&s, 1, &m, NULL), SW_OK);
    p = parse_resolved("neurons:keep=0.5", 1000);
    cr_assert_eq(sw_pruner_create(&p, m, &pr, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "no hidden layer"), "%s", err.msg);
    sw_model_free(m);
}

/* ---- masks through training steps ------------------------------------------ */

typedef struct {
    sw_model *m;
    sw_optimizer *o;
    float x[16 * 6];
    int32_t y[16];
} trainer;

static void trainer_init(trainer *t, const char *spec, const char *opt)
{
    sw_model_spec s;
    sw_optimizer_params op;
    cr_assert_eq(sw_model_spec_parse(spec, &s, NULL), SW_OK);
    cr_assert_eq(sw_model_create(&s, 3, &t->m, NULL), SW_OK);
    cr_assert_eq(sw_optimizer_params_parse(opt, &op, NULL), SW_OK);
    cr_assert_eq(sw_optimizer_create(&op, sw_model_num_params(t->m), &t->o, NULL), SW_OK);
    nn_fill_normal(t->x, 16 * 6, 1, 21);
    for (int i = 0; i < 16; i++) t->y[i] = (t->x[6 * i] > 0) + (t->x[6 * i + 1] > 0.5f);
}

/* One step of the trainer's order: forward, backward, masked gradients, the
 * optimizer, then the pruner (mask growth and the weights), then the moments.
 * Returns the largest |gradient| found on a pruned weight before masking. */
static float train_step(trainer *t, sw_pruner *pr, uint64_t tokens)
{
    sw_batch b = {.B = 16, .T = 1, .features = t->x, .targets = t->y};
    float loss;
    sw_model_zero_grad(t->m);
    cr_assert_eq(sw_model_forward(t->m, &b, 1, &loss), SW_OK);
    cr_assert_eq(sw_model_backward(t->m), SW_OK);
    float *g = sw_model_grads(t->m), *w = sw_model_params(t->m), worst = 0;
    for (size_t i = 0; i < sw_model_num_params(t->m); i++)
        if (w[i] == 0.0f && fabsf(g[i]) > worst) worst = fabsf(g[i]);
    sw_pruner_apply(pr, g, sw_model_num_params(t->m));
    cr_assert_eq(sw_optimizer_step(t->o, w, g, 1e-2f, NULL), SW_OK);
    sw_pruner_step(pr, t->m, tokens);
    size_t count;
    float *mom = sw_optimizer_state(t->o, &count);
    sw_pruner_apply(pr, mom, count);
    return worst;
}

static double zero_fraction(const float *w, size_t n)
{
    size_t z = 0;
    for (size_t i = 0; i < n; i++) z += w[i] == 0.0f;
    return (double)z / (double)n;
}

Test(nn_prune, magnitude_masks_keep_pruned_weights_and_moments_zero)
{
    trainer t;
    /* weight decay and L1 both pull on every weight: without the masks a
     * pruned weight would move at the next step */
    trainer_init(&t, "mlp:hidden=24x16,inputs=6,classes=3", "adamw:wd=0.1,l1=1e-3,clip=1");
    sw_prune_params p = parse_resolved("magnitude:sparsity=0.8,start=100,end=1100,every=100", 2000);
    sw_pruner *pr;
    cr_assert_eq(sw_pruner_create(&p, t.m, &pr, NULL), SW_OK);
    size_t n = sw_model_num_params(t.m);
    uint8_t *was_zero = calloc(n, 1);
    float worst_grad = 0;
    const char *mats[] = {"fc.0.w", "fc.1.w", "fc.2.w"};
    for (uint64_t tokens = 16; tokens <= 1600; tokens += 16) {
        float g = train_step(&t, pr, tokens);
        if (tokens > 100) worst_grad = g > worst_grad ? g : worst_grad;
        const float *w = sw_model_params(t.m);
        size_t count;
        const float *mom = sw_optimizer_state(t.o, &count);
        for (size_t i = 0; i < n; i++) {
            if (was_zero[i]) {
                cr_assert(w[i] == 0.0f, "a pruned weight came back at %llu tokens", (unsigned long long)tokens);
                cr_assert(mom[i] == 0.0f && mom[n + i] == 0.0f, "a pruned weight kept its moments");
            }
            if (tokens > 100) was_zero[i] |= w[i] == 0.0f;
        }
        /* the masks follow s at the scheduled point each step reached: the
         * point at 608 tokens is 600, s = 0.7 of every matrix exactly */
        double want = sw_prune_sparsity(&p, tokens >= 1100 ? 1100 : tokens < 100 ? 0 : 100 + (tokens - 100) / 100 * 100);
        for (size_t k = 0; k < 3; k++) {
            sw_tensor_info ti;
            for (int j = 0; j < sw_model_num_tensors(t.m); j++) {
                sw_model_tensor(t.m, j, &ti);
                if (!strcmp(ti.name, mats[k])) break;
            }
            double got = zero_fraction(w + ti.offset, ti.numel);
            double exp = (double)llround(want * (double)ti.numel) / (double)ti.numel;
            cr_assert(got == exp, "%s at %llu tokens: %.4f pruned, expected %.4f", mats[k],
                      (unsigned long long)tokens, got, exp);
        }
    }
    cr_assert(worst_grad > 1e-4f, "the test is toothless: pruned weights had no gradient (%g)", worst_grad);
    cr_assert(sw_pruner_done(pr));
    /* biases are not pruned */
    sw_tensor_info b;
    sw_model_tensor(t.m, 1, &b);
    cr_assert_str_eq(b.name, "fc.0.b");
    cr_assert(zero_fraction(sw_model_params(t.m) + b.offset, b.numel) < 0.5);
    /* the pruner's own count agrees with the weights (all three matrices at 0.8) */
    cr_assert(fabs(sw_pruner_sparsity(pr) - 0.8) < 0.01, "%g", sw_pruner_sparsity(pr));
    cr_assert(fabs(sw_pruner_measure(pr, sw_model_params(t.m)) - sw_pruner_sparsity(pr)) < 1e-12);
    free(was_zero);
    sw_pruner_free(pr);
    sw_optimizer_free(t.o);
    sw_model_free(t.m);
}

Test(nn_prune, magnitude_picks_the_smallest_weights)
{
    sw_model_spec s;
    sw_model *m;
    cr_assert_eq(sw_model_spec_parse("mlp:hidden=5,inputs=4,classes=2", &s, NULL), SW_OK);
    cr_assert_eq(sw_model_create(&s, 1, &m, NULL), SW_OK);
    /* fc.0.w (5, 4) comes first: |w| = 1..20 in a shuffled order (i*7 mod 20
     * is a permutation), signs alternating; then entry 10 is set to -3, tying
     * with entry 6 (|w| = 3). Sparsity 0.15 of 20 = 3 entries: |w| 1 (entry
     * 0), 2 (entry 3), and of the tied 3s the lower index, entry 6. */
    float *w = sw_model_params(m);
    for (int i = 0; i < 20; i++) w[i] = (float)((i * 7) % 20 + 1) * (i % 2 ? -1.0f : 1.0f);
    cr_assert(w[6] == 3.0f && w[3] == -2.0f && w[0] == 1.0f);
    w[10] = -3.0f;
    sw_prune_params p = parse_resolved("magnitude:sparsity=0.15,start=0,end=10,every=10", 10);
    sw_pruner *pr;
    cr_assert_eq(sw_pruner_create(&p, m, &pr, NULL), SW_OK);
    cr_assert_eq(sw_pruner_step(pr, m, 10), 1);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(w[i] == 0.0f, i == 0 || i == 3 || i == 6, "entry %d: %g", i, (double)w[i]);
    sw_pruner_free(pr);
    sw_model_free(m);
}

Test(nn_prune, restore_rebuilds_masks_from_weights)
{
    trainer t;
    trainer_init(&t, "mlp:hidden=24x16,inputs=6,classes=3", "adamw:wd=0.1");
    sw_prune_params p = parse_resolved("neurons:keep=0.5,start=100,end=1100,every=100", 2000);
    sw_pruner *pr, *back;
    cr_assert_eq(sw_pruner_create(&p, t.m, &pr, NULL), SW_OK);
    for (uint64_t tokens = 16; tokens <= 640; tokens += 16) train_step(&t, pr, tokens);
    cr_assert(sw_pruner_sparsity(pr) > 0.2);
    /* a resumed run: a fresh pruner that only sees the weights */
    cr_assert_eq(sw_pruner_create(&p, t.m, &back, NULL), SW_OK);
    sw_pruner_restore(back, t.m, 640);
    cr_assert(sw_pruner_sparsity(back) == sw_pruner_sparsity(pr), "%g vs %g", sw_pruner_sparsity(back),
              sw_pruner_sparsity(pr));
    cr_assert(!sw_pruner_done(back));
    /* both go on identically from the same weights: the next point is 700 */
    size_t n = sw_model_num_params(t.m);
    float *w = sw_model_params(t.m), *saved = malloc(sizeof(float) * n), *by_pr = malloc(sizeof(float) * n);
    memcpy(saved, w, sizeof(float) * n);
    cr_assert_eq(sw_pruner_step(pr, t.m, 690), 0);
    cr_assert_eq(sw_pruner_step(pr, t.m, 700), 1);
    memcpy(by_pr, w, sizeof(float) * n);
    memcpy(w, saved, sizeof(float) * n);
    cr_assert_eq(sw_pruner_step(back, t.m, 690), 0);
    cr_assert_eq(sw_pruner_step(back, t.m, 700), 1);
    cr_assert_eq(memcmp(by_pr, w, sizeof(float) * n), 0, "the restored pruner pruned other units");
    cr_assert(sw_pruner_sparsity(back) == sw_pruner_sparsity(pr));
    free(saved);
    free(by_pr);
    sw_pruner_free(pr);
    sw_pruner_free(back);
    sw_optimizer_free(t.o);
    sw_model_free(t.m);
}

/* ---- units and compaction ----------------------------------------------------- */

/* max |a - b| / max |b|: the compact model only drops terms that are exactly
 * zero, so what remains is the float rounding of sums taken in another order
 * (measured ~1e-7 of the largest logit) */
static double scaled_diff(const float *a, const float *b, size_t n)
{
    double d = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        d = e > d || e != e ? e : d;
        scale = fabs((double)b[i]) > scale ? fabs((double)b[i]) : scale;
    }
    return scale > 0 ? d / scale : d;
}

Test(nn_prune, neurons_schedule_prunes_exact_counts_and_compacts)
{
    trainer t;
    trainer_init(&t, "mlp:hidden=24x16,act=gelu,inputs=6,classes=3", "adamw:wd=0.1,clip=1");
    sw_prune_params p = parse_resolved("neurons:keep=0.5,start=100,end=1100,every=100", 2000);
    sw_pruner *pr;
    cr_assert_eq(sw_pruner_create(&p, t.m, &pr, NULL), SW_OK);
    for (uint64_t tokens = 16; tokens <= 1600; tokens += 16) train_step(&t, pr, tokens);
    cr_assert(sw_pruner_done(pr));
    cr_assert(sw_pruner_measure(pr, sw_model_params(t.m)) == 0.5, "%g", sw_pruner_measure(pr, sw_model_params(t.m)));
    sw_model *c;
    sw_error err;
    cr_assert_eq(sw_model_compact(t.m, &c, &err), SW_OK, "%s", err.msg);
    const sw_model_spec *cs = sw_model_get_spec(c);
    cr_assert_eq(cs->n_hidden, 2);
    cr_assert_eq(cs->hidden[0], 12);
    cr_assert_eq(cs->hidden[1], 8);
    /* 6*24+24 + 24*16+16 + 16*3+3 = 619 params before; 6*12+12 + 12*8+8 + 8*3+3 = 215 after */
    cr_assert_eq(sw_model_num_params(t.m), 619);
    cr_assert_eq(sw_model_num_params(c), 215);
    /* the same outputs on inputs the model never saw */
    float x[32 * 6];
    nn_fill_normal(x, 32 * 6, 2, 77);
    sw_batch b = {.B = 32, .T = 1, .features = x};
    cr_assert_eq(sw_model_forward(t.m, &b, 0, NULL), SW_OK);
    float dense[32 * 3];
    memcpy(dense, sw_model_logits(t.m), sizeof dense);
    cr_assert_eq(sw_model_forward(c, &b, 0, NULL), SW_OK);
    double diff = scaled_diff(sw_model_logits(c), dense, 32 * 3);
    cr_assert(diff < 1e-5, "compact logits differ from the masked dense model's by %g of the largest", diff);
    sw_model_free(c);
    sw_pruner_free(pr);
    sw_optimizer_free(t.o);
    sw_model_free(t.m);
}

/* A gpt with weights large enough that every head and neuron matters. */
static sw_model *big_gpt(const char *spec)
{
    sw_model_spec s;
    sw_model *m;
    cr_assert_eq(sw_model_spec_parse(spec, &s, NULL), SW_OK);
    cr_assert_eq(sw_model_create(&s, 5, &m, NULL), SW_OK);
    float *p = sw_model_params(m);
    for (int t = 0; t < sw_model_num_tensors(m); t++) {
        sw_tensor_info ti;
        sw_model_tensor(m, t, &ti);
        nn_fill_normal(p + ti.offset, ti.numel, ti.ndim == 2 ? 0.25 : 0.1, 300 + t);
    }
    return m;
}

Test(nn_prune, gpt_heads_and_neurons_compact_to_the_same_function)
{
    sw_model *m = big_gpt("gpt:layers=2,d=32,heads=4,ctx=16,vocab=13,tied=0");
    sw_error err;
    cr_assert_eq(sw_model_prune_units(m, SW_PRUNE_HEADS, 0.5, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_model_prune_units(m, SW_PRUNE_NEURONS, 0.25, &err), SW_OK, "%s", err.msg);
    sw_model *c;
    cr_assert_eq(sw_model_compact(m, &c, &err), SW_OK, "%s", err.msg);
    const sw_model_spec *cs = sw_model_get_spec(c);
    cr_assert_eq(cs->heads, 2);
    cr_assert_eq(cs->head_dim, 8);
    cr_assert_eq(cs->ff, 32);
    char text[256];
    cr_assert_str_eq(sw_model_spec_format(cs, text, sizeof text),
                     "gpt:layers=2,d=32,heads=2,ctx=16,vocab=13,tied=0,dropout=0,ff=32,hd=8");
    /* per block: qkv 3*16*32+48, proj 32*16+32, fc 32*32+32, fc.proj 32*32+32: a
     * quarter of the feed-forward and half the attention */
    cr_assert(sw_model_num_params(c) < sw_model_num_params(m) * 3 / 4, "%zu of %zu", sw_model_num_params(c),
              sw_model_num_params(m));
    int32_t in[3 * 12];
    for (int i = 0; i < 36; i++) in[i] = (i * 5 + 2) % 13;
    sw_batch b = {.B = 3, .T = 12, .inputs = in};
    cr_assert_eq(sw_model_forward(m, &b, 0, NULL), SW_OK);
    float *dense = malloc(sizeof(float) * 3 * 12 * 13);
    memcpy(dense, sw_model_logits(m), sizeof(float) * 3 * 12 * 13);
    cr_assert_eq(sw_model_forward(c, &b, 0, NULL), SW_OK);
    double diff = scaled_diff(sw_model_logits(c), dense, 3 * 12 * 13);
    cr_assert(diff < 1e-5, "compact gpt logits differ by %g of the largest", diff);
    /* and the pruning mattered: the unpruned model's logits are far away */
    sw_model *orig = big_gpt("gpt:layers=2,d=32,heads=4,ctx=16,vocab=13,tied=0");
    cr_assert_eq(sw_model_forward(orig, &b, 0, NULL), SW_OK);
    cr_assert(scaled_diff(sw_model_logits(orig), dense, 3 * 12 * 13) > 1e-2);
    /* greedy decoding with the key/value cache gives the same tokens */
    int32_t prompts[3 * 16], out_d[3 * 8], out_c[3 * 8];
    int lens[3] = {3, 5, 4}, ol_d[3], ol_c[3];
    for (int i = 0; i < 48; i++) prompts[i] = (i * 3 + 1) % 13;
    cr_assert_eq(sw_gpt_generate(m, prompts, 16, lens, 3, 8, NULL, 0, out_d, ol_d), SW_OK);
    cr_assert_eq(sw_gpt_generate(c, prompts, 16, lens, 3, 8, NULL, 0, out_c, ol_c), SW_OK, "%s", sw_model_errmsg(c));
    for (int r = 0; r < 3; r++) {
        cr_assert_eq(ol_d[r], ol_c[r]);
        for (int k = 0; k < ol_d[r]; k++) cr_assert_eq(out_d[r * 8 + k], out_c[r * 8 + k], "row %d token %d", r, k);
    }
    free(dense);
    sw_model_free(orig);
    sw_model_free(c);
    sw_model_free(m);
}

Test(nn_prune, compact_keeps_a_layer_count_every_gpt_block_can_use)
{
    /* block 0 loses 3 heads, block 1 only 1: the compact model keeps 3 heads in
     * both (block 0 pads with a dead one) and still computes the same */
    sw_model *m = big_gpt("gpt:layers=2,d=32,heads=4,ctx=16,vocab=13");
    float *p = sw_model_params(m);
    const char *dead[][2] = {{"h.0.attn.proj.w", "0"}, {"h.0.attn.proj.w", "2"}, {"h.0.attn.proj.w", "3"},
                             {"h.1.attn.proj.w", "1"}};
    for (size_t k = 0; k < 4; k++) {
        sw_tensor_info ti;
        for (int j = 0; j < sw_model_num_tensors(m); j++) {
            sw_model_tensor(m, j, &ti);
            if (!strcmp(ti.name, dead[k][0])) break;
        }
        int h = atoi(dead[k][1]);
        for (int r = 0; r < 32; r++) /* (C, A): the head's 8 output columns */
            memset(p + ti.offset + (size_t)r * 32 + h * 8, 0, 8 * sizeof(float));
    }
    sw_model *c;
    cr_assert_eq(sw_model_compact(m, &c, NULL), SW_OK);
    cr_assert_eq(sw_model_get_spec(c)->heads, 3);
    int32_t in[2 * 10];
    for (int i = 0; i < 20; i++) in[i] = (i * 7 + 1) % 13;
    sw_batch b = {.B = 2, .T = 10, .inputs = in};
    cr_assert_eq(sw_model_forward(m, &b, 0, NULL), SW_OK);
    float dense[2 * 10 * 13];
    memcpy(dense, sw_model_logits(m), sizeof dense);
    cr_assert_eq(sw_model_forward(c, &b, 0, NULL), SW_OK);
    cr_assert(scaled_diff(sw_model_logits(c), dense, 2 * 10 * 13) < 1e-5);
    sw_model_free(c);
    sw_model_free(m);
}

Test(nn_prune, gpt_spec_widths_round_trip)
{
    sw_model_spec s;
    char buf[256];
    /* defaults written out are stored as 0: the text of an unpruned gpt does not change */
    cr_assert_eq(sw_model_spec_parse("gpt:layers=2,d=32,heads=4,ctx=8,vocab=9,ff=128,hd=8", &s, NULL), SW_OK);
    cr_assert_eq(s.ff, 0);
    cr_assert_eq(s.head_dim, 0);
    cr_assert_str_eq(sw_model_spec_format(&s, buf, sizeof buf), "gpt:layers=2,d=32,heads=4,ctx=8,vocab=9,tied=1,dropout=0");
    /* 3 heads of 8 do not divide d = 32: fine with hd given */
    cr_assert_eq(sw_model_spec_parse("gpt:layers=2,d=32,heads=3,hd=8,ff=40,ctx=8,vocab=9", &s, NULL), SW_OK);
    cr_assert_eq(sw_model_spec_check(&s, NULL), SW_OK);
    sw_model_spec_format(&s, buf, sizeof buf);
    cr_assert_str_eq(buf, "gpt:layers=2,d=32,heads=3,ctx=8,vocab=9,tied=1,dropout=0,ff=40,hd=8");
    sw_model_spec back;
    cr_assert_eq(sw_model_spec_parse(buf, &back, NULL), SW_OK);
    cr_assert_eq(memcmp(&s, &back, sizeof s), 0);
    uint64_t n;
    cr_assert_eq(sw_model_spec_num_params(&s, &n, NULL), SW_OK);
    /* wte 9*32 + wpe 8*32 + lnf 64 + per block: ln 4*32, qkv 72*32+72, proj 32*24+32, fc 40*32+40, fc.proj 32*40+32 */
    uint64_t block = 4 * 32 + 72 * 32 + 72 + 32 * 24 + 32 + 40 * 32 + 40 + 32 * 40 + 32;
    cr_assert_eq(n, 9 * 32 + 8 * 32 + 64 + 2 * block);
    sw_error err;
    cr_assert_eq(sw_model_spec_parse("gpt:d=32,heads=3", &s, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "heads=3 does not divide d=32"), "%s", err.msg);
    cr_assert_eq(sw_model_spec_parse("gpt:ff=0", &s, &err), SW_ERR_INVALID);
}
