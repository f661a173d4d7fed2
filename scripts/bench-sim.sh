#!/usr/bin/env bash
# Side by side: one fleet, four targets, on this machine.
#
#   (a) the gateway, noise profile           shakedown serve --listen-noise
#   (b) the embedded broker, plain MQTT      shakedown serve --plain-mqtt
#   (c) the embedded broker, MQTT over TLS 1.3 (the gateway's tls profile)
#   (d) mosquitto, plain MQTT                Debian's mosquitto, temporary config
#
# MODE=capacity (the default): capacity searches per target (sim --capacity),
# which step the offered rate up while the latency threshold and the
# default thresholds (no device lost, no publish failed) hold for a whole
# step, then bisect. Two searches each: the connect rate (arrivals/s, judged
# by connect.p99<1s) and the publish rate of PUBLISHERS connected devices
# (messages/s, judged by publish_ack.p99<1s). It prints each target's two
# knees and the ratios of knees a/b, a/c and a/d.
# MODE=fleet: one fixed fleet per target, as before the capacity search:
# connect rate, handshake and connect p99, publish throughput, and the
# simulator's memory per device; then the ratios a/b and a/c. That measures
# the offered load, not the targets' limits. Not a test: the figures depend
# on the machine and on what else runs on it.
#
# Usage: scripts/bench-sim.sh [DEVICES]          (default 5000; capacity: identities per profile, at most 9999)
#   VARY="connect publish" STEP=3s          the searches (what each varies, step length)
#   START=100 PUBLISH_START=1000            each search's first rate
#   PUBLISHERS=200                          the devices of the publish search
#   RATE=1000 HOLD=20s INTERVAL=1s QOS=1    the fleet of MODE=fleet (arrivals/s, hold, publish interval, QoS)
#   TARGETS="a b c d"                       which targets to run
#   KEEP=1                                  keep the work directory (results JSON, logs)
#
# As a Makefile recipe:
#   bench-sim: ## side-by-side fleet benchmark: gateway noise, plain MQTT, TLS, mosquitto
#   	scripts/bench-sim.sh $(DEVICES)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${MODE:-capacity}
devices=${1:-5000}
varies=${VARY:-connect publish}
start=${START:-100}
publish_start=${PUBLISH_START:-1000}
step=${STEP:-3s}
rate=${RATE:-1000}
hold=${HOLD:-20s}
interval=${INTERVAL:-1s}
qos=${QOS:-1}
targets=${TARGETS:-a b c d}
password=bench-sim

if [ "$mode" = capacity ]; then
  for v in $varies; do
    case $v in connect | publish) ;; *) echo "bench-sim: unknown VARY $v (want connect or publish)" >&2; exit 2 ;; esac
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-sim.XXXXXX")
serve_pid="" mosq_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  [ -n "$mosq_pid" ] && kill "$mosq_pid" 2>/dev/null && wait "$mosq_pid" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "bench-sim: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
log() { echo "bench-sim: $*" >&2; }

log "building"
go build -o "$work/shakedown" ./cmd/shakedown
sd="$work/shakedown"

# The server: every listener on a free port of loopback. The tls devices
# present their client certificates (mutual TLS, the default), so (c)
# measures TLS 1.3; `sim --tls-auth password` would measure the machine
# password check (one HMAC) instead.
start_serve() {
  log "starting shakedown serve (importing the fixture set)"
  "$sd" serve --fixtures "$work/fx" --registry "sqlite:$work/registry.db" \
    --listen-noise 127.0.0.1:0 --listen-tls 127.0.0.1:0 --listen-seed "" --listen-psk "" \
    --plain-mqtt 127.0.0.1:0 --backend 127.0.0.1:0 --backend-password "$password" \
    --metrics "" --log-level warn --ready-file "$work/ready.json" \
    >"$work/serve.out" 2>"$work/serve.err" &
  serve_pid=$!
  for _ in $(seq 1 3000); do
    [ -s "$work/ready.json" ] && return 0
    kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.2
  done
  log "the server did not become ready"
  exit 1
}
case " $targets " in *" a "* | *" b "* | *" c "*)
  log "generating $devices devices per profile"
  "$sd" fixtures gen "$work/fx" --seed bench-sim --devices "$devices" >/dev/null
  start_serve
  ;;
esac

# mosquitto on a free port with a temporary configuration; sets mosq_addr.
# Under scripts/with-services.sh, its throwaway mosquitto serves instead.
mosq_addr=""
start_mosquitto() {
  if [ -n "${SHAKEDOWN_MOSQUITTO_ADDR:-}" ]; then mosq_addr=$SHAKEDOWN_MOSQUITTO_ADDR; return 0; fi
  scripts/apt-install.sh mosquitto >&2
  local bin port=""
  bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 12000)) # below the usual ephemeral range
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  cat >"$work/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
max_inflight_messages 0
max_queued_messages 100000
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
EOF
  "$bin" -c "$work/mosquitto.conf" >/dev/null 2>"$work/mosquitto.err" &
  mosq_pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { mosq_addr="127.0.0.1:$port"; return 0; }
    sleep 0.1
  done
  log "mosquitto did not start: skipping (d)"; cat "$work/mosquitto.err" >&2; return 1
}

