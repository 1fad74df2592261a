/* Asynchronous successive halving (asha, and hyperband within a bracket):
 * at rung k the trial goes on iff its value is among the floor(n/eta) best
 * of the n trials that reached the rung, itself included; while that is 0
 * (fewer than eta trials there), iff it is the best so far. A trial never
 * waits for its peers (Li et al. 2020): the first ones are judged against
 * fewer peers, which is what lets every worker stay busy. Ties go on. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void sw_pruner_asha_decide(int eta, const sw_pruner_input *in, sw_pruner_decision *out)
{
    size_t n = in->n_peers + 1;
    double *v = malloc(n * sizeof *v);
    double me = in->value == in->value ? in->value : -INFINITY;
    if (!v) { /* out of memory: keeping a trial is the safe answer */
        out->prune = 0;
        return;
    }
    for (size_t i = 0; i < in->n_peers; i++) v[i] = in->peers[i] == in->peers[i] ? in->peers[i] : -INFINITY;
    v[in->n_peers] = me;
    size_t keep = n / (size_t)eta;
    /* the keep-th best (ascending index n - keep), or the best while keep = 0 */
    double bar = sw_search_sorted_at(v, n, keep ? n - keep : n - 1);
    free(v);
    out->prune = me < bar;
    char tok[32];
    sw_format_tokens(in->tokens, tok, sizeof tok);
    if (out->prune && keep)
        sw_snprintf(out->reason, sizeof out->reason, "asha: rung %zu (%s tokens): EM %.2f is not among the best %zu of %zu (at least %.2f)",
                    in->rung + 1, tok, in->value, keep, n, bar);
    else if (out->prune)
        sw_snprintf(out->reason, sizeof out->reason,
                    "asha: rung %zu (%s tokens): EM %.2f is below the best %.2f of the %zu trials there (fewer than eta: only the best goes on)",
                    in->rung + 1, tok, in->value, bar, n);
}
