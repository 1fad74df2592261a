/* stopwise train / eval / predict end to end: real runs of the CLI on small
 * synthetic and real data, resume, checkpoints and bad input. */
/* Paths are built with snprintf into fixed buffers far larger than any temp path. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/train.h"
#include "checkpoint_params.h"
#include "cli_json.h"
#include "support.h"

/* The reversal task: a small gpt must learn it exactly (issue: "the synthetic
 * reversal task reaches 100% EM in the test suite"). */
Test(e2e_train, reversal_reaches_full_em, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char args[16384], *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "train --data synthetic:reversal:n=4000,len=6 --model gpt:layers=2,d=64,heads=4 --budget 1.2M "
             "--schedule cosine:lr=3e-3,warmup=20k,min=0.05 --stop none --threads 2 --no-store --json --quiet --out %s/run",
             dir);
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 0, "train failed: %s", err);
    json_t *j = parse_json(out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "completed");
    cr_assert_eq(num(j, "test_em"), 100.0, "reversal test EM %.2f, expected 100", num(j, "test_em"));
    cr_assert_geq(num(j, "tokens"), 1200000);
    char run[8400];
    snprintf(run, sizeof run, "%s/run", dir);
    cr_assert(sw_test_exists(run, "best.safetensors") && sw_test_exists(run, "curve.csv") &&
              sw_test_exists(run, "events.jsonl"));

    /* eval on the test split gives the same EM; predict reverses new strings */
    snprintf(args, sizeof args, "eval --model %s/best.safetensors --data synthetic:reversal:n=4000,len=6 --json", run);
    free(out);
    cr_assert_eq(sw_test_cli(args, &out, NULL), 0);
    json_t *e = parse_json(out);
    cr_assert_eq(num(e, "em"), 100.0);
    cr_assert_gt(num(e, "n"), 0);
    cr_assert(json_is_number(json_object_get(e, "per")));
    free(out);
    char words[8400];
    snprintf(words, sizeof words, "%s", sw_test_write(run, "words.txt", "abc\nqwerty\nzz\n"));
    snprintf(args, sizeof args, "predict --model %s/best.safetensors < %s", run, words);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    cr_assert_str_eq(out, "cba\nytrewq\nzz\n");
    json_decref(j);
    json_decref(e);
    free(out);
    free(err);
}

/* An interrupted and resumed run ends with the same weights, bit for bit, as
 * a run never interrupted: raw weights, best checkpoint, and the weight
 * average (`extra`: more options, e.g. --average ema). The cadence and sample
 * are fixed: sized from measured times they could differ between the runs. */
