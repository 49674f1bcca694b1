#!/bin/bash
# Calls Docker never makes through the wrapper, made directly: they reach the real runtime
# unchanged and give its answers.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
work=$(mktemp -d /tmp/measured-pass-XXXXXX)
trap 'cleanup_containers passthrough; rm -rf "$work"' EXIT
W=/usr/local/bin/measured-runc
R=$(command -v runc)
ROOT=/var/run/docker/runtime-runc/moby

check_eq "--version" "$($W --version)" "$($R --version)"
check_eq "--help" "$($W --help)" "$($R --help)"
check_eq "help of a subcommand" "$($W create --help)" "$($R create --help)"
(cd "$work" && mkdir a b && cd a && $W spec && cd ../b && $R spec)
check_eq "spec writes the same config.json" "$(cat "$work/a/config.json")" "$(cat "$work/b/config.json")"
$W --bogus-flag list >"$work/w.out" 2>&1
w_rc=$?
$R --bogus-flag list >"$work/r.out" 2>&1
r_rc=$?
check_eq "an unknown flag gets the runtime's own answer" "$w_rc $(sed 's/time="[^"]*"//' "$work/w.out")" \
  "$r_rc $(sed 's/time="[^"]*"//' "$work/r.out")"
$W features >"$work/w.out" 2>&1
w_rc=$?
$R features >"$work/r.out" 2>&1
r_rc=$?
check_eq "features" "$w_rc $(cat "$work/w.out")" "$r_rc $(cat "$work/r.out")"

c=$(docker run -d --label measured-test=passthrough --runtime=measured-runc "$IMAGE" sleep 30)
check_eq "state of a running container" "$($W --root $ROOT state "$c" | jq -c 'del(.created)')" \
  "$($R --root $ROOT state "$c" | jq -c 'del(.created)')"
check_eq "list" "$($W --root $ROOT list -q | sort)" "$($R --root $ROOT list -q | sort)"
check_eq "ps" "$($W --root $ROOT ps --format json "$c")" "$($R --root $ROOT ps --format json "$c")"
$W --root $ROOT events --stats "$c" >"$work/ev" 2>&1
check_contains "events --stats" "$(cat "$work/ev")" '"type":"stats"'
$W --root $ROOT state nosuch >/dev/null 2>&1
check_eq "errors of the runtime keep their status" "$?" "$($R --root $ROOT state nosuch >/dev/null 2>&1; echo $?)"
docker rm -f "$c" >/dev/null
tap_done
