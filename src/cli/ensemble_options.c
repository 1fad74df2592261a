/* Gathering an ensemble's members and the decoding from eval's and
 * predict's options; the library finds and checks them (train.h). */
#include "cli/ensemble_options.h"

#include "stopwise/train.h"

#include <stdlib.h>
#include <string.h>

static int append(char ***paths, int *n, size_t *cap, char **more, int n_more, const char *cmd)
{
    if (*n + n_more > SW_ENSEMBLE_MAX) {
        sw_paths_free(more, n_more);
        return sw_cli_fail(cmd, 2, "%d checkpoints: an ensemble takes at most %d", *n + n_more, SW_ENSEMBLE_MAX);
    }
    if (SW_ARRAY_RESERVE(*paths, *cap, (size_t)(*n + n_more) + 1)) {
        sw_paths_free(more, n_more);
        return sw_cli_fail(cmd, 1, "out of memory");
    }
    for (int i = 0; i < n_more; i++) (*paths)[(*n)++] = more[i];
    free(more);
    return -1;
}

int sw_cli_ensemble_members(const sw_cli_args *a, const char *cmd, char ***paths, int *n, sw_decode_params *dec)
{
    *paths = NULL;
    *n = 0;
    *dec = sw_decode_default_params();
    long long beam = sw_cli_int(a, "beam");
    double alpha = sw_cli_double(a, "alpha");
    if (beam < 1 || beam > 4096) return sw_cli_fail(cmd, 2, "--beam must be 1..4096, not %lld", beam);
    if (!(alpha >= 0 && alpha <= 10)) return sw_cli_fail(cmd, 2, "--alpha must be 0..10, not %s", sw_cli_str(a, "alpha"));
    dec->beam = (int)beam;
    dec->alpha = alpha;
    size_t cap = 0;
    int rc = -1;
    const char **models;
    int n_models = sw_cli_multi(a, "model", &models);
    if (n_models > SW_ENSEMBLE_MAX)
        return sw_cli_fail(cmd, 2, "%d checkpoints: an ensemble takes at most %d", n_models, SW_ENSEMBLE_MAX);
    if (n_models) {
        char **copy = calloc((size_t)n_models, sizeof *copy);
        for (int i = 0; copy && i < n_models; i++)
            if (!(copy[i] = strdup(models[i]))) {
                sw_paths_free(copy, i);
                copy = NULL;
            }
        if (!copy) return sw_cli_fail(cmd, 1, "out of memory");
        rc = append(paths, n, &cap, copy, n_models, cmd);
    }
    sw_error err;
    if (rc < 0 && sw_cli_given(a, "snapshots")) {
        char **more;
        int n_more;
        sw_status st = sw_ensemble_snapshots(sw_cli_str(a, "snapshots"), &more, &n_more, &err);
        rc = st ? sw_cli_fail(cmd, sw_status_exit_code(st), "--snapshots: %s", err.msg)
                : append(paths, n, &cap, more, n_more, cmd);
    }
    if (rc < 0 && (sw_cli_given(a, "top-k") || sw_cli_given(a, "task"))) {
        long long k = sw_cli_int(a, "top-k");
        const char *task = sw_cli_str(a, "task");
        const char *store = sw_cli_given(a, "store") ? sw_cli_str(a, "store") : getenv("STOPWISE_STORE");
        if (!store || !store[0]) store = "stopwise.db";
        if (!sw_cli_given(a, "top-k") || !task) {
            rc = sw_cli_fail(cmd, 2, "--top-k K and --task NAME go together");
        } else if (k < 1 || k > SW_ENSEMBLE_MAX) {
            rc = sw_cli_fail(cmd, 2, "--top-k must be 1..%d, not %lld", SW_ENSEMBLE_MAX, k);
        } else {
            char **more;
            int n_more;
            sw_status st = sw_ensemble_top_runs(store, task, (int)k, &more, &n_more, &err);
            rc = st ? sw_cli_fail(cmd, sw_status_exit_code(st), "--top-k: %s", err.msg)
                    : append(paths, n, &cap, more, n_more, cmd);
        }
    }
    if (rc < 0 && *n == 0) rc = sw_cli_fail(cmd, 2, "name a checkpoint: --model CKPT, --snapshots DIR or --top-k K");
    if (rc >= 0) {
        sw_paths_free(*paths, *n);
        *paths = NULL;
        *n = 0;
    }
    return rc;
}

int sw_cli_ensemble_is_single(int n, const sw_decode_params *dec) { return n == 1 && dec->beam == 1; }
