#!/usr/bin/env bash
# Runs a command with the services the tests use: a throwaway PostgreSQL and a
# throwaway mosquitto, each started on a free loopback port and stopped (and
# removed) when the command ends, whatever its result. The tests then require
# them: SHAKEDOWN_REQUIRE_PG=1 and SHAKEDOWN_REQUIRE_MOSQUITTO=1 make their
# specs fail instead of skipping when a service is missing.
#
#   scripts/with-services.sh go test ./...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export TMPDIR=${TMPDIR:-/tmp}
state_dir=$(mktemp -d "$TMPDIR/shakedown-services.XXXXXX")
export SHAKEDOWN_PG_STATE=$state_dir/pg.state
export SHAKEDOWN_MOSQUITTO_STATE=$state_dir/mosquitto.state

cleanup() {
  local rc=$?
  [ -x "$here/mosquitto.sh" ] && "$here/mosquitto.sh" stop >/dev/null 2>&1 || true
  "$here/postgres.sh" stop >/dev/null 2>&1 || true
  rm -rf "$state_dir"
  exit $rc
}
trap cleanup EXIT INT TERM

SHAKEDOWN_PG_DSN=$("$here/postgres.sh" start)
export SHAKEDOWN_PG_DSN SHAKEDOWN_REQUIRE_PG=1
if [ -x "$here/mosquitto.sh" ]; then
  SHAKEDOWN_MOSQUITTO_ADDR=$("$here/mosquitto.sh" start)
  export SHAKEDOWN_MOSQUITTO_ADDR SHAKEDOWN_REQUIRE_MOSQUITTO=1
fi
echo "services: postgres $SHAKEDOWN_PG_DSN${SHAKEDOWN_MOSQUITTO_ADDR:+, mosquitto $SHAKEDOWN_MOSQUITTO_ADDR}" >&2
"$@"
