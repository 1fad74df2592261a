/* train/: the data levers' mechanics (docs/LEVERS.md): the probe's scores
 * against a hand computation, forgetting counts, the curriculum's pacing and
 * draws, and the batcher with augmentation (labels unchanged) and a
 * curriculum (batches from the easy end). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_helpers.h"
#include "stopwise/data.h"
#include "stopwise/nn.h"
#include "stopwise/train.h"
#include "support.h"
#include "train/batch.h"
#include "train/curriculum.h"
#include "train/probe.h"

static void set_tensor(sw_model *m, const char *name, const float *v, size_t n)
{
    for (int t = 0; t < sw_model_num_tensors(m); t++) {
        sw_tensor_info ti;
        sw_model_tensor(m, t, &ti);
        if (!strcmp(ti.name, name)) {
            cr_assert_eq(ti.numel, n, "%s has %zu values", name, ti.numel);
            memcpy(sw_model_params(m) + ti.offset, v, sizeof(float) * n);
            return;
        }
    }
    cr_assert_fail("no tensor %s", name);
}

Test(train_levers, probe_scores_of_a_classifier_match_a_hand_computation)
{
    const char *dir = sw_test_tmpdir();
    char spec[4200];
    snprintf(spec, sizeof spec, "csv:%s",
             sw_test_write(dir, "tiny.csv", "f1,f2,label\n1,0,a\n0,1,b\n1,1,c\n-1,2,a\n0.5,-1,b\n"));
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(spec, &o);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    cr_assert_eq(n, 5);
    sw_model_spec ms;
    cr_assert_eq(sw_model_spec_parse("mlp:hidden=2,act=relu,dropout=0,inputs=2,classes=3", &ms, NULL), SW_OK);
    sw_model *m;
    cr_assert_eq(sw_model_create(&ms, 1, &m, NULL), SW_OK);
    /* h = relu(W1 x + b1), z = W2 h + b2 */
    const float W1[4] = {1.0f, -0.5f, 0.25f, 2.0f}, b1[2] = {0.1f, -0.2f};
    const float W2[6] = {1.5f, -1.0f, -0.5f, 0.75f, 0.2f, 0.3f}, b2[3] = {0.0f, 0.1f, -0.3f};
    set_tensor(m, "fc.0.w", W1, 4);
    set_tensor(m, "fc.0.b", b1, 2);
    set_tensor(m, "fc.1.w", W2, 6);
    set_tensor(m, "fc.1.b", b2, 3);
    double loss[5], el2n[5];
    uint8_t right[5];
    sw_error e = {0};
    cr_assert_eq(sw_probe_score(m, ds, loss, el2n, right, &e), SW_OK, "%s", e.msg);
    int n_right = 0;
    for (size_t i = 0; i < n; i++) {
        const float *x = sw_dataset_features(ds, SW_SPLIT_TRAIN, i);
        int y = sw_dataset_label(ds, SW_SPLIT_TRAIN, i);
        double h[2], z[3], p[3], zmax = -1e300, sum = 0;
        for (int j = 0; j < 2; j++) {
            h[j] = W1[2 * j] * x[0] + W1[2 * j + 1] * x[1] + b1[j];
            if (h[j] < 0) h[j] = 0;
        }
        int arg = 0;
        for (int k = 0; k < 3; k++) {
            z[k] = W2[2 * k] * h[0] + W2[2 * k + 1] * h[1] + b2[k];
            if (z[k] > zmax) zmax = z[k];
            if (z[k] > z[arg]) arg = k;
        }
        for (int k = 0; k < 3; k++) sum += exp(z[k] - zmax);
        double sq = 0;
        for (int k = 0; k < 3; k++) {
            p[k] = exp(z[k] - zmax) / sum;
            sq += (p[k] - (k == y)) * (p[k] - (k == y));
        }
        cr_assert_float_eq(loss[i], -log(p[y]), 1e-5, "example %zu loss %g, want %g", i, loss[i], -log(p[y]));
        cr_assert_float_eq(el2n[i], sqrt(sq), 1e-5, "example %zu el2n %g, want %g", i, el2n[i], sqrt(sq));
        cr_assert_eq(right[i], arg == y, "example %zu", i);
        n_right += right[i];
    }
    cr_assert(n_right > 0 && n_right < 5, "the fixture should have right and wrong examples (%d right)", n_right);
    sw_model_free(m);
    sw_dataset_free(ds);
}

