/* stopwise train --prune and stopwise prune end to end: gradual neuron
 * pruning of a classifier ends in a smaller dense checkpoint that evaluates
 * and predicts exactly like the masked one; one-shot pruning of a gpt's heads
 * and neurons loads and predicts; a pruned run resumes bit for bit; bad specs
 * exit 2 with a message naming what was expected. */
/* Paths are built with snprintf into fixed buffers far larger than any temp path. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint_params.h"
#include "cli_json.h"
#include "stopwise/train.h"
#include "support.h"

/* A 3-class CSV of 900 rows, 8 features: the class is which of three sums
 * of features is largest, plus noise features (deterministic). */
static const char *write_csv(const char *dir)
{
    static char path[8400];
    snprintf(path, sizeof path, "%s/three.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "a,b,c,d,e,f,g,h,label\n");
    uint64_t s = 12345;
    for (int i = 0; i < 900; i++) {
        double x[8];
        for (int k = 0; k < 8; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[k] = (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
        }
        double a = x[0] + x[1], b = x[2] - x[3], c = x[4] * 1.5;
        const char *label = a > b && a > c ? "red" : b > c ? "green" : "blue";
        for (int k = 0; k < 8; k++) fprintf(f, "%.4f,", x[k]);
        fprintf(f, "%s\n", label);
    }
    cr_assert_eq(fclose(f), 0);
    return path;
}

Test(e2e_prune, gradual_neurons_give_a_smaller_model_that_predicts_the_same, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char csv[8400], args[16384], *out = NULL, *err = NULL;
    snprintf(csv, sizeof csv, "%s", write_csv(dir));
    snprintf(args, sizeof args,
             "train --data csv:%s --model mlp:hidden=32x16 --budget 60k --prune neurons:keep=0.5,start=10%%,end=50%% "
             "--stop none --threads 1 --no-store --json --quiet --out %s/run",
             csv, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "train failed: %s", err);
    json_t *j = parse_json(out);
    cr_assert_eq(num(j, "sparsity"), 0.5, "the best checkpoint has %g of its neurons pruned", num(j, "sparsity"));
    cr_assert_str_eq(json_string_value(json_object_get(j, "pruned_model")),
                     "mlp:hidden=16x8,act=relu,dropout=0,inputs=8,classes=3");
    /* 8*32+32 + 32*16+16 + 16*3+3 = 867 dense; 8*16+16 + 16*8+8 + 8*3+3 = 307 */
    cr_assert_eq(num(j, "pruned_params"), 307);
    cr_assert_gt(num(j, "test_em"), 60, "the pruned classifier learned nothing (test EM %g)", num(j, "test_em"));
    free(out);
    out = NULL;

    /* both checkpoints: the same EM and loss, the same answers */
    double em[2], loss[2];
    const char *names[] = {"best", "pruned"};
    char answers[2][8192];
    char lines[8400];
    snprintf(lines, sizeof lines, "%s",
             sw_test_write(dir, "rows.txt", "0.5,0.5,-0.2,0.1,0.3,0,0,0\n-0.9,0.2,0.8,-0.7,0.1,0.5,0.5,0.5\n"
                                            "0.1,-0.4,0.2,0.3,0.9,-1,1,0\n0,0,0,0,0,0,0,0\n"));
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "eval --model %s/run/%s.safetensors --data csv:%s --json", dir, names[i], csv);
        cr_assert_eq(sw_test_cli(args, &out, &err), 0, "eval %s: %s", names[i], err);
        json_t *e = parse_json(out);
        em[i] = num(e, "em");
        loss[i] = num(e, "loss");
        json_decref(e);
        free(out);
        snprintf(args, sizeof args, "predict --model %s/run/%s.safetensors < %s", dir, names[i], lines);
        cr_assert_eq(sw_test_cli(args, &out, &err), 0, "predict %s: %s", names[i], err);
        snprintf(answers[i], sizeof answers[i], "%s", out);
        free(out);
    }
    cr_assert_eq(em[0], em[1], "EM %g (masked) vs %g (compact)", em[0], em[1]);
    cr_assert(fabs(loss[0] - loss[1]) <= 1e-6 * fabs(loss[0]), "loss %.9g vs %.9g", loss[0], loss[1]);
    cr_assert_str_eq(answers[0], answers[1]);
    cr_assert(strstr(answers[0], "red") || strstr(answers[0], "green") || strstr(answers[0], "blue"));
    /* the compact checkpoint is smaller on disk too, and says where it came from */
    char p[8400];
    struct stat sa, sb;
    snprintf(p, sizeof p, "%s/run/best.safetensors", dir);
    cr_assert_eq(stat(p, &sa), 0);
    snprintf(p, sizeof p, "%s/run/pruned.safetensors", dir);
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert_lt(sb.st_size, sa.st_size * 6 / 10);
    sw_checkpoint ck;
    sw_error e;
    cr_assert_eq(sw_checkpoint_load(p, &ck, &e), SW_OK, "%s", e.msg);
    cr_assert(strstr(sw_checkpoint_meta(&ck, "pruned_from"), "best.safetensors"));
    cr_assert_not_null(sw_checkpoint_meta(&ck, "labels"));
    cr_assert_null(sw_checkpoint_meta(&ck, "train_state"));
    sw_checkpoint_free(&ck);
    json_decref(j);
    free(err);
}

