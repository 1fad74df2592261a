/* A host program in a comma-decimal locale (defect 10) trains a small model
 * through the library: the data CSV's numbers load, and the run folder's
 * curve.csv and events.jsonl hold "0.5", never "0,5", so stopwise (and any
 * CSV or JSON reader) reads them back. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/nn.h"
#include "stopwise/stop.h"
#include "stopwise/train.h"
#include "support.h"

Test(train_locale, data_csv_numbers_load)
{
    sw_test_comma_locale();
    const char *dir = sw_test_tmpdir();
    char spec[4300];
    snprintf(spec, sizeof spec, "csv:%s",
             sw_test_write(dir, "t.csv", "a,b,species\n0.5,1.25,virginica\n-3.5,4e-2,setosa\n2.75,0.125,setosa\n"));
    sw_data_options o = sw_data_default_options();
    o.val_frac = 0;
    o.test_frac = 0;
    sw_dataset *ds;
    sw_error err;
    cr_assert_eq(sw_dataset_load(spec, &o, &ds, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_dataset_num_features(ds), 2);
    double sum = 0;
    for (size_t i = 0; i < sw_dataset_count(ds, SW_SPLIT_TRAIN); i++) {
        const float *x = sw_dataset_features(ds, SW_SPLIT_TRAIN, i);
        sum += x[0] + x[1];
    }
    cr_assert_float_eq(sum, 0.5 + 1.25 - 3.5 + 0.04 + 2.75 + 0.125, 1e-5, "every decimal read whole");
    sw_dataset_free(ds);
    setlocale(LC_NUMERIC, "C");
}

/* A number cell of a CSV line: digits, sign, '.', exponent; never a comma
 * inside (the comma is the separator). */
static void csv_has_c_numbers(const char *text, int columns)
{
    const char *line = strchr(text, '\n');
    cr_assert_not_null(line);
    int rows = 0;
    for (line++; *line; rows++) {
        const char *nl = strchr(line, '\n');
        cr_assert_not_null(nl);
        int commas = 0;
        for (const char *p = line; p < nl; p++) commas += *p == ',';
        cr_assert_eq(commas, columns - 1, "row %d: %.*s", rows + 1, (int)(nl - line), line);
        line = nl + 1;
    }
    cr_assert_gt(rows, 2);
}

Test(train_locale, run_files_use_a_decimal_point, .timeout = 300)
{
    sw_test_comma_locale();
    const char *dir = sw_test_tmpdir();
    sw_train_options o = sw_train_default_options();
    o.data = "synthetic:copy:n=200,len=4";
    o.model = "gpt:layers=1,d=16,heads=2,dropout=0.1";
    o.schedule = "cosine:lr=0.003,warmup=1500,min=0.1";
    o.optimizer = "adamw:beta2=0.99,wd=0.1";
    o.budget = 12000;
    o.eval_every = 2000;
    sw_threads_set(1); /* the host sets threads once (nn.h) */
    o.seed = 3;
    o.out_dir = dir;
    o.policy = "patience=50:min_delta=0.5,gl=99.5";
    sw_train_result res;
    sw_error err;
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    cr_assert_geq(res.evaluations, 3);

    char path[4300];
    snprintf(path, sizeof path, "%s/curve.csv", dir);
    char *text = sw_test_slurp(path, NULL);
    cr_assert_not_null(text);
    csv_has_c_numbers(text, 9);
    free(text);
    sw_curve *c;
    cr_assert_eq(sw_curve_read_csv(path, &c, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_curve_len(c), res.evaluations);
    const double *lr = sw_curve_column(c, "lr", NULL);
    cr_assert_not_null(lr);
    cr_assert(lr[0] > 0 && lr[0] <= 0.003, "lr %g read whole", lr[0]);
    sw_curve_free(c);

    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    text = sw_test_slurp(path, NULL);
    cr_assert_not_null(text);
    size_t lines = 0;
    for (char *line = text, *nl; *line; line = nl + 1, lines++) {
        nl = strchr(line, '\n');
        cr_assert_not_null(nl);
        json_error_t je;
        json_t *ev = json_loadb(line, (size_t)(nl - line), 0, &je);
        cr_assert_not_null(ev, "events.jsonl line %zu is not JSON: %s", lines + 1, je.text);
        cr_assert(json_is_number(json_object_get(ev, "lr")), "line %zu", lines + 1);
        cr_assert(json_is_number(json_object_get(ev, "wall_s")), "line %zu", lines + 1);
        json_decref(ev);
    }
    cr_assert_eq(lines, res.evaluations);
    free(text);
    setlocale(LC_NUMERIC, "C");
}
