#!/bin/sh
# Levers that move the learning curve (issue 11), measured one way: per task,
# every setting of every lever against the default recipe, same seeds, same
# budget, test EM at every evaluation (--eval-test; nothing decides on it),
# --stop none. bench/levers.py then writes one table per task: lever, setting,
# tokens to the default recipe's final test EM (and that as a fraction of the
# budget; a probe run's tokens counted in), EM at equal tokens (mean +- sd over
# seeds), wall time, model size. docs/LEVERS.md reads the tables.
#
#   bench/levers.sh [--tiny] [TASK...]    TASK: fashion-mnist and/or cmudict (both)
#
# Environment: STOPWISE (the CLI, default build/stopwise), SEEDS ("1 2 3"),
# KEEPS (keep fractions, "0.3 0.5 0.7 0.9"), THREADS (1: one run per core is
# the cheapest way through many runs; give 0 to use all cores), ONLY (a list
# of lever names to record, e.g. "default augment"; default all), RECORD=0 to
# only rebuild the tables from recorded runs.
# --tiny: a smoke run (fashion-mnist 270k tokens, keep 0.5, seed 1, results
# under bench/results/levers-tiny/); its numbers say nothing about the levers.
#
# Runs are kept (bench/results/curves/levers-TASK/SETTING/seed-K.{csv,json}),
# skipped when present, so an interrupted benchmark resumes where it stopped.
#
# Per task (fixed here, never tuned to a result):
#   fashion-mnist  2.7M tokens = 50 epochs of the 54k training images (the
#                  default budget), the default mlp and wsd schedule,
#                  evaluation every 27k tokens on 3000 select-half images, test
#                  on all 10k test images
#   cmudict        4M tokens (~2.7 epochs, the quality benchmark's budget: the
#                  default 20M would take over an hour a run), the default gpt,
#                  evaluation every 80k tokens (50 points; decoding is most of
#                  a cmudict run's cost) on 1000 select-half words, test on a
#                  fixed seeded 2000 of the test split's words
# Probe runs (score-based subsampling, difficulty curriculum) train a tenth of
# the budget by default.
#
# Adding a lever: add its lines to settings() below, "LEVER|SETTING|OPTIONS";
# recording, the tables and the comparison with the default come for free.
set -eu
cd "$(dirname "$0")/.."
. bench/lever_record.sh # lever_slug, lever_record: how every lever table's runs are kept
STOPWISE=${STOPWISE:-build/stopwise}
THREADS=${THREADS:-1}
RECORD=${RECORD:-1}
ONLY=${ONLY:-all}
TINY=0
if [ "${1:-}" = --tiny ]; then
    TINY=1
    shift
fi
if [ "$TINY" = 1 ]; then
    SEEDS=${SEEDS:-1}
    KEEPS=${KEEPS:-0.5}
    RESULTS=bench/results/levers-tiny
    [ $# -gt 0 ] || set -- fashion-mnist
else
    SEEDS=${SEEDS:-1 2 3}
    KEEPS=${KEEPS:-0.3 0.5 0.7 0.9}
    RESULTS=bench/results
    [ $# -gt 0 ] || set -- fashion-mnist cmudict
fi

# The settings of a task, one per line: LEVER|SETTING|OPTIONS.
settings() {
    echo "default|recipe|"
    for k in $KEEPS; do
        echo "subsample|uniform keep=$k|--subsample uniform:keep=$k"
        echo "subsample|stratified keep=$k|--subsample stratified:keep=$k"
        echo "subsample|el2n hard keep=$k|--subsample el2n:keep=$k,take=hard"
        echo "subsample|el2n easy keep=$k|--subsample el2n:keep=$k,take=easy"
    done
    echo "subsample|loss mix keep=0.5|--subsample loss:keep=0.5,take=mix"
    echo "subsample|forgetting hard keep=0.7|--subsample forgetting:keep=0.7,take=hard"
    case $1 in
    fashion-mnist)
        echo "dedupe|exact|--dedupe"
        echo "augment|shift 2|--augment image:shift=2"
        echo "augment|shift 2 + flip|--augment image:shift=2,flip=1"
        echo "augment|noise 0.1|--augment noise:sigma=0.1"
        echo "curriculum|difficulty|--curriculum difficulty" ;;
    cmudict)
        # no augmentation: none is label-safe for a spelling (docs/LEVERS.md);
        # no dedupe: the loader already merges repeated words
        echo "curriculum|length|--curriculum length"
        echo "curriculum|difficulty|--curriculum difficulty" ;;
    esac
}

wanted() { # lever
    [ "$ONLY" = all ] && return 0
    for l in $ONLY; do [ "$l" = "$1" ] && return 0; done
    return 1
}

for task in "$@"; do
    case $task in
    fashion-mnist)
        if [ "$TINY" = 1 ]; then common="--budget 270k --eval-every 27k --eval-limit 1000 --eval-test 2000"
        else common="--budget 2.7M --eval-every 27k --eval-limit 3000 --eval-test all"; fi ;;
    cmudict)
        if [ "$TINY" = 1 ]; then common="--budget 200k --eval-every 20k --eval-limit 200 --eval-test 300"
        else common="--budget 4M --eval-every 80k --eval-limit 1000 --eval-test 2000"; fi ;;
    *) echo "levers.sh: unknown task $task (fashion-mnist or cmudict)" >&2; exit 2 ;;
    esac
    list=$RESULTS/curves/levers-$task/settings.txt
    mkdir -p "$(dirname "$list")"
    settings "$task" > "$list"
    if [ "$RECORD" = 1 ]; then
        while IFS='|' read -r lever setting opts; do
            wanted "$lever" || continue
            slug=$(lever_slug "$lever" "$setting")
            for seed in $SEEDS; do
                # shellcheck disable=SC2086
                lever_record "$RESULTS" "$task" "$slug" "$seed" "$task" $common $opts
            done
        done < "$list"
    fi
    /usr/bin/python3 bench/levers.py --task "$task" --results "$RESULTS"
done
