/* Datasets: options, the SPEC dispatcher, accessors and freeing. */
#include "data/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sw_data_options sw_data_default_options(void)
{
    sw_data_options o;
    memset(&o, 0, sizeof o);
    o.seed = 1;
    o.val_frac = -1;
    o.test_frac = -1;
    o.csv_header = -1;
    o.synth_n = 20000;
    o.synth_len = 8;
    return o;
}

void sw_dataset_free(sw_dataset *ds)
{
    if (!ds) return;
    free(ds->name);
    for (int s = 0; s < SW_SPLIT_COUNT; s++) free(ds->idx[s]);
    sw_vocab_free(ds->vocab);
    free(ds->ex);
    free(ds->refs);
    free(ds->tok);
    sw_classes_free(ds->classes);
    free(ds->feat);
    free(ds->label);
    free(ds->src);
    free(ds->src_test);
    sw_arena_free(&ds->arena);
    free(ds);
}

/* The festlex-cmu lexicon in the places Debian and source installs put it. */
static const char *const cmudict_paths[] = {
    "/usr/share/festival/dicts/cmu/cmudict-0.4.out",
    "/usr/share/festival/lib/dicts/cmu/cmudict-0.4.out",
    "/usr/local/share/festival/dicts/cmu/cmudict-0.4.out",
    "/usr/local/share/festival/lib/dicts/cmu/cmudict-0.4.out",
    "/usr/lib/festival/dicts/cmu/cmudict-0.4.out",
};
static const char *const fashion_dir = "/usr/share/datasets/fashion-mnist";