Test(e2e_prune, one_shot_gpt_heads_and_neurons_load_and_predict, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char args[16384], *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "train --data synthetic:copy:n=600,len=4 --model gpt:layers=2,d=32,heads=4 --budget 40k --stop none "
             "--threads 1 --no-store --json --quiet --out %s/run",
             dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "train failed: %s", err);
    free(out);
    snprintf(args, sizeof args, "prune --model %s/run/best.safetensors --heads 0.5 --neurons 0.25 --out %s/small.safetensors --json",
             dir, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "prune failed: %s", err);
    json_t *j = parse_json(out);
    const char *model = json_string_value(json_object_get(j, "model"));
    cr_assert(strstr(model, "heads=2") && strstr(model, ",ff=32,hd=8"), "pruned spec %s", model);
    cr_assert_lt(num(j, "params_after"), 0.75 * num(j, "params_before"));
    json_decref(j);
    free(out);
    snprintf(args, sizeof args, "eval --model %s/small.safetensors --data synthetic:copy:n=600,len=4 --json", dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "eval of the pruned gpt: %s", err);
    j = parse_json(out);
    cr_assert_gt(num(j, "n"), 0);
    json_decref(j);
    free(out);
    char words[8400];
    snprintf(words, sizeof words, "%s", sw_test_write(dir, "words.txt", "abcd\nzz\n"));
    snprintf(args, sizeof args, "predict --model %s/small.safetensors < %s", dir, words);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "predict with the pruned gpt: %s", err);
    int n = 0;
    for (const char *c = out; *c; c++) n += *c == '\n';
    cr_assert_eq(n, 2, "two answers expected: '%s'", out);
    free(out);
    free(err);
}

/* A run with pruning interrupted mid-schedule and resumed ends with the same
 * weights, bit for bit: the masks come back from the weights, the EMA and
 * the moments were masked before they were saved. */
