#!/bin/sh
# Forecast coverage on real curves (issue 9). Records N default-recipe runs per
# task (the cosine schedule, --stop none, a fixed cadence and sample; kept
# under bench/results/curves/TASK-forecast/, skipped when present, so an
# interrupted benchmark resumes), then cuts each curve at 20, 40 and 60% of its
# tokens and forecasts its future maximum from the other curves (leave one
# curve out): how often the 90% interval covered the truth, its width, and
# the bare fit's delta-method interval for comparison.
#
#   bench/forecast.sh [TASK...]     TASK: fashion-mnist (default) and/or cmudict
# Environment: STOPWISE, BENCH_FORECAST (the coverage tool, default
# build/bench/bench_forecast_coverage), RUNS (default 20 for fashion-mnist, 8 for
# cmudict), THREADS (default 0).
#
#   fashion-mnist  1.35M tokens (25 epochs), evaluation every 13.5k on 3000
#                  select-half images (100 points)
#   cmudict        1M tokens, evaluation every 10k on 1000 select-half words
#                  (100 points)
# Writes bench/results/forecast-TASK.json and prints the tables.
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
BENCH_FORECAST=${BENCH_FORECAST:-build/bench/bench_forecast_coverage}
THREADS=${THREADS:-0}
[ $# -gt 0 ] || set -- fashion-mnist

for task in "$@"; do
    case $task in
    fashion-mnist) budget=1.35M runs=${RUNS:-20} eval="--eval-every 13.5k --eval-limit 3000" ;;
    cmudict) budget=1M runs=${RUNS:-8} eval="--eval-every 10k --eval-limit 1000" ;;
    *) echo "forecast.sh: unknown task $task (fashion-mnist or cmudict)" >&2; exit 2 ;;
    esac
    dir=bench/results/curves/$task-forecast
    mkdir -p "$dir" bench/results/runs
    s=1
    while [ $s -le "$runs" ]; do
        csv=$dir/seed-$s.csv
        if [ ! -s "$csv" ]; then
            out=bench/results/runs/$task-forecast-seed-$s
            rm -rf "$out"
            echo "forecast: recording $task seed $s ($budget tokens)" >&2
            # shellcheck disable=SC2086
            "$STOPWISE" train --data "$task" --budget $budget --seed $s --threads "$THREADS" --no-store \
                --stop none --schedule cosine $eval --out "$out" --quiet --json > "$out.json"
            cp "$out/curve.csv" "$csv.tmp" && mv "$csv.tmp" "$csv"
        fi
        s=$((s + 1))
    done
    "$BENCH_FORECAST" "$dir"/seed-*.csv
    "$BENCH_FORECAST" --json "$dir"/seed-*.csv > "bench/results/forecast-$task.json"
done
