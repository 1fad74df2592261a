/* nn/: beam search and ensembles (beam.c, ensemble.c, gpt_decode.c).
 *  - width 1 with one model is sw_gpt_generate's greedy decoding, token for token;
 *  - wide enough, the beam finds the best-scoring answer that exhaustive
 *    enumeration (no cache, scores by hand) finds, with and without length
 *    normalisation, and on the seeded cases here that is strictly better
 *    than greedy's answer;
 *  - an ensemble's next-symbol distribution and class probabilities are the
 *    hand-averaged distributions of its members. */
#include <criterion/criterion.h>
#include <math.h>

#include "nn_check.h"
#include "stopwise/nn.h"

enum { V = 13 };

static sw_model *make_gpt(int ctx, uint64_t seed, double std)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=2,d=32,heads=4,vocab=13", &s, NULL), SW_OK);
    s.ctx = ctx;
    sw_model *m;
    cr_assert_eq(sw_model_create(&s, seed, &m, NULL), SW_OK);
    /* weights larger than the init, so the logits differ clearly */
    float *p = sw_model_params(m);
    for (int t = 0; t < sw_model_num_tensors(m); t++) {
        sw_tensor_info ti;
        sw_model_tensor(m, t, &ti);
        if (ti.ndim == 2) nn_fill_normal(p + ti.offset, ti.numel, std, seed * 1000 + (uint64_t)t);
    }
    return m;
}

/* log softmax of the full forward (no cache) of seq[0..n) at position n-1 */
static void full_logp(sw_model *m, const int32_t *seq, int n, double *out)
{
    sw_batch b = {.B = 1, .T = n, .inputs = seq};
    cr_assert_eq(sw_model_forward(m, &b, 0, NULL), SW_OK, "%s", sw_model_errmsg(m));
    const float *z = sw_model_logits(m) + (size_t)(n - 1) * V;
    double mx = z[0], sum = 0;
    for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
    for (int v = 0; v < V; v++) sum += exp(z[v] - mx);
    for (int v = 0; v < V; v++) out[v] = z[v] - mx - log(sum);
}

/* logp of the answer y after the prompt, for an ensemble: sum over steps of
 * log of the members' mean probability, all by full forwards */
static double answer_logp(sw_model **ms, int n, const int32_t *prompt, int plen, const int32_t *y, int ylen)
{
    int32_t seq[64];
    memcpy(seq, prompt, sizeof(int32_t) * (size_t)plen);
    double total = 0;
    for (int t = 0; t < ylen; t++) {
        double mean = 0, lp[V];
        for (int m = 0; m < n; m++) {
            full_logp(ms[m], seq, plen + t, lp);
            mean += exp(lp[y[t]]) / n;
        }
        total += log(mean);
        seq[plen + t] = y[t];
    }
    return total;
}

Test(nn_beam, width_one_is_greedy_token_for_token)
{
    sw_model *m = make_gpt(16, 5, 0.25);
    enum { B = 6, STRIDE = 7, MAXNEW = 9 };
    int32_t prompts[B * STRIDE];
    for (int i = 0; i < B * STRIDE; i++) prompts[i] = (i * 7 + 3) % V;
    int lens[B] = {2, 7, 3, 1, 5, 7}; /* several lengths: prompts read past the prefill */
    uint8_t allowed[V];
    for (int v = 0; v < V; v++) allowed[v] = v % 4 != 0;
    sw_decode_params p = sw_decode_default_params();
    cr_assert_eq(p.beam, 1);
    for (int stop_case = 0; stop_case < 3; stop_case++) {
        int32_t stop = stop_case == 0 ? -1 : stop_case == 1 ? 5 : 7;
        const uint8_t *mask = stop_case == 2 ? NULL : allowed;
        int32_t want[B * MAXNEW], got[B * MAXNEW];
        int want_lens[B], got_lens[B];
        cr_assert_eq(sw_gpt_generate(m, prompts, STRIDE, lens, B, MAXNEW, mask, stop, want, want_lens), SW_OK);
        sw_model *ms[1] = {m};
        cr_assert_eq(sw_gpt_decode(ms, 1, prompts, STRIDE, lens, B, MAXNEW, mask, stop, &p, got, got_lens, NULL),
                     SW_OK, "%s", sw_model_errmsg(m));
        for (int r = 0; r < B; r++) {
            cr_assert_eq(got_lens[r], want_lens[r], "case %d row %d: beam 1 gave %d tokens, greedy %d", stop_case, r,
                         got_lens[r], want_lens[r]);
            for (int t = 0; t < want_lens[r]; t++)
                cr_assert_eq(got[r * MAXNEW + t], want[r * MAXNEW + t], "case %d row %d token %d", stop_case, r, t);
        }
        if (stop_case == 1) { /* the stop path ran: some row ended before max_new */
            int short_row = 0;
            for (int r = 0; r < B; r++) short_row |= want_lens[r] < MAXNEW && want_lens[r] + lens[r] <= 16;
            cr_assert(short_row, "no row stopped at the stop token: the case tests nothing");
        }
    }
    sw_model_free(m);
}

