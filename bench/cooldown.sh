#!/usr/bin/env bash
# Stop-then-cooldown against stopping a cosine schedule, on cmudict (issue 4).
# The same model, data, seed and stopping policy, two schedules:
#   cosine: cosine decay over the whole budget; at the stop, the best checkpoint
#           is kept as it is (the learning rate is still high if it stops early);
#   wsd:    warm-up, stable, and at the stop a cooldown: the learning rate decays
#           linearly to its floor over COOLDOWN x the tokens so far, then one more
#           evaluation; the cooldown's tokens are counted.
# Reports tokens (cooldown included) and the best checkpoint's val and test EM.
#   bench/cooldown.sh            BUDGET (8M), POLICY (patience=5), COOLDOWN (0.1), SEEDS (1)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${STOPWISE:-build/stopwise}
[ -x "$bin" ] || scripts/build.sh
budget=${BUDGET:-8M}
policy=${POLICY:-patience=5}
out=bench/results
mkdir -p "$out/runs"
for seed in ${SEEDS:-1}; do
  for sched in "cosine:lr=2e-3,warmup=${WARMUP:-160k},min=0.05" "wsd:lr=2e-3,warmup=${WARMUP:-160k},min=0.05"; do
    kind=${sched%%:*}
    "$bin" train --data cmudict --budget "$budget" --stop "$policy" --schedule "$sched" \
      --cooldown "${COOLDOWN:-0.1}" --eval-limit "${EVAL_LIMIT:-1000}" --seed "$seed" --threads "${THREADS:-0}" \
      --no-store --quiet \
      --out "$out/runs/cooldown-$kind-$seed" --json >"$out/cooldown-$kind-$seed.json"
  done
done
/usr/bin/python3 - "$out" ${SEEDS:-1} <<'PY'
import json, sys, statistics as st
out, seeds = sys.argv[1], sys.argv[2:]
print(f"{'schedule':8} {'seed':>4} {'tokens':>10} {'cooldown':>9} {'stop rule':>10} {'val EM':>7} {'test EM':>7} {'test EM pub':>11}")
rows = {}
for kind in ("cosine", "wsd"):
    for s in seeds:
        r = json.load(open(f"{out}/cooldown-{kind}-{s}.json"))
        rows.setdefault(kind, []).append(r)
        print(f"{kind:8} {s:>4} {r['tokens']:>10,} {r['cooldown_tokens']:>9,} {r['stop_rule'] or '-':>10} "
              f"{r['val_em']:7.2f} {r['test_em']:7.2f} {r.get('test_em_published', float('nan')):11.2f}")
for kind, rs in rows.items():
    print(f"{kind}: mean test EM {st.mean(r['test_em'] for r in rs):.2f} with mean tokens {st.mean(r['tokens'] for r in rs):,.0f}")
json.dump(rows, open(f"{out}/cooldown.json", "w"), indent=1)
PY
