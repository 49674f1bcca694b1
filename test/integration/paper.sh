#!/bin/bash
# The study's harness end to end, briefly: --quick --reps 1 on runc and runsc, every driver pair
# and both loads, one second per tool. It must complete every repetition, end with a report, the
# figures and the summary, and leave the machine as it found it (no macvlan parent, no swarm, no
# network, no container of its own).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine

out=$(mktemp -d /tmp/measured-paper.XXXXXX)
trap 'rm -rf "$out"' EXIT
swarm_before=$(docker info --format '{{.Swarm.LocalNodeState}}')
networks_before=$(docker network ls --format '{{.Name}}' | sort | tr '\n' ' ')

"$top/contrib/paper/run.sh" --quick --reps 1 --runtimes "runc runsc" --seconds 1 --out "$out" \
  >"$out/stdout" 2>&1
check "the harness exits 0" test $? -eq 0
check_contains "it shows progress with an ETA" "$(cat "$out/stdout")" "[16/16] runsc  overlay/overlay  load=stress rep 1/1  (ETA"
check_contains "every repetition completed" "$(cat "$out/run.log")" "16 of 16 repetitions completed"

# The report: one group per runtime x pair x load, each from one measured record with the probe's
# figures; runc's groups also carry both reference tools' figures.
report=$out/report.json
check "the JSON report parses" bash -c 'jq -e . "$1" >/dev/null' _ "$report"
check "16 groups, one per runtime x pair x load" \
  test "$(jq '[.groups[] | select(.unsupported | not)] | length' "$report")" -eq 16
check "every group has one record with a probe bandwidth" \
  test "$(jq '[.groups[] | select(.records == 1 and .metrics.bandwidth.n == 1)] | length' "$report")" -eq 16
check "every group has a probe TCP latency" \
  test "$(jq '[.groups[] | select(.metrics.tcp_p50.n == 1)] | length' "$report")" -eq 16
check "every group has the container link's counters" \
  test "$(jq '[.groups[] | select(.metrics.tx.n == 1 and .metrics.rx.n == 1 and .metrics.tx.mean > 0)] | length' "$report")" -eq 16
check "runc's groups carry iperf3's and sockperf's figures next to the probe's" \
  test "$(jq '[.groups[] | select(.key.runtime == "runc" and .metrics.iperf3.n == 1 and .metrics.sockperf_p50.n == 1)] | length' "$report")" -eq 8
check "the comparison with runc is in the JSON report" \
  test "$(jq '[.baseline.comparisons[] | select(.runtime == "runsc" and .metric == "bandwidth") | .ratio | numbers] | length' "$report")" -eq 8
check "the tools' lines say which tool gave no figure, never a zero" \
  test "$(jq -s '[.[] | select(.kind == "tool") | .tool | to_entries[] | select(.value == 0)] | length' "$out/tools.jsonl")" -eq 0
check_contains "the table compares with runc" "$(cat "$out/report.txt")" "runsc vs runc | overlay/overlay stress"
check "the CSV report has a header and rows" test "$(wc -l <"$out/report.csv")" -gt 16

# Figures: one chart per metric and load, SVG that parses, PNG next to it.
check "a bandwidth chart per load" test -s "$out/figures/bandwidth-none.svg" -a -s "$out/figures/bandwidth-stress.png"
bad_svg=0
for f in "$out"/figures/*.svg; do xmllint --noout "$f" 2>/dev/null || bad_svg=$((bad_svg + 1)); done
check "every SVG parses as XML" test "$bad_svg" -eq 0

# The summary states the findings next to the study's.
summary=$(cat "$out/summary.txt")
for finding in "runc has the lower latency" "overlay driver has the lowest bandwidth" "CPU load"; do
  check_contains "the summary addresses: $finding" "$summary" "$finding"
done
check_contains "the summary names the overlay pair's measured figures" "$summary" "overlay/overlay: lowest TCP p50"

# Clean-up: as before the run.
check "the macvlan parent is gone" bash -c '! ip link show msdpp0 >/dev/null 2>&1'
check "the swarm state is as before" test "$(docker info --format '{{.Swarm.LocalNodeState}}')" = "$swarm_before"
check "the networks are as before" \
  test "$(docker network ls --format '{{.Name}}' | sort | tr '\n' ' ')" = "$networks_before"
check "no container of the run is left" test -z "$(docker ps -aq --filter label=measured-paper)"

# Two-host mode, with both "hosts" this one: the bridge server reached through its published
# ports at SERVER_ADDRESS, the client's records read through the client engine.
addr=$(ip -4 -o route get 1.1.1.1 2>/dev/null | grep -o 'src [0-9.]*' | cut -d' ' -f2)
addr=${addr:-$(hostname -I | awk '{print $1}')}
two=$out/two
CLIENT_DOCKER_HOST=unix:///var/run/docker.sock SERVER_ADDRESS=$addr "$top/contrib/paper/run.sh" \
  --reps 1 --runtimes runc --loads none --pairs "bridge/bridge host/bridge" --seconds 1 --out "$two" \
  >"$two.stdout" 2>&1
check "two-host mode completes" test $? -eq 0
check "two-host mode: each pair has one record and iperf3's figure at the published address" \
  test "$(jq '[.groups[] | select(.records == 1 and .metrics.iperf3.n == 1)] | length' "$two/report.json")" -eq 2
CLIENT_DOCKER_HOST=unix:///var/run/docker.sock "$top/contrib/paper/run.sh" --reps 1 --out "$out/x" >"$out/x.stdout" 2>&1
check "two-host mode without SERVER_ADDRESS is refused" test $? -ne 0
check_contains "and says why" "$(cat "$out/x.stdout")" "needs SERVER_ADDRESS"
check_records "every record of the run follows docs/record.schema.json" "$out/records.jsonl"
tap_done
