#!/usr/bin/env bash
# One command: build the CLI, then run bench/concurrency.py: 1, 2 and 4
# concurrent default trainings against the same run one after another, and one
# run's tokens/s with the new default against the old one (see its docstring).
# Arguments go to it. STOPWISE_BUILD_DIR picks the build folder (default build/).
# It measures the defaults: the wait-policy variables of the calling shell are
# cleared for every training it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${STOPWISE_BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$dir" -j "$(nproc)" --target stopwise_cli >/dev/null
exec /usr/bin/python3 bench/concurrency.py --build "$dir" "$@"
