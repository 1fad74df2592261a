/* data/: the data levers (docs/LEVERS.md): the --subsample spec, uniform,
 * stratified and score-based selection, exact de-duplication, the training
 * split's restriction, and label-preserving augmentation of images and
 * features. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_helpers.h"
#include "stopwise/data.h"
#include "support.h"

/* ---- fixtures ------------------------------------------------------------------- */

/* A CSV of class sizes counts[0..k) (labels "c0".."c<k-1>"), rows interleaved
 * so classes are not in blocks; every row distinct. Returns the spec. */
static const char *csv_classes(const char *dir, const int *counts, int k)
{
    size_t total = 0;
    for (int c = 0; c < k; c++) total += (size_t)counts[c];
    char *text = malloc(total * 48 + 64), *p = text;
    p += sprintf(p, "f1,f2,label\n");
    int left[16];
    memcpy(left, counts, sizeof(int) * (size_t)k);
    for (size_t row = 0; row < total;)
        for (int c = 0; c < k; c++)
            if (left[c]) {
                p += sprintf(p, "%zu,%d,c%d\n", row, left[c], c);
                left[c]--;
                row++;
            }
    static char spec[4200];
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "classes.csv", text));
    free(text);
    return spec;
}

static sw_subsample_spec parse_ok(const char *text)
{
    sw_subsample_spec s;
    sw_error e = {0};
    cr_assert_eq(sw_subsample_parse(text, &s, &e), SW_OK, "%s: %s", text, e.msg);
    return s;
}

static void select_ok(const sw_dataset *ds, const char *text, uint64_t seed, const double *scores, uint32_t *keep,
                      size_t *n)
{
    sw_subsample_spec s = parse_ok(text);
    sw_error e = {0};
    cr_assert_eq(sw_subsample_select(ds, &s, seed, scores, keep, n, &e), SW_OK, "%s: %s", text, e.msg);
}

/* ---- the spec ---------------------------------------------------------------------- */

Test(data_levers, subsample_specs_parse_and_round_trip)
{
    sw_subsample_spec s = parse_ok("0.5");
    cr_assert_eq(s.kind, SW_SUBSAMPLE_UNIFORM);
    cr_assert_float_eq(s.keep, 0.5, 0);
    s = parse_ok("stratified:keep=0.3");
    cr_assert_eq(s.kind, SW_SUBSAMPLE_STRATIFIED);
    s = parse_ok("el2n:keep=0.7,take=mix,hard=0.25,balance=1,probe=100k,points=3");
    cr_assert_eq(s.kind, SW_SUBSAMPLE_EL2N);
    cr_assert_eq(s.take, SW_SUBSAMPLE_MIX);
    cr_assert_float_eq(s.hard, 0.25, 0);
    cr_assert_eq(s.balance, 1);
    cr_assert_eq(s.probe, 100000);
    cr_assert_eq(s.points, 3);
    cr_assert(sw_subsample_needs_scores(&s));
    /* forgetting defaults to 10 scoring passes, loss to 1 */
    cr_assert_eq(parse_ok("forgetting:keep=1").points, 10);
    cr_assert_eq(parse_ok("loss:keep=1").points, 1);
    cr_assert_eq(parse_ok("none").kind, SW_SUBSAMPLE_NONE);
    const char *texts[] = {"uniform:keep=0.9", "stratified:keep=0.3", "loss:keep=0.5,take=easy,hard=0.5,balance=0,probe=20k,points=1",
                           "forgetting:keep=0.4,take=hard,hard=0.5,balance=1,probe=1.5M,points=10"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        char buf[256];
        sw_subsample_spec a = parse_ok(texts[i]);
        cr_assert_str_eq(sw_subsample_format(&a, buf, sizeof buf), texts[i]);
    }
    char buf[256];
    cr_assert_str_eq(sw_subsample_format(&s, buf, sizeof buf), "el2n:keep=0.7,take=mix,hard=0.25,balance=1,probe=100k,points=3");
}

