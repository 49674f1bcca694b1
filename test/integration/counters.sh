#!/bin/bash
# The container link's counters are exact for TCP transfers that start at once and end with the
# workload's exit: iperf3 sends 1 MB, 10 MB and 50 MB from a measured-runc container to a server
# on the host (MEASURED_COUNTER_RUNS times each, default 10), and every record's tx delta on the
# container's eth0 lies within [payload, payload x 1.06] (TCP/IP and Ethernet headers, iperf3's
# control connection), with the far end of the veth agreeing. Before the baseline was taken at
# create and the last sample after the traffic drained, runs of 50 MB counted as little as half.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
runs=${MEASURED_COUNTER_RUNS:-10}
port=5399
gw=$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}')
iperf3 -s -p "$port" -B "$gw" -D --logfile /tmp/measured-counters-iperf3.log ||
  { echo "Bail out! cannot start an iperf3 server on $gw"; exit 1; }
trap 'pkill -f "iperf3 -s -p $port" ; cleanup_containers counters' EXIT
sleep 0.3

for mb in 1 10 50; do
  payload=$((mb * 1048576))
  low=0 high=0 inconsistent=0 failed=0 worst="" ids=()
  for i in $(seq "$runs"); do
    id=$(docker run -d --label measured-test=counters --runtime=measured-runc "$IMAGE" \
      iperf3 -c "$gw" -p "$port" -n "${mb}M" -4)
    rc=$(timeout 60 docker wait "$id")
    docker rm "$id" >/dev/null
    [ "$rc" = 0 ] || failed=$((failed + 1))
    ids+=("$id")
  done
  for id in "${ids[@]}"; do
    rec=$(records_of "$id")
    tx=$(jq '.network.counters.links[] | select(.role == "container") | .delta.tx_bytes' <<<"$rec")
    peer_rx=$(jq '.network.counters.links[] | select(.role == "peer") | .delta.rx_bytes' <<<"$rec")
    consistent=$(jq '.network.counters.consistent' <<<"$rec")
    ratio=$(awk -v t="${tx:-0}" -v p="$payload" 'BEGIN {printf "%.4f", t / p}')
    worst="$worst $ratio"
    awk -v r="$ratio" 'BEGIN {exit !(r < 1)}' && low=$((low + 1))
    awk -v r="$ratio" 'BEGIN {exit !(r > 1.06)}' && high=$((high + 1))
    [ "$consistent" = true ] && [ "$tx" = "$peer_rx" ] || inconsistent=$((inconsistent + 1))
  done
  tap_diag "${mb} MB: tx / payload per run:$worst"
  check_eq "${mb} MB x $runs: every transfer completed" "$failed" 0
  check_eq "${mb} MB x $runs: no record counts less than the payload" "$low" 0
  check_eq "${mb} MB x $runs: none more than 6 % above it" "$high" 0
  check_eq "${mb} MB x $runs: the far end of the veth agrees in every record" "$inconsistent" 0
done
tap_done
