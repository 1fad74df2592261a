/* What an evaluation reads and how often, private to train/: the validation
 * split's select and score halves, the fixed evaluation sample, the sizing
 * formula that keeps evaluation under a share of the wall time, and the
 * paired test that confirms a stop. Pure functions (no clocks, no model), so
 * each is tested on its own.
 *
 * Halves. The validation examples are permuted by the data seed and cut in
 * two: the *select* half (first ceil(n/2)) is all that checkpoint choice and
 * the stopping rules ever read; the *score* half is read once, by the final
 * report, for a shortfall no decision has seen.
 *
 * Sample. A second seeded permutation of the select half; every periodic
 * evaluation reads its first n_sample examples (the same ones every time), a
 * confirmation its first n_confirm >= n_sample.
 *
 * Sizing (s = the share of wall time evaluation may take, default 0.10;
 * c_tok = seconds per training token; c_ex = seconds per evaluated example
 * and weight set; w = weight sets evaluated, 2 with an average; B = budget):
 *   E0 = --eval-every, or B/100
 *   n  = --eval-limit, or floor(s/(1-s) * E0 * c_tok / (w * c_ex)), at most the select half;
 *        raised to min(500, select half) when smaller (fewer examples say nothing)
 *   E  = max(E0, ceil((1-s)/s * n * w * c_ex / c_tok)), at most B/10 (at least
 *        10 evaluations), unless --eval-every fixes it
 * so that n*w*c_ex / (n*w*c_ex + E*c_tok) <= s whenever the caps allow. E is
 * rounded up and n down to two significant digits, so small timing jitter
 * rarely changes them.
 *
 * The final report. It scores the best checkpoint once on the score half and
 * the test split (F examples in all). The run's whole evaluation allowance is
 * A = s/(1-s) * B * c_tok seconds. When F*c_ex fits in A/4 the report reads
 * the whole splits; otherwise it reads a seeded sample of each, of
 *   n_final = max(SW_EVAL_FINAL_MIN, A/4 / (2 c_ex)) examples (two digits, down),
 * and periodic evaluation gets what is left, R = A - n_final's cost: in the
 * formulas above s/(1-s) becomes s/(1-s) * R/A. So the report stays within
 * the share on a huge split (a 440k-word lexicon) and a small one is read
 * whole. */
#ifndef SW_TRAIN_EVALPLAN_H
#define SW_TRAIN_EVALPLAN_H

#include "stopwise/base.h"

#include <stddef.h>
#include <stdint.h>

/* The smallest periodic sample, and the smallest final-report sample per split
 * (a standard error of at most 1.2 EM points). */
enum { SW_EVAL_MIN_SAMPLE = 500, SW_EVAL_FINAL_MIN = 2000 };

/* Splits n validation examples into the select half (ceil(n/2)) and the score
 * half, each sorted; `select` and `score` hold n entries together (caller's
 * buffers of at least ceil(n/2) and n/2). */
void sw_eval_halves(size_t n, uint64_t seed, uint32_t *select, size_t *n_select, uint32_t *score, size_t *n_score);

/* A seeded permutation of the select half into `order` (n_select entries). */
void sw_eval_sample_order(const uint32_t *select, size_t n_select, uint64_t seed, uint32_t *order);

typedef struct sw_eval_sizing {
    double share;        /* at most this share of wall time, e.g. 0.10 */
    double c_tok, c_ex;  /* seconds per training token, per example and weight set */
    int weight_sets;     /* 1, or 2 with an average */
    uint64_t budget;
    uint64_t every;      /* fixed by the user, or 0 */
    size_t limit;        /* fixed by the user, or 0 */
    size_t n_select;
    size_t n_score, n_test; /* what the final report would read in whole */
    size_t final_limit;     /* fixed by the user (SIZE_MAX: whole splits), or 0 */
} sw_eval_sizing;

typedef struct sw_eval_sizes {
    uint64_t every;  /* the cadence in tokens */
    size_t sample;   /* examples per periodic evaluation */
    size_t final;    /* examples per split of the final report; SIZE_MAX = whole splits */
} sw_eval_sizes;

/* The sizing formulas above. */
sw_eval_sizes sw_eval_size(const sw_eval_sizing *z);

/* The one-sided exact sign test (McNemar's test on the discordant pairs) of
 * "A is better than B" on paired 0/1 outcomes: b = examples A gets right and B
 * wrong, c = the reverse; returns P(X >= b) for X ~ Binomial(b + c, 1/2)
 * (1 when b + c = 0). */
double sw_eval_sign_test(size_t b, size_t c);

#endif