Test(data_levers, keep_fraction_outside_0_1_is_refused_with_the_reason)
{
    const char *bad[] = {"0", "1.5", "-0.2", "uniform:keep=0", "stratified:keep=1.01", "el2n:keep=2", "uniform:keep=x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sw_subsample_spec s;
        sw_error e = {0};
        cr_assert_eq(sw_subsample_parse(bad[i], &s, &e), SW_ERR_INVALID, "%s accepted", bad[i]);
        cr_assert(strstr(e.msg, "keep must be a fraction in (0, 1]"), "%s: %s", bad[i], e.msg);
    }
    const char *other[][2] = {{"uniform", "keep=F is required"},
                              {"random:keep=0.5", "expected a fraction F"},
                              {"uniform:keep=0.5,take=hard", "unknown key 'take'"},
                              {"el2n:keep=0.5,take=middle", "take must be hard, easy or mix"},
                              {"loss:keep=0.5,probe=lots", "probe must be a token count"},
                              {"forgetting:keep=0.5,points=1", "points >= 2"},
                              {"el2n:keep=0.5,hard=1.5", "hard must be a share"}};
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        sw_subsample_spec s;
        sw_error e = {0};
        cr_assert_eq(sw_subsample_parse(other[i][0], &s, &e), SW_ERR_INVALID, "%s accepted", other[i][0]);
        cr_assert(strstr(e.msg, other[i][1]), "%s: '%s' lacks '%s'", other[i][0], e.msg, other[i][1]);
    }
}

/* ---- selection ----------------------------------------------------------------------- */

Test(data_levers, uniform_is_seeded_and_sized)
{
    const char *dir = sw_test_tmpdir();
    int counts[3] = {300, 200, 100};
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(csv_classes(dir, counts, 3), &o);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    cr_assert_eq(n, 600);
    uint32_t *a = malloc(sizeof(uint32_t) * n), *b = malloc(sizeof(uint32_t) * n), *c = malloc(sizeof(uint32_t) * n);
    size_t na, nb, nc;
    select_ok(ds, "0.37", 7, NULL, a, &na);
    select_ok(ds, "uniform:keep=0.37", 7, NULL, b, &nb);
    select_ok(ds, "0.37", 8, NULL, c, &nc);
    cr_assert_eq(na, 222); /* round(0.37 x 600) */
    cr_assert_eq(nb, na);
    cr_assert_eq(nc, na);
    cr_assert_eq(memcmp(a, b, na * sizeof *a), 0, "same seed, different selection");
    cr_assert_neq(memcmp(a, c, na * sizeof *a), 0, "another seed gave the same selection");
    for (size_t i = 0; i < na; i++) {
        cr_assert_lt(a[i], n);
        if (i) cr_assert_gt(a[i], a[i - 1], "positions ascending and distinct");
    }
    /* keep=1 keeps all; a tiny fraction keeps one */
    select_ok(ds, "1", 7, NULL, a, &na);
    cr_assert_eq(na, n);
    select_ok(ds, "0.0001", 7, NULL, a, &na);
    cr_assert_eq(na, 1);
    free(a);
    free(b);
    free(c);
    sw_dataset_free(ds);
}

Test(data_levers, stratified_keeps_class_proportions_within_one_example)
{
    const char *dir = sw_test_tmpdir();
    int counts[4] = {101, 37, 12, 3};
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(csv_classes(dir, counts, 4), &o);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    uint32_t *keep = malloc(sizeof(uint32_t) * n);
    const double fracs[] = {0.3, 0.5, 0.77, 0.9, 0.05};
    for (size_t f = 0; f < sizeof fracs / sizeof *fracs; f++) {
        char text[64];
        snprintf(text, sizeof text, "stratified:keep=%g", fracs[f]);
        for (uint64_t seed = 1; seed <= 3; seed++) {
            size_t m;
            select_ok(ds, text, seed, NULL, keep, &m);
            size_t per[4] = {0}, all[4] = {0};
            for (size_t i = 0; i < n; i++) all[sw_dataset_label(ds, SW_SPLIT_TRAIN, i)]++;
            for (size_t i = 0; i < m; i++) per[sw_dataset_label(ds, SW_SPLIT_TRAIN, keep[i])]++;
            cr_assert_eq(m, (size_t)floor(fracs[f] * (double)n + 0.5), "%s: total %zu", text, m);
            for (int c = 0; c < 4; c++)
                cr_assert_leq(fabs((double)per[c] - fracs[f] * (double)all[c]), 1.0, "%s: class %d kept %zu of %zu",
                              text, c, per[c], all[c]);
        }
    }
    free(keep);
    sw_dataset_free(ds);
}

