#!/usr/bin/env bash
# Many concurrent noise devices on one machine, past what one process may
# hold: PAIRS pairs of (shakedown serve, shakedown sim), each pair with a
# fixture set of its own (a set holds at most 9,999 devices per profile) and
# each process under the per-process open-file limit. Every device stays
# connected for HOLD, so all of them are connected at once in the middle of
# the run; the script prints each pair's summary and the totals.
#
# Usage: scripts/bench-sim-scale.sh [DEVICES] [PAIRS]     (default 50000 6; 100000 12 for 100,000)
#   RATE=80 HOLD=180s INTERVAL=60s    per pair: arrivals/s, hold, publish interval
#   KEEP=1                             keep the work directory
#   LOG_LEVEL=debug                    the servers' log level (default warn)
#
# Not a test: it takes minutes and the whole machine.
set -euo pipefail
cd "$(dirname "$0")/.."

devices=${1:-50000}
pairs=${2:-6}
rate=${RATE:-80}
hold=${HOLD:-180s}
interval=${INTERVAL:-60s}
password=bench-sim-scale
per=$(( (devices + pairs - 1) / pairs ))
if [ "$per" -gt 9999 ]; then
  echo "bench-sim-scale: $per devices per pair; a fixture set holds at most 9999 per profile: use more pairs" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-sim-scale.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "bench-sim-scale: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
log() { echo "bench-sim-scale: $*" >&2; }

log "building"
go build -o "$work/shakedown" ./cmd/shakedown
sd="$work/shakedown"
log "open-file limit per process: $(ulimit -Hn) (hard), $per devices per pair"

# Each pair's fixture set and registry, as many at once as there are cores.
prepare() {
  local d="$work/pair$1"
  mkdir -p "$d"
  "$sd" fixtures gen "$d/fx" --seed "scale-$1" --devices "$per" >/dev/null
  # Only the noise devices: a tls device costs an argon2id hash to import.
  "$sd" devices import --fixtures "$d/fx" --profiles noise --registry "sqlite:$d/registry.db" >/dev/null
}
jobs=$(nproc)
log "preparing $pairs fixture sets and registries, $jobs at a time"
for first in $(seq 0 "$jobs" $((pairs - 1))); do
  preps=()
  for i in $(seq "$first" $((first + jobs - 1))); do
    [ "$i" -lt "$pairs" ] || break
    prepare "$i" &
    preps+=($!)
  done
  for p in "${preps[@]}"; do wait "$p" || { log "preparing a pair failed"; exit 1; }; done
done
for i in $(seq 0 $((pairs - 1))); do
  d="$work/pair$i"
  "$sd" serve --registry "sqlite:$d/registry.db" \
    --listen-noise 127.0.0.1:0 --listen-tls "" --listen-seed "" --listen-psk "" \
    --backend 127.0.0.1:0 --backend-password "$password" \
    --metrics 127.0.0.1:0 --log-level "${LOG_LEVEL:-warn}" --ready-file "$d/ready.json" >"$d/serve.out" 2>"$d/serve.err" &
  pids+=($!)
done
for i in $(seq 0 $((pairs - 1))); do
  for _ in $(seq 1 3000); do [ -s "$work/pair$i/ready.json" ] && break; sleep 0.2; done
  [ -s "$work/pair$i/ready.json" ] || { log "serve $i did not become ready"; cat "$work/pair$i/serve.err" >&2; exit 1; }
done
log "$pairs servers ready; starting $pairs fleets of $per devices ($rate arrivals/s each, hold $hold)"

sims=()
for i in $(seq 0 $((pairs - 1))); do
  d="$work/pair$i"
  # 100 loopback addresses per fleet, as a fleet comes from many: the
  # server's per-source admission limits stay at their defaults.
  "$sd" sim --fixtures "$d/fx" --gateway-ready "$d/ready.json" --backend-password "$password" --mix noise=1 \
    --devices "$per" --rate "$rate" --hold "$hold" --publish-interval "$interval" --qos 1 --quiet \
    --source-addrs "127.0.$((i + 1)).1-127.0.$((i + 1)).100" \
    --out "$d/sim.json" >"$d/sim.txt" 2>"$d/sim.err" &
  sims+=($!)
done
rc=0
for p in "${sims[@]}"; do wait "$p" || rc=$?; done
# The servers' peak resident memory (VmHWM), summed, and the messages their
# brokers dropped for a subscriber, while they still run.
server_kib=0
for p in "${pids[@]}"; do
  kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
  server_kib=$((server_kib + ${kib:-0}))
done
for i in $(seq 0 $((pairs - 1))); do
  m=$(sed -n 's/.*"metrics": "\(.*\)".*/\1/p' "$work/pair$i/ready.json")
  curl -fsS "http://$m/metrics" >"$work/pair$i/metrics.txt" 2>/dev/null || true
done
dropped=$(cat "$work"/pair*/metrics.txt 2>/dev/null | awk '
  /^shakedown_mqtt_dropped_total/ { split($1, a, "\""); d[a[2]] += $2 }
  END { printf "%d (write queue full), %d (too many unacknowledged)", d["write_queue"], d["inflight_full"] }')
for i in $(seq 0 $((pairs - 1))); do
  echo "== pair $i"; cat "$work/pair$i/sim.txt"
done
# Exit status 1 is a threshold the fleet broke (losses): its results stand.
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || { log "a fleet failed (exit $rc)"; cat "$work"/pair*/sim.err >&2; exit "$rc"; }

# The totals over the pairs, from each fleet's figures.
echo "== totals: $pairs pairs"
for i in $(seq 0 $((pairs - 1))); do "$sd" results show --figures "$work/pair$i/sim.json"; done | awk -F= -v server_kib="$server_kib" -v dropped="$dropped" '
  { v[$1] += $2; n[$1]++ }
  END {
    printf "devices connected        %d (at most %d at once: the sum of the pairs\x27 peaks)\n", v["connected"], v["peak_connected"]
    printf "messages                 %d acknowledged, %d received end to end, %d missing\n", v["acked"], v["received"], v["missing"]
    printf "handshakes per second    %.1f (sum over pairs)\n", v["handshakes_per_s"]
    printf "simulator memory         %.1f KiB/device resident, %.1f KiB/device Go (means over pairs)\n", v["kib_per_device"] / n["kib_per_device"], v["go_kib_per_device"] / n["go_kib_per_device"]
    printf "broker drops             %s (sum over the servers)\n", dropped
    if (v["peak_connected"] > 0)
      printf "server memory            %.1f KiB/device (the servers\x27 peak resident memory, summed, over the devices connected at once)\n", server_kib / v["peak_connected"]
  }'
