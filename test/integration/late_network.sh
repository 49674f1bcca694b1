#!/bin/bash
# Discovery must not depend on the engine wiring the network during `create`: newer engines (and
# CNI plugins) wire it between create and start, or later. Here a fake runtime's "container" is
# created in an empty namespace; the test then wires it (a veth whose host end is on a bridge)
# before `start`. The record must hold the whole path, found at start, and say that create saw
# only the loopback.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/fake.sh"
wrapper=${MEASURED_WRAPPER:?set MEASURED_WRAPPER}
[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (network namespaces)"; exit 1; }

ns=mlate$$ br=mlbr$$ host_end=mlh$$
work=$(mktemp -d /tmp/measured-late-XXXXXX)
cleanup() {
  kill -9 $(cat "$work/all.pids" 2>/dev/null) 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  ip link del "$br" 2>/dev/null
  ip link del "$host_end" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
fake_setup late '{"ociVersion":"1.0.2","process":{"args":["app"]},"linux":{"namespaces":[{"type":"network"}]}}' \
  '"sample_interval_ms": 100'
export FAKE_NETNS=$ns

"${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" late1
check "create succeeds with only a loopback" test $? -eq 0
sleep 0.3 # the monitor's discovery at create has run

# The engine wires the network now, between create and start.
ip link add "$br" type bridge
ip link add "$host_end" type veth peer name eth0 netns "$ns"
ip link set "$host_end" master "$br"
ip link set "$br" up
ip link set "$host_end" up
ip -n "$ns" link set eth0 up
ip -n "$ns" addr add 198.18.77.2/24 dev eth0
ip addr add 198.18.77.1/24 dev "$br"

"${W[@]}" start late1
sleep 0.3
# Five datagrams over the late link (bash's /dev/udp: no tool needed in the namespace).
ip netns exec "$ns" bash -c 'for i in 1 2 3 4 5; do echo "$i" >/dev/udp/198.18.77.1/9; done'
check "the container sends over the late link" test $? -eq 0
sleep 0.3
"${W[@]}" kill late1 KILL
sleep 0.2
"${W[@]}" delete late1

rec=$(grep '"id":"late1"' "$work/samples.jsonl")
check_eq "one record" "$(grep -c '"id":"late1"' "$work/samples.jsonl")" 1
check_eq "create saw only the loopback" "$(jq -c '.network.discovery.create | [.driver, .paths]' <<<"$rec")" \
  '["none",["container lo"]]'
check_eq "start found the wired path" "$(jq -r '.network.discovery.start.driver' <<<"$rec")" bridge
check_eq "the record's path is the whole one" "$(jq -r '.network.paths[0]' <<<"$rec")" \
  "container eth0 -> host $host_end -> bridge $br"
check_eq "the record's driver" "$(jq -r .network.driver <<<"$rec")" bridge
check "the late link's counters saw the datagrams" \
  bash -c 'jq -e ".network.counters.links[] | select(.name == \"eth0\") | .delta.tx_packets >= 5" >/dev/null' <<<"$rec"
check_eq "both veth ends agree" "$(jq -r .network.counters.consistent <<<"$rec")" true
check_records "every record follows docs/record.schema.json" "$work/samples.jsonl"
tap_done