Test(data_levers, stratified_sequences_by_input_length)
{
    const char *dir = sw_test_tmpdir();
    /* words of length 1..6, 5 x length of each, all distinct */
    char *text = malloc(64 * 1024), *p = text;
    for (int len = 1; len <= 6; len++)
        for (int i = 0; i < 5 * len; i++) {
            char w[16];
            for (int c = 0; c < len; c++) w[c] = (char)('a' + (i * 7 + c * 3 + len) % 26);
            w[len] = 0;
            /* make each word unique with a suffix of its own length class */
            p += sprintf(p, "%s%c\t%d\n", w, 'A' + i % 26, len);
        }
    char spec[4200];
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, "words.tsv", text));
    free(text);
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(spec, &o);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    size_t have[8] = {0};
    for (size_t i = 0; i < n; i++) have[sw_dataset_train_stratum(ds, i)]++;
    uint32_t *keep = malloc(sizeof(uint32_t) * n);
    size_t m;
    select_ok(ds, "stratified:keep=0.4", 3, NULL, keep, &m);
    size_t per[8] = {0};
    for (size_t i = 0; i < m; i++) per[sw_dataset_train_stratum(ds, keep[i])]++;
    for (int len = 0; len < 8; len++)
        cr_assert_leq(fabs((double)per[len] - 0.4 * (double)have[len]), 1.0, "length %d: %zu of %zu", len, per[len],
                      have[len]);
    free(keep);
    sw_dataset_free(ds);
}

Test(data_levers, scores_pick_the_hard_the_easy_or_both_ends)
{
    const char *dir = sw_test_tmpdir();
    int counts[2] = {50, 50};
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(csv_classes(dir, counts, 2), &o);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    double *score = malloc(sizeof(double) * n);
    /* class c0 examples easy (scores 0..49), c1 hard (100..149), by position */
    for (size_t i = 0; i < n; i++) score[i] = (sw_dataset_label(ds, SW_SPLIT_TRAIN, i) ? 100.0 : 0.0) + (double)(i / 2);
    uint32_t *keep = malloc(sizeof(uint32_t) * n);
    size_t m;
    select_ok(ds, "loss:keep=0.2", 1, score, keep, &m);
    cr_assert_eq(m, 20);
    /* the 20 highest: all c1, scores 100 + 30..49 */
    for (size_t i = 0; i < m; i++) cr_assert_geq(score[keep[i]], 130.0, "hard kept score %g", score[keep[i]]);
    select_ok(ds, "el2n:keep=0.2,take=easy", 1, score, keep, &m);
    for (size_t i = 0; i < m; i++) cr_assert_leq(score[keep[i]], 19.0, "easy kept score %g", score[keep[i]]);
    select_ok(ds, "loss:keep=0.2,take=mix,hard=0.25", 1, score, keep, &m);
    size_t hard = 0, easy = 0;
    for (size_t i = 0; i < m; i++) {
        if (score[keep[i]] >= 145.0) hard++;
        else if (score[keep[i]] <= 14.0) easy++;
    }
    cr_assert_eq(hard, 5, "mix: 25%% of 20 from the hard end, got %zu", hard);
    cr_assert_eq(easy, 15, "mix: the rest from the easy end, got %zu", easy);
    /* balance=1: the hard end within each class, half of each */
    select_ok(ds, "loss:keep=0.2,balance=1", 1, score, keep, &m);
    size_t c1 = 0;
    for (size_t i = 0; i < m; i++) {
        c1 += sw_dataset_label(ds, SW_SPLIT_TRAIN, keep[i]) == 1;
        double s = score[keep[i]];
        cr_assert(s >= 140.0 || (s >= 40.0 && s < 50.0), "balanced hard kept score %g", s);
    }
    cr_assert_eq(c1, 10);
    /* a score kind without scores is refused */
    sw_subsample_spec s = parse_ok("loss:keep=0.5");
    sw_error e = {0};
    cr_assert_eq(sw_subsample_select(ds, &s, 1, NULL, keep, &m, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "probe"), "%s", e.msg);
    free(score);
    free(keep);
    sw_dataset_free(ds);
}

