/* Feature selection's data layer: the mutual-information estimator against
 * hand-computed cases, feature lists, and CSV column selection (names, the
 * split unchanged, errors naming the file and line). */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/data.h"
#include "support.h"

/* psi(n) - psi(m) for integers n > m: 1/m + ... + 1/(n-1) */
static double psi_diff(int n, int m)
{
    double s = 0;
    for (int i = m; i < n; i++) s += 1.0 / i;
    return s;
}

/* Two classes of four points, x = 0,1,2,3 and 10,11,12,13, k = 1. Each
 * point's nearest same-class neighbour is at 1; within 1 of it lie 1 other
 * point at the ends (0, 3, 10, 13) and 2 inside, so
 *   I = psi(8) - psi(4) + psi(1) - (psi(1) + psi(2)) / 2
 *     = (1/4 + 1/5 + 1/6 + 1/7) - 1/2 = 0.2595238... */
Test(mutual_info, hand_computed_two_clusters)
{
    float x[] = {0, 1, 2, 3, 10, 11, 12, 13};
    int32_t y[] = {0, 0, 0, 0, 1, 1, 1, 1};
    double want = psi_diff(8, 4) - 0.5;
    cr_assert_float_eq(want, 0.25952380952, 1e-9);
    double got = sw_mutual_info(x, 1, y, 8, 1);
    cr_assert_float_eq(got, want, 1e-9, "MI %.12f, hand-computed %.12f", got, want);
    /* the order of the points does not matter, nor a stride */
    float xs[16] = {13, -1, 0, -1, 12, -1, 1, -1, 2, -1, 11, -1, 10, -1, 3, -1};
    int32_t ys[] = {1, 0, 1, 0, 0, 1, 1, 0};
    cr_assert_float_eq(sw_mutual_info(xs, 2, ys, 8, 1), want, 1e-9);
    /* a point alone in its class is left out: the same estimate */
    float x9[] = {0, 1, 2, 3, 10, 11, 12, 13, 100};
    int32_t y9[] = {0, 0, 0, 0, 1, 1, 1, 1, 2};
    cr_assert_float_eq(sw_mutual_info(x9, 1, y9, 9, 1), want, 1e-9);
}

/* Interleaved classes, x = 0..5 with labels 0,1,0,1,0,1, k = 1: every
 * same-class neighbour is 2 away, and within 2 lie m = 2,3,4,4,3,2 others:
 *   I = psi(6) - psi(3) + psi(1) - (psi(2) + psi(3) + psi(4)) / 3
 *     = 47/60 - (1 + 3/2 + 11/6) / 3 = -0.661 < 0, so the estimate is 0. */
Test(mutual_info, interleaved_classes_carry_nothing)
{
    float x[] = {0, 1, 2, 3, 4, 5};
    int32_t y[] = {0, 1, 0, 1, 0, 1};
    double raw = psi_diff(6, 3) - (psi_diff(2, 1) + psi_diff(3, 1) + psi_diff(4, 1)) / 3;
    cr_assert_float_eq(raw, 47.0 / 60 - (1 + 1.5 + 11.0 / 6) / 3, 1e-12);
    cr_assert_lt(raw, 0);
    cr_assert_eq(sw_mutual_info(x, 1, y, 6, 1), 0.0);
}

/* k = 2 on three points a class: 0, 1, 2 (class 0) and 5, 6, 7 (class 1).
 * The 2nd same-class neighbour of 0 is 2 away (m: 1 and 2 -> 2), of 1 it is
 * 1 away (0 and 2 -> 2), of 2 it is 2 away (0, 1 -> 2; 5 is 3 away); the same
 * for the other class. So m = 2 everywhere and
 *   I = psi(6) - psi(3) + psi(2) - psi(2) = 1/3 + 1/4 + 1/5. */
Test(mutual_info, hand_computed_k2)
{
    float x[] = {0, 1, 2, 5, 6, 7};
    int32_t y[] = {0, 0, 0, 1, 1, 1};
    double want = psi_diff(6, 3);
    cr_assert_float_eq(sw_mutual_info(x, 1, y, 6, 2), want, 1e-9);
    /* k above a class's size - 1 is lowered to it: k = 5 acts as k = 2 */
    cr_assert_float_eq(sw_mutual_info(x, 1, y, 6, 5), want, 1e-9);
}

/* Large samples: a label that is a threshold of x carries ln 2 nats; an
 * independent one carries about none. */
