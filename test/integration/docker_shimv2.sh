#!/bin/bash
# The shim-v2 wrapper through Docker itself, the way a Kata 2.x/3.x user runs it: `measured
# install --runtime runc-v2` writes a "runtimeType" entry and `docker run
# --runtime=measured-runc-v2` goes through containerd-shim-measured-runc-v2 around
# containerd-shim-runc-v2. Docker reaches shims only from 23.0 on: on an older engine the test
# checks that install refuses, says why, and leaves daemon.json alone.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
trap 'cleanup_containers docker-shimv2; docker rm -f measured-shimv2-refl >/dev/null 2>&1; restore_daemon_json' EXIT
M=/usr/local/bin/measured
version=$(docker version -f '{{.Server.Version}}')
major=${version%%.*}
# contrib/engine.sh installs each engine with its own client (Debian 13 moved it to docker-cli).
check_contains "the engine's own client is installed as /usr/bin/docker" \
  "$(/usr/bin/docker --version 2>&1)" "Docker version ${version%%+*}"

if [ "$major" -lt 23 ]; then
  copy=$(cat "$DAEMON_JSON")
  out=$($M install --runtime runc-v2 2>&1)
  check_eq "Docker $version: installing a shim-v2 runtime fails" "$?" 1
  check_contains "... saying the engine is too old for it" "$out" "is too old for a shim-v2 runtime"
  check_eq "... and daemon.json is untouched" "$(cat "$DAEMON_JSON")" "$copy"
  tap_done
fi

save_daemon_json
out=$($M install --runtime runc-v2 2>&1)
check_contains "Docker $version: install writes the runtimeType form" "$out" \
  "io.containerd.measured-runc.v2 under"
check_eq "daemon.json holds it" "$(jq -c '.runtimes["measured-runc-v2"]' "$DAEMON_JSON")" \
  '{"runtimeType":"io.containerd.measured-runc.v2"}'
check "the engine lists measured-runc-v2" bash -c \
  "docker info --format '{{json .Runtimes}}' | jq -e 'has(\"measured-runc-v2\")' >/dev/null"

L=(--label measured-test=docker-shimv2)
# Same command, plain runc and the shim wrapper: same output and status.
for cmd in 'echo out; exit 0' 'echo err >&2; exit 3' 'kill -TERM $$'; do
  want=$(docker run --rm "${L[@]}" --runtime=runc "$IMAGE" sh -c "$cmd" 2>&1; echo "rc=$?")
  got=$(docker run --rm "${L[@]}" --runtime=measured-runc-v2 "$IMAGE" sh -c "$cmd" 2>&1; echo "rc=$?")
  check_eq "as plain runc: $cmd" "$got" "$want"
done
got=$(docker run --rm "${L[@]}" --runtime=io.containerd.measured-runc.v2 "$IMAGE" sh -c 'echo direct')
check_eq "--runtime io.containerd.measured-runc.v2 works too" "$got" direct

# A detached lifecycle: exec, stop; then one record with everything.
id=$(docker run -d "${L[@]}" --runtime=measured-runc-v2 -e MEASURED_LABEL_case=life "$IMAGE" \
  sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
check_eq "exec in it" "$(docker exec "$id" sh -c 'echo in; exit 0')" in
docker stop -t 5 "$id" >/dev/null
check_eq "stopped with status 0" "$(docker inspect -f '{{.State.ExitCode}}' "$id")" 0
docker rm "$id" >/dev/null
check_eq "one record for the lifecycle" "$(record_count "$id")" 1
rec=$(records_of "$id")
check_eq "record: via the shim wrapper, runc under containerd-shim-runc-v2" \
  "$(jq -c '[.runtime.name, .runtime.via, (.runtime.shim | endswith("containerd-shim-runc-v2"))]' <<<"$rec")" \
  '["runc","shim-v2",true]'
check_eq "record: exit status" "$(jq -c .exit <<<"$rec")" '{"code":0,"status":0}'
check_eq "record: labels" "$(jq -c .labels <<<"$rec")" '{"case":"life"}'
check_eq "record: the default bridge path" "$(jq -r .network.driver <<<"$rec")" bridge
check "record: counters over its life" bash -c 'jq -e ".network.counters.samples >= 1" >/dev/null' <<<"$rec"
check_eq "record: nothing missed" "$(jq -c .missed <<<"$rec")" '[]'

# Restart: two lifecycles, two records.
id=$(docker run -d "${L[@]}" --runtime=measured-runc-v2 "$IMAGE" sh -c 'sleep 30')
docker restart -t 1 "$id" >/dev/null
docker rm -f "$id" >/dev/null
check_eq "restart: one record per lifecycle" "$(record_count "$id" 2)" 2

# The probe, in prelude mode, against a reflector.
peer=$(start_reflector measured-shimv2-refl)
id=$(docker run -d "${L[@]}" --runtime=measured-runc-v2 -e MEASURED_PROBE=latency,bandwidth \
  -e "MEASURED_PEER=$peer" "$IMAGE" sh -c 'echo "$0 $*"; exit 0' a b)
docker wait "$id" >/dev/null
check_eq "probed: the workload's own output" "$(docker logs "$id" 2>&1)" "a b"
docker rm "$id" >/dev/null
docker rm -f measured-shimv2-refl >/dev/null 2>&1
check "probed: latency and bandwidth in the record" bash -c \
  'jq -e ".probe.injected and .probe.result.latency.tcp.count > 0 and .probe.result.bandwidth.bits_per_s > 0" >/dev/null' \
  <<<"$(records_of "$id")"

out=$($M uninstall --runtime runc-v2 2>&1)
check_contains "uninstall removes the runtimeType entry and confirms" "$out" "its runtime list confirms"
tap_done
