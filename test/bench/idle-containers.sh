#!/bin/bash
# What measured costs a host that fills up with idle containers: for each count N of the list
# (default "50 200 500"), N containers (`sleep`) running under measured-runc at once, and then:
# the sum of their monitors' proportional set size (PSS: shared pages counted once, from
# /proc/PID/smaps_rollup), the monitors' CPU time over SECONDS (default 60) extrapolated to an
# hour, and the time of `docker run --rm IMAGE true` for one more container under measured-runc
# and under plain runc (5 alternating pairs, medians). Each figure also per container, so that
# growth from one N to the next shows. Target (issue 15): linear, at most 2 MiB and 2 CPU-s an
# hour per container, flows on. Reports; never fails on a figure.
#   usage: idle-containers.sh [COUNTS] [SECONDS]
set -euo pipefail
counts=${1:-50 200 500}
seconds=${2:-60}
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
state=${MEASURED_STATE_DIR:-/run/measured}
label=measured-bench=idle-$$
trap 'docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null 2>&1' EXIT
hz=$(getconf CLK_TCK)

monitors() { # the pids that hold a lifecycle's monitor.lock
  local p
  for p in /proc/[0-9]*; do
    ls -l "$p/fd" 2>/dev/null | grep -q "$state/\.scope-[0-9a-f]*/[^/]*/monitor\.lock" && echo "${p#/proc/}"
  done
}
pss_kib() { # pids...
  local p
  for p in "$@"; do awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'
}
cpu_ticks() { # pids...: utime + stime
  local p
  for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'
}
run_ms() { # runtime
  local t0 t1
  t0=$(date +%s%N)
  docker run --rm --runtime="$1" "$image" true >/dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
. "$(dirname "$0")/../lib/stats.sh"

printf '%6s %10s %12s %12s %14s %10s %10s %7s\n' N monitors "PSS MiB" "PSS/ctr KiB" "CPU-s/h/ctr" "run ms" "runc ms" ratio
running=0
for n in $counts; do
  while [ "$running" -lt "$n" ]; do # four at a time
    batch=$((n - running < 4 ? n - running : 4))
    for _ in $(seq "$batch"); do
      docker run -d --label "$label" --runtime=measured-runc "$image" sleep 86400 >/dev/null &
    done
    wait
    running=$((running + batch))
  done
  sleep 5
  mapfile -t pids < <(monitors)
  pss=$(pss_kib "${pids[@]}")
  c0=$(cpu_ticks "${pids[@]}")
  sleep "$seconds"
  c1=$(cpu_ticks "${pids[@]}")
  cpu=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v s="$seconds" -v n="$n" 'BEGIN {printf "%.2f", d / hz / s * 3600 / n}')
  m=() r=()
  for _ in 1 2 3 4 5; do
    m+=("$(run_ms measured-runc)")
    r+=("$(run_ms runc)")
  done
  mm=$(printf '%s\n' "${m[@]}" | median)
  rm_=$(printf '%s\n' "${r[@]}" | median)
  printf '%6d %10d %12.1f %12.0f %14s %10s %10s %7.3f\n' "$n" "${#pids[@]}" "$(awk -v k="$pss" 'BEGIN {print k / 1024}')" \
    "$(awk -v k="$pss" -v n="$n" 'BEGIN {print k / n}')" "$cpu" "$mm" "$rm_" "$(awk -v a="$mm" -v b="$rm_" 'BEGIN {print a / b}')"
done
echo "PSS: the monitors' own (the engine's shims and the containers' processes are not measured's)."
