#!/usr/bin/env bash
# The test command: set up, build, run every test under ctest, then run the
# unit tests once more in an AddressSanitizer + UBSan build, then fuzz every
# parser briefly (STOPWISE_FUZZ_SECONDS per target, default 20; 0 skips).
# The store's tests run against a real PostgreSQL server: STOPWISE_TEST_PG_URL
# if set, else a throwaway server on loopback started here (and stopped after).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -z "${STOPWISE_TEST_PG_URL:-}" ]; then
  eval "$(scripts/pg-test-server.sh start)"
  trap 'scripts/pg-test-server.sh stop' EXIT
fi
export STOPWISE_TEST_PG_URL
jobs=$(nproc)

echo "== release build" >&2
scripts/build.sh
(cd build && ctest --output-on-failure -j "$jobs")

echo "== AddressSanitizer + UBSan build" >&2
STOPWISE_BUILD_DIR=build-asan scripts/build.sh -DCMAKE_BUILD_TYPE=Debug -DSTOPWISE_SANITIZE=ON -DSTOPWISE_BENCH=OFF
# Leaks are checked: ours fail the run; libgomp's and the BLAS's thread pools,
# which hold memory until exit, are suppressed by tests/lsan.supp.
supp="$(pwd)/tests/lsan.supp"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS="suppressions=$supp:print_suppressions=0" \
  STOPWISE_SANITIZED=1 ctest --output-on-failure -j "$jobs" -L unit)

echo "== fuzzing: every parser for ${STOPWISE_FUZZ_SECONDS:-20}s (libFuzzer, ASan + UBSan)" >&2
# Fails on any crash, hang, out-of-memory, leak or sanitizer report. Two
# targets at a time where there are cores for it: 11 targets in about 2 min.
if [ "${STOPWISE_FUZZ_SECONDS:-20}" != 0 ]; then
  STOPWISE_FUZZ_JOBS=${STOPWISE_FUZZ_JOBS:-$(( jobs >= 2 ? 2 : 1 ))} \
    STOPWISE_FUZZ_JSON=build-fuzz/fuzz-ci.json bench/fuzz.sh "${STOPWISE_FUZZ_SECONDS:-20}"
fi
