#!/usr/bin/env bash
# DEVICES concurrent noise devices on one machine, past what one process may
# hold: one fleet, run as shards of at most PER devices (`shakedown sim
# --shard i/n`, as the Kubernetes Indexed Job runs it), against as few
# `shakedown serve` processes as the per-process open-file limit allows,
# each with at most PER connections. Every device publishes at QoS 1 every
# INTERVAL with a keep-alive of KEEPALIVE, and holds long enough that the
# whole fleet is connected at once after the ramp. The shards' results are
# merged exactly (`shakedown results merge`), and the run is judged on the
# three criteria of issue 17:
#
#   1. every legitimate device connected at once at the peak: the merged
#      gauge of devices connected throughout one second (connected_at_once,
#      the shards' per-second minimum summed) equals DEVICES;
#   2. 0 acknowledged messages missing at the end-to-end subscribers;
#   3. connect p99 (from each device's scheduled start to its CONNACK) <= P99.
#
# Usage: scripts/bench-sim-scale.sh [DEVICES]             (default 100000)
#   PER=18000           most devices per shard, and connections per server
#   RATE=150            arrivals per second of the whole fleet (at 200/s and
#                       more the end of the ramp saturates the 2 cores and the
#                       connect p99 can pass 5 s: docs/benchmarks.md)
#   HOLD=               each device's hold (default: the ramp DEVICES/RATE + 180 s)
#   INTERVAL=60s KEEPALIVE=60s P99=5s
#   ADDRS=100           source addresses per shard (127.0.<shard+1>.1-ADDRS)
#   RECONNECT=backoff   a device whose connect failed tries again, as devices
#                       in the field do (sim --reconnect: 3 attempts, 1 s
#                       doubling); the summary counts the reconnects.
#                       none: a failed connect is final
#   SCALE_OUT=out/bench-sim-scale.json   the merged results file
#   KEEP=1              keep the work directory; LOG_LEVEL=warn (the servers')
#                       Each server serves pprof on loopback while the fleet
#                       runs (the "pprof" address of serveN/ready.json):
#                       go tool pprof http://ADDR/debug/pprof/profile
#
# Exit status: 0 every criterion held; 1 one failed; 2 a set-up error.
# Not a test: it takes minutes and the whole machine.
set -euo pipefail
cd "$(dirname "$0")/.."

devices=${1:-100000}
per=${PER:-18000}
rate=${RATE:-150}
interval=${INTERVAL:-60s}
keepalive=${KEEPALIVE:-60s}
p99=${P99:-5s}
addrs=${ADDRS:-100}
reconnect=${RECONNECT:-backoff}
out=${SCALE_OUT:-out/bench-sim-scale.json}
password=bench-sim-scale
log() { echo "bench-sim-scale: $*" >&2; }
die() { log "$*"; exit 2; }

[ "$devices" -ge 1 ] && [ "$per" -ge 1 ] || die "DEVICES and PER must be positive"
shards=$(( (devices + per - 1) / per ))
servers=$shards                          # one server per shard: each holds at most PER connections
[ "$shards" -le 254 ] || die "$shards shards: at most 254 (one 127.0.<n>.0/24 of sources each)"
[ "$addrs" -ge 1 ] && [ "$addrs" -le 254 ] || die "ADDRS must be 1-254"
ramp_s=$(( (devices + rate - 1) / rate ))
hold=${HOLD:-$(( ramp_s + 180 ))s}
per_shard=$(( (devices + shards - 1) / shards ))

# The plan against the machine's limits: open files per process (each
# process holds its connections and a few dozen files of its own) and
# ephemeral ports per source address.
files=$(ulimit -n)
[ "$files" = unlimited ] || [ $(( per_shard + 64 )) -le "$files" ] ||
  die "$per_shard connections per process, open-file limit $files: lower PER"
read -r port_lo port_hi </proc/sys/net/ipv4/ip_local_port_range
ports=$(( port_hi - port_lo + 1 ))
per_addr=$(( (per_shard + addrs - 1) / addrs ))
[ "$per_addr" -le "$ports" ] || die "$per_addr connections per source address, $ports ephemeral ports: raise ADDRS"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-sim-scale.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

