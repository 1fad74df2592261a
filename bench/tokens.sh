#!/bin/sh
# BENCH.md §2, tokens to target, stop and anneal (issue 9). Per task and seed
# it records two runs once (kept under bench/results/curves/, skipped when
# present; a run interrupted part-way goes on from its last checkpoint):
#   TASK-wsd/seed-K.csv     a wsd trunk held at its constant rate, with
#                           cooldown branches forked at regular points
#                           (c = 0.05, 0.1, 0.2; shapes linear and 1-sqrt)
#   TASK-cosine/seed-K.csv  a cosine schedule over the whole budget (the task's
#                           rate, floor and warm-up; the default before wsd):
#                           what "train the full budget" gave
# Both score the test split (fashion-mnist whole, cmudict a fixed sample) at
# every evaluation and branch (--eval-test; nothing decides on it), so a
# policy's stop can be scored on test. bench/tokens.py then replays every baseline policy and the tuned
# one (leave-one-seed-out) with stops followed by their cooldown, against the
# cosine runs of the same seeds; the same with an EMA of the weights where
# bench/average.sh has recorded the trunks with --average ema; and, for
# comparison, truncation-only policies on the cosine curves.
#
#   bench/tokens.sh [TASK...]        TASK: fashion-mnist (default) and/or cmudict
# Environment: STOPWISE (the CLI, default build/stopwise), SEEDS (default 5 for
# fashion-mnist, 3 for cmudict), THREADS (default 0: the machine's cores),
# RECORD=0 to only replay existing curves, KINDS="cosine" (or "wsd") to record
# only those runs (a cmudict seed's wsd trunk takes about 1 h 50 min on two
# cores, its cosine run 30 min: they can be recorded in separate sittings),
# SHAPES (the branches' decay shapes, default linear,sqrt; SHAPES=sqrt halves
# the branch tokens, and the replay then uses the families every seed has).
#
# Per task (fixed here, stated in the README, never tuned to a result):
#   fashion-mnist  T_max 2.7M tokens = 50 epochs of the 54k training images
#                  (one image is one token), mlp 784-256-10, evaluation every
#                  27k tokens (100 per run) on the 3k-image select half, test
#                  on all 10k test images; 20 fork points (every 135k)
#   cmudict        T_max 12M tokens, about 8 epochs of the 90% training
#                  split, the default gpt; evaluation every 120k tokens on
#                  2000 select-half words, test on a fixed seeded 2000 of the
#                  5% test split's 6.7k words (the same words in every run, so
#                  differences between runs are paired; decoding the whole
#                  split at 160 points per seed would cost half an hour);
#                  10 fork points (every 1.2M)
# The learning rate, floor and warm-up of the wsd trunk are the cosine
# default's (docs/TRAINING.md), so the two differ only in the schedule's shape.
set -eu
# what users get: OpenMP's default wait policy. A passive one (as the test
# suite sets) slows a 2-thread process by 30-50% here (1.4x of 1 thread with
# the default, 0.7x with passive, fashion-mnist mlp) and would flatter MPI.
unset OMP_WAIT_POLICY
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
THREADS=${THREADS:-0}
RECORD=${RECORD:-1}
KINDS=${KINDS:-wsd cosine}
SHAPES=${SHAPES:-linear,sqrt}
[ $# -gt 0 ] || set -- fashion-mnist

run_train() { # out task seed budget extra-args...
    out=$1 task=$2 seed=$3 budget=$4
    shift 4
    "$STOPWISE" train --data "$task" --budget "$budget" --seed "$seed" --threads "$THREADS" --no-store \
        --stop none --out "$out" --quiet --json "$@" > "$out.json"
}

record() { # kind task seed budget extra-args...
    kind=$1 task=$2 seed=$3 budget=$4
    shift 4
    dir=bench/results/curves/$task-$kind
    csv=$dir/seed-$seed.csv
    [ -s "$csv" ] && return 0
    mkdir -p "$dir" bench/results/runs
    out=bench/results/runs/$task-$kind-seed-$seed
    t0=$(date +%s)
    # an interrupted recording goes on from its last evaluation (bit for bit,
    # branches included); one that cannot (other settings, another build's
    # config) starts again
    if [ -s "$out/last.safetensors" ] && run_train "$out" "$task" "$seed" "$budget" --resume "$@"; then
        echo "tokens: $task $kind seed $seed resumed" >&2
    else
        rm -rf "$out"
        echo "tokens: recording $task $kind seed $seed ($budget tokens) from $(date +%H:%M:%S)" >&2
        run_train "$out" "$task" "$seed" "$budget" "$@"
    fi
    cp "$out/curve.csv" "$csv.tmp" && mv "$csv.tmp" "$csv"
    echo "tokens: $task $kind seed $seed done in $(( $(date +%s) - t0 )) s" >&2
}

for task in "$@"; do
    case $task in
    fashion-mnist)
        budget=2.7M seeds=${SEEDS:-5} forks=20
        eval="--eval-every 27k --eval-limit 3000 --eval-test all"
        wsd="wsd:lr=1e-3,min=0.01,warmup=27k" ;;
    cmudict)
        budget=12M seeds=${SEEDS:-3} forks=10
        eval="--eval-every 120k --eval-limit 2000 --eval-test 2000"
        wsd="wsd:lr=2e-3,min=0.05,warmup=240k" ;;
    *) echo "tokens.sh: unknown task $task (fashion-mnist or cmudict)" >&2; exit 2 ;;
    esac
    if [ "$RECORD" = 1 ]; then
        s=1
        while [ $s -le "$seeds" ]; do
            for kind in $KINDS; do
                case $kind in
                # shellcheck disable=SC2086
                wsd) record wsd "$task" $s $budget $eval --schedule "$wsd" --forks $forks \
                        --branch-cooldowns 0.05,0.1,0.2 --branch-shapes "$SHAPES" ;;
                # shellcheck disable=SC2086
                cosine) record cosine "$task" $s $budget $eval --schedule cosine ;;
                *) echo "tokens.sh: unknown kind $kind in KINDS (wsd, cosine)" >&2; exit 2 ;;
                esac
            done
            s=$((s + 1))
        done
    fi
    curves=bench/results/curves/$task
    # stop and anneal on the wsd trunks, against the cosine full-budget runs
    /usr/bin/python3 bench/tokens.py --stopwise "$STOPWISE" --task "$task" --budget $budget \
        --curves "$curves-wsd" --cosine "$curves-cosine" --out bench/results
    # the same, with an EMA of the weights beside the raw ones: when
    # bench/average.sh has recorded each trunk with --average ema (the trunk's
    # raw curve, with the weights each evaluation chose)
    have_ema=1
    for c in "$curves"-wsd/seed-*.csv; do
        [ -s "$curves-average-ema/${c##*/}" ] || have_ema=0
    done
    if [ "$have_ema" = 1 ]; then
        /usr/bin/python3 bench/tokens.py --stopwise "$STOPWISE" --task "$task-ema" --budget $budget \
            --curves "$curves-wsd" --cosine "$curves-cosine" --average "$curves-average-ema" --out bench/results
    else
        echo "tokens: no EMA replay for $task (bench/average.sh records each seed's trunk with --average ema)" >&2
    fi
    # truncation only, on the cosine runs themselves (the first release's view)
    /usr/bin/python3 bench/tokens.py --stopwise "$STOPWISE" --task "$task-truncate" --budget $budget \
        --curves "$curves-cosine" --cosine "$curves-cosine" --out bench/results
done
