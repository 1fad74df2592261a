#!/usr/bin/env bash
# Load on one store (issue 10): 16 trainings and 4 tunes (2 training folds
# each) started at once, all writing to one SQLite file, then all to one
# PostgreSQL database; and the same 20 commands with --no-store, as the
# reference. Tiny runs (--threads 1, 100 evaluations each), so the store is
# written often: 16 x 100 + 4 x 2 x 30 evaluations a pass.
#
#   bench/load.sh [--reps R] [--trains N] [--tunes M] [--pg URL]
#
# Checks (exit 1 if any fails): every command exits 0; no "lock", "busy" or
# "locked" reaches stderr; every training's stored curve equals its
# curve.csv; the store holds exactly as many evaluations as all curve.csv
# files together (nothing lost, nothing doubled); every run is completed.
# Reports the wall time of each pass (all commands from start to the last
# exit), median over R repetitions run in turn (none, sqlite, postgresql),
# and the overhead against --no-store. Writes bench/results/load.json.
# PostgreSQL: $STOPWISE_TEST_PG_URL (or --pg), in a fresh schema dropped at
# the end; skipped if neither is set.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${STOPWISE_BIN:-$root/build/stopwise}
[ -x "$bin" ] || { echo "load.sh: build first (scripts/build.sh); no $bin" >&2; exit 2; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
reps=3 trains=16 tunes=4 pg=${STOPWISE_TEST_PG_URL:-}
while [ $# -gt 0 ]; do
  case $1 in
  --reps) reps=$2; shift 2 ;;
  --trains) trains=$2; shift 2 ;;
  --tunes) tunes=$2; shift 2 ;;
  --pg) pg=$2; shift 2 ;;
  *) echo "usage: $0 [--reps R] [--trains N] [--tunes M] [--pg URL]" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/stopwise-load-XXXXXX)
