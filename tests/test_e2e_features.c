/* stopwise select-features and train --features end to end, on
 * scikit-learn's make_classification set (8 informative, 2 redundant, 20
 * noise columns, shuffled; bench/tabular_sets.py, Debian's python3-sklearn),
 * generated into a temp folder. Also train --batch-ramp's bad input. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static char dir[4096], csv[4200];

static void make_sets(void)
{
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    char cmd[8400], *err = NULL;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench/tabular_sets.py %s --seed 1", STOPWISE_SOURCE_DIR, dir);
    cr_assert_eq(sw_test_sh(cmd, NULL, &err), 0, "the test beds: %s", err);
    free(err);
    snprintf(csv, sizeof csv, "%s/classification.csv", dir);
}

static json_t *run_json(const char *args)
{
    char *out = NULL, *err = NULL;
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "stopwise %s: exit %d: %s", args, rc, err);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    cr_assert_not_null(j, "not JSON: %s", out);
    free(out);
    free(err);
    return j;
}

static int informative(const char *name) { return !strncmp(name, "inf_", 4) || !strncmp(name, "red_", 4); }

/* Each method ranks most of the 10 informative and redundant columns in its
 * top 10, and what --keep auto keeps is mostly signal. */
static void check_method(const char *method, const char *extra)
{
    char args[16384];
    snprintf(args, sizeof args, "select-features --data csv:%s --method %s --json %s", csv, method, extra);
    json_t *j = run_json(args);
    json_t *rank = json_object_get(j, "ranking");
    cr_assert_eq(json_array_size(rank), 30);
    int top = 0, noise_rank_sum = 0;
    for (size_t i = 0; i < 30; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(rank, i), "feature"));
        if (i < 10) top += informative(name);
        if (!informative(name)) noise_rank_sum += (int)i + 1;
    }
    cr_assert_geq(top, 8, "%s: %d of the 10 informative columns in the top 10", method, top);
    /* the 20 noise columns average rank (11 + 30) / 2 = 20.5 at best, 10.5 at worst */
    cr_assert_geq(noise_rank_sum / 20.0, 18.0, "%s: noise columns rank %.1f on average", method, noise_rank_sum / 20.0);
    json_t *sel = json_object_get(j, "selected");
    size_t kept = json_array_size(sel), good = 0;
    for (size_t i = 0; i < kept; i++) good += informative(json_string_value(json_array_get(sel, i)));
    cr_assert_geq(kept, 5, "%s kept %zu", method, kept);
    cr_assert_geq((double)good / (double)kept, 0.8, "%s: %zu of %zu kept columns informative (%s)", method, good, kept,
                  json_string_value(json_object_get(j, "rule")));
    json_decref(j);
}

Test(e2e_features, methods_find_the_informative_columns, .timeout = 300)
{
    make_sets();
    check_method("mi", "");
    check_method("l1", "");
    char extra[8400];
    snprintf(extra, sizeof extra, "--train-out %s/perm --threads 1", dir);
    check_method("permutation", extra);
    /* a given model: the same ranking, no training */
    snprintf(extra, sizeof extra, "--model %s/perm/best.safetensors --threads 1", dir);
    check_method("permutation", extra);
}

/* train --features trains on exactly those columns: the model's input
 * width, eval on the whole file selects them again, predict reads just them. */
Test(e2e_features, train_uses_exactly_the_selected_columns, .timeout = 300)
{
    make_sets();
    char args[16384], sel[8400], *out = NULL, *err = NULL;
    snprintf(sel, sizeof sel, "%s/sel.txt", dir);
    snprintf(args, sizeof args, "select-features --data csv:%s --method l1 --keep 6 -o %s", csv, sel);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "kept 6 of 30"), "%s", out);
    free(out);
    free(err);
    char *text = sw_test_slurp(sel, NULL);
    int lines = 0;
    for (char *p = text; *p; p++) lines += *p == '\n';
    cr_assert_eq(text[0], '#');
    cr_assert_eq(lines, 7, "a comment and 6 names: %s", text);
    free(text);

    snprintf(args, sizeof args,
             "train --data csv:%s --features %s --budget 30k --stop none --no-store --quiet --threads 1 --json --out %s/run",
             csv, sel, dir);
    json_t *j = run_json(args);
    cr_assert(strstr(json_string_value(json_object_get(j, "model")), ",inputs=6,"), "%s",
              json_string_value(json_object_get(j, "model")));
    double test_em = json_number_value(json_object_get(j, "test_em"));
    json_decref(j);
    snprintf(args, sizeof args, "eval --model %s/run/best.safetensors --data csv:%s --json", dir, csv);
    j = run_json(args);
    cr_assert_float_eq(json_number_value(json_object_get(j, "em")), test_em, 1e-9, "eval selects the same columns");
    json_decref(j);
    snprintf(args, sizeof args, "predict --model %s/run/best.safetensors < %s", dir,
             sw_test_write(dir, "six.txt", "0,0,0,0,0,0\n1,-1,1,-1,1,-1\n"));
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    cr_assert_eq(strlen(out), 4, "two class names: %s", out);
    free(out);
    free(err);
    snprintf(args, sizeof args, "predict --model %s/run/best.safetensors < %s", dir,
             sw_test_write(dir, "seven.txt", "0,0,0,0,0,0,0\n"));
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2);
    cr_assert(strstr(err, "expected 6"), "%s", err);
    free(err);
}

Test(e2e_features, bad_input_exits_2, .timeout = 120)
{
    make_sets();
    char args[16384], *err = NULL;
    /* an unknown feature name: the list's file and line, the name, the data file */
    const char *list = sw_test_write(dir, "bad.txt", "inf_0\n# fine\nred_0\nbogus_7\n");
    snprintf(args, sizeof args, "train --data csv:%s --features %s --budget 1k --no-store --quiet --out %s/x", csv, list, dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2);
    cr_assert(strstr(err, "bad.txt:4: unknown feature \"bogus_7\"") && strstr(err, "classification.csv"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "train --data csv:%s --features inf_0,nope --budget 1k --no-store --quiet --out %s/x", csv, dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2);
    cr_assert(strstr(err, "--features: unknown feature \"nope\""), "%s", err);
    free(err);
    snprintf(args, sizeof args, "train --data csv:%s --features inf_0,class --budget 1k --no-store --quiet --out %s/x", csv, dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2);
    cr_assert(strstr(err, "\"class\" is the label column"), "%s", err);
    free(err);

    struct { const char *args, *says; } bad[] = {
        {"select-features --data synthetic:copy", "csv:PATH"},
        {"select-features --data csv:%s --keep 31", "--keep 31: "},
        {"select-features --data csv:%s --keep 0", "--keep 0: expected"},
        {"select-features --data csv:%s --method lasso", "--method lasso"},
        {"select-features --data csv:%s/missing.csv", "missing.csv"},
        {"train --data csv:%s --batch 32 --batch-ramp from=16,to=64 --budget 1k --no-store", "not both"},
        {"train --data csv:%s --batch-ramp from=16,to=64,scale=cube --budget 1k --no-store", "scale=cube"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char a[16384];
        snprintf(a, sizeof a, bad[i].args, i == 4 ? dir : csv);
        snprintf(args, sizeof args, "%s --quiet --out %s/y", a, dir);
        if (!strncmp(a, "select", 6)) snprintf(args, sizeof args, "%s", a);
        cr_assert_eq(sw_test_cli(args, NULL, &err), 2, "%s", args);
        cr_assert(strstr(err, bad[i].says), "%s: %s", args, err);
        free(err);
    }
}
