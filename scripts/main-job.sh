#!/usr/bin/env bash
# The main job, end to end on real data: set up, build, then on the CMU
# pronouncing dictionary (Debian's festlex-cmu), grapheme-to-phoneme
# transformers, every run in the embedded SQLite store ./stopwise.db:
#   1. tune: 3 wsd trunks held at the constant rate to the budget, with
#      cooldown branches forked at 10 points (cooldown fractions 0.05, 0.1 and
#      0.2 of the tokens so far); the stopping policy and its cooldown chosen by
#      cross-validation (fewest tokens with mean EM loss <= 0.5 points at the
#      bootstrap upper bound);
#   2. the full budget: 3 runs of the default recipe (the cosine schedule to
#      the end of the budget, no stopping), what training without stopwise gives;
#   3. train with the tuned policy (--stop auto --schedule wsd): it stops, anneals
#      and reports;
# and prints side by side: the tokens used (the cooldown included) against the
# budget, and the test EM against the full-budget runs' mean and spread.
# About 15 minutes on 2 cores. STOPWISE_MAIN_BUDGET changes the budget and
# STOPWISE_MAIN_EVAL_EVERY the cadence: 50k tokens (30 evaluations), fixed for
# tune and train alike, because a tuned policy that counts evaluations holds
# only at the cadence it was tuned at (budget/100 unless given, which on
# cmudict would spend about a third of the wall time evaluating).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
budget=${STOPWISE_MAIN_BUDGET:-1.5M}
out=runs/main-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
every=${STOPWISE_MAIN_EVAL_EVERY:-50k}
common=(--data cmudict --budget "$budget" --eval-every "$every" --store stopwise.db)
echo "== 1/3 tune: 3 wsd trunks of $budget tokens on cmudict with cooldown branches, cross-validated" >&2
build/stopwise tune "${common[@]}" --schedule wsd --folds 3 --branch-shapes linear --out "$out/tune"
echo "== 2/3 the full budget: 3 runs of the default recipe to $budget tokens, no stopping" >&2
for seed in 1 2 3; do
  build/stopwise train "${common[@]}" --stop none --seed "$seed" --quiet --json --out "$out/full-$seed" \
    > "$out/full-$seed.json"
done
echo "== 3/3 train with the tuned policy (--stop auto --schedule wsd)" >&2
build/stopwise train "${common[@]}" --stop auto --schedule wsd --seed 11 --json --out "$out/train" \
  > "$out/train.json"
/usr/bin/python3 scripts/main-job-summary.py "$out"
