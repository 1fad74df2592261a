/* Where an ensemble's members come from (docs/ENSEMBLES.md): the checkpoints
 * one run saved (a snapshot ensemble), or the best runs of a task recorded
 * in the store. */
#include "train/ensemble.h"

#include "stopwise/store.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sw_paths_free(char **paths, int n)
{
    if (!paths) return;
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

static sw_status add_path(char ***paths, int *n, size_t *cap, const char *dir, const char *name, sw_error *err)
{
    if (SW_ARRAY_RESERVE(*paths, *cap, (size_t)*n + 1)) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (!p) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    if (dir[0]) snprintf(p, len, "%s/%s", dir, name);
    else snprintf(p, len, "%s", name);
    (*paths)[(*n)++] = p;
    return SW_OK;
}

/* ---- snapshots of one run ---- */

typedef struct snapshot_file {
    uint64_t tokens;
    char name[256];
} snapshot_file;

static int by_tokens(const void *a, const void *b)
{
    const snapshot_file *x = a, *y = b;
    if (x->tokens != y->tokens) return x->tokens < y->tokens ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* "snapshot-<tokens>.safetensors" (train --snapshots): 1 and the tokens. */
static int snapshot_name(const char *name, uint64_t *tokens)
{
    const char *prefix = "snapshot-", *suffix = ".safetensors";
    size_t n = strlen(name), np = strlen(prefix), ns = strlen(suffix);
    if (n <= np + ns || strncmp(name, prefix, np) || strcmp(name + n - ns, suffix)) return 0;
    uint64_t v = 0;
    for (const char *p = name + np; p < name + n - ns; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10) return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *tokens = v;
    return 1;
}

/* 1 when the checkpoint at paths[i] holds the same weights as an earlier one. */
static sw_status is_repeat(char **paths, int i, int *repeat, sw_error *err)
{
    *repeat = 0;
    sw_checkpoint a;
    sw_status st = sw_checkpoint_load(paths[i], &a, err);
    if (st) return st;
    for (int j = 0; j < i && !*repeat; j++) {
        sw_checkpoint b;
        if (!paths[j]) continue;
        if ((st = sw_checkpoint_load(paths[j], &b, err))) break;
        size_t n = sw_model_num_params(a.model);
        *repeat = n == sw_model_num_params(b.model) &&
                  !memcmp(sw_model_params(a.model), sw_model_params(b.model), sizeof(float) * n);
        sw_checkpoint_free(&b);
    }
    sw_checkpoint_free(&a);
    return st;
}

sw_status sw_ensemble_snapshots(const char *run_dir, char ***paths, int *n, sw_error *err)
{
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(run_dir);
    if (!d) return sw_error_set(err, errno == ENOENT ? SW_ERR_NOT_FOUND : SW_ERR_IO, "%s: %s", run_dir, strerror(errno));
    snapshot_file *snaps = NULL;
    size_t n_snaps = 0, cap_snaps = 0, cap = 0;
    int best = 0, last = 0;
    sw_status st = SW_OK;
    struct dirent *ent;
    while (!st && (ent = readdir(d))) {
        uint64_t tokens;
        if (!strcmp(ent->d_name, "best.safetensors")) best = 1;
        else if (!strcmp(ent->d_name, "last.safetensors")) last = 1;
        else if (snapshot_name(ent->d_name, &tokens) && strlen(ent->d_name) < sizeof snaps->name) {
            if (SW_ARRAY_RESERVE(snaps, cap_snaps, n_snaps + 1)) {
                st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
                break;
            }
            snaps[n_snaps].tokens = tokens;
            snprintf(snaps[n_snaps++].name, sizeof snaps->name, "%s", ent->d_name);
        }
    }
    closedir(d);
    if (n_snaps) qsort(snaps, n_snaps, sizeof *snaps, by_tokens);
    char **all = NULL;
    int n_all = 0;
    for (size_t i = 0; !st && i < n_snaps; i++) st = add_path(&all, &n_all, &cap, run_dir, snaps[i].name, err);
    if (!st && best) st = add_path(&all, &n_all, &cap, run_dir, "best.safetensors", err);
    if (!st && last) st = add_path(&all, &n_all, &cap, run_dir, "last.safetensors", err);
    free(snaps);
    if (!st && n_all == 0)
        st = sw_error_set(err, SW_ERR_NOT_FOUND, "%s: no checkpoints (snapshot-*.safetensors, best.safetensors, "
                          "last.safetensors)", run_dir);
    /* best and last may be a snapshot again (or each other); snapshots are
     * the weights of distinct steps */
    int kept = 0;
    for (int i = 0; !st && i < n_all; i++) {
        int repeat = 0;
        if ((size_t)i >= n_snaps && (st = is_repeat(all, i, &repeat, err))) break;
        if (repeat) {
            free(all[i]);
            all[i] = NULL;
        } else {
            kept++;
        }
    }
    if (st) {
        sw_paths_free(all, n_all);
        return st;
    }
    int k = 0;
    for (int i = 0; i < n_all; i++)
        if (all[i]) all[k++] = all[i];
    *paths = all;
    *n = kept;
    return SW_OK;
}

/* ---- the best runs of a task ---- */

typedef struct ranked_run {
    double val_em, best_em;
    int64_t id;
    char *checkpoint;
} ranked_run;

static int by_rank(const void *a, const void *b)
{
    const ranked_run *x = a, *y = b;
    if (x->val_em != y->val_em) return x->val_em > y->val_em ? -1 : 1;
    if (x->best_em != y->best_em) return x->best_em > y->best_em ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id;
}

/* The run's checkpoint artifact (the latest recorded) if the file is still there. */
static sw_status checkpoint_of(sw_store *s, int64_t run_id, char **path, sw_error *err)
{
    *path = NULL;
    sw_store_artifact *a;
    size_t n;
    if (sw_store_artifacts_list(s, run_id, &a, &n))
        return sw_error_set(err, SW_ERR_IO, "%s: %s", sw_store_location(s), sw_store_errmsg(s));
    for (size_t i = n; i-- > 0;)
        if (!strcmp(a[i].kind, "checkpoint") && access(a[i].path, R_OK) == 0) {
            *path = strdup(a[i].path);
            break;
        }
    sw_store_artifact_list_free(a, n);
    return SW_OK;
}

sw_status sw_ensemble_top_runs(const char *store, const char *task, int k, char ***paths, int *n, sw_error *err)
{
    *paths = NULL;
    *n = 0;
    if (k < 1 || k > SW_ENSEMBLE_MAX)
        return sw_error_set(err, SW_ERR_INVALID, "top %d runs: expected 1..%d", k, SW_ENSEMBLE_MAX);
    sw_store_options so;
    sw_store_options_default(&so);
    so.create = 0;
    sw_store *s;
    sw_status st = sw_store_open_with(store, &so, &s, err);
    if (st) return st;
    sw_store_run_filter f = {.task = task, .branches = -1};
    sw_store_run *runs = NULL;
    size_t n_runs = 0, n_ranked = 0;
    ranked_run *ranked = NULL;
    if (sw_store_runs_list(s, &f, &runs, &n_runs)) {
        st = sw_error_set(err, SW_ERR_IO, "%s: %s", sw_store_location(s), sw_store_errmsg(s));
        goto done;
    }
    ranked = calloc(n_runs ? n_runs : 1, sizeof *ranked);
    if (!ranked) {
        st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_runs; i++) {
        const sw_store_run *r = &runs[i];
        if ((r->status != SW_RUN_COMPLETED && r->status != SW_RUN_STOPPED) || !isfinite(r->val_em)) continue;
        char *path;
        if ((st = checkpoint_of(s, r->id, &path, err))) goto done;
        if (!path) continue;
        ranked[n_ranked++] = (ranked_run){.val_em = r->val_em, .best_em = isfinite(r->best_em) ? r->best_em : -1,
                                          .id = r->id, .checkpoint = path};
    }
    if (n_ranked < (size_t)k) {
        st = sw_error_set(err, SW_ERR_NOT_FOUND,
                          "%s: %zu finished runs of task '%s' have a checkpoint on disk; %d were asked for",
                          sw_store_location(s), n_ranked, task, k);
        goto done;
    }
    qsort(ranked, n_ranked, sizeof *ranked, by_rank);
    *paths = calloc((size_t)k, sizeof **paths);
    if (!*paths) {
        st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < k; i++) {
        (*paths)[i] = ranked[i].checkpoint;
        ranked[i].checkpoint = NULL;
    }
    *n = k;
done:
    for (size_t i = 0; ranked && i < n_ranked; i++) free(ranked[i].checkpoint);
    free(ranked);
    sw_store_run_list_free(runs, n_runs);
    sw_store_close(s);
    return st;
}