/* ---- de-duplication and the restriction ----------------------------------------------- */

Test(data_levers, dedupe_removes_exact_duplicates_only)
{
    const char *dir = sw_test_tmpdir();
    const char *text = "f1,f2,label\n"
                       "1,2,a\n"        /* kept: the first of its group */
                       "1,2,a\n"        /* duplicate */
                       "1,2,b\n"        /* same features, another label: kept */
                       "1,2.000001,a\n" /* one value differs: kept */
                       "0,5,a\n"        /* kept */
                       "-0,5,a\n"       /* equal as numbers: duplicate */
                       "3,3,c\n"        /* kept */
                       "1,2,a\n";       /* duplicate again */
    char spec[4200];
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "dups.csv", text));
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(spec, &o);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 8);
    uint64_t before = sw_dataset_train_fingerprint(ds);
    size_t removed = 99;
    sw_error e = {0};
    cr_assert_eq(sw_dataset_dedupe_train(ds, &removed, &e), SW_OK, "%s", e.msg);
    cr_assert_eq(removed, 3);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 5);
    cr_assert_neq(sw_dataset_train_fingerprint(ds), before);
    /* what is left: the first of each group, in source order */
    const float want[5][2] = {{1, 2}, {1, 2}, {1, 2.000001f}, {0, 5}, {3, 3}};
    const char *labels[5] = {"a", "b", "a", "a", "c"};
    for (int i = 0; i < 5; i++) {
        const float *x = sw_dataset_features(ds, SW_SPLIT_TRAIN, (size_t)i);
        cr_assert(x[0] == want[i][0] && x[1] == want[i][1], "row %d: %g,%g", i, x[0], x[1]);
        cr_assert_str_eq(sw_dataset_class_name(ds, sw_dataset_label(ds, SW_SPLIT_TRAIN, (size_t)i)), labels[i]);
    }
    /* a second pass finds nothing; validation and test untouched */
    cr_assert_eq(sw_dataset_dedupe_train(ds, &removed, &e), SW_OK);
    cr_assert_eq(removed, 0);
    sw_dataset_free(ds);
    /* sequence examples are unique by construction */
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, "seq.tsv", "ab\tx\nab\tx\nab\ty\ncd\tz\n"));
    ds = load_ok(spec, &o);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    cr_assert_eq(sw_dataset_dedupe_train(ds, &removed, &e), SW_OK);
    cr_assert_eq(removed, 0);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), n);
    sw_dataset_free(ds);
}

Test(data_levers, keep_train_restricts_and_checks)
{
    const char *dir = sw_test_tmpdir();
    int counts[2] = {10, 10};
    sw_data_options o = sw_data_default_options();
    o.val_frac = 0.2;
    o.test_frac = 0.2;
    sw_dataset *ds = load_ok(csv_classes(dir, counts, 2), &o);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN), nv = sw_dataset_count(ds, SW_SPLIT_VAL);
    cr_assert_gt(n, 4);
    float x2 = sw_dataset_features(ds, SW_SPLIT_TRAIN, 2)[0], x0 = sw_dataset_features(ds, SW_SPLIT_TRAIN, 0)[0];
    sw_error e = {0};
    uint32_t bad[2] = {1, 1};
    cr_assert_eq(sw_dataset_keep_train(ds, bad, 2, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "repeated"), "%s", e.msg);
    uint32_t out[1] = {(uint32_t)n};
    cr_assert_eq(sw_dataset_keep_train(ds, out, 1, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "out of range"), "%s", e.msg);
    cr_assert_eq(sw_dataset_keep_train(ds, out, 0, &e), SW_ERR_INVALID);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), n, "a refused selection changes nothing");
    uint32_t keep[2] = {2, 0}; /* any order: kept in source order */
    cr_assert_eq(sw_dataset_keep_train(ds, keep, 2, &e), SW_OK, "%s", e.msg);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 2);
    cr_assert(sw_dataset_features(ds, SW_SPLIT_TRAIN, 0)[0] == x0);
    cr_assert(sw_dataset_features(ds, SW_SPLIT_TRAIN, 1)[0] == x2);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_VAL), nv);
    sw_dataset_free(ds);
}