/* Loss and el2n of one (example, reference) pair from a one-row forward:
 * the mean over the target positions, and whether every target position's
 * argmax over `allowed` is the reference's. */
static void pair_stats(sw_model *m, const sw_dataset *ds, uint32_t ex, uint16_t ref, const uint8_t *allowed,
                       double *loss, double *el2n, int *right)
{
    const sw_model_spec *s = sw_model_get_spec(m);
    int V = s->vocab, T = s->ctx;
    int32_t *in = malloc(sizeof(int32_t) * (size_t)T), *tg = malloc(sizeof(int32_t) * (size_t)T);
    float *mask = malloc(sizeof(float) * (size_t)T);
    int Tb = sw_batch_fill_sequence(ds, SW_SPLIT_TRAIN, &ex, &ref, 1, T, in, tg, mask, NULL);
    sw_batch b = {.B = 1, .T = Tb, .inputs = in, .targets = tg, .mask = mask};
    cr_assert_eq(sw_model_forward(m, &b, 0, NULL), SW_OK);
    const float *lg = sw_model_logits(m);
    double l = 0, e = 0, k = 0;
    *right = 1;
    for (int p = 0; p < Tb; p++) {
        if (mask[p] == 0) continue;
        const float *z = lg + (size_t)p * V;
        double mx = -1e300, sum = 0, sq = 0;
        for (int v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        for (int v = 0; v < V; v++) sum += exp(z[v] - mx);
        int arg = -1;
        for (int v = 0; v < V; v++) {
            double pv = exp(z[v] - mx) / sum;
            sq += (pv - (v == tg[p])) * (pv - (v == tg[p]));
            if (allowed[v] && (arg < 0 || z[v] > z[arg])) arg = v;
        }
        l += -(z[tg[p]] - mx - log(sum));
        e += sqrt(sq);
        *right &= arg == tg[p];
        k++;
    }
    *loss = l / k;
    *el2n = e / k;
    free(in);
    free(tg);
    free(mask);
}

Test(train_levers, probe_scores_of_a_sequence_model_take_the_easiest_reference_and_mean_em)
{
    const char *dir = sw_test_tmpdir();
    /* inputs of 1-2 letters, targets x or y (chars), some with two references */
    char text[4096], *p = text;
    const char *letters = "abcdefgh";
    int n_in = 0;
    for (int i = 0; i < 8; i++)
        for (int j = -1; j < 8; j += 2, n_in++) {
            char w[3] = {letters[i], j >= 0 ? letters[j] : 0, 0};
            p += sprintf(p, "%s\t%s\n", w, (i + j) % 2 ? "x" : "y");
            if ((i * 3 + j) % 4 == 0) p += sprintf(p, "%s\t%s\n", w, (i + j) % 2 ? "y" : "x");
        }
    char spec[4200];
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, "xy.tsv", text));
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(spec, &o);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    cr_assert_eq(n, (size_t)n_in);
    sw_model_spec ms;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=1,d=16,heads=2", &ms, NULL), SW_OK);
    ms.vocab = sw_vocab_size(sw_dataset_vocab(ds));
    ms.ctx = sw_dataset_max_input_len(ds) + sw_dataset_max_ref_len(ds) + 2;
    sw_model *m;
    cr_assert_eq(sw_model_create(&ms, 3, &m, NULL), SW_OK);
    /* a few steps of training, so that some examples come out right */
    sw_optimizer_params op = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
    sw_optimizer *opt;
    sw_batcher bt;
    cr_assert_eq(sw_optimizer_create(&op, sw_model_num_params(m), &opt, NULL), SW_OK);
    cr_assert_eq(sw_batcher_init(&bt, ds, 16, ms.ctx, 1, NULL), SW_OK);
    for (int step = 0; step < 40; step++) {
        sw_batch b;
        uint64_t tok;
        float l;
        sw_batcher_next(&bt, &b, &tok);
        sw_model_zero_grad(m);
        cr_assert_eq(sw_model_forward(m, &b, 1, &l), SW_OK);
        cr_assert_eq(sw_model_backward(m), SW_OK);
        cr_assert_eq(sw_optimizer_step(opt, sw_model_params(m), sw_model_grads(m), 3e-3f, NULL), SW_OK);
    }
    sw_batcher_free(&bt);
    sw_optimizer_free(opt);
    double *loss = malloc(sizeof(double) * n), *el2n = malloc(sizeof(double) * n);
    uint8_t *right = malloc(n), *hits = malloc(n);
    sw_error e = {0};
    cr_assert_eq(sw_probe_score(m, ds, loss, el2n, right, &e), SW_OK, "%s", e.msg);
    uint8_t *allowed = calloc((size_t)ms.vocab, 1);
    for (int v = 0; v < ms.vocab; v++) allowed[v] = sw_vocab_is_target(sw_dataset_vocab(ds), v) || v == SW_TOKEN_EOS;
    int multi = 0;
    for (size_t i = 0; i < n; i++) {
        double bl = INFINITY, be = INFINITY;
        int any = 0, refs = sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, i);
        multi += refs > 1;
        for (int j = 0; j < refs; j++) {
            double l, el;
            int ok;
            pair_stats(m, ds, (uint32_t)i, (uint16_t)j, allowed, &l, &el, &ok);
            bl = l < bl ? l : bl;
            be = el < be ? el : be;
            any |= ok;
        }
        cr_assert_float_eq(loss[i], bl, 1e-5, "example %zu", i);
        cr_assert_float_eq(el2n[i], be, 1e-5, "example %zu", i);
        cr_assert_eq(right[i], any, "example %zu", i);
    }
    cr_assert_gt(multi, 0);
    /* right is exactly greedy decoding's exact match */
    sw_eval_result r;
    cr_assert_eq(sw_evaluate_subset(m, ds, SW_SPLIT_TRAIN, NULL, n, hits, &r, &e), SW_OK, "%s", e.msg);
    int n_right = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(right[i], hits[i], "example %zu: probe right %d, greedy EM %d", i, right[i], hits[i]);
        n_right += right[i];
    }
    cr_assert(n_right > 0 && (size_t)n_right < n, "the fixture should have right and wrong examples (%d of %zu)", n_right, n);
    free(loss);
    free(el2n);
    free(right);
    free(hits);
    free(allowed);
    sw_model_free(m);
    sw_dataset_free(ds);
}