schema=sw_load_$$
cleanup() {
  [ -n "$pg" ] && psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
fails=0
check() { if [ "$2" = 0 ]; then printf 'PASS  %-40s %s\n' "$1" "$3"; else fails=$((fails + 1)); printf 'FAIL  %-40s %s\n' "$1" "$3"; fi; }

TRAIN=(train --data synthetic:copy:n=500,len=4 --model gpt:layers=1,d=16,heads=2 --budget 20k --eval-every 200 --stop none
  --threads 1 --quiet --json)
TUNE=(tune --data synthetic:copy:n=500,len=4 --model gpt:layers=1,d=16,heads=2 --budget 6k --eval-every 200
  --folds 2 --threads 1 --quiet --json)

# One pass: every command at once against STORE ("none" for --no-store).
# Prints the wall seconds; leaves outputs in $work/$tag.
pass() { # pass TAG STORE
  local tag=$1 store=$2 d=$work/$1 pids=() t0 t1 k
  rm -rf "$d"; mkdir -p "$d"
  local sarg=(--store "$store"); [ "$store" = none ] && sarg=(--no-store)
  t0=$(date +%s.%N)
  for k in $(seq 1 "$trains"); do
    "$bin" "${TRAIN[@]}" --seed "$k" "${sarg[@]}" --out "$d/train-$k" >"$d/train-$k.out" 2>"$d/train-$k.err" &
    pids+=($!)
  done
  for k in $(seq 1 "$tunes"); do
    "$bin" "${TUNE[@]}" --seed "$((100 * k))" "${sarg[@]}" --out "$d/tune-$k" --task "load-$tag-$k" \
      >"$d/tune-$k.out" 2>"$d/tune-$k.err" &
    pids+=($!)
  done
  local bad=0
  for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
  t1=$(date +%s.%N)
  echo "$bad" >"$d/failed"
  echo "$t1 - $t0" | bc
}

# The checks on one pass's outputs and its store.
verify() { # verify TAG STORE
  local tag=$1 store=$2 d=$work/$1
  check "$tag: every command exits 0" "$([ "$(cat "$d/failed")" = 0 ]; echo $?)" "$(cat "$d/failed") failed"
  local locks
  locks=$(cat "$d"/*.err | grep -ciE 'lock|busy' || true)
  check "$tag: no lock error reaches the user" "$([ "$locks" = 0 ]; echo $?)" "$locks lines"
  [ "$store" = none ] && return
  local k id a s bad=0
  for k in $(seq 1 "$trains"); do
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$d/train-$k.out" 2>/dev/null)
    a=$(tail -n +2 "$d/train-$k/curve.csv" 2>/dev/null | cut -d, -f1 | tr '\n' ' ')
    s=$("$bin" runs export --store "$store" --run "${id:-0}" --curves --format csv 2>/dev/null |
      awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "tokens") c = i; next } { printf "%s ", $c }')
    { [ -n "$a" ] && [ "$a" = "$s" ]; } || bad=$((bad + 1))
  done
  check "$tag: each training's stored curve = curve.csv" $bad "$bad of $trains differ"
  local files stored
  files=$(find "$d" -name curve.csv -exec sh -c 'tail -n +2 "$1" | wc -l' _ {} \; | awk '{ n += $1 } END { print n }')
  stored=$("$bin" runs export --store "$store" --curves --format csv 2>/dev/null | tail -n +2 | wc -l)
  check "$tag: stored evaluations = curve.csv rows" "$([ "$files" = "$stored" ]; echo $?)" "$stored stored, $files in files"
  local runs done_
  runs=$("$bin" runs ls --store "$store" --json 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin); r=r.get("runs", r) if isinstance(r, dict) else r; print(len(r), sum(x["status"] == "completed" for x in r))')
  check "$tag: every run completed" "$([ "${runs% *}" = "${runs#* }" ] && [ "${runs% *}" = $((trains + 2 * tunes)) ]; echo $?)" "runs, completed: $runs"
}

declare -A times=()
backends=(none sqlite)
if [ -n "$pg" ]; then
  if psql "$pg" -qc "CREATE SCHEMA $schema" >/dev/null 2>&1; then
    sep='?'; [[ $pg == *\?* ]] && sep='&'
    pg_loc="$pg${sep}options=-csearch_path%3D$schema"
    backends+=(postgresql)
  else
    echo "# cannot create a schema at the PostgreSQL URL; skipping it" >&2
  fi
fi
echo "# stopwise load: $trains trainings + $tunes tunes at once, $reps repetitions, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for r in $(seq 1 "$reps"); do
  for b in "${backends[@]}"; do
    case $b in
    none) loc=none ;;
    sqlite) loc=$work/store-$r.db ;;
    postgresql)
      psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null 2>&1
      loc=$pg_loc ;;
    esac
    t=$(pass "$b-$r" "$loc")
    times[$b]="${times[$b]:-} $t"
    printf '# rep %d %-10s %6.1f s\n' "$r" "$b" "$t"
    verify "$b-$r" "$loc"
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_none=$(echo "${times[none]}" | median)
echo
printf '| store | wall s (median of %d) | x --no-store |\n|---|---|---|\n' "$reps"
json="{\"trains\": $trains, \"tunes\": $tunes, \"reps\": $reps, \"cores\": $(nproc), \"results\": {"
first=1
for b in "${backends[@]}"; do
  m=$(echo "${times[$b]}" | median)
  printf '| %s | %.1f | %.2f |\n' "$b" "$m" "$(echo "$m / $m_none" | bc -l)"
  [ $first = 1 ] || json+=", "
  first=0
  json+="\"$b\": {\"wall_s\": [$(echo "${times[$b]}" | xargs | tr ' ' ',')], \"median_s\": $m}"
done
json+="}, \"failed_checks\": $fails}"
mkdir -p bench/results
echo "$json" >bench/results/load.json
echo "# $fails checks failed; bench/results/load.json"
[ $fails = 0 ]
