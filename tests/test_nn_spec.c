/* nn/: model specs (parse, canonical form, check), the parameter layout and
 * the model API's errors. */
#include <criterion/criterion.h>
#include <math.h>

#include "stopwise/nn.h"

static void same_spec(const sw_model_spec *a, const sw_model_spec *b)
{
    cr_assert_eq(a->kind, b->kind);
    cr_assert_eq(a->layers, b->layers);
    cr_assert_eq(a->d_model, b->d_model);
    cr_assert_eq(a->heads, b->heads);
    cr_assert_eq(a->ctx, b->ctx);
    cr_assert_eq(a->vocab, b->vocab);
    cr_assert_eq(a->tied, b->tied);
    cr_assert_eq(a->n_inputs, b->n_inputs);
    cr_assert_eq(a->n_hidden, b->n_hidden);
    for (int i = 0; i < a->n_hidden; i++) cr_assert_eq(a->hidden[i], b->hidden[i]);
    cr_assert_eq(a->n_classes, b->n_classes);
    cr_assert_eq(a->act, b->act);
    cr_assert_eq(a->dropout, b->dropout);
}

Test(nn_spec, parse_gpt_and_round_trip)
{
    sw_model_spec s, t;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=4,d=128,heads=4,ctx=32", &s, NULL), SW_OK);
    cr_assert_eq(s.kind, SW_MODEL_GPT);
    cr_assert_eq(s.layers, 4);
    cr_assert_eq(s.d_model, 128);
    cr_assert_eq(s.heads, 4);
    cr_assert_eq(s.ctx, 32);
    cr_assert_eq(s.vocab, 0);
    cr_assert_eq(s.tied, 1);
    cr_assert_eq(s.dropout, 0.0f);
    cr_assert_eq(sw_model_spec_parse("gpt:vocab=64,tied=0,dropout=0.1,ctx=32", &s, NULL), SW_OK);
    char buf[256];
    sw_model_spec_format(&s, buf, sizeof buf);
    cr_assert_str_eq(buf, "gpt:layers=4,d=128,heads=4,ctx=32,vocab=64,tied=0,dropout=0.1");
    cr_assert_eq(sw_model_spec_parse(buf, &t, NULL), SW_OK);
    same_spec(&s, &t);
    cr_assert_eq(sw_model_spec_parse("gpt", &t, NULL), SW_OK);
    cr_assert_eq(t.layers, 4);
}

Test(nn_spec, parse_mlp_and_round_trip)
{
    sw_model_spec s, t;
    cr_assert_eq(sw_model_spec_parse("mlp:hidden=256x128,act=gelu,dropout=0.2", &s, NULL), SW_OK);
    cr_assert_eq(s.kind, SW_MODEL_MLP);
    cr_assert_eq(s.n_hidden, 2);
    cr_assert_eq(s.hidden[0], 256);
    cr_assert_eq(s.hidden[1], 128);
    cr_assert_eq(s.act, SW_ACTIVATION_GELU);
    cr_assert_float_eq(s.dropout, 0.2f, 1e-7);
    s.n_inputs = 784;
    s.n_classes = 10;
    char buf[256];
    sw_model_spec_format(&s, buf, sizeof buf);
    cr_assert_str_eq(buf, "mlp:hidden=256x128,act=gelu,dropout=0.2,inputs=784,classes=10");
    cr_assert_eq(sw_model_spec_parse(buf, &t, NULL), SW_OK);
    same_spec(&s, &t);
    cr_assert_eq(sw_model_spec_check(&t, NULL), SW_OK);
}

static void bad(const char *text, const char *needle)
{
    sw_model_spec s;
    sw_error err = {0};
    cr_assert_eq(sw_model_spec_parse(text, &s, &err), SW_ERR_INVALID, "'%s' parsed", text);
    cr_assert_eq(err.status, SW_ERR_INVALID);
    cr_assert(strstr(err.msg, needle) != NULL, "'%s': message '%s' lacks '%s'", text, err.msg, needle);
}

