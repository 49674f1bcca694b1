#!/bin/bash
# What measured-runc adds to each OCI call, without an engine in between: lifecycles of a
# `sleep` container (a bundle of the tools image, its own empty network namespace) alternate
# between runc, a bare wrapper and measured-runc, called as containerd's shim calls them (create
# with --pid-file, start, state, kill, delete). The bare wrapper (test/bench/bare_wrapper.c) only
# runs runc and waits: what it adds is the floor of any wrapper on this machine (one more exec,
# start-up and exit). Prints, per call, the median wall time of each, the median difference to
# runc of the bare wrapper's and of measured's (the whole added cost: the wrapper's exec, its
# work before and after the real call), and the wrapper's own time as the records report it (its
# work before and after the real call: the kernel's exec of the wrapper is not in it). `state` is
# a pass-through call.
# Issue 15's targets: the record's own time <= 150 us for create, <= 100 us for start and kill,
# <= 300 us for delete; a pass-through call <= 0.3 ms over the real runtime.
# Reports; never fails on timing.
#   usage: wrapper-calls.sh [CYCLES]      (default 30; CI runs it with 3)
# MEASURED_BARE_WRAPPER: the built bare wrapper (default build/test/bare-wrapper); without it the
# bare column is left out, said so.
set -euo pipefail
cycles=${1:-30}
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
store=${MEASURED_STORE:-/var/lib/measured/samples.jsonl}
wrapper=${MEASURED_WRAPPER:-measured-runc}
work=$(mktemp -d /tmp/measured-calls.XXXXXX)
bare_built=${MEASURED_BARE_WRAPPER:-$(dirname "$0")/../../build/test/bare-wrapper}
bare=
if [ -x "$bare_built" ]; then
  bare=$work/bare-runc # the wrapper runs the runtime its name gives
  ln -s "$(realpath "$bare_built")" "$bare"
else
  echo "no bare wrapper at $bare_built (build the project, or set MEASURED_BARE_WRAPPER): its column is left out"
fi
tag="calls-$$-$(date +%s)"
# A lifecycle cut short (an error, ^C) is deleted by the runtime that created it, so that
# neither runc nor measured keeps a container or a state behind.
cleanup() {
  local rt id
  for rt in runc "$wrapper" ${bare:+"$bare"}; do
    for id in $(runc --root "$work/root-${rt##*/}" list -q 2>/dev/null); do
      "$rt" --root "$work/root-${rt##*/}" delete -f "$id" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/stats.sh"

# The bundle: the image's files and runc's default spec (new namespaces, network included).
mkdir -p "$work/bundle/rootfs"
cid=$(docker create "$image" true)
docker export "$cid" | tar -C "$work/bundle/rootfs" -x
docker rm "$cid" >/dev/null
(cd "$work/bundle" && runc spec)
jq --arg tag "$tag" '.process.args = ["sleep", "600"] | .process.terminal = false
  | .process.env += ["MEASURED_LABEL_bench=" + $tag]' "$work/bundle/config.json" >"$work/c.json"
mv "$work/c.json" "$work/bundle/config.json"

# usec: microseconds of one call, from bash's clock (no process of its own in the timing).
usec() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>>"$work/errors"
  local t1=$EPOCHREALTIME
  echo $(((${t1/./} - ${t0/./})))
}

lifecycle() { # runtime id -> "create start state kill delete" microseconds
  local rt=$1 id=$2 root=$work/root-${1##*/} c s q k d
  c=$(usec "$rt" --root "$root" create --bundle "$work/bundle" --pid-file "$work/$id.pid" "$id")
  s=$(usec "$rt" --root "$root" start "$id")
  q=$(usec "$rt" --root "$root" state "$id")
  k=$(usec "$rt" --root "$root" kill "$id" KILL)
  # delete comes once the container has ended, as the engine calls it after the exit.
  for _ in $(seq 100); do
    runc --root "$root" state "$id" 2>/dev/null | grep -q '"status": "stopped"' && break
    sleep 0.02
  done
  d=$(usec "$rt" --root "$root" delete "$id")
  echo "$c $s $q $k $d"
}

echo "warming up (1 lifecycle each)"
lifecycle runc "warm-runc-$$" >/dev/null
lifecycle "$wrapper" "warm-m-$$" >/dev/null
[ -z "$bare" ] || lifecycle "$bare" "warm-b-$$" >/dev/null

# Each line: runc's five calls, measured's five, the bare wrapper's five (or five dashes).
: >"$work/pairs"
for i in $(seq "$cycles"); do
  a=$(lifecycle runc "c$i-runc-$$")
  c="- - - - -"
  [ -z "$bare" ] || c=$(lifecycle "$bare" "c$i-b-$$")
  b=$(lifecycle "$wrapper" "c$i-m-$$")
  echo "$a $b $c" >>"$work/pairs"
done

calls=(create start state kill delete)
echo
printf '%-8s %10s %10s %14s %12s %12s %16s\n' call "runc (us)" "bare (us)" "$wrapper (us)" \
  "bare added" "added (us)" "record's own (us)"
sleep 1
recs=$(grep -F "\"bench\":\"$tag\"" "$store" | grep -v '"id":"warm-' || true)
for i in "${!calls[@]}"; do
  call=${calls[$i]}
  a=$(awk -v k=$((i + 1)) '{print $k}' "$work/pairs" | median)
  b=$(awk -v k=$((i + 6)) '{print $k}' "$work/pairs" | median)
  added=$(awk -v k=$((i + 1)) '{print $(k + 5) - $k}' "$work/pairs" | median)
  c=-
  floor=-
  if [ -n "$bare" ]; then
    c=$(awk -v k=$((i + 11)) '{print $k}' "$work/pairs" | median)
    floor=$(awk -v k=$((i + 1)) '{print $(k + 10) - $k}' "$work/pairs" | median)
  fi
  own="-"
  case $call in
  create | start | delete) own=$(jq -r ".calls.$call.overhead_us" <<<"$recs" | median) ;;
  kill) own=$(jq -r '.calls.kill[0].overhead_us' <<<"$recs" | median) ;;
  esac
  printf '%-8s %10s %10s %14s %12s %12s %16s\n' "$call" "$a" "$c" "$b" "$floor" "$added" "$own"
done
echo "($cycles lifecycles each, alternating; $(wc -l <<<"$recs") records of $wrapper found)"
if [ -s "$work/errors" ]; then
  echo "calls that wrote to stderr:"
  sort "$work/errors" | uniq -c | head -5
fi