static void resume_is_bit_exact_with(const char *extra)
{
    const char *tmp = sw_test_tmpdir();
    char dir[4096], common[2048];
    snprintf(dir, sizeof dir, "%s", tmp);
    snprintf(common, sizeof common,
             "train --data synthetic:copy:n=2000,len=5 --model gpt:layers=1,d=32,heads=2,dropout=0.1 "
             "--budget 150k --eval-every 1500 --eval-limit 100 --threads 1 --json --quiet --stop patience=1000 %s",
             extra);
    char args[16384], *err = NULL;
    const char *runs[] = {"--no-store --out %s/whole", "--store %s/s.db --out %s/parts --stop-after 70k",
                          "--store %s/s.db --out %s/parts --resume"};
    for (int i = 0; i < 3; i++) {
        char tail[8400];
        snprintf(tail, sizeof tail, runs[i], dir, dir);
        snprintf(args, sizeof args, "%s %s", common, tail);
        cr_assert_eq(sw_test_cli(args, NULL, &err), 0, "%s", err);
        free(err);
        err = NULL;
    }
    const char *files[] = {"last.safetensors", "best.safetensors"};
    for (int f = 0; f < 2; f++) {
        char a[8400], b[8400];
        snprintf(a, sizeof a, "%s/whole/%s", dir, files[f]);
        snprintf(b, sizeof b, "%s/parts/%s", dir, files[f]);
        assert_same_params(a, b, files[f], "after resume");
        /* the average travels in the resumable checkpoint */
        sw_checkpoint ca, cb;
        sw_error e;
        cr_assert_eq(sw_checkpoint_load(a, &ca, &e), SW_OK, "%s", e.msg);
        cr_assert_eq(sw_checkpoint_load(b, &cb, &e), SW_OK, "%s", e.msg);
        cr_assert_eq(ca.average_count, cb.average_count);
        if (f == 0 && strstr(extra, "--average"))
            cr_assert_gt(ca.average_count, 0, "last.safetensors lacks the weight average");
        if (ca.average_count)
            cr_assert_eq(memcmp(ca.average_state, cb.average_state, sizeof(float) * ca.average_count), 0,
                         "the weight average differs after resume");
        sw_checkpoint_free(&ca);
        sw_checkpoint_free(&cb);
    }
    /* the curves agree too (wall times aside): same tokens and EM at every
     * evaluation, and with an average both weight sets' EM */
    char a[8400], b[8400];
    snprintf(a, sizeof a, "cut -d, -f1,2,6,9- %s/whole/curve.csv", dir);
    snprintf(b, sizeof b, "cut -d, -f1,2,6,9- %s/parts/curve.csv", dir);
    char *ca, *cb;
    cr_assert_eq(sw_test_sh(a, &ca, NULL), 0, "cannot read %s/whole/curve.csv", dir);
    cr_assert_eq(sw_test_sh(b, &cb, NULL), 0, "cannot read %s/parts/curve.csv", dir);
    /* a header and many evaluations, so two empty outputs cannot compare equal */
    cr_assert(!strncmp(ca, "tokens,step,val_em,eval_n", 25), "curve.csv header: %.40s", ca);
    size_t lines = 0;
    for (const char *c = ca; *c; c++) lines += *c == '\n';
    cr_assert_geq(lines, 50, "curve.csv has %zu lines", lines);
    cr_assert_str_eq(ca, cb);
    if (strstr(extra, "ema")) cr_assert(strstr(ca, "val_em_raw,val_em_ema"), "curve.csv lacks the EMA columns: %.200s", ca);
    free(ca);
    free(cb);
    free(err);
}

Test(e2e_train, resume_is_bit_exact, .timeout = 300) { resume_is_bit_exact_with(""); }

Test(e2e_train, resume_is_bit_exact_with_ema, .timeout = 300) { resume_is_bit_exact_with("--average ema:decay=0.99"); }

Test(e2e_train, resume_is_bit_exact_with_lawa, .timeout = 300) { resume_is_bit_exact_with("--average lawa:k=3"); }

/* A small classifier on real Fashion-MNIST images (a subsample): the
 * classification path end to end, and the eval keys scripts rely on. */
Test(e2e_train, fashion_mnist_subsample_learns, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char args[16384], *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "train --data fashion-mnist --max-examples 6000 --budget 60k --threads 2 --no-store --json --quiet "
             "--out %s/run",
             dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    json_t *j = parse_json(out);
    cr_assert_gt(num(j, "test_em"), 70.0, "a 256-unit MLP should pass 70%% on Fashion-MNIST, got %.2f",
                 num(j, "test_em"));
    cr_assert(json_is_string(json_object_get(j, "checkpoint")));
    cr_assert(json_is_integer(json_object_get(j, "run_id")));
    cr_assert(json_is_integer(json_object_get(j, "best_tokens")));
    cr_assert(json_is_number(json_object_get(j, "val_em")));
    json_decref(j);
    free(out);
    free(err);
}

static void expect_bad(const char *args, const char *needle1, const char *needle2)
{
    char *err = NULL, *out = NULL;
    int rc = sw_test_cli(args, &out, &err);
    cr_assert_eq(rc, 2, "expected exit 2 for `%s`, got %d (%s)", args, rc, err);
    cr_assert(strstr(err, needle1), "message lacks '%s': %s", needle1, err);
    if (needle2) cr_assert(strstr(err, needle2), "message lacks '%s': %s", needle2, err);
    cr_assert_str_eq(out, "", "nothing on stdout on failure");
    free(err);
    free(out);
}