Test(train_levers, forgetting_counts_right_to_wrong_flips)
{
    /* five examples over four passes */
    const uint8_t pass[4][5] = {{1, 0, 1, 0, 1}, {0, 0, 1, 1, 1}, {1, 0, 0, 1, 1}, {0, 0, 1, 0, 1}};
    uint32_t forgets[5] = {0};
    uint8_t learned[5] = {0};
    for (int k = 0; k < 4; k++) sw_probe_count_forgetting(k ? pass[k - 1] : NULL, pass[k], 5, forgets, learned);
    const uint32_t want[5] = {2, 0, 1, 1, 0};
    for (int i = 0; i < 5; i++) cr_assert_eq(forgets[i], want[i], "example %d: %u flips, want %u", i, forgets[i], want[i]);
    const uint8_t want_learned[5] = {1, 0, 1, 1, 1};
    cr_assert_eq(memcmp(learned, want_learned, 5), 0);
    /* scores: never learned above any learned; equal counts ordered by loss */
    double loss[5] = {0.1, 0.2, 3.0, 0.5, 9.0}, el2n[5] = {0}, s[5];
    sw_probe p = {.n = 5, .loss = loss, .el2n = el2n, .forgets = forgets, .learned = learned, .points = 4};
    sw_probe_scores(&p, SW_SUBSAMPLE_FORGETTING, s);
    cr_assert_gt(s[1], s[0], "never learned (%g) above two flips (%g)", s[1], s[0]);
    cr_assert_gt(s[0], s[2]);
    cr_assert_gt(s[2], s[3], "one flip each: the higher loss is harder");
    cr_assert_gt(s[3], s[4], "one flip above none, whatever the loss");
    sw_probe_scores(&p, SW_SUBSAMPLE_LOSS, s);
    cr_assert_eq(s[4], 9.0);
}

