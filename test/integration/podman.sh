#!/bin/bash
# Through the real podman (rootful, conmon, its own call pattern: --log-format=json, exec
# --detach --pid-file, kill then delete --force), measured-runc against plain runc: the same exit
# statuses and output, tty, exec, logs, pause, restart, stop, kill, rm -f; one complete record per
# lifecycle; the network drivers (bridge, a named network, host, none, macvlan) with counters and
# connections checked against what the far end received; the probe; and podman's lifecycles kept
# apart from Docker's.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/podman.sh"
require_podman
parent=mtest-mparent
trap 'podman_cleanup podman; podman network rm -f mtest-net mtest-macvlan >/dev/null 2>&1;
      ip link del "$parent" 2>/dev/null; docker rm -f mtest-docker >/dev/null 2>&1' EXIT

# --- exit status and output ----------------------------------------------------------------------
outcome() { # runtime, command...: what a user sees of one run
  local rt=$1
  shift
  local out
  out=$(prun podman --rm --runtime "$rt" "$IMAGE" "$@" 2>&1)
  echo "rc=$? out=$(tr '\n' '|' <<<"$out")"
}
cases=("exit 3" "echo out; echo err >&2; exit 0" "kill -9 \$\$" "exit 255")
for c in "${cases[@]}"; do
  check_eq "\"$c\": the plain runtime's status and output" "$(outcome measured-runc sh -c "$c")" \
    "$(outcome runc sh -c "$c")"
done
# A create that fails: podman shows the runtime's own error, from the JSON log it asked for.
a=$(outcome runc /no/such/program)
b=$(outcome measured-runc /no/such/program)
check_eq "a failing create: the runtime's own error, through the JSON log (podman names the runtime)" \
  "${b/Error: measured-runc: /Error: runc: }" "$a"
tap_diag "$b"

# --preserve-fds: podman hands the runtime an extra descriptor, which the workload reads.
fds() { prun podman --rm --runtime "$1" --preserve-fds 1 "$IMAGE" sh -c 'ls /proc/self/fd | tr "\n" " "; cat <&3' 3</etc/hostname 2>&1; }
check_eq "--preserve-fds: the same descriptors, the passed one readable" "$(fds measured-runc)" "$(fds runc)"

# --- a whole life --------------------------------------------------------------------------------
life() { # runtime; prints outcomes, and the container id last
  local rt=$1 c out
  # (podman 4.3 loses the output of a tty container that exits at once, now and then, under
  # plain runc too: 1 run in 20 for either here; the pause lets it arrive)
  out=$(script -qec "podman run --rm -it ${PODMAN_LIMITS[*]} --runtime $rt $IMAGE sh -c 'tty; sleep 0.3; exit 5'" /dev/null)
  echo "tty: rc=$? $(printf '%s' "$out" | tr -d '\r\0' | grep -o '/dev/pts/[0-9]*' | sed 's/[0-9]*$/N/')"
  c=$(prun podman -d --runtime "$rt" "$IMAGE" \
    sh -c 'echo started; trap "exit 7" TERM; while :; do sleep 0.1; done')
  echo "exec: $(podman exec "$c" echo hi) rc=$(podman exec "$c" sh -c 'exit 9'; echo $?)"
  podman exec -d "$c" sh -c 'echo detached > /tmp/d' >/dev/null
  sleep 0.3
  echo "exec -d: $(podman exec "$c" cat /tmp/d)"
  echo "logs: $(podman logs "$c" 2>&1)"
  podman pause "$c" >/dev/null
  echo "paused: $(podman inspect -f '{{.State.Paused}}' "$c")"
  podman unpause "$c" >/dev/null
  echo "unpaused: $(podman inspect -f '{{.State.Paused}} {{.State.Running}}' "$c")"
  podman restart -t 5 "$c" >/dev/null
  echo "restart: $(podman inspect -f '{{.State.Running}}' "$c")"
  sleep 0.3
  podman stop -t 5 "$c" >/dev/null
  echo "stop: $(podman inspect -f '{{.State.ExitCode}}' "$c")"
  podman start "$c" >/dev/null
  sleep 0.3
  podman kill "$c" >/dev/null
  podman wait "$c" >/dev/null
  echo "kill: $(podman inspect -f '{{.State.ExitCode}}' "$c")"
  podman rm -f "$c" >/dev/null
  echo "rm: $(podman ps -aq --filter id="$c" | wc -l)"
  echo "$c"
}
a=$(life runc)
b=$(life measured-runc)
id=$(tail -1 <<<"$b")
check_eq "every step has the plain runtime's outcome" "$(sed '$d' <<<"$b")" "$(sed '$d' <<<"$a")"
tap_diag "$(sed '$d' <<<"$b" | tr '\n' ';')"
recs=$(records_of "$id" 3)
check_eq "three lifecycles (run, restart, start) give three records" "$(wc -l <<<"$recs")" 3
check_eq "every record is complete" "$(record_complete_count <<<"$recs")" 3
check_eq "exit statuses per lifecycle (TERM trapped, TERM trapped, KILL)" \
  "$(jq -r .exit.status <<<"$recs" | tr '\n' ' ')" "7 7 137 "
