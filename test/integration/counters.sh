#!/bin/bash
# The container link's counters are exact for TCP transfers that start at once and end with the
# workload's exit: the workload sends 1 MB, 10 MB and 50 MB (busybox nc, MEASURED_COUNTER_RUNS
# times each, default 12) to a sink on the host that counts what it received (the receiver's own
# figure, independent of measured), and every record's tx delta on the container's eth0 is what
# was received plus the headers of the frames it counted, no more, no less: between 54 bytes
# (Ethernet, IPv4, TCP) and 66 bytes (with TCP timestamps) a frame, a few frames of ARP aside;
# the far end of the veth agrees; the socket view's bytes of that connection are the payload
# (its SYN and FIN aside), and segments sent again count again. The ratio to what was received is printed: busybox nc writes 1 KiB at
# a time, so headers are about 6 % here (against 4.6 % for full 1448-byte segments).
# After an idle spell of 16 s the same holds for 1 MB, sent once the sampling interval has
# stretched (and the record says it did).
# (Not iperf3 -n: its client ends once it has written the bytes, and its own server counted as
# few as 7.7 MB of 10 MB in some runs here: what crossed the link, not what was written.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
runs=${MEASURED_COUNTER_RUNS:-12}
port=5398
gw=$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}')
sinklog=$(mktemp /tmp/measured-counters-sink.XXXXXX)
python3 "$here/../helpers/tcpsink.py" "$gw" "$port" "$sinklog" &
sink=$!
trap 'kill $sink 2>/dev/null; rm -f "$sinklog"; cleanup_containers counters' EXIT
sleep 0.5

# Runs the shell command in a container under measured-runc and waits for its end; sets rec (its
# record) and received (what the sink counted from it, empty when nothing), and empties the log.
transfer() { # command
  local id ip
  id=$(docker run -d --label measured-test=counters --runtime=measured-runc "$IMAGE" sh -c "$1")
  timeout 60 docker wait "$id" >/dev/null
  docker rm "$id" >/dev/null
  rec=$(records_of "$id")
  ip=$(jq -r '.network.topology.links.container[] | select(.name == "eth0") | .addrs[0]' <<<"$rec")
  received=""
  for _ in $(seq 50); do # the sink logs a connection when it has read it to its end
    received=$(grep "^${ip%/*}:" "$sinklog" | tail -1 | awk '{print $2}')
    [ -n "$received" ] && break
    sleep 0.1
  done
  : >"$sinklog"
}

for mb in 1 10 50; do
  bytes=$((mb * 1048576))
  low=0 high=0 inconsistent=0 short=0 sockets=0 ratios=""
  for i in $(seq "$runs"); do
    transfer "head -c $bytes /dev/zero | nc $gw $port"
    tx=$(jq '.network.counters.links[] | select(.role == "container") | .delta.tx_bytes' <<<"$rec")
    peer_rx=$(jq '.network.counters.links[] | select(.role == "peer") | .delta.rx_bytes' <<<"$rec")
    sent=$(jq '[.flows.top[] | select(.remote | endswith(":'"$port"'")) | .bytes_sent][0]' <<<"$rec")
    # Segments sent again cross the link again (the socket view counts them).
    resent=$(jq '[.flows.top[] | select(.remote | endswith(":'"$port"'")) | .retransmits][0] // 0' <<<"$rec")
    [ "${received:-0}" = "$bytes" ] || short=$((short + 1))
    ratio=$(awk -v t="${tx:-0}" -v p="${received:-1}" 'BEGIN {printf "%.4f", t / p}')
    ratios="$ratios $ratio"
    frames=$(jq '.network.counters.links[] | select(.role == "container") | .delta.tx_packets' <<<"$rec")
    [ "${tx:-0}" -ge $((received + 54 * (frames - 4))) ] || low=$((low + 1))
    # (the SYN's options make its frame 74 bytes: a little room)
    [ "${tx:-0}" -le $((received + 66 * frames + 1448 * resent + 64)) ] ||
      { high=$((high + 1)); tap_diag "over: tx $tx, received $received, $frames frames, $resent resent"; }
    [ "$(jq '.network.counters.consistent' <<<"$rec")" = true ] && [ "$tx" = "$peer_rx" ] ||
      inconsistent=$((inconsistent + 1))
    [ "${sent:-0}" -ge "$bytes" ] && [ "${sent:-0}" -le $((bytes + 2)) ] || sockets=$((sockets + 1))
  done
  tap_diag "${mb} MB: tx / received per run:$ratios"
  check_eq "${mb} MB x $runs: the sink received every byte of every transfer" "$short" 0
  check_eq "${mb} MB x $runs: no record counts less than was received and its frames' headers" "$low" 0
  check_eq "${mb} MB x $runs: none counts more" "$high" 0
  check_eq "${mb} MB x $runs: the far end of the veth agrees in every record" "$inconsistent" 0
  check_eq "${mb} MB x $runs: the socket view's bytes of the connection are the payload" "$sockets" 0
done

# After an idle spell the monitor samples less often (SAMPLER_IDLE_AFTER_MS); what comes after
# it is counted the same: 1 MB sent once the interval has stretched.
bytes=1048576
transfer "sleep 16; head -c $bytes /dev/zero | nc $gw $port; sleep 1"
tx=$(jq '.network.counters.links[] | select(.role == "container") | .delta.tx_bytes' <<<"$rec")
frames=$(jq '.network.counters.links[] | select(.role == "container") | .delta.tx_packets' <<<"$rec")
resent=$(jq '[.flows.top[] | select(.remote | endswith(":'"$port"'")) | .retransmits][0] // 0' <<<"$rec")
check "idle: the interval stretched while nothing moved ($(jq -c .network.sampler <<<"$rec"))" \
  jq -e '.network.sampler.longest_interval_ms >= 2000 and .network.sampler.interval_ms == 1000' <<<"$rec"
check "idle: what was sent after it is counted (tx $tx for ${received:-none} received, $frames frames)" \
  test "${received:-0}" = "$bytes" -a "${tx:-0}" -ge $((bytes + 54 * (frames - 4))) -a "${tx:-0}" -le $((bytes + 66 * frames + 1448 * resent + 64))
tap_done
