#!/usr/bin/env bash
# The main job: set up, build, and train a grapheme-to-phoneme transformer on
# the CMU pronouncing dictionary (Debian's festlex-cmu) with early stopping,
# recording the run in the embedded SQLite store (./stopwise.db).
# About 10 minutes on 2 cores. Extra arguments go to `stopwise train`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/stopwise train --data cmudict --budget "${STOPWISE_MAIN_BUDGET:-8M}" \
  --stop "patience=8:min_delta=0.1,diverge,warmup=1M" --store stopwise.db "$@"
