/* stopwise eval: evaluates a checkpoint, or an ensemble of them, on a split
 * of a dataset. */
#include "cli/commands.h"
#include "cli/ensemble_options.h"
#include "cli/options.h"
#include "stopwise/train.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sw_cli_option options[] = {
    SW_CLI_ENSEMBLE_OPTIONS,
    {"data", SW_CLI_STRING, "SPEC", NULL, "the dataset, as given to train"},
    {"split", SW_CLI_STRING, "NAME", "test", "train, val or test"},
    {"limit", SW_CLI_INT, "N", "0",
     "evaluate a fixed seeded sample of N examples of the split, the same for any\n"
     "ensemble and --beam (0: the whole split)"},
    {"json", SW_CLI_FLAG, NULL, NULL,
     "print one JSON object on stdout: em, n, per (sequences), loss; with an ensemble,\n"
     "--beam or --limit also members, beam, alpha, decode_s, decode_cpu_s, eval_s"},
};

static const sw_cli_command command = {
    .name = "eval",
    .synopsis = "evaluate a checkpoint or an ensemble: exact match (EM), loss and, for sequences, symbol error rate",
    .usage = "stopwise eval (--model CKPT... | --snapshots DIR | --top-k K --task NAME) --data SPEC [--split test] "
             "[--beam K] [--json]",
    .details = "The dataset is split exactly as it was for training (the checkpoint records the\n"
               "split's seed and fractions) and encoded with the checkpoint's vocabulary; an\n"
               "ensemble's members must have been split alike (else exit 2).\n"
               "EM: % of examples whose whole answer equals a reference. PER: edit distance to\n"
               "the closest reference over its length, summed over examples, in %. An\n"
               "ensemble's loss is the cross-entropy of its averaged distribution.\n"
               "decode_s, decode_cpu_s: wall and CPU seconds spent answering (the inference\n"
               "cost, loss excluded; CPU time measures the work on a shared machine);\n"
               "eval_s: the whole evaluation. docs/ENSEMBLES.md.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

/* An ensemble, beam search or a sample: the library's ensemble path. */
static int eval_ensemble(char **paths, int n, const sw_decode_params *dec, const char *data, sw_split s,
                         const char *split, size_t limit, int json)
{
    sw_ensemble *e = NULL;
    sw_dataset *ds = NULL;
    sw_eval_result r;
    sw_error err;
    double decode_s = 0, decode_cpu_s = 0, t0 = 0;
    sw_status st = sw_ensemble_open((const char *const *)paths, n, &e, &err);
    if (!st) st = sw_ensemble_load_data(e, data, NULL, &ds, &err);
    if (!st) {
        t0 = sw_now();
        st = sw_ensemble_evaluate(e, ds, s, limit, dec, &r, &decode_s, &decode_cpu_s, &err);
    }
    double eval_s = sw_now() - t0;
    sw_dataset_free(ds);
    sw_ensemble_free(e);
    if (st) return sw_cli_fail("eval", sw_status_exit_code(st), "%s", err.msg);
    if (json) {
        char *text = sw_eval_result_json(&r, split);
        json_t *j = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (!j) return sw_cli_fail("eval", 1, "out of memory writing the result");
        json_object_set_new(j, "members", json_integer(n));
        json_object_set_new(j, "beam", json_integer(dec->beam));
        json_object_set_new(j, "alpha", json_real(dec->alpha));
        json_object_set_new(j, "decode_s", json_real(decode_s));
        json_object_set_new(j, "decode_cpu_s", json_real(decode_cpu_s));
        json_object_set_new(j, "eval_s", json_real(eval_s));
        text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
        json_decref(j);
        if (!text) return sw_cli_fail("eval", 1, "out of memory writing the result");
        puts(text);
        free(text);
        return 0;
    }
    printf("split  %s\nn      %zu\nEM     %.2f\nloss   %.4f\n", split, r.n, r.em, r.loss);
    if (r.per >= 0) printf("PER    %.2f\n", r.per);
    if (r.em_published >= 0) printf("EM     %.2f in the published form (no stress, ax = ah)\n", r.em_published);
    printf("models %d (beam %d, alpha %g)\ntime   %.2f s answering (%.2f s of CPU), %.2f s in all\n", n, dec->beam,
           dec->alpha, decode_s, decode_cpu_s, eval_s);
    return 0;
}

int sw_cmd_eval(int argc, char **argv)
{
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, argv, &a);
    if (rc >= 0) {
        sw_cli_args_free(&a);
        return rc;
    }
    const char *data = sw_cli_str(&a, "data"), *split = sw_cli_str(&a, "split");
    long long limit = sw_cli_int(&a, "limit");
    sw_split s = SW_SPLIT_TEST;
    char **paths = NULL;
    int n = 0;
    sw_decode_params dec;
    if (!data) rc = sw_cli_fail("eval", 2, "--data SPEC is required");
    else if (!strcmp(split, "train")) s = SW_SPLIT_TRAIN;
    else if (!strcmp(split, "val")) s = SW_SPLIT_VAL;
    else if (!strcmp(split, "test")) s = SW_SPLIT_TEST;
    else rc = sw_cli_fail("eval", 2, "--split must be train, val or test, not '%s'", split);
    if (rc < 0 && limit < 0) rc = sw_cli_fail("eval", 2, "--limit must be 0 or more, not %lld", limit);
    if (rc < 0) rc = sw_cli_ensemble_members(&a, "eval", &paths, &n, &dec);
    if (rc < 0 && (!sw_cli_ensemble_is_single(n, &dec) || limit > 0)) {
        rc = eval_ensemble(paths, n, &dec, data, s, split, (size_t)limit, sw_cli_flag(&a, "json"));
    } else if (rc < 0) { /* one checkpoint, greedy, the whole split: as eval always did */
        sw_eval_result r;
        sw_error err;
        sw_status st = sw_evaluate_checkpoint(paths[0], data, NULL, s, &r, &err);
        if (st) {
            rc = sw_cli_fail("eval", sw_status_exit_code(st), "%s", err.msg);
        } else if (sw_cli_flag(&a, "json")) {
            char *text = sw_eval_result_json(&r, split);
            rc = text ? 0 : sw_cli_fail("eval", 1, "out of memory writing the result");
            if (text) puts(text);
            free(text);
        } else {
            printf("split  %s\nn      %zu\nEM     %.2f\nloss   %.4f\n", split, r.n, r.em, r.loss);
            if (r.per >= 0) printf("PER    %.2f\n", r.per);
            if (r.em_published >= 0)
                printf("EM     %.2f in the published form (no stress, ax = ah)\n", r.em_published);
            rc = 0;
        }
    }
    sw_paths_free(paths, n);
    sw_cli_args_free(&a);
    return rc;
}
