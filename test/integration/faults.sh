#!/bin/bash
# Faults, through the real engine: the wrapper SIGKILLed during create, during start (between
# the runtime's create and start) and during delete; the monitor (the sampler) killed before
# start and while the container runs; the engine restarted while containers run; the state
# directory removed under a running container; the store on a full filesystem. In every case
# the exit status Docker reports is the one plain runc gives under the same fault, nothing
# hangs, no measured process outlives its container, stale state is reclaimed by `measured gc`,
# and the record (when one can be written) names what was missed.
# Covered elsewhere: a read-only store (errors.sh), the netns deleted early (net_robustness.sh),
# the reflector down or hanging (probe.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
MEASURED=${MEASURED_CLI:-/usr/local/bin/measured}
work=$(mktemp -d /tmp/measured-faults-XXXXXX)
cleanup() {
  touch "$work/release"
  cleanup_containers faults
  restore_table
  restore_daemon_json
  umount "$work/full" 2>/dev/null
  rm -f /usr/local/bin/measured-faulty /usr/local/bin/measured-fullstore
  rm -rf "$work"
}
trap cleanup EXIT

# A runc that stalls before a subcommand when a file asks it to (once), so that a test can kill
# whoever called it at that point: $work/stall-<sub> asks, $work/stalled-<sub> holds "pid ppid
# id". (The engine holds the container's lock meanwhile: `docker inspect` would wait.)
cat >"$work/stall-runc" <<EOF
#!/bin/bash
for a in "\$@"; do
  case \$a in create | start | delete) sub=\$a; break ;; esac
done
if [ -n "\${sub:-}" ] && rm "$work/stall-\$sub" 2>/dev/null; then
  echo "\$\$ \$PPID \${!#}" >"$work/stalled-\$sub"
  for _ in \$(seq 100); do [ -e "$work/release" ] && break; sleep 0.1; done
fi
exec runc "\$@"
EOF
chmod 755 "$work/stall-runc"
mkdir -p "$work/full"
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$work/full"
set_table "{\"runtimes\": {
  \"faulty\": {\"path\": \"$work/stall-runc\"},
  \"fullstore\": {\"path\": \"runc\", \"store\": \"$work/full/samples.jsonl\"}}}"
for n in faulty fullstore; do ln -sf measured-wrapper /usr/local/bin/measured-$n; done
save_daemon_json
jq --arg s "$work/stall-runc" '.runtimes["measured-faulty"] = {"path": "/usr/local/bin/measured-faulty"}
  | .runtimes["measured-fullstore"] = {"path": "/usr/local/bin/measured-fullstore"}
  | .runtimes["stall-plain"] = {"path": $s}' "$DAEMON_JSON" >"$DAEMON_JSON.tmp" &&
  mv "$DAEMON_JSON.tmp" "$DAEMON_JSON"
reload_engine_until 'has("measured-faulty") and has("measured-fullstore") and has("stall-plain")' ||
  { echo "Bail out! the engine did not load the test runtimes"; exit 1; }

