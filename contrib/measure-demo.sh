#!/bin/bash
# The main job on a fresh Debian 12 machine, as root: set everything up (contrib/setup-debian.sh:
# packages, build, install, dockerd, the local image, runtime registration), then measure real
# containers through each measured runtime that works here (each probed against a reflector on
# the default bridge), print what was recorded, and the report comparing the runtimes, also
# written as one page (MEASURED_DEMO_PAGE, default /tmp/measured-demo-report.html).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/contrib/setup-debian.sh"
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
store=/var/lib/measured/samples.jsonl
probe_bin=/usr/local/libexec/measured/measured-probe
run_tag="demo-$(date +%Y%m%dT%H%M%S)"

runtime_works() { docker run --rm --runtime="$1" "$image" true >/dev/null 2>&1; }

printf '\n== the probe'"'"'s peer: a reflector in a plain runc container\n'
docker rm -f measured-demo-reflector >/dev/null 2>&1 || true
docker run -d --name measured-demo-reflector --runtime=runc -v "$probe_bin:/p:ro" "$image" \
  /p reflector >/dev/null
trap 'docker rm -f measured-demo-reflector >/dev/null 2>&1' EXIT
sleep 0.5
peer=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' measured-demo-reflector)
echo "reflector at $peer:7447"

printf '\n== measuring containers (label run=%s)\n' "$run_tag"
for rt in runc runsc crun; do
  if ! docker info --format '{{json .Runtimes}}' | grep -q "\"measured-$rt\""; then
    echo "measured-$rt: not registered (its real runtime is not installed)"
    continue
  fi
  if ! runtime_works "measured-$rt"; then
    echo "measured-$rt: registered, but a container does not run on this machine; skipped"
    echo "  ($(docker run --rm --runtime="measured-$rt" "$image" true 2>&1 | head -1 | cut -c1-200))"
    continue
  fi
  echo "measured-$rt: 3 probed runs, 1 with exec and stop, 1 failing with status 3"
  for i in 1 2 3; do
    docker run --rm --runtime="measured-$rt" -e MEASURED_LABEL_run="$run_tag" \
      -e MEASURED_LABEL_case=probed -e MEASURED_PROBE=latency,bandwidth -e MEASURED_PEER="$peer" \
      "$image" sh -c "echo run $i >/dev/null"
  done
  c=$(docker run -d --runtime="measured-$rt" -e MEASURED_LABEL_run="$run_tag" \
    -e MEASURED_LABEL_case=exec-stop "$image" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
  docker exec "$c" true
  docker stop -t 5 "$c" >/dev/null
  docker rm "$c" >/dev/null
  docker run --rm --runtime="measured-$rt" -e MEASURED_LABEL_run="$run_tag" \
    -e MEASURED_LABEL_case=fail "$image" sh -c 'exit 3' || true
done
sleep 1

printf '\n== recorded samples (%s)\n' "$store"
printf '%-12s %-6s %-9s %4s %8s %8s %8s %7s %8s %8s %7s\n' container rt case exit create_ms \
  start_ms delete_ms added_ms tcp_p50us udp_p50us Gbit/s
grep "\"run\":\"$run_tag\"" "$store" | jq -r '
  def ms(x): if x == null then "-" else ((x / 100 | round) / 10 | tostring) end;
  def us(x): if x == null then "-" else ((x * 10 | round) / 10 | tostring) end;
  [ .id[0:12], .runtime.name, .labels.case, (.exit.status // "?" | tostring),
    ms(.calls.create.us), ms(.calls.start.us), ms(.calls.delete.us),
    ms([.calls.create.overhead_us, .calls.start.overhead_us, .calls.delete.overhead_us,
        (.calls.exec[]?.overhead_us), (.calls.kill[]?.overhead_us)] | map(select(. != null)) | add),
    us(.probe.result.latency.tcp.p50_us), us(.probe.result.latency.udp.p50_us),
    (if .probe.result.bandwidth.bits_per_s then ((.probe.result.bandwidth.bits_per_s / 1e7 | round) / 100 | tostring) else "-" end)
  ] | @tsv' | while IFS=$'\t' read -r id rt case ex c s d a t u b; do
  printf '%-12s %-6s %-9s %4s %8s %8s %8s %7s %8s %8s %7s\n' "$id" "$rt" "$case" "$ex" "$c" "$s" "$d" "$a" "$t" "$u" "$b"
done
printf '\n== network path of the last probed container of each runtime\n'
for rt in runc runsc; do
  grep "\"run\":\"$run_tag\"" "$store" | jq -r --arg rt "$rt" 'select(.runtime.name == $rt and .labels.case == "probed") |
    "\(.runtime.name): \(.network.driver): \(.network.paths[0]) | eth0 sent \(.network.counters.links[0].delta.tx_bytes) bytes in \(.network.counters.samples) samples, consistent: \(.network.counters.consistent)"' | tail -1
done
echo "added_ms: the wrapper's own time over all calls of the lifecycle."

printf '\n== measured report: the probed runs, each runtime compared with runc\n'
page=${MEASURED_DEMO_PAGE:-/tmp/measured-demo-report.html}
measured report "$store" --label "run=$run_tag" --label case=probed --by runtime,driver --baseline runc \
  --html "$page"
echo "The same report as one page (tables, comparison, figures): $page"

printf '\n== for Prometheus: measured exporter (here --once; as a service it serves /metrics on 127.0.0.1:19447)\n'
measured exporter --once --format prometheus |
  grep -E '^measured_(lifecycles_total|runtime_call_seconds_count|exporter_lines_total)' | awk 'NR <= 12'
echo "All of it: measured exporter --once; the metrics, PromQL and a scrape configuration: docs/exporter.md"
echo
echo "Every record in full: jq 'select(.labels.run == \"$run_tag\")' $store"
echo "The study's whole experiment (runtimes x driver pairs x load x 15 repetitions): contrib/paper/run.sh"