Test(mutual_info, large_samples_approach_the_truth)
{
    enum { N = 4000 };
    float *x = malloc(sizeof *x * N);
    int32_t *dep = malloc(sizeof *dep * N), *ind = malloc(sizeof *ind * N);
    sw_rng r;
    sw_rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        x[i] = (float)sw_rng_uniform(&r);
        dep[i] = x[i] > 0.5f;
        ind[i] = (int32_t)sw_rng_below(&r, 2);
    }
    double a = sw_mutual_info(x, 1, dep, N, 3), b = sw_mutual_info(x, 1, ind, N, 3);
    cr_assert(fabs(a - log(2.0)) < 0.03, "dependent: %.4f, expected ln 2 = 0.6931", a);
    cr_assert(b < 0.01, "independent: %.4f, expected about 0", b);
    cr_assert(isnan(sw_mutual_info(x, 1, (int32_t[]){-1, 0, 1}, 3, 1)), "a negative label is refused");
    free(x);
    free(dep);
    free(ind);
}

Test(feature_list, file_and_inline)
{
    const char *dir = sw_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s", sw_test_write(dir, "sel.txt", "# a comment\n\n  f2 \nf1\n"));
    sw_feature_list *l;
    sw_error err;
    cr_assert_eq(sw_feature_list_read(path, &l, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(l->n, 2);
    cr_assert_str_eq(l->names[0], "f2");
    cr_assert_str_eq(l->names[1], "f1");
    cr_assert_eq(l->lines[0], 3);
    cr_assert_str_eq(l->origin, path);
    sw_feature_list_free(l);
    cr_assert_eq(sw_feature_list_read("a, b,c", &l, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(l->n, 3);
    cr_assert_str_eq(l->names[1], "b");
    cr_assert_eq(l->lines[1], 0);
    sw_feature_list_free(l);

    /* a name twice: the file and both lines */
    snprintf(path, sizeof path, "%s", sw_test_write(dir, "dup.txt", "x\ny\nx\n"));
    cr_assert_eq(sw_feature_list_read(path, &l, &err), SW_ERR_INVALID);
    cr_assert_null(l);
    cr_assert(strstr(err.msg, "dup.txt:3") && strstr(err.msg, "\"x\" listed twice") && strstr(err.msg, "line 1"), "%s",
              err.msg);
    snprintf(path, sizeof path, "%s", sw_test_write(dir, "empty.txt", "# nothing\n"));
    cr_assert_eq(sw_feature_list_read(path, &l, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "empty.txt"), "%s", err.msg);
    cr_assert_eq(sw_feature_list_read("a,,b", &l, &err), SW_ERR_INVALID);

    /* written then read back */
    const char *names[] = {"b", "a"};
    snprintf(path, sizeof path, "%s/out.txt", dir);
    cr_assert_eq(sw_feature_list_write(path, names, 2, "two", &err), SW_OK, "%s", err.msg);
    char *text = sw_test_slurp(path, NULL);
    cr_assert_str_eq(text, "# two\nb\na\n");
    free(text);
    const char *bad[] = {"a\nb"};
    cr_assert_eq(sw_feature_list_write(path, bad, 1, NULL, &err), SW_ERR_INVALID);
}

static const char *table =
    "id,width,height,depth,label\n"
    "1,0.5,10,7,a\n"
    "2,0.25,20,8,b\n"
    "3,0.125,30,9,a\n"
    "4,0.0625,40,10,b\n"
    "5,1,50,11,a\n"
    "6,2,60,12,b\n"
    "7,4,70,13,a\n"
    "8,8,80,14,b\n"
    "9,16,90,15,a\n"
    "10,32,100,16,b\n";

/* A row's features and label as text, for comparing splits. */
static void row_text(const sw_dataset *ds, sw_split s, size_t i, char *buf, size_t len)
{
    const float *f = sw_dataset_features(ds, s, i);
    snprintf(buf, len, "%g|%s", f[0], sw_dataset_class_name(ds, sw_dataset_label(ds, s, i)));
}

Test(csv_features, selection_keeps_columns_and_split)
{
    const char *dir = sw_test_tmpdir();
    char spec[4200], path[4200];
    snprintf(path, sizeof path, "%s", sw_test_write(dir, "t.csv", table));
    snprintf(spec, sizeof spec, "csv:%s", path);
    sw_error err;
    sw_data_options o = sw_data_default_options();
    o.val_frac = 0.2;
    o.test_frac = 0.2;
    sw_dataset *all, *sel;
    cr_assert_eq(sw_dataset_load(spec, &o, &all, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_dataset_num_features(all), 4);
    cr_assert_str_eq(sw_dataset_feature_name(all, 0), "id");
    cr_assert_str_eq(sw_dataset_feature_name(all, 3), "depth");
    cr_assert_null(sw_classes_feature_name(sw_dataset_classes(all), 0), "no selection: the class list names none");

    /* listed as depth, id: kept in the file's order, id then depth */
    sw_feature_list *l;
    cr_assert_eq(sw_feature_list_read("depth,id", &l, &err), SW_OK);
    o.features = l;
    cr_assert_eq(sw_dataset_load(spec, &o, &sel, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_dataset_num_features(sel), 2);
    cr_assert_str_eq(sw_dataset_feature_name(sel, 0), "id");
    cr_assert_str_eq(sw_dataset_feature_name(sel, 1), "depth");
    cr_assert_str_eq(sw_classes_feature_name(sw_dataset_classes(sel), 1), "depth");
    /* the same split, row for row, and the values of the kept columns */
    for (int s = 0; s < SW_SPLIT_COUNT; s++) {
        cr_assert_eq(sw_dataset_count(all, s), sw_dataset_count(sel, s));
        for (size_t i = 0; i < sw_dataset_count(all, s); i++) {
            const float *a = sw_dataset_features(all, s, i), *b = sw_dataset_features(sel, s, i);
            cr_assert_eq(a[0], b[0]);
            cr_assert_eq(a[3], b[1]);
            cr_assert_eq(sw_dataset_label(all, s, i), sw_dataset_label(sel, s, i));
            char ta[64], tb[64];
            row_text(all, s, i, ta, sizeof ta);
            row_text(sel, s, i, tb, sizeof tb);
            cr_assert_str_eq(ta, tb);
        }
    }
    /* a checkpoint's class list carries the names and selects them again */
    char *json = sw_classes_to_json(sw_dataset_classes(sel));
    cr_assert(strstr(json, "\"features\":[\"id\",\"depth\"]"), "%s", json);
    sw_classes *c;
    cr_assert_eq(sw_classes_from_json(json, &c, &err), SW_OK, "%s", err.msg);
    free(json);
    sw_data_options e = o;
    e.features = NULL;
    e.classes = c;
    sw_dataset *again;
    cr_assert_eq(sw_dataset_load(spec, &e, &again, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_dataset_num_features(again), 2);
    cr_assert_str_eq(sw_dataset_feature_name(again, 1), "depth");
    sw_dataset_free(again);
    sw_classes_free(c);
    sw_feature_list_free(l);
    sw_dataset_free(all);
    sw_dataset_free(sel);
}

Test(csv_features, bad_names_name_the_file_and_line)
{
    const char *dir = sw_test_tmpdir();
    char spec[4200], list[4200];
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "t.csv", table));
    snprintf(list, sizeof list, "%s", sw_test_write(dir, "sel.txt", "width\n# ok\nweight\n"));
    sw_error err;
    sw_data_options o = sw_data_default_options();
    sw_feature_list *l;
    sw_dataset *ds;
    cr_assert_eq(sw_feature_list_read(list, &l, &err), SW_OK);
    o.features = l;
    cr_assert_eq(sw_dataset_load(spec, &o, &ds, &err), SW_ERR_INVALID);
    cr_assert_null(ds);
    cr_assert(strstr(err.msg, "sel.txt:3: unknown feature \"weight\"") && strstr(err.msg, "t.csv") &&
                  strstr(err.msg, "width, height"),
              "%s", err.msg);
    sw_feature_list_free(l);
    cr_assert_eq(sw_feature_list_read("label", &l, &err), SW_OK);
    o.features = l;
    cr_assert_eq(sw_dataset_load(spec, &o, &ds, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "--features: \"label\" is the label column"), "%s", err.msg);
    sw_feature_list_free(l);

    /* without a header the columns are col1..colN (the label's position too) */
    snprintf(spec, sizeof spec, "csv:%s/noheader.csv", STOPWISE_TEST_DATA);
    cr_assert_eq(sw_feature_list_read("col2", &l, &err), SW_OK);
    o.features = l;
    cr_assert_eq(sw_dataset_load(spec, &o, &ds, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_dataset_num_features(ds), 1);
    cr_assert_str_eq(sw_dataset_feature_name(ds, 0), "col2");
    cr_assert_eq(sw_dataset_features(ds, SW_SPLIT_TRAIN, 0)[0] > 0, 1);
    sw_dataset_free(ds);
    sw_feature_list_free(l);
}
