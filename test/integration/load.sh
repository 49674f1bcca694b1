#!/bin/bash
# Load: 50 concurrent `docker run --rm` through measured-runc on this 2-core machine, the same 50
# through plain runc, then 100 sequential runs with restarts mixed in. Every lifecycle must
# yield exactly one complete record, no line of the store may be corrupt, no state may be left
# under the state directory, no monitor may outlive its container, and the containers' outcomes
# (output and exit status) must equal plain runc's.
#   MEASURED_LOAD_CONCURRENT (50), MEASURED_LOAD_SEQUENTIAL (100), MEASURED_LOAD_RESTARTS (10)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
trap 'cleanup_containers load' EXIT
N=${MEASURED_LOAD_CONCURRENT:-50}
S=${MEASURED_LOAD_SEQUENTIAL:-100}
R=${MEASURED_LOAD_RESTARTS:-10}
tag=load-$$-$(date +%s)
work=$(mktemp -d /tmp/measured-load-XXXXXX)
trap 'cleanup_containers load; rm -rf "$work"' EXIT
lines_before=$(wc -l <"$STORE" 2>/dev/null || echo 0)

run_batch() { # runtime dir: N at once, each printing and exiting with a status of its own
  local rt=$1 dir=$2
  mkdir -p "$dir"
  for i in $(seq "$N"); do
    (t0=$(date +%s%N)
    out=$(docker run --rm --label measured-test=load --runtime="$rt" -e "MEASURED_LABEL_run=$tag" \
      -e MEASURED_LABEL_phase=concurrent "$IMAGE" sh -c "echo out-$i; exit $((i % 5))" 2>&1)
    rc=$?
    echo $((($(date +%s%N) - t0) / 1000000)) >"$dir/$i.ms"
    echo "$out rc=$rc" >"$dir/$i") &
  done
  wait
}
# Median and p99 of the runs' wall times in a batch, in ms.
run_times() { # dir
  cat "$1"/*.ms | sort -n | awk '{v[NR]=$1} END {i=int(NR*0.99+0.999); printf "median %d ms, p99 %d ms", v[int((NR+1)/2)], v[i]}'
}
t0=$(date +%s%N)
run_batch runc "$work/plain"
t1=$(date +%s%N)
run_batch measured-runc "$work/measured"
t2=$(date +%s%N)
tap_diag "$N concurrent runs: plain runc $(((t1 - t0) / 1000000)) ms, measured-runc $(((t2 - t1) / 1000000)) ms"
tap_diag "each docker run: plain runc $(run_times "$work/plain"); measured-runc $(run_times "$work/measured")"
check_eq "$N concurrent: the same output and exit status as plain runc" \
  "$(cd "$work/measured" && cat $(seq "$N"))" "$(cd "$work/plain" && cat $(seq "$N"))"

ours() { grep "\"run\":\"$tag\"" "$STORE" 2>/dev/null; }
wait_records() { # n
  for _ in $(seq 100); do
    [ "$(ours | wc -l)" -ge "$1" ] && break
    sleep 0.1
  done
}
wait_records "$N"
check_eq "$N concurrent: $N records" "$(ours | grep -c '"phase":"concurrent"')" "$N"
check_eq "$N concurrent: every record complete" \
  "$(ours | grep '"phase":"concurrent"' | record_complete_count)" "$N"
check_eq "$N concurrent: exit statuses as the containers ended" \
  "$(ours | jq -r 'select(.labels.phase == "concurrent") | .exit.status' | sort | uniq -c | awk '{print $1"x"$2}' | tr '\n' ' ')" \
  "$(for i in $(seq "$N"); do echo $((i % 5)); done | sort | uniq -c | awk '{print $1"x"$2}' | tr '\n' ' ')"
ours | jq -r 'select(.labels.phase == "concurrent") | .calls | [.create.overhead_us, .start.overhead_us, .delete.overhead_us] | .[]' |
  sort -n >"$work/overhead"
tap_diag "wrapper time per call under $N concurrent runs: median $(awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}' "$work/overhead") us," \
  "p99 $(awk '{v[NR]=$1} END {i=int(NR*0.99+0.999); if (i<1) i=1; print v[i]}' "$work/overhead") us"

# Sequential, with restarts: a restart is two lifecycles, two records.
for i in $(seq "$S"); do
  docker run --rm --label measured-test=load --runtime=measured-runc -e "MEASURED_LABEL_run=$tag" \
    -e MEASURED_LABEL_phase=sequential "$IMAGE" sh -c "exit $((i % 3))" >/dev/null 2>&1
done
for i in $(seq "$R"); do
  id=$(docker run -d --label measured-test=load --runtime=measured-runc -e "MEASURED_LABEL_run=$tag" \
    -e MEASURED_LABEL_phase=restart "$IMAGE" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
  docker restart -t 2 "$id" >/dev/null
  docker rm -f "$id" >/dev/null
done
wait_records $((N + S + 2 * R))
check_eq "$S sequential: $S records" "$(ours | grep -c '"phase":"sequential"')" "$S"
check_eq "$R restarts: $((2 * R)) records (two lifecycles each)" "$(ours | grep -c '"phase":"restart"')" $((2 * R))
check_eq "every record complete" "$(ours | record_complete_count)" $((N + S + 2 * R))
check_eq "no record twice" "$(ours | jq -r '.id + " " + .created_at' | sort | uniq -d | wc -l)" 0
check_eq "every new line of the store is one whole JSON object" \
  "$(tail -n +$((lines_before + 1)) "$STORE" | jq -c 'select(type == "object") | 1' 2>/dev/null | wc -l)" \
  "$(tail -n +$((lines_before + 1)) "$STORE" | wc -l)"

# Nothing left behind.
sleep 1
left=$(find "$STATE_DIR" -mindepth 2 -maxdepth 2 -path "$STATE_DIR/.scope-*/*" -type d | while read -r d; do
  grep -q "$tag" "$d/events" 2>/dev/null && echo "$d"
done)
check_eq "no state left under $STATE_DIR" "$left" ""
# A monitor's command line names its container (measured-monitor container=ID ...).
ours | jq -r .id | sort -u >"$work/ids"
check_eq "no monitor outlives its container" \
  "$(for p in $(pgrep measured-); do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null; echo; done |
     grep -cF -f "$work/ids")" 0
tap_done
