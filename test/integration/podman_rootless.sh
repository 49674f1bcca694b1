#!/bin/bash
# Rootless podman (a user, its subordinate ids, slirp4netns): measured installs into the user's
# own configuration, runs as the user (uid 0 of podman's user namespace), keeps its state and
# store in the user's places, and measures the container's TAP (driver "slirp4netns", the process
# that reads it), its counters and
# connections against what the far end received; runc and crun behave as without measured; a
# rootless call with no XDG_RUNTIME_DIR says why nothing is measured.
#
# The user is made here (measured-rootless, ids 300000-365535). Debian's udev makes /dev/net/tun
# 0666 (slirp4netns opens it as the user); a machine without udev may leave it 0600: made 0666.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/podman.sh"
require_podman
user=measured-rootless
work=$(mktemp -d /tmp/measured-rootless-XXXXXX)
chmod 1777 "$work"
sinklog=$work/sink.log
trap 'kill $sink 2>/dev/null; rm -rf "$work"' EXIT

why=""
for tool in newuidmap newgidmap slirp4netns; do
  command -v "$tool" >/dev/null || why="${why}$tool is not installed (Debian: uidmap, slirp4netns); "
done
if [ -n "$why" ]; then
  echo "Bail out! rootless podman cannot run here: $why"
  exit 1
fi
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
grep -q "^$user:" /etc/subuid || echo "$user:300000:65536" >>/etc/subuid
grep -q "^$user:" /etc/subgid || echo "$user:300000:65536" >>/etc/subgid
[ "$(stat -c %a /dev/net/tun)" = 666 ] || chmod 0666 /dev/net/tun
uid=$(id -u "$user")
home=$(getent passwd "$user" | cut -d: -f6)
run_dir=/run/user/$uid
mkdir -p "$run_dir" && chown "$user:" "$run_dir" && chmod 700 "$run_dir"
as_user() { # command line, run by the user in a login shell with its runtime directory; its status
  su - "$user" -c "export XDG_RUNTIME_DIR=$run_dir; $1" 2>&1 | { grep -v 'is not a shared mount' || true; }
  return "${PIPESTATUS[0]}"
}
store=$home/.local/share/measured/samples.jsonl
check_eq "podman runs rootless for $user" "$(as_user 'podman info --format {{.Host.Security.Rootless}}')" true
if ! as_user "podman image exists $IMAGE" >/dev/null; then
  podman save -q "$IMAGE" -o "$work/image.tar" >/dev/null 2>&1 && chmod 644 "$work/image.tar"
  as_user "podman load -q -i $work/image.tar" >/dev/null
fi
check "the image is in the user's store" as_user "podman image exists $IMAGE"

# --- registration in the user's configuration ----------------------------------------------------
out=$(as_user "/usr/local/bin/measured install --engine podman --runtime runc --runtime crun")
tap_diag "$(tr '\n' ';' <<<"$out")"
check_contains "install writes the user's drop-in" "$out" \
  "wrote $home/.config/containers/containers.conf.d/measured.conf"
check_contains "the user's podman confirms it" "$out" \
  "podman runs measured-runc as /usr/local/bin/measured-runc"

# --- a container, rootless ------------------------------------------------------------------------
outcome() { # runtime, shell command
  local out
  out=$(as_user "podman run --rm ${PODMAN_LIMITS[*]} --runtime $1 $IMAGE sh -c '$2'; echo rc=\$?")
  tr '\n' '|' <<<"$out"
}
for c in "exit 3" "echo out; echo err >&2; exit 0"; do
  check_eq "runc, \"$c\": as without measured" "$(outcome measured-runc "$c")" "$(outcome runc "$c")"
done
a=$(outcome crun "exit 0")
b=$(outcome measured-crun "exit 0")
check_eq "crun: as without measured (whatever crun says of this machine's cgroups)" \
  "${b//measured-crun/crun}" "$a"
tap_diag "crun: $a"

# A sink on the host counts what the container sent through slirp4netns (which connects from the
# user's own process: to an address of the host other than loopback).
gw=$(ip -4 -o addr show docker0 | awk '{print $4}' | cut -d/ -f1)
port=$((20000 + RANDOM % 10000))
python3 "$here/../helpers/tcpsink.py" "$gw" "$port" "$sinklog" &
sink=$!
sleep 0.5
payload=500000
out=$(as_user "podman run --rm ${PODMAN_LIMITS[*]} --runtime measured-runc -e MEASURED_LABEL_case=rootless $IMAGE \
  sh -c 'sleep 0.5; head -c $payload /dev/zero | nc $gw $port; sleep 0.5; exit 6'; echo rc=\$?")
check_eq "the workload's exit status" "$(tail -1 <<<"$out")" rc=6
sleep 0.3
received=$(awk '{print $2}' "$sinklog" | tail -1)
check_eq "the sink got every byte" "$received" "$payload"
rec=$(grep '"case":"rootless"' "$store" 2>/dev/null | tail -1)
check "the record is in the user's store ($store)" test -n "$rec"
check_eq "the record is complete, with the exit status" \
  "$(jq -c '[.outcome, .exit.code, .missed]' <<<"$rec")" '["completed",6,[]]'
check_eq "its state was the user's (XDG_RUNTIME_DIR)" "$(stat -c %U "$run_dir/measured")" "$user"
check_eq "driver: slirp4netns, the process that reads the TAP" \
  "$(jq -c '[.network.driver, .network.paths, .network.topology.relay.process]' <<<"$rec")" \
  '["slirp4netns",["container tap0"],"slirp4netns"]'
tx=$(jq '[.network.counters.links[] | select(.name == "tap0") | .delta.tx_bytes] | add' <<<"$rec")
check "the TAP sent the payload and its headers ($tx)" \
  test "$tx" -ge "$payload" -a "$tx" -le $((payload + (payload / 1000 + 20) * 80))
conn=$(jq -c '.flows.top[0] | {direction, bytes_sent, views}' <<<"$rec")
check_eq "the connection, seen by both views, its bytes as the sink counted (and SYN, FIN)" \
  "$(jq -c '{direction, bytes_sent, views}' <<<"$conn")" \
  "{\"direction\":\"opened\",\"bytes_sent\":$((payload + 2)),\"views\":[\"socket\",\"packet\"]}"
tap_diag "tap0 tx $tx; $conn"
check_records "every record in the user's store follows docs/record.schema.json" "$store"

# --- what measured says when it cannot know where its files go ----------------------------------
out=$(su - "$user" -c "env -u XDG_RUNTIME_DIR /usr/local/bin/measured-runc --log $work/log.json \
  --log-format json create --bundle /nonexistent mtest-x" 2>&1)
check_contains "no XDG_RUNTIME_DIR: one clear line, the container is not measured" \
  "$(chmod 644 "$work/log.json" 2>/dev/null; cat "$work/log.json" 2>/dev/null)" \
  "rootless, and XDG_RUNTIME_DIR is not set to an absolute path: no state directory; container mtest-x is not measured"
as_user "/usr/local/bin/measured uninstall --engine podman" >/dev/null
tap_done
