/* Batching with length buckets; see batch.h. */
#include "train/batch.h"

#include "train/curriculum.h"

#include <stdlib.h>
#include <string.h>

static int seq_len(const sw_dataset *ds, sw_split s, uint32_t ex, int ref)
{
    int li, lr;
    sw_dataset_input(ds, s, ex, &li);
    sw_dataset_ref(ds, s, ex, ref, &lr);
    return li + 1 + lr; /* positions fed: input SEP target */
}

int sw_batch_fill_sequence(const sw_dataset *ds, sw_split split, const uint32_t *examples, const uint16_t *refs,
                           int n, int max_T, int32_t *inputs, int32_t *targets, float *mask, uint64_t *tokens)
{
    int T = 1;
    for (int r = 0; r < n; r++) {
        int L = seq_len(ds, split, examples[r], refs ? refs[r] : 0);
        if (L > T) T = L;
    }
    if (T > max_T) T = max_T;
    uint64_t count = 0;
    for (int r = 0; r < n; r++) {
        int li, lr;
        const int32_t *in = sw_dataset_input(ds, split, examples[r], &li);
        const int32_t *ref = sw_dataset_ref(ds, split, examples[r], refs ? refs[r] : 0, &lr);
        int32_t *x = inputs + (size_t)r * T, *y = targets + (size_t)r * T;
        float *m = mask + (size_t)r * T;
        /* the full sequence is input SEP ref EOS; row p holds symbol p, target p+1 */
        for (int p = 0; p < T; p++) {
            int32_t cur = SW_TOKEN_PAD, nxt = SW_TOKEN_PAD;
            int L = li + 1 + lr; /* fed positions */
            if (p < li) cur = in[p];
            else if (p == li) cur = SW_TOKEN_SEP;
            else if (p < L) cur = ref[p - li - 1];
            int q = p + 1;
            if (q < li) nxt = in[q];
            else if (q == li) nxt = SW_TOKEN_SEP;
            else if (q < L) nxt = ref[q - li - 1];
            else if (q == L) nxt = SW_TOKEN_EOS;
            x[p] = cur;
            y[p] = nxt;
            m[p] = (p >= li && p < L) ? 1.0f : 0.0f;
            count += p < L;
        }
    }
    if (tokens) *tokens = count;
    return T;
}

void sw_batch_fill_classify(const sw_dataset *ds, sw_split split, const uint32_t *examples, int n,
                            float *features, int32_t *labels)
{
    int F = sw_dataset_num_features(ds);
    for (int r = 0; r < n; r++) {
        memcpy(features + (size_t)r * F, sw_dataset_features(ds, split, examples[r]), sizeof(float) * (size_t)F);
        labels[r] = sw_dataset_label(ds, split, examples[r]);
    }
}

sw_status sw_batcher_init(sw_batcher *b, const sw_dataset *ds, int B, int max_T, uint64_t seed, sw_error *err)
{
    memset(b, 0, sizeof *b);
    b->ds = ds;
    b->kind = sw_dataset_kind(ds);
    b->B = B;
    b->max_T = max_T;
    b->seed = seed;
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    size_t items = 0;
    if (b->kind == SW_TASK_SEQUENCE)
        for (size_t i = 0; i < n; i++) items += (size_t)sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, i);
    else
        items = n;
    if (items == 0) return sw_error_set(err, SW_ERR_INVALID, "%s: the training split is empty", sw_dataset_name(ds));
    b->n_items = items;
    b->item_example = malloc(sizeof(uint32_t) * items);
    b->item_ref = calloc(items, sizeof(uint16_t));
    b->order = malloc(sizeof(uint32_t) * items);
    b->batch_start = malloc(sizeof(size_t) * (items / (size_t)B + 2));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int refs = b->kind == SW_TASK_SEQUENCE ? sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, i) : 1;
        for (int j = 0; j < refs; j++, k++) {
            b->item_example[k] = (uint32_t)i;
            b->item_ref[k] = (uint16_t)j;
        }
    }
    if (b->kind == SW_TASK_SEQUENCE) {
        b->inputs = malloc(sizeof(int32_t) * (size_t)B * (size_t)max_T);
        b->targets = malloc(sizeof(int32_t) * (size_t)B * (size_t)max_T);
        b->mask = malloc(sizeof(float) * (size_t)B * (size_t)max_T);
    } else {
        b->targets = malloc(sizeof(int32_t) * (size_t)B);
        b->features = malloc(sizeof(float) * (size_t)B * (size_t)sw_dataset_num_features(ds));
    }
    if (!b->item_example || !b->item_ref || !b->order || !b->batch_start || !b->targets ||
        (b->kind == SW_TASK_SEQUENCE ? !b->inputs || !b->mask : !b->features)) {
        sw_batcher_free(b);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory for %zu training items", items);
    }
    b->epoch = UINT64_MAX;
    sw_batcher_seek(b, 0, 0);
    return SW_OK;
}

sw_status sw_batcher_reserve(sw_batcher *b, int rows, sw_error *err)
{
    if (rows > 4096) return sw_error_set(err, SW_ERR_INVALID, "batch %d: at most 4096 examples a step", rows);
    size_t R = (size_t)rows, T = (size_t)b->max_T, F = (size_t)sw_dataset_num_features(b->ds);
    int ok = 1;
    if (b->kind == SW_TASK_SEQUENCE) {
        ok = !sw_array_resize(&b->inputs, R * T, sizeof *b->inputs) && !sw_array_resize(&b->targets, R * T, sizeof *b->targets) &&
             !sw_array_resize(&b->mask, R * T, sizeof *b->mask);
    } else {
        ok = !sw_array_resize(&b->targets, R, sizeof *b->targets) && !sw_array_resize(&b->features, R * F, sizeof *b->features);
    }
    return ok ? SW_OK : sw_error_set(err, SW_ERR_NOMEM, "out of memory for batches of %d", rows);
}

