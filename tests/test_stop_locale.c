/* stop/ under a comma-decimal process locale (defect 10): a host program that
 * called setlocale(LC_NUMERIC, "de_DE.UTF-8") still gets policy text, curve
 * CSV and controller state that read back exactly, in the "C" format. */
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stop_helpers.h"
#include "stopwise/stop.h"
#include "support.h"

Test(stop_locale, policy_text_round_trips)
{
    sw_test_comma_locale();
    static const char *texts[] = {
        "patience=5:min_delta=0.1,gain=0.2,diverge,warmup=1.5M",
        "patience=10:min_delta=0.01%",
        "gl=2.5,pq=0.5:k=5,up=3:k=4",
        "extrapolate=0.5:z=1.96:min_points=8:at=20M,budget=1.25M",
        "diverge:max=10.5:factor=3:on=val_loss",
        "target=-2.5e-07,monitor=dev_acc",
    };
    sw_test_policy_round_trips(texts, sizeof texts / sizeof *texts);
    /* and the comma is still a separator, never a decimal point */
    sw_policy *p;
    sw_error err;
    cr_assert_neq(sw_policy_parse("gl=2,5", &p, &err), SW_OK);
    setlocale(LC_NUMERIC, "C");
}

Test(stop_locale, curve_csv_round_trips)
{
    sw_test_comma_locale();
    sw_curve *c;
    cr_assert_eq(sw_curve_create(&c, NULL), SW_OK);
    for (int i = 0; i < 20; i++) {
        sw_metric m[2] = {{"val_em", 12.5 + i * 0.1}, {"val_loss", 1.0 / (i + 3)}};
        sw_eval ev = {.tokens = (uint64_t)(i + 1) * 1500, .step = i, .wall = 0.25 * i, .metrics = m, .n_metrics = 2};
        cr_assert_eq(sw_curve_append(c, &ev, NULL), SW_OK);
    }
    const char *dir = sw_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/curve.csv", dir);
    sw_error err;
    cr_assert_eq(sw_curve_write_csv(c, path, &err), SW_OK, "%s", err.msg);
    char *text = sw_test_slurp(path, NULL);
    cr_assert(!strncmp(text, "tokens,step,wall,val_em,val_loss\n1500,0,0,12.5,0.3333333333333333\n3000,1,0.25,", 78),
              "%s", text);
    free(text);
    sw_curve *d;
    cr_assert_eq(sw_curve_read_csv(path, &d, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_curve_len(d), 20);
    for (size_t i = 0; i < 20; i++) {
        cr_assert(sw_curve_walls(d)[i] == sw_curve_walls(c)[i]);
        for (int k = 0; k < 2; k++) {
            const char *name = k ? "val_loss" : "val_em";
            const double *a = sw_curve_column(c, name, NULL), *b = sw_curve_column(d, name, NULL);
            cr_assert(a[i] == b[i], "%s row %zu: %a vs %a", name, i, a[i], b[i]);
        }
    }
    sw_curve_free(c);
    sw_curve_free(d);
    setlocale(LC_NUMERIC, "C");
}

Test(stop_locale, controller_state_round_trips)
{
    sw_test_comma_locale();
    sw_policy *p;
    cr_assert_eq(sw_policy_parse("patience=3:min_delta=0.25,gl=2.5", &p, NULL), SW_OK);
    sw_controller *c;
    cr_assert_eq(sw_controller_create(p, 0, &c, NULL), SW_OK);
    for (int i = 0; i < 6; i++) {
        sw_metric m[3] = {{"val_em", 10.5 + i * 0.3}, {"val_loss", 2.0 / (i + 1.5)}, {"train_loss", 1.5 / (i + 1)}};
        sw_eval ev = {.tokens = (uint64_t)(i + 1) * 1000, .step = i, .wall = i, .metrics = m, .n_metrics = 3};
        sw_decision dec;
        cr_assert_eq(sw_controller_feed(c, &ev, &dec), SW_OK, "%s", sw_controller_errmsg(c));
    }
    size_t n = sw_controller_save(c, NULL, 0);
    char *blob = malloc(n + 1);
    sw_controller_save(c, blob, n + 1);
    cr_assert_null(strstr(blob, "0x1,"), "hexadecimal floats keep their '.': %s", blob);
    sw_controller *r;
    sw_error err;
    cr_assert_eq(sw_controller_restore(blob, n, &r, &err), SW_OK, "%s", err.msg);
    char *again = malloc(n + 1);
    cr_assert_eq(sw_controller_save(r, again, n + 1), n);
    cr_assert_str_eq(again, blob, "a restored controller saves the same bytes");
    free(blob);
    free(again);
    sw_controller_free(c);
    sw_controller_free(r);
    sw_policy_free(p);
    setlocale(LC_NUMERIC, "C");
}
