#!/bin/bash
# The network path of real Docker containers through measured-runc, for every driver the study
# uses and more: default bridge, a user bridge, host, none, macvlan (its parent one end of a veth
# pair: this kernel has no dummy links) and overlay (single-node swarm, attachable network).
# For each: the driver is classified, the path is complete, and after the container sends a
# known amount of UDP traffic (sockperf throughput, ~50 MB) the recorded counters cover it
# exactly, within the per-frame overhead computed below; both ends of a veth agree.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine

MSG=1400                    # sockperf message: UDP payload bytes
FRAME=$((MSG + 8 + 20 + 14)) # + UDP + IPv4 + Ethernet headers, no VLAN: bytes of one frame
OTHER_MAX=90                 # largest frame that is not ours (ARP 42, IPv6 ND/MLD <= 90)
parent=msdmvp0
created=()
swarm_inited=""

cleanup() {
  cleanup_containers network
  for n in "${created[@]}"; do docker network rm "$n" >/dev/null 2>&1; done
  [ -n "$swarm_inited" ] && docker swarm leave --force >/dev/null 2>&1
  ip link del "$parent" 2>/dev/null
}
trap cleanup EXIT

ensure_network() { # name, docker network create arguments...
  local name=$1
  shift
  docker network inspect "$name" >/dev/null 2>&1 && return 0
  docker network create "$@" "$name" >/dev/null && created+=("$name")
}

setup() {
  ensure_network measured-test-bridge
  if ! ip link show "$parent" >/dev/null 2>&1; then
    ip link add "$parent" type veth peer name msdmvp1
    ip link set "$parent" up
    ip link set msdmvp1 up
  fi
  # a benchmarking-range subnet (RFC 2544): outside Docker's default pools, which a bridge's
  # automatic subnet may come from
  ensure_network measured-test-macvlan -d macvlan -o parent="$parent" --subnet 198.18.240.0/24
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null && swarm_inited=1
  fi
  ensure_network measured-test-overlay -d overlay --attachable
}

# Runs a sockperf UDP server on the network and a measured client that sends to it for 2 s.
# Prints the client's full container id, then the number of messages it sent.
send_traffic() { # network
  local net=$1 srv ip out name=measured-net-$$-$RANDOM
  srv=$(docker run -d --label measured-test=network --network "$net" --runtime=runc "$IMAGE" \
    sockperf server -p 11111)
  ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$srv")
  [ "$net" = host ] && ip=127.0.0.1
  sleep 0.5
  out=$(docker run --name "$name" --label measured-test=network --network "$net" \
    --runtime=measured-runc -e MEASURED_SAMPLE_INTERVAL_MS=250 "$IMAGE" \
    sockperf tp -i "$ip" -p 11111 -m $MSG -t 2 --mps 20000 2>&1)
  full_id "$name"
  docker rm "$name" >/dev/null
  docker rm -f "$srv" >/dev/null
  grep -o 'Total of [0-9]* messages sent' <<<"$out" | grep -o '[0-9]*'
}

# Checks the counters of the container's own end of the path against what sockperf sent.
check_traffic() { # label, record, messages sent
  local label=$1 rec=$2 n=$3 c dtx dtxp span peak
  c=$(jq -c '.network.counters.links[] | select(.role == "container")' <<<"$rec" | head -1)
  dtx=$(jq '.delta.tx_bytes' <<<"$c")
  dtxp=$(jq '.delta.tx_packets' <<<"$c")
  tap_diag "$label: sockperf sent $n messages; $(jq -r .name <<<"$c") sent $dtxp frames, $dtx bytes"
  check "$label: sockperf sent about 50 MB" test $((n * MSG)) -gt 40000000
  check "$label: every message left as one frame, few others ($((dtxp - n)))" \
    test "$dtxp" -ge "$n" -a $((dtxp - n)) -le 10
  check "$label: bytes cover the messages with their headers ($FRAME bytes each)" \
    test "$dtx" -ge $((n * FRAME))
  check "$label: nothing beyond the other frames' size ($((dtx - n * FRAME)) <= $(((dtxp - n) * OTHER_MAX)))" \
    test $((dtx - n * FRAME)) -le $(((dtxp - n) * OTHER_MAX))
  span=$(jq '.network.counters.span_us' <<<"$rec")
  peak=$(jq '.peak.tx_bytes_per_s | floor' <<<"$c")
  check "$label: several samples" test "$(jq .network.counters.samples <<<"$rec")" -ge 5
  check "$label: the peak rate is at least the mean rate" test "$peak" -ge $((dtx * 1000000 / span))
}

hops() { jq -c '[.network.topology.paths[0].hops[] | .role + ":" + .kind]' <<<"$1"; }

setup