R=(--label measured-test=faults)
# The processes that hold something of the lifecycle's state open (its monitor).
holders_of() { # id
  local p
  for p in /proc/[0-9]*; do
    ls -l "$p/fd" 2>/dev/null | grep -qE "$STATE_DIR/\.scope-[0-9a-f]+/$1" && echo "${p#/proc/}"
  done
}
# The lifecycle's monitor: the one process that keeps its monitor.lock open (a call's own
# short-lived children, slower on a loaded machine, hold the state directory too).
monitor_of() { # id
  local p
  for p in /proc/[0-9]*; do
    ls -l "$p/fd" 2>/dev/null | grep -qE "$STATE_DIR/\.scope-[0-9a-f]+/$1/monitor\.lock" && echo "${p#/proc/}"
  done
}
# Nothing of the lifecycle left: no process naming it, no state directory.
measured_procs_of() { # id: measured's own processes naming it (the engine's shim is not ours)
  local p
  for p in $(pgrep -f "$1"); do
    case $(cat "/proc/$p/comm" 2>/dev/null) in measured-*) echo "$p" ;; esac
  done
}
gone_without_trace() { # id
  local left
  left="$(holders_of "$1") $(measured_procs_of "$1") $(ls -d $STATE_GLOB/"$1" $STATE_GLOB/.*-"$1"-* 2>/dev/null)"
  [ -z "${left// /}" ] || { tap_diag "left behind: $left"; return 1; }
}
wait_for_file() { # path
  for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done
  return 1
}
# Runs `docker run` with the runtime stalled before <sub>, SIGKILLs the wrapper (or, for the
# plain runtime, the runtime itself) there, lets it go on; prints "rc=<status>" and the output.
run_killed_at() { # sub runtime name command...
  local sub=$1 rt=$2 name=$3
  shift 3
  rm -f "$work/release" "$work/stalled-$sub"
  touch "$work/stall-$sub"
  timeout 60 docker run "${R[@]}" --name "$name" --runtime="$rt" "$IMAGE" "$@" >"$work/$name.out" 2>&1 &
  local job=$!
  if wait_for_file "$work/stalled-$sub"; then
    local pid ppid
    read -r pid ppid _ <"$work/stalled-$sub"
    if [ "$rt" = stall-plain ]; then kill -9 "$pid"; else kill -9 "$ppid"; fi
    # Did the runtime die with whoever called it (before it is released)?
    local state=alive
    for _ in $(seq 20); do # gone, or a zombie its new parent has not reaped yet
      case $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) in "" | Z | X) state=gone; break ;; esac
      sleep 0.1
    done
    echo "$state" >"$work/$name.runtime"
  fi
  touch "$work/release"
  wait "$job"
  echo "rc=$? $(grep -o 'exit status [0-9]*' "$work/$name.out" | head -1)"
}
# containerd may keep the shim of a task whose runtime call was killed (Docker 20.10 after a
# killed start, 26 after a killed delete), for plain runc as for measured, depending on timing
# inside the engine: not measured's to assert on. Counted for the log, then removed.
remove_engine_leftovers() { # plain-id our-id
  sleep 1 # a shim on its way out is not left behind
  tap_diag "shims the engine kept: plain $(pgrep -fc "containerd-shim.* -id $1"), measured $(pgrep -fc "containerd-shim.* -id $2")"
  pkill -9 -f "containerd-shim.* -id ($1|$2)"
}
# After a pair killed at the same point: both containers and the engine's leftovers removed;
# sets id and plain_id.
remove_killed_pair() { # plain-name our-name
  plain_id=$(full_id "$1")
  id=$(full_id "$2")
  docker rm "$1" "$2" >/dev/null 2>&1
  remove_engine_leftovers "$plain_id" "$id"
}
# A lifecycle whose wrapper was killed gets its one record from the engine's next delete or,
# when the engine calls none after the kill (it depends on the engine and on timing), from
# measured gc.
check_recorded_by_delete_or_gc() { # id
  sleep 0.5
  if [ "$(record_count "$1" 0)" = 0 ]; then
    check "... its state waits for measured gc" bash -c 'compgen -G "$1" >/dev/null' _ "$STATE_GLOB/$1"
    check_contains "... which records it" "$("$MEASURED" gc --min-age 0)" \
      "$1: its container is gone and no delete came"
  else
    check "... its state was recorded by the engine's next delete" bash -c '! compgen -G "$1" >/dev/null' _ "$STATE_GLOB/$1"
    check_eq "... the record has the delete" "$(records_of "$1" | jq -r '.calls.delete | type')" object
  fi
  check_eq "... exactly one record" "$(record_count "$1")" 1
}
record_missed() { records_of "$1" | jq -r '.missed | join("; ")'; }

