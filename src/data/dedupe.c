/* Exact de-duplication of the training split (--dedupe); see data.h.
 *
 * Classification only: two training examples are duplicates when their labels
 * are equal and every feature value is equal as a number. A hash of the
 * values finds candidates; equal hashes are confirmed value by value, so a
 * hash collision never removes an example. Sequence examples are unique by
 * construction (the loaders group every line of one input into one example). */
#include "data/internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t h; uint32_t pos; } hashed;

static int hashed_cmp(const void *pa, const void *pb)
{
    const hashed *a = pa, *b = pb;
    if (a->h != b->h) return a->h < b->h ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The hash of a row's label and values; -0 hashes as 0, as it compares. */
static uint64_t row_hash(const float *x, int nf, int32_t label)
{
    uint64_t h = sw_hash3(0, SW_STREAM_SELECT, (uint64_t)(uint32_t)label);
    for (int j = 0; j < nf; j++) {
        float v = x[j] == 0.0f ? 0.0f : x[j];
        uint32_t bits;
        memcpy(&bits, &v, sizeof bits);
        h = sw_hash3(h, SW_STREAM_SELECT, bits);
    }
    return h;
}

static int rows_equal(const float *a, const float *b, int nf)
{
    for (int j = 0; j < nf; j++)
        if (!(a[j] == b[j])) return 0;
    return 1;
}

sw_status sw_dataset_dedupe_train(sw_dataset *ds, size_t *removed, sw_error *err)
{
    if (removed) *removed = 0;
    size_t n = ds->cnt[SW_SPLIT_TRAIN];
    if (ds->kind != SW_TASK_CLASSIFY || n < 2) return SW_OK;
    hashed *h = malloc(sizeof *h * n);
    uint8_t *dup = calloc(n, 1);
    uint32_t *keep = malloc(sizeof *keep * n);
    if (!h || !dup || !keep) {
        free(h);
        free(dup);
        free(keep);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory de-duplicating %zu examples", n);
    }
    for (size_t i = 0; i < n; i++)
        h[i] = (hashed){row_hash(sw_dataset_features(ds, SW_SPLIT_TRAIN, i), ds->nf,
                                 sw_dataset_label(ds, SW_SPLIT_TRAIN, i)),
                        (uint32_t)i};
    qsort(h, n, sizeof *h, hashed_cmp);
    /* within each run of equal hashes (positions ascending), a row is a
     * duplicate when an earlier kept row of the run equals it */
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && h[b].h == h[a].h) b++;
        for (size_t i = a + 1; i < b; i++)
            for (size_t j = a; j < i && !dup[h[i].pos]; j++)
                if (!dup[h[j].pos] &&
                    sw_dataset_label(ds, SW_SPLIT_TRAIN, h[i].pos) == sw_dataset_label(ds, SW_SPLIT_TRAIN, h[j].pos) &&
                    rows_equal(sw_dataset_features(ds, SW_SPLIT_TRAIN, h[i].pos),
                               sw_dataset_features(ds, SW_SPLIT_TRAIN, h[j].pos), ds->nf))
                    dup[h[i].pos] = 1;
        a = b;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!dup[i]) keep[m++] = (uint32_t)i;
    sw_status st = m < n ? sw_dataset_keep_train(ds, keep, m, err) : SW_OK;
    if (!st && removed) *removed = n - m;
    free(h);
    free(dup);
    free(keep);
    return st;
}
