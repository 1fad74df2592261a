/* train/: ensembles of checkpoints and beam search on real (small, trained)
 * checkpoints: beam width 1 through the ensemble path is the greedy
 * evaluation and prediction exactly; a checkpoint twice is the checkpoint;
 * members that do not share a vocabulary, labels or split are refused;
 * train --snapshots keeps its snapshots at the multiples of budget/K, the
 * same ones after a resume; the store gives a task's best runs by validation
 * EM. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stopwise/store.h"
#include "stopwise/train.h"
#include "support.h"

#define DATA "synthetic:reversal:n=800,len=5"
enum { BUDGET = 60000 };

/* The options of every run here: a tiny gpt on `data`, written to `out`. */
static sw_train_options tiny_run(const char *data, const char *out)
{
    sw_train_options o = sw_train_default_options();
    o.data = data;
    o.model = "gpt:layers=1,d=32,heads=2";
    o.schedule = "cosine:lr=3e-3,warmup=5k,min=0.1";
    o.budget = BUDGET;
    o.eval_every = 10000;
    o.eval_limit = 50;
    o.batch = 32;
    o.out_dir = out;
    sw_threads_set(1); /* the host sets threads once (nn.h) */
    return o;
}

/* Trains a tiny gpt into dir/name; returns the path of its best checkpoint. */
static const char *train(const char *dir, const char *name, const char *data, uint64_t seed, uint64_t data_seed,
                         int snapshots, const char *store)
{
    static char path[8400];
    char out[8400];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    sw_train_options o = tiny_run(data, out);
    o.seed = seed;
    o.data_opt.seed = data_seed;
    o.snapshots = snapshots;
    o.store = store;
    sw_train_result res;
    sw_error err;
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/best.safetensors", out);
    return path;
}

static sw_ensemble *open_paths(const char *const *paths, int n)
{
    sw_ensemble *e;
    sw_error err;
    cr_assert_eq(sw_ensemble_open(paths, n, &e, &err), SW_OK, "%s", err.msg);
    return e;
}

static void eval_ensemble(sw_ensemble *e, const char *data, int beam, size_t limit, sw_eval_result *r)
{
    sw_dataset *ds;
    sw_error err;
    cr_assert_eq(sw_ensemble_load_data(e, data, NULL, &ds, &err), SW_OK, "%s", err.msg);
    sw_decode_params dec = sw_decode_default_params();
    dec.beam = beam;
    double decode_s = -1, cpu_s = -1;
    cr_assert_eq(sw_ensemble_evaluate(e, ds, SW_SPLIT_TEST, limit, &dec, r, &decode_s, &cpu_s, &err), SW_OK, "%s",
                 err.msg);
    cr_assert(decode_s >= 0 && cpu_s >= 0);
    sw_dataset_free(ds);
}