# The fleet comes from 100 loopback addresses, as a fleet comes from many:
# the server's per-source admission limits (200 handshakes/s per address by
# default) stay at their defaults and out of the figures.
fleet=(--devices "$devices" --rate "$rate" --hold "$hold" --publish-interval "$interval" --qos "$qos" --quiet
  --source-addrs 127.0.0.2-127.0.0.101)

# A capacity step of the gateway needs an identity per device: its rate
# times the step must stay within DEVICES; the search says where it stopped.
# search VARY: the fleet arguments of one search.
search() {
  fleet=(--capacity "$1" --capacity-step "$step" --quiet --source-addrs 127.0.0.2-127.0.0.101)
  case $1 in
  connect) fleet+=(--capacity-start "$start") ;;
  publish) fleet+=(--capacity-start "$publish_start" --devices "${PUBLISHERS:-200}" --rate 200 --qos "$qos") ;;
  esac
}

# run NAME ARGS...: one fleet run or search; exit status 1 (a threshold
# failed: losses, or no step held) is a result, not an error.
run() {
  local name=$1; shift
  log "($name) $*"
  local rc=0
  "$sd" sim "$@" "${fleet[@]}" --out "$work/$name.json" >"$work/$name.txt" 2>"$work/$name.err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then cat "$work/$name.err" >&2; exit "$rc"; fi
  cat "$work/$name.txt"
  echo
}

# run_targets PREFIX: a run or search on each target, named PREFIX + target.
run_targets() {
  local p=$1 t
  for t in $targets; do
    case $t in
    a) run "$p"a --fixtures "$work/fx" --gateway-ready "$work/ready.json" --backend-password "$password" --mix noise=1 ;;
    b) run "$p"b --target broker --gateway-ready "$work/ready.json" --backend-password "$password" --client-id "plain-{n}" ;;
    c) run "$p"c --fixtures "$work/fx" --gateway-ready "$work/ready.json" --backend-password "$password" --mix tls=1 ;;
    d) if [ -n "$mosq_addr" ] || start_mosquitto; then run "$p"d --target broker --broker-addr "$mosq_addr" --client-id "mosq-{n}"; fi ;;
    *) log "unknown target $t (want a, b, c or d)"; exit 2 ;;
    esac
  done
}

if [ "$mode" = capacity ]; then
  for v in $varies; do
    search "$v"
    run_targets "$v-"
  done
else
  run_targets ""
fi

ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x == "-" || y == "-" || y == 0) print "-"; else printf "%.3g\n", x / y }'; }

# knee NAME: the knee of a target's search, or "-".
knee() {
  [ -f "$work/$1.json" ] || { echo -; return; }
  sed -n 's/^ *"knee": *\([0-9.e+]*\),*$/\1/p' "$work/$1.json" | head -1 | grep . || echo -
}

declare -A names=([a]="(a) gateway noise" [b]="(b) embedded broker plain" [c]="(c) embedded broker TLS 1.3" [d]="(d) mosquitto plain")
if [ "$mode" = capacity ]; then
  echo "== capacity searches, steps of $step; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-34s" target
  for v in $varies; do printf " %20s" "knee ($v/s)"; done
  echo
  for t in $targets; do
    printf "%-34s" "${names[$t]}"
    for v in $varies; do printf " %20s" "$(knee "$v-$t")"; done
    echo
  done
  for o in b c d; do
    case " $targets " in *" a "*) ;; *) continue ;; esac
    case " $targets " in *" $o "*) ;; *) continue ;; esac
    line="a/$o: knees"
    for v in $varies; do line+=" $v $(ratio "$(knee "$v-a")" "$(knee "$v-$o")")"; done
    echo "$line"
  done
  exit 0
fi

# fig NAME KEY: one figure of a run, or "-".
fig() {
  [ -f "$work/$1.json" ] || { echo -; return; }
  "$sd" results show --figures "$work/$1.json" | awk -F= -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "-" }'
}

echo "== $devices devices, $rate arrivals/s, hold $hold, a publish every $interval, QoS $qos"
printf "%-34s %12s %12s %12s %12s %12s %10s\n" target "connects/s" "hs p99 ms" "conn p99 ms" "publishes/s" "e2e p99 ms" "KiB/dev"
for t in $targets; do
  printf "%-34s %12s %12s %12s %12s %12s %10s\n" "${names[$t]}" "$(fig "$t" connects_per_s)" "$(fig "$t" handshake_p99_ms)" \
    "$(fig "$t" connect_p99_ms)" "$(fig "$t" publishes_per_s)" "$(fig "$t" end_to_end_p99_ms)" "$(fig "$t" kib_per_device)"
done
for o in b c; do
  case " $targets " in *" a "*) ;; *) continue ;; esac
  case " $targets " in *" $o "*) ;; *) continue ;; esac
  echo "a/$o: connects/s $(ratio "$(fig a connects_per_s)" "$(fig "$o" connects_per_s)")," \
    "connect p99 $(ratio "$(fig a connect_p99_ms)" "$(fig "$o" connect_p99_ms)")," \
    "publishes/s $(ratio "$(fig a publishes_per_s)" "$(fig "$o" publishes_per_s)")"
done
