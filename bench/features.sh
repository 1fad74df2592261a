#!/bin/sh
# Feature selection (issue 11, docs/FEATURES.md) on the tabular test beds:
# scikit-learn's load_wine and a make_classification set with 8 informative,
# 2 redundant and 20 noise columns (bench/tabular_sets.py, generated here,
# nothing downloaded). Per set and seed (the seed also draws the split):
#   default|recipe            train on every column: the default recipe, its
#                             default budget (50 epochs), --stop none
#   features|M auto           select-features --method M --keep auto (M = mi,
#                             l1, permutation; permutation scores the default
#                             run's model), then the same recipe on the kept
#                             columns (train --features)
#   sklearn-full|mi|f         scikit-learn's MLPClassifier (256 ReLU units) on
#                             every column, and on SelectKBest(mutual_info_classif
#                             | f_classif) with k = what stopwise's mi kept, on
#                             the very same split (bench_split_dump), same run
# Splits 60 / 20 / 20 (wine has 178 rows); test EM at every evaluation
# (--eval-test all). Runs are recorded as bench/levers.sh records them
# (bench/lever_record.sh), so bench/levers.py writes the levers-form table
# ($OUT/levers-SET.md: tokens to the default's final test EM, EM at equal
# tokens, wall, model size), and bench/features_table.py the selections and
# references ($OUT/selection.md).
#
#   bench/features.sh
# Environment: STOPWISE (default build/stopwise), SPLIT_DUMP (default
# bench/bench_split_dump beside it), SEEDS (default 1 2 3), THREADS (default
# 1: these models are tiny), OUT (default bench/results/features; remove it
# to record again: recorded runs are kept).
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
SPLIT_DUMP=${SPLIT_DUMP:-$(dirname "$STOPWISE")/bench/bench_split_dump}
SEEDS=${SEEDS:-1 2 3}
THREADS=${THREADS:-1}
OUT=${OUT:-bench/results/features}
PY=/usr/bin/python3
. bench/lever_record.sh
mkdir -p "$OUT/data" "$OUT/select"
$PY bench/tabular_sets.py "$OUT/data"
rows=$OUT/rows.jsonl
: > "$rows"

now() { date +%s.%N; }

for set in wine classification; do
    csv=$OUT/data/$set.csv
    list=$OUT/curves/levers-$set/settings.txt
    mkdir -p "$(dirname "$list")"
    {
        echo "default|recipe|"
        for m in mi l1 permutation; do echo "features|$m auto|--features (select-features --method $m, per seed)"; done
    } > "$list"
    for seed in $SEEDS; do
        split="--data-seed $seed --val-frac 0.2 --test-frac 0.2"
        # shellcheck disable=SC2086
        lever_record "$OUT" $set default-recipe "$seed" "csv:$csv" $split --eval-test all
        $PY -c 'import csv, json, sys
names = next(csv.reader(open(sys.argv[1])))[:-1]
print(json.dumps({"dataset": sys.argv[2], "seed": int(sys.argv[3]), "method": "stopwise-full", "k": len(names),
                  "selected": names}))' "$csv" $set "$seed" >> "$rows"
        for m in mi l1 permutation; do
            sel=$OUT/select/$set-$m-seed-$seed
            model=""
            [ $m = permutation ] && model="--model $OUT/runs/levers-$set-default-recipe-seed-$seed/best.safetensors"
            t0=$(now)
            # shellcheck disable=SC2086
            nice -n 15 "$STOPWISE" select-features --data "csv:$csv" $split --seed "$seed" --method $m $model \
                --threads "$THREADS" -o "$sel.txt" --json > "$sel.json"
            t1=$(now)
            $PY bench/features_table.py selection --set $set --seed "$seed" --method $m --json "$sel.json" \
                --select-s "$(awk "BEGIN { print $t1 - $t0 }")" >> "$rows"
            # shellcheck disable=SC2086
            lever_record "$OUT" $set "$(lever_slug features "$m auto")" "$seed" "csv:$csv" $split --eval-test all \
                --features "$sel.txt"
        done
        "$SPLIT_DUMP" "csv:$csv" "$OUT/select/$set-split-seed-$seed.tsv" "$seed" 0.2 0.2
        k=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['keep'])" "$OUT/select/$set-mi-seed-$seed.json")
        echo "features: $set seed $seed: scikit-learn references (k = $k)" >&2
        OMP_NUM_THREADS=$THREADS nice -n 15 $PY bench/features_ref.py --data "$csv" \
            --split "$OUT/select/$set-split-seed-$seed.tsv" --seed "$seed" --keep "$k" --name $set >> "$rows"
    done
    $PY bench/levers.py --task $set --results "$OUT"
done
$PY bench/features_table.py table "$rows" --results "$OUT" --json "$OUT/selection.json" | tee "$OUT/selection.md"
