/* stopwise eval / predict with ensembles and beam search, end to end:
 * several --model values, --snapshots DIR, --top-k from a store, --beam, and
 * bad input (mismatched vocabularies, bad widths) exiting 2 with a message. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define DATA "synthetic:reversal:n=800,len=5"

static void train(const char *dir, const char *name, const char *data, int seed, const char *extra)
{
    char args[16384], *err = NULL;
    snprintf(args, sizeof args,
             "train --data %s --model gpt:layers=1,d=32,heads=2 --budget 60k --schedule cosine:lr=3e-3,warmup=5k "
             "--eval-every 10k --eval-limit 50 --batch 32 --stop none --threads 1 --seed %d --quiet --json "
             "--out %s/%s %s",
             data, seed, dir, name, extra);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 0, "%s", err);
    free(err);
}

static json_t *eval_json(const char *args)
{
    char *out = NULL, *err = NULL;
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s: %s", args, err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "not JSON: %s", out);
    free(out);
    free(err);
    return j;
}

Test(e2e_ensemble, eval_and_predict_with_several_models_and_beams, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char store[8400], args[16384];
    snprintf(store, sizeof store, "%s/s.db", dir);
    char with_store[8400];
    snprintf(with_store, sizeof with_store, "--store %s --snapshots 3", store);
    train(dir, "a", DATA, 1, with_store);
    snprintf(with_store, sizeof with_store, "--store %s", store);
    train(dir, "b", DATA, 2, with_store);

    /* one model: the plain path, and the ensemble path's width 1 agree */
    snprintf(args, sizeof args, "eval --model %s/a/best.safetensors --data " DATA " --json", dir);
    json_t *plain = eval_json(args);
    snprintf(args, sizeof args, "eval --model %s/a/best.safetensors --data " DATA " --json --beam 1 --limit 100000",
             dir);
    json_t *path1 = eval_json(args);
    cr_assert_eq(json_integer_value(json_object_get(path1, "correct")),
                 json_integer_value(json_object_get(plain, "correct")));
    cr_assert_eq(json_integer_value(json_object_get(path1, "members")), 1);

    /* two models (a list after one --model), a beam */
    snprintf(args, sizeof args, "eval --model %s/a/best.safetensors %s/b/best.safetensors --data " DATA
                                " --json --beam 3 --alpha 0",
             dir, dir);
    json_t *two = eval_json(args);
    cr_assert_eq(json_integer_value(json_object_get(two, "members")), 2);
    cr_assert_eq(json_integer_value(json_object_get(two, "beam")), 3);
    cr_assert(json_is_number(json_object_get(two, "decode_s")) && json_is_number(json_object_get(two, "em")));
    /* the run's snapshots, and the store's best two runs */
    snprintf(args, sizeof args, "eval --snapshots %s/a --data " DATA " --json", dir);
    json_t *snaps = eval_json(args);
    cr_assert_geq(json_integer_value(json_object_get(snaps, "members")), 3, "three snapshots at least");
    snprintf(args, sizeof args, "eval --top-k 2 --task " DATA " --store %s --data " DATA " --json", store);
    char *err = NULL;
    int rc = sw_test_cli(args, NULL, &err);
    /* the task key is the dataset's name with its defaults spelled out */
    cr_assert_eq(rc, 2, "%s", err);
    cr_assert(strstr(err, "finished runs of task") != NULL, "%s", err);
    free(err);
    snprintf(args, sizeof args, "runs ls --store %s --json", store);
    char *out = NULL;
    cr_assert_eq(sw_test_cli(args, &out, NULL), 0);
    json_t *ls = json_loads(out, 0, NULL);
    free(out);
    cr_assert_not_null(ls);
    json_t *runs = json_is_array(ls) ? ls : json_object_get(ls, "runs");
    cr_assert(json_array_size(runs) == 2, "two runs in the store");
    const char *task = json_string_value(json_object_get(json_array_get(runs, 0), "task"));
    cr_assert_not_null(task);
    snprintf(args, sizeof args, "eval --top-k 2 --task '%s' --store %s --data " DATA " --json", task, store);
    json_t *top = eval_json(args);
    cr_assert_eq(json_integer_value(json_object_get(top, "members")), 2);

    /* predict: an ensemble with a beam answers every line */
    char words[8400];
    snprintf(words, sizeof words, "%s", sw_test_write(dir, "w.txt", "abcde\nedcba\nab\n"));
    snprintf(args, sizeof args, "predict --model %s/a/best.safetensors --model %s/b/best.safetensors --beam 4 < %s",
             dir, dir, words);
    err = NULL;
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    int lines = 0;
    for (const char *p = out; *p; p++) lines += *p == '\n';
    cr_assert_eq(lines, 3, "%s", out);
    free(out);
    free(err);
    json_decref(plain);
    json_decref(path1);
    json_decref(two);
    json_decref(snaps);
    json_decref(ls);
    json_decref(top);
}

Test(e2e_ensemble, bad_input_exits_2, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    train(dir, "a", DATA, 1, "--no-store");
    train(dir, "v", "synthetic:reversal:n=800,len=5,alphabet=6", 1, "--no-store");
    char args[16384], *err = NULL;
    const char *cmds[] = {"eval --data " DATA, "predict"};
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "%s --model %s/a/best.safetensors %s/v/best.safetensors < /dev/null", cmds[i], dir,
                 dir);
        cr_assert_eq(sw_test_cli(args, NULL, &err), 2, "%s", cmds[i]);
        cr_assert(strstr(err, "do not share their vocabulary") && strstr(err, "v/best.safetensors"), "%s", err);
        free(err);
    }
    const char *bad[] = {"--beam 0", "--alpha -1", "--top-k 2", "--snapshots /nonexistent/run"};
    for (int i = 0; i < 4; i++) {
        snprintf(args, sizeof args, "eval --model %s/a/best.safetensors --data " DATA " %s", dir, bad[i]);
        cr_assert_eq(sw_test_cli(args, NULL, &err), 2, "%s", bad[i]);
        cr_assert(strstr(err, "stopwise eval:") != NULL, "%s: %s", bad[i], err);
        free(err);
    }
    cr_assert_eq(sw_test_cli("eval --data " DATA, NULL, &err), 2);
    cr_assert(strstr(err, "--model CKPT") != NULL, "%s", err);
    free(err);
}
