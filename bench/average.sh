#!/usr/bin/env bash
# Weight averaging at equal tokens (issue 9): for each task and seed, three
# runs of the same budget that differ only in --average (none, ema, lawa). The
# average never changes training, so the raw curve of every run is the same;
# what differs is which weights the best checkpoint holds. Reports, per task
# and average: best validation EM on the select half (what decisions read), the
# best checkpoint's EM on the score half (read by no decision) and its test EM,
# and which weight set the best checkpoint came from.
#
#   bench/average.sh [--epochs 5] [--seeds 1,2] [--threads 1] [--tasks synthetic,fashion-mnist]
# Writes bench/results/average.json.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=5 seeds=1,2 threads=1 tasks=synthetic,fashion-mnist
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2;;
    --seeds) seeds=$2; shift 2;;
    --threads) threads=$2; shift 2;;
    --tasks) tasks=$2; shift 2;;
    *) echo "usage: $0 [--epochs N] [--seeds 1,2] [--threads N] [--tasks LIST]" >&2; exit 2;;
  esac
done
[ -x build/stopwise ] || scripts/build.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
out=bench/results/average
mkdir -p "$out"
rows=()
for task in ${tasks//,/ }; do
  case "$task" in
    # 3600 training examples of about 13 tokens: about 47k tokens an epoch
    synthetic) data="synthetic:reversal:n=4000,len=6"; model="gpt:layers=2,d=64,heads=4,dropout=0.1"; per_epoch=47000;;
    # 54k training images, one token each
    fashion-mnist) data="fashion-mnist"; model="mlp:hidden=256,act=relu,dropout=0.2"; per_epoch=54000;;
    *) echo "unknown task $task" >&2; exit 2;;
  esac
  budget=$((epochs * per_epoch))
  for seed in ${seeds//,/ }; do
    for avg in none ema lawa; do
      dir="$out/$task-$seed-$avg"
      rm -rf "$dir"
      # a fixed cadence and the whole select half, so the three runs evaluate alike
      ./build/stopwise train --data "$data" --model "$model" --budget "$budget" --seed "$seed" --stop none \
        --eval-every $((budget / 50)) --eval-limit 1000000 --average "$avg" --threads "$threads" --no-store --quiet --json --out "$dir" > "$dir.json"
      rows+=("$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({"task":sys.argv[2],"seed":int(sys.argv[3]),"average":sys.argv[4],"budget":r["budget"],"best_val_em":r["best_val_em"],"select_em":r["select_em"],"score_em":r["score_em"],"test_em":r["test_em"],"weights":r["weights"],"eval_share":r["eval_share"],"wall_s":r["wall_s"]}))' "$dir.json" "$task" "$seed" "$avg")")
      echo "${rows[-1]}" >&2
    done
  done
done
printf '%s\n' "${rows[@]}" | python3 -c '
import json, sys, statistics as st
rows = [json.loads(l) for l in sys.stdin if l.strip()]
json.dump(rows, open("bench/results/average.json", "w"), indent=1)
print("%-14s %-5s %8s %8s %8s %8s  %s" % ("task", "avg", "sample", "score", "test", "d_test", "best weights"))
for task in sorted({r["task"] for r in rows}):
    base = {r["seed"]: r for r in rows if r["task"] == task and r["average"] == "none"}
    for avg in ("none", "ema", "lawa"):
        rs = [r for r in rows if r["task"] == task and r["average"] == avg]
        if not rs: continue
        d = [r["test_em"] - base[r["seed"]]["test_em"] for r in rs if r["seed"] in base]
        print("%-14s %-5s %8.2f %8.2f %8.2f %+8.2f  %s" % (task, avg, st.mean(r["best_val_em"] for r in rs),
              st.mean(r["score_em"] for r in rs), st.mean(r["test_em"] for r in rs), st.mean(d) if d else 0,
              ",".join(r["weights"] for r in rs)))
'
