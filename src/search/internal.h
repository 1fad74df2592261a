/* Private to search/: helpers its files share. */
#ifndef SW_SEARCH_INTERNAL_H
#define SW_SEARCH_INTERNAL_H

#include "stopwise/search.h"

#include <stddef.h>
#include <stdint.h>

/* One independent generator per (seed, stream, number): a trial's draws do
 * not depend on what any other trial drew. */
void sw_search_rng(sw_rng *r, uint64_t seed, uint64_t stream, uint64_t number);

/* Streams of sw_search_rng, one per use. */
enum { SW_SEARCH_STREAM_RANDOM = 1, SW_SEARCH_STREAM_TPE, SW_SEARCH_STREAM_BRACKET, SW_SEARCH_STREAM_HALTON };

/* The sampler that proposes a point from the history (sampler_tpe.c). */
sw_status sw_sampler_tpe(const sw_sampler_options *o, const sw_space *space, uint64_t seed, uint64_t number,
                         const sw_search_obs *history, size_t n_history, double *point, sw_error *err);

/* The pruners' decisions (pruner_*.c); the input is checked by the caller. */
void sw_pruner_asha_decide(int eta, const sw_pruner_input *in, sw_pruner_decision *out);
void sw_pruner_median_decide(size_t startup, const sw_pruner_input *in, sw_pruner_decision *out);
sw_status sw_pruner_policy_decide(double level, const sw_pruner_input *in, sw_pruner_decision *out, sw_error *err);

/* The quantity k-th smallest of v (n > 0, k < n), sorting v in place. */
double sw_search_sorted_at(double *v, size_t n, size_t k);

#endif
