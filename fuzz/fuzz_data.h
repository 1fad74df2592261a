/* Checks shared by the data/ targets: a dataset that loaded must keep every
 * promise of data.h, for every example of every split. */
#ifndef STOPWISE_FUZZ_DATA_H
#define STOPWISE_FUZZ_DATA_H

#include "fuzz_common.h"
#include "stopwise/data.h"

static inline void fuzz_check_vocab_json(const sw_vocab *v)
{
    char *json = sw_vocab_to_json(v);
    FUZZ_CHECK(json);
    sw_vocab *w = NULL;
    sw_error err;
    FUZZ_CHECK(sw_vocab_from_json(json, &w, &err) == SW_OK);
    FUZZ_CHECK(sw_vocab_size(w) == sw_vocab_size(v));
    FUZZ_CHECK(sw_vocab_num_input(w) == sw_vocab_num_input(v));
    FUZZ_CHECK(sw_vocab_target_spaced(w) == sw_vocab_target_spaced(v));
    for (int32_t id = 0; id < sw_vocab_size(v); id++) FUZZ_CHECK(!strcmp(sw_vocab_symbol(v, id), sw_vocab_symbol(w, id)));
    sw_vocab_free(w);
    free(json);
}

static inline void fuzz_check_classes_json(const sw_classes *c)
{
    char *json = sw_classes_to_json(c);
    FUZZ_CHECK(json);
    sw_classes *d = NULL;
    sw_error err;
    FUZZ_CHECK(sw_classes_from_json(json, &d, &err) == SW_OK);
    FUZZ_CHECK(sw_classes_count(d) == sw_classes_count(c));
    FUZZ_CHECK(sw_classes_num_features(d) == sw_classes_num_features(c));
    for (int k = 0; k < sw_classes_count(c); k++) {
        FUZZ_CHECK(!strcmp(sw_classes_name(c, k), sw_classes_name(d, k)));
        if (k < 64) FUZZ_CHECK(sw_classes_find(d, sw_classes_name(c, k)) == k); /* a linear search */
    }
    sw_classes_free(d);
    free(json);
}

/* Walks every example and checks the ranges data.h promises. A dataset
 * loaded without a fold left out has examples (a subset with one can be
 * empty). */
static inline void fuzz_check_dataset(const sw_dataset *ds, const sw_data_options *opt)
{
    FUZZ_CHECK(sw_dataset_name(ds) && *sw_dataset_name(ds));
    size_t total = 0;
    if (sw_dataset_kind(ds) == SW_TASK_SEQUENCE) {
        const sw_vocab *v = sw_dataset_vocab(ds);
        FUZZ_CHECK(v);
        int vs = sw_vocab_size(v), max_in = sw_dataset_max_input_len(ds), max_ref = sw_dataset_max_ref_len(ds);
        for (int s = 0; s < SW_SPLIT_COUNT; s++) {
            size_t n = sw_dataset_count(ds, (sw_split)s);
            total += n;
            for (size_t i = 0; i < n; i++) {
                int len = -1;
                const int32_t *in = sw_dataset_input(ds, (sw_split)s, i, &len);
                FUZZ_CHECK(len >= 0 && len <= max_in && (len == 0 || in));
                for (int k = 0; k < len; k++) FUZZ_CHECK(in[k] >= 0 && in[k] < vs);
                FUZZ_CHECK(sw_dataset_input_text(ds, (sw_split)s, i));
                int nr = sw_dataset_num_refs(ds, (sw_split)s, i);
                FUZZ_CHECK(nr >= 1);
                for (int j = 0; j < nr; j++) {
                    const int32_t *r = sw_dataset_ref(ds, (sw_split)s, i, j, &len);
                    FUZZ_CHECK(len >= 0 && len <= max_ref && (len == 0 || r));
                    for (int k = 0; k < len; k++)
                        FUZZ_CHECK(r[k] == SW_TOKEN_UNK || sw_vocab_is_target(v, r[k]));
                    FUZZ_CHECK(sw_dataset_ref_text(ds, (sw_split)s, i, j));
                    char buf[256];
                    sw_vocab_decode_target(v, r, len, buf, sizeof buf);
                    FUZZ_CHECK(strlen(buf) < sizeof buf);
                }
            }
        }
        fuzz_check_vocab_json(v);
    } else {
        FUZZ_CHECK(sw_dataset_kind(ds) == SW_TASK_CLASSIFY);
        int nf = sw_dataset_num_features(ds), nc = sw_dataset_num_classes(ds);
        FUZZ_CHECK(nf > 0 && nc > 0);
        for (int s = 0; s < SW_SPLIT_COUNT; s++) {
            size_t n = sw_dataset_count(ds, (sw_split)s);
            total += n;
            for (size_t i = 0; i < n; i++) {
                FUZZ_CHECK(sw_dataset_features(ds, (sw_split)s, i));
                int32_t y = sw_dataset_label(ds, (sw_split)s, i);
                FUZZ_CHECK(y >= 0 && y < nc);
            }
        }
        for (int c = 0; c < nc; c++) FUZZ_CHECK(sw_dataset_class_name(ds, c));
        fuzz_check_classes_json(sw_dataset_classes(ds));
    }
    FUZZ_CHECK(total > 0 || opt->train_folds > 1);
    char path[4200];
    sw_error err;
    FUZZ_CHECK(sw_dataset_write_split(ds, fuzz_path("split.txt", path, sizeof path), &err) == SW_OK);
}

/* Loads `spec` with `opt`; on success checks it. Returns the status. An
 * error must come with a message. */
static inline sw_status fuzz_load(const char *spec, const sw_data_options *opt)
{
    sw_dataset *ds = NULL;
    sw_error err;
    err.msg[0] = 0;
    sw_status st = sw_dataset_load(spec, opt, &ds, &err);
    if (st == SW_OK) {
        fuzz_check_dataset(ds, opt);
        sw_dataset_free(ds);
    } else {
        FUZZ_CHECK(ds == NULL && err.msg[0]);
    }
    return st;
}

/* The options a second load tries when the defaults succeed: a seeded
 * subsample, a fold left out and other fractions (split.c, seq.c). */
static inline sw_data_options fuzz_other_options(void)
{
    sw_data_options o = sw_data_default_options();
    o.seed = 7;
    o.val_frac = 0.3;
    o.test_frac = 0.2;
    o.max_examples = 5;
    o.train_fold = 1;
    o.train_folds = 3;
    return o;
}

/* The body of a target whose input is one dataset file of `format` ("tsv",
 * "jsonl", "cmudict"): loads it with the defaults and, when that succeeds,
 * in the published form (with_published: lexicons) and with
 * fuzz_other_options(). */
static inline void fuzz_load_file(const char *format, const uint8_t *data, size_t size, int with_published)
{
    char path[4200], spec[4300];
    fuzz_file("a", data, size, path, sizeof path);
    snprintf(spec, sizeof spec, "%s:%s", format, path);
    sw_data_options opt = sw_data_default_options();
    if (fuzz_load(spec, &opt) != SW_OK) return;
    if (with_published) {
        opt.published = 1;
        fuzz_load(spec, &opt);
    }
    opt = fuzz_other_options();
    fuzz_load(spec, &opt);
}

#endif
