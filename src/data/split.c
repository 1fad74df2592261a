/* Seeded splits into train / validation / test, grouped by input, and the
 * published split file.
 *
 * Why an order by hash of (seed, input) and not a shuffle of file positions:
 * the split of an example then depends only on the seed and its own input
 * text (and the dataset's size, through the cut points), not on the order of
 * the file, so a reordered copy of the same data splits the same way, and all
 * references of one input, which are one example, can never straddle splits. */
#include "data/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t h, key; uint32_t i; } keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* round(f * n), at least 1 when f > 0 and there are >= 3 examples to share */
static size_t share(double f, size_t n)
{
    if (f <= 0) return 0;
    size_t k = (size_t)floor(f * (double)n + 0.5);
    if (k == 0 && n >= 3) k = 1;
    return k;
}

/* Moves a cut point forward past examples with the same key as the one before
 * it, so that duplicate inputs (equal keys hash equal) stay on one side. */
static size_t cut_after_ties(const keyed *o, size_t n, size_t cut)
{
    while (cut > 0 && cut < n && o[cut].key == o[cut - 1].key) cut++;
    return cut;
}

sw_status sw_split_assign(sw_dataset *ds, const uint64_t *keys, size_t n, const uint8_t *pool_test,
                          double val_frac, double test_frac, size_t max_examples, sw_error *err)
{
    keyed *o = malloc((n ? n : 1) * sizeof *o);
    uint8_t *which = malloc(n ? n : 1);
    if (!o || !which) {
        free(o);
        free(which);
        return sw_error_set(err, SW_ERR_NOMEM, "split: out of memory");
    }
    size_t m = 0, n_official = 0;
    for (size_t i = 0; i < n; i++) {
        if (pool_test && pool_test[i]) {
            which[i] = SW_SPLIT_TEST;
            n_official++;
            continue;
        }
        o[m].key = keys[i];
        o[m].h = sw_hash3(ds->seed, SW_STREAM_SPLIT, keys[i]);
        o[m].i = (uint32_t)i;
        m++;
    }
    qsort(o, m, sizeof *o, keyed_cmp);
    size_t n_test = pool_test ? 0 : share(test_frac, m);
    size_t n_val = share(val_frac, m);
    size_t c1 = cut_after_ties(o, m, n_test);
    size_t c2 = cut_after_ties(o, m, c1 + n_val > m ? m : c1 + n_val);
    if (c2 >= m) {
        free(o);
        free(which);
        return sw_error_set(err, SW_ERR_INVALID,
                            "split: %zu examples leave none for training (validation %.3g, test %.3g)", m,
                            val_frac, test_frac);
    }
    for (size_t k = 0; k < m; k++) which[o[k].i] = k < c1 ? SW_SPLIT_TEST : k < c2 ? SW_SPLIT_VAL : SW_SPLIT_TRAIN;

    size_t cnt[SW_SPLIT_COUNT] = {0};
    for (size_t i = 0; i < n; i++) cnt[which[i]]++;
    for (int s = 0; s < SW_SPLIT_COUNT; s++) {
        free(ds->idx[s]);
        ds->idx[s] = malloc((cnt[s] ? cnt[s] : 1) * sizeof(uint32_t));
        if (!ds->idx[s]) {
            free(o);
            free(which);
            return sw_error_set(err, SW_ERR_NOMEM, "split: out of memory");
        }
        ds->cnt[s] = 0;
    }
    for (size_t i = 0; i < n; i++) ds->idx[which[i]][ds->cnt[which[i]]++] = (uint32_t)i;

    /* Subsample each split by a second hash, in proportion to its size, so a
     * subsample's splits are subsets of the full data's splits. */
    size_t total = n;
    if (max_examples && max_examples < total) {
        for (int s = 0; s < SW_SPLIT_COUNT; s++) {
            size_t c = ds->cnt[s];
            if (!c) continue;
            size_t want = (size_t)floor((double)c * (double)max_examples / (double)total + 0.5);
            if (want == 0) want = 1;
            if (want >= c) continue;
            for (size_t k = 0; k < c; k++) {
                uint32_t i = ds->idx[s][k];
                o[k].key = keys[i];
                o[k].h = sw_hash3(ds->seed, SW_STREAM_SUBSAMPLE, keys[i]);
                o[k].i = i;
            }
            qsort(o, c, sizeof *o, keyed_cmp);
            for (size_t k = 0; k < want; k++) ds->idx[s][k] = o[k].i;
            ds->cnt[s] = want;
        }
    }
    /* a K-fold subset of the training split: leave fold train_fold out */
    if (ds->train_folds > 1) {
        size_t kept = 0;
        for (size_t k = 0; k < ds->cnt[SW_SPLIT_TRAIN]; k++) {
            uint32_t i = ds->idx[SW_SPLIT_TRAIN][k];
            if (sw_hash3(ds->seed, SW_STREAM_FOLD, keys[i]) % (uint64_t)ds->train_folds != (uint64_t)ds->train_fold)
                ds->idx[SW_SPLIT_TRAIN][kept++] = i;
        }
        ds->cnt[SW_SPLIT_TRAIN] = kept;
    }
    for (int s = 0; s < SW_SPLIT_COUNT; s++) qsort(ds->idx[s], ds->cnt[s], sizeof(uint32_t), u32_cmp);
    (void)n_official;
    free(o);
    free(which);
    return SW_OK;
}

const char *sw_split_name(sw_split s)
{
    switch (s) {
    case SW_SPLIT_TRAIN: return "train";
    case SW_SPLIT_VAL: return "val";
    case SW_SPLIT_TEST: return "test";
    }
    return NULL;
}

static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\t') fputs("\\t", f);
        else if (*s == '\n') fputs("\\n", f);
        else if (*s == '\r') fputs("\\r", f);
        else if (*s == '\\') fputs("\\\\", f);
        else fputc(*s, f);
    }
}

sw_status sw_dataset_write_split(const sw_dataset *ds, const char *path, sw_error *err)
{
    if (!ds || !path) return sw_error_set(err, SW_ERR_INVALID, "write split: no dataset or path");
    sw_atomic_file af;
    sw_status st = sw_atomic_file_open(&af, path, err);
    if (st) return st;
    FILE *f = sw_atomic_file_fp(&af);
    fprintf(f, "# stopwise split v1: dataset=%s seed=%llu train=%zu val=%zu test=%zu\n", ds->name,
            (unsigned long long)ds->seed, ds->cnt[0], ds->cnt[1], ds->cnt[2]);
    for (int s = 0; s < SW_SPLIT_COUNT; s++) {
        for (size_t k = 0; k < ds->cnt[s]; k++) {
            uint32_t i = ds->idx[s][k];
            fprintf(f, "%s\t", sw_split_name((sw_split)s));
            if (ds->kind == SW_TASK_SEQUENCE) put_escaped(f, ds->ex[i].input);
            else if (ds->src_test) fprintf(f, "%s:%u", ds->src_test[i] ? "test" : "train", ds->src[i]);
            else fprintf(f, "line:%u", ds->src[i]);
            fputc('\n', f);
        }
    }
    if (ferror(f)) {
        sw_atomic_file_abort(&af);
        return sw_error_set(err, SW_ERR_IO, "%s: write failed", path);
    }
    return sw_atomic_file_commit(&af, err);
}
