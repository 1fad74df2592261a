#!/usr/bin/env bash
# Fault injection (issue 10): what stopwise leaves behind when the disk fills,
# when the PostgreSQL server restarts under a run, and when a process is
# killed with SIGKILL at random moments. Every check prints PASS or FAIL; the
# script exits 1 if any failed. docs/RELIABILITY.md has the results.
#
#   bench/faults.sh [--kills N] [--quick] [--seed S] [--only disk,pg,kill]
#
#   disk  a small tmpfs (needs root; else RLIMIT_FSIZE through `ulimit -f`)
#         holds the run folder and the SQLite store. A run is trained part way,
#         the file system is filled to leave F bytes free, and the run resumed:
#         for a sweep of F it fails while writing a checkpoint, curve.csv,
#         events.jsonl or the store. Each time: exit 1 with a message naming
#         the file and the cause, no temporary file left, every file whole
#         (the newest checkpoint loads), and after space is freed --resume
#         ends with the same weights, bit for bit, as a run never interrupted.
#   pg    a PostgreSQL server of its own (scripts/pg-test-server.sh on port
#         $STOPWISE_FAULT_PG_PORT, default 55500, in /tmp; stopped at the end)
#         is restarted twice in the middle of a training run: the run ends
#         completed, its store curve equals curve.csv (nothing lost or doubled).
#         Then the server is stopped for longer than the store waits for it
#         (busy_timeout_ms, 60 s): the run fails with a clear message (exit 2
#         today; exit 1 once issue 10's defect 9 lands), keeping every
#         committed evaluation; --resume after the restart completes the curve.
#   kill  N SIGKILLs (default 50: 60% train, 20% tune, 20% runs rm) at uniform
#         random moments of each command's reference duration. After each: the
#         store opens; every run's curve has strictly rising tokens (no
#         doubles); a killed train is resumed (repeatedly, if the kill came
#         before its first checkpoint it restarts) and must end with the
#         reference's best and last weights bit for bit and a store curve equal
#         to its curve.csv; a killed `runs rm` leaves the run whole or gone, and
#         no orphan rows.
#
# --quick: 3 train kills, 1 tune kill, 1 rm kill, one disk-full point, no pg
# (this is what ctest runs as faults_quick).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${STOPWISE_BIN:-$root/build/stopwise}
[ -x "$bin" ] || { echo "faults.sh: build first (scripts/build.sh); no $bin" >&2; exit 2; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

kills=50 quick=0 seed=${RANDOM} only=disk,pg,kill
while [ $# -gt 0 ]; do
  case $1 in
  --kills) kills=$2; shift 2 ;;
  --quick) quick=1; shift ;;
  --seed) seed=$2; shift 2 ;;
  --only) only=$2; shift 2 ;;
  *) echo "usage: $0 [--kills N] [--quick] [--seed S] [--only disk,pg,kill]" >&2; exit 2 ;;
  esac