Test(nn_spec, parse_errors_name_the_part)
{
    bad("rnn:layers=2", "unknown model kind 'rnn' (expected gpt or mlp)");
    bad("gpt:layers=0", "bad value '0' for layers (expected an integer 1..");
    bad("gpt:layers=2.5", "bad value '2.5' for layers");
    bad("gpt:d=130,heads=4", "heads=4 does not divide d=130");
    bad("gpt:layerz=2", "unknown key 'layerz' for gpt (expected layers, d, heads");
    bad("gpt:layers", "'layers' is not key=value");
    bad("gpt:dropout=1", "bad value '1' for dropout (expected a probability in [0, 1))");
    /* below 1 as a double, 1 as the float it is kept in (found by fuzz_spec) */
    bad("mlp:dropout=0.9999999999999", "bad value '0.9999999999999' for dropout");
    bad("gpt:tied=2", "for tied");
    bad("mlp:hidden=256xx3", "bad value '256xx3' for hidden");
    bad("mlp:hidden=1x2x3x4x5x6x7x8x9", "for hidden (expected 1 to 8 widths");
    bad("mlp:act=tanh", "bad value 'tanh' for act (expected relu or gelu)");
    bad("mlp:layers=2", "unknown key 'layers' for mlp");
}

Test(nn_spec, check_needs_sizes)
{
    sw_model_spec s;
    sw_error err = {0};
    cr_assert_eq(sw_model_spec_parse("gpt:layers=2", &s, NULL), SW_OK);
    cr_assert_eq(sw_model_spec_check(&s, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "ctx=0") != NULL, "%s", err.msg);
    s.ctx = 8;
    cr_assert_eq(sw_model_spec_check(&s, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "vocab=0") != NULL, "%s", err.msg);
    s.vocab = 5;
    cr_assert_eq(sw_model_spec_check(&s, NULL), SW_OK);
    sw_model *m = (sw_model *)1;
    s.heads = 3;
    cr_assert_eq(sw_model_create(&s, 1, &m, &err), SW_ERR_INVALID);
    cr_assert_null(m);
    sw_model_free(NULL); /* a no-op */
}

/* The tensor table tiles the buffer exactly; the counts follow the formulas
 * V C + T C + L (12 C^2 + 13 C) + 2 C (+ V C untied) and sum_i (in_i + 1) out_i. */
static void check_layout(sw_model *m, size_t expect)
{
    cr_assert_eq(sw_model_num_params(m), expect);
    size_t off = 0;
    for (int i = 0; i < sw_model_num_tensors(m); i++) {
        sw_tensor_info t;
        sw_model_tensor(m, i, &t);
        cr_assert_eq(t.offset, off, "tensor %s", t.name);
        size_t numel = 1;
        for (int d = 0; d < t.ndim; d++) numel *= (size_t)t.shape[d];
        cr_assert_eq(numel, t.numel);
        off += t.numel;
    }
    cr_assert_eq(off, expect);
}

static double stddev(const float *p, size_t n)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) s += p[i], s2 += (double)p[i] * p[i];
    return sqrt(s2 / n - (s / n) * (s / n));
}

