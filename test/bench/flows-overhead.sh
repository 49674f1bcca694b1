#!/bin/bash
# What measuring the workload's own connections costs (issue 12's targets), flows off against
# on (MEASURED_FLOWS=0 / 1 in the container, both under measured-runc), alternating in pairs so
# that drift in the machine's state hits both alike:
#   - a stream: iperf3 -c from the container to a server on the host, at full speed (its
#     server's own count of bits per second); target: on / off >= 0.97;
#   - connections: wrk from the host against a server in the container that closes every
#     connection after one response (test/helpers/tinyhttp, as fast as this machine accepts
#     them; busybox httpd forks and manages some hundreds a second); wrk's requests per second
#     are its connections per second; target: on / off >= 0.97 with at least 5,000 a second;
#   - the monitor's CPU while the workload runs (target: <= 5 % of a core for the stream, <= 10 %
#     for the connections) and its peak memory (target: <= 4 MiB);
#   - the wrapper's own time per call, from the records (target: unchanged, <= +0.1 ms).
# Prints every run and the medians. Never fails on timing: it reports.
#   usage: flows-overhead.sh [PAIRS] [SECONDS]     (default 5 pairs of 5 s; CI runs 1 of 2)
#   MEASURED_TINYHTTP: the tinyhttp binary (default: build/test/tinyhttp)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pairs=${1:-5}
secs=${2:-5}
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
store=${MEASURED_STORE:-/var/lib/measured/samples.jsonl}
state=${MEASURED_STATE_DIR:-/run/measured}
tinyhttp=${MEASURED_TINYHTTP:-$here/../../build/test/tinyhttp}
[ -x "$tinyhttp" ] || { echo "flows-overhead: $tinyhttp missing (build the tests)"; exit 1; }
command -v wrk >/dev/null || { echo "flows-overhead: wrk missing"; exit 1; }
tag="flowbench-$$"
scratch=$(mktemp -d /tmp/measured-flowbench.XXXXXX)
gw=$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}')
port=5331
iperf3 -s -B "$gw" -p "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$scratch"; docker ps -aq --filter "label=$tag" | xargs -r docker rm -f >/dev/null' EXIT
sleep 0.5

