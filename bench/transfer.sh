#!/bin/sh
# Warm starts against cold starts (issue 11, transfer; docs/TRANSFER.md).
# Per scenario and seed, three runs with the same recipe and budget B:
#   source  trained on the earlier data (a smaller training split, or another task)
#   cold    the new data from scratch
#   warm    the new data from the source's best checkpoint (--init)
# Every run of a scenario reads the same validation sample at the same
# cadence (--eval-every, --eval-limit, the same --data-seed), so the curves
# compare point by point. bench/transfer.py then gives, per scenario over the
# seeds: the tokens the warm run needs to reach the cold run's final
# (best-checkpoint) validation EM, as a fraction of the tokens the cold run
# needed for it, and the test EM of both at equal tokens (the same budget).
# The source's tokens are not counted: in a retrain they were spent by the
# previous production run.
#
#   bench/transfer.sh [SCENARIO...]
# SCENARIO (default: all four):
#   cmudict-grow          cmudict with 80% of the training words (--subsample 0.8), then all
#   fashion-grow          fashion-mnist with half of its training images, then all
#   lexicon-to-published  cmudict in the lexicon form (stress, ax) to the published form
#                         (--published: no stress, ax = ah): the vowels are new symbols
#   synthetic-to-cmudict  synthetic:reversal over a-z to cmudict: letters shared, phones new
# Environment:
#   SCALE    full (default; what the lead runs: cmudict B = 4M tokens, fashion-mnist
#            2.7M, the task's default models; hours on 2 cores) or tiny (a smoke
#            test of the whole pipeline: 4000 examples, small models, B = 150k;
#            about 90 s of CPU; its numbers mean nothing)
#   SEEDS    default 1 2 3
#   STOPWISE the binary (default build/stopwise); THREADS (default 0: shared)
#   WARM_ARGS extra `train` options for the warm run only (e.g. a lower rate:
#            "--schedule cosine:lr=5e-4,warmup=0,min=0.05"); give TAG with it
#   TAG      a name for this variant: its runs and table get "-TAG" (the source
#            and cold runs are recorded again under it)
# Runs go to bench/results/runs/transfer-SCALE[-TAG]/SCENARIO/seed-K/{source,cold,warm}
# (a run whose JSON exists is kept, so an interrupted benchmark resumes), the
# table to bench/results/transfer-SCALE[-TAG].md and .json.
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
THREADS=${THREADS:-0}
SCALE=${SCALE:-full}
SEEDS=${SEEDS:-1 2 3}
WARM_ARGS=${WARM_ARGS:-}
TAG=${TAG:-}
[ $# -gt 0 ] || set -- cmudict-grow fashion-grow lexicon-to-published synthetic-to-cmudict
name=transfer-$SCALE${TAG:+-$TAG}
root=bench/results/runs/$name

case $SCALE in
full)
    cmu_budget=4M cmu_common="--eval-every 200k --eval-limit 1000"
    fm_budget=2.7M fm_common="--eval-every 135k --eval-limit 3000"
    cmu_model="" fm_model="" synth="synthetic:reversal:n=50000,len=12,alphabet=26" ;;
tiny)
    cmu_budget=150k cmu_common="--eval-every 15k --eval-limit 100 --max-examples 4000"
    fm_budget=150k fm_common="--eval-every 15k --eval-limit 200 --max-examples 4000"
    cmu_model="--model gpt:layers=2,d=64,heads=4" fm_model="--model mlp:hidden=64"
    synth="synthetic:reversal:n=4000,len=10,alphabet=26" ;;
*) echo "transfer.sh: SCALE must be full or tiny, not $SCALE" >&2; exit 2 ;;
esac

run() { # dir args...: one `train` run unless its JSON is there
    dir=$1
    shift
    [ -s "$dir.json" ] && return 0
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir"
    echo "transfer: $dir" >&2
    "$STOPWISE" train "$@" --threads "$THREADS" --no-store --stop none --quiet --out "$dir" --json > "$dir.json.tmp"
    mv "$dir.json.tmp" "$dir.json"
}

for scenario in "$@"; do
    case $scenario in
    cmudict-grow)
        src_args="--data cmudict --subsample 0.8 $cmu_model --budget $cmu_budget $cmu_common"
        new_args="--data cmudict --budget $cmu_budget $cmu_common" new_model=$cmu_model ;;
    fashion-grow)
        src_args="--data fashion-mnist --subsample 0.5 $fm_model --budget $fm_budget $fm_common"
        new_args="--data fashion-mnist --budget $fm_budget $fm_common" new_model=$fm_model ;;
    lexicon-to-published)
        src_args="--data cmudict $cmu_model --budget $cmu_budget $cmu_common"
        new_args="--data cmudict --published --budget $cmu_budget $cmu_common" new_model=$cmu_model ;;
    synthetic-to-cmudict)
        # the synthetic task has no --max-examples: its n is already small at tiny scale
        synth_common=$(echo "$cmu_common" | sed 's/--max-examples [0-9]*//')
        src_args="--data $synth $cmu_model --budget $cmu_budget $synth_common"
        new_args="--data cmudict --budget $cmu_budget $cmu_common" new_model=$cmu_model ;;
    *) echo "transfer.sh: unknown scenario $scenario" >&2; exit 2 ;;
    esac
    for seed in $SEEDS; do
        d=$root/$scenario/seed-$seed
        # shellcheck disable=SC2086
        run "$d/source" $src_args --seed "$seed"
        # shellcheck disable=SC2086
        run "$d/cold" $new_args $new_model --seed "$seed"
        # the warm run takes the source's architecture (no --model)
        # shellcheck disable=SC2086
        run "$d/warm" $new_args --init "$d/source/best.safetensors" --seed "$seed" $WARM_ARGS
    done
done
/usr/bin/python3 bench/transfer.py --runs "$root" --out "bench/results/$name" "$@"