# --- bridge drivers ----------------------------------------------------------------------------
for net in bridge measured-test-bridge; do
  out=$(send_traffic "$net")
  id=$(head -1 <<<"$out")
  n=$(tail -1 <<<"$out")
  rec=$(records_of "$id")
  br=$(docker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$net")
  [ -z "$br" ] && br=br-$(docker network inspect -f '{{.Id}}' "$net" | cut -c1-12)
  check_eq "$net: driver" "$(jq -r .network.driver <<<"$rec")" bridge
  check_eq "$net: path container -> host veth -> bridge" "$(hops "$rec")" \
    '["container:veth","peer:veth","bridge:bridge"]'
  check_contains "$net: the path names the bridge" "$(jq -r '.network.paths[0]' <<<"$rec")" "-> bridge $br"
  check_eq "$net: discovered at create and at start" \
    "$(jq -c '[.network.discovery.create.driver, .network.discovery.start.driver]' <<<"$rec")" \
    '["bridge","bridge"]'
  check_eq "$net: both ends of the veth agree" "$(jq .network.counters.consistent <<<"$rec")" true
  check_traffic "$net" "$rec" "$n"
  check "$net: discovery under 5 ms" test "$(jq .network.discovery.start.us <<<"$rec")" -lt 5000
done

# --- macvlan -------------------------------------------------------------------------------------
out=$(send_traffic measured-test-macvlan)
rec=$(records_of "$(head -1 <<<"$out")")
check_eq "macvlan: driver" "$(jq -r .network.driver <<<"$rec")" macvlan
check_eq "macvlan: path container -> host parent" "$(hops "$rec")" '["container:macvlan","parent:veth"]'
check_eq "macvlan: the parent is the veth end" "$(jq -r '.network.topology.paths[0].hops[1].name' <<<"$rec")" "$parent"
check_eq "macvlan: mode" "$(jq -r '.network.topology.links.container[] | select(.kind == "macvlan") | .mode' <<<"$rec")" bridge
check_traffic macvlan "$rec" "$(tail -1 <<<"$out")"

# --- overlay -------------------------------------------------------------------------------------
out=$(send_traffic measured-test-overlay)
rec=$(records_of "$(head -1 <<<"$out")")
check_eq "overlay: driver" "$(jq -r .network.driver <<<"$rec")" overlay
check_eq "overlay: path container -> overlay namespace veth -> bridge -> vxlan" "$(hops "$rec")" \
  '["container:veth","peer:veth","bridge:bridge","vxlan:vxlan"]'
check_contains "overlay: the path names the vxlan id" "$(jq -r '.network.paths[0]' <<<"$rec")" "(vni "
check_contains "overlay: the peer lives in the overlay network's namespace" \
  "$(jq -r '.network.topology.paths[0].hops[1].ns' <<<"$rec")" "docker:1-"
check_eq "overlay: the gateway bridge is the second path" \
  "$(jq -r '.network.topology.paths[1].hops[2].name' <<<"$rec")" docker_gwbridge
check_eq "overlay: both ends of both veths agree" "$(jq .network.counters.consistent <<<"$rec")" true
check_traffic overlay "$rec" "$(tail -1 <<<"$out")"

# --- host and none -------------------------------------------------------------------------------
out=$(send_traffic host)
rec=$(records_of "$(head -1 <<<"$out")")
check_eq "host: driver" "$(jq -r .network.driver <<<"$rec")" host
check_eq "host: no per-container counters" "$(jq -c .network.counters <<<"$rec")" null
check_contains "host: and the record says why" "$(jq -r .network.why <<<"$rec")" "shares the host's network namespace"
id=$(docker run -d --label measured-test=network --network none --runtime=measured-runc "$IMAGE" sleep 0.3)
docker wait "$id" >/dev/null
docker rm "$id" >/dev/null
rec=$(records_of "$id")
check_eq "none: driver" "$(jq -r .network.driver <<<"$rec")" none
check_eq "none: only loopback" "$(jq -r '.network.paths[0]' <<<"$rec")" "container lo"
check_eq "none: nothing missed" "$(jq -c .missed <<<"$rec")" '[]'

# --- a container that lives a few milliseconds ---------------------------------------------------
for i in 1 2 3; do
  id=$(docker run -d --label measured-test=network --runtime=measured-runc "$IMAGE" true)
  docker wait "$id" >/dev/null
  docker rm "$id" >/dev/null
  rec=$(records_of "$id")
  check_eq "instant exit $i: one record, exit 0" "$(grep -c "\"id\":\"$id\"" "$STORE") $(jq .exit.code <<<"$rec")" "1 0"
  check_eq "instant exit $i: its path is known" "$(jq -r .network.driver <<<"$rec")" bridge
  check "instant exit $i: counters sampled, or the reason given" \
    test "$(jq '.network.counters.samples // 0' <<<"$rec")" -ge 1 -o -n "$(jq -r '.missed[] | select(startswith("network"))' <<<"$rec")"
done
sleep 0.5
check_eq "no measured process left as a zombie" "$(ps -eo stat=,comm= | awk '$1 ~ /^Z/ && $2 ~ /measured/' | wc -l)" 0
check_eq "no monitor left running" "$(pgrep -c -x measured-mon || true)" 0
tap_done