. "$here/../lib/stats.sh"
monitor_of() {
  local p
  for _ in $(seq 50); do
    for p in /proc/[0-9]*; do
      ls -l "$p/fd" 2>/dev/null | grep -qE "$state/\.scope-[0-9a-f]+/$1/wake" && { basename "$p"; return; }
    done
    sleep 0.1
  done
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
# The monitor ends with the workload: its CPU time is read every 0.2 s until then (the last
# reading is kept in $1).
follow_ticks() { # pid file
  while [ -e "/proc/$1" ]; do
    local t
    t=$(ticks "$1") && [ -n "$t" ] && echo "$t" >"$2"
    sleep 0.2
  done
}
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
pct() { awk -v c="$1" -v hz="$(getconf CLK_TCK)" -v ns="$2" 'BEGIN {printf "%.2f", 100 * c / hz / (ns / 1e9)}'; }

declare -A rate cpu rss
stream() { # flows (0|1) pair: one iperf3 stream
  local id mon t0 c0 t1 c1 bps
  id=$(docker run -d --label "$tag" --runtime=measured-runc -e MEASURED_FLOWS="$1" \
    -e "MEASURED_LABEL_bench=$tag" "$image" sh -c "sleep 0.5; exec iperf3 -c $gw -p $port -t $secs -J")
  mon=$(monitor_of "$id")
  sleep 0.5
  t0=$(date +%s%N) c0=$(ticks "$mon")
  follow_ticks "$mon" "$scratch/ticks" &
  local follower=$! peak=0 h
  while [ -e "/proc/$mon" ]; do
    h=$(hwm_kb "$mon") && [ -n "$h" ] && peak=$h
    sleep 0.2
  done
  t1=$(date +%s%N)
  wait "$follower"
  c1=$(cat "$scratch/ticks")
  docker wait "$id" >/dev/null
  rss[stream$1]+=" $peak"
  bps=$(docker logs "$id" 2>/dev/null | sed -n '/^{/,$p' | jq '.end.sum_received.bits_per_second // 0')
  docker rm "$id" >/dev/null
  rate[stream$1]+=" $(awk -v b="$bps" 'BEGIN {printf "%.3f", b / 1e9}')"
  cpu[stream$1]+=" $(pct $((c1 - c0)) $((t1 - t0)))"
}
connections() { # flows (0|1): wrk against tinyhttp in the container
  local id ip mon t0 c0 t1 c1 rps
  id=$(docker run -d --label "$tag" --runtime=measured-runc -e MEASURED_FLOWS="$1" \
    -e "MEASURED_LABEL_bench=$tag" -v "$(readlink -f "$tinyhttp"):/tinyhttp:ro" "$image" /tinyhttp 8080)
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")
  mon=$(monitor_of "$id")
  sleep 0.5
  t0=$(date +%s%N) c0=$(ticks "$mon")
  rps=$(wrk -t2 -c50 -d"${secs}s" "http://$ip:8080/" | awk '/Requests\/sec/ {print $2}')
  t1=$(date +%s%N) c1=$(ticks "$mon")
  rss[conn$1]+=" $(hwm_kb "$mon")"
  docker rm -f "$id" >/dev/null
  rate[conn$1]+=" ${rps:-0}"
  cpu[conn$1]+=" $(pct $((c1 - c0)) $((t1 - t0)))"
}

echo "flows off / on, $pairs pairs of ${secs} s each, alternating (the order flips every pair)"
for i in $(seq "$pairs"); do
  order="0 1"
  [ $((i % 2)) -eq 0 ] && order="1 0"
  for f in $order; do stream "$f"; done
  for f in $order; do connections "$f"; done
  printf 'pair %d: stream Gbit/s off %s on %s | connections/s off %s on %s\n' "$i" \
    "$(awk '{print $NF}' <<<"${rate[stream0]}")" "$(awk '{print $NF}' <<<"${rate[stream1]}")" \
    "$(awk '{print $NF}' <<<"${rate[conn0]}")" "$(awk '{print $NF}' <<<"${rate[conn1]}")"
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN {printf "%.3f", (a > 0 ? b / a : 0)}'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {ok = op == ">=" ? v >= t : v <= t; print ok ? "met" : "missed"}'; }
echo
s_ratio=$(ratio "${rate[stream0]}" "${rate[stream1]}")
c_ratio=$(ratio "${rate[conn0]}" "${rate[conn1]}")
printf 'stream: median %s Gbit/s off, %s on: ratio %s (target >= 0.97: %s)\n' \
  "$(med "${rate[stream0]}")" "$(med "${rate[stream1]}")" "$s_ratio" "$(verdict "$s_ratio" 0.97 '>=')"
printf 'connections: median %s/s off, %s/s on: ratio %s (target >= 0.97 at >= 5000/s: %s)\n' \
  "$(med "${rate[conn0]}")" "$(med "${rate[conn1]}")" "$c_ratio" "$(verdict "$c_ratio" 0.97 '>=')"
printf 'monitor CPU, flows on: stream %s %% of a core (target <= 5: %s), connections %s %% (target <= 10: %s); flows off: %s %%, %s %%\n' \
  "$(med "${cpu[stream1]}")" "$(verdict "$(med "${cpu[stream1]}")" 5 '<=')" \
  "$(med "${cpu[conn1]}")" "$(verdict "$(med "${cpu[conn1]}")" 10 '<=')" \
  "$(med "${cpu[stream0]}")" "$(med "${cpu[conn0]}")"
peak=$(tr ' ' '\n' <<<"${rss[stream1]} ${rss[conn1]}" | grep . | sort -n | tail -1)
printf 'monitor peak RSS, flows on: %s KiB (target <= 4096: %s); flows off: %s KiB\n' "$peak" \
  "$(verdict "${peak:-0}" 4096 '<=')" "$(tr ' ' '\n' <<<"${rss[stream0]} ${rss[conn0]}" | grep . | sort -n | tail -1)"
sleep 1
for f in 0 1; do
  recs=$(grep "\"bench\":\"$tag\"" "$store" | jq -c --argjson f "$f" 'select((.flows.views.socket.ran // false) == ($f == 1))')
  for call in create start delete; do
    printf 'wrapper added time, flows %s, %-6s median %6s us over %d records\n' \
      "$([ "$f" = 1 ] && echo on || echo off)" "$call" \
      "$(jq -r ".calls.$call.overhead_us" <<<"$recs" | median)" "$(grep -c . <<<"$recs")"
  done
done
