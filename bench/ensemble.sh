#!/bin/sh
# Ensembles and beam search (issue 11, docs/ENSEMBLES.md): test EM gained
# against inference cost, per task: greedy decoding against beam widths 2, 4
# and 8 (sequence tasks; beam 4 also with alpha 0 and 1), ensembles of 1, 2,
# 3 and 5 models, 3 models with beam 4, and a snapshot ensemble of one run.
# bench/ensemble.py runs `stopwise eval` for each row on one fixed sample of
# the test split, one thread, and writes bench/results/ensemble-TASK.{json,md}
# (EM, Delta EM, decode seconds and their ratio to greedy's, median of the
# rounds).
#
#   bench/ensemble.sh [--quick] [TASK...]    TASK: fashion-mnist and/or cmudict (both)
#
# Full (the default): per task, trains what the rows need, skipped when
# present: 5 seeds of the task's recipe (bench/results/runs/ensemble-TASK-seed-K)
# and one run of the same recipe with the restarts schedule, 5 cycles, keeping a
# snapshot at each cycle's end (--snapshots 5; ensemble-TASK-restarts). Rows use
# the whole test split, 5 rounds.
#   fashion-mnist  the tokens benchmark's cosine recipe: 2.7M tokens, default mlp
#   cmudict        levers.sh's recipe: 4M tokens, default gpt and schedule,
#                  evaluation every 40k tokens on 1000 words
# --quick: no training. Members are checkpoints already under
# bench/results/runs/ (read-only; copied aside first, and run folders written
# in the last 10 minutes, a live run's, are left out), seeds of one recipe:
# fashion-mnist the tokens benchmark's cosine runs (seeds 1-5), cmudict the
# forecast benchmark's (1M tokens, seeds 5-8), best validation EM first;
# snapshots = best and last of the first member's run. cmudict on a seeded
# 1500 words, one round (the cost is CPU time, steady from round to round);
# results under bench/results/ensemble-quick/.
#
# Environment: STOPWISE (the CLI, default build/stopwise), THREADS (training
# threads, 0), LIMIT and REPS (override the sample size and rounds), MEMBERS
# (with --quick and one TASK: these run folders instead, e.g. levers.sh's
# default recipe, "bench/results/runs/levers-cmudict-default-recipe-seed-*").
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
THREADS=${THREADS:-0}
QUICK=0
if [ "${1:-}" = --quick ]; then
    QUICK=1
    shift
fi
[ $# -gt 0 ] || set -- fashion-mnist cmudict

# A checkpoint of a run folder not written in the last 10 minutes, copied
# into $work (a run that is still training rewrites its files).
settled() { # run folder
    [ -s "$1/best.safetensors" ] || return 1
    [ -z "$(find "$1" -maxdepth 1 -newermt '-10 minutes' -print -quit)" ]
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
take() { # run folder -> the copied best checkpoint's path
    name=$(basename "$1")
    mkdir -p "$work/$name"
    cp "$1"/*.safetensors "$work/$name/"
    echo "$work/$name/best.safetensors"
}

record() { # out options...
    out=$1
    shift
    [ -s "$out/best.safetensors" ] && [ -s "$out.json" ] && return 0
    rm -rf "$out"
    mkdir -p "$(dirname "$out")"
    echo "ensemble: training $out from $(date +%H:%M:%S)" >&2
    # shellcheck disable=SC2086
    nice -n 15 "$STOPWISE" train --threads "$THREADS" --no-store --stop none --out "$out" --quiet --json "$@" \
        < /dev/null > "$out.json.tmp"
    mv "$out.json.tmp" "$out.json"
}

for task in "$@"; do
    case $task in
    fashion-mnist) recipe="--budget 2.7M" budget=2700000 ;;
    cmudict) recipe="--budget 4M --eval-every 40k --eval-limit 1000" budget=4000000 ;;
    *) echo "ensemble.sh: unknown task $task (fashion-mnist or cmudict)" >&2; exit 2 ;;
    esac
    members=""
    if [ "$QUICK" = 1 ]; then
        # shellcheck disable=SC2086 # MEMBERS is a glob, on purpose
        case ${MEMBERS:+members}$task in
        members*) runs=$(ls -d $MEMBERS) ;;
        fashion-mnist) runs=$(ls -d bench/results/runs/fashion-mnist-cosine-seed-[1-5] 2>/dev/null || true) ;;
        cmudict) runs=$(ls -d bench/results/runs/cmudict-forecast-seed-*/ 2>/dev/null || true) ;;
        esac
        for run in $runs; do
            settled "$run" && members="$members $(take "$run")"
        done
        [ -n "$members" ] || { echo "ensemble.sh: no settled $task checkpoints under bench/results/runs" >&2; exit 1; }
        limit=${LIMIT:-$([ "$task" = cmudict ] && echo 1500 || echo 0)}
        reps=${REPS:-$([ "$task" = cmudict ] && echo 1 || echo 3)}
        # shellcheck disable=SC2086
        /usr/bin/python3 bench/ensemble.py --task "$task" --stopwise "$STOPWISE" --members $members \
            --order-by-val-em --snapshots-of-first --limit "$limit" --reps "$reps" \
            --out "bench/results/ensemble-quick/ensemble-$task"
        continue
    fi
    for seed in 1 2 3 4 5; do
        # shellcheck disable=SC2086
        record "bench/results/runs/ensemble-$task-seed-$seed" --data "$task" --seed "$seed" $recipe
        members="$members bench/results/runs/ensemble-$task-seed-$seed/best.safetensors"
    done
    # shellcheck disable=SC2086
    record "bench/results/runs/ensemble-$task-restarts" --data "$task" --seed 1 $recipe --snapshots 5 \
        --schedule "restarts:lr=$([ "$task" = cmudict ] && echo 2e-3 || echo 1e-3),period=$((budget / 5)),mult=1"
    # shellcheck disable=SC2086
    /usr/bin/python3 bench/ensemble.py --task "$task" --stopwise "$STOPWISE" --members $members \
        --snapshots "bench/results/runs/ensemble-$task-restarts" --limit "${LIMIT:-0}" --reps "${REPS:-5}"
done
