#!/bin/sh
# Weight averaging at equal tokens, under the wsd trunk's constant rate
# (issue 9): where a stop without a cooldown leaves the weights, which is where
# an average could stand in for the anneal. Per task and seed, runs that
# differ only in --average (none, ema, lawa), --stop none, with the test
# split scored at every evaluation (--eval-test) with the weights the
# evaluation chose. The average never changes training: the raw curve of
# every run is the same (the ema and lawa runs record it as val_em_raw).
# Curves are kept under bench/results/curves/TASK-average-AVG/ (skipped when
# present); bench/average.py then compares, at every evaluation point, the
# select-sample and test EM of each average against the raw weights, and
# against the anneal (the tokens benchmark's cooldown branches) where the
# tokens benchmark's wsd trunk of the same seed exists.
#
#   bench/average.sh [TASK...]     TASK: fashion-mnist (default) and/or cmudict
# Environment: STOPWISE, SEEDS (default 1 2 3 for fashion-mnist, 1 2 for
# cmudict), THREADS (default 0).
#
# Every run is held at the constant rate to its budget, as a trunk is
# (decay_start=1G: the wsd decay starts far past the budget; a trunk with
# --forks holds its rate the same way), so the raw weights are the trunk's.
#   fashion-mnist  the tokens benchmark's wsd trunk exactly (2.7M tokens,
#                  wsd:lr=1e-3,min=0.01,warmup=27k, evaluation every 27k on
#                  3000 images, the whole test split), so its "none" run is
#                  that trunk when recorded (and bench/tokens.sh replays the
#                  trunk with the ema run's choice of weights)
#   cmudict        the tokens benchmark's wsd trunk settings to 2M tokens
#                  (its 12M would cost hours per average), evaluation every
#                  20k on 1000 words, 2000 test words
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
THREADS=${THREADS:-0}
[ $# -gt 0 ] || set -- fashion-mnist

record() { # task avg seed args...
    task=$1 avg=$2 seed=$3
    shift 3
    dir=bench/results/curves/$task-average-$avg
    csv=$dir/seed-$seed.csv
    [ -s "$csv" ] && return 0
    mkdir -p "$dir" bench/results/runs
    out=bench/results/runs/$task-average-$avg-seed-$seed
    rm -rf "$out"
    echo "average: recording $task --average $avg seed $seed" >&2
    "$STOPWISE" train --data "$task" --seed "$seed" --threads "$THREADS" --no-store --stop none --average "$avg" \
        --out "$out" --quiet --json "$@" > "$out.json"
    cp "$out/curve.csv" "$csv.tmp" && mv "$csv.tmp" "$csv"
}

for task in "$@"; do
    case $task in
    fashion-mnist)
        seeds=${SEEDS:-1 2 3}
        args="--budget 2.7M --schedule wsd:lr=1e-3,min=0.01,warmup=27k,decay_start=1G --eval-every 27k --eval-limit 3000 --eval-test all" ;;
    cmudict)
        seeds=${SEEDS:-1 2}
        args="--budget 2M --schedule wsd:lr=2e-3,min=0.05,warmup=240k,decay_start=1G --eval-every 20k --eval-limit 1000 --eval-test 2000" ;;
    *) echo "average.sh: unknown task $task (fashion-mnist or cmudict)" >&2; exit 2 ;;
    esac
    for seed in $seeds; do
        for avg in none ema lawa; do
            # the tokens benchmark's trunk is this run without averaging
            trunk=bench/results/curves/$task-wsd/seed-$seed.csv
            if [ "$avg" = none ] && [ "$task" = fashion-mnist ] && [ -s "$trunk" ]; then
                mkdir -p "bench/results/curves/$task-average-none"
                cp "$trunk" "bench/results/curves/$task-average-none/seed-$seed.csv"
                continue
            fi
            # shellcheck disable=SC2086
            record "$task" "$avg" "$seed" $args
        done
    done
    /usr/bin/python3 bench/average.py --task "$task" --curves bench/results/curves --out bench/results
done