cat <<EOF
plan: $devices noise devices in $shards shards of at most $per_shard (PER=$per), $servers server processes
      open files per process: limit $files, at most $per_shard connections each
      sources: $addrs loopback addresses per shard (127.0.<shard+1>.1-$addrs), $per_addr connections per address of $ports ephemeral ports ($port_lo-$port_hi)
      arrivals $rate/s (ramp ${ramp_s}s), hold $hold, QoS 1 every $interval, keep-alive $keepalive, reconnect $reconnect
      criteria: all $devices connected at once, 0 acknowledged messages missing, connect p99 <= $p99
load before: $(cat /proc/loadavg)
EOF

log "building"
go build -o "$work/shakedown" ./cmd/shakedown
sd="$work/shakedown"

# One fixture set for the whole fleet (identities are dealt fleet-wide, so
# shards never share one), one registry imported from it and copied for
# every server.
log "generating $devices noise identities and the registry"
"$sd" fixtures gen "$work/fx" --seed bench-sim-scale --devices 1 --noise-devices "$devices" >/dev/null
"$sd" devices import --fixtures "$work/fx" --profiles noise --registry "sqlite:$work/registry.db" >/dev/null

for i in $(seq 0 $((servers - 1))); do
  d="$work/serve$i"
  mkdir -p "$d"
  cp "$work/registry.db" "$d/registry.db"
  "$sd" serve --registry "sqlite:$d/registry.db" \
    --listen-noise 127.0.0.1:0 --listen-tls "" --listen-seed "" --listen-psk "" \
    --backend 127.0.0.1:0 --backend-password "$password" \
    --metrics 127.0.0.1:0 --pprof 127.0.0.1:0 --log-level "${LOG_LEVEL:-warn}" --ready-file "$d/ready.json" >"$d/out" 2>"$d/err" &
  pids+=($!)
  echo "$!" >"$d/pid"
done
for i in $(seq 0 $((servers - 1))); do
  for _ in $(seq 1 3000); do [ -s "$work/serve$i/ready.json" ] && break; sleep 0.2; done
  [ -s "$work/serve$i/ready.json" ] || { log "serve $i did not become ready"; cat "$work/serve$i/err" >&2; exit 2; }
  awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$work/serve$i/pid")/status" >"$work/serve$i/base_kib"
done

# The load average while the fleet runs, every 5 s.
( for _ in $(seq 1 100000); do cat /proc/loadavg; sleep 5; done ) >"$work/loadavg" &
loadpid=$!
pids+=($loadpid)

log "$servers servers ready; starting $shards shards"
sims=()
for i in $(seq 0 $((shards - 1))); do
  "$sd" sim --fixtures "$work/fx" --gateway-ready "$work/serve$((i % servers))/ready.json" --backend-password "$password" \
    --mix noise=1 --devices "$devices" --shard "$i/$shards" --rate "$rate" --hold "$hold" \
    --publish-interval "$interval" --keepalive "$keepalive" --qos 1 --quiet --reconnect "$reconnect" \
    --threshold "connect.p99<=$p99" \
    --source-addrs "127.0.$((i + 1)).1-127.0.$((i + 1)).$addrs" \
    --out "$work/shard-$i.json" >"$work/shard-$i.txt" 2>"$work/shard-$i.err" &
  sims+=($!)
done
rc=0
for p in "${sims[@]}"; do wait "$p" || { r=$?; [ "$r" -gt "$rc" ] && rc=$r; }; done
kill "$loadpid" 2>/dev/null || true
# Exit status 1 is a threshold a shard broke: its results stand.
[ "$rc" -le 1 ] || { log "a shard failed (exit $rc)"; tail -n 20 "$work"/shard-*.err >&2; exit 2; }