/* Every answer of up to MAXNEW tokens over the allowed ids {1, 2, STOP},
 * scored by hand; the best by logp / ((5 + len) / 6)^alpha. */
enum { STOP = 3, MAXNEW = 3 };
static double best_by_enumeration(sw_model **ms, int n, const int32_t *prompt, int plen, double alpha, int32_t *best,
                                  int *best_len)
{
    const int32_t syms[3] = {1, 2, STOP};
    double top = -INFINITY;
    /* a sequence of length L (1..3): all but a final STOP are from {1, 2} */
    for (int L = 1; L <= MAXNEW; L++)
        for (int code = 0; code < 27; code++) {
            int32_t y[MAXNEW];
            int c = code, ok = 1;
            for (int t = 0; t < L; t++) {
                y[t] = syms[c % 3];
                c /= 3;
                if (y[t] == STOP && t != L - 1) ok = 0;
            }
            for (int t = L; t < MAXNEW; t++) { /* each sequence once: the unused digits are 0 */
                ok &= c % 3 == 0;
                c /= 3;
            }
            if (!ok || (L < MAXNEW && y[L - 1] != STOP)) continue;    /* shorter ones end at STOP */
            double s = answer_logp(ms, n, prompt, plen, y, L) / pow((5.0 + L) / 6.0, alpha);
            if (s > top) {
                top = s;
                memcpy(best, y, sizeof(int32_t) * (size_t)L);
                *best_len = L;
            }
        }
    return top;
}

static void wide_beam_finds_the_best(int n_models)
{
    sw_model *ms[3];
    for (int m = 0; m < n_models; m++) ms[m] = make_gpt(12, 21 + (uint64_t)m, 0.12);
    enum { B = 8, STRIDE = 4 };
    int32_t prompts[B * STRIDE];
    for (int i = 0; i < B * STRIDE; i++) prompts[i] = (i * 5 + 2) % V;
    int lens[B] = {1, 2, 3, 4, 2, 3, 4, 1};
    uint8_t allowed[V] = {0};
    allowed[1] = allowed[2] = allowed[STOP] = 1;
    int strictly_better = 0;
    for (int a = 0; a < 3; a++) {
        double alpha = a == 0 ? 0.0 : a == 1 ? 0.6 : 2.0;
        /* 15 answers exist; a beam of 16 keeps them all (finishing at k = 16
         * finished never comes first), so it must find the best */
        sw_decode_params wide = {.beam = 16, .alpha = alpha}, greedy = {.beam = 1, .alpha = alpha};
        int32_t out[B * MAXNEW], gout[B * MAXNEW];
        int out_lens[B], glens[B];
        double scores[B], gscores[B];
        cr_assert_eq(sw_gpt_decode(ms, n_models, prompts, STRIDE, lens, B, MAXNEW, allowed, STOP, &wide, out,
                                   out_lens, scores),
                     SW_OK, "%s", sw_model_errmsg(ms[0]));
        cr_assert_eq(sw_gpt_decode(ms, n_models, prompts, STRIDE, lens, B, MAXNEW, allowed, STOP, &greedy, gout,
                                   glens, gscores),
                     SW_OK);
        for (int r = 0; r < B; r++) {
            int32_t best[MAXNEW];
            int best_len;
            double top = best_by_enumeration(ms, n_models, prompts + r * STRIDE, lens[r], alpha, best, &best_len);
            /* the score the beam reports is the answer's score by hand */
            double mine = answer_logp(ms, n_models, prompts + r * STRIDE, lens[r], out + r * MAXNEW, out_lens[r]) /
                          pow((5.0 + out_lens[r]) / 6.0, alpha);
            cr_assert_float_eq(scores[r], mine, 1e-4, "alpha %g row %d: reported %g, by hand %g", alpha, r,
                               scores[r], mine);
            cr_assert_float_eq(mine, top, 1e-4, "alpha %g row %d: beam %g, best %g", alpha, r, mine, top);
            double g = answer_logp(ms, n_models, prompts + r * STRIDE, lens[r], gout + r * MAXNEW, glens[r]) /
                       pow((5.0 + glens[r]) / 6.0, alpha);
            cr_assert_float_eq(gscores[r], g, 1e-4);
            cr_assert_leq(g, top + 1e-4);
            strictly_better += top > g + 1e-3;
        }
    }
    cr_assert_gt(strictly_better, 0, "greedy found the best answer everywhere: the case tests nothing");
    for (int m = 0; m < n_models; m++) sw_model_free(ms[m]);
}

