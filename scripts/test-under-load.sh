#!/usr/bin/env bash
# Runs `make test` RUNS times in a row (default 3) while two CPU burners
# (stress-ng --cpu 2) keep both cores busy: a test that needs a quiet
# machine is a flaky test. Each run starts from a fresh clone of HEAD (the
# committed work: commit first), so no run sees another's build outputs,
# firmware images or results. The burners start before the first run and
# stop after the last, whatever happens; each run's time and result are
# printed as it ends and again at the end, and its log is kept in
# out/test-under-load/. A failed run's clone is kept for inspection.
#
# Exit status: 0 when every run passed, 1 when any failed.
#
#   scripts/test-under-load.sh [RUNS]
set -euo pipefail
runs=${1:-3}
case $runs in '' | *[!0-9]* | 0) echo "test-under-load: RUNS must be a positive number" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here/.." rev-parse --show-toplevel)
command -v stress-ng >/dev/null || "$here/apt-install.sh" stress-ng

logs=$root/out/test-under-load
mkdir -p "$logs"
work=$(mktemp -d "${TMPDIR:-/tmp}/shakedown-under-load.XXXXXX")
summary=()
burners=""

report() {
  echo "== test-under-load: $runs runs of make test with stress-ng --cpu 2 (HEAD $(git -C "$root" rev-parse --short HEAD))"
  for line in "${summary[@]}"; do echo "   $line"; done
}

cleanup() {
  local rc=$?
  if [ -n "$burners" ]; then
    kill "$burners" 2>/dev/null || true
    wait "$burners" 2>/dev/null || true
  fi
  [ ${#summary[@]} -gt 0 ] && report
  rmdir "$work" 2>/dev/null || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stress-ng --cpu 2 --quiet &
burners=$!
echo "test-under-load: stress-ng --cpu 2 running (pid $burners)"

failed=0
for i in $(seq 1 "$runs"); do
  dir=$work/run-$i
  git clone --quiet --no-hardlinks "$root" "$dir"
  echo "== run $i of $runs: make test in a fresh clone"
  start=$(date +%s)
  rc=0
  make -C "$dir" test 2>&1 | tee "$logs/run-$i.log" || rc=$?
  took=$(($(date +%s) - start))
  took_text=$(printf '%dm%02ds' $((took / 60)) $((took % 60)))
  if [ "$rc" -eq 0 ]; then
    summary+=("run $i: passed in $took_text")
    rm -rf "$dir"
  else
    summary+=("run $i: FAILED (exit $rc) after $took_text; log out/test-under-load/run-$i.log, clone $dir")
    failed=1
  fi
  echo "== ${summary[-1]}"
done
exit $failed