done
[ $quick = 1 ] && { kills=5; [ "$only" = disk,pg,kill ] && only=disk,kill; }
RANDOM=$seed
work=$(mktemp -d /tmp/stopwise-faults-XXXXXX)
mnt=$work/mnt
pg_started=0
cleanup() {
  mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
  if [ $pg_started = 1 ]; then
    STOPWISE_PG_PORT=$pg_port STOPWISE_PG_DIR=$pg_dir scripts/pg-test-server.sh stop
    rm -rf "$pg_dir"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fails=0 passes=0
check() { # check NAME CONDITION-RESULT(0/1) DETAIL
  if [ "$2" = 0 ]; then passes=$((passes + 1)); printf 'PASS  %-44s %s\n' "$1" "$3"
  else fails=$((fails + 1)); printf 'FAIL  %-44s %s\n' "$1" "$3"; fi
}

# One small training task: about 100 evaluations, a few seconds alone.
TRAIN=(train --data synthetic:copy:n=500,len=4 --model gpt:layers=1,d=16,heads=2 --budget 60k --eval-every 600 --stop none
  --threads 1 --quiet --json)
[ $quick = 1 ] && TRAIN=(train --data synthetic:copy:n=500,len=4 --model gpt:layers=1,d=16,heads=2 --budget 24k --stop none
  --eval-every 400 --threads 1 --quiet --json)

# Runs a command with RLIMIT_FSIZE = N bytes and SIGXFSZ ignored, so a write
# past N fails with EFBIG as on a full disk (the ignored signal survives exec).
with_fsize() { # with_fsize N CMD...
  python3 -c 'import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
n = int(sys.argv[1]); resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
os.execv(sys.argv[2], sys.argv[2:])' "$@"
}
# The tensor bytes of a safetensors file (after its header), as a hash.
tensors() { python3 -c '
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
print(hashlib.sha256(b[8 + n:]).hexdigest())' "$1"; }
# The tokens column of a run folder's curve.csv, one line.
csv_tokens() { tail -n +2 "$1/curve.csv" | cut -d, -f1 | tr '\n' ' '; }
# The tokens of a stored run's curve, one line (SQLite or PostgreSQL).
store_tokens() { # store_tokens LOCATION RUN_ID
  "$bin" runs export --store "$1" --run "$2" --curves --format csv 2>/dev/null |
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "tokens") c = i; next } c { printf "%s ", $c }'
}
# Every run of a store: tokens strictly rising along each curve (no doubles).
store_curves_ok() { # store_curves_ok LOCATION -> prints "runs=N evals=M" and returns 1 on a double
  "$bin" runs export --store "$1" --curves --format csv 2>/dev/null | awk -F, '
    NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "tokens") t = i; if ($i == "run_id") r = i }; next }
    { if (($r in last) && $t + 0 <= last[$r]) bad++; last[$r] = $t + 0; n++; if (!($r in seen)) { seen[$r] = 1; runs++ } }
    END { printf "runs=%d evals=%d", runs, n; exit bad ? 1 : 0 }'
}

echo "# stopwise fault injection (seed $seed, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo "# reference: an uninterrupted run"
t0=$(date +%s.%N)
"$bin" "${TRAIN[@]}" --no-store --out "$work/ref" >/dev/null || { echo "reference run failed" >&2; exit 1; }
t_ref=$(echo "$(date +%s.%N) - $t0" | bc)
ref_best=$(tensors "$work/ref/best.safetensors")
ref_last=$(tensors "$work/ref/last.safetensors")
echo "# reference run: ${t_ref}s, $(($(wc -l <"$work/ref/curve.csv") - 1)) evaluations"

# Runs "$@" (train ... --resume) until it exits 0, at most 5 times; prints its stdout.
finish() {
  local out rc k
  for k in 1 2 3 4 5; do
    out=$("$bin" "$@" 2>"$work/finish.err"); rc=$?
    [ $rc = 0 ] && { echo "$out"; return 0; }
  done
  cat "$work/finish.err" >&2
  return 1
}
# After a kill or a failure: resume (or, with no checkpoint yet, start again)
# to the end; compare weights and the store's curve with curve.csv.
resume_and_compare() { # NAME OUT STORE [JSON: the run's own output, when it finished]
  local name=$1 out=$2 store=$3 json=${4:-} id
  if [ -z "$json" ]; then
    if [ -f "$out/last.safetensors" ]; then json=$(finish "${TRAIN[@]}" --store "$store" --out "$out" --resume)
    else json=$(finish "${TRAIN[@]}" --store "$store" --out "$out"); fi
    [ $? = 0 ] || { check "$name: resumed to the end" 1 "resume failed"; return; }
  fi
  id=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
  local b l
  b=$(tensors "$out/best.safetensors"); l=$(tensors "$out/last.safetensors")
  [ "$b" = "$ref_best" ] && [ "$l" = "$ref_last" ]
  check "$name: weights bit-identical" $? "best ${b:0:12} last ${l:0:12} (reference ${ref_best:0:12} ${ref_last:0:12})"
  local a s
  a=$(csv_tokens "$out"); s=$(store_tokens "$store" "$id")
  [ "$a" = "$(csv_tokens "$work/ref")" ]
  check "$name: curve.csv = the reference's" $? "$(echo "$a" | wc -w) evaluations"
  [ -n "$a" ] && [ "$a" = "$s" ]
  check "$name: store curve = curve.csv" $? "run $id, $(echo "$a" | wc -w) in curve.csv, $(echo "$s" | wc -w) in the store"
}

