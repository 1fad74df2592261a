/* stopwise replay end to end: text, --json for one and several curves, and
 * exit code 2 with clear messages on a bad policy or a bad CSV. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/store.h"
#include "support.h"

#define CURVES STOPWISE_TEST_DATA "/curves/"

Test(e2e_replay, text_output)
{
    char *out, *err;
    int rc = sw_test_cli("replay --policy patience=3 --curve " CURVES "plateau.csv", &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, "stops at 14k tokens (evaluation 14 of 20): patience: no val_em improvement > 0 for 3 "
                          "evaluations since 11k tokens (best 65.5)"), "%s", out);
    cr_assert(strstr(out, "saved 6k tokens (30.0%), EM lost 0.5"), "%s", out);
    free(out);
    free(err);
}

Test(e2e_replay, json_one_curve)
{
    char *out, *err;
    int rc = sw_test_cli("replay --json --policy patience=3 --curve " CURVES "plateau.csv", &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    cr_assert_not_null(o, "stdout is not one JSON object: %s", out);
    cr_assert_eq(json_integer_value(json_object_get(o, "stop_tokens")), 14000);
    cr_assert_str_eq(json_string_value(json_object_get(o, "stop_rule")), "patience");
    cr_assert(strstr(json_string_value(json_object_get(o, "reason")), "patience: no val_em improvement"));
    cr_assert_eq(json_integer_value(json_object_get(o, "best_tokens")), 11000);
    cr_assert_float_eq(json_number_value(json_object_get(o, "best_em")), 65.5, 1e-12);
    cr_assert_eq(json_integer_value(json_object_get(o, "saved_tokens")), 6000);
    cr_assert_float_eq(json_number_value(json_object_get(o, "shortfall")), 0.5, 1e-12);
    json_decref(o);
    free(out);
    free(err);
}

Test(e2e_replay, json_several_curves)
{
    char *out, *err;
    int rc = sw_test_cli("replay --json --policy patience=3 --curve " CURVES "plateau.csv --curve " CURVES "extra.csv",
                         &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    json_t *o = json_loads(out, 0, NULL);
    cr_assert_not_null(o, "%s", out);
    cr_assert_eq(json_array_size(json_object_get(o, "curves")), 2);
    cr_assert_float_eq(json_number_value(json_object_get(o, "mean_saved_tokens")), 3000, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(o, "mean_shortfall")), 0.25, 1e-12);
    cr_assert_float_eq(json_number_value(json_object_get(o, "max_shortfall")), 0.5, 1e-12);
    json_decref(o);
    free(out);
    free(err);
}

static void fails(const char *args, const char *part)
{
    char *out, *err;
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 2, "%s: rc %d, stderr %s", args, rc, err);
    cr_assert(strstr(err, part), "%s: stderr '%s' lacks '%s'", args, err, part);
    cr_assert_str_eq(out, "", "nothing on stdout on failure");
    free(out);
    free(err);
}

Test(e2e_replay, bad_input_exits_2_with_a_message)
{
    fails("replay --policy patience=x --curve " CURVES "plateau.csv",
          "--policy: policy character 10 ('x' in 'patience=x'): patience needs a whole number");
    fails("replay --json --policy patience=3,bogus --curve " CURVES "plateau.csv", "unknown rule");
    fails("replay --policy patience=3 --curve " CURVES "bad_cell.csv", "bad_cell.csv:3: column 'val_em': 'abc' is not a number");
    fails("replay --policy patience=3 --curve " CURVES "bad_tokens.csv", "bad_tokens.csv:4: tokens 2000 not above");
    fails("replay --policy patience=3 --curve " CURVES "no_em.csv", "no_em.csv:1: no column 'val_em'");
    fails("replay --policy patience=3 --curve " CURVES "absent.csv", "absent.csv: cannot open");
    fails("replay --policy patience=3", "give at least one --curve");
    fails("replay --curve " CURVES "plateau.csv", "--policy is required");
}

Test(e2e_replay, annealed_json_oracle_and_the_missing_family)
{
    char *out, *err;
    /* figures worked by hand in tests/test_stop_anneal.c */
    int rc = sw_test_cli("replay --json --oracle 0 --policy patience=2,cooldown=0.1 --curve " CURVES "annealed.csv", &out,
                         &err);
    cr_assert_eq(rc, 0, "%s", err);
    json_t *o = json_loads(out, 0, NULL);
    cr_assert_not_null(o, "%s", out);
    cr_assert_eq(json_integer_value(json_object_get(o, "charged_tokens")), 7700);
    cr_assert_float_eq(json_number_value(json_object_get(o, "score_em")), 41, 1e-12);
    json_t *a = json_object_get(o, "anneal");
    cr_assert(json_is_true(json_object_get(a, "predicted")));
    json_t *loo = json_object_get(a, "loo");
    cr_assert_eq(json_integer_value(json_object_get(loo, "n")), 3);
    cr_assert_float_eq(json_number_value(json_object_get(loo, "mae")), 2, 1e-12);
    json_t *orc = json_object_get(o, "oracle");
    cr_assert_eq(json_integer_value(json_object_get(orc, "charged_tokens")), 5512);
    json_decref(o);
    free(out);
    free(err);
    rc = sw_test_cli("replay --policy patience=2,cooldown=0.05:shape=sqrt --curve " CURVES "annealed.csv", &out, &err);
    cr_assert_eq(rc, 2, "%s", err);
    cr_assert(strstr(err, "no column 'val_em_annealed:c=0.05:shape=sqrt'"), "%s", err);
    free(out);
    free(err);
}

