#!/bin/bash
# measured exporter with real containers: a container under measured-runc sends 2,000,000 bytes to
# a sink on the host (which counts what it received, independently of measured) and stays up;
# while it runs, the exporter shows it among the running containers with its driver, and its
# link's transmit counter holds what the sink received plus the frames' headers; once it is
# removed its series go, its lifecycle is counted once under its runtime and driver, and the
# recorded link bytes grow by exactly the record's own figure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
measured=${MEASURED_CLI:-/usr/local/bin/measured}
port=5399
bytes=2000000
gw=$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}')
work=$(mktemp -d /tmp/measured-exporter-live-XXXXXX)
python3 "$here/../helpers/tcpsink.py" "$gw" "$port" "$work/sink.log" &
sink=$!
"$measured" exporter --listen 127.0.0.1:0 --no-checkpoint 2>"$work/exporter.log" &
exporter=$!
trap 'kill $sink $exporter 2>/dev/null; rm -rf "$work"; cleanup_containers exporter' EXIT
for _ in $(seq 100); do
  xport=$(grep -o 'port [0-9]*' "$work/exporter.log" | cut -d' ' -f2)
  [ -n "$xport" ] && break
  sleep 0.1
done
scrape() { curl -s "http://127.0.0.1:$xport/metrics"; }
metric() { awk -v m="$2" '$1 == m {print $2}' <<<"$1"; }
lifecycles() { # the completed runc lifecycles on the bridge, over every load and label
  scrape | awk '/^measured_lifecycles_total\{runtime="runc",driver="bridge",/ && /outcome="completed"/ {n += $2} END {print n + 0}'
}
link_tx() {
  scrape | awk '/^measured_link_transmit_bytes_total\{runtime="runc",driver="bridge",/ {n += $2} END {printf "%.0f\n", n}'
}
before=$(lifecycles)
tx_before=$(link_tx)

id=$(docker run -d --label measured-test=exporter --runtime=measured-runc "$IMAGE" \
  sh -c "sleep 1; head -c $bytes /dev/zero | nc $gw $port; sleep 60")
short=${id:0:12}
received=""
for _ in $(seq 100); do
  received=$(awk '{print $2}' "$work/sink.log" | tail -1)
  [ -n "$received" ] && break
  sleep 0.1
done
check_eq "the sink received what the container sent" "$received" "$bytes"
labels="{container=\"$short\",runtime=\"runc\",driver=\"bridge\"}"
tx=""
for _ in $(seq 40); do # the monitor rewrites its summary every couple of seconds
  out=$(scrape)
  tx=$(metric "$out" "measured_container_transmit_bytes_total$labels")
  [ -n "$tx" ] && [ "$tx" -ge "$bytes" ] && break
  sleep 0.25
done
check "the running container is counted" awk -v n="$(metric "$out" measured_running_containers)" 'BEGIN {exit !(n >= 1)}'
check "its link's transmit counter is what the sink received plus headers (tx $tx, received $received)" \
  awk -v t="${tx:-0}" -v r="$received" 'BEGIN {exit !(t >= r && t <= r * 1.08)}'
check "its open connections are shown" test -n "$(metric "$out" "measured_container_connections_open$labels")"

docker rm -f "$id" >/dev/null
gone=""
for _ in $(seq 40); do
  out=$(scrape)
  if ! grep -q "container=\"$short\"" <<<"$out"; then
    gone=yes
    break
  fi
  sleep 0.25
done
check_eq "once removed, its series are gone" "$gone" yes
after=""
for _ in $(seq 40); do
  after=$(lifecycles)
  [ "$after" -gt "$before" ] && break
  sleep 0.25
done
check_eq "its lifecycle is counted once" "$((after - before))" 1
rec=$(records_of "$id")
rec_tx=$(jq '.network.counters.links[] | select(.role == "container") | .delta.tx_bytes' <<<"$rec")
check_eq "the recorded link bytes grew by the record's own figure" "$(($(link_tx) - tx_before))" "$rec_tx"
tap_done