void sw_batcher_free(sw_batcher *b)
{
    free(b->item_example);
    free(b->item_ref);
    free(b->order);
    free(b->batch_start);
    free(b->inputs);
    free(b->targets);
    free(b->mask);
    free(b->features);
    memset(b, 0, sizeof *b);
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, c = *(const uint64_t *)pb;
    return a < c ? -1 : a > c;
}

/* Sorts items by length, ties by index (a total order, so deterministic):
 * the key is length << 32 | item. */
static void sort_by_length(const sw_batcher *b, uint32_t *items, size_t n, uint64_t *keys)
{
    for (size_t i = 0; i < n; i++)
        keys[i] = (uint64_t)seq_len(b->ds, SW_SPLIT_TRAIN, b->item_example[items[i]], b->item_ref[items[i]]) << 32 |
                  items[i];
    qsort(keys, n, sizeof *keys, cmp_u64);
    for (size_t i = 0; i < n; i++) items[i] = (uint32_t)keys[i];
}

/* Lays out the order and the batches of one epoch. */
static void plan_epoch(sw_batcher *b, uint64_t epoch)
{
    sw_rng rng;
    sw_rng_seed(&rng, sw_hash3(b->seed, 0xba7c4, epoch));
    size_t n = b->n_items, B = (size_t)b->B;
    for (size_t i = 0; i < n; i++) b->order[i] = (uint32_t)i;
    sw_rng_shuffle(&rng, b->order, n);
    /* Batches cover whole multiples of B; the remainder of an epoch is dropped
     * (it is a different random remainder every epoch). */
    size_t nb = n / B ? n / B : 1, used = n / B ? nb * B : n;
    if (b->kind == SW_TASK_SEQUENCE) {
        size_t window = 64 * B;
        uint64_t *keys = malloc(sizeof(uint64_t) * window);
        for (size_t w = 0; w < used; w += window)
            sort_by_length(b, b->order + w, used - w < window ? used - w : window, keys);
        free(keys);
    }
    /* shuffle the batch order, so lengths are not sorted within an epoch */
    uint32_t *perm = malloc(sizeof(uint32_t) * nb);
    for (size_t i = 0; i < nb; i++) perm[i] = (uint32_t)i;
    sw_rng_shuffle(&rng, perm, nb);
    uint32_t *tmp = malloc(sizeof(uint32_t) * used);
    size_t bs = used / nb;
    for (size_t i = 0; i < nb; i++) memcpy(tmp + i * bs, b->order + (size_t)perm[i] * bs, sizeof(uint32_t) * bs);
    memcpy(b->order, tmp, sizeof(uint32_t) * used);
    free(tmp);
    free(perm);
    for (size_t i = 0; i <= nb; i++) b->batch_start[i] = i * bs;
    b->n_batches = nb;
    b->epoch = epoch;
}

void sw_batcher_seek(sw_batcher *b, uint64_t epoch, size_t next_batch)
{
    if (b->epoch != epoch) plan_epoch(b, epoch);
    b->next_batch = next_batch;
}

void sw_batcher_next(sw_batcher *b, sw_batch *out, uint64_t *tokens)
{
    uint32_t items[4096], ex[4096];
    uint16_t rf[4096];
    uint64_t round = 0;
    /* a curriculum, while it paces, draws the batch (the epoch position stays
     * where it is until it ends); then the epochs as planned */
    int units = b->units > 1 ? b->units : 1; /* a batch-size ramp joins planned batches */
    int n = b->curriculum ? sw_curriculum_draw(b->curriculum, items, b->B * units, &round) : 0;
    if (!n) {
        for (int u = 0; u < units; u++) {
            if (b->next_batch >= b->n_batches) sw_batcher_seek(b, b->epoch + 1, 0);
            size_t s = b->batch_start[b->next_batch], e = b->batch_start[b->next_batch + 1];
            memcpy(items + n, b->order + s, sizeof(uint32_t) * (e - s));
            n += (int)(e - s);
            round = b->epoch;
            b->next_batch++;
        }
    }
    for (int r = 0; r < n; r++) {
        ex[r] = b->item_example[items[r]];
        rf[r] = b->item_ref[items[r]];
    }
    memset(out, 0, sizeof *out);
    out->B = n;
    if (b->kind == SW_TASK_SEQUENCE) {
        out->T = sw_batch_fill_sequence(b->ds, SW_SPLIT_TRAIN, ex, rf, n, b->max_T, b->inputs, b->targets, b->mask,
                                        tokens);
        out->inputs = b->inputs;
        out->mask = b->mask;
    } else {
        out->T = 1;
        sw_batch_fill_classify(b->ds, SW_SPLIT_TRAIN, ex, n, b->features, b->targets);
        /* per example, keyed on (round, example): the same pixels whatever the batch or thread count */
        size_t F = (size_t)sw_dataset_num_features(b->ds);
        for (int r = 0; b->augment && r < n; r++) sw_augment_row(b->augment, b->features + (size_t)r * F, round, ex[r]);
        out->features = b->features;
        *tokens = (uint64_t)n;
    }
    out->targets = b->targets;
}
