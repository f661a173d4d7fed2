#!/usr/bin/env bash
# Runs a throwaway mosquitto broker for tests: Debian's mosquitto (installed
# when missing), a configuration in a temporary directory, one listener on a
# free port of 127.0.0.1 only, anonymous clients allowed, no persistence.
#
#   scripts/mosquitto.sh start   start a broker (or find the running one) and print its address
#   scripts/mosquitto.sh addr    print the address of the running broker
#   scripts/mosquitto.sh stop    stop the broker and remove its directory
#
# Typical use:
#   export SHAKEDOWN_MOSQUITTO_ADDR=$(scripts/mosquitto.sh start)
#   SHAKEDOWN_REQUIRE_MOSQUITTO=1 go test ./server/bridge/...
#   scripts/mosquitto.sh stop
#
# The state file (SHAKEDOWN_MOSQUITTO_STATE, default shakedown-mosquitto.state
# in TMPDIR) records the directory, the process and the address; point it
# elsewhere to run two brokers. Messages go to stderr; stdout carries only the
# address (host:port).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=${TMPDIR:-/tmp}
state=${SHAKEDOWN_MOSQUITTO_STATE:-$tmp/shakedown-mosquitto.state}
host=127.0.0.1

log() { echo "mosquitto.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# binary prints the path of the broker, which Debian installs outside PATH
# for ordinary users.
binary() {
  local b
  for b in "$(command -v mosquitto 2>/dev/null || true)" /usr/sbin/mosquitto; do
    [ -n "$b" ] && [ -x "$b" ] && { echo "$b"; return 0; }
  done
  return 1
}

# free_port prints a port of 127.0.0.1 that refuses connections now.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/$host/$p") 2>/dev/null; then
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
  [ -n "${MQ_DIR:-}" ] && [ -n "${MQ_PID:-}" ] && [ -n "${MQ_ADDR:-}" ]
}

# alive reports whether the recorded process is still our broker.
alive() {
  kill -0 "$MQ_PID" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$MQ_PID/cmdline" 2>/dev/null | grep -q "$MQ_DIR/mosquitto.conf"
}

running() {
  load_state && alive
}

# accepts reports whether port accepts a TCP connection.
accepts() {
  (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

start() {
  if running; then
    log "already running"
    echo "$MQ_ADDR"
    return 0
  fi
  if [ -f "$state" ]; then
    log "removing a stale broker"
    stop
  fi
  local bin dir port pid="" started=""
  if ! bin=$(binary); then
    log "installing mosquitto"
    "$here/apt-install.sh" mosquitto >&2
    bin=$(binary) || die "mosquitto installed, but no broker binary found"
  fi
  dir=$(mktemp -d "$tmp/shakedown-mosquitto.XXXXXX")
  # The broker drops root to its own account, which must read the directory.
  chmod 0755 "$dir"
  for _ in 1 2 3 4 5; do
    port=$(free_port) || die "no free port"
    cat >"$dir/mosquitto.conf" <<EOF
# throwaway test broker
listener $port $host
allow_anonymous true
persistence false
log_dest stderr
log_type error
log_type warning
max_keepalive 65535
# The simulator's end-to-end subscriber is one client receiving every
# message of a run; on a busy machine it falls behind by more than
# mosquitto's default queue (1000), and the broker drops QoS 1 messages.
# The specs measure the simulator, not that limit (the sim summary names it).
max_queued_messages 100000
EOF
    chmod 0644 "$dir/mosquitto.conf"
    nohup "$bin" -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 100); do
      if accepts "$port"; then
        started=1
        break
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$started" ] && break
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "the broker did not start on port $port; trying another"
  done
  [ -n "$started" ] || die "the broker did not start; see $dir/mosquitto.log"
  local addr="$host:$port"
  {
    printf 'MQ_DIR=%q\n' "$dir"
    printf 'MQ_PID=%q\n' "$pid"
    printf 'MQ_ADDR=%q\n' "$addr"
  } >"$state"
  local version
  version=$("$bin" -h 2>/dev/null | head -n 1 || true)
  log "${version:-mosquitto} on $addr (files in $dir)"
  echo "$addr"
}

stop() {
  if ! load_state; then
    rm -f "$state"
    log "no broker"
    return 0
  fi
  case "$MQ_DIR" in
  "$tmp"/shakedown-mosquitto.*) ;;
  *) die "the state file names an unexpected directory; not removing it" ;;
  esac
  if alive; then
    kill "$MQ_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$MQ_PID" 2>/dev/null || break
      sleep 0.1
    done
    if alive; then
      kill -9 "$MQ_PID" 2>/dev/null || true
    fi
  fi
  rm -rf "$MQ_DIR"
  rm -f "$state"
  log "stopped"
}

addr() {
  running || die "no broker running; run: $0 start"
  echo "$MQ_ADDR"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
addr) addr ;;
*)
  echo "usage: $0 start|stop|addr" >&2
  exit 2
  ;;
esac
