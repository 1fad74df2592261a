#!/bin/sh
# Model pruning on Fashion-MNIST (issue 11, docs/PRUNING.md): size, speed and
# test EM of the default classifier (mlp 784-256-10) against
#   gradual    the same run with --prune neurons:keep=0.5 (Zhu & Gupta's cubic
#              schedule from 10% to 60% of the budget), ending in the compact
#              784-128-10 model (pruned.safetensors), at equal tokens
#   scratch    a 784-128-10 model trained from scratch with the same recipe:
#              exactly the pruned model's parameter count (101,770)
#   one-shot   stopwise prune --neurons 0.5 of the dense model, no fine-tuning
#   finetune   that, fine-tuned for 10% of the budget, where train --init exists
#   magnitude  --prune magnitude:sparsity=0.5: half the weights zero, but the
#              tensors stay dense (same size, same speed)
# per seed. Speed: bench_prune_speed (forward passes of 10,000 inputs in
# batches of 256 on one thread, the model alone) and `stopwise predict` on the
# 10,000 test images as CSV lines (parsing included), one thread; both by CPU
# time (user + system), which other processes on the cores do not stretch
# (wall times are recorded too).
#
#   bench/prune.sh [--quick]
# --quick: a small-scale check (12k training images, 120k tokens, seeds 1 2
#   unless SEEDS is set): minutes, not the target numbers.
# Environment: STOPWISE (build/stopwise), SPEED (build/bench/bench_prune_speed),
# SEEDS (1 2 3), THREADS (training threads, 0 = shared cores), RESULTS
# (bench/results). Writes RESULTS/prune-fashion-mnist[-quick].json and .md (the
# table); the runs go under RESULTS/runs/prune-TAG/, and a run found there is
# not trained again (remove the folder to retrain; the speeds are measured anew).
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
SPEED=${SPEED:-build/bench/bench_prune_speed}
THREADS=${THREADS:-0}
RESULTS=${RESULTS:-bench/results}
quick=0
[ "${1:-}" = --quick ] && quick=1
if [ $quick = 1 ]; then
    SEEDS=${SEEDS:-1 2}
    tag=fashion-mnist-quick
    data="--max-examples 14000 --eval-every 6k"
    budget=120k
    finetune=12k
else
    SEEDS=${SEEDS:-1 2 3}
    tag=fashion-mnist
    data="--eval-every 27k --eval-limit 3000"
    budget=2.7M
    finetune=270k
fi
runs=$RESULTS/runs/prune-$tag
mkdir -p "$runs"
log=$runs/measurements.jsonl
: > "$log"
dense_spec="mlp:hidden=256,act=relu,dropout=0.2"
small_spec="mlp:hidden=128,act=relu,dropout=0.2"

# the 10,000 test images as predict input: raw pixels, comma-separated
csv=$runs/test-images.csv
[ -s "$csv" ] || /usr/bin/python3 - "$csv" <<'EOF'
import gzip, sys
import numpy as np
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
with open(sys.argv[1] + ".tmp", "w") as out:
    for row in x:
        out.write(",".join(map(str, row)) + "\n")
import os
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
EOF

train() { # name seed budget args... -> $runs/name-seed-S/ and .json
    name=$1 seed=$2 tokens=$3
    shift 3
    dir=$runs/$name-seed-$seed
    if [ -s "$dir.json" ] && [ -s "$dir/best.safetensors" ]; then
        echo "prune bench: $name seed $seed already trained ($dir)" >&2
        return 0
    fi
    echo "prune bench: training $name seed $seed" >&2
    rm -rf "$dir"
    # shellcheck disable=SC2086
    "$STOPWISE" train --data fashion-mnist --seed "$seed" --threads "$THREADS" --no-store --stop none \
        --quiet --json --out "$dir" --budget "$tokens" $data "$@" > "$dir.json"
}

tokens_of() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['tokens'])" "$1"; }

measure() { # row seed checkpoint train-json tokens
    row=$1 seed=$2 ckpt=$3 tj=$4 tokens=$5
    ev=$("$STOPWISE" eval --model "$ckpt" --data fashion-mnist --json)
    sp=$(OMP_NUM_THREADS=1 "$SPEED" --model "$ckpt" --threads 1)
    # wall and CPU (user + system) seconds of the whole command
    OMP_NUM_THREADS=1 /usr/bin/time -f "%e %U %S" -o "$runs/predict.time" "$STOPWISE" predict --model "$ckpt" \
        < "$csv" > "$runs/predict.out"
    read -r wall user sys < "$runs/predict.time"
    bytes=$(wc -c < "$ckpt")
    printf '{"row":"%s","seed":%s,"checkpoint":"%s","bytes":%s,"tokens":%s,"predict_s":%s,"predict_cpu_s":%s,"eval":%s,"speed":%s,"train":%s}\n' \
        "$row" "$seed" "$ckpt" "$bytes" "$tokens" "$wall" "$(awk "BEGIN { print $user + $sys }")" "$ev" "$sp" \
        "$(cat "$tj" 2>/dev/null || echo null)" >> "$log"
}

has_init=0
"$STOPWISE" train --help | grep -q -- '--init' && has_init=1

for seed in $SEEDS; do
    train dense "$seed" "$budget" --model "$dense_spec"
    train gradual "$seed" "$budget" --model "$dense_spec" --prune neurons:keep=0.5,start=10%,end=60%
    train scratch "$seed" "$budget" --model "$small_spec"
    train magnitude "$seed" "$budget" --model "$dense_spec" --prune magnitude:sparsity=0.5,start=10%,end=60%
    used=$(tokens_of "$runs/dense-seed-$seed.json")
    "$STOPWISE" prune --model "$runs/dense-seed-$seed/best.safetensors" --neurons 0.5 \
        --out "$runs/oneshot-seed-$seed.safetensors" --json > "$runs/oneshot-seed-$seed.json"
    measure dense "$seed" "$runs/dense-seed-$seed/best.safetensors" "$runs/dense-seed-$seed.json" "$used"
    measure gradual "$seed" "$runs/gradual-seed-$seed/pruned.safetensors" "$runs/gradual-seed-$seed.json" "$used"
    measure scratch "$seed" "$runs/scratch-seed-$seed/best.safetensors" "$runs/scratch-seed-$seed.json" "$used"
    measure magnitude "$seed" "$runs/magnitude-seed-$seed/best.safetensors" "$runs/magnitude-seed-$seed.json" "$used"
    measure one-shot "$seed" "$runs/oneshot-seed-$seed.safetensors" none "$used"
    if [ $has_init = 1 ]; then
        train finetune "$seed" "$finetune" --model "$small_spec" --init "$runs/oneshot-seed-$seed.safetensors"
        measure finetune "$seed" "$runs/finetune-seed-$seed/best.safetensors" "$runs/finetune-seed-$seed.json" \
            "$((used + $(tokens_of "$runs/finetune-seed-$seed.json")))"
    fi
done
/usr/bin/python3 bench/prune.py --log "$log" --runs "$runs" --out "$RESULTS/prune-$tag"
