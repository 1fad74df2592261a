#!/usr/bin/env bash
# Installs every Debian package stopwise needs, and nothing when all are there.
# Idempotent; quiet when everything is present. Run as root (or with sudo).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
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
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