Test(train_ensemble, beam_one_is_greedy_on_a_trained_checkpoint, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char a[8400];
    snprintf(a, sizeof a, "%s", train(dir, "a", DATA, 1, 1, 0, NULL));
    sw_eval_result want, got;
    sw_error err;
    cr_assert_eq(sw_evaluate_checkpoint(a, DATA, NULL, SW_SPLIT_TEST, &want, &err), SW_OK, "%s", err.msg);
    cr_assert(want.em > 0 && want.em < 100, "EM %.1f: a checkpoint neither hopeless nor perfect tests more", want.em);
    const char *paths[2] = {a, a};
    sw_ensemble *e = open_paths(paths, 1);
    eval_ensemble(e, DATA, 1, 0, &got);
    cr_assert_eq(got.n, want.n);
    cr_assert_eq(got.correct, want.correct, "ensemble path %zu right, greedy %zu", got.correct, want.correct);
    cr_assert_float_eq(got.per, want.per, 1e-9);
    cr_assert_float_eq(got.loss, want.loss, 1e-4, "loss %g against %g", got.loss, want.loss);

    /* predict: the same answers as sw_predictor, line for line */
    const char *lines[] = {"abcde", "edcba", "aaaa", "bcdab", "e", "cadeb"};
    enum { N = 6 };
    char *greedy[N], *beam1[N];
    sw_predictor *p;
    cr_assert_eq(sw_predictor_open(a, &p, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_predictor_run(p, lines, N, 1, greedy, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_ensemble_predict(e, NULL, lines, N, 1, beam1, &err), SW_OK, "%s", err.msg);
    for (int i = 0; i < N; i++) {
        cr_assert_str_eq(beam1[i], greedy[i], "line %d", i);
        free(greedy[i]);
        free(beam1[i]);
    }
    sw_predictor_free(p);
    sw_ensemble_free(e);

    /* a checkpoint twice is the checkpoint: the mean of two equal distributions */
    e = open_paths(paths, 2);
    sw_eval_result twice;
    eval_ensemble(e, DATA, 1, 0, &twice);
    cr_assert_eq(twice.correct, want.correct);
    cr_assert_float_eq(twice.loss, got.loss, 1e-9);
    /* a sample: the same examples every time, a subset of the split */
    sw_eval_result s1, s4;
    eval_ensemble(e, DATA, 1, 30, &s1);
    cr_assert_eq(s1.n, 30);
    eval_ensemble(e, DATA, 4, 30, &s4);
    cr_assert_float_eq(s4.loss, s1.loss, 1e-12, "the loss does not depend on decoding: the same sample");
    sw_ensemble_free(e);
}

Test(train_ensemble, members_must_share_vocabulary_labels_and_split, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char a[8400], other_vocab[8400], other_split[8400], csv[8400], classifier[8400];
    snprintf(a, sizeof a, "%s", train(dir, "a", DATA, 1, 1, 0, NULL));
    /* alphabet 6: one input and one target symbol more */
    snprintf(other_vocab, sizeof other_vocab, "%s",
             train(dir, "v", "synthetic:reversal:n=800,len=5,alphabet=6", 1, 1, 0, NULL));
    snprintf(other_split, sizeof other_split, "%s", train(dir, "s", DATA, 2, 7, 0, NULL));
    snprintf(csv, sizeof csv, "csv:%s/small.csv", STOPWISE_TEST_DATA);
    sw_train_options o = sw_train_default_options();
    char out[8400];
    snprintf(out, sizeof out, "%s/c", dir);
    o.data = csv;
    o.budget = 2000;
    o.out_dir = out;
    sw_train_result res;
    sw_error err;
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    snprintf(classifier, sizeof classifier, "%s/best.safetensors", out);

    sw_ensemble *e;
    const char *vocab_pair[2] = {a, other_vocab};
    cr_assert_eq(sw_ensemble_open(vocab_pair, 2, &e, &err), SW_ERR_INVALID);
    cr_assert_null(e);
    cr_assert(strstr(err.msg, "vocabulary") && strstr(err.msg, other_vocab), "%s", err.msg);
    const char *kind_pair[2] = {a, classifier};
    cr_assert_eq(sw_ensemble_open(kind_pair, 2, &e, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "classifier") != NULL, "%s", err.msg);
    /* another split opens (predict needs no split) but does not evaluate */
    const char *split_pair[2] = {a, other_split};
    e = open_paths(split_pair, 2);
    sw_dataset *ds;
    cr_assert_eq(sw_ensemble_load_data(e, DATA, NULL, &ds, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "data seed 1 and 7") != NULL, "%s", err.msg);
    sw_ensemble_free(e);
    /* a classifier ensemble evaluates: two members of one run */
    char last[8400];
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    const char *cls_pair[2] = {classifier, last};
    e = open_paths(cls_pair, 2);
    cr_assert_eq(sw_ensemble_load_data(e, csv, NULL, &ds, &err), SW_OK, "%s", err.msg);
    sw_eval_result r;
    cr_assert_eq(sw_ensemble_evaluate(e, ds, SW_SPLIT_TEST, 0, NULL, &r, NULL, NULL, &err), SW_OK, "%s", err.msg);
    cr_assert_gt(r.n, 0);
    cr_assert(r.per == -1 && isfinite(r.loss));
    sw_dataset_free(ds);
    sw_ensemble_free(e);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

Test(train_ensemble, snapshots_and_the_store_s_best_runs, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char store[8400];
    snprintf(store, sizeof store, "%s/s.db", dir);
    train(dir, "snap", DATA, 1, 1, 3, store);
    train(dir, "b", DATA, 2, 1, 0, store);
    train(dir, "c", DATA, 3, 1, 0, store);

    /* three snapshots, each just past a multiple of budget/3 */
    char run[8400];
    snprintf(run, sizeof run, "%s/snap", dir);
    char **paths;
    int n;
    sw_error err;
    cr_assert_eq(sw_ensemble_snapshots(run, &paths, &n, &err), SW_OK, "%s", err.msg);
    int snaps = 0;
    uint64_t prev = 0;
    for (int i = 0; i < n; i++) {
        const char *base = strrchr(paths[i], '/') + 1;
        unsigned long long t;
        if (sscanf(base, "snapshot-%llu.safetensors", &t) != 1) continue;
        snaps++;
        uint64_t boundary = (uint64_t)snaps * BUDGET / 3;
        cr_assert(t >= boundary && t < boundary + 32 * 6, "snapshot %d at %llu tokens, boundary %llu", snaps, t,
                  (unsigned long long)boundary);
        cr_assert_gt(t, prev, "in token order");
        prev = t;
    }
    cr_assert_eq(snaps, 3);
    /* the last snapshot is the final weights: last.safetensors is left out */
    for (int i = 0; i < n; i++) cr_assert_null(strstr(paths[i], "last.safetensors"), "%s repeats a snapshot", paths[i]);
    sw_ensemble *e = open_paths((const char *const *)paths, n);
    cr_assert_eq(sw_ensemble_size(e), n);
    sw_ensemble_free(e);
    sw_paths_free(paths, n);
    char missing[8400];
    snprintf(missing, sizeof missing, "%s/none", dir);
    cr_assert_eq(sw_ensemble_snapshots(missing, &paths, &n, &err), SW_ERR_NOT_FOUND);

    /* the store's best two runs by validation EM */
    cr_assert_eq(sw_ensemble_top_runs(store, "no-such-task", 1, &paths, &n, &err), SW_ERR_NOT_FOUND);
    sw_store *s;
    cr_assert_eq(sw_store_open(store, &s, &err), SW_OK, "%s", err.msg);
    sw_store_run *runs;
    size_t n_runs;
    cr_assert_eq(sw_store_runs_list(s, NULL, &runs, &n_runs), SW_OK);
    cr_assert_eq(n_runs, 3);
    /* the expected order, by hand: validation EM, then best EM, then the newer run */
    int order[3] = {0, 1, 2};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) {
            const sw_store_run *x = &runs[order[i]], *y = &runs[order[j]];
            int y_first = y->val_em > x->val_em ||
                          (y->val_em == x->val_em && (y->best_em > x->best_em ||
                                                      (y->best_em == x->best_em && y->id > x->id)));
            if (y_first) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
    char want[2][4200], task[256];
    snprintf(task, sizeof task, "%s", runs[0].task);
    for (int i = 0; i < 2; i++) {
        sw_store_artifact *a;
        size_t na;
        cr_assert_eq(sw_store_artifacts_list(s, runs[order[i]].id, &a, &na), SW_OK);
        cr_assert_geq(na, 1);
        snprintf(want[i], sizeof want[i], "%s", a[na - 1].path);
        sw_store_artifact_list_free(a, na);
    }
    sw_store_run_list_free(runs, n_runs);
    sw_store_close(s);
    cr_assert_eq(sw_ensemble_top_runs(store, task, 2, &paths, &n, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    for (int i = 0; i < 2; i++) {
        cr_assert(file_exists(paths[i]), "%s", paths[i]);
        cr_assert_str_eq(paths[i], want[i], "member %d", i);
    }
    sw_paths_free(paths, n);
    cr_assert_eq(sw_ensemble_top_runs(store, task, 4, &paths, &n, &err), SW_ERR_NOT_FOUND);
    cr_assert(strstr(err.msg, "3 finished runs") != NULL, "%s", err.msg);
}

/* The snapshot names of a run folder, sorted, joined by spaces. */
static void snapshot_list(const char *run, char *buf, size_t len)
{
    char **paths;
    int n;
    sw_error err;
    cr_assert_eq(sw_ensemble_snapshots(run, &paths, &n, &err), SW_OK, "%s", err.msg);
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        const char *base = strrchr(paths[i], '/') + 1;
        if (strncmp(base, "snapshot-", 9)) continue;
        strncat(buf, base, len - strlen(buf) - 2);
        strcat(buf, " ");
    }
    sw_paths_free(paths, n);
}

/* A run interrupted and resumed keeps the snapshots of a run never
 * interrupted: the same tokens, the same weights bit for bit. */
Test(train_ensemble, snapshots_survive_a_resume, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    char whole[8400], parts[8400];
    snprintf(whole, sizeof whole, "%s/whole", dir);
    snprintf(parts, sizeof parts, "%s/parts", dir);
    for (int pass = 0; pass < 3; pass++) {
        sw_train_options o = tiny_run(DATA, pass == 0 ? whole : parts);
        o.snapshots = 4;
        if (pass == 1) o.stop_after = 25000; /* between the first and the second snapshot */
        if (pass == 2) o.resume = 1;
        sw_train_result res;
        sw_error err;
        cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "pass %d: %s", pass, err.msg);
    }
    char a[4096], b[4096];
    snapshot_list(whole, a, sizeof a);
    snapshot_list(parts, b, sizeof b);
    cr_assert_str_eq(a, b);
    int count = 0;
    for (const char *p = a; (p = strstr(p, "snapshot-")); p++) count++;
    cr_assert_eq(count, 4, "%s", a);
    /* bit for bit */
    for (char *name = strtok(a, " "); name; name = strtok(NULL, " ")) {
        char pa[8400], pb[8400];
        snprintf(pa, sizeof pa, "%s/%s", whole, name);
        snprintf(pb, sizeof pb, "%s/%s", parts, name);
        sw_checkpoint ca, cb;
        sw_error err;
        cr_assert_eq(sw_checkpoint_load(pa, &ca, &err), SW_OK, "%s", err.msg);
        cr_assert_eq(sw_checkpoint_load(pb, &cb, &err), SW_OK, "%s", err.msg);
        size_t n = sw_model_num_params(ca.model);
        cr_assert_eq(n, sw_model_num_params(cb.model));
        cr_assert_eq(memcmp(sw_model_params(ca.model), sw_model_params(cb.model), sizeof(float) * n), 0, "%s", name);
        sw_checkpoint_free(&ca);
        sw_checkpoint_free(&cb);
    }
}
