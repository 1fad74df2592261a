/* The probe run, private to train/: a short training of the run's model on the
 * training split, whose only product is a difficulty score per training
 * example, for score-based subsampling (--subsample loss|el2n|forgetting) and
 * the difficulty curriculum (--curriculum difficulty). docs/LEVERS.md.
 *
 * Scores, per training example, from `points` scoring passes evenly spaced over
 * the probe (the last at its end). A pass is one forward of every training
 * (example, reference) pair without dropout; for a sequence the target
 * positions (target and EOS, as the training loss) are read:
 *   loss        mean cross-entropy over the target positions (classification:
 *               -log softmax(label)), at the last pass
 *   el2n        ||softmax - onehot(y)||_2, averaged over the target positions
 *               (Paul et al. 2021 score a classifier's single output), last pass
 *   right       every target position's argmax, over the symbols the decoder
 *               may emit (target symbols and EOS), is the reference's: exactly
 *               when greedy decoding reproduces that reference, so "right"
 *               means what EM means
 *   forgets     passes at which the example went from right to wrong since the
 *               pass before (Toneva et al. 2019)
 * An example with several references takes its easiest: the minimum loss and
 * el2n, right when any reference is. Every number is a pure function of the
 * weights, and the weights of the seed (the training is the trainer's,
 * deterministic at any thread count), so the scores are too. */
#ifndef SW_TRAIN_PROBE_H
#define SW_TRAIN_PROBE_H

#include "stopwise/data.h"
#include "stopwise/nn.h"

typedef struct sw_probe {
    size_t n;          /* training examples scored */
    double *loss;      /* (n) */
    double *el2n;      /* (n) */
    uint32_t *forgets; /* (n) */
    uint8_t *learned;  /* (n) right at some pass */
    int points;        /* scoring passes */
    uint64_t tokens;   /* training tokens of the probe */
} sw_probe;

/* One scoring pass of model over the training split: loss, el2n and right
 * (each (n), n = the training split's size; any may be NULL). */
sw_status sw_probe_score(sw_model *model, const sw_dataset *ds, double *loss, double *el2n, uint8_t *right,
                         sw_error *err);

/* Trains a fresh model of `spec` (complete) for `tokens` tokens with the run's
 * optimizer and schedule (every token length in it scaled by tokens / total)
 * and batch size, seeded from `seed`, scoring at `points` passes. Fills *out
 * (freed with sw_probe_free). A divergence ends the training early; the
 * scores are then those of the last finite weights. */
sw_status sw_probe_run(const sw_dataset *ds, const sw_model_spec *spec, const sw_optimizer_params *op,
                       const sw_schedule *sched, int batch, uint64_t seed, uint64_t tokens, int points, sw_probe *out,
                       sw_error *err);
void sw_probe_free(sw_probe *p);

/* Counts a pass: forgets[i] += 1 where prev[i] && !cur[i]; learned |= cur. */
void sw_probe_count_forgetting(const uint8_t *prev, const uint8_t *cur, size_t n, uint32_t *forgets, uint8_t *learned);

/* The score of `kind` (loss, el2n or forgetting) per example, higher = harder,
 * into out (n): forgetting is forgets + loss / (1 + loss) (the final loss
 * breaks ties among equal counts without reordering them), an example never
 * right counting as points forgets, above any that was (at most points / 2). */
void sw_probe_scores(const sw_probe *p, sw_subsample_kind kind, double *out);

#endif