static int file_exists(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* DIR/base.gz if present, else DIR/base, into buf. */
static const char *idx_path(const char *dir, const char *base, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.gz", dir, base);
    if (file_exists(buf)) return buf;
    snprintf(buf, len, "%s/%s", dir, base);
    return buf;
}

static sw_status load_spec(sw_dataset *ds, const char *spec, const sw_data_options *opt, sw_error *err)
{
    const char *colon = strchr(spec, ':');
    size_t kw = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *arg = colon ? colon + 1 : NULL;
#define IS(k) (kw == strlen(k) && strncmp(spec, k, kw) == 0)
    if (IS("cmudict")) {
        if (arg && *arg) return sw_load_lexicon(ds, arg, 0, opt, err);
        for (size_t i = 0; i < sizeof cmudict_paths / sizeof *cmudict_paths; i++)
            if (file_exists(cmudict_paths[i])) return sw_load_lexicon(ds, cmudict_paths[i], 1, opt, err);
        return sw_error_set(err, SW_ERR_NOT_FOUND,
                            "%s: cmudict not found (install Debian's festlex-cmu, or give cmudict:PATH)",
                            cmudict_paths[0]);
    }
    if (IS("fashion-mnist")) {
        const char *dir = arg && *arg ? arg : fashion_dir;
        char a[4096], b[4096], c[4096], d[4096];
        sw_status st = sw_load_idx(ds, idx_path(dir, "train-images-idx3-ubyte", a, sizeof a),
                                   idx_path(dir, "train-labels-idx1-ubyte", b, sizeof b),
                                   idx_path(dir, "t10k-images-idx3-ubyte", c, sizeof c),
                                   idx_path(dir, "t10k-labels-idx1-ubyte", d, sizeof d), opt, err);
        if (st) return st;
        free(ds->name);
        size_t n = strlen(dir) + 32;
        ds->name = malloc(n);
        if (!ds->name) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        if (arg && *arg) snprintf(ds->name, n, "fashion-mnist:%s", dir);
        else snprintf(ds->name, n, "fashion-mnist");
        return SW_OK;
    }
    if (IS("idx")) {
        if (!arg || !*arg)
            return sw_error_set(err, SW_ERR_INVALID, "data spec \"%s\": expected idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]", spec);
        char *copy = strdup(arg);
        if (!copy) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        char *part[5] = {0};
        int np = 0;
        for (char *p = copy, *save = NULL, *t; np < 5 && (t = strtok_r(p, ",", &save)); p = NULL) part[np++] = t;
        sw_status st;
        if (np != 2 && np != 4)
            st = sw_error_set(err, SW_ERR_INVALID,
                              "data spec \"%s\": expected 2 or 4 comma-separated paths (IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]), got %d",
                              spec, np);
        else
            st = sw_load_idx(ds, part[0], part[1], np == 4 ? part[2] : NULL, np == 4 ? part[3] : NULL, opt, err);
        free(copy);
        return st;
    }
    if (IS("tsv") || IS("jsonl") || IS("csv")) {
        if (!arg || !*arg) return sw_error_set(err, SW_ERR_INVALID, "data spec \"%s\": expected a path after ':'", spec);
        return IS("tsv") ? sw_load_tsv(ds, arg, opt, err) : IS("jsonl") ? sw_load_jsonl(ds, arg, opt, err)
                                                           : sw_load_csv(ds, arg, opt, err);
    }
    if (IS("synthetic")) {
        if (!arg || !*arg)
            return sw_error_set(err, SW_ERR_INVALID,
                                "data spec \"%s\": expected synthetic:NAME with NAME addition, reversal, copy or sorting",
                                spec);
        return sw_load_synthetic(ds, arg, opt, err);
    }
#undef IS
    return sw_error_set(err, SW_ERR_INVALID,
                        "data spec \"%s\": expected cmudict[:PATH], fashion-mnist[:DIR], idx:..., tsv:PATH, "
                        "jsonl:PATH, csv:PATH or synthetic:NAME",
                        spec);
}

sw_status sw_dataset_load(const char *spec, const sw_data_options *opt, sw_dataset **out, sw_error *err)
{
    if (out) *out = NULL;
    if (!spec || !out) return sw_error_set(err, SW_ERR_INVALID, "dataset: no spec");
    sw_data_options def = sw_data_default_options();
    if (!opt) opt = &def;
    if (opt->val_frac >= 1 || opt->test_frac >= 1 ||
        (opt->val_frac > 0 && opt->test_frac > 0 && opt->val_frac + opt->test_frac >= 1))
        return sw_error_set(err, SW_ERR_INVALID, "dataset: validation (%g) and test (%g) fractions must sum below 1",
                            opt->val_frac, opt->test_frac);
    if (opt->train_folds < 0 || (opt->train_folds > 1 && (opt->train_fold < 0 || opt->train_fold >= opt->train_folds)))
        return sw_error_set(err, SW_ERR_INVALID, "dataset: training fold %d of %d (expected 0..K-1 of K)",
                            opt->train_fold, opt->train_folds);
    sw_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    ds->seed = opt->seed;
    ds->train_fold = opt->train_fold;
    ds->train_folds = opt->train_folds;
    sw_status st = load_spec(ds, spec, opt, err);
    if (st == SW_OK && !ds->name && !(ds->name = strdup(spec))) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    if (st) {
        sw_dataset_free(ds);
        return st;
    }
    *out = ds;
    return SW_OK;
}

/* ---- accessors ------------------------------------------------------------------- */

sw_task_kind sw_dataset_kind(const sw_dataset *ds) { return ds ? ds->kind : 0; }
const char *sw_dataset_name(const sw_dataset *ds) { return ds ? ds->name : NULL; }

size_t sw_dataset_count(const sw_dataset *ds, sw_split s)
{
    return ds && (unsigned)s < SW_SPLIT_COUNT ? ds->cnt[s] : 0;
}

/* The example index of (s, i), or -1. */
static long at(const sw_dataset *ds, sw_task_kind kind, sw_split s, size_t i)
{
    if (!ds || ds->kind != kind || (unsigned)s >= SW_SPLIT_COUNT || i >= ds->cnt[s]) return -1;
    return (long)ds->idx[s][i];
}

const int32_t *sw_dataset_input(const sw_dataset *ds, sw_split s, size_t i, int *len)
{
    long e = at(ds, SW_TASK_SEQUENCE, s, i);
    if (len) *len = e < 0 ? 0 : ds->ex[e].in_len;
    return e < 0 ? NULL : ds->tok + ds->ex[e].in_off;
}

int sw_dataset_num_refs(const sw_dataset *ds, sw_split s, size_t i)
{
    long e = at(ds, SW_TASK_SEQUENCE, s, i);
    return e < 0 ? 0 : ds->ex[e].n_refs;
}

static const sw_seq_target *ref_at(const sw_dataset *ds, sw_split s, size_t i, int j)
{
    long e = at(ds, SW_TASK_SEQUENCE, s, i);
    if (e < 0 || j < 0 || j >= ds->ex[e].n_refs) return NULL;
    return &ds->refs[ds->ex[e].ref0 + j];
}

const int32_t *sw_dataset_ref(const sw_dataset *ds, sw_split s, size_t i, int j, int *len)
{
    const sw_seq_target *t = ref_at(ds, s, i, j);
    if (len) *len = t ? t->len : 0;
    return t ? ds->tok + t->off : NULL;
}

const char *sw_dataset_ref_text(const sw_dataset *ds, sw_split s, size_t i, int j)
{
    const sw_seq_target *t = ref_at(ds, s, i, j);
    return t ? t->text : NULL;
}

const char *sw_dataset_input_text(const sw_dataset *ds, sw_split s, size_t i)
{
    long e = at(ds, SW_TASK_SEQUENCE, s, i);
    return e < 0 ? NULL : ds->ex[e].input;
}

int sw_dataset_max_input_len(const sw_dataset *ds) { return ds ? ds->max_in : 0; }
int sw_dataset_max_ref_len(const sw_dataset *ds) { return ds ? ds->max_ref : 0; }

size_t sw_dataset_unknown_symbols(const sw_dataset *ds, sw_split s)
{
    return ds && (unsigned)s < SW_SPLIT_COUNT ? ds->unk[s] : 0;
}

const sw_vocab *sw_dataset_vocab(const sw_dataset *ds) { return ds ? ds->vocab : NULL; }

int sw_dataset_num_features(const sw_dataset *ds) { return ds && ds->kind == SW_TASK_CLASSIFY ? ds->nf : 0; }
int sw_dataset_num_classes(const sw_dataset *ds) { return ds ? sw_classes_count(ds->classes) : 0; }

const float *sw_dataset_features(const sw_dataset *ds, sw_split s, size_t i)
{
    long e = at(ds, SW_TASK_CLASSIFY, s, i);
    return e < 0 ? NULL : ds->feat + (size_t)e * (size_t)ds->nf;
}

int32_t sw_dataset_label(const sw_dataset *ds, sw_split s, size_t i)
{
    long e = at(ds, SW_TASK_CLASSIFY, s, i);
    return e < 0 ? -1 : ds->label[e];
}

const char *sw_dataset_class_name(const sw_dataset *ds, int c) { return ds ? sw_classes_name(ds->classes, c) : NULL; }
const sw_classes *sw_dataset_classes(const sw_dataset *ds) { return ds ? ds->classes : NULL; }
