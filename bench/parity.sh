#!/usr/bin/env bash
# One command: build bench_parity_dump, then check our loss and every gradient
# against PyTorch (bench/parity.py). Exit 0 only if every case agrees to 1e-4.
# STOPWISE_BUILD_DIR picks the build folder (default build/). Arguments go to parity.py.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${STOPWISE_BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSTOPWISE_BENCH=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" --target bench_parity_dump >/dev/null
exec /usr/bin/python3 bench/parity.py --build "$dir" "$@"