echo "== merged results of $shards shards"
set +e
mkdir -p "$(dirname "$out")"
"$sd" results merge -o "$out" "$work"/shard-*.json
merge_rc=$?
set -e
[ "$merge_rc" -le 1 ] || { log "merging failed (exit $merge_rc)"; exit 2; }
echo "merged results: $out"

# Each server's resident memory: before the fleet and its peak (VmHWM),
# over the most sessions it held (its shard's peak of connected devices),
# and the messages its broker dropped.
echo "== servers"
for i in $(seq 0 $((servers - 1))); do
  d="$work/serve$i"
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$(cat "$d/pid")/status")
  base=$(cat "$d/base_kib")
  m=$(sed -n 's/.*"metrics": "\(.*\)".*/\1/p' "$d/ready.json")
  drops=$(curl -fsS "http://$m/metrics" 2>/dev/null | awk '/^shakedown_mqtt_dropped_total/ { n += $2 } END { print n + 0 }')
  peak=$("$sd" results show --figures "$work/shard-$i.json" | awk -F= '$1 == "peak_connected" { print $2 }')
  echo "serve $i: resident $(( base / 1024 )) MiB before the fleet, peak $(( hwm / 1024 )) MiB" \
    "($(awk -v h="$hwm" -v b="$base" -v n="${peak:-0}" 'BEGIN { if (n > 0) printf "%.1f", (h - b) / n; else print "-" }') KiB per session" \
    "at its shard's peak of ${peak:-0} devices); broker drops $drops"
done

"$sd" results show --figures "$out" >"$work/figures"
# fig prints figure $1 of the merged results. A figure the verdict needs
# and the results lack is a broken run (exit 2), never a 0 that passes;
# $2, when given, stands for a figure that may be absent (the settled
# memory of a fleet whose hold is shorter than its ramp).
fig() {
  awk -F= -v k="$1" '$1 == k { print $2; f = 1 } END { exit !f }' "$work/figures" ||
    { [ $# -ge 2 ] && echo "$2"; } || die "the merged results lack the figure $1"
}
at_once=$(fig connected_at_once)
missing=$(fig missing)
acked=$(fig acked)
received=$(fig received)
# Counts print as integers, not in the figures' six significant digits.
acked=$(awk -v n="$acked" 'BEGIN { printf "%.0f", n }')
received=$(awk -v n="$received" 'BEGIN { printf "%.0f", n }')
p99_ms=$(fig connect_p99_ms)
settled=$(fig settled_kib_per_device -)
reconnects=$(fig reconnects)
limit_ms=$(awk -v d="$p99" 'BEGIN { v = d + 0; if (d ~ /ms$/) print v; else if (d ~ /s$/) print v * 1000; else print v }')
load_max=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$work/loadavg")
procs=$(( shards + servers ))

pass=1
verdict() { if [ "$1" = 1 ]; then echo "PASS  $2"; else echo "FAIL  $2"; pass=0; fi; }
echo "== criteria"
# The figures print with six significant digits: compare them in awk.
holds() { awk -v a="$1" -v b="$3" "BEGIN { if (a + 0 $2 b + 0) print 1 }"; }
verdict "$(holds "$at_once" ">=" "$devices")" "every device connected at once: $at_once of $devices connected throughout one second"
verdict "$([ "$(holds "$missing" "==" 0)" = 1 ] && holds "$acked" ">" 0)" "acknowledged messages missing: $missing ($acked acknowledged, $received received end to end)"
verdict "$(holds "$p99_ms" "<=" "$limit_ms")" "connect p99 ${p99_ms} ms (at most $p99)"
echo "== summary"
echo "$devices noise devices in $shards shards against $servers servers ($procs processes on $(nproc) cores, load average peak $load_max):" \
  "$at_once connected at once ($reconnects reconnects), $acked messages acknowledged and $received received end to end, $missing missing;" \
  "connect p99 ${p99_ms} ms; simulator ${settled} KiB resident per connected device (settled, over the baseline with the fixtures loaded)." \
  "$([ "$pass" = 1 ] && echo PASS || echo FAIL)"
[ "$pass" = 1 ] || exit 1
