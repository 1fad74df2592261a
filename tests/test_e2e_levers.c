/* The data levers through the CLI (docs/LEVERS.md): bad specs exit 2 with the
 * reason; a probe-scored selection is the same at 1 and 2 threads and
 * follows the seed; it is recorded (split.tsv, --json, the checkpoint's
 * config); a run with subsample, curriculum and augmentation resumes bit for
 * bit. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_params.h"
#include "data_helpers.h"
#include "support.h"

/* Runs train with `args`; returns the exit code, stdout and stderr (caller frees). */
static int train(const char *args, char **out, char **err)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "train --no-store --quiet %s", args);
    return sw_test_cli(cmd, out, err);
}

static void fails_with(const char *args, const char *needle)
{
    char *err = NULL;
    int rc = train(args, NULL, &err);
    cr_assert_eq(rc, 2, "%s: exit %d (%s)", args, rc, err);
    cr_assert(strstr(err, needle), "%s: '%s' lacks '%s'", args, err, needle);
    free(err);
}

Test(e2e_levers, bad_levers_exit_2_with_the_reason, .timeout = 120)
{
    char args[8192];
    const char *dir = sw_test_tmpdir();
    const char *fracs[] = {"0", "1.5", "-0.3", "uniform:keep=0", "stratified:keep=2", "el2n:keep=0,probe=1k"};
    for (size_t i = 0; i < sizeof fracs / sizeof *fracs; i++) {
        snprintf(args, sizeof args, "--data synthetic:copy:n=100 --budget 1k --out %s/r --subsample %s", dir, fracs[i]);
        fails_with(args, "keep must be a fraction in (0, 1]");
    }
    snprintf(args, sizeof args, "--data synthetic:copy:n=100 --budget 1k --out %s/r --augment noise", dir);
    fails_with(args, "sequence task");
    snprintf(args, sizeof args, "--data csv:%s/small.csv --budget 100 --out %s/r --augment image", STOPWISE_TEST_DATA,
             dir);
    fails_with(args, "no 2-D images");
    snprintf(args, sizeof args, "--data csv:%s/small.csv --budget 100 --out %s/r --augment mixup", STOPWISE_TEST_DATA,
             dir);
    fails_with(args, "soft labels");
    snprintf(args, sizeof args, "--data csv:%s/small.csv --budget 100 --out %s/r --curriculum length",
             STOPWISE_TEST_DATA, dir);
    fails_with(args, "no length");
    snprintf(args, sizeof args, "--data synthetic:copy:n=100 --budget 1k --out %s/r --curriculum hardest", dir);
    fails_with(args, "expected none, length");
}

/* The fingerprint in a run's --json output (exits the test if absent). */
static char *fingerprint(const char *json)
{
    const char *p = strstr(json, "\"train_fingerprint\":\"");
    cr_assert_not_null(p, "no fingerprint in %s", json);
    return strndup(p + 21, 16);
}

