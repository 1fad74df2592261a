#!/bin/sh
# BENCH.md §2, tokens to target: record full-budget curves once per task and
# seed (bench/results/curves/TASK/seed-K.csv), then replay every baseline
# policy and the tuned one (leave-one-curve-out) over them: bench/tokens.py.
#
#   bench/tokens.sh [TASK...]        TASK: fashion-mnist (default) and/or cmudict
# Environment: STOPWISE (the CLI, default build/stopwise), SEEDS (default 5),
# THREADS (default 1), RECORD=0 to only replay existing curves.
#
# T_max per task (fixed here, stated in the README, never tuned to a result):
#   fashion-mnist  2.7M tokens = 50 epochs of the 54k training images
#                  (one image is one token), mlp 784-256-10, evaluation
#                  every 27k tokens (100 per run) on the 6k validation images
#   cmudict        4M tokens, about 2.7 epochs of the 90% training split, the
#                  default gpt: what a practitioner would give one run on a
#                  2-core machine (~5-10 minutes), evaluation every 40k tokens
#                  on 2000 validation words (100 per run)
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
SEEDS=${SEEDS:-5}
THREADS=${THREADS:-1}
# a shared, oversubscribed machine: spinning OpenMP threads stall each other
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
RECORD=${RECORD:-1}
[ $# -gt 0 ] || set -- fashion-mnist

record() { # task seed budget extra-args...
    task=$1 seed=$2 budget=$3
    shift 3
    dir=bench/results/curves/$task
    csv=$dir/seed-$seed.csv
    [ -s "$csv" ] && return 0
    mkdir -p "$dir" bench/results/runs
    out=bench/results/runs/$task-seed-$seed
    rm -rf "$out"
    echo "tokens: recording $task seed $seed ($budget tokens)" >&2
    t0=$(date +%s)
    "$STOPWISE" train --data "$task" --budget "$budget" --seed "$seed" --threads "$THREADS" --no-store \
        --stop none --out "$out" --quiet --json "$@" > "$out.json"
    cp "$out/curve.csv" "$csv"
    echo "tokens: $task seed $seed done in $(( $(date +%s) - t0 )) s" >&2
}

for task in "$@"; do
    case $task in
    # fixed cadence and sample (train's own are sized from measured times);
    # the sample comes from the validation split's select half (3k images)
    fashion-mnist) budget=2.7M extra="--eval-every 27k --eval-limit 6000" ;;
    cmudict) budget=4M extra="--eval-every 40k --eval-limit 2000" ;;
    *) echo "tokens.sh: unknown task $task (fashion-mnist or cmudict)" >&2; exit 2 ;;
    esac
    if [ "$RECORD" = 1 ]; then
        s=1
        while [ $s -le "$SEEDS" ]; do
            # shellcheck disable=SC2086
            record "$task" $s $budget $extra
            s=$((s + 1))
        done
    fi
    python3 bench/tokens.py --stopwise "$STOPWISE" --task "$task" --budget $budget \
        --curves bench/results/curves/"$task" --out bench/results
done
