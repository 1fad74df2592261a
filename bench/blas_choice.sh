#!/usr/bin/env bash
# Which BLAS, and which kernel, should stopwise use on this machine?
#
# Builds the benchmark programs twice, -DSTOPWISE_BLAS=blis and
# -DSTOPWISE_BLAS=openblas (build-blas-blis/, build-blas-openblas/), then
# measures bench_gemm_peak and our training throughput (bench_throughput,
# gpt d_model 128 and 256) under each environment variant, round-robin over
# the variants for REPS rounds (median), and prints a table:
#   blis      default          BLIS's own detection (stopwise's choice off)
#   blis      skx              BLIS_ARCH_TYPE=skx
#   blis      stopwise         sw_blas_init picks the kernel (BLIS_ARCH_TYPE unset)
#   openblas  machine          OPENBLAS_CORETYPE as this machine sets it
#   openblas  SkylakeX         OPENBLAS_CORETYPE=SkylakeX
#   openblas  unset            OPENBLAS_CORETYPE removed
# The variables are set only on the benchmark's own command lines.
#
#   bench/blas_choice.sh [--reps 3] [--threads 1,2] [--no-throughput]
# Writes bench/results/blas_choice.json.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3 threads=1,2 throughput=1
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --no-throughput) throughput=0; shift ;;
    *) echo "usage: bench/blas_choice.sh [--reps 3] [--threads 1,2] [--no-throughput]" >&2; exit 2 ;;
  esac
done
prefix=${STOPWISE_BLAS_BUILD_PREFIX:-build-blas}
if [ -z "${STOPWISE_BLAS_CHOICE_NO_BUILD:-}" ]; then
  for blas in blis openblas; do
    echo "blas_choice: building $prefix-$blas" >&2
    cmake -S . -B "$prefix-$blas" -DCMAKE_BUILD_TYPE=Release -DSTOPWISE_BLAS=$blas -DSTOPWISE_BENCH=ON \
      -DSTOPWISE_TESTS=OFF >/dev/null
    cmake --build "$prefix-$blas" -j "$(nproc)" --target bench_gemm_peak bench_throughput >/dev/null
  done
fi

machine_core=${OPENBLAS_CORETYPE:-}
# name | blas | env command prefix | extra gemm_peak flags
variants=(
  "blis default|blis|env -u BLIS_ARCH_TYPE|--no-choose"
  "blis skx|blis|env BLIS_ARCH_TYPE=skx|--no-choose"
  "blis stopwise|blis|env -u BLIS_ARCH_TYPE|"
  "openblas machine (${machine_core:-unset})|openblas|env|"
  "openblas SkylakeX|openblas|env OPENBLAS_CORETYPE=SkylakeX|"
  "openblas unset|openblas|env -u OPENBLAS_CORETYPE|"
)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
IFS=, read -r -a tlist <<<"$threads"
for ((r = 1; r <= reps; r++)); do
  for v in "${variants[@]}"; do
    IFS='|' read -r name blas envcmd flags <<<"$v"
    bin="$prefix-$blas/bench"
    echo "blas_choice: round $r/$reps: $name" >&2
    # shellcheck disable=SC2086  # envcmd and flags are word lists on purpose
    $envcmd "$bin/bench_gemm_peak" --quick --reps 3 --min-time 0.15 --threads "$threads" $flags \
      --json "$out/gemm.json" >/dev/null
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print(json.dumps({"variant": sys.argv[2], "round": int(sys.argv[3]), "what": "gemm " + x["workload"], "threads": x["threads"], "value": x["gflops"]})) for x in d["results"]]' \
      "$out/gemm.json" "$name" "$r" >>"$out/rows.jsonl"
    if [ "$throughput" = 1 ]; then
      for d in 128 256; do
        for t in "${tlist[@]}"; do
          steps=$(( d == 128 ? 12 : 5 ))
          $envcmd "$bin/bench_throughput" --model gpt --d $d --threads "$t" --steps $steps $flags |
            /usr/bin/python3 -c 'import json,sys; x=json.loads(sys.stdin.read()); print(json.dumps({"variant": sys.argv[1], "round": int(sys.argv[2]), "what": "train gpt d" + sys.argv[3] + " tok/s", "threads": x["threads"], "value": x["tokens_per_s"]}))' \
              "$name" "$r" "$d" >>"$out/rows.jsonl"
        done
      done
    fi
  done
done
mkdir -p bench/results
/usr/bin/python3 - "$out/rows.jsonl" bench/results/blas_choice.json <<'PY'
import collections, json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cells = collections.defaultdict(list)
variants, whats = [], []
for r in rows:
    cells[(r["variant"], r["what"], r["threads"])].append(r["value"])
    if r["variant"] not in variants: variants.append(r["variant"])
    if (r["what"], r["threads"]) not in whats: whats.append((r["what"], r["threads"]))
med = {k: statistics.median(v) for k, v in cells.items()}
w0 = max(len(v) for v in variants) + 2
print(f"{'measure':34}" + "".join(f"{v:>{w0}}" for v in variants))
for what, t in whats:
    line = f"{what + ' t=' + str(t):34}"
    for v in variants:
        x = med.get((v, what, t))
        line += f"{'-' if x is None else f'{x:.1f}':>{w0}}"
    print(line)
print("\nGEMM rows in GFLOP/s (best of 3 within a round), training rows in tokens/s; median over rounds.")
json.dump({"bench": "blas_choice", "rows": rows,
           "median": [{"variant": v, "what": w, "threads": t, "value": x} for (v, w, t), x in med.items()]},
          open(sys.argv[2], "w"), indent=2)
print(f"wrote {sys.argv[2]}", file=sys.stderr)
PY
