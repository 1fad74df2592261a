#!/usr/bin/env bash
# Installs every Debian package stopwise needs, and nothing when all are there,
# and generates the comma-decimal locale the tests use (de_DE.UTF-8).
# Idempotent; quiet when everything is present. Run as root (or with sudo).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  # locale data: the tests parse and print numbers under de_DE.UTF-8 ("0,5")
  locales
  # fuzzing (bench/fuzz.sh): clang, libFuzzer's runtime, clang's OpenMP, llvm-symbolizer
  clang libclang-rt-14-dev libomp-dev llvm
  # BLAS (the OpenMP builds, so BLAS and our loops share libgomp)
  libblis-dev libblis4-openmp libopenblas-dev libopenblas0-openmp
  # libraries
  zlib1g-dev libjansson-dev libcriterion-dev libsqlite3-dev libpq-dev nettle-dev
  # the PostgreSQL server the store's tests run against
  postgresql
  # arithmetic in the fault-injection and load scripts (bench/faults.sh, bench/load.sh)
  bc
  # real datasets
  festlex-cmu dataset-fashion-mnist
  # references for parity checks and benchmarks
  python3 python3-numpy python3-torch python3-sklearn
  # the Python binding: its Optuna pruner (python/stopwise/optuna.py), and what its
  # install test uses (pip install ./python into a venv, offline: setuptools)
  python3-optuna python3-pip python3-venv python3-setuptools
  # the dashboard (stopwise ui): its HTTP server and the browser its tests drive
  # headless (Node.js and npm, which build its page, are below)
  libmicrohttpd-dev chromium
  # data-parallel training (mpirun -np N stopwise train) and the search's worker tests
  libopenmpi-dev openmpi-bin
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Node.js with npm builds the dashboard's page from the npm registry. Machine
# images may carry their own Node.js (one that bundles npm and conflicts with
# Debian's npm package): take Debian's only when there is none.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# de_DE.UTF-8 (decimal comma) for the locale tests: enable it in
# /etc/locale.gen and compile it, once.
if ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
  echo "setup: generating the locale de_DE.UTF-8" >&2
  if grep -q '^# *de_DE\.UTF-8 UTF-8' /etc/locale.gen; then
    $SUDO sed -i 's/^# *\(de_DE\.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  elif ! grep -q '^de_DE\.UTF-8 UTF-8' /etc/locale.gen; then
    echo 'de_DE.UTF-8 UTF-8' | $SUDO tee -a /etc/locale.gen >/dev/null
  fi
  $SUDO locale-gen >/dev/null
fi