Test(e2e_train, bad_input_exits_2_and_leaves_nothing)
{
    const char *dir = sw_test_tmpdir();
    char args[16384];
    sw_test_write(dir, "bad.tsv", "cat\tkat\ndog kat\n");
    snprintf(args, sizeof args, "train --data tsv:%s/bad.tsv --no-store --quiet --out %s/run", dir, dir);
    expect_bad(args, "bad.tsv", ":2");
    cr_assert(!sw_test_exists(dir, "run/best.safetensors"));
    snprintf(args, sizeof args, "train --data tsv:%s/missing.tsv --no-store --quiet --out %s/run", dir, dir);
    expect_bad(args, "missing.tsv", NULL);
    snprintf(args, sizeof args, "train --data cmudict --model gpt:layers=0 --no-store --quiet --out %s/run", dir);
    expect_bad(args, "layers", NULL);
    snprintf(args, sizeof args, "train --data cmudict --budget 12Q --no-store");
    expect_bad(args, "--budget", NULL);
    snprintf(args, sizeof args, "train --data synthetic:copy --budget 1k --stop patience=x --no-store --quiet --out %s/run", dir);
    expect_bad(args, "patience", NULL);
    snprintf(args, sizeof args, "train --data synthetic:copy --budget 1k --store %s/bad.tsv --quiet --out %s/run", dir, dir);
    expect_bad(args, "bad.tsv", NULL);
    /* a trunk needs wsd (the default; a cosine refuses); branch lists and the
     * cooldown shape are checked */
    snprintf(args, sizeof args,
             "train --data synthetic:copy --budget 1k --schedule cosine --forks 10 --no-store --quiet --out %s/trunk", dir);
    expect_bad(args, "wsd", NULL);
    cr_assert(!sw_test_exists(dir, "trunk"), "nothing written");
    snprintf(args, sizeof args, "train --data synthetic:copy --budget 1k --forks 10 --branch-cooldowns 0.1,2 --no-store");
    expect_bad(args, "--branch-cooldowns", "'2'");
    snprintf(args, sizeof args, "train --data synthetic:copy --budget 1k --forks 10 --branch-shapes linear,cos --no-store");
    expect_bad(args, "--branch-shapes", "'cos'");
    snprintf(args, sizeof args, "train --data synthetic:copy --budget 1k --cooldown-shape cos --no-store");
    expect_bad(args, "--cooldown-shape", NULL);
}

Test(e2e_train, bad_checkpoints_exit_2)
{
    const char *tmp = sw_test_tmpdir();
    char dir[4096], args[1024];
    snprintf(dir, sizeof dir, "%s", tmp);
    snprintf(args, sizeof args,
             "train --data synthetic:copy:n=300,len=4 --model gpt:layers=1,d=16,heads=2 --budget 2k --no-store "
             "--quiet --out %s/run",
             dir);
    cr_assert_eq(sw_test_cli(args, NULL, NULL), 0);
    size_t len;
    char path[8400];
    snprintf(path, sizeof path, "%s/run/best.safetensors", dir);
    char *good = sw_test_slurp(path, &len);
    cr_assert_not_null(good);
    /* truncated */
    FILE *f = fopen(path, "wb");
    fwrite(good, 1, len / 2, f);
    fclose(f);
    snprintf(args, sizeof args, "eval --model %s --data synthetic:copy:n=300,len=4", path);
    expect_bad(args, "best.safetensors", "offset");
    /* a header that claims an absurd size */
    f = fopen(path, "wb");
    unsigned char huge[8] = {0, 0, 0, 0, 0, 0, 0, 0x7f};
    fwrite(huge, 1, 8, f);
    fwrite(good + 8, 1, len - 8, f);
    fclose(f);
    expect_bad(args, "offset 0", "header length");
    /* a corrupted header */
    f = fopen(path, "wb");
    fwrite(good, 1, len, f);
    fclose(f);
    f = fopen(path, "r+b");
    fseek(f, 9, SEEK_SET);
    fputs("###", f);
    fclose(f);
    expect_bad(args, "best.safetensors", "JSON");
    /* predict with a missing checkpoint */
    snprintf(args, sizeof args, "predict --model %s/nope.safetensors </dev/null", dir);
    expect_bad(args, "nope.safetensors", NULL);
    free(good);
}

