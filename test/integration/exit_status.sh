#!/bin/bash
# docker run through measured-runc behaves as through runc: exit statuses, output, and one
# complete record per run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
marker=$(mktemp)
trap 'cleanup_containers exit_status; rm -f "$marker"' EXIT

run_rc() { # runtime, command...
  local rt=$1
  shift
  docker run --rm --label measured-test=exit_status --runtime="$rt" "$IMAGE" "$@" >/dev/null 2>&1
  echo $?
}

for cmd in "exit 0" "exit 3" "sh -c 'kill -9 \$\$'" "exit 255"; do
  want=$(run_rc runc sh -c "$cmd")
  got=$(run_rc measured-runc sh -c "$cmd")
  check_eq "exit status of '$cmd' matches runc ($want)" "$got" "$want"
done
check_eq "a missing command fails as with runc" "$(run_rc measured-runc /no/such/binary)" \
  "$(run_rc runc /no/such/binary)"

err_file=$(mktemp)
out=$(docker run --rm --runtime=measured-runc "$IMAGE" sh -c 'echo out; echo err >&2' 2>"$err_file")
check_eq "stdout reaches the user unchanged" "$out" "out"
check_eq "stderr reaches the user unchanged" "$(cat "$err_file")" "err"
rm -f "$err_file"
in_meas=$(echo "piped input" | docker run --rm -i --runtime=measured-runc "$IMAGE" cat)
check_eq "stdin reaches the container" "$in_meas" "piped input"

name=exit-status-$$
docker run --name "$name" --label measured-test=exit_status --runtime=measured-runc "$IMAGE" \
  sh -c 'exit 3' >/dev/null 2>&1
id=$(full_id "$name")
docker rm "$name" >/dev/null
check_eq "one record for the run" "$(record_count "$id")" 1
rec=$(records_of "$id")
check "the record is complete" record_complete <<<"$rec"
check_eq "the record holds the exit code" "$(jq -r .exit.code <<<"$rec")" 3
check_eq "the record names the runtime" "$(jq -r .runtime.name <<<"$rec")" runc
check_eq "the record holds the process args" "$(jq -c .container.args <<<"$rec")" '["sh","-c","exit 3"]'
check_eq "the record holds the network mode" "$(jq -r .container.netns.mode <<<"$rec")" new
check "the record holds a create time" test "$(jq -r .calls.create.us <<<"$rec")" -gt 0
check "the record holds a lifetime" test "$(jq -r .lifetime_us <<<"$rec")" -gt 0
check "the record holds host context at start" test "$(jq -r '.context.start.loadavg|length' <<<"$rec")" = 3
check_eq "nothing was missed" "$(jq -c .missed <<<"$rec")" '[]'

id=$(docker run -d --label measured-test=exit_status --runtime=measured-runc \
  -e MEASURED_LABEL_workload=web -e MEASURED_LABEL_rep=7 --network host "$IMAGE" true)
docker wait "$id" >/dev/null
docker rm "$id" >/dev/null
rec=$(records_of "$id")
check_eq "labels come from MEASURED_LABEL_ variables" "$(jq -cS .labels <<<"$rec")" '{"rep":"7","workload":"web"}'
check_eq "--network host is recorded as host" "$(jq -r .container.netns.mode <<<"$rec")" host
# Docker 20.10 names the host's namespace by a path; Docker 26 leaves the namespace out.
case $(docker version -f '{{.Server.Version}}') in
20.*) want_path=/var/run/docker/netns/default ;;
*) want_path=null ;;
esac
check_eq "... with the path Docker gave, if any ($want_path)" "$(jq -r .container.netns.path <<<"$rec")" "$want_path"
check_eq "no state is left for removed containers" \
  "$(lifecycle_entries_newer "$marker")" ""
tap_done
