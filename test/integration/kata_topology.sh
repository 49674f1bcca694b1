#!/bin/bash
# Kata's network model, built exactly as Kata builds it (tcfilter mode) in a namespace of our
# own, since no Kata VM runs here: the veth eth0, a tap tap0_kata with eth0's MAC and MTU, an
# ingress qdisc (ffff:) on both, and on each a u32 "match u8 0 0" filter whose mirred action
# redirects to the other's egress. A stand-in for the VM (tapecho) sits on the tap. A whole
# lifecycle through the wrapper (with a fake runtime whose "container" lives in that namespace)
# must classify it as kata-tcfilter and count the mirred actions exactly. Then the VM answers TCP:
# the stand-in becomes its virtual NIC, relaying the tap's frames to a tap in a namespace of its
# own (the "guest", whose kernel answers as a VM's does), and a sockperf ping-pong from the host
# must show in the packet view as an accepted connection with the part inside the sandbox (tap,
# relay, guest) measured, its round trip sockperf's own p50 within 15 %, and the socket view
# saying why it cannot run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/fake.sh"
wrapper=${MEASURED_WRAPPER:?set MEASURED_WRAPPER}
tapecho=${TAPECHO:?set TAPECHO}
measured=${MEASURED_CLI:?set MEASURED_CLI}
[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (network namespaces)"; exit 1; }

ns=mkata$$ br=mkbr$$ host_end=mkh$$ host_tap=mkt$$ guest=mkvm$$
work=$(mktemp -d /tmp/measured-kata-XXXXXX)
cleanup() {
  kill -9 $(cat "$work/all.pids" 2>/dev/null) 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  ip netns del "$guest" 2>/dev/null
  ip link del "$br" 2>/dev/null
  ip link del "$host_end" 2>/dev/null
  ip link del "$host_tap" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

# --- the topology, as Kata builds it --------------------------------------------------------
ip netns add "$ns"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
# No multicast snooping: the bridge would report itself to 224.0.0.106 (MRD) on the wire.
ip link add "$br" type bridge mcast_snooping 0
sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1"
ip link add "$host_end" type veth peer name eth0 netns "$ns"
sysctl -qw "net.ipv6.conf.$host_end.disable_ipv6=1"
ip link set "$host_end" master "$br"
# No IGMP or other chatter from the host side: the counts below are exact.
ip link set "$br" multicast off
ip link set "$host_end" multicast off
ip link set "$br" up
ip link set "$host_end" up
ip -n "$ns" link set lo up
ip -n "$ns" link set eth0 up
mac=$(ip -n "$ns" -j link show eth0 | jq -r '.[0].address')
mtu=$(ip -n "$ns" -j link show eth0 | jq -r '.[0].mtu')
ip -n "$ns" tuntap add tap0_kata mode tap
ip -n "$ns" link set tap0_kata address "$mac" mtu "$mtu" up
ip netns exec "$ns" tc qdisc add dev eth0 handle ffff: ingress
ip netns exec "$ns" tc qdisc add dev tap0_kata handle ffff: ingress
ip netns exec "$ns" tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 \
  action mirred egress redirect dev tap0_kata
ip netns exec "$ns" tc filter add dev tap0_kata parent ffff: protocol all u32 match u8 0 0 \
  action mirred egress redirect dev eth0
# The host side sends with a tap of its own on the bridge: frames only, no addresses, so no ARP,
# IGMP or IPv6 chatter disturbs the exact counts below.
ip tuntap add "$host_tap" mode tap
sysctl -qw "net.ipv6.conf.$host_tap.disable_ipv6=1"
ip link set "$host_tap" master "$br" multicast off up
host_tap_mac=$(ip -j link show "$host_tap" | jq -r '.[0].address')

# --- discovery alone ---------------------------------------------------------------------------
topo=$("$measured" discover --netns "/run/netns/$ns")
check_eq "discovery: driver" "$(jq -r .driver <<<"$topo")" kata-tcfilter
check_eq "discovery: underlay" "$(jq -r .underlay <<<"$topo")" bridge
check_eq "discovery: the whole path" "$(jq -r '.paths[0].text' <<<"$topo")" \
  "container tap0_kata =mirred=> container eth0 -> host $host_end -> bridge $br"
check_eq "discovery: eth0's filter redirects to tap0_kata" \
  "$(jq -c '[.tc.filters[] | select(.dev == "eth0") | .parent, .kind, .protocol, (.actions[0] | .kind, .direction, .mode, .target)]' <<<"$topo")" \
  '["ffff:","u32","all","mirred","egress","redirect","tap0_kata"]'
check_eq "discovery: tap0_kata's filter redirects to eth0" \
  "$(jq -c '[.tc.filters[] | select(.dev == "tap0_kata") | .actions[0] | .direction, .mode, .target]' <<<"$topo")" \
  '["egress","redirect","eth0"]'
check_eq "discovery: ingress qdiscs ffff: on both" \
  "$(jq -c '[.tc.qdiscs[] | select(.kind == "ingress") | .dev + " " + .handle] | sort' <<<"$topo")" \
  '["eth0 ffff:","tap0_kata ffff:"]'
check_eq "discovery: the tap has eth0's MAC" \
  "$(jq -r '.links.container[] | select(.name == "tap0_kata") | .mac' <<<"$topo")" "$mac"

# --- lifecycles: through the OCI wrapper, and through the shim-v2 wrapper's hooks ----------------
# The OCI wrapper runs a fake runtime whose "container" lives in the namespace. The hooks are what
# containerd-shim-measured-kata-v2 puts in the spec: Kata runs them on the host with the state
# on stdin; here the test plays the runtime, with a "container" of its own in the namespace.
fake_setup katafake '{"ociVersion":"1.0.2","process":{"args":["vm"]},"linux":{"namespaces":[{"type":"network"}]}}' \
  '"sample_interval_ms": 100' \
  "\"katashim\": {\"path\": \"$FAKE_RUNTIME\", \"shim\": \"/bin/true\", \"sample_interval_ms\": 100}"
ln -s "$wrapper" "$work/measured-hook"
export FAKE_NETNS=$ns
hook() { # phase id pid: as a runtime runs a hook, state on stdin and nothing else inherited
  printf '{"ociVersion":"1.0.2","id":"%s","status":"created","pid":%s,"bundle":"%s"}' \
    "$2" "$3" "$work/bundle" |
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin MEASURED_CONFIG="$MEASURED_CONFIG" FAKE_DIR="$work" \
      "$work/measured-hook" "$1" --runtime katashim
}
begin_lifecycle() { # via id
  if [ "$1" = oci ]; then
    "${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" "$2"
    "${W[@]}" start "$2"
  else
    ip netns exec "$ns" sleep 600 </dev/null >/dev/null 2>&1 &
    echo $! >"$work/hook.pid"
    echo $! >>"$work/all.pids"
    disown
    for _ in $(seq 100); do
      [ "$(readlink /proc/$!/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
      sleep 0.01
    done
    hook create-runtime "$2" "$(cat "$work/hook.pid")"
    hook poststart "$2" "$(cat "$work/hook.pid")"
  fi
  sleep 0.3
}
end_lifecycle() { # via id
  if [ "$1" = oci ]; then
    "${W[@]}" kill "$2" KILL
    sleep 0.3
    "${W[@]}" delete "$2"
  else
    kill -9 "$(cat "$work/hook.pid")"
    sleep 0.3
    hook poststop "$2" 0
  fi
}

for via in oci hooks; do
  id=kata-$via
  begin_lifecycle $via $id
  # host -> VM: K frames of 142 bytes into the bridge, read by the VM stand-in
  K=200
  rm -f "$work/ready"
  ip netns exec "$ns" "$tapecho" --dev tap0_kata --read-ms 1500 --ready "$work/ready" >"$work/read.out" &
  reader=$!
  for _ in $(seq 50); do [ -e "$work/ready" ] && break; sleep 0.05; done
  "$tapecho" --dev "$host_tap" --write $K --size 142 --src "$host_tap_mac" --dst "$mac" >/dev/null
  wait $reader
  check_eq "$via: the VM side received every frame" "$(cat "$work/read.out")" "read $K frames $((K * 142)) bytes"
  # VM -> host: K2 frames of 300 bytes
  K2=50
  ip netns exec "$ns" "$tapecho" --dev tap0_kata --write $K2 --size 300 --src "$mac" \
    --dst "$host_tap_mac" >"$work/write.out"
  check_eq "$via: the VM side sent every frame" "$(cat "$work/write.out")" "wrote $K2 frames $((K2 * 300)) bytes"
  sleep 0.3
  end_lifecycle $via $id
  check_eq "$via: one record" "$(grep -c "\"id\":\"$id\"" "$work/samples.jsonl")" 1
  rec=$(grep "\"id\":\"$id\"" "$work/samples.jsonl")
  check_eq "$via: record: driver" "$(jq -r .network.driver <<<"$rec")" kata-tcfilter
  check_eq "$via: record: path" "$(jq -r '.network.paths[0]' <<<"$rec")" \
    "container tap0_kata =mirred=> container eth0 -> host $host_end -> bridge $br"
  check "$via: record: several samples" test "$(jq -r .network.counters.samples <<<"$rec")" -ge 5
  # tc counts an ingress packet from its network header: 14 bytes less than the frame.
  act() { jq -c --arg d "$1" '.network.counters.actions[] | select(.dev == $d) | [.direction, .mode, .target, .delta.packets, .delta.bytes, .delta.drops]' <<<"$rec"; }
  check_eq "$via: record: eth0 -> tap0_kata mirred counted every frame exactly" "$(act eth0)" \
    "[\"egress\",\"redirect\",\"tap0_kata\",$K,$((K * (142 - 14))),0]"
  check_eq "$via: record: tap0_kata -> eth0 mirred counted every frame exactly" "$(act tap0_kata)" \
    "[\"egress\",\"redirect\",\"eth0\",$K2,$((K2 * (300 - 14))),0]"
  lnk() { jq -c --arg n "$1" '.network.counters.links[] | select(.name == $n) | [.delta.rx_packets, .delta.rx_bytes, .delta.tx_packets, .delta.tx_bytes]' <<<"$rec"; }
  check_eq "$via: record: eth0 counters (rx from host, tx to host)" "$(lnk eth0)" \
    "[$K,$((K * 142)),$K2,$((K2 * 300))]"
  check_eq "$via: record: the host end mirrors eth0" "$(lnk "$host_end")" \
    "[$K2,$((K2 * 300)),$K,$((K * 142))]"
  check_eq "$via: record: veth pair consistent" "$(jq -r .network.counters.consistent <<<"$rec")" true
  check "$via: record: peak rate seen on the tap" test "$(jq '.network.counters.actions[] | select(.dev == "eth0") | .peak.packets_per_s' <<<"$rec" | cut -d. -f1)" -gt 0
done
# --- the VM answers TCP: the packet view ----------------------------------------------------
# Three lifecycles, a sockperf ping-pong from the host in each; the round trips are compared by
# their median ratio (a relay in user space is a noisy VM).
ip netns add "$guest"
rm -f "$work/ready"
ip netns exec "$ns" "$tapecho" --dev tap0_kata --guest "/run/netns/$guest" --guest-dev eth0 \
  --ready "$work/ready" &
echo $! >>"$work/all.pids"
disown
for _ in $(seq 50); do [ -e "$work/ready" ] && break; sleep 0.05; done
ip -n "$guest" link set lo up
ip -n "$guest" link set eth0 address "$mac" mtu "$mtu" up
ip -n "$guest" addr add 10.213.77.2/24 dev eth0
ip addr add 10.213.77.1/24 dev "$br"
ip netns exec "$guest" sockperf server --tcp -i 10.213.77.2 -p 11411 >/dev/null 2>&1 &
echo $! >>"$work/all.pids"
disown
sleep 0.5
ratios=""
for run in 1 2 3; do
  id=kata-tcp-$run
  begin_lifecycle oci $id
  p50=$(sockperf ping-pong --tcp --full-rtt -i 10.213.77.2 -p 11411 -t 2 2>&1 |
    awk '/percentile 50.000/ {print $NF}')
  sleep 0.3
  end_lifecycle oci $id
  rec=$(grep "\"id\":\"$id\"" "$work/samples.jsonl")
  flow=$(jq -c '[.flows.top[] | select(.local | endswith(":11411"))] | max_by(.packet.segments_in)' <<<"$rec")
  tap_diag "run $run: sockperf p50 ${p50:-none} us; record: $(jq -c '{direction, views, handshake, packet}' <<<"$flow")"
  ratios="$ratios $(jq --arg p "${p50:-0}" '(.packet.rtt_outside_p50_us + .packet.rtt_inside_p50_us) / ($p | tonumber) * 1000 | round / 1000' <<<"$flow")"
done
ratio=$(tr ' ' '\n' <<<"$ratios" | grep . | sort -g | sed -n 2p)
tap_diag "packet view round trip / sockperf p50 per run:$ratios (median $ratio)"
check_eq "tcp: the socket view did not run, and says why" \
  "$(jq -c '.flows.views.socket | [.ran, .failed, (.why | test("VM"))]' <<<"$rec")" '[false,false,true]'
check_eq "tcp: the packet view read the veth only (the tap would show every packet twice)" \
  "$(jq -c '.flows.views.packet | [.ran, .links]' <<<"$rec")" '[true,["eth0"]]'
check_eq "tcp: the connection was accepted, seen by its packets" \
  "$(jq -c '[.direction, .views]' <<<"$flow")" '["accepted",["packet"]]'
check "tcp: the handshake's part inside the sandbox (tap, relay, guest) is measured" \
  test "$(jq '.handshake.inside_us // -1' <<<"$flow")" -ge 0
check "tcp: so is every round trip's (inside samples)" test "$(jq .packet.rtt_inside_n <<<"$flow")" -gt 100
check "tcp: the packet view's round trip is sockperf's p50 within 15 % (median of 3 runs)" \
  awk -v r="${ratio:-0}" 'BEGIN {exit !(r >= 0.85 && r <= 1.15)}'
check_eq "tcp: the report's inside-the-sandbox metric" \
  "$(jq '.flows.packet_rtt_us.inside.n > 0' <<<"$rec")" true

rec=$(grep '"id":"kata-hooks"' "$work/samples.jsonl")
check_eq "hooks: the record says how it was measured" "$(jq -c '.runtime | [.name, .via, .shim]' <<<"$rec")" \
  '["katashim","shim-v2","/bin/true"]'
check_eq "hooks: the exit status came from the monitor" "$(jq -c .exit <<<"$rec")" '{"signal":9,"status":137}'
check_eq "hooks: nothing missed" "$(jq -c .missed <<<"$rec")" '[]'
check_records "every record follows docs/record.schema.json" "$work/samples.jsonl"
tap_done
