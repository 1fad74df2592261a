/* Batches for training and evaluation, private to train/.
 *
 * Sequence rows are `input SEP target` fed to the model, with targets shifted
 * by one so the model predicts `target EOS`; the mask is 1 on those positions.
 * Training order per epoch is a pure function of (seed, epoch), so a resumed
 * run only needs (epoch, batch index) to continue exactly where it stopped.
 * To keep padding low, each epoch is shuffled, cut into windows of 64 batches,
 * each window sorted by length and cut into batches (length bucketing), and
 * the batches' order shuffled again. A curriculum, while it paces, draws the
 * batches instead (curriculum.h); augmentation changes a classification row's
 * features after it is copied, keyed on (epoch or draw, example). */
#ifndef SW_TRAIN_BATCH_H
#define SW_TRAIN_BATCH_H

#include "stopwise/data.h"
#include "stopwise/nn.h"

typedef struct sw_batcher {
    const sw_dataset *ds;
    sw_task_kind kind;
    int B;                 /* examples per batch                                    */
    int max_T;             /* context length                                        */
    uint64_t seed;
    /* training items: sequence (example, reference) pairs, or example indices */
    size_t n_items;
    uint32_t *item_example; /* (n_items) */
    uint16_t *item_ref;     /* (n_items) sequence only */
    /* the current epoch's order, cut into batches */
    uint32_t *order;        /* (n_items) */
    size_t *batch_start;    /* (n_batches + 1) offsets into order */
    size_t n_batches;
    uint64_t epoch;         /* the epoch `order` belongs to */
    size_t next_batch;      /* index of the next batch in the epoch */
    /* the batch buffers (owned) */
    int32_t *inputs, *targets; /* (B, max_T) */
    float *mask;               /* (B, max_T) */
    float *features;           /* (B, n_features) */
    /* data levers (docs/LEVERS.md), set after init, owned by the caller; NULL = none */
    sw_augment *augment;                 /* classification rows, per (round, example) */
    const struct sw_curriculum *curriculum; /* draws the batches while it paces */
    /* a batch-size ramp (trainer_batch.c): the next batch joins this many of the
     * planned batches of B (crossing into the next epoch when this one ends), so
     * (epoch, batch index) still says where a resumed run goes on; 0 or 1 = one */
    int units;
} sw_batcher;

sw_status sw_batcher_init(sw_batcher *b, const sw_dataset *ds, int B, int max_T, uint64_t seed, sw_error *err);
void sw_batcher_free(sw_batcher *b);
/* Makes the batch buffers hold `rows` examples (a ramp's largest batch, at
 * most 4096). SW_ERR_NOMEM, SW_ERR_INVALID above 4096. */
sw_status sw_batcher_reserve(sw_batcher *b, int rows, sw_error *err);
/* Positions the batcher at (epoch, batch index), e.g. on resume. */
void sw_batcher_seek(sw_batcher *b, uint64_t epoch, size_t next_batch);
/* Fills `out` with the next training batch; *tokens gets its token count. */
void sw_batcher_next(sw_batcher *b, sw_batch *out, uint64_t *tokens);

/* Fills one batch from explicit (example, reference) pairs of a split, for
 * evaluation; rows beyond n are not used. Sequence: refs may be NULL (first
 * reference). Returns the batch's T. */
int sw_batch_fill_sequence(const sw_dataset *ds, sw_split split, const uint32_t *examples, const uint16_t *refs,
                           int n, int max_T, int32_t *inputs, int32_t *targets, float *mask, uint64_t *tokens);
void sw_batch_fill_classify(const sw_dataset *ds, sw_split split, const uint32_t *examples, int n,
                            float *features, int32_t *labels);

#endif