Test(train_levers, curriculum_pacing_and_draws)
{
    sw_curriculum_spec s;
    sw_error e = {0};
    cr_assert_eq(sw_curriculum_parse("length", &s, &e), SW_OK);
    cr_assert_float_eq(sw_curriculum_competence(&s, 0), 0.1, 1e-12);
    cr_assert_float_eq(sw_curriculum_competence(&s, 0.5), sqrt(0.01 + 0.99 * 0.5), 1e-12);
    cr_assert_float_eq(sw_curriculum_competence(&s, 1), 1, 1e-12);
    cr_assert_float_eq(sw_curriculum_competence(&s, 7), 1, 1e-12);
    cr_assert_eq(sw_curriculum_parse("difficulty:score=el2n,pace=linear,start=0.2,until=0.25", &s, &e), SW_OK);
    cr_assert_float_eq(sw_curriculum_competence(&s, 0.5), 0.6, 1e-12);
    char buf[256];
    cr_assert_str_eq(sw_curriculum_format(&s, buf, sizeof buf),
                     "difficulty:score=el2n,probe=0,points=1,start=0.2,until=0.25,pace=linear");
    cr_assert_eq(sw_curriculum_parse("difficulty:score=forgetting", &s, &e), SW_OK);
    cr_assert_eq(s.points, 10);
    cr_assert_eq(sw_curriculum_parse("length:score=loss", &s, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "unknown key 'score'"), "%s", e.msg);
    cr_assert_eq(sw_curriculum_parse("hardness", &s, &e), SW_ERR_INVALID);
    cr_assert_eq(sw_curriculum_parse("length:start=0", &s, &e), SW_ERR_INVALID);

    /* 1000 items, key = item / 10 (ties in tens) */
    enum { N = 1000, B = 32 };
    double key[N];
    for (int i = 0; i < N; i++) key[i] = (double)(i / 10);
    cr_assert_eq(sw_curriculum_parse("length:start=0.1,until=0.5", &s, &e), SW_OK);
    uint64_t clock = 0;
    sw_curriculum c;
    cr_assert_eq(sw_curriculum_init(&c, &s, key, N, 100000, 7, &clock, &e), SW_OK);
    for (size_t i = 1; i < N; i++) cr_assert_leq(key[c.sorted[i - 1]], key[c.sorted[i]], "sorted by key");
    int tie_order_seeded = 0;
    for (size_t i = 0; i + 1 < N; i++) tie_order_seeded |= key[c.sorted[i]] == key[c.sorted[i + 1]] && c.sorted[i] > c.sorted[i + 1];
    cr_assert(tie_order_seeded, "equal keys kept in index order, not a seeded one");
    uint32_t items[B], again[B];
    uint64_t round, round2;
    const uint64_t clocks[] = {0, 1000, 20000, 49999};
    for (size_t k = 0; k < sizeof clocks / sizeof *clocks; k++) {
        clock = clocks[k];
        int got = sw_curriculum_draw(&c, items, B, &round);
        cr_assert_eq(got, B);
        double comp = sw_curriculum_competence(&s, (double)clock / 50000.0);
        size_t prefix = (size_t)ceil(comp * N);
        /* every item within the easiest prefix, no repeats */
        for (int r = 0; r < B; r++) {
            size_t rank = 0;
            while (c.sorted[rank] != items[r]) rank++;
            cr_assert_lt(rank, prefix, "clock %llu: item of rank %zu outside the easiest %zu",
                         (unsigned long long)clock, rank, prefix);
            for (int q = 0; q < r; q++) cr_assert_neq(items[q], items[r], "repeated item");
        }
        cr_assert_eq(sw_curriculum_draw(&c, again, B, &round2), B);
        cr_assert_eq(memcmp(items, again, sizeof items), 0, "a draw is a function of the clock");
        cr_assert_eq(round, round2);
    }
    clock = 50000; /* until x budget: competence 1, the epochs take over */
    cr_assert_eq(sw_curriculum_draw(&c, items, B, &round), 0);
    sw_curriculum_free(&c);
}

