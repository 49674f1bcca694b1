#!/bin/bash
# A whole container life through measured-runc and measured-runsc, each compared with the plain
# runtime: tty, exec, logs, pause, update, restart, stop, kill, rm -f. Same outcomes, and one
# complete record per lifecycle (a restart makes two).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
trap 'cleanup_containers lifecycle; restore_daemon_json; rm -f "$marker"' EXIT
marker=$(mktemp)

# What a user sees of one life, as one line per step; the same for a runtime and its wrapper.
life() { # runtime; prints outcomes, and the container id last
  local rt=$1 c out
  out=$(script -qec "docker run --rm -it --runtime=$rt $IMAGE sh -c 'tty; exit 5'" /dev/null)
  echo "tty: rc=$? $(printf '%s' "$out" | tr -d '\r\0' | grep -o '/dev/pts/[0-9]*' | sed 's/[0-9]*$/N/')"
  c=$(docker run -d --label measured-test=lifecycle --runtime="$rt" "$IMAGE" \
    sh -c 'echo started; trap "exit 7" TERM; while :; do sleep 0.1; done')
  echo "exec: $(docker exec "$c" echo hi) rc=$(docker exec "$c" sh -c 'exit 9'; echo $?)"
  sleep 0.3
  echo "logs: $(docker logs "$c" 2>&1)"
  docker pause "$c" >/dev/null
  echo "paused: $(docker inspect -f '{{.State.Paused}}' "$c")"
  docker unpause "$c" >/dev/null
  echo "unpaused: $(docker inspect -f '{{.State.Paused}} {{.State.Running}}' "$c")"
  docker update --memory 64m --memory-swap 128m "$c" >/dev/null 2>&1
  echo "update: rc=$? $(docker inspect -f '{{.HostConfig.Memory}}' "$c")"
  docker restart -t 5 "$c" >/dev/null
  echo "restart: $(docker inspect -f '{{.State.Running}} {{.RestartCount}}' "$c")"
  sleep 0.3
  docker stop -t 5 "$c" >/dev/null
  echo "stop: $(docker inspect -f '{{.State.ExitCode}}' "$c")"
  docker start "$c" >/dev/null
  sleep 0.3
  docker kill "$c" >/dev/null
  docker wait "$c" >/dev/null
  echo "kill: $(docker inspect -f '{{.State.ExitCode}}' "$c")"
  docker rm -f "$c" >/dev/null
  echo "rm: $(docker ps -aq --filter id="$c" | wc -l)"
  echo "$c"
}

compare_lives() { # measured runtime, plain runtime, short name
  local measured=$1 plain=$2 name=$3 a b id recs
  a=$(life "$plain")
  b=$(life "$measured")
  id=$(tail -1 <<<"$b")
  check_eq "$name: every step has the plain runtime's outcome" "$(sed '$d' <<<"$b")" "$(sed '$d' <<<"$a")"
  tap_diag "$(sed '$d' <<<"$b" | tr '\n' ';')"
  recs=$(records_of "$id" 3)
  check_eq "$name: three lifecycles (run, restart, start) give three records" "$(wc -l <<<"$recs")" 3
  check "$name: every record is complete" record_complete <<<"$recs"
  check_eq "$name: execs are in the first record" "$(head -1 <<<"$recs" | jq '.calls.exec|length')" 2
  check_eq "$name: the restart's stop signal is in the first record" \
    "$(head -1 <<<"$recs" | jq -r '.calls.kill[0].signal')" 15
  check_eq "$name: exit statuses per lifecycle" "$(jq -r .exit.status <<<"$recs" | tr '\n' ' ')" "7 7 137 "
  check_eq "$name: exactly three records" "$(grep -c "\"id\":\"$id\"" "$STORE")" 3
  check_eq "$name: the tty run was recorded too" "$(grep '"args":\["sh","-c","tty; exit 5"\]' "$STORE" | \
    jq -r "select(.runtime.name == \"${measured#measured-}\") | .exit.code" | tail -1)" 5
}

compare_lives measured-runc runc runc
register_plain_runtime runsc-plain /usr/bin/runsc --network=host
compare_lives measured-runsc runsc-plain runsc
check_eq "no state left behind" "$(lifecycle_entries_newer "$marker")" ""
tap_done
