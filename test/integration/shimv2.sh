#!/bin/bash
# The shim-v2 wrapper under Debian's containerd (a private instance: its own root, state, socket,
# and runtime table), driven with ctr: containerd-shim-measured-runc-v2 wrapping
# containerd-shim-runc-v2. The container's output and exit status equal the plain shim's, the
# hooks fire (createRuntime, poststart, poststop), every lifecycle gives exactly one record,
# the probe works, and a measurement failure changes nothing for the container.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
command -v containerd >/dev/null && command -v ctr >/dev/null || {
  echo "Bail out! containerd and ctr are needed (apt-get install containerd)"
  exit 1
}
for rt in runc runsc kata; do
  command -v containerd-shim-measured-$rt-v2 >/dev/null ||
    { echo "Bail out! containerd-shim-measured-$rt-v2 is not installed (meson install)"; exit 1; }
done

work=$(mktemp -d /tmp/measured-shimv2-XXXXXX)
ns=measured-test
sock=$work/containerd.sock
cleanup() {
  for id in $(ctr -a "$sock" -n $ns task ls -q 2>/dev/null); do
    ctr -a "$sock" -n $ns task kill -s KILL "$id" >/dev/null 2>&1
  done
  sleep 0.3
  for id in $(ctr -a "$sock" -n $ns containers ls -q 2>/dev/null); do
    ctr -a "$sock" -n $ns task delete -f "$id" >/dev/null 2>&1
    ctr -a "$sock" -n $ns containers delete "$id" >/dev/null 2>&1
  done
  [ -n "${cpid:-}" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
  umount -R "$work/root" 2>/dev/null
  cleanup_containers shimv2
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/table.json" <<JSON
{"state_dir": "$work/mstate", "store": "$work/samples.jsonl", "sample_interval_ms": 100}
JSON
cat >"$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/opt"
TOML
MEASURED_CONFIG=$work/table.json containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
cpid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
check "a private containerd runs" test -S "$sock"
C=(ctr -a "$sock" -n $ns)
docker save "$IMAGE" | "${C[@]}" images import - >/dev/null 2>&1
img=docker.io/$IMAGE:latest
check "the test image is imported" bash -c '"$@" >/dev/null' _ "${C[@]}" images check "name==$img"

MS=io.containerd.measured-runc.v2
PLAIN=io.containerd.runc.v2
jqt() { jq -e "$@" >/dev/null; } # a check on a record
records() { grep -c "\"id\":\"$1\"" "$work/samples.jsonl" 2>/dev/null; }
record() { grep "\"id\":\"$1\"" "$work/samples.jsonl"; }

# --- a short run: output and exit status as with the plain shim, one record ---------------------
out_plain=$("${C[@]}" run --rm --runtime $PLAIN "$img" plain1 sh -c 'echo out; echo err >&2; exit 3' 2>"$work/plain.err")
rc_plain=$?
out=$("${C[@]}" run --rm --runtime $MS "$img" ms1 sh -c 'echo out; echo err >&2; exit 3' 2>"$work/ms.err")
rc=$?
check_eq "exit status as with the plain shim" "$rc" "$rc_plain"
check_eq "exit status 3" "$rc" 3
check_eq "stdout as with the plain shim" "$out" "$out_plain"
check_eq "stderr as with the plain shim" "$(cat "$work/ms.err")" "$(cat "$work/plain.err")"
sleep 0.3
check_eq "one record" "$(records ms1)" 1
rec=$(record ms1)
check_eq "the record: via the shim-v2 wrapper, runc under containerd-shim-runc-v2" \
  "$(jq -c '.runtime | [.name, .via, (.shim | test("containerd-shim-runc-v2$")), (.path | test("runc$"))]' <<<"$rec")" \
  '["runc","shim-v2",true,true]'
check_eq "the record: exit status from the monitor" "$(jq -c .exit <<<"$rec")" '{"code":3,"status":3}'
check "the record: create, start and delete, each from its hook" \
  jqt '.calls.create.us > 0 and .calls.start.us >= 0 and .calls.delete.us >= 0 and .calls.create.overhead_us > 0' <<<"$rec"
check "the record: a lifetime (poststart came before the exit)" jqt '.lifetime_us > 0' <<<"$rec"
check_eq "the record: nothing missed" "$(jq -c .missed <<<"$rec")" '[]'
check "no state left behind (the runtime version cache aside)" \
  test -z "$(find "$work/mstate" -mindepth 2 -maxdepth 2 -path "$work/mstate/.scope-*" ! -name key)"

# --- a detached lifecycle: exec, kill, delete; the hooks in the spec -----------------------------
"${C[@]}" run -d --runtime $MS "$img" ms2 sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' >/dev/null
sleep 0.5
spec=$work/state/io.containerd.runtime.v2.task/$ns/ms2/config.json
check_eq "the spec has measured's hooks last in createRuntime, poststart, poststop" \
  "$(jq -c '[.hooks.createRuntime[-1].args[1], .hooks.poststart[-1].args[1], .hooks.poststop[-1].args[1]]' "$spec")" \
  '["create-runtime","poststart","poststop"]'
check_eq "the hooks run the wrapper binary" "$(jq -r '.hooks.poststart[-1].path' "$spec")" \
  "$(readlink -f "$(command -v containerd-shim-measured-runc-v2)")"
eout=$("${C[@]}" task exec --exec-id e1 ms2 sh -c 'echo in-exec; exit 2' 2>&1)
erc=$?
check_eq "exec: output and status" "$eout/$erc" "in-exec/2"
"${C[@]}" task kill -s TERM ms2
for _ in $(seq 50); do
  [ "$("${C[@]}" task ls | awk '$1 == "ms2" {print $3}')" = STOPPED ] && break
  sleep 0.1
done
"${C[@]}" task delete ms2 >/dev/null 2>&1
"${C[@]}" containers delete ms2
sleep 0.3
check_eq "one record for the lifecycle" "$(records ms2)" 1
check_eq "the exit status after TERM" "$(record ms2 | jq -c .exit)" '{"code":7,"status":7}'

# --- the probe, in prelude mode, against a reflector ----------------------------------------------
peer=$(docker run -d --label measured-test=shimv2 --runtime=runc -v "$PROBE_BIN:/p:ro" "$IMAGE" /p reflector)
peer_ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$peer")
sleep 0.3
pout=$("${C[@]}" run --rm --net-host --env MEASURED_PROBE=latency,bandwidth --env "MEASURED_PEER=$peer_ip" \
  --runtime $MS "$img" ms3 sh -c 'echo "$0 $*"; exit 5' a b 2>&1)
prc=$?
check_eq "probed: the workload's own output and status" "$pout/$prc" "a b/5"
sleep 0.3
prec=$(record ms3)
check "probed: latency and bandwidth in the record" \
  jqt '.probe.injected and .probe.result.latency.tcp.count > 0 and .probe.result.bandwidth.bits_per_s > 0' <<<"$prec"
check_eq "probed: the record shows the container's own args" "$(jq -c .container.args <<<"$prec")" \
  '["sh","-c","echo \"$0 $*\"; exit 5","a","b"]'
"${C[@]}" run --rm --env MEASURED_PROBE=latency --env "MEASURED_PEER=$peer_ip" --runtime $MS "$img" ms4 /no/such >/dev/null 2>&1
check_eq "probed, a missing program: exit 127, as a shell says it" "$?" 127

# --- failures change nothing for the container ------------------------------------------------------
cp "$work/table.json" "$work/table.good"
echo '{"state_dir": "/proc/no-such-dir/x", "store": "/proc/no-such-dir/s.jsonl"}' >"$work/table.json"
out=$("${C[@]}" run --rm --runtime $MS "$img" ms5 sh -c 'echo still; exit 4' 2>&1)
check_eq "no state directory, no store: the container runs as ever" "$out/$?" "still/4"
sleep 0.3
check_contains "and the shim's log (containerd's) says why, once per failure" \
  "$(grep 'measured:' "$work/containerd.log" | tail -3)" "the container is not affected"
echo '{"runtimes": {"runc": {"path": "runc", "shim": "/no/such/shim"}}}' >"$work/table.json"
"${C[@]}" run --rm --runtime $MS "$img" ms6 true >"$work/ms6.out" 2>&1
check "a table naming a missing shim: the run fails" test $? -ne 0
check_contains "and says what is missing" "$(cat "$work/ms6.out")" "/no/such/shim"
cp "$work/table.good" "$work/table.json"
check_records "every record follows docs/record.schema.json" "$work/samples.jsonl"
tap_done