/* bench/tokens.py scores stops with the cooldown when the curves carry
 * branch columns (three small hand-made wsd trunks, tests/data/curves/wsd,
 * and their cosine full-budget runs): every row charges the cooldown's
 * tokens, the oracle stays within epsilon, and the test-EM headline against
 * the cosine runs is there. */
Test(e2e_replay, bench_tokens_scores_annealed_curves, .timeout = 300)
{
    char dir[1024], cmd[8192], *out = NULL, *err = NULL;
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/bench/tokens.py --stopwise %s --task wsd-fixture --budget 300k --curves %s/curves/wsd "
             "--cosine %s/curves/cosine --families patience --out %s",
             STOPWISE_SOURCE_DIR, STOPWISE_CLI, STOPWISE_TEST_DATA, STOPWISE_TEST_DATA, dir);
    int rc = sw_test_sh(cmd, &out, &err);
    cr_assert_eq(rc, 0, "%s\n%s", out, err);
    cr_assert(strstr(out, "stops scored with a cooldown (tokens include it)"), "%s", out);
    char path[1200];
    snprintf(path, sizeof path, "%s/tokens-wsd-fixture.json", dir);
    json_t *j = json_load_file(path, 0, NULL);
    cr_assert_not_null(j, "%s", out);
    cr_assert_eq(json_array_size(json_object_get(j, "cooldown_families")), 2);
    json_t *rows = json_object_get(j, "rows");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *name = json_string_value(json_object_get(row, "name"));
        json_t *per = json_object_get(row, "per_curve");
        cr_assert_eq(json_array_size(per), 3, "%s", name);
        for (size_t k = 0; k < 3; k++) {
            json_t *c = json_array_get(per, k);
            /* charged = stop + cooldown (> stop: every family spends tokens) */
            cr_assert_gt(json_integer_value(json_object_get(c, "charged_tokens")),
                         json_integer_value(json_object_get(c, "stop_tokens")), "%s", name);
            cr_assert(json_is_number(json_object_get(c, "test_em")), "%s", name);
        }
        cr_assert(json_is_number(json_object_get(row, "mean_test_shortfall")), "%s", name);
        if (!strcmp(name, "oracle")) cr_assert_leq(json_number_value(json_object_get(row, "mean_shortfall")), 0.5);
        if (!strncmp(name, "no stopping", 11))
            cr_assert_float_eq(json_number_value(json_object_get(row, "tokens_pct")), 110, 1e-9, "300k + 30k");
    }
    json_decref(j);
    free(out);
    free(err);
}

/* A store curve that stop/ refuses (a metric name with a comma): the message
 * names the run and the evaluation once, then the reason. It used to be built
 * with sw_error_set(err, ..., "%s", err->msg), source and destination one. */
Test(e2e_replay, a_refused_store_curve_is_named_once)
{
    const char *dir = sw_test_tmpdir();
    char path[4200], args[8600];
    snprintf(path, sizeof path, "%s/s.db", dir);
    sw_store *s;
    sw_error e;
    cr_assert_eq(sw_store_open(path, &s, &e), SW_OK, "%s", e.msg);
    sw_store_run_info info = {.name = "r", .task = "t"};
    int64_t id;
    cr_assert_eq(sw_store_run_begin(s, &info, &id), SW_OK, "%s", sw_store_errmsg(s));
    sw_store_metric m = {"a,b", 1};
    sw_store_eval ev = {1000, 1, 0.1, 50, 1.0, 2.0, &m, 1};
    cr_assert_eq(sw_store_log_eval(s, id, &ev), SW_OK, "%s", sw_store_errmsg(s));
    sw_store_close(s);
    snprintf(args, sizeof args, "replay --policy patience=3 --store '%s' --run %lld", path, (long long)id);
    char *out, *err;
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_neq(rc, 0, "%s", out);
    char want[128];
    snprintf(want, sizeof want, "run %lld: evaluation 1: curve: bad metric name 'a,b'", (long long)id);
    cr_assert(strstr(err, want), "stderr lacks \"%s\":\n%s", want, err);
    cr_assert_eq(strstr(strstr(err, want) + 1, "run "), NULL, "named twice:\n%s", err);
    free(out);
    free(err);
}