# --- the wrapper killed during create ------------------------------------------------------
plain=$(run_killed_at create stall-plain faults-cp sh -c 'exit 3')
ours=$(run_killed_at create measured-faulty faults-cm sh -c 'exit 3')
check_eq "killed during create: Docker reports what it reports for plain runc" \
  "${ours/measured-faulty/}" "${plain/stall-runc/}"
check_contains "... a failed create, the runtime killed" "$ours" "exit status 137"
check_eq "... the real runtime died with the wrapper, as plain runc dies when it is killed" \
  "$(cat "$work/faults-cm.runtime")" gone
remove_killed_pair faults-cp faults-cm
check "... and leaves no state and no process behind" gone_without_trace "$id"
tap_diag "(a create killed before the runtime returned has no record: measured had seen nothing)"

# --- the wrapper killed during start: the runtime's create is done, its start is not ---------
plain=$(run_killed_at start stall-plain faults-sp sh -c 'exit 3')
ours=$(run_killed_at start measured-faulty faults-sm sh -c 'exit 3')
check_eq "killed during start: Docker reports what it reports for plain runc" "$ours" "$plain"
check_eq "... the real runtime died with the wrapper" "$(cat "$work/faults-sm.runtime")" gone
remove_killed_pair faults-sp faults-sm
check_recorded_by_delete_or_gc "$id"
# The real runtime died with the wrapper, as runc killed there dies: the container never ran,
# and the engine killed what runc had created (SIGKILL). Docker reports that status, or, when it
# took the start's failure first, its own 125 (not the container's).
status=$(records_of "$id" | jq -c .exit.status)
if [ "${ours%% *}" = rc=125 ]; then
  check_eq "... and the exit status the container had: killed, as the engine killed it" "$status" 137
else
  check_eq "... and the exit status the container had, as Docker reported it" "rc=$status" "${ours%% *}"
fi
check "... no state and no process behind" gone_without_trace "$id"

# --- the monitor killed between the runtime's create and start ------------------------------
rm -f "$work/release" "$work/stalled-start"
touch "$work/stall-start"
timeout 60 docker run "${R[@]}" --name faults-mon --runtime=measured-faulty "$IMAGE" \
  sh -c 'echo ran; exit 4' >"$work/mon.out" 2>&1 &
job=$!
wait_for_file "$work/stalled-start"
read -r _ _ id <"$work/stalled-start"
monitor=$(monitor_of "$id")
check "the monitor runs between create and start" test -n "$monitor"
kill -9 $monitor 2>/dev/null
touch "$work/release"
wait "$job"
check_eq "monitor killed before start: the container runs as ever" "$? $(cat "$work/mon.out")" "4 ran"
docker rm faults-mon >/dev/null
check_eq "... one record" "$(record_count "$id")" 1
check_contains "... which says the exit status was not observed" "$(record_missed "$id")" \
  "exit status: the monitor recorded no exit"
check "... no state and no process behind" gone_without_trace "$id"

# --- the sampler (the monitor) killed while the container runs -------------------------------
id=$(docker run -d "${R[@]}" --runtime=measured-runc "$IMAGE" sh -c 'sleep 2; exit 5')
for _ in $(seq 50); do monitor=$(monitor_of "$id"); [ -n "$monitor" ] && break; sleep 0.1; done
check "the monitor runs" test -n "$monitor"
kill -9 $monitor 2>/dev/null
check_eq "sampler killed: docker wait gives the container's status" "$(timeout 30 docker wait "$id")" 5
docker rm "$id" >/dev/null
check_eq "... one record" "$(record_count "$id")" 1
check_contains "... which names the counters and exit it lost" "$(record_missed "$id")" \
  "exit status: the monitor recorded no exit; network counters: the monitor stopped before the container ended"
check "... no state and no process behind" gone_without_trace "$id"

