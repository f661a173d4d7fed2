#!/usr/bin/env bash
# emu/board.sh: emulated boards on pseudo-terminals.
#
#   board.sh start CHIP IMAGE [STATE_DIR]   start, print "pid N" and "pty PATH"
#   board.sh stop PID                       stop an emulator by its PID
#   board.sh run CHIP IMAGE [TIMEOUT_S]     start, talk, stop: for tests
#
# CHIP is atmega328p (simavr, through emu/simavr-run.c), cortex-m3 (QEMU
# mps2-an385), nrf51 (QEMU microbit), rv32 (QEMU sifive_e) or stm32f4
# (QEMU netduinoplus2). QEMU runs with -icount shift=0, so the guest's
# SysTick, TIMER0 (nrf51), minstret and TIM2 (stm32f4) count instructions
# deterministically, and -serial pty; the pty's path is read from QEMU's
# "char device redirected to /dev/pts/N (label serial0)" line on standard
# error.
#
# start leaves the emulator running (detached, standard input closed) and
# prints its PID and pty, also into STATE_DIR/pid and STATE_DIR/pty when
# given: the harness opens the pty like a real board's port and stops the
# emulator by PID when the test ends (an emulator keeps a core busy).
#
# run also opens the pty and sends a newline about once a second until the
# firmware answers: QEMU drops output until the pty is opened and notices
# input only about once a second, so the firmware waits for a first byte.
# It copies the firmware's lines to standard output until "#exit N", stops
# the emulator, and exits with N; 124 on timeout. For the AVR the runner's
# "mark <id> <cycles>" lines (exact cycles between GPIOR0 markers) follow.
#
# Environment: SIMAVR_RUN (default build/simavr-run), QEMU_ARM
# (qemu-system-arm), QEMU_RISCV32 (qemu-system-riscv32).
set -euo pipefail

SIMAVR_RUN=${SIMAVR_RUN:-build/simavr-run}
QEMU_ARM=${QEMU_ARM:-qemu-system-arm}
QEMU_RISCV32=${QEMU_RISCV32:-qemu-system-riscv32}
DISCOVER_S=10   # how long an emulator may take to name its pty
PROBE_S=1       # read timeout between probes, before the first answer

die() { echo "board.sh: $*" >&2; exit 2; }

# launch CHIP IMAGE LOG: starts the emulator detached with its output in
# LOG; sets PID.
launch() {
	local chip=$1 image=$2 log=$3
	[ -r "$image" ] || die "cannot read $image"
	case $chip in
	atmega328p)
		setsid "$SIMAVR_RUN" -m atmega328p -f 16000000 "$image" \
			</dev/null >"$log" 2>&1 &
		;;
	cortex-m3)
		setsid "$QEMU_ARM" -M mps2-an385 -cpu cortex-m3 -icount shift=0 \
			-display none -monitor none -serial pty -kernel "$image" \
			</dev/null >"$log" 2>&1 &
		;;
	nrf51)
		setsid "$QEMU_ARM" -M microbit -icount shift=0 \
			-display none -monitor none -serial pty -kernel "$image" \
			</dev/null >"$log" 2>&1 &
		;;
	stm32f4)
		# USART1 is serial0 (hw/arm/stm32f405_soc.c).
		setsid "$QEMU_ARM" -M netduinoplus2 -icount shift=0 \
			-display none -monitor none -serial pty -kernel "$image" \
			</dev/null >"$log" 2>&1 &
		;;
	rv32)
		setsid "$QEMU_RISCV32" -M sifive_e -icount shift=0 \
			-display none -monitor none -serial pty -kernel "$image" \
			</dev/null >"$log" 2>&1 &
		;;
	*) die "unknown chip $chip (atmega328p, cortex-m3, nrf51, rv32, stm32f4)" ;;
	esac
	PID=$!
}

# discover LOG: waits until the emulator names its pty; sets PTY.
discover() {
	local log=$1 waited=0
	PTY=""
	while [ -z "$PTY" ]; do
		PTY=$(sed -n -e 's/^pty \(\/dev\/[^ ]*\)$/\1/p' \
			-e 's/.*char device redirected to \(\/dev\/[^ ]*\) (label serial0).*/\1/p' \
			"$log" | head -n 1)
		[ -n "$PTY" ] && break
		kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; die "emulator exited"; }
		[ "$waited" -ge $((DISCOVER_S * 20)) ] && { stop "$PID"; die "no pty after ${DISCOVER_S}s"; }
		sleep 0.05
		waited=$((waited + 1))
	done
}

stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

cmd_start() {
	local chip=$1 image=$2 dir=${3:-}
	local log
	if [ -n "$dir" ]; then mkdir -p "$dir"; log=$dir/emulator.log; else log=$(mktemp); fi
	launch "$chip" "$image" "$log"
	discover "$log"
	echo "pid $PID"
	echo "pty $PTY"
	if [ -n "$dir" ]; then
		echo "$PID" >"$dir/pid"
		echo "$PTY" >"$dir/pty"
	fi
}

cmd_run() {
	local chip=$1 image=$2 timeout=${3:-300}
	local log status=124 answered=0 partial="" chunk line deadline
	log=$(mktemp)
	RUN_LOG=$log
	launch "$chip" "$image" "$log"
	trap 'stop "$PID"; rm -f "$RUN_LOG"' EXIT
	discover "$log"
	stty -F "$PTY" raw -echo 2>/dev/null || true
	exec 3<>"$PTY"
	deadline=$((SECONDS + timeout))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if IFS= read -r -t "$PROBE_S" chunk <&3; then
			line=${partial}${chunk}
			partial=""
			line=${line%$'\r'}
			answered=1
			case $line in
			"#exit "*) status=${line#"#exit "}; break ;;
			"") ;;
			*) echo "$line" ;;
			esac
		else
			# A timeout keeps what was read so far (bash saves a partial
			# line); anything else means the pty went away.
			[ $? -gt 128 ] || break
			partial=${partial}${chunk}
			[ "$answered" = 1 ] || printf '\n' >&3
		fi
	done
	exec 3<&-
	[ "$status" = 124 ] && echo "board.sh: $chip: no #exit line within ${timeout}s" >&2
	if [ "$chip" = atmega328p ]; then
		# Let the runner report the exit marker, then show its marks.
		for _ in $(seq 50); do grep -q '^exit ' "$log" && break; sleep 0.1; done
		grep '^mark ' "$log" || true
	fi
	return "$status"
}

[ $# -ge 1 ] || die "usage: board.sh start|stop|run ..."
case $1 in
start) [ $# -ge 3 ] || die "usage: board.sh start CHIP IMAGE [STATE_DIR]"; cmd_start "$2" "$3" "${4:-}" ;;
stop) [ $# -eq 2 ] || die "usage: board.sh stop PID"; stop "$2" ;;
run) [ $# -ge 3 ] || die "usage: board.sh run CHIP IMAGE [TIMEOUT_S]"; cmd_run "$2" "$3" "${4:-300}" ;;
*) die "unknown command $1" ;;
esac
