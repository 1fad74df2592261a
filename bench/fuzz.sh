#!/usr/bin/env bash
# Fuzzes every parser with libFuzzer (fuzz/, one target per parser; see
# bench/README.md "Fuzzing"): builds the targets into build-fuzz (clang,
# AddressSanitizer + UBSan, -DSTOPWISE_FUZZ=ON), runs each for SECONDS
# (default 60) from its seeds in fuzz/corpus/<target>/ plus what earlier runs
# found (build-fuzz/corpus/<target>/), prints a table (target, executions,
# exec/s, corpus, crashes) and writes it as JSON under bench/results/.
#
# Exits 1 when any target crashed, hung (an input running past 10 s), ran out
# of memory (2 GB), leaked or tripped a sanitizer; the input that did it is in
# build-fuzz/artifacts/ (earlier runs' findings in artifacts/old/) and the
# report in build-fuzz/logs/<target>.log.
# Reproduce one: build-fuzz/fuzz/fuzz_<target> build-fuzz/artifacts/<file>
#
# Usage: bench/fuzz.sh [SECONDS] [TARGET...]
#   STOPWISE_FUZZ_JOBS       targets run side by side (default 1; CI uses more)
#   STOPWISE_FUZZ_BUILD_DIR  build folder (default build-fuzz)
#   STOPWISE_FUZZ_JSON       result file (default bench/results/fuzz.json)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
all=(policy curve state csv tsv jsonl lexicon idx spec checkpoint online space levers)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
jobs=${STOPWISE_FUZZ_JOBS:-1}
dir=${STOPWISE_FUZZ_BUILD_DIR:-build-fuzz}
json=${STOPWISE_FUZZ_JSON:-bench/results/fuzz.json}
case $seconds in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2;; esac

command -v clang >/dev/null || { echo "fuzz.sh: needs clang and libFuzzer (scripts/setup.sh installs clang and libclang-rt-14-dev)" >&2; exit 2; }
echo "fuzz: building the targets into $dir" >&2
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release -DSTOPWISE_WERROR=ON -DSTOPWISE_FUZZ=ON \
  -DSTOPWISE_TESTS=OFF -DSTOPWISE_BENCH=OFF -DSTOPWISE_EXAMPLES=OFF >/dev/null
cmake --build "$dir" --target fuzz_targets -j "$(nproc)" >/dev/null

# The targets' temporary files live in a folder removed at the end (in memory when possible).
base=/dev/shm
[ -w "$base" ] || base=$dir
tmp=$(mktemp -d "$base/stopwise-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dir/logs" "$dir/artifacts" "$dir/corpus" "$(dirname "$json")"

run_one() {
  local t=$1 bin=$dir/fuzz/fuzz_$1
  local work=$dir/corpus/$t log=$dir/logs/$t.log
  mkdir -p "$work" "$tmp/$t"
  # earlier findings move aside, so that this run's are the ones counted
  mkdir -p "$dir/artifacts/old"
  for f in "$dir/artifacts/$t-"*; do [ -e "$f" ] && mv "$f" "$dir/artifacts/old/"; done
  local dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  # -timeout: an input running 10 s is a hang; -rss_limit_mb: 2 GB is an out-of-memory.
  set +e
  TMPDIR=$tmp/$t ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" "$work" "fuzz/corpus/$t" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" >"$log" 2>&1
  echo $? >"$tmp/$t.rc"
  set -e
}

running=0
for t in "${targets[@]}"; do
  [ -x "$dir/fuzz/fuzz_$t" ] || { echo "fuzz.sh: no target '$t' (targets: ${all[*]})" >&2; exit 2; }
  echo "fuzz: $t for ${seconds}s" >&2
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }
failed=0
rows=()
printf '%-11s %8s %12s %8s %8s %8s  %s\n' target seconds executions exec/s corpus crashes status
for t in "${targets[@]}"; do
  log=$dir/logs/$t.log
  rc=$(cat "$tmp/$t.rc")
  execs=$(stat "$log" number_of_executed_units); execs=${execs:-0}
  rate=$(stat "$log" average_exec_per_sec); rate=${rate:-0}
  corpus=$(find "$dir/corpus/$t" "fuzz/corpus/$t" -type f | wc -l)
  crashes=$(find "$dir/artifacts" -maxdepth 1 \( -name "$t-crash-*" -o -name "$t-leak-*" -o -name "$t-timeout-*" -o -name "$t-oom-*" \) | wc -l)
  status=ok
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || grep -q -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:" "$log"; then
    status="FAILED (exit $rc, see $log)"
    [ "$crashes" -ne 0 ] || crashes=1
    failed=1
  fi
  printf '%-11s %8s %12s %8s %8s %8s  %s\n' "$t" "$seconds" "$execs" "$rate" "$corpus" "$crashes" "$status"
  rows+=("{\"target\":\"$t\",\"seconds\":$seconds,\"executions\":$execs,\"exec_per_s\":$rate,\"corpus\":$corpus,\"crashes\":$crashes,\"ok\":$([ "$status" = ok ] && echo true || echo false)}")
done
{
  printf '{"bench":"fuzz","date":"%s","host_cpus":%s,"load_avg":"%s","jobs":%s,"targets":[' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$jobs"
  (IFS=,; printf '%s' "${rows[*]}")
  printf ']}\n'
} >"$json"
echo "fuzz: results in $json" >&2
if [ "$failed" -ne 0 ]; then
  for t in "${targets[@]}"; do
    if grep -q -E "ERROR: |runtime error:|check failed|SUMMARY" "$dir/logs/$t.log" && [ "$(cat "$tmp/$t.rc")" -ne 0 ]; then
      echo "---- $t: $(ls "$dir/artifacts/$t-"* 2>/dev/null | head -1)" >&2
      grep -E -A12 "ERROR: |runtime error:|check failed" "$dir/logs/$t.log" | head -30 >&2
    fi
  done
  exit 1
fi
