#!/bin/bash
# What network instrumentation costs, from the records of real containers (issue 3 targets):
#   - discovery time per container: median over N containers (default 20) of the discovery the
#     monitor makes at start (and at create), in ms; target < 5 ms
#   - the sampler's CPU per container-hour at the default 1 s interval, and its peak RSS: C
#     containers (default 3) sampled every 100 ms for S seconds (default 20), CPU per sample
#     measured (getrusage of the monitor, discovery included: an upper bound) x 3600 samples;
#     targets < 2 CPU-seconds per container-hour, < 2 MB RSS
# Reports; never fails on timing.
#   usage: netsetup-cost.sh [N] [C] [S]
set -euo pipefail
n=${1:-20}
c=${2:-3}
secs=${3:-20}
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
store=${MEASURED_STORE:-/var/lib/measured/samples.jsonl}
tag="netcost-$$-$(date +%s)"

. "$(dirname "$0")/../lib/stats.sh"

echo "discovery: $n containers on the default bridge"
for _ in $(seq "$n"); do
  docker run --rm --runtime=measured-runc -e MEASURED_LABEL_bench="$tag-d" "$image" true >/dev/null
done
echo "sampler: $c containers sampled every 100 ms for $secs s"
ids=()
for _ in $(seq "$c"); do
  ids+=("$(docker run -d --runtime=measured-runc -e MEASURED_LABEL_bench="$tag-s" \
    -e MEASURED_SAMPLE_INTERVAL_MS=100 "$image" sleep "$secs")")
done
docker wait "${ids[@]}" >/dev/null
docker rm "${ids[@]}" >/dev/null
sleep 1

d=$(grep "\"bench\":\"$tag-d\"" "$store")
# A container that ends before its start's wake is read has no discovery at start (its record
# says so): counted, and left out of that median.
start_all=$(jq '.network.discovery.start.us // empty | . / 1000' <<<"$d")
start_ms=$(median <<<"$start_all")
create_ms=$(jq '.network.discovery.create.us // empty | . / 1000' <<<"$d" | median)
s=$(grep "\"bench\":\"$tag-s\"" "$store")
per_sample_us=$(jq '.network.sampler.cpu_us / .network.counters.samples' <<<"$s" | median)
samples=$(jq '.network.counters.samples' <<<"$s" | median)
rss_kb=$(jq '.network.sampler.max_rss_kb' <<<"$s" | sort -g | tail -1)
cpu_hour=$(awk -v u="$per_sample_us" 'BEGIN {printf "%.3f", u * 3600 / 1e6}')
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v < t) ? "met" : "missed"}'; }
echo
printf 'discovery at start, median over %d containers: %.3f ms (target < 5 ms: %s)\n' \
  "$(grep -c . <<<"$start_all")" "$start_ms" "$(verdict "$start_ms" 5)"
printf '  (%d of %d ended before their start was signalled: no discovery at start)\n' \
  "$(($(wc -l <<<"$d") - $(grep -c . <<<"$start_all")))" "$(wc -l <<<"$d")"
printf 'discovery at create, median:                   %.3f ms\n' "$create_ms"
printf 'sampler CPU per sample, median of %d containers (%s samples each): %.1f us\n' \
  "$(wc -l <<<"$s")" "$samples" "$per_sample_us"
printf 'sampler CPU per container-hour at 1 s: %s s (target < 2 s: %s)\n' "$cpu_hour" \
  "$(verdict "$cpu_hour" 2)"
printf 'sampler peak RSS: %d KiB (target < 2048 KiB: %s)\n' "$rss_kb" "$(verdict "$rss_kb" 2048)"