/* ---- augmentation ----------------------------------------------------------------------- */

static sw_augment *augment_ok(const char *spec, const sw_dataset *ds, uint64_t seed)
{
    sw_augment *a = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_augment_create(spec, ds, seed, &a, &e), SW_OK, "%s: %s", spec, e.msg);
    return a;
}

static void augment_fails(const char *spec, const sw_dataset *ds, const char *needle)
{
    sw_augment *a = (sw_augment *)1;
    sw_error e = {0};
    cr_assert_eq(sw_augment_create(spec, ds, 1, &a, &e), SW_ERR_INVALID, "%s accepted", spec);
    cr_assert_null(a);
    cr_assert(strstr(e.msg, needle), "%s: '%s' lacks '%s'", spec, e.msg, needle);
}

Test(data_levers, image_shift_moves_pixels_and_keeps_the_mass_inside_the_crop)
{
    const char *dir = sw_test_tmpdir();
    enum { H = 7, W = 5 };
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(fashion_folder(dir, 60, H, W), &o);
    int h, w;
    cr_assert(sw_dataset_image_shape(ds, &h, &w));
    cr_assert_eq(h, H);
    cr_assert_eq(w, W);
    sw_augment *a = augment_ok("image:shift=2,flip=1", ds, 5);
    cr_assert_str_eq(sw_augment_text(a), "image:shift=2,flip=1");
    int seen[5][5] = {{0}}, flips = 0, draws = 0;
    float x[H * W];
    for (uint64_t round = 0; round < 4; round++)
        for (size_t i = 0; i < sw_dataset_count(ds, SW_SPLIT_TRAIN); i++) {
            const float *in = sw_dataset_features(ds, SW_SPLIT_TRAIN, i);
            int32_t label = sw_dataset_label(ds, SW_SPLIT_TRAIN, i);
            memcpy(x, in, sizeof x);
            sw_augment_row(a, x, round, i);
            int dx, dy, flip;
            sw_augment_image_draw(a, round, i, &dx, &dy, &flip);
            cr_assert(dx >= -2 && dx <= 2 && dy >= -2 && dy <= 2, "shift %d,%d", dx, dy);
            seen[dy + 2][dx + 2]++;
            flips += flip;
            draws++;
            /* every output pixel is the (mirrored) input pixel it came from, or
             * padding; and the mass is the input's mass inside the crop */
            double mass_in = 0, mass_out = 0;
            for (int y = 0; y < H; y++)
                for (int c = 0; c < W; c++) {
                    int sy = y - dy, sx = c - dx;
                    float want = 0;
                    if (sy >= 0 && sy < H && sx >= 0 && sx < W) {
                        want = in[sy * W + (flip ? W - 1 - sx : sx)];
                        mass_in += want;
                    }
                    cr_assert(x[y * W + c] == want, "round %llu example %zu pixel (%d,%d): %g, want %g",
                              (unsigned long long)round, i, y, c, x[y * W + c], want);
                    mass_out += x[y * W + c];
                }
            cr_assert_float_eq(mass_out, mass_in, 1e-4);
            /* the draw is a function of (seed, round, example): the same again */
            float again[H * W];
            memcpy(again, in, sizeof again);
            sw_augment_row(a, again, round, i);
            cr_assert_eq(memcmp(again, x, sizeof x), 0);
            /* features only: the label is the dataset's, untouched */
            cr_assert_eq(sw_dataset_label(ds, SW_SPLIT_TRAIN, i), label);
        }
    for (int y = 0; y < 5; y++)
        for (int c = 0; c < 5; c++) cr_assert_gt(seen[y][c], 0, "shift (%d,%d) never drawn", c - 2, y - 2);
    cr_assert(flips > draws / 4 && flips < 3 * draws / 4, "flips %d of %d", flips, draws);
    sw_augment_free(a);
    /* flip=0 never mirrors */
    a = augment_ok("image:shift=1", ds, 5);
    for (size_t i = 0; i < sw_dataset_count(ds, SW_SPLIT_TRAIN); i++) {
        int dx, dy, flip;
        sw_augment_image_draw(a, 3, i, &dx, &dy, &flip);
        cr_assert_eq(flip, 0);
    }
    sw_augment_free(a);
    sw_dataset_free(ds);
}

