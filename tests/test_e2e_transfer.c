/* stopwise train --init / --freeze end to end (docs/TRANSFER.md): the help
 * names the flags and the tensor names, bad input exits 2 with a message
 * that says what was expected, a changed label set trains, and the store
 * records the init checkpoint by path and SHA-256 with the freeze spec. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "support.h"

#define SEQ "synthetic:copy:n=300,len=4,alphabet=5"
#define QUICK "--budget 6k --eval-every 2k --eval-limit 20 --batch 16 --stop none --threads 1 --quiet"

/* A small source run on SEQ; returns its folder (static). */
static const char *source(const char *dir)
{
    static char run[8400];
    char args[16384], *err = NULL;
    snprintf(run, sizeof run, "%s/src", dir);
    snprintf(args, sizeof args, "train --data " SEQ " --model gpt:layers=1,d=16,heads=2 " QUICK " --no-store --out %s",
             run);
    int rc = sw_test_cli(args, NULL, &err);
    cr_assert_eq(rc, 0, "source run failed: %s", err);
    free(err);
    return run;
}

Test(e2e_transfer, help_names_the_flags_and_the_tensor_names)
{
    char *out = NULL;
    cr_assert_eq(sw_test_cli("train --help", &out, NULL), 0);
    cr_assert(strstr(out, "--init CKPT"), "%s", out);
    cr_assert(strstr(out, "--freeze PATTERN[@TOKENS],..."), "%s", out);
    cr_assert(strstr(out, "h.L.attn.qkv.w"), "the help lists how tensor names look");
    cr_assert(strstr(out, "fc.I.w|b"), "and the mlp's");
    free(out);
}

Test(e2e_transfer, another_architecture_exits_2_naming_the_tensor, .timeout = 120)
{
    const char *dir = sw_test_tmpdir();
    const char *src = source(dir);
    char args[16384], *err = NULL;
    snprintf(args, sizeof args,
             "train --data " SEQ " --init %s/best.safetensors --model gpt:layers=2,d=16,heads=2 " QUICK
             " --no-store --out %s/deeper",
             src, dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2, "%s", err);
    cr_assert(strstr(err, "tensor 'h.1.ln1.w' (16) of the model is not in the checkpoint"), "%s", err);
    cr_assert(strstr(err, "another architecture"), "%s", err);
    free(err);
    /* a classification task cannot start from a sequence checkpoint */
    snprintf(args, sizeof args, "train --data csv:%s/small.csv --init %s/best.safetensors " QUICK " --no-store --out %s/k",
             STOPWISE_TEST_DATA, src, dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2, "%s", err);
    cr_assert(strstr(err, "a gpt checkpoint (sequence task) cannot start a model for"), "%s", err);
    free(err);
    /* no such file */
    snprintf(args, sizeof args, "train --data " SEQ " --init %s/none.safetensors " QUICK " --no-store --out %s/n", dir,
             dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2, "%s", err);
    cr_assert(strstr(err, "none.safetensors"), "%s", err);
    free(err);
}

Test(e2e_transfer, a_freeze_that_matches_nothing_exits_2_listing_the_names, .timeout = 120)
{
    const char *dir = sw_test_tmpdir();
    char args[16384], *err = NULL;
    snprintf(args, sizeof args,
             "train --data " SEQ " --model gpt:layers=1,d=16,heads=2 --freeze 'layer.0.*' " QUICK " --no-store --out %s/r",
             dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2, "%s", err);
    cr_assert(strstr(err, "pattern 'layer.0.*' matches no tensor"), "%s", err);
    cr_assert(strstr(err, "h.N.attn.qkv.w"), "%s", err);
    free(err);
    snprintf(args, sizeof args,
             "train --data " SEQ " --model gpt:layers=1,d=16,heads=2 --freeze 'wte@later' " QUICK " --no-store --out %s/r",
             dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 2, "%s", err);
    cr_assert(strstr(err, "unfreeze point must be a positive token count"), "%s", err);
    free(err);
}

/* A classifier's label set grows and loses a class; the warm start maps the
 * output layer by name, and the store has the init checkpoint and the freeze. */
Test(e2e_transfer, a_changed_label_set_trains_and_the_store_records_the_init, .timeout = 180)
{
    const char *dir = sw_test_tmpdir();
    char a[8400], b[8400], text[8192], args[16384], *out = NULL, *err = NULL;
    /* two features separate the classes; b drops "c" and adds "d" and "e" */
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "x,y,label\n");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%d,%d,%s\n", i % 3, (i * 7) % 5, i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c");
    snprintf(a, sizeof a, "%s", sw_test_write(dir, "a.csv", text));
    n = (size_t)snprintf(text, sizeof text, "x,y,label\n");
    for (int i = 0; i < 80; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%d,%d,%s\n", i % 4, (i * 7) % 5,
                              i % 4 == 0 ? "a" : i % 4 == 1 ? "b" : i % 4 == 2 ? "d" : "e");
    snprintf(b, sizeof b, "%s", sw_test_write(dir, "b.csv", text));
    snprintf(args, sizeof args, "train --data csv:%s --model mlp:hidden=8 " QUICK " --no-store --out %s/a", a, dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 0, "%s", err);
    free(err);
    snprintf(args, sizeof args,
             "train --data csv:%s --init %s/a/best.safetensors --freeze 'fc.0.*@2k' " QUICK
             " --store %s/runs.db --out %s/b --json",
             b, dir, dir, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    free(err);
    json_t *j = parse_json(out);
    free(out);
    const char *ws = json_string_value(json_object_get(j, "warm_start"));
    cr_assert_not_null(ws);
    cr_assert(strstr(ws, "classes 2 kept, 2 new (fresh rows), 1 dropped"), "%s", ws);
    cr_assert(strstr(json_string_value(json_object_get(j, "model")), "classes=4"), "the output grew to 4 classes");
    json_int_t id = json_integer_value(json_object_get(j, "run_id"));
    json_decref(j);

    char sha[128] = "", cmd[9000];
    snprintf(cmd, sizeof cmd, "sha256sum %s/a/best.safetensors | cut -c1-64", dir);
    cr_assert_eq(sw_test_sh(cmd, &out, NULL), 0);
    snprintf(sha, sizeof sha, "%.64s", out);
    free(out);
    snprintf(args, sizeof args, "runs show %lld --store %s/runs.db --json", (long long)id, dir);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    free(err);
    j = parse_json(out);
    free(out);
    json_t *cfg = json_object_get(json_object_get(j, "run"), "config");
    if (!cfg) cfg = json_object_get(j, "config");
    cr_assert(json_is_object(cfg), "runs show --json has the run's config");
    cr_assert_str_eq(json_string_value(json_object_get(cfg, "init_sha256")), sha);
    cr_assert(strstr(json_string_value(json_object_get(cfg, "init")), "/a/best.safetensors"));
    cr_assert_str_eq(json_string_value(json_object_get(cfg, "freeze")), "fc.0.*@2k");
    json_decref(j);
}