Test(train_levers, batcher_augments_features_and_keeps_labels)
{
    const char *dir = sw_test_tmpdir();
    /* 40 images 4x4, named fashion-mnist so flips are declared safe */
    const char *spec = fashion_folder(dir, 40, 4, 4);
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(spec, &o);
    sw_augment *a = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_augment_create("image:shift=1,flip=1", ds, 4, &a, &e), SW_OK, "%s", e.msg);
    sw_batcher b;
    cr_assert_eq(sw_batcher_init(&b, ds, 8, 1, 2, &e), SW_OK, "%s", e.msg);
    b.augment = a;
    int changed = 0;
    for (int step = 0; step < 12; step++) {
        if (b.next_batch >= b.n_batches) sw_batcher_seek(&b, b.epoch + 1, 0);
        size_t s = b.batch_start[b.next_batch];
        uint64_t epoch = b.epoch;
        uint32_t ex[8];
        for (int r = 0; r < 8; r++) ex[r] = b.item_example[b.order[s + (size_t)r]];
        sw_batch out;
        uint64_t tokens;
        sw_batcher_next(&b, &out, &tokens);
        cr_assert_eq(out.B, 8);
        cr_assert_eq(tokens, 8);
        for (int r = 0; r < 8; r++) {
            cr_assert_eq(out.targets[r], sw_dataset_label(ds, SW_SPLIT_TRAIN, ex[r]), "a label changed");
            float x[16];
            memcpy(x, sw_dataset_features(ds, SW_SPLIT_TRAIN, ex[r]), sizeof x);
            changed += memcmp(x, out.features + 16 * r, sizeof x) != 0;
            sw_augment_row(a, x, epoch, ex[r]);
            cr_assert_eq(memcmp(x, out.features + 16 * r, sizeof x), 0, "row %d is not the example's draw", r);
        }
    }
    cr_assert_gt(changed, 48, "augmentation changed only %d of 96 rows", changed);
    sw_batcher_free(&b);
    sw_augment_free(a);
    sw_dataset_free(ds);
}

Test(train_levers, batcher_draws_from_the_easy_end_while_the_curriculum_paces)
{
    const char *dir = sw_test_tmpdir();
    /* words of 1..8 letters: the length curriculum starts with the short ones */
    char *text = malloc(64 * 1024), *p = text;
    for (int i = 0; i < 400; i++) {
        int len = 1 + i % 8;
        char w[16];
        for (int c = 0; c < len; c++) w[c] = (char)('a' + (i / 8 + c * 5) % 26);
        w[len] = 0;
        p += sprintf(p, "%s%d\t%s\n", w, i, w);
    }
    char spec[4200];
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, "len.tsv", text));
    free(text);
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(spec, &o);
    sw_batcher b;
    sw_error e = {0};
    int T = sw_dataset_max_input_len(ds) + sw_dataset_max_ref_len(ds) + 2;
    cr_assert_eq(sw_batcher_init(&b, ds, 16, T, 3, &e), SW_OK, "%s", e.msg);
    double *key = malloc(sizeof(double) * b.n_items);
    int maxlen = 0;
    for (size_t i = 0; i < b.n_items; i++) {
        int li, lr;
        sw_dataset_input(ds, SW_SPLIT_TRAIN, b.item_example[i], &li);
        sw_dataset_ref(ds, SW_SPLIT_TRAIN, b.item_example[i], b.item_ref[i], &lr);
        key[i] = li + 1 + lr;
        maxlen = (int)key[i] > maxlen ? (int)key[i] : maxlen;
    }
    sw_curriculum_spec cs;
    cr_assert_eq(sw_curriculum_parse("length:start=0.1,until=0.5,pace=linear", &cs, &e), SW_OK);
    uint64_t clock = 0;
    sw_curriculum c;
    cr_assert_eq(sw_curriculum_init(&c, &cs, key, b.n_items, 100000, 5, &clock, &e), SW_OK);
    b.curriculum = &c;
    /* at the start: the easiest 10% (40 items): the shortest words only */
    double cut = key[c.sorted[39]];
    for (int step = 0; step < 5; step++) {
        sw_batch out;
        uint64_t tokens;
        sw_batcher_next(&b, &out, &tokens);
        cr_assert_eq(out.B, 16);
        for (int r = 0; r < 16; r++) {
            int L = 0;
            for (int t = 0; t < out.T; t++) L += out.inputs[r * out.T + t] != SW_TOKEN_PAD;
            cr_assert_leq(L, cut, "a fed length %d beyond the easiest cut %g at the start", L, cut);
        }
        cr_assert_lt(out.T, maxlen, "padded to %d: long words drawn early", out.T);
        clock += tokens;
    }
    cr_assert_eq(b.next_batch, 0, "the epoch position moved while the curriculum paced");
    clock = 50000; /* the curriculum is over: epochs as without one, from the first */
    sw_batch out;
    uint64_t tokens;
    sw_batcher_next(&b, &out, &tokens);
    cr_assert_eq(b.epoch, 0);
    cr_assert_eq(b.next_batch, 1);
    sw_curriculum_free(&c);
    free(key);
    sw_batcher_free(&b);
    sw_dataset_free(ds);
}
