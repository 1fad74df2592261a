/* The median pruner (Optuna's MedianPruner): once `startup` trials have
 * finished, a trial whose best value so far is below the median of what the
 * finished trials had at the same point is pruned. Only finished trials
 * count: a pruned trial's value would pull the median down and spare the
 * weak. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void sw_pruner_median_decide(size_t startup, const sw_pruner_input *in, sw_pruner_decision *out)
{
    out->prune = 0;
    if (in->n_finished < startup || !in->n_peers) return;
    double *v = malloc(in->n_peers * sizeof *v);
    if (!v) return;
    size_t n = 0;
    for (size_t i = 0; i < in->n_peers; i++)
        if (in->peers[i] == in->peers[i]) v[n++] = in->peers[i];
    if (!n) {
        free(v);
        return;
    }
    double lo = sw_search_sorted_at(v, n, (n - 1) / 2), hi = v[n / 2];
    double median = 0.5 * (lo + hi);
    free(v);
    double me = in->value == in->value ? in->value : -INFINITY;
    out->prune = me < median;
    char tok[32];
    if (out->prune)
        sw_snprintf(out->reason, sizeof out->reason, "median: at %s tokens EM %.2f is below the median %.2f of %zu finished trials",
                    sw_format_tokens(in->tokens, tok, sizeof tok), in->value, median, n);
}