Test(nn_spec, gpt_layout_and_init)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=3,d=64,heads=4,ctx=16,vocab=50,tied=1", &s, NULL), SW_OK);
    sw_model *m;
    cr_assert_eq(sw_model_create(&s, 1, &m, NULL), SW_OK);
    size_t C = 64, L = 3, base = 50 * C + 16 * C + L * (12 * C * C + 13 * C) + 2 * C;
    check_layout(m, base);
    sw_tensor_info t;
    sw_model_tensor(m, 0, &t);
    cr_assert_str_eq(t.name, "wte");
    cr_assert_eq(t.shape[0], 50);
    float *p = sw_model_params(m);
    cr_assert(fabs(stddev(p + t.offset, t.numel) - 0.02) < 0.002);
    int seen_proj = 0, seen_ln = 0;
    for (int i = 0; i < sw_model_num_tensors(m); i++) {
        sw_model_tensor(m, i, &t);
        cr_assert(strcmp(t.name, "head.w") != 0, "tied model has a head");
        if (strcmp(t.name, "h.1.attn.proj.w") == 0) {
            seen_proj = 1;
            cr_assert(fabs(stddev(p + t.offset, t.numel) - 0.02 / sqrt(6.0)) < 0.001);
        }
        if (strcmp(t.name, "h.2.ln1.w") == 0) {
            seen_ln = 1;
            for (size_t k = 0; k < t.numel; k++) cr_assert_eq(p[t.offset + k], 1.0f);
        }
    }
    cr_assert(seen_proj && seen_ln);
    sw_model_free(m);
    s.tied = 0;
    cr_assert_eq(sw_model_create(&s, 1, &m, NULL), SW_OK);
    check_layout(m, base + 50 * C);
    sw_model_tensor(m, sw_model_num_tensors(m) - 1, &t);
    cr_assert_str_eq(t.name, "head.w");
    sw_model_free(m);
}

Test(nn_spec, mlp_layout)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse("mlp:hidden=20x10,inputs=7,classes=3", &s, NULL), SW_OK);
    sw_model *m;
    cr_assert_eq(sw_model_create(&s, 1, &m, NULL), SW_OK);
    check_layout(m, (7 + 1) * 20 + (20 + 1) * 10 + (10 + 1) * 3);
    sw_tensor_info t;
    sw_model_tensor(m, 2, &t);
    cr_assert_str_eq(t.name, "fc.1.w");
    cr_assert_eq(t.shape[0], 10);
    cr_assert_eq(t.shape[1], 20);
    /* He init: std sqrt(2 / fan_in) */
    cr_assert(fabs(stddev(sw_model_params(m) + t.offset, t.numel) - sqrt(2.0 / 20)) < 0.05);
    sw_model_free(m);
}

Test(nn_spec, forward_errors)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=1,d=8,heads=2,ctx=4,vocab=5", &s, NULL), SW_OK);
    sw_model *m;
    cr_assert_eq(sw_model_create(&s, 1, &m, NULL), SW_OK);
    cr_assert_eq(sw_model_backward(m), SW_ERR_STATE);
    int32_t in[4] = {1, 2, 5, 0}, tg[4] = {0, 1, 2, 3};
    sw_batch b = {.B = 1, .T = 4, .inputs = in, .targets = tg};
    cr_assert_eq(sw_model_forward(m, &b, 1, NULL), SW_ERR_INVALID);
    cr_assert(strstr(sw_model_errmsg(m), "input id 5 at position 2 (expected 0..4)") != NULL, "%s",
              sw_model_errmsg(m));
    in[2] = 4;
    b.T = 5;
    cr_assert_eq(sw_model_forward(m, &b, 1, NULL), SW_ERR_INVALID);
    b.T = 4;
    tg[1] = -1;
    cr_assert_eq(sw_model_forward(m, &b, 1, NULL), SW_ERR_INVALID);
    float mask[4] = {1, 0, 1, 1};
    b.mask = mask; /* the bad target is masked out: fine */
    float loss = -1;
    cr_assert_eq(sw_model_forward(m, &b, 1, &loss), SW_OK, "%s", sw_model_errmsg(m));
    cr_assert(loss > 0 && isfinite(loss));
    cr_assert_eq(sw_model_backward(m), SW_OK);
    cr_assert_eq(sw_model_forward(m, &b, 0, NULL), SW_OK); /* inference: no backward after it */
    b.targets = NULL;
    cr_assert_eq(sw_model_forward(m, &b, 0, NULL), SW_OK);
    cr_assert_eq(sw_model_backward(m), SW_ERR_STATE);
    cr_assert_eq(sw_model_forward(m, &b, 1, NULL), SW_ERR_INVALID); /* training needs targets */
    sw_model_free(m);
}
