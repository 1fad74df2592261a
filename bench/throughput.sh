#!/usr/bin/env bash
# One command: build the benchmark programs, then run bench/throughput.py
# (ours against PyTorch, alternating; see its docstring). Arguments go to it.
# STOPWISE_BUILD_DIR picks the build folder (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${STOPWISE_BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSTOPWISE_BENCH=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" --target bench_throughput bench_gemm_peak >/dev/null
exec /usr/bin/python3 bench/throughput.py --build "$dir" "$@"
