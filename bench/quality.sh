#!/usr/bin/env bash
# Quality on the real tasks (BENCH.md section 3), one command:
#   bench/quality.sh [fashion-mnist] [cmudict]        (default: both)
# fashion-mnist: the mlp for 50 epochs of the 54k training images (2.7M tokens),
#   evaluated every epoch; the best epoch's test accuracy. Reference: scikit-learn's
#   MLPClassifier(256) with early stopping measured 89.4% here after 36 epochs
#   (1.94M tokens); pass SKLEARN=1 to measure it again in this run.
# cmudict: the default gpt, trained on the lexicon form; test EM (word accuracy) in
#   the lexicon form and in the published form, phone error rate, tokens, wall time.
#   CMUDICT_BUDGET (default 16M) and CMUDICT_ARGS change the run.
# Writes bench/results/quality-<task>.json (the train --json object).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${STOPWISE:-build/stopwise}
[ -x "$bin" ] || scripts/build.sh
out=bench/results
mkdir -p "$out"
tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(fashion-mnist cmudict)

for task in "${tasks[@]}"; do
  case "$task" in
  fashion-mnist)
    "$bin" train --data fashion-mnist --budget 2.7M --eval-every 54k --stop none --no-store \
      --out "$out/runs/quality-fashion-mnist" --json >"$out/quality-fashion-mnist.json"
    ;;
  cmudict)
    # shellcheck disable=SC2086
    "$bin" train --data cmudict --budget "${CMUDICT_BUDGET:-16M}" --stop none --no-store \
      --out "$out/runs/quality-cmudict" --json ${CMUDICT_ARGS:-} >"$out/quality-cmudict.json"
    ;;
  *) echo "unknown task $task (fashion-mnist, cmudict)" >&2; exit 2 ;;
  esac
  /usr/bin/python3 - "$out/quality-$task.json" "$task" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); task = sys.argv[2]
print(f"{task}: test EM {r['test_em']:.2f}%  val EM {r['val_em']:.2f}%  best at {r['best_tokens']:,} of {r['tokens']:,} tokens"
      f"  wall {r['wall_s']:.0f} s ({r['eval_s']:.0f} s evaluating)  model {r['model']}")
if 'test_per' in r: print(f"  test phone error rate {r['test_per']:.2f}%")
if 'test_em_published' in r: print(f"  test EM in the published form {r['test_em_published']:.2f}%")
if task == 'fashion-mnist':
    print("  reference: scikit-learn MLPClassifier(256), early stopping: 89.4% after 36 epochs (1.94M tokens)")
PY
done

if [ "${SKLEARN:-0}" = 1 ]; then
  /usr/bin/python3 - <<'PY'
import gzip, time, numpy as np
from sklearn.neural_network import MLPClassifier
d = "/usr/share/datasets/fashion-mnist/"
def idx(name, off): return np.frombuffer(gzip.open(d + name).read(), np.uint8, offset=off)
X = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0; y = idx("train-labels-idx1-ubyte.gz", 8)
Xt = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0; yt = idx("t10k-labels-idx1-ubyte.gz", 8)
t = time.time(); m = MLPClassifier(hidden_layer_sizes=(256,), early_stopping=True, random_state=1).fit(X, y)
print(f"scikit-learn MLPClassifier(256): test accuracy {100 * m.score(Xt, yt):.2f}% after {m.n_iter_} epochs "
      f"({m.n_iter_ * 54000:,} tokens), {time.time() - t:.0f} s")
PY
fi
