#!/bin/bash
# A stand-in OCI runtime for testing the wrapper without Docker. It records how it was called
# and behaves as told through FAKE_* variables (which the wrapper passes through untouched).
#   FAKE_DIR      where to record calls (calls.log) and keep the "container" pid
#   FAKE_EXIT     exit with this status            FAKE_SIGNAL  die of this signal instead
#   FAKE_TRAP     on start: wait for signals, log each, exit on TERM
#   FAKE_NETNS    create: run the "container" inside this named network namespace
set -u
log="$FAKE_DIR/calls.log"
{
  printf 'CALL'
  for a in "$@"; do printf ' [%s]' "$a"; done
  printf '\n'
} >>"$log"

sub=""
prev=""
for a in "$@"; do
  case $a in
  create | start | exec | kill | delete | state | --version | spec) sub=$a; break ;;
  esac
done

pid_file=""
bundle=.
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--pid-file" ] && pid_file=${args[$((i + 1))]}
  [ "${args[$i]}" = "--bundle" ] && bundle=${args[$((i + 1))]}
done

case $sub in
create)
  cp "$bundle/config.json" "$FAKE_DIR/config.seen" # what the runtime was given
  if [ -n "${FAKE_NETNS:-}" ]; then
    ip netns exec "$FAKE_NETNS" sleep 600 </dev/null >/dev/null 2>&1 &
    # As a real runtime, return only once the "container" is in its namespace.
    for _ in $(seq 100); do
      [ "$(readlink /proc/$!/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
      sleep 0.01
    done
  else
    sleep 600 </dev/null >/dev/null 2>&1 &
  fi
  echo $! >>"$FAKE_DIR/all.pids"
  echo $! >"$FAKE_DIR/container.pid"
  [ -n "$pid_file" ] && echo $! >"$pid_file"
  ;;
start)
  if [ -n "${FAKE_TRAP:-}" ]; then
    trap 'echo USR1 >>"$log"' USR1
    trap 'echo TERM >>"$log"; exit 0' TERM
    echo ready >"$FAKE_DIR/trap-ready"
    for _ in $(seq 100); do sleep 0.1; done
  fi
  ;;
kill)
  kill "$(cat "$FAKE_DIR/container.pid")" 2>/dev/null
  ;;
delete)
  kill -9 "$(cat "$FAKE_DIR/container.pid")" 2>/dev/null
  ;;
state)
  cat >>"$FAKE_DIR/stdin.log"
  ;;
esac
[ -n "${FAKE_SIGNAL:-}" ] && kill -s "$FAKE_SIGNAL" $$
exit "${FAKE_EXIT:-0}"