# ---- disk full ----------------------------------------------------------------------------
if [[ $only == *disk* ]]; then
  echo "# disk full"
  mkdir -p "$mnt"
  use_mount=0
  mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null && { use_mount=1; umount "$mnt"; }
  # free bytes to leave: spread so the failing write falls on each kind of file
  # and the store on that file system too, or elsewhere (so the run folder's
  # own files meet the full disk first)
  if [ $quick = 1 ]; then points=(40000:in); else
    points=(0:in 4096:in 20000:in 40000:in 70000:in 100000:in 0:out 4096:out 8192:out 16384:out 40000:out 70000:out); fi
  declare -A hit=()
  for point in "${points[@]}"; do
    free=${point%:*}
    dir=$mnt
    db=$dir/s.db; [ "${point#*:}" = out ] && db=$work/disk-outside.db && rm -f "$db"*
    if [ $use_mount = 1 ]; then mount -t tmpfs -o size=8m tmpfs "$mnt"; else rm -rf "$mnt"; mkdir -p "$mnt"; fi
    "$bin" "${TRAIN[@]}" --store "$db" --out "$dir/run" --stop-after 8k >/dev/null 2>&1
    if [ $use_mount = 1 ]; then
      avail=$(($(stat -f -c '%a*%S' "$mnt")))
      fill=$((avail - free)); [ $fill -lt 0 ] && fill=0
      head -c $fill /dev/zero >"$mnt/filler" 2>/dev/null
      "$bin" "${TRAIN[@]}" --store "$db" --out "$dir/run" --resume >/dev/null 2>"$work/disk.err"
      rc=$?
    else
      # RLIMIT_FSIZE: the largest file may reach its size now plus `free`
      lim=$(($(stat -c %s "$dir/run/last.safetensors") + free))
      with_fsize $lim "$bin" "${TRAIN[@]}" --store "$db" --out "$dir/run" --resume >/dev/null 2>"$work/disk.err"
      rc=$?
    fi
    msg=$(tail -1 "$work/disk.err")
    what=$(echo "$msg" | grep -oE 'best.safetensors|last.safetensors|curve.csv|events.jsonl|\.db' | head -1)
    [ -n "$what" ] && hit[$what]=1
    if [ $rc = 0 ]; then
      check "disk full, $free B free (store ${point#*:})" 0 "the run fitted (no fault)"
    else
      [ $rc = 1 ] && echo "$msg" | grep -qiE 'space|full|too large'
      check "disk full, $free B free (store ${point#*:}): exit 1, clear message" $? "rc=$rc: $msg"
      left=$(find "$dir" -name '*.tmp-*' | wc -l)
      check "disk full, $free B free (store ${point#*:}): no temporary file" $([ $left = 0 ]; echo $?) "$left left"
      ok=0
      for f in best last; do
        [ -f "$dir/run/$f.safetensors" ] || continue
        "$bin" eval --model "$dir/run/$f.safetensors" --data synthetic:copy:n=500,len=4 >/dev/null 2>&1 || ok=1
      done
      python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$dir/run/events.jsonl" 2>/dev/null || ok=1
      check "disk full, $free B free (store ${point#*:}): checkpoints load, events whole" $ok ""
    fi
    rm -f "$mnt/filler"
    resume_and_compare "disk full, $free B free (store ${point#*:}), then resumed" "$dir/run" "$db"
    if [ $use_mount = 1 ]; then umount "$mnt"; fi
  done
  # a long curve (about 500 evaluations), so curve.csv and events.jsonl are
  # the largest files, and a file size limit just above one of them: the
  # write of that file fails first (RLIMIT_FSIZE: exact bytes, any user)
  if [ $quick = 0 ]; then
    for target in events.jsonl curve.csv; do
      LONG=("${TRAIN[@]}" --batch 16); LONG[8]=60 # --eval-every 60: an evaluation every step
      d=$work/long-$target; rm -rf "$d"
      "$bin" "${LONG[@]}" --no-store --out "$d" --stop-after 55k >/dev/null 2>&1
      lim=$(($(stat -c %s "$d/$target") + 20))
      before=$(sha256sum <"$d/$target")
      with_fsize $lim "$bin" "${LONG[@]}" --no-store --out "$d" --resume >/dev/null 2>"$work/disk.err"
      rc=$?
      msg=$(tail -1 "$work/disk.err")
      [ $rc = 1 ] && echo "$msg" | grep -q "$target" && echo "$msg" | grep -qiE 'too large|space'
      check "file size limit at $target: exit 1, clear message" $? "rc=$rc: $msg"
      [ "$(sha256sum <"$d/$target")" = "$before" ]
      check "file size limit at $target: file unchanged" $? "no partial line or half-written file"
      left=$(find "$d" -name '*.tmp-*' | wc -l)
      check "file size limit at $target: no temporary file" $([ $left = 0 ]; echo $?) "$left left"
      hit[$target]=1
    done
  fi
  echo "# disk full: the failing write fell on: ${!hit[*]} ($([ $use_mount = 1 ] && echo tmpfs || echo RLIMIT_FSIZE))"
