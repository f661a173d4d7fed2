#!/usr/bin/env bash
# emu/test-chips.sh TIMEOUT CHIP IMAGE [CHIP IMAGE ...]: runs each image on
# its emulated chip (emu/board.sh run), two at a time, prints each run's
# output when it ends, and ends with "N passed, M failed". Exits non-zero
# if any run failed (a wrong vector, a crash, or no "#exit" in time).
set -uo pipefail
here=$(dirname "$0")
timeout=$1
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=0
pids=()
while [ $# -ge 2 ]; do
	chip=$1 image=$2
	shift 2
	echo "$chip $image" >"$out/$i.name"
	"$here/board.sh" run "$chip" "$image" "$timeout" >"$out/$i.log" 2>&1 &
	pids[i]=$!
	i=$((i + 1))
	# Two emulators at a time: one per core.
	if [ $((i % 2)) -eq 0 ]; then wait "${pids[i - 2]}"; echo $? >"$out/$((i - 2)).rc"; fi
done
passed=0 failed=0
for ((j = 0; j < i; j++)); do
	if [ ! -f "$out/$j.rc" ]; then wait "${pids[j]}"; echo $? >"$out/$j.rc"; fi
	rc=$(cat "$out/$j.rc")
	echo "== $(cat "$out/$j.name"): exit $rc"
	cat "$out/$j.log"
	if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "test-chips: $passed passed, $failed failed"
[ "$failed" = 0 ]
