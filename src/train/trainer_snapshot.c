/* train --snapshots K: the checkpoints of a snapshot ensemble (Huang et al.
 * 2017, "Snapshot Ensembles: Train 1, get M for free"; docs/ENSEMBLES.md).
 *
 * The weights are kept right after the step that crosses each multiple of
 * budget/K, b_i = i B / K (i = 1..K): a function of the tokens alone, so a
 * resumed run keeps the same snapshots as one never interrupted, and a run
 * that stops early keeps those it reached. With the restarts schedule and
 * period = B/K those steps end its cycles, where the rate is lowest and the
 * weights sit in a minimum; with other schedules they are evenly spaced
 * points of the run. */
#include "train/trainer.h"

#include <inttypes.h>
#include <stdio.h>

sw_status sw_trainer_snapshot(sw_trainer *r, uint64_t before)
{
    uint64_t K = r->opt.snapshots > 0 ? (uint64_t)r->opt.snapshots : 0, B = r->opt.budget;
    if (K == 0 || B == 0 || r->rank != 0) return SW_OK;
    /* i: the last boundary reached, b_i = ceil(i B / K) <= tokens (the
     * products stay far below 2^64 for any budget a run can have: K is at
     * most 10^4 by the CLI); it was crossed by this step if b_i > before */
    uint64_t i = r->tokens >= B ? K : r->tokens * K / B;
    if (i == 0) return SW_OK;
    uint64_t b_i = (i * B + K - 1) / K;
    if (b_i <= before) return SW_OK;
    char name[64];
    snprintf(name, sizeof name, "snapshot-%" PRIu64 ".safetensors", r->tokens);
    return sw_trainer_save_weights(r, name);
}
