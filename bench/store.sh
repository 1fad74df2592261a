#!/usr/bin/env bash
# One command: build bench_store and run it against SQLite and the test
# PostgreSQL server (started here if STOPWISE_TEST_PG_URL is unset).
# Arguments go to bench_store (the number of evaluations a repetition).
# STOPWISE_BUILD_DIR picks the build folder (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${STOPWISE_BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSTOPWISE_BENCH=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" --target bench_store >/dev/null
if [ -z "${STOPWISE_TEST_PG_URL:-}" ]; then
  eval "$(scripts/pg-test-server.sh start)"
fi
export STOPWISE_TEST_PG_URL
exec "$dir/bench/bench_store" "$@"
