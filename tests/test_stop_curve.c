/* stop/: curves: CSV by header name, errors with file and line, the writer
 * round trip, and replay over the fixtures with stop points worked by hand. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/stop.h"
#include "support.h"

#define CURVES STOPWISE_TEST_DATA "/curves/"

Test(curve, reads_columns_by_header_name)
{
    sw_curve *c;
    sw_error err;
    cr_assert_eq(sw_curve_read_csv(CURVES "extra.csv", &c, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_curve_len(c), 8);
    cr_assert_eq(sw_curve_tokens(c)[0], 500u);
    cr_assert_eq(sw_curve_tokens(c)[7], 4000u);
    cr_assert_eq(sw_curve_steps(c)[0], -1); /* no step column */
    cr_assert(isnan(sw_curve_walls(c)[0]));
    cr_assert_eq(sw_curve_n_columns(c), 4);
    cr_assert_str_eq(sw_curve_column_name(c, 1), "test_em");
    const unsigned char *pres;
    const double *tl = sw_curve_column(c, "train_loss", &pres);
    cr_assert_not_null(tl);
    cr_assert(pres[1] && !pres[2], "the empty cell is missing");
    cr_assert(isnan(tl[2]));
    const double *em = sw_curve_column(c, "val_em", NULL);
    cr_assert_float_eq(em[3], 30, 0);
    cr_assert_null(sw_curve_column(c, "nope", &pres));
    cr_assert_str_eq(sw_curve_source(c), CURVES "extra.csv");
    sw_curve_free(c);
    sw_curve_free(NULL);
}

static void bad_file(const char *file, sw_status want, const char *part)
{
    sw_curve *c = (sw_curve *)1;
    sw_error err;
    char path[4096];
    snprintf(path, sizeof path, CURVES "%s", file);
    cr_assert_eq(sw_curve_read_csv(path, &c, &err), want, "%s: %s", file, err.msg);
    cr_assert_null(c);
    cr_assert(strstr(err.msg, path), "message names the file: %s", err.msg);
    cr_assert(strstr(err.msg, part), "%s: '%s' lacks '%s'", file, err.msg, part);
}

Test(curve, errors_name_file_line_and_expectation)
{
    bad_file("bad_cell.csv", SW_ERR_FORMAT, "bad_cell.csv:3: column 'val_em': 'abc' is not a number");
    bad_file("bad_tokens.csv", SW_ERR_FORMAT, "bad_tokens.csv:4: tokens 2000 not above the previous row's 2000 (tokens must rise)");
    bad_file("no_tokens.csv", SW_ERR_FORMAT, "no_tokens.csv:1: no 'tokens' column");
    bad_file("ragged.csv", SW_ERR_FORMAT, "ragged.csv:3: 1 cells; expected 2 as in the header");
    bad_file("absent.csv", SW_ERR_NOT_FOUND, "cannot open");
    sw_curve *c;
    sw_error err;
    cr_assert_eq(sw_curve_read_csv(CURVES "no_em.csv", &c, &err), SW_OK);
    cr_assert_eq(sw_curve_require(c, "val_em", "the policy monitors val_em", &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "no_em.csv:1: no column 'val_em' (the policy monitors val_em)"), "%s", err.msg);
    sw_policy *p;
    cr_assert_eq(sw_policy_parse("patience=2", &p, NULL), SW_OK);
    sw_replay_result r;
    cr_assert_eq(sw_replay(p, c, &r, &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "no column 'val_em'"), "%s", err.msg);
    sw_policy_free(p);
    sw_curve_free(c);
    cr_assert_eq(sw_curve_parse_csv("", 0, "empty.csv", &c, &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "empty.csv:1: empty file"), "%s", err.msg);
    cr_assert_eq(sw_curve_parse_csv("tokens,val_em,val_em\n", 21, "dup.csv", &c, &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "dup.csv:1: column 'val_em' appears twice"), "%s", err.msg);
    cr_assert_eq(sw_curve_parse_csv("tokens,val_em\n-5,1\n", 19, "neg.csv", &c, &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "neg.csv:2: tokens '-5' is not a token count"), "%s", err.msg);
}