Test(data_levers, flips_only_where_declared)
{
    cr_assert(sw_data_flips_safe("fashion-mnist"));
    cr_assert(sw_data_flips_safe("fashion-mnist:/some/dir"));
    cr_assert_not(sw_data_flips_safe("fashion-mnistx"));
    cr_assert_not(sw_data_flips_safe("idx:a,b"));
    cr_assert_not(sw_data_flips_safe(NULL));
    /* the same images loaded as plain idx are not declared */
    const char *dir = sw_test_tmpdir();
    fashion_folder(dir, 60, 6, 6);
    char spec[9000];
    snprintf(spec, sizeof spec, "idx:%s/train-images-idx3-ubyte,%s/train-labels-idx1-ubyte", dir, dir);
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(spec, &o);
    augment_fails("image:flip=1", ds, "not declared label-safe");
    sw_augment *a = augment_ok("image:shift=1,flip=0", ds, 1);
    sw_augment_free(a);
    augment_fails("image:shift=4", ds, "shift must be 0..3");
    augment_fails("mixup", ds, "soft labels");
    augment_fails("rotate", ds, "expected none, image");
    sw_dataset_free(ds);
}

Test(data_levers, noise_scales_with_each_feature_and_spares_constants)
{
    const char *dir = sw_test_tmpdir();
    /* f1 varies (sd known), f2 constant */
    char *text = malloc(64 * 1000), *p = text;
    p += sprintf(p, "f1,f2,label\n");
    for (int i = 0; i < 1000; i++) p += sprintf(p, "%d,7,%s\n", i % 2 ? 3 : -3, i % 3 ? "a" : "b"); /* sd(f1) = 3 */
    char spec[4200];
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "noise.csv", text));
    free(text);
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(spec, &o);
    cr_assert_not(sw_dataset_image_shape(ds, NULL, NULL));
    augment_fails("image", ds, "no 2-D images");
    sw_augment *a = augment_ok("noise:sigma=0.5", ds, 9);
    cr_assert_str_eq(sw_augment_text(a), "noise:sigma=0.5");
    double sum = 0, sq = 0;
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    for (size_t i = 0; i < n; i++) {
        const float *in = sw_dataset_features(ds, SW_SPLIT_TRAIN, i);
        float x[2] = {in[0], in[1]};
        sw_augment_row(a, x, 1, i);
        cr_assert(x[1] == 7.0f, "a constant feature got noise: %g", x[1]);
        double d = x[0] - in[0];
        sum += d;
        sq += d * d;
    }
    double mean = sum / (double)n, sd = sqrt(sq / (double)n - mean * mean);
    cr_assert_lt(fabs(mean), 0.15, "noise mean %g", mean);
    cr_assert_lt(fabs(sd - 1.5), 0.15, "noise sd %g, want 0.5 x 3", sd);
    sw_augment_free(a);
    augment_fails("noise:sigma=0", ds, "sigma must be in (0, 10]");
    sw_dataset_free(ds);
    /* sequences: none is label-safe */
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, "seq.tsv", "ab\tx\ncd\ty\n"));
    ds = load_ok(spec, &o);
    augment_fails("noise", ds, "sequence task");
    a = (sw_augment *)1;
    cr_assert_eq(sw_augment_create("none", ds, 1, &a, NULL), SW_OK);
    cr_assert_null(a);
    sw_dataset_free(ds);
}