/* An exploding run ends as diverged (not as a failure), with its reason. */
Test(e2e_train, exploding_run_is_diverged)
{
    const char *dir = sw_test_tmpdir();
    char args[16384], *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "train --data synthetic:copy:n=500,len=4 --model gpt:layers=1,d=16,heads=2 --budget 50k "
             "--schedule constant:lr=1e6 --optimizer sgd:momentum=0,clip=0 --no-store --quiet --json --out %s/run",
             dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    json_t *j = parse_json(out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "diverged");
    cr_assert_str_eq(json_string_value(json_object_get(j, "stop_rule")), "diverge");
    cr_assert_lt(num(j, "tokens"), 50000);
    json_decref(j);
    free(out);
    free(err);
}

/* The defaults a new user gets: the budget follows the data (SW_DEFAULT_EPOCHS
 * epochs of the training split) and --stop is auto (here, without a store,
 * the conservative default policy). */
Test(e2e_train, defaults_follow_the_data_and_stop_auto, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    const char *data = "synthetic:copy:n=200,len=4";
    sw_dataset *ds;
    sw_error e;
    sw_data_options dopt = sw_data_default_options();
    cr_assert_eq(sw_dataset_load(data, &dopt, &ds, &e), SW_OK, "%s", e.msg);
    uint64_t epoch = 0;
    for (size_t i = 0; i < sw_dataset_count(ds, SW_SPLIT_TRAIN); i++) {
        int li, lr;
        sw_dataset_input(ds, SW_SPLIT_TRAIN, i, &li);
        for (int j = 0; j < sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, i); j++) {
            sw_dataset_ref(ds, SW_SPLIT_TRAIN, i, j, &lr);
            epoch += (uint64_t)(li + 1 + lr);
        }
    }
    sw_dataset_free(ds);
    char args[16384], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "train --data %s --model gpt:layers=1,d=16,heads=2 --threads 1 --no-store --json --quiet --out %s/run",
             data, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    json_t *j = parse_json(out);
    cr_assert_eq((uint64_t)num(j, "budget"), SW_DEFAULT_EPOCHS * epoch, "budget %.0f, expected %d epochs of %llu",
                 num(j, "budget"), SW_DEFAULT_EPOCHS, (unsigned long long)epoch);
    cr_assert(json_is_string(json_object_get(j, "auto")), "--stop auto is the default");
    cr_assert(strstr(json_string_value(json_object_get(j, "policy")), "patience"), "the conservative default policy");
    /* sized evaluation: a sample of the select half, never more */
    cr_assert_gt(num(j, "eval_sample"), 0);
    cr_assert_leq(num(j, "eval_sample"), 10, "20 validation examples, 10 in the select half");
    cr_assert(json_is_string(json_object_get(j, "weights")));
    json_decref(j);
    free(out);
    free(err);
}

/* A stop is confirmed on a larger sample before it is taken: at a
 * significance near 1 any gain of the current weights over the best
 * checkpoint refutes it (and training goes on); at 0 no test runs. */
Test(e2e_train, paired_test_confirms_or_refutes_a_stop, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    /* 20 examples per evaluation: patience=1 fires at the first dip, while the
     * weights still improve on the 80 examples of a confirmation */
    const char *common = "train --data fashion-mnist --max-examples 6000 --budget 40k --eval-every 1280 "
                         "--eval-limit 20 --stop patience=1 --threads 1 --no-store --json --quiet";
    char args[16384], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "%s --confirm 0.999999 --out %s/refute", common, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    json_t *j = parse_json(out);
    cr_assert_geq(num(j, "refuted_stops"), 1, "no stop was refuted: %s", out);
    cr_assert_geq(num(j, "confirmations"), num(j, "refuted_stops"));
    double refuted_tokens = num(j, "tokens");
    json_decref(j);
    free(out);
    free(err);
    snprintf(args, sizeof args, "%s --confirm 0 --out %s/plain", common, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    j = parse_json(out);
    cr_assert_eq(num(j, "confirmations"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "stopped");
    cr_assert_lt(num(j, "tokens"), refuted_tokens, "a refuted stop must train on past the unconfirmed stop");
    json_decref(j);
    free(out);
    free(err);
}
