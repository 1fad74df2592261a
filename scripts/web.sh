#!/usr/bin/env bash
# Fetches what the dashboard is built and tested with, from the npm registry,
# at build time only (never at run time): uPlot for the page (web/, embedded
# in the binary by the build) and playwright-core for the browser tests
# (tests/browser/). `npm ci` installs exactly the versions in each committed
# package-lock.json, and is skipped when node_modules already matches it.
#
# Without npm, or offline, it says so and succeeds: everything else builds,
# `stopwise ui` then serves its JSON API only and says its page was not built,
# and the browser tests skip (docs/UI.md).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "web: no npm: the dashboard's page is not built and its browser tests will skip (scripts/setup.sh installs npm)" >&2
  exit 0
fi
status=0
for dir in web tests/browser; do
  stamp=$dir/node_modules/.stopwise-lock
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
    continue # installed from this very lock file
  fi
  echo "web: npm ci in $dir" >&2
  if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    cp "$dir/package-lock.json" "$stamp"
  else
    echo "web: npm ci failed in $dir (offline?): building without it" >&2
    status=1
  fi
done
[ $status -eq 0 ] || echo "web: see docs/UI.md, 'Building without npm'" >&2
exit 0
