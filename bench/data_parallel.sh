#!/usr/bin/env bash
# Data-parallel training speed (docs/SCALING.md): tokens/s of one process with
# 2 threads against 2 MPI ranks with 1 thread each, on the default
# fashion-mnist mlp and the default cmudict gpt, in alternating pairs (AB, BA,
# AB, ...) so a changing machine load hits both alike; and the gradient sum
# alone (bench_allreduce) at the models' sizes. The rate is read from
# curve.csv between the first and the last evaluation (steady state: data
# loading and the final report left out; evaluations are sparse and small).
#
#   bench/data_parallel.sh [--reps N] [--tasks "mlp gpt"] [--budget-mlp T] [--budget-gpt T]
#                          [--every-mlp T] [--every-gpt T]
#
# Defaults: 5 pairs; 400k tokens (evaluations every 100k) for the mlp, 300k
# (every 75k) for the gpt: about 4 minutes on a quiet 2-core machine. Builds
# the CLI and bench_allreduce in $STOPWISE_BUILD_DIR (default build/; MPI as
# cmake finds it) unless STOPWISE_BIN names a CLI built with MPI. Runs under
# `nice -n 15`, as root with
# mpirun's consent, over shared memory. Prints one line per pair and writes
# results/data_parallel.json (every rate, the ratios and their medians).
set -euo pipefail
# what users get: OpenMP's default wait policy. A passive one (as the test
# suite sets) slows a 2-thread process by 30-50% here (1.4x of 1 thread with
# the default, 0.7x with passive, fashion-mnist mlp) and would flatter MPI.
unset OMP_WAIT_POLICY
cd "$(dirname "$0")/.."
reps=5 tasks="mlp gpt" budget_mlp=400k budget_gpt=300k every_mlp=100k every_gpt=75k
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --budget-mlp) budget_mlp=$2; shift 2 ;;
    --budget-gpt) budget_gpt=$2; shift 2 ;;
    --every-mlp) every_mlp=$2; shift 2 ;;
    --every-gpt) every_gpt=$2; shift 2 ;;
    *) echo "usage: $0 [--reps N] [--tasks \"mlp gpt\"] [--budget-mlp T] [--budget-gpt T] [--every-mlp T]" \
         "[--every-gpt T]" >&2; exit 2 ;;
  esac
done
dir=${STOPWISE_BUILD_DIR:-build}
bin=${STOPWISE_BIN:-}
allreduce=
if [ -z "$bin" ]; then
  nice -n 15 cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  nice -n 15 cmake --build "$dir" -j "$(nproc)" --target stopwise_cli bench_allreduce >/dev/null
  bin=$dir/stopwise
fi
[ -x "$(dirname "$bin")/bench/bench_allreduce" ] && allreduce=$(dirname "$bin")/bench/bench_allreduce
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
  OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_mpi_yield_when_idle=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p bench/results
out=bench/results/data_parallel.json

# tokens/s between the first and last rows of a run's curve.csv
rate() {
  awk -F, 'NR == 2 { t0 = $1; w0 = $3 } NR > 2 { t1 = $1; w1 = $3 } END { printf "%.0f", (t1 - t0) / (w1 - w0) }' "$1/curve.csv"
}

run() { # task mode rep
  local task=$1 mode=$2 out=$tmp/$1-$2-$3 args
  case $task in
    mlp) args="--data fashion-mnist --budget $budget_mlp --eval-every $every_mlp --eval-limit 200 --final-limit 200" ;;
    gpt) args="--data cmudict --budget $budget_gpt --eval-every $every_gpt --eval-limit 100 --final-limit 200" ;;
  esac
  args="train $args --stop none --no-store --quiet --out $out"
  if [ "$mode" = 1x2 ]; then
    nice -n 15 "$bin" $args --threads 2 >/dev/null
  else
    nice -n 15 mpirun -np 2 --oversubscribe "$bin" $args --threads 1 >/dev/null
  fi
  rate "$out"
}

if [ -n "$allreduce" ]; then
  echo "the gradient sum alone, 2 ranks (bench_allreduce):"
  nice -n 15 mpirun -np 2 --oversubscribe "$allreduce" 20 3 | tee "$tmp/allreduce.txt"
fi
echo "task  rep  1 process x 2 threads  2 ranks x 1 thread  ratio (2x1 / 1x2)"
: >"$tmp/pairs.txt"
for task in $tasks; do
  for rep in $(seq 1 "$reps"); do
    if [ $((rep % 2)) = 1 ]; then a=$(run "$task" 1x2 "$rep"); b=$(run "$task" 2x1 "$rep")
    else b=$(run "$task" 2x1 "$rep"); a=$(run "$task" 1x2 "$rep"); fi
    awk -v t="$task" -v r="$rep" -v a="$a" -v b="$b" 'BEGIN { printf "%-5s %3d  %21d  %18d  %.2f\n", t, r, a, b, b / a }'
    echo "$task $a $b" >>"$tmp/pairs.txt"
  done
done
/usr/bin/python3 - "$tmp/pairs.txt" "$out" "$tmp/allreduce.txt" <<'EOF'
import json, statistics, sys, os
pairs, out, ar = sys.argv[1], sys.argv[2], sys.argv[3]
res = {"what": "tokens/s, 1 process x 2 threads against 2 MPI ranks x 1 thread, alternating pairs", "tasks": {}}
for line in open(pairs):
    task, a, b = line.split()
    t = res["tasks"].setdefault(task, {"1x2": [], "2x1": [], "ratio": []})
    t["1x2"].append(int(a)); t["2x1"].append(int(b)); t["ratio"].append(round(int(b) / int(a), 3))
for task, t in res["tasks"].items():
    t["median_ratio"] = statistics.median(t["ratio"])
    print(f"{task}: median ratio (2 ranks x 1 thread / 1 process x 2 threads) {t['median_ratio']:.2f}")
if os.path.exists(ar):
    res["allreduce"] = open(ar).read().splitlines()
json.dump(res, open(out, "w"), indent=1)
print("wrote", out)
EOF