# --- the wrapper killed during delete ---------------------------------------------------------
plain=$(run_killed_at delete stall-plain faults-dp sh -c 'exit 6')
ours=$(run_killed_at delete measured-faulty faults-dm sh -c 'exit 6')
check_eq "killed during delete: the exit status Docker reports is plain runc's" \
  "${ours%% *}" "${plain%% *}"
check_eq "... the container's own" "${ours%% *}" "rc=6"
check_eq "... the real runtime died with the wrapper" "$(cat "$work/faults-dm.runtime")" gone
remove_killed_pair faults-dp faults-dm
check_recorded_by_delete_or_gc "$id"
check_eq "... with the container's exit status" "$(records_of "$id" | jq -c .exit.status)" 6
check "... no state and no process behind" gone_without_trace "$id"

# --- the state directory removed under a running container -----------------------------------
id=$(docker run -d "${R[@]}" --runtime=measured-runc "$IMAGE" sh -c 'sleep 2; exit 5')
for _ in $(seq 50); do compgen -G "$STATE_GLOB/$id" >/dev/null && break; sleep 0.1; done
rm -rf "${STATE_DIR:?}"/.scope-*/"$id"
check_eq "state removed: docker wait gives the container's status" "$(timeout 30 docker wait "$id")" 5
check_eq "... docker rm works" "$(docker rm "$id" 2>&1)" "$id"
sleep 0.5
check "... no state and no process behind" gone_without_trace "$id"
tap_diag "(with its state gone the lifecycle has nothing to record: the delete finds none, silently)"

# --- the store on a full filesystem -----------------------------------------------------------
dd if=/dev/zero of="$work/full/filler" bs=4k count=64 2>/dev/null
out=$(timeout 60 docker run "${R[@]}" --name faults-full --runtime=measured-fullstore "$IMAGE" sh -c 'echo fine; exit 4' 2>&1)
check_eq "store full: the run's status and output are the container's" "$? $out" "4 fine"
id=$(full_id faults-full)
docker rm faults-full >/dev/null
for _ in $(seq 50); do ls -d $STATE_GLOB/.unstored-"$id"-* >/dev/null 2>&1 && break; sleep 0.1; done
check "... the record waits in the state directory" bash -c 'compgen -G "$1" >/dev/null' _ "$STATE_GLOB/.unstored-$id-*"
rm -f "$work/full/filler"
out=$("$MEASURED" gc --min-age 0)
check_contains "once there is room, measured gc stores it" "$out" "stored the waiting record"
check_eq "... one record in that store" "$(grep -c "\"id\":\"$id\"" "$work/full/samples.jsonl")" 1
check "... a complete one" bash -c "grep '\"id\":\"$id\"' '$work/full/samples.jsonl' | jq -e '$RECORD_COMPLETE' >/dev/null"
check "... no state and no process behind" gone_without_trace "$id"

# --- the engine restarted while containers run ------------------------------------------------
# Without live-restore the engine stops its containers on the way down (SIGTERM, then SIGKILL).
workload='trap "exit 7" TERM; sleep 60 & wait'
plain=$(docker run -d "${R[@]}" --runtime=runc "$IMAGE" sh -c "$workload")
ours=$(docker run -d "${R[@]}" --runtime=measured-runc "$IMAGE" sh -c "$workload")
sleep 1
restart_engine
check "the engine restarted" bash -c "docker info >/dev/null 2>&1"
codes() { docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1"; }
check_eq "engine restart: the measured container ended as the plain one did" "$(codes "$ours")" "$(codes "$plain")"
plain_code=$(docker inspect -f '{{.State.ExitCode}}' "$plain")
docker rm "$plain" "$ours" >/dev/null
check_eq "... one record" "$(record_count "$ours")" 1
check_eq "... with the status of the stop" "$(records_of "$ours" | jq -c .exit.status)" "$plain_code"
check "... no state and no process behind" gone_without_trace "$ours"
check_eq "after all of it, a plain run through measured" \
  "$(timeout 60 docker run --rm --runtime=measured-runc "$IMAGE" echo ok)" ok
tap_done
