#!/usr/bin/env bash
# The main job, end to end on real data: set up, build, then
#   1. tune: train 3 grapheme-to-phoneme transformers on the CMU pronouncing
#      dictionary (Debian's festlex-cmu) to a 2M-token budget, record their
#      curves in the embedded SQLite store (./stopwise.db), and choose the
#      stopping policy by cross-validation (fewest tokens with mean EM loss
#      <= 0.5 points);
#   2. train once more with that policy (--stop auto) and print the tokens it
#      saved and the exact-match accuracy it kept.
# About 15 minutes on 2 cores. STOPWISE_MAIN_BUDGET changes the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
budget=${STOPWISE_MAIN_BUDGET:-2M}
stamp=$(date -u +%Y%m%d-%H%M%S)
common=(--data cmudict --budget "$budget" --eval-limit 1000 --store stopwise.db)
echo "== 1/2 tune: 3 runs of $budget tokens on cmudict, then cross-validated thresholds" >&2
build/stopwise tune "${common[@]}" --folds 3 --out "runs/main-$stamp/tune"
echo "== 2/2 train with the tuned policy (--stop auto)" >&2
build/stopwise train "${common[@]}" --stop auto --seed 11 --out "runs/main-$stamp/train"
