#!/bin/bash
# The in-container probe through Docker: prelude mode under runc and runsc (the workload sees
# exactly what it sees without the probe), exec mode under runc, records with latency and
# bandwidth, nothing left in the container's filesystem, and every way the probe can fail
# (peer unreachable, slow, answering garbage, time budget exceeded) with the workload starting
# all the same and the record saying why.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
trap 'cleanup_containers probe; cleanup_containers reflector; restore_daemon_json' EXIT

peer=$(start_reflector measured-refl)
slow=$(start_reflector measured-refl-slow --delay-ms 300)
bad=$(start_reflector measured-refl-bad --garbage)
check "a reflector runs" test -n "$peer"

# Everything a workload can observe of its own start, minus what differs between any two
# containers (hostname, container id).
observe='echo "pid=$$ args=$0|$*"; pwd; id; env | grep -v ^HOSTNAME= | sort;
  ls /proc/self/fd | sort | tr "\n" " "; echo;
  grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status; exit 7'
probe_env=(-e MEASURED_PROBE=latency,bandwidth -e "MEASURED_PEER=$peer")

run_observed() { # runtime [docker run options...]
  local rt=$1
  shift
  docker run --rm --label measured-test=probe --runtime="$rt" "${probe_env[@]}" -w /tmp "$@" \
    "$IMAGE" sh -c "$observe" argA argB 2>&1
  echo "rc=$?"
}

last_record() { # label value: the newest record carrying this label
  sleep 0.3
  grep "\"probe_case\":\"$1\"" "$STORE" | tail -1
}

compare_prelude() { # measured runtime, plain runtime, name, [docker run options...]
  local measured=$1 plain=$2 name=$3
  shift 3
  local a b rec
  a=$(run_observed "$plain" -e MEASURED_LABEL_probe_case="$name" "$@")
  b=$(run_observed "$measured" -e MEASURED_LABEL_probe_case="$name" "$@")
  check_eq "$name: the workload sees the same pid, args, cwd, user, env, fds, capabilities and exit status" "$b" "$a"
  rec=$(last_record "$name")
  check_eq "$name: the probe was injected, in prelude mode" "$(jq -c '.probe | [.injected, .mode]' <<<"$rec")" '[true,"prelude"]'
  check_eq "$name: no probe error" "$(jq -c '.probe.result.errors' <<<"$rec")" '[]'
  check "$name: network-ready time" test "$(jq '.probe.result.ready_us' <<<"$rec")" -gt 0
  check "$name: tcp latency percentiles" test "$(jq '.probe.result.latency.tcp | (.count > 100 and .p50_us > 0 and .p99_us >= .p50_us and .p999_us >= .p99_us and .max_us >= .p999_us)' <<<"$rec")" = true
  check "$name: udp latency percentiles" test "$(jq '.probe.result.latency.udp | (.count > 100 and .p50_us > 0 and .p99_us >= .p50_us)' <<<"$rec")" = true
  check "$name: bandwidth" test "$(jq '.probe.result.bandwidth | (.bytes > 0 and .bits_per_s > 0 and .seconds > 0.5)' <<<"$rec")" = true
  check_eq "$name: the record keeps the container's own command" "$(jq -c .container.args <<<"$rec")" \
    "[\"sh\",\"-c\",$(jq -Rs . <<<"$observe" | sed 's/\\n"$/"/'),\"argA\",\"argB\"]"
}

compare_prelude measured-runc runc "runc prelude"
# The probe's connections are measured's own: the workload here opens none.
rec=$(last_record "runc prelude")
check_eq "the probe's connections are counted apart, not as the workload's" \
  "$(jq -c '.flows.connections | [.total, .probe >= 2]' <<<"$rec")" '[0,true]'
compare_prelude measured-runc runc "runc prelude, user 1000" -u 1000:1000
register_plain_runtime runsc-plain /usr/bin/runsc --network=host
compare_prelude measured-runsc runsc-plain "runsc prelude"

