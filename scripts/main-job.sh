#!/usr/bin/env bash
# The main job, end to end on real data: set up, build, then on Fashion-MNIST
# (Debian's dataset-fashion-mnist), with the defaults a new user gets (the
# task's model, 50 epochs = 2.7M tokens, sized evaluation) and every run in the
# embedded SQLite store ./stopwise.db:
#   1. tune: 3 trunks of the default wsd schedule held at the constant rate to the budget, with
#      cooldown branches forked at 10 points (cooldown fractions 0.05, 0.1 and
#      0.2 of the tokens so far, 1-sqrt: tune's defaults); the stopping policy and its cooldown
#      chosen by cross-validation (fewest tokens, the cooldown's included, with
#      mean EM loss <= 0.5 points at the bootstrap upper bound);
#   2. the full budget: 3 runs of the default recipe (the wsd schedule with
#      its decay at the end of the budget, --stop none), what training without
#      a stop gives;
#   3. train with nothing but --data (the defaults: --stop auto finds the
#      tuned policy): it stops, anneals and reports;
# and prints side by side: the tokens used (the cooldown included) against the
# budget, and the test EM against the full-budget runs' mean and spread.
# About 10 minutes on 2 cores. STOPWISE_MAIN_DATA changes the data set (for
# example cmudict, with STOPWISE_MAIN_BUDGET, which defaults to the data's 50
# epochs, and STOPWISE_MAIN_EVAL_EVERY; cmudict's curves are still rising at any
# budget 15 minutes can afford, so the tuner rightly declines to stop there).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
data=${STOPWISE_MAIN_DATA:-fashion-mnist}
out=runs/main-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
common=(--data "$data" --store stopwise.db)
[ -z "${STOPWISE_MAIN_BUDGET:-}" ] || common+=(--budget "$STOPWISE_MAIN_BUDGET")
[ -z "${STOPWISE_MAIN_EVAL_EVERY:-}" ] || common+=(--eval-every "$STOPWISE_MAIN_EVAL_EVERY")
echo "== 1/3 tune: 3 wsd trunks on $data with cooldown branches, cross-validated" >&2
build/stopwise tune "${common[@]}" --folds 3 --out "$out/tune"
echo "== 2/3 the full budget: 3 runs of the default recipe, no stopping" >&2
for seed in 1 2 3; do
  build/stopwise train "${common[@]}" --stop none --seed "$seed" --quiet --json --out "$out/full-$seed" \
    > "$out/full-$seed.json"
done
echo "== 3/3 train with the defaults (--stop auto finds the tuned policy)" >&2
build/stopwise train "${common[@]}" --seed 11 --json --out "$out/train" \
  > "$out/train.json"
/usr/bin/python3 scripts/main-job-summary.py "$out"
