#!/usr/bin/env bash
# Runs a throwaway PostgreSQL cluster for tests: Debian's postgresql (installed
# when missing), a cluster in a temporary directory, listening on a free port
# of 127.0.0.1 only, trust authentication on loopback, one database.
#
#   scripts/postgres.sh start   start a cluster (or find the running one) and print its DSN
#   scripts/postgres.sh dsn     print the DSN of the running cluster
#   scripts/postgres.sh stop    stop the cluster and remove its directory
#
# Typical use:
#   export SHAKEDOWN_PG_DSN=$(scripts/postgres.sh start)
#   SHAKEDOWN_REQUIRE_PG=1 go test ./server/registry/...
#   scripts/postgres.sh stop
#
# The state file (SHAKEDOWN_PG_STATE, default shakedown-pg.state in TMPDIR)
# records the directory, port and DSN; point it elsewhere to run two clusters.
# Messages go to stderr; stdout carries only the DSN.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=${TMPDIR:-/tmp}
state=${SHAKEDOWN_PG_STATE:-$tmp/shakedown-pg.state}
database=shakedown
superuser=postgres
max_connections=300

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# bindir prints the directory of initdb and pg_ctl, newest version first.
bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ] && command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir)
  fi
  [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || return 1
  echo "$d"
}

# as_owner runs a command as the cluster's owner: the server refuses to run
# as root, so root hands the cluster to the postgres account.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# free_port prints a port of 127.0.0.1 that refuses connections now.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

load_state() {
  [ -f "$state" ] || return 1
  # shellcheck disable=SC1090
  . "$state"
  [ -n "${PG_DIR:-}" ] && [ -n "${PG_BIN:-}" ] && [ -n "${PG_DSN:-}" ]
}

running() {
  load_state && as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1
}

start() {
  if running; then
    log "already running"
    echo "$PG_DSN"
    return 0
  fi
  if [ -f "$state" ]; then
    log "removing a stale cluster"
    stop
  fi
  local bin dir port started=""
  if ! bin=$(bindir); then
    log "installing postgresql"
    "$here/apt-install.sh" postgresql >&2
    bin=$(bindir) || die "postgresql installed, but no initdb found"
  fi
  dir=$(mktemp -d "$tmp/shakedown-pg.XXXXXX")
  [ "$(id -u)" -ne 0 ] || chown "$superuser": "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U "$superuser" --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
    die "initdb failed; see $dir/initdb.log"
  # Trust on the socket and on loopback; nothing else is accepted.
  as_owner sh -c "printf '%s\n' \
    'local all all trust' \
    'host all all 127.0.0.1/32 trust' >'$dir/data/pg_hba.conf'"
  for _ in 1 2 3 4 5; do
    port=$(free_port) || die "no free port"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=$max_connections" \
      start >/dev/null; then
      started=1
      break
    fi
    log "port $port was taken; trying another"
  done
  [ -n "$started" ] || die "the server did not start; see $dir/server.log"
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$superuser" "$database"
  local dsn="postgres://$superuser@127.0.0.1:$port/$database?sslmode=disable"
  {
    printf 'PG_DIR=%q\n' "$dir"
    printf 'PG_BIN=%q\n' "$bin"
    printf 'PG_PORT=%q\n' "$port"
    printf 'PG_DSN=%q\n' "$dsn"
  } >"$state"
  log "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)"
  echo "$dsn"
}

stop() {
  if ! load_state; then
    rm -f "$state"
    log "no cluster"
    return 0
  fi
  case "$PG_DIR" in
  "$tmp"/shakedown-pg.*) ;;
  *) die "the state file names an unexpected directory; not removing it" ;;
  esac
  as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  rm -f "$state"
  log "stopped"
}

dsn() {
  running || die "no cluster running; run: $0 start"
  echo "$PG_DSN"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
dsn) dsn ;;
*)
  echo "usage: $0 start|stop|dsn" >&2
  exit 2
  ;;
esac
