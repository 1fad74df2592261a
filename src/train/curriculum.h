/* The curriculum, private to train/ (--curriculum; docs/LEVERS.md): the
 * training items ordered from easy to hard, and a pacing function of the
 * tokens trained that says how much of that order a batch may draw from
 * (competence-based curriculum, Platanios et al. 2019, "Competence-based
 * Curriculum Learning for Neural Machine Translation"):
 *
 *   progress x = tokens / (until x budget), capped at 1; c0 = start
 *   linear  c(x) = c0 + (1 - c0) x
 *   root    c(x) = sqrt(c0^2 + (1 - c0^2) x)      (the paper's choice: it
 *           widens fast early, when a small easy set is learned quickly)
 *
 * While c < 1 each batch is B items drawn uniformly without repetition from
 * the easiest ceil(c x n) (at least B); from c = 1 on, training reads epochs
 * as without a curriculum, starting at the first. A draw is a function of
 * (seed, tokens trained before the step) only, so a resumed run draws the same
 * batches, and the batcher's epoch position is untouched until then.
 *
 * Orders: length  the positions fed (input SEP target), shortest first
 *                 (sequence tasks only);
 *         difficulty  the probe run's score of each item's example (probe.h),
 *                 lowest first.
 * Equal keys fall in a seeded order (a hash of seed and item), never the
 * file's (cmudict's file is alphabetical). */
#ifndef SW_TRAIN_CURRICULUM_H
#define SW_TRAIN_CURRICULUM_H

#include "stopwise/data.h"

#include <stddef.h>
#include <stdint.h>

typedef enum sw_curriculum_kind { SW_CURRICULUM_NONE = 0, SW_CURRICULUM_LENGTH, SW_CURRICULUM_DIFFICULTY } sw_curriculum_kind;
typedef enum sw_pacing { SW_PACING_ROOT = 0, SW_PACING_LINEAR } sw_pacing;

/* "length[:start=C0,until=U,pace=root|linear]" or
 * "difficulty[:score=loss|el2n|forgetting,probe=TOKENS,points=N,start=..,until=..,pace=..]".
 * Defaults: start 0.1, until 0.5 (of the budget), pace root, score loss,
 * probe 0 (a tenth of the budget), points 1 (10 for forgetting). */
typedef struct sw_curriculum_spec {
    sw_curriculum_kind kind;
    double start, until;
    sw_pacing pace;
    sw_subsample_kind score; /* difficulty: SW_SUBSAMPLE_LOSS, _EL2N or _FORGETTING */
    uint64_t probe;
    int points;
} sw_curriculum_spec;

sw_status sw_curriculum_parse(const char *text, sw_curriculum_spec *out, sw_error *err);
char *sw_curriculum_format(const sw_curriculum_spec *s, char *buf, size_t len);
/* c(x) for progress x in [0, 1] (clamped). */
double sw_curriculum_competence(const sw_curriculum_spec *s, double x);

typedef struct sw_curriculum {
    sw_curriculum_spec spec;
    uint32_t *sorted;       /* (n) batcher items, easiest first */
    size_t n;
    uint64_t ramp;          /* tokens until c = 1: until x budget */
    uint64_t seed;
    const uint64_t *clock;  /* the trainer's tokens trained (read at each draw) */
} sw_curriculum;

/* Orders n_items batcher items: key[i] is item i's difficulty (its length, or
 * its example's score), easiest lowest. Owns a copy. */
sw_status sw_curriculum_init(sw_curriculum *c, const sw_curriculum_spec *spec, const double *key, size_t n_items,
                             uint64_t budget, uint64_t seed, const uint64_t *clock, sw_error *err);
void sw_curriculum_free(sw_curriculum *c);
/* While the curriculum paces (c < 1 at the clock): writes min(B, n) items into
 * items and returns their count, and *round gets a counter unique to this draw
 * (for the augmentation's per-example randomness). 0 once c = 1. */
int sw_curriculum_draw(const sw_curriculum *c, uint32_t *items, int B, uint64_t *round);

#endif
