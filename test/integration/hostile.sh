#!/bin/bash
# Hostile input from inside a container: the probe's channel (/dev/.measured-out, writable by
# the container) is where measured reads the probe's result from. A workload that replaces that
# result with something malicious (huge, deeply nested, invalid UTF-8, NUL bytes, a symlink to a
# host file, a FIFO, a directory) must not make measured read outside the container's own
# state, block, or crash: the container runs and exits as it would, and the record says the
# result was rejected. Also: the modes of measured's shared places and of the probe's mounts.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
trap 'cleanup_containers hostile; cleanup_containers reflector' EXIT

peer=$(start_reflector measured-refl-hostile)
check "a reflector runs" test -n "$peer"
out=/dev/.measured-out/result.json
# Each case: a name, the shell that replaces the result once the probe wrote it, what the
# record's probe.why must say.
run_case() { # name script expected-why
  local name=$1 script=$2 why=$3 rc rec t0 t1
  t0=$(date +%s%N)
  timeout 60 docker run --rm --label measured-test=hostile --runtime=measured-runc \
    -e MEASURED_PROBE=latency -e "MEASURED_PEER=$peer" -e MEASURED_PROBE_LATENCY_MS=200 \
    -e "MEASURED_LABEL_hostile=$name-$$" "$IMAGE" sh -c "$script; exit 9" >/dev/null 2>&1
  rc=$?
  t1=$(date +%s%N)
  check_eq "$name: the container's exit status is its own" "$rc" 9
  sleep 0.3
  rec=$(grep "\"hostile\":\"$name-$$\"" "$STORE" | tail -1)
  check "$name: one complete record" bash -c 'jq -e "$1" >/dev/null' _ "$RECORD_COMPLETE" <<<"$rec"
  check_contains "$name: the record says the result was rejected, and why" \
    "$(jq -r '.probe.why // "none"' <<<"$rec")" "$why"
  check_eq "$name: and holds no result" "$(jq -c .probe.result <<<"$rec")" null
  check "$name: nothing of the host's files in the record" bash -c '! grep -q "root:" <<<"$1"' _ "$rec"
  tap_diag "$name: docker run took $(((t1 - t0) / 1000000)) ms"
}

run_case "huge" "rm -f $out; head -c 250000 /dev/zero | tr '\\0' '[' >$out" \
  "more than the limit"
run_case "deeply nested" "rm -f $out; printf '%0.s[' \$(seq 5000) >$out" "result rejected"
run_case "invalid UTF-8" "rm -f $out; printf '{\"schema\":1,\"x\":\"\\377\\376\"}' >$out" "result rejected"
run_case "NUL bytes" "rm -f $out; printf '{\"schema\":1,\\000\"x\":1}' >$out" "result rejected"
run_case "a symlink to a host file" "rm -f $out; ln -s /etc/shadow $out" "result rejected"
run_case "a symlink out of the channel" "rm -f $out; ln -s ../../../../../../../etc/shadow $out" \
  "result rejected"
run_case "a FIFO" "rm -f $out; mkfifo $out" "not a regular file"
run_case "a directory" "rm -f $out; mkdir $out" "not a regular file"
run_case "the channel filled" "rm -f $out; for i in \$(seq 40); do echo >/dev/.measured-out/f\$i; done 2>/dev/null; head -c 300000 /dev/zero >/dev/.measured-out/big 2>/dev/null" \
  "the probe left no result"

# A container that makes 400 bridges and then adds and removes one in a loop, asking for a 10 ms
# sampling interval: measured's state for it stays bounded, its monitor's CPU too (the interval
# has a floor, rediscovery a rate, change events a cap), and the record keeps its essentials and
# says what was capped.
flap=$(docker run -d --label measured-test=hostile --runtime=measured-runc --cap-add NET_ADMIN \
  -e MEASURED_SAMPLE_INTERVAL_MS=10 "$IMAGE" sh -c '
    for i in $(seq 400); do ip link add b$i type bridge; done
    end=$(($(date +%s) + 12))
    while [ $(date +%s) -lt $end ]; do ip link add flap type bridge; ip link del flap; done
    exit 7')
for _ in $(seq 50); do
  mon=$(for p in /proc/[0-9]*; do ls -l "$p/fd" 2>/dev/null | grep -qE "$STATE_DIR/\.scope-[0-9a-f]+/$flap/wake" && basename "$p"; done | head -1)
  [ -n "$mon" ] && break
  sleep 0.1
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
sleep 2 # the 400 bridges are made
t0=$(date +%s%N) c0=$(ticks "$mon")
sleep 8
t1=$(date +%s%N) c1=$(ticks "$mon")
state_bytes=$(du -sb $STATE_GLOB/"$flap" 2>/dev/null | awk '{print $1}')
cpu=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v ns=$((t1 - t0)) 'BEGIN {printf "%.1f", 100 * c / hz / (ns / 1e9)}')
tap_diag "links flapping: the monitor used $cpu % of a core; the lifecycle's state holds $state_bytes bytes"
check "links flapping: the lifecycle's state stays under 1 MiB" test "${state_bytes:-0}" -gt 0 -a "${state_bytes:-0}" -lt 1048576
check "links flapping: the monitor stays under 10 % of a core (target 5 %; measured: $cpu %)" \
  awk -v c="$cpu" 'BEGIN {exit !(c < 10)}'
check_eq "links flapping: the container's exit status is its own" "$(timeout 60 docker wait "$flap")" 7
docker rm "$flap" >/dev/null
rec=$(records_of "$flap")
check "... its record is complete" record_complete <<<"$rec"
check_eq "... with the exit status" "$(jq -c .exit.code <<<"$rec")" 7
check_eq "... sampled no faster than a container may ask" "$(jq -c .network.sampler.interval_ms <<<"$rec")" 100
check_contains "... and it says so" "$(jq -r '.missed | join("; ")' <<<"$rec")" \
  "MEASURED_SAMPLE_INTERVAL_MS=10: below the 100 ms a container may choose"
check_contains "... and that the later path changes were counted, not kept" \
  "$(jq -r '.missed | join("; ")' <<<"$rec")" "later path change(s) counted, their topologies not kept"
check "... the changes it counted are more than it kept" \
  jq -e '.network.discovery.changes_not_recorded > 0' <<<"$rec"

# Modes of what measured shares with everyone else on the host.
check_eq "the state directory: 0700, root's" "$(stat -c '%a %U' "$STATE_DIR")" "700 root"
check_eq "the store: 0600, root's" "$(stat -c '%a %U' "$STORE")" "600 root"
mounts=$(docker run --rm --label measured-test=hostile --runtime=measured-runc \
  -e MEASURED_PROBE=latency -e "MEASURED_PEER=$peer" -e MEASURED_PROBE_LATENCY_MS=200 \
  "$IMAGE" sh -c 'grep -E " /dev/.measured-(probe|out) " /proc/self/mounts | sort -k2')
check_contains "the probe's binary is mounted read-only, nosuid, nodev" \
  "$(grep ' /dev/.measured-probe ' <<<"$mounts" | awk '{print $4}' | tr ',' '\n' | grep -xE 'ro|nosuid|nodev' | sort | tr '\n' ' ')" \
  "nodev nosuid ro"
check_contains "its channel: nosuid, nodev, noexec" \
  "$(grep ' /dev/.measured-out ' <<<"$mounts" | awk '{print $4}' | tr ',' '\n' | grep -xE 'noexec|nosuid|nodev' | sort | tr '\n' ' ')" \
  "nodev noexec nosuid"
tap_done
