#!/bin/bash
# The main job on a fresh Debian 12 machine, as root: set everything up (contrib/setup-debian.sh:
# packages, build, install, dockerd, the local image, runtime registration), run a few real
# containers through each measured runtime that works here, and print what was recorded.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/contrib/setup-debian.sh"
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
store=/var/lib/measured/samples.jsonl
run_tag="demo-$(date +%Y%m%dT%H%M%S)"

runtime_works() { docker run --rm --runtime="$1" "$image" true >/dev/null 2>&1; }

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
  echo "measured-$rt: 3 short runs, 1 with exec and stop, 1 failing with status 3"
  for i in 1 2 3; do
    docker run --rm --runtime="measured-$rt" -e MEASURED_LABEL_run="$run_tag" \
      -e MEASURED_LABEL_case=short "$image" sh -c "echo run $i >/dev/null"
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
printf '%-12s %-8s %-16s %-9s %5s %9s %9s %9s %9s %9s\n' \
  container runtime version case exit create_ms start_ms delete_ms life_ms added_ms
grep "\"run\":\"$run_tag\"" "$store" | jq -r '
  def ms(x): if x == null then "-" else ((x / 100 | round) / 10 | tostring) end;
  [ .id[0:12], .runtime.name, (.runtime.version // "?"), .labels.case,
    (.exit.status // "?" | tostring),
    ms(.calls.create.us), ms(.calls.start.us), ms(.calls.delete.us), ms(.lifetime_us),
    ms([.calls.create.overhead_us, .calls.start.overhead_us, .calls.delete.overhead_us,
        (.calls.exec[]?.overhead_us), (.calls.kill[]?.overhead_us)] | map(select(. != null)) | add)
  ] | @tsv' | while IFS=$'\t' read -r id rt ver case ex c s d l a; do
  printf '%-12s %-8s %-16s %-9s %5s %9s %9s %9s %9s %9s\n' "$id" "$rt" "$ver" "$case" "$ex" "$c" "$s" "$d" "$l" "$a"
done
echo
echo "added_ms: the wrapper's own time over all calls of the lifecycle."
echo "Every record in full: jq 'select(.labels.run == \"$run_tag\")' $store"