Test(e2e_levers, probe_selection_is_seeded_and_thread_count_independent, .timeout = 500)
{
    const char *dir = sw_test_tmpdir();
    /* random 28 x 28 images: an MLP batch of 128 x 784 x 256, whose GEMMs run threaded at 2 */
    char data[4300];
    snprintf(data, sizeof data, "%s", fashion_folder(dir, 1500, 28, 28));
    char args[8192], *out[3] = {0}, *err = NULL;
    const char *runs[3] = {"--threads 1 --seed 1 --out %s/t1", "--threads 2 --seed 1 --out %s/t2",
                           "--threads 2 --seed 2 --out %s/s2"};
    for (int i = 0; i < 3; i++) {
        char tail[4200];
        snprintf(tail, sizeof tail, runs[i], dir);
        snprintf(args, sizeof args,
                 "--data %s --budget 1k --eval-every 1k --eval-limit 100 --stop none --json "
                 "--subsample el2n:keep=0.4,probe=1k,points=2 --dedupe %s",
                 data, tail);
        cr_assert_eq(train(args, &out[i], &err), 0, "%s", err);
        free(err);
        err = NULL;
    }
    char *fa = fingerprint(out[0]), *fb = fingerprint(out[1]), *fc = fingerprint(out[2]);
    cr_assert_str_eq(fa, fb, "the selection depends on the thread count");
    cr_assert_str_neq(fa, fc, "seeds 1 and 2 selected the same examples");
    cr_assert(strstr(out[0], "\"subsample\":\"el2n:keep=0.4,take=hard,hard=0.5,balance=0,probe=1k,points=2\""), "%s",
              out[0]);
    cr_assert(strstr(out[0], "\"probe_tokens\":"), "%s", out[0]);
    cr_assert(strstr(out[0], "\"duplicates_removed\":0"), "%s", out[0]);
    /* the kept examples, recorded: 40% of the training split */
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/t1/split.tsv", dir);
    snprintf(p2, sizeof p2, "%s/t2/split.tsv", dir);
    size_t l1, l2;
    char *s1 = sw_test_slurp(p1, &l1), *s2 = sw_test_slurp(p2, &l2);
    cr_assert_not_null(s1);
    cr_assert_not_null(s2);
    cr_assert_eq(l1, l2);
    cr_assert_eq(memcmp(s1, s2, l1), 0);
    unsigned train_n = 0, all_n = 0;
    const char *te = strstr(out[0], "\"train_examples\":"), *ta = strstr(out[0], "\"train_examples_all\":");
    cr_assert(te && ta && sscanf(te + 17, "%u", &train_n) == 1 && sscanf(ta + 21, "%u", &all_n) == 1, "%s", out[0]);
    cr_assert_eq(train_n, (unsigned)(0.4 * all_n + 0.5));
    size_t train_lines = 0;
    for (const char *c = s1; (c = strstr(c, "\ntrain\t")); c++) train_lines++;
    cr_assert_eq(train_lines, train_n, "split.tsv lists %zu training examples, the run used %u", train_lines, train_n);
    /* the checkpoint carries the selection in its config */
    snprintf(p1, sizeof p1, "%s/t1/best.safetensors", dir);
    sw_checkpoint ck;
    sw_error e;
    cr_assert_eq(sw_checkpoint_load(p1, &ck, &e), SW_OK, "%s", e.msg);
    const char *config = sw_checkpoint_meta(&ck, "config");
    cr_assert(config && strstr(config, "\"subsample\":\"el2n:keep=0.4") && strstr(config, fa), "%s", config);
    sw_checkpoint_free(&ck);
    free(s1);
    free(s2);
    free(fa);
    free(fb);
    free(fc);
    for (int i = 0; i < 3; i++) free(out[i]);
}

/* An interrupted run with every lever on resumes to the same weights, bit for
 * bit, as one never interrupted: the selection, the curriculum's draws and
 * the augmentation are functions of the seed and the tokens, not of the
 * process. `data` and `levers`: the options. */
static void resume_exact(const char *data, const char *levers, const char *budget, const char *cut)
{
    const char *dir = sw_test_tmpdir();
    char args[16384], *err = NULL;
    const char *runs[] = {"--out %s/whole", "--out %s/parts --stop-after %s", "--out %s/parts --resume"};
    for (int i = 0; i < 3; i++) {
        char tail[4400];
        snprintf(tail, sizeof tail, runs[i], dir, cut);
        snprintf(args, sizeof args, "--data %s --budget %s --eval-every 2k --eval-limit 100 --threads 1 --stop none %s %s",
                 data, budget, levers, tail);
        cr_assert_eq(train(args, NULL, &err), 0, "%s", err);
        free(err);
        err = NULL;
    }
    const char *files[] = {"last.safetensors", "best.safetensors", "split.tsv"};
    for (int f = 0; f < 2; f++) {
        char a[4400], b[4400];
        snprintf(a, sizeof a, "%s/whole/%s", dir, files[f]);
        snprintf(b, sizeof b, "%s/parts/%s", dir, files[f]);
        assert_same_params(a, b, files[f], "after resume");
    }
}

Test(e2e_levers, sequence_levers_resume_bit_exact, .timeout = 300)
{
    resume_exact("synthetic:copy:n=1500,len=6 --model gpt:layers=1,d=32,heads=2,dropout=0.1",
                 "--subsample stratified:keep=0.6 --curriculum difficulty:probe=3k,until=0.6", "20k", "9k");
}

Test(e2e_levers, image_levers_resume_bit_exact, .timeout = 300)
{
    char data[4300];
    snprintf(data, sizeof data, "%s", fashion_folder(sw_test_tmpdir(), 1500, 28, 28));
    resume_exact(data,
                 "--subsample loss:keep=0.5,take=mix,probe=2k --curriculum difficulty:score=el2n "
                 "--augment image:shift=2,flip=1",
                 "12k", "5k");
}