check_eq "podman's four execs (one detached) are in the first record" \
  "$(head -1 <<<"$recs" | jq '.calls.exec | length')" 4
check_eq "the restart's stop signal is in the first record" \
  "$(head -1 <<<"$recs" | jq -r '.calls.kill[0].signal')" 15
check_eq "the tty run was recorded with its exit code" "$(grep '"args":\["sh","-c","tty; sleep 0.3; exit 5"\]' "$STORE" |
  jq -r 'select(.runtime.name == "runc") | .exit.code' | tail -1)" 5

# --- networks ------------------------------------------------------------------------------------
# A receiver under plain runc counts what arrived; the measured sender's record must agree.
payload=300000
send_and_count() { # network [podman run options]: prints "received record"
  local net=$1 rcv ip got id
  shift
  # (-e: nc's own stdin, /dev/null, would end the connection early)
  rcv=$(prun podman -d --network "$net" --runtime runc "$IMAGE" nc -l -p 5001 -e sh -c 'wc -c >&2')
  ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$rcv")
  sleep 0.3
  id=$(prun podman -d --network "$net" --runtime measured-runc -e MEASURED_LABEL_case="$net" "$@" \
    "$IMAGE" sh -c "sleep 0.3; head -c $payload /dev/zero | nc $ip 5001; sleep 0.3")
  podman wait "$id" >/dev/null
  podman wait "$rcv" >/dev/null
  got=$(podman logs "$rcv" 2>&1 | tr -d ' \n')
  podman rm -f "$rcv" "$id" >/dev/null
  echo "$got $(records_of "$id" | tail -1)"
}
net_checks() { # name, network, want driver, [run options]
  local name=$1 net=$2 driver=$3 out got rec tx conn
  shift 3
  out=$(send_and_count "$net" "$@")
  got=${out%% *}
  rec=${out#* }
  check_eq "$name: the receiver got every byte" "$got" "$payload"
  check_eq "$name: driver" "$(jq -r .network.driver <<<"$rec")" "$driver"
  tap_diag "$name: $(jq -c .network.paths <<<"$rec")"
  tx=$(jq '[.network.counters.links[] | select(.role == "container") | .delta.tx_bytes] | add' <<<"$rec")
  # Every byte once, plus at most 80 bytes of headers a frame (1448-byte segments at least).
  check "$name: the container link sent the payload and its headers ($tx)" \
    test "$tx" -ge "$payload" -a "$tx" -le $((payload + (payload / 1448 + 20) * 80))
  conn=$(jq -c '.flows.top[0] | {direction, bytes_sent}' <<<"$rec")
  check_eq "$name: the connection, opened by the container, its bytes as the receiver counted" \
    "$(jq -c '{direction, ok: (.bytes_sent >= '$payload' and .bytes_sent <= '$payload' + 2)}' <<<"$conn")" \
    '{"direction":"opened","ok":true}'
  tap_diag "$name: tx $tx, connection $conn"
}
net_checks "default bridge" podman bridge
podman network create mtest-net >/dev/null
net_checks "named network" mtest-net bridge
ip link add "$parent" type veth peer name "$parent-p" && ip link set "$parent" up &&
  ip link set "$parent-p" up
podman network create -d macvlan --subnet 198.18.241.0/24 -o parent="$parent" mtest-macvlan >/dev/null
net_checks "macvlan" mtest-macvlan macvlan
check_eq "macvlan: its parent is the veth end" "$(jq -r '.network.topology.paths[0].hops[1].name' <<<"$(grep '"case":"mtest-macvlan"' "$STORE" | tail -1)")" "$parent"

# slirp4netns as root: the TAP and the process behind it, by name and pid.
id=$(prun podman -d --network slirp4netns --runtime measured-runc "$IMAGE" sleep 0.5)
podman wait "$id" >/dev/null
podman rm "$id" >/dev/null
rec=$(records_of "$id" | tail -1)
check_eq "--network slirp4netns: driver and path" \
  "$(jq -c '[.network.driver, .network.paths, .network.topology.relay.process]' <<<"$rec")" \
  '["slirp4netns",["container tap0"],"slirp4netns"]'
check "--network slirp4netns: the relay's pid" test "$(jq '.network.topology.relay.pid' <<<"$rec")" -gt 1

for net in host none; do
  id=$(prun podman -d --network "$net" --runtime measured-runc "$IMAGE" true)
  podman wait "$id" >/dev/null
  podman rm "$id" >/dev/null
  rec=$(records_of "$id" | tail -1)
  check_eq "--network $net: driver" "$(jq -r .network.driver <<<"$rec")" "$net"
  check_eq "--network $net: the record is complete" "$(record_complete_count <<<"$rec")" 1
done

# --- the probe -----------------------------------------------------------------------------------
PROBE_BIN=${MEASURED_PROBE_BIN:-/usr/local/libexec/measured/measured-probe}
refl=$(prun podman -d --runtime runc -v "$PROBE_BIN:/measured-probe:ro" "$IMAGE" /measured-probe reflector)
for _ in $(seq 50); do podman logs "$refl" 2>&1 | grep -q listening && break; sleep 0.1; done
peer=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$refl")
out=$(prun podman --rm --runtime measured-runc -e MEASURED_PROBE=latency -e "MEASURED_PEER=$peer" \
  -e MEASURED_LABEL_case=podman-probe "$IMAGE" sh -c 'echo workload; exit 4')
check_eq "probe: the workload runs as without it" "$out rc=$?" "workload rc=4"
rec=$(grep '"case":"podman-probe"' "$STORE" | tail -1)
check_eq "probe: injected in prelude mode, no error" "$(jq -c '[.probe.injected, .probe.mode, .probe.result.errors]' <<<"$rec")" '[true,"prelude",[]]'
check "probe: TCP round trips measured" test "$(jq '.probe.result.latency.tcp | (.count > 100 and .p50_us > 0)' <<<"$rec")" = true
podman rm -f -t 0 "$refl" >/dev/null

# --- podman's lifecycles and Docker's never mix ------------------------------------------------
# Docker runs runc with --root /var/run/docker/runtime-runc/moby, podman with runc's own: two
# scopes, so the same container id under both engines would be two lifecycles.
p=$(prun podman -d --runtime measured-runc "$IMAGE" sleep 30)
d=$(docker run -d --name mtest-docker --runtime measured-runc "$IMAGE" sleep 30)
key_of() { cat "$(dirname "$(find "$STATE_DIR" -mindepth 2 -maxdepth 2 -name "$1")")/key" | tr '\n' '|'; }
kp=$(key_of "$p")
kd=$(key_of "$d")
check_eq "podman's lifecycle is in runc's own scope" "$kp" "oci|$(readlink -f "$(command -v runc)")|"
check "Docker's is in another, its runtime root's ($kd)" test "$kd" != "$kp" -a "${kd%/moby}" != "$kd"
podman rm -f -t 0 "$p" >/dev/null
docker rm -f mtest-docker >/dev/null
check_eq "both recorded" "$(records_of "$p" | wc -l) $(records_of "$d" | wc -l)" "1 1"
tap_done