fi

# ---- PostgreSQL restarted under a run -----------------------------------------------------------
if [[ $only == *pg* ]]; then
  echo "# PostgreSQL restarted in the middle of a run"
  pg_port=${STOPWISE_FAULT_PG_PORT:-55500}
  pg_dir=/tmp/stopwise-faults-pg-$$ # not under $work: the postgres user must reach it
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if STOPWISE_PG_PORT=$pg_port STOPWISE_PG_DIR=$pg_dir scripts/pg-test-server.sh start >/dev/null; then
    pg_started=1
    url=postgresql://stopwise:stopwise@127.0.0.1:$pg_port/stopwise_test
    pgctl() { runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg_dir/data" -w "$@" >/dev/null 2>&1; }
    pgopts="-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off"
    # two restarts while the run goes on
    "$bin" "${TRAIN[@]}" --store "$url" --out "$work/pg1" >"$work/pg1.out" 2>"$work/pg1.err" &
    p=$!
    t_half=$(echo "$t_ref / 4" | bc -l)
    sleep "$t_half"; pgctl -m fast restart -o "$pgopts"
    sleep "$t_half"; pgctl -m immediate restart -o "$pgopts"
    wait $p; rc=$?
    check "pg restarted twice: run completes" $rc "$(tail -1 "$work/pg1.err")"
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$work/pg1.out" 2>/dev/null)
    a=$(csv_tokens "$work/pg1"); s=$(store_tokens "$url" "${id:-0}")
    [ -n "$a" ] && [ "$a" = "$s" ]
    check "pg restarted twice: store curve = curve.csv" $? "$(echo "$a" | wc -w) in curve.csv, $(echo "$s" | wc -w) stored"
    b=$(tensors "$work/pg1/best.safetensors"); l=$(tensors "$work/pg1/last.safetensors")
    [ "$b" = "$ref_best" ] && [ "$l" = "$ref_last" ]
    check "pg restarted twice: weights bit-identical" $? ""
    # down for longer than the store waits: a clear failure, then resume
    "$bin" "${TRAIN[@]}" --store "$url" --out "$work/pg2" >/dev/null 2>"$work/pg2.err" &
    p=$!
    sleep "$t_half"; pgctl -m fast stop
    t_down=$(date +%s)
    wait $p; rc=$?
    waited=$(($(date +%s) - t_down))
    [ $rc = 1 ] || [ $rc = 2 ]
    check "pg down for good: run fails clearly (exit $rc)" $? "after ${waited}s: $(tail -1 "$work/pg2.err")"
    pgctl start -o "$pgopts" -l "$pg_dir/log"
    resume_and_compare "pg down, then back: resumed" "$work/pg2" "$url"
  else
    check "pg: start a server of its own on port $pg_port" 1 "scripts/pg-test-server.sh failed"
  fi
fi

# ---- kill -9 at random moments ------------------------------------------------------------------
if [[ $only == *kill* ]]; then
  echo "# kill -9 at $kills random moments"
  n_tune=$((kills / 5)); n_rm=$((kills / 5)); n_train=$((kills - n_tune - n_rm))
  store=$work/kill.db
  rnd() { echo "scale=3; $1 * $RANDOM / 32767" | bc; } # uniform in [0, $1]
  killed=0 finished_first=0
  for i in $(seq 1 $n_train); do
    out=$work/kill-train-$i
    at=$(rnd "$t_ref")
    "$bin" "${TRAIN[@]}" --store "$store" --out "$out" >"$work/kill.out" 2>&1 &
    p=$!
    sleep "$at"; kill -9 $p 2>/dev/null
    wait $p 2>/dev/null; st=$?
    curves=$(store_curves_ok "$store"); rc=$?
    check "kill train #$i at ${at}s: store opens, no doubles" $rc "$curves"
    if [ $st = 137 ]; then
      killed=$((killed + 1))
      resume_and_compare "kill train #$i" "$out" "$store"
    else # it had finished: its own result is checked the same way
      finished_first=$((finished_first + 1))
      resume_and_compare "kill train #$i (had finished)" "$out" "$store" "$(cat "$work/kill.out")"
    fi
  done
  # tune: two training folds, then replay and save the policy
  TUNE=(tune --data synthetic:copy:n=500,len=4 --model gpt:layers=1,d=16,heads=2 --budget 12k --eval-every 400
    --folds 2 --threads 1 --quiet --json)
  t0=$(date +%s.%N)
  "$bin" "${TUNE[@]}" --store "$work/tune-ref.db" --out "$work/tune-ref" >/dev/null 2>&1
  t_tune=$(echo "$(date +%s.%N) - $t0" | bc)
  for i in $(seq 1 $n_tune); do
    at=$(rnd "$t_tune")
    "$bin" "${TUNE[@]}" --store "$store" --out "$work/kill-tune-$i" >/dev/null 2>&1 &
    p=$!
    sleep "$at"; kill -9 $p 2>/dev/null
    wait $p 2>/dev/null; [ $? = 137 ] && killed=$((killed + 1)) || finished_first=$((finished_first + 1))
    curves=$(store_curves_ok "$store"); rc=$?
    check "kill tune #$i at ${at}s: store opens, no doubles" $rc "$curves"
    "$bin" "${TUNE[@]}" --store "$store" --out "$work/kill-tune-$i-again" >/dev/null 2>"$work/tune.err"
    check "kill tune #$i: tune again completes" $? "$(tail -1 "$work/tune.err")"
  done
  # runs rm: remove a run with a long curve at a random moment
  for i in $(seq 1 $n_rm); do
    "$bin" "${TRAIN[@]}" --store "$store" --out "$work/rm-$i" >"$work/rm.out" 2>/dev/null
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$work/rm.out")
    before=$(store_tokens "$store" "$id" | wc -w)
    at=$(rnd 0.15) # a `runs rm` takes about 0.1 s
    "$bin" runs rm "$id" --store "$store" >/dev/null 2>&1 &
    p=$!
    sleep "$at"; kill -9 $p 2>/dev/null
    wait $p 2>/dev/null; [ $? = 137 ] && killed=$((killed + 1)) || finished_first=$((finished_first + 1))
    after=$(store_tokens "$store" "$id" | wc -w)
    orphans=$(python3 - "$store" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT (SELECT COUNT(*) FROM evals WHERE run_id NOT IN (SELECT id FROM runs)) + "
                "(SELECT COUNT(*) FROM eval_metrics WHERE run_id NOT IN (SELECT id FROM runs))").fetchone()[0])
EOF
)
    { [ "$after" = 0 ] || [ "$after" = "$before" ]; } && [ "$orphans" = 0 ]
    check "kill runs rm #$i at ${at}s: whole or gone" $? "evals $before -> $after, orphans $orphans"
  done
  echo "# kill -9: $killed killed mid-command, $finished_first had already finished"
fi

echo "# $passes passed, $fails failed"
[ $fails = 0 ]
