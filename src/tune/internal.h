/* Private to tune/: the replay table and the selection over it, shared by
 * the tuner, its cross-validation and online mode. */
#ifndef SW_TUNE_INTERNAL_H
#define SW_TUNE_INTERNAL_H

#include "stopwise/tune.h"

#include <stddef.h>

/* Aggregate of one policy over a set of curves. */
typedef struct sw_tune_agg {
    double tokens_fraction, shortfall, worst_shortfall, mean_tokens;
} sw_tune_agg;


/* Every candidate (row) replayed on every curve (column). */
typedef struct sw_tune_table {
    size_t n_pol, n_cur;
    size_t n_none;       /* rows 0 .. n_none-1: "none" (with each cooldown)  */
    char **texts;        /* n_pol policy texts                               */
    int *family;         /* n_pol family indices, -1 for "none"              */
    sw_tune_cell *cells; /* cells[p * n_cur + c]                              */
} sw_tune_table;

/* Mean and worst over the curves `cur` (n of them) of policy p. Every curve
 * read is flagged in mark[c] = 1 when mark is non-NULL: the instrumentation
 * the cross-validation tests check. */
void sw_tune_aggregate(const sw_tune_table *t, size_t p, const size_t *cur, size_t n, unsigned char *mark,
                       sw_tune_agg *out);

/* The best of the candidates `cand` (row indices, conservative first) on the
 * curves `cur` under the objective (tune.h); when none is feasible, the one
 * with the smallest mean shortfall. Returns a row index; *agg (if non-NULL)
 * gets its aggregate on `cur`. */
size_t sw_tune_select(const sw_tune_table *t, const size_t *cand, size_t n_cand, const size_t *cur, size_t n_cur,
                      const sw_tune_options *opt, unsigned char *mark, sw_tune_agg *agg);

/* 1 if a is feasible under the objective (always 1 for PRICED). */
int sw_tune_feasible(const sw_tune_agg *a, const sw_tune_options *opt);

/* The bootstrap upper bound of policy p's mean shortfall over the curves
 * `cur` (tune.h, sw_tune_options.confidence); the plain mean when the
 * confidence is 0 or n < 2. Deterministic for a given seed. */
double sw_tune_ucb(const sw_tune_table *t, size_t p, const size_t *cur, size_t n, const sw_tune_options *opt);

#endif
