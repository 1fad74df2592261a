/* nn/: sw_gpt_generate (batched greedy decoding with a key/value cache) gives
 * exactly the argmax of a full forward without cache at every step. */
#include <criterion/criterion.h>

#include "nn_check.h"
#include "stopwise/nn.h"

static sw_model *make_model(int ctx)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=2,d=32,heads=4,vocab=13", &s, NULL), SW_OK);
    s.ctx = ctx;
    sw_model *m;
    cr_assert_eq(sw_model_create(&s, 5, &m, NULL), SW_OK);
    /* weights larger than the init, so the logits differ clearly */
    float *p = sw_model_params(m);
    for (int t = 0; t < sw_model_num_tensors(m); t++) {
        sw_tensor_info ti;
        sw_model_tensor(m, t, &ti);
        if (ti.ndim == 2) nn_fill_normal(p + ti.offset, ti.numel, 0.25, 200 + t);
    }
    return m;
}

static int32_t argmax_allowed(const float *z, int V, const uint8_t *allowed)
{
    int32_t best = -1;
    for (int v = 0; v < V; v++)
        if ((!allowed || allowed[v]) && (best < 0 || z[v] > z[best])) best = v;
    return best;
}

/* every generated token against a no-cache forward of prompt + tokens so far */
static void check_rows(sw_model *m, const int32_t *prompts, int stride, const int *lens, int B, int max_new,
                       const uint8_t *allowed, int32_t stop, const int32_t *out, const int *out_lens)
{
    int V = sw_model_get_spec(m)->vocab, ctx = sw_model_get_spec(m)->ctx;
    for (int r = 0; r < B; r++) {
        int32_t seq[64];
        int n = lens[r];
        memcpy(seq, prompts + (size_t)r * stride, (size_t)n * sizeof(int32_t));
        for (int k = 0; k < out_lens[r]; k++) {
            sw_batch b = {.B = 1, .T = n, .inputs = seq};
            cr_assert_eq(sw_model_forward(m, &b, 0, NULL), SW_OK, "%s", sw_model_errmsg(m));
            int32_t want = argmax_allowed(sw_model_logits(m) + (size_t)(n - 1) * V, V, allowed);
            cr_assert_eq(out[(size_t)r * max_new + k], want, "row %d step %d: cached %d, full forward %d", r, k,
                         out[(size_t)r * max_new + k], want);
            if (k + 1 < out_lens[r]) cr_assert_neq(want, stop, "row %d went on past the stop token", r);
            seq[n++] = want;
        }
        /* a row ends for one of three reasons */
        int last = out_lens[r] ? out[(size_t)r * max_new + out_lens[r] - 1] : -1;
        cr_assert(out_lens[r] == max_new || last == stop || lens[r] + out_lens[r] == ctx + 1,
                  "row %d stopped early (%d tokens)", r, out_lens[r]);
    }
}

Test(nn_generate, cache_equals_full_forward)
{
    sw_model *m = make_model(16);
    enum { B = 4, STRIDE = 6, MAXNEW = 9 };
    int32_t prompts[B * STRIDE] = {1, 2, 0, 0, 0, 0, /**/ 3, 4, 5, 6, 7, 8, /**/ 9, 10, 11, 0, 0, 0, /**/ 2, 2, 0, 0, 0, 0};
    int lens[B] = {2, 6, 3, 2};
    int32_t out[B * MAXNEW];
    int out_lens[B];
    cr_assert_eq(sw_gpt_generate(m, prompts, STRIDE, lens, B, MAXNEW, NULL, -1, out, out_lens), SW_OK, "%s",
                 sw_model_errmsg(m));
    for (int r = 0; r < B; r++) cr_assert_eq(out_lens[r], MAXNEW, "no stop token: all rows run to max_new");
    check_rows(m, prompts, STRIDE, lens, B, MAXNEW, NULL, -1, out, out_lens);
    sw_model_free(m);
}

Test(nn_generate, allowed_mask_stop_token_and_context_end)
{
    sw_model *m = make_model(12);
    enum { B = 3, STRIDE = 10, MAXNEW = 8 };
    int32_t prompts[B * STRIDE] = {0};
    int lens[B] = {1, 4, 10};
    for (int i = 0; i < B * STRIDE; i++) prompts[i] = (i * 5 + 1) % 13;
    uint8_t allowed[13];
    for (int v = 0; v < 13; v++) allowed[v] = v % 3 != 0; /* 0, 3, 6, 9, 12 never */
    int32_t out[B * MAXNEW];
    int out_lens[B];
    /* stop at whatever row 0 would produce second, so the stop path runs */
    int32_t stop = -1;
    cr_assert_eq(sw_gpt_generate(m, prompts, STRIDE, lens, B, MAXNEW, allowed, stop, out, out_lens), SW_OK);
    stop = out[1];
    cr_assert_eq(sw_gpt_generate(m, prompts, STRIDE, lens, B, MAXNEW, allowed, stop, out, out_lens), SW_OK);
    cr_assert_leq(out_lens[0], 2);
    cr_assert_eq(out_lens[2], 3, "prompt 10 in ctx 12: three tokens (positions 10, 11 and the one after)");
    for (int r = 0; r < B; r++)
        for (int k = 0; k < out_lens[r]; k++) cr_assert(allowed[out[r * MAXNEW + k]], "a disallowed token came out");
    check_rows(m, prompts, STRIDE, lens, B, MAXNEW, allowed, stop, out, out_lens);
    sw_model_free(m);
}

Test(nn_generate, bad_arguments)
{
    sw_model *m = make_model(8);
    int32_t p[4] = {1, 2, 3, 4}, out[4];
    int lens[1] = {0}, out_lens[1];
    cr_assert_eq(sw_gpt_generate(m, p, 4, lens, 1, 4, NULL, -1, out, out_lens), SW_ERR_INVALID);
    cr_assert(strstr(sw_model_errmsg(m), "prompt length") != NULL, "%s", sw_model_errmsg(m));
    lens[0] = 4;
    p[2] = 13;
    cr_assert_eq(sw_gpt_generate(m, p, 4, lens, 1, 4, NULL, -1, out, out_lens), SW_ERR_INVALID);
    p[2] = 3;
    uint8_t none[13] = {0};
    cr_assert_eq(sw_gpt_generate(m, p, 4, lens, 1, 4, none, -1, out, out_lens), SW_ERR_INVALID);
    cr_assert_eq(sw_gpt_generate(m, p, 4, lens, 1, 0, NULL, -1, out, out_lens), SW_OK);
    cr_assert_eq(out_lens[0], 0);
    sw_model_free(m);
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse("mlp:inputs=3,classes=2", &s, NULL), SW_OK);
    cr_assert_eq(sw_model_create(&s, 1, &m, NULL), SW_OK);
    cr_assert_eq(sw_gpt_generate(m, p, 4, lens, 1, 4, NULL, -1, out, out_lens), SW_ERR_INVALID);
    sw_model_free(m);
}