Test(nn_beam, wide_beam_finds_the_best_answer) { wide_beam_finds_the_best(1); }
Test(nn_beam, wide_beam_over_an_ensemble_finds_the_best_answer) { wide_beam_finds_the_best(3); }

/* Length normalisation by hand: the penalty's formula, and the same two
 * answers ranked one way without it and the other way with it. */
Test(nn_beam, length_penalty_by_hand)
{
    cr_assert_float_eq(sw_decode_length_penalty(1, 0.6), 1.0, 1e-15, "lp(1) = (6/6)^alpha = 1");
    cr_assert_float_eq(sw_decode_length_penalty(3, 0.6), pow(8.0 / 6.0, 0.6), 1e-15);
    cr_assert_float_eq(sw_decode_length_penalty(7, 1.0), 2.0, 1e-15);
    cr_assert_eq(sw_decode_length_penalty(40, 0.0), 1.0);
    /* a short answer at logp -2.0 (2 tokens) and a long one at -2.5 (7
     * tokens): raw, the short one wins; with alpha 1, -2/(7/6) = -1.714 loses
     * to -2.5/2 = -1.25 */
    double short_raw = -2.0, long_raw = -2.5;
    cr_assert_gt(short_raw, long_raw);
    cr_assert_lt(short_raw / sw_decode_length_penalty(2, 1.0), long_raw / sw_decode_length_penalty(7, 1.0));
}

Test(nn_beam, ensemble_step_is_the_hand_averaged_distribution)
{
    sw_model *ms[3] = {make_gpt(16, 7, 0.2), make_gpt(16, 8, 0.2), make_gpt(16, 9, 0.2)};
    enum { B = 4, STRIDE = 6 };
    int32_t prompts[B * STRIDE];
    for (int i = 0; i < B * STRIDE; i++) prompts[i] = (i * 3 + 1) % V;
    int lens[B] = {3, 6, 1, 4};
    for (int n = 1; n <= 3; n++) {
        double got[B * V];
        cr_assert_eq(sw_gpt_next_logprobs(ms, n, prompts, STRIDE, lens, B, got), SW_OK, "%s",
                     sw_model_errmsg(ms[0]));
        for (int r = 0; r < B; r++) {
            double mean[V] = {0}, lp[V], total = 0;
            for (int m = 0; m < n; m++) {
                full_logp(ms[m], prompts + r * STRIDE, lens[r], lp);
                for (int v = 0; v < V; v++) mean[v] += exp(lp[v]) / n;
            }
            for (int v = 0; v < V; v++) {
                total += exp(got[r * V + v]);
                cr_assert_float_eq(exp(got[r * V + v]), mean[v], 1e-5, "n %d row %d symbol %d: %g, by hand %g", n, r,
                                   v, exp(got[r * V + v]), mean[v]);
            }
            cr_assert_float_eq(total, 1.0, 1e-9, "a distribution sums to 1");
        }
    }
    /* the ensemble is not its first member: the members disagree */
    double one[B * V], three[B * V], diff = 0;
    cr_assert_eq(sw_gpt_next_logprobs(ms, 1, prompts, STRIDE, lens, B, one), SW_OK);
    cr_assert_eq(sw_gpt_next_logprobs(ms, 3, prompts, STRIDE, lens, B, three), SW_OK);
    for (int i = 0; i < B * V; i++) diff += fabs(exp(one[i]) - exp(three[i]));
    cr_assert_gt(diff, 0.05);
    for (int m = 0; m < 3; m++) sw_model_free(ms[m]);
}

