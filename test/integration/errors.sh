#!/bin/bash
# Errors of the wrapper itself reach the user through Docker; failures of measurement never
# change what the container does.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
trap 'cleanup_containers errors; restore_table; restore_daemon_json; rm -f /usr/local/bin/measured-nope /usr/local/bin/measured-ghost /usr/local/bin/measured-rostore' EXIT

set_table '{"runtimes": {
  "ghost": {"path": "/opt/nowhere/runc"},
  "rostore": {"path": "runc", "store": "/proc/measured-test/samples.jsonl"}
}}'
for n in nope ghost rostore; do ln -sf measured-wrapper /usr/local/bin/measured-$n; done
save_daemon_json
jq '.runtimes["measured-nope"] = {"path": "/usr/local/bin/measured-nope"}
  | .runtimes["measured-ghost"] = {"path": "/usr/local/bin/measured-ghost"}
  | .runtimes["measured-rostore"] = {"path": "/usr/local/bin/measured-rostore"}' \
  "$DAEMON_JSON" >"$DAEMON_JSON.tmp" && mv "$DAEMON_JSON.tmp" "$DAEMON_JSON"
reload_engine_until 'has("measured-nope") and has("measured-ghost") and has("measured-rostore")'

out=$(docker run --rm --label measured-test=errors --runtime=measured-nope "$IMAGE" true 2>&1)
check_eq "an unknown runtime name fails the run" "$?" 125
check_contains "... and Docker shows why" "$out" 'measured: unknown runtime "nope"'
out=$(docker run --rm --label measured-test=errors --runtime=measured-ghost "$IMAGE" true 2>&1)
check_eq "a missing real runtime fails the run" "$?" 125
check_contains "... and Docker shows why" "$out" 'real runtime /opt/nowhere/runc is not an executable file'

before=$(ls -d $STATE_GLOB/.unstored-* 2>/dev/null | wc -l)
out=$(docker run --label measured-test=errors --name errors-ro-$$ --runtime=measured-rostore "$IMAGE" sh -c 'echo fine; exit 4' 2>&1)
rc=$?
check_eq "an unwritable store does not change the exit status" "$rc" 4
check_eq "... nor the output" "$out" "fine"
docker rm errors-ro-$$ >/dev/null
for _ in $(seq 50); do
  [ "$(ls -d $STATE_GLOB/.unstored-* 2>/dev/null | wc -l)" -gt "$before" ] && break
  sleep 0.1
done
check "... and the record is kept in the state directory" test "$(ls -d $STATE_GLOB/.unstored-* 2>/dev/null | wc -l)" -gt "$before"
rm -rf $STATE_GLOB/.unstored-*

# A broken table is a wrapper error: the user must learn of it at once.
set_table '{"runtimes": {"runc": {"path": "runc",}}}'
out=$(docker run --rm --label measured-test=errors --runtime=measured-runc "$IMAGE" true 2>&1)
check_eq "a malformed runtime table fails the run" "$?" 125
check_contains "... naming the file and position" "$out" "/etc/measured/measured.json: line 1, column 39"
restore_table
check_eq "runs again once the table is fixed" "$(docker run --rm --runtime=measured-runc "$IMAGE" echo ok)" ok
tap_done