Test(e2e_prune, resume_mid_schedule_is_bit_exact, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char args[16384], *err = NULL, csv[8400];
    snprintf(csv, sizeof csv, "%s", write_csv(dir));
    const char *common = "--model mlp:hidden=32x16 --budget 40k --eval-every 2k --eval-limit 50 --threads 1 --json "
                         "--quiet --stop none --average ema:decay=0.99 --prune magnitude:sparsity=0.7,start=10%,end=60% "
                         "--optimizer adamw:wd=0.01,clip=0.05"; /* clipping (binding) reads every gradient: the masks must be back */
    const char *runs[] = {"--no-store --out %s/whole", "--no-store --out %s/parts --stop-after 14k",
                          "--no-store --out %s/parts --resume"};
    for (int i = 0; i < 3; i++) {
        char tail[8400];
        snprintf(tail, sizeof tail, runs[i], dir);
        snprintf(args, sizeof args, "train --data csv:%s %s %s", csv, common, tail);
        cr_assert_eq(sw_test_cli(args, NULL, &err), 0, "%s", err);
        free(err);
        err = NULL;
    }
    const char *files[] = {"last.safetensors", "best.safetensors"};
    for (int f = 0; f < 2; f++) {
        char a[8400], b[8400];
        snprintf(a, sizeof a, "%s/whole/%s", dir, files[f]);
        snprintf(b, sizeof b, "%s/parts/%s", dir, files[f]);
        float *pa, *pb;
        size_t na, nb, zeros = 0;
        params_of(a, &pa, &na);
        params_of(b, &pb, &nb);
        cr_assert_eq(na, nb);
        cr_assert_eq(memcmp(pa, pb, sizeof(float) * na), 0, "%s differs after resume", files[f]);
        for (size_t i = 0; i < na; i++) zeros += pa[i] == 0.0f;
        cr_assert_gt(zeros, na / 2, "%s: only %zu of %zu weights pruned", files[f], zeros, na);
        free(pa);
        free(pb);
    }
}

Test(e2e_prune, bad_specs_exit_2_with_a_clear_message, .timeout = 120)
{
    const char *dir = sw_test_tmpdir();
    char csv[8400], args[16384], *err = NULL;
    snprintf(csv, sizeof csv, "%s", write_csv(dir));
    static const struct { const char *args, *expect; } bad[] = {
        {"--prune neurons:keep=0", "keep=0 (expected a fraction in (0, 1])"},
        {"--prune neurons:keep=1.5", "keep=1.5 (expected a fraction in (0, 1])"},
        {"--prune magnitude:sparsity=1.2", "sparsity=1.2 (expected a fraction in (0, 1))"},
        {"--prune prune:keep=0.5", "unknown kind 'prune'"},
        {"--prune heads:keep=0.5", "heads need a gpt"},
        {"--prune neurons:keep=0.5,end=2M", "past the budget"},
        {"--prune neurons:keep=0.5 --forks 2 --schedule wsd", "does not combine with --forks"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "train --data csv:%s --budget 10k --no-store --quiet --out %s/bad %s", csv, dir,
                 bad[i].args);
        int rc = sw_test_cli(args, NULL, &err);
        cr_assert_eq(rc, 2, "%s: exit %d (%s)", bad[i].args, rc, err);
        cr_assert(strstr(err, bad[i].expect), "%s: message '%s' lacks '%s'", bad[i].args, err, bad[i].expect);
        free(err);
        err = NULL;
    }
    static const struct { const char *args, *expect; } bad_prune[] = {
        {"--model %s/none.safetensors --out %s/x.safetensors", "none.safetensors"},
        {"--model %s/a.safetensors --out %s/x.safetensors --neurons 1.5", "--neurons 1.5: expected a keep fraction in (0, 1]"},
        {"--model %s/a.safetensors --out %s/x.safetensors --heads 0", "--heads 0: expected a keep fraction in (0, 1]"},
        {"--model %s/a.safetensors --out %s/a.safetensors", "must not be the --model checkpoint"},
        {"--model %s/a.safetensors", "--out PATH are required"},
    };
    for (size_t i = 0; i < sizeof bad_prune / sizeof *bad_prune; i++) {
        char opts[9000];
        snprintf(opts, sizeof opts, bad_prune[i].args, dir, dir);
        snprintf(args, sizeof args, "prune %s", opts);
        int rc = sw_test_cli(args, NULL, &err);
        cr_assert_eq(rc, 2, "prune %s: exit %d (%s)", opts, rc, err);
        cr_assert(strstr(err, bad_prune[i].expect), "prune %s: message '%s' lacks '%s'", opts, err, bad_prune[i].expect);
        free(err);
        err = NULL;
    }
}
