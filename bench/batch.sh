#!/bin/sh
# Batch size (issue 11, docs/BATCH.md): a batch-size ramp with the learning
# rate scaled to the batch, against fixed batch sizes, at equal tokens (every
# run trains the same budget, --stop none). Per task and seed, the task's
# default recipe at
#   default                 its default batch D (fashion-mnist 128, cmudict 64)
#   fixed-S, fixed-L        a small and a large fixed batch, the recipe's rate
#   fixed-L-sqrt            the large batch at the rate x sqrt(L / D)
#   ramp-S-L                --batch-ramp from=S,to=L,over=0.3: S growing to L
#                           over the first 30% of the tokens, rate x sqrt(B / D)
#   ramp-S-L-linear         the same with the linear rule, rate x B / D
# with S, L = 32, 512 (fashion-mnist) and 16, 256 (cmudict). Runs are
# recorded as bench/levers.sh records them (bench/lever_record.sh), with its
# per-task settings (fashion-mnist: the default 2.7M tokens, evaluation every
# 27k on 3000 images, test on all; cmudict: 4M tokens, every 40k on 1000
# words, test on 2000), and bench/levers.py writes the table: tokens to the
# default recipe's final test EM (fraction of the budget), EM at equal tokens
# (mean +- sd), wall time, model size. The settings below are lines levers.sh's
# settings() can take as they are ("batch|...|...").
#
#   bench/batch.sh [TASK...]     TASK: fashion-mnist and/or cmudict (default both)
# Environment: STOPWISE (default build/stopwise), SEEDS (default 1 2 3),
# THREADS (default 1), OUT (default bench/results/batch; its
# curves/levers-TASK/ and levers-TASK.md), SCALE:
#   full (default)  as above: 36 runs, hours on 2 cores
#   small           a smoke run in minutes (fashion-mnist on 6000 images for
#                   150k tokens; cmudict on 3000 words for 100k tokens on a
#                   gpt:layers=2,d=64); says nothing about the lever
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
SEEDS=${SEEDS:-1 2 3}
THREADS=${THREADS:-1}
OUT=${OUT:-bench/results/batch}
SCALE=${SCALE:-full}
[ $# -gt 0 ] || set -- fashion-mnist cmudict
. bench/lever_record.sh

settings() { # S L
    echo "default|recipe|"
    echo "batch|fixed $1|--batch $1"
    echo "batch|fixed $2|--batch $2"
    echo "batch|fixed $2 sqrt|--batch-ramp from=$2,to=$2"
    echo "batch|ramp $1-$2 sqrt|--batch-ramp from=$1,to=$2,over=0.3"
    echo "batch|ramp $1-$2 linear|--batch-ramp from=$1,to=$2,over=0.3,scale=linear"
}

for task in "$@"; do
    case $task/$SCALE in
    fashion-mnist/full) S=32 L=512 common="--budget 2.7M --eval-every 27k --eval-limit 3000 --eval-test all" ;;
    fashion-mnist/small) S=32 L=512 common="--max-examples 6000 --budget 150k --eval-every 3k --eval-test all" ;;
    cmudict/full) S=16 L=256 common="--budget 4M --eval-every 40k --eval-limit 1000 --eval-test 2000" ;;
    cmudict/small) S=16 L=256 common="--max-examples 3000 --budget 100k --eval-every 2k --eval-test all --model gpt:layers=2,d=64,heads=4" ;;
    *) echo "batch.sh: unknown task $task or SCALE $SCALE (fashion-mnist, cmudict; full, small)" >&2; exit 2 ;;
    esac
    list=$OUT/curves/levers-$task/settings.txt
    mkdir -p "$(dirname "$list")"
    settings $S $L > "$list"
    while IFS='|' read -r lever setting opts; do
        for seed in $SEEDS; do
            # shellcheck disable=SC2086
            lever_record "$OUT" "$task" "$(lever_slug "$lever" "$setting")" "$seed" "$task" $common $opts
        done
    done < "$list"
    /usr/bin/python3 bench/levers.py --task "$task" --results "$OUT"
done