Test(nn_beam, classifier_ensemble_is_the_hand_averaged_probabilities)
{
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse("mlp:hidden=16,inputs=5,classes=4", &s, NULL), SW_OK);
    sw_model *ms[3];
    for (int m = 0; m < 3; m++) cr_assert_eq(sw_model_create(&s, 40 + (uint64_t)m, &ms[m], NULL), SW_OK);
    enum { B = 6, F = 5, C = 4 };
    float x[B * F];
    nn_fill_normal(x, B * F, 2.0, 3);
    sw_batch b = {.B = B, .T = 1, .features = x};
    double probs[B * C], want[B * C] = {0};
    for (int m = 0; m < 3; m++) {
        cr_assert_eq(sw_model_forward(ms[m], &b, 0, NULL), SW_OK);
        const float *z = sw_model_logits(ms[m]);
        for (int r = 0; r < B; r++) {
            double sum = 0;
            for (int c = 0; c < C; c++) sum += exp(z[r * C + c]);
            for (int c = 0; c < C; c++) want[r * C + c] += exp(z[r * C + c]) / sum / 3;
        }
    }
    cr_assert_eq(sw_model_ensemble_probs(ms, 3, &b, probs), SW_OK);
    for (int i = 0; i < B * C; i++) cr_assert_float_eq(probs[i], want[i], 1e-12, "entry %d", i);
    /* members with another number of classes are refused */
    sw_model_spec s5 = s;
    s5.n_classes = 5;
    sw_model *odd;
    cr_assert_eq(sw_model_create(&s5, 1, &odd, NULL), SW_OK);
    sw_model *mixed[2] = {ms[0], odd};
    cr_assert_eq(sw_model_ensemble_probs(mixed, 2, &b, probs), SW_ERR_INVALID);
    cr_assert(strstr(sw_model_errmsg(ms[0]), "5 outputs") != NULL, "%s", sw_model_errmsg(ms[0]));
    sw_model_free(odd);
    for (int m = 0; m < 3; m++) sw_model_free(ms[m]);
}

Test(nn_beam, bad_arguments)
{
    sw_model *a = make_gpt(8, 1, 0.1);
    sw_model_spec s;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=1,d=16,heads=2,vocab=14", &s, NULL), SW_OK);
    s.ctx = 8;
    sw_model *b;
    cr_assert_eq(sw_model_create(&s, 2, &b, NULL), SW_OK);
    int32_t p[4] = {1, 2, 3, 4}, out[8];
    int lens[1] = {4}, out_lens[1];
    sw_model *two[2] = {a, b};
    cr_assert_eq(sw_gpt_decode(two, 2, p, 4, lens, 1, 4, NULL, -1, NULL, out, out_lens, NULL), SW_ERR_INVALID);
    cr_assert(strstr(sw_model_errmsg(a), "14 symbols") != NULL, "%s", sw_model_errmsg(a));
    sw_decode_params bad = {.beam = 0, .alpha = 0.6};
    cr_assert_eq(sw_gpt_decode(two, 1, p, 4, lens, 1, 4, NULL, -1, &bad, out, out_lens, NULL), SW_ERR_INVALID);
    bad.beam = 2;
    bad.alpha = -1;
    cr_assert_eq(sw_gpt_decode(two, 1, p, 4, lens, 1, 4, NULL, -1, &bad, out, out_lens, NULL), SW_ERR_INVALID);
    lens[0] = 9;
    cr_assert_eq(sw_gpt_decode(two, 1, p, 4, lens, 1, 4, NULL, -1, NULL, out, out_lens, NULL), SW_ERR_INVALID);
    sw_model_free(a);
    sw_model_free(b);
}