Test(curve, write_then_read_is_exact)
{
    sw_curve *c;
    cr_assert_eq(sw_curve_create(&c, NULL), SW_OK);
    double vals[] = {0.1, 1.0 / 3.0, 81.30000000000001, 1e-300, NAN};
    for (int i = 0; i < 5; i++) {
        sw_metric m[3] = {{"val_em", vals[i]}, {"val_loss", 2.0 / (i + 1)}, {"train_loss", -0.0}};
        sw_eval ev = {.tokens = (uint64_t)(i + 1) * 123457, .step = i * 7, .wall = 0.25 * i, .metrics = m,
                      .n_metrics = i == 3 ? 2 : 3};
        cr_assert_eq(sw_curve_append(c, &ev, NULL), SW_OK);
    }
    /* a metric first seen later gets a column, missing before */
    sw_metric extra[] = {{"val_em", 90}, {"test_em", 88.5}};
    sw_eval ev = {.tokens = 9999999, .step = 100, .wall = 9, .metrics = extra, .n_metrics = 2};
    cr_assert_eq(sw_curve_append(c, &ev, NULL), SW_OK);
    ev.tokens = 9999999;
    cr_assert_eq(sw_curve_append(c, &ev, NULL), SW_ERR_INVALID);
    const char *dir = sw_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/curve.csv", dir);
    sw_error err;
    cr_assert_eq(sw_curve_write_csv(c, path, &err), SW_OK, "%s", err.msg);
    sw_curve *d;
    cr_assert_eq(sw_curve_read_csv(path, &d, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_curve_len(d), 6);
    cr_assert_eq(sw_curve_n_columns(d), 4);
    for (size_t i = 0; i < 6; i++) {
        cr_assert_eq(sw_curve_tokens(d)[i], sw_curve_tokens(c)[i]);
        cr_assert_eq(sw_curve_steps(d)[i], sw_curve_steps(c)[i]);
        cr_assert(sw_curve_walls(d)[i] == sw_curve_walls(c)[i]);
        for (size_t k = 0; k < 4; k++) {
            const char *name = sw_curve_column_name(c, k);
            const unsigned char *pa, *pb;
            const double *a = sw_curve_column(c, name, &pa), *b = sw_curve_column(d, name, &pb);
            cr_assert_not_null(b, "%s", name);
            cr_assert_eq(pa[i], pb[i], "%s row %zu", name, i);
            if (pa[i]) cr_assert(memcmp(&a[i], &b[i], sizeof(double)) == 0 || (isnan(a[i]) && isnan(b[i])),
                                 "%s row %zu: %a vs %a", name, i, a[i], b[i]);
        }
    }
    char *text = sw_test_slurp(path, NULL);
    cr_assert(!strncmp(text, "tokens,step,wall,val_em,val_loss,train_loss,test_em\n123457,0,0,0.1,2,-0,\n", 73),
              "%s", text);
    free(text);
    sw_curve_free(c);
    sw_curve_free(d);
}

/* plateau.csv: EM 10 20 30 40 50 55 60 62 64 65 65.5 65.5 65.2 65.4 65.5 65.1
 * 65.3 65.0 66.0 65.1 at 1k..20k tokens. patience=3: the reference reaches
 * 65.5 at 11k; 12k..14k bring nothing above it, so the stop is at 14k. The
 * best checkpoint up to there is 65.5 at 11k; the curve's best is 66.0 (19k):
 * saved 6k tokens, shortfall 0.5. */
Test(curve, replay_plateau_by_hand)
{
    sw_curve *c;
    sw_error err;
    cr_assert_eq(sw_curve_read_csv(CURVES "plateau.csv", &c, &err), SW_OK, "%s", err.msg);
    sw_policy *p;
    cr_assert_eq(sw_policy_parse("patience=3", &p, NULL), SW_OK);
    sw_replay_result r;
    cr_assert_eq(sw_replay(p, c, &r, &err), SW_OK, "%s", err.msg);
    cr_assert(r.stopped);
    cr_assert_eq(r.stop_index, 13);
    cr_assert_eq(r.stop_tokens, 14000u);
    cr_assert_eq(r.stop_rule, SW_RULE_PATIENCE);
    cr_assert_eq(r.best_index, 10);
    cr_assert_eq(r.best_tokens, 11000u);
    cr_assert_float_eq(r.best_em, 65.5, 0);
    cr_assert_float_eq(r.curve_best_em, 66.0, 0);
    cr_assert_eq(r.saved_tokens, 6000u);
    cr_assert_float_eq(r.shortfall, 0.5, 1e-12);
    sw_policy_free(p);
    /* a policy that never fires runs to the end: nothing saved, nothing lost */
    cr_assert_eq(sw_policy_parse("none", &p, NULL), SW_OK);
    cr_assert_eq(sw_replay(p, c, &r, &err), SW_OK);
    cr_assert_not(r.stopped);
    cr_assert_eq(r.stop_tokens, 20000u);
    cr_assert_eq(r.saved_tokens, 0u);
    cr_assert_float_eq(r.shortfall, 0, 0);
    cr_assert_eq(r.stop_rule, SW_RULE_NONE);
    sw_policy_free(p);
    sw_curve_free(c);
    /* a monitored cell missing mid-curve is an error naming the row */
    cr_assert_eq(sw_curve_read_csv(CURVES "extra.csv", &c, &err), SW_OK);
    cr_assert_eq(sw_policy_parse("pq=1", &p, NULL), SW_OK);
    cr_assert_eq(sw_replay(p, c, &r, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "extra.csv: row 3: evaluation 3 (tokens 1.5k): no metric 'train_loss'"), "%s", err.msg);
    sw_policy_free(p);
    sw_curve_free(c);
}
