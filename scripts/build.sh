#!/usr/bin/env bash
# Configures and builds stopwise into build/ (Release, warnings fatal).
# Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${STOPWISE_BUILD_DIR:-build}
# the dashboard's page and browser-test driver from the npm registry (build
# time only; without npm everything else still builds: scripts/web.sh)
scripts/web.sh
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSTOPWISE_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)" >/dev/null
