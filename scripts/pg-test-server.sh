#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL server on loopback for the tests,
# as the `postgres` user, with password authentication.
#   eval "$(scripts/pg-test-server.sh start)"   # exports STOPWISE_TEST_PG_URL
#   scripts/pg-test-server.sh stop
set -euo pipefail
port=${STOPWISE_PG_PORT:-55432}
dir=${STOPWISE_PG_DIR:-/tmp/stopwise-pg-$port}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }

case "${1:-}" in
start)
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    chown postgres "$dir"
    printf 'stopwise\n' >"$dir/pw"
    chown postgres "$dir/pw"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$dir/pw" >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off" start >/dev/null
  fi
  as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -qtAc \
    "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='stopwise') THEN
       CREATE ROLE stopwise LOGIN PASSWORD 'stopwise' CREATEDB; END IF; END\$\$;" >/dev/null
  as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='stopwise_test'" | grep -q 1 ||
    as_pg "$bin/createdb" -h "$dir" -p "$port" -U postgres -O stopwise stopwise_test
  echo "export STOPWISE_TEST_PG_URL=postgresql://stopwise:stopwise@127.0.0.1:$port/stopwise_test"
  ;;
stop)
  [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
