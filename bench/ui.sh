#!/usr/bin/env bash
# The dashboard at scale (issue 14): a store of 10,000 runs and 1,000,000
# evaluations (5,000,000 metric rows: the trainer's cooldown, lr and forecast
# columns), written through SQLite in one transaction by bench_ui_fill; then
# `stopwise ui` on it, and curl timing each answer on loopback (server side:
# the request, the store's queries, the JSON), REPS times, median and max of
# the wall time, and the server's CPU time per answer (from the scheduler:
# what the answer costs, however busy the machine is):
#   - the runs table's first page (newest first; target < 200 ms), and the
#     first page sorted by best EM, tokens saved and at-stop EM, filtered by
#     text and by status, and the last page;
#   - a run view: /api/run and /api/curve of one run, together (target < 100 ms).
# Then, when chromium, node and tests/browser/node_modules are there, the page
# in headless chromium (bench/ui_browser.mjs): time to a rendered table, to a
# re-sorted one, to a drawn run view and a 50-run comparison, and the longest
# task that blocked the page meanwhile.
#
#   bench/ui.sh [--runs N] [--evals M] [--reps K] [--store PATH]
# --store PATH keeps the filled store there and reuses it when it exists.
# Writes bench/results/ui.json; exits 1 when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10000 evals=1000000 reps=15 store=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --evals) evals=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    *) echo "usage: bench/ui.sh [--runs N] [--evals M] [--reps K] [--store PATH]" >&2; exit 2 ;;
  esac
done
build=${STOPWISE_BUILD_DIR:-build}
cmake --build "$build" --target stopwise_cli bench_ui_fill >/dev/null
tmp=$(mktemp -d)
ui_pid=""
cleanup() { [ -n "$ui_pid" ] && kill "$ui_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
[ -n "$store" ] || store=$tmp/big.db
if [ -f "$store" ]; then
  echo "ui bench: reusing $store" >&2
  fill='null'
else
  echo "ui bench: filling $store with $runs runs and $evals evaluations" >&2
  fill=$("$build/bench/bench_ui_fill" "$store" "$runs" "$evals")
fi
"$build/stopwise" ui --store "$store" --port 0 >"$tmp/ui.out" 2>"$tmp/ui.err" &
ui_pid=$!
for _ in $(seq 100); do grep -q ' at http' "$tmp/ui.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.* at \(http[^ ]*\)$/\1/p' "$tmp/ui.out")
[ -n "$url" ] || { cat "$tmp/ui.err" >&2; exit 1; }

# The server's own CPU time so far, in ns (the scheduler's count: unlike the
# wall time, it does not grow when other processes hold the cores).
# Summed over its threads: libmicrohttpd's thread does the serving.
cpu_ns() { cat /proc/"$ui_pid"/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}'; }

# median and max wall ms of REPS timings of the given paths, fetched one
# after the other per repetition (a view's requests), after one warm-up; and
# the server's CPU ms per repetition
measure() {
  local t c0 c1
  for p in "$@"; do curl -sf -o /dev/null "$url$p"; done
  c0=$(cpu_ns)
  for _ in $(seq "$reps"); do
    t=0
    for p in "$@"; do t=$(echo "$t + $(curl -sf -o /dev/null -w '%{time_total}' "$url$p")" | bc -l); done
    echo "$t"
  done | sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.2f %.2f ", 1000*m, 1000*v[NR]}'
  c1=$(cpu_ns)
  echo "$c0 $c1 $reps" | awk '{printf "%.2f", ($2 - $1) / 1e6 / $3}'
}
mid=$(( runs / 2 ))
declare -A target=([first_page]=200 [run_view]=100)
cases=(
  "first_page|api/runs"
  "sorted_best_em|api/runs?sort=best_em"
  "sorted_saved|api/runs?sort=saved"
  "sorted_stop_em|api/runs?sort=stop_em"
  "filtered_text|api/runs?q=seed%203"
  "filtered_status|api/runs?status=pruned"
  "last_page|api/runs?offset=$(( runs > 50 ? runs - 50 : 0 ))"
  "run_view|api/run?id=$mid api/curve?id=$mid"
  "run_view_first|api/run?id=1 api/curve?id=1"
)
fail=0
json="{\"runs\": $runs, \"evals\": $evals, \"reps\": $reps, \"fill\": $fill, \"server_ms\": {"
sep=""
printf '%-18s %10s %10s %10s %8s\n' case median_ms max_ms cpu_ms target >&2
for c in "${cases[@]}"; do
  name=${c%%|*}
  read -r -a paths <<<"${c#*|}"
  read -r med max cpu <<<"$(measure "${paths[@]}")"
  tg=${target[$name]:-}
  verdict=""
  if [ -n "$tg" ]; then
    if (( $(echo "$med < $tg" | bc -l) )); then verdict="< $tg ok"; else verdict="< $tg MISSED"; fail=1; fi
  fi
  printf '%-18s %10s %10s %10s %8s\n' "$name" "$med" "$max" "$cpu" "$verdict" >&2
  json+="$sep\"$name\": {\"median\": $med, \"max\": $max, \"server_cpu\": $cpu${tg:+, \"target\": $tg}}"
  sep=", "
done
json+="}"

browser=null
if command -v node >/dev/null && [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && [ -d tests/browser/node_modules/playwright-core ]; then
  echo "ui bench: the page in headless chromium" >&2
  browser=$(node bench/ui_browser.mjs "$url" "$mid") || browser=null
else
  echo "ui bench: no chromium, node or tests/browser/node_modules: the browser half is skipped" >&2
fi
json+=", \"browser_ms\": $browser}"
mkdir -p bench/results
echo "$json" >bench/results/ui.json
echo "ui bench: bench/results/ui.json" >&2
exit $fail
