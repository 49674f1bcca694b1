#!/bin/bash
# How close the probe's figures are to the tools users trust, on the same path in one run: two
# runc containers on the default bridge; per repetition, the probe (through measured-runc)
# against iperf3 (bandwidth, same duration) and against `sockperf ping-pong --tcp --full-rtt`
# (TCP round trips, same message size, same duration). Prints the ratios per repetition and
# their medians. Targets (issue 4): bandwidth within +-10% of iperf3, p50 latency within +-15%
# of sockperf; issue 15's: with the probe's default settings, the median within +-5% of each
# tool over 15 repetitions and every repetition within +-15%. Reports; never fails on the figures.
#   usage: probe-accuracy.sh [REPS] [SECONDS|default] [MSG_SIZE]
# With "default" the probe runs with its own settings (the prelude: 250 ms of round trips per
# protocol, 1 s of bandwidth) and the tools for 1 s each (their shortest).
# MEASURED_FLOWS=0|1, when set, goes to the probe's container: whether its monitor measures the
# connections (the probe's among them) while the probe runs.
set -euo pipefail
reps=${1:-5}
secs=${2:-2}
msg=${3:-64}
probe_env=()
if [ "$secs" = default ]; then
  secs=1
else
  probe_env=(-e MEASURED_PROBE_LATENCY_MS=$((secs * 1000)) -e MEASURED_PROBE_BANDWIDTH_MS=$((secs * 1000))
    -e MEASURED_PROBE_BUDGET_MS=$((secs * 4000 + 2000)))
fi
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
store=${MEASURED_STORE:-/var/lib/measured/samples.jsonl}
probe_bin=${MEASURED_PROBE_BIN:-/usr/local/libexec/measured/measured-probe}
tag="accuracy-$$-$(date +%s)"

srv=$(docker run -d --runtime=runc -v "$probe_bin:/measured-probe:ro" "$image" sh -c \
  '/measured-probe reflector >/dev/null & iperf3 -s >/dev/null & exec sockperf server --tcp -p 11111 >/dev/null')
trap 'docker rm -f "$srv" >/dev/null' EXIT
ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$srv")
sleep 1

. "$(dirname "$0")/../lib/stats.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

printf '%3s %12s %12s %6s | %9s %9s %6s | %9s %9s %6s\n' rep "probe Gb/s" "iperf3 Gb/s" ratio \
  "probe p50" "sockp p50" ratio "probe p99" "sockp p99" ratio
bw_r=() p50_r=() p99_r=()
for i in $(seq "$reps"); do
  docker run --rm --runtime=measured-runc -e MEASURED_LABEL_bench="$tag-$i" \
    -e MEASURED_PROBE=latency,bandwidth -e "MEASURED_PEER=$ip" -e MEASURED_PROBE_MSG_SIZE="$msg" \
    ${MEASURED_FLOWS:+-e "MEASURED_FLOWS=$MEASURED_FLOWS"} "${probe_env[@]}" "$image" true
  iperf=$(docker run --rm --runtime=runc "$image" iperf3 -c "$ip" -t "$secs" -J |
    jq '.end.sum_received.bits_per_second')
  sock=$(docker run --rm --runtime=runc "$image" sockperf ping-pong --tcp -i "$ip" -p 11111 \
    -m "$msg" -t "$secs" --full-rtt 2>&1)
  s50=$(grep -o 'percentile 50.000 = *[0-9.]*' <<<"$sock" | grep -o '[0-9.]*$')
  s99=$(grep -o 'percentile 99.000 = *[0-9.]*' <<<"$sock" | grep -o '[0-9.]*$')
  sleep 0.5
  rec=$(grep "\"bench\":\"$tag-$i\"" "$store" | tail -1)
  pbw=$(jq '.probe.result.bandwidth.bits_per_s' <<<"$rec")
  p50=$(jq '.probe.result.latency.tcp.p50_us' <<<"$rec")
  p99=$(jq '.probe.result.latency.tcp.p99_us' <<<"$rec")
  bw_r+=("$(ratio "$pbw" "$iperf")")
  p50_r+=("$(ratio "$p50" "$s50")")
  p99_r+=("$(ratio "$p99" "$s99")")
  printf '%3d %12.2f %12.2f %6s | %9.1f %9.1f %6s | %9.1f %9.1f %6s\n' "$i" \
    "$(awk -v v="$pbw" 'BEGIN{print v/1e9}')" "$(awk -v v="$iperf" 'BEGIN{print v/1e9}')" \
    "${bw_r[-1]}" "$p50" "$s50" "${p50_r[-1]}" "$p99" "$s99" "${p99_r[-1]}"
done
within() { awk -v r="$1" -v t="$2" 'BEGIN {d = r - 1; if (d < 0) d = -d; print (d <= t) ? "met" : "missed"}'; }
bw=$(printf '%s\n' "${bw_r[@]}" | median)
l50=$(printf '%s\n' "${p50_r[@]}" | median)
l99=$(printf '%s\n' "${p99_r[@]}" | median)
spread() { printf '%s\n' "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s to %s", lo, hi}'; }
all_within() { # ratios... -> met when every one is within +-15%
  printf '%s\n' "$@" | awk '{d = $1 - 1; if (d < 0) d = -d; if (d > 0.15) bad++} END {print bad ? "missed" : "met"}'
}
echo
echo "median ratio probe / iperf3 bandwidth: $bw, each $(spread "${bw_r[@]}") (median within +-5%: $(within "$bw" 0.05), each within +-15%: $(all_within "${bw_r[@]}"))"
echo "median ratio probe / sockperf p50:     $l50, each $(spread "${p50_r[@]}") (median within +-5%: $(within "$l50" 0.05), each within +-15%: $(all_within "${p50_r[@]}"))"
echo "median ratio probe / sockperf p99:     $l99, each $(spread "${p99_r[@]}") (median within +-5%: $(within "$l99" 0.05), each within +-15%: $(all_within "${p99_r[@]}"))"