# --- nothing left behind; the mounts are what they should be ---------------------------------------
c=$(docker run -d --label measured-test=probe --runtime=measured-runc "${probe_env[@]}" \
  -e MEASURED_PROBE=latency "$IMAGE" sh -c 'grep measured /proc/self/mountinfo; sleep 1')
docker wait "$c" >/dev/null
mi=$(docker logs "$c")
check_eq "nothing is left in the container's filesystem" "$(docker diff "$c")" ""
check_contains "the probe is mounted read-only, nosuid, nodev" "$(grep measured-probe <<<"$mi")" "ro,nosuid,nodev"
check_contains "the result channel is nosuid, nodev, noexec" "$(grep measured-out <<<"$mi")" "nosuid,nodev,noexec"
docker rm "$c" >/dev/null

# --- exec mode -----------------------------------------------------------------------------------------
out=$(docker run --rm --label measured-test=probe --runtime=measured-runc "${probe_env[@]}" \
  -e MEASURED_PROBE_MODE=exec -e MEASURED_LABEL_probe_case=exec "$IMAGE" \
  sh -c 'cat /proc/1/cmdline | tr "\0" " "; sleep 2.5; exit 4')
rc=$?
check_eq "exec mode: the workload is the container's process from the start" "$out" "sh -c cat /proc/1/cmdline | tr \"\\0\" \" \"; sleep 2.5; exit 4 "
check_eq "exec mode: its exit status" "$rc" 4
rec=$(last_record exec)
check_eq "exec mode: the probe ran through the runtime's exec" "$(jq -r .probe.result.mode <<<"$rec")" exec
check "exec mode: with figures" test "$(jq '.probe.result.latency.tcp.count' <<<"$rec")" -gt 100

# --- when the probe cannot measure ---------------------------------------------------------------------
failing() { # case, expected text in the record, docker run options...
  local name=$1 expect=$2 t0 t1 rc rec
  shift 2
  t0=$(date +%s%N)
  docker run --rm --label measured-test=probe --runtime=measured-runc -e MEASURED_PROBE=latency,bandwidth \
    -e MEASURED_LABEL_probe_case="$name" "$@" "$IMAGE" sh -c 'echo started; exit 5' >"/tmp/probe-out.$$"
  rc=$?
  t1=$(date +%s%N)
  rec=$(last_record "$name")
  check_eq "$name: the workload still starts, with its exit status" "$(cat "/tmp/probe-out.$$") $rc" "started 5"
  check_contains "$name: the record says why there are no figures" "$(jq -c .probe.result.errors <<<"$rec")" "$expect"
  check "$name: within the budget (took $(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 3500
  rm -f "/tmp/probe-out.$$"
}
failing "peer unreachable" "network not ready" -e MEASURED_PEER=172.17.255.254
failing "peer slow" "no answer within the time budget" -e "MEASURED_PEER=$slow"
failing "peer garbage" "differs from what was sent" -e "MEASURED_PEER=$bad"
failing "budget exceeded" "time budget of 300 ms exceeded" -e "MEASURED_PEER=$peer" -e MEASURED_PROBE_BUDGET_MS=300
check_eq "budget exceeded: marked so" "$(last_record 'budget exceeded' | jq .probe.result.budget_exceeded)" true

# --- the reflector: one line per session; a bad session ends alone --------------------------------------
exec 3<>"/dev/tcp/$peer/7447"
printf 'GARBAGE-HELLO!!!' >&3
exec 3>&-
sleep 0.3
check_contains "the reflector logs a bad hello and closes that session only" "$(docker logs measured-refl 2>&1 | tail -3)" "rejected: not a measured probe hello"
check_eq "... and keeps serving" "$(docker inspect -f '{{.State.Running}}' measured-refl)" true
check "... one line per session" test "$(docker logs measured-refl 2>&1 | grep -c 'tcp .* echo msgs=')" -ge 4
tap_done
