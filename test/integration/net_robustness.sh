#!/bin/bash
# The sampler when the network changes under it: a link renamed, a link deleted, a network
# connected mid-life, a container gone in milliseconds, a link added while the sampling interval
# is stretched (an idle container); and what the sampler holds (no
# inherited descriptors) and how soon it ends. A fake runtime runs the "container" in a
# namespace of ours; the wrapper and its monitor are the real ones.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/fake.sh"
wrapper=${MEASURED_WRAPPER:?set MEASURED_WRAPPER}
[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (network namespaces)"; exit 1; }

ns=mrob$$ hostend=mrh$$ extra=mrx$$
work=$(mktemp -d /tmp/measured-rob-XXXXXX)
cleanup() {
  kill -9 $(cat "$work/all.pids" 2>/dev/null) 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  ip link del "$hostend" 2>/dev/null
  ip link del "$extra" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip link add "$hostend" type veth peer name eth0 netns "$ns"
ip link set "$hostend" up
ip -n "$ns" link set eth0 up
ip -n "$ns" link set lo up

fake_setup fake \
  '{"process":{"args":["c"],"env":["MEASURED_SAMPLE_INTERVAL_MS=100"]},"linux":{"namespaces":[{"type":"network"}]}}' \
  '"sample_interval_ms": 5000'
export FAKE_NETNS=$ns
rec_of() { grep "\"id\":\"$1\"" "$work/samples.jsonl"; }

# --- the monitor holds nothing it inherited ----------------------------------------------------
"${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" r1 | cat
mon=$(for p in /proc/[0-9]*; do ls -l "$p/fd" 2>/dev/null | grep -qE "$work/state/\.scope-[0-9a-f]+/r1/wake" && basename "$p"; done | head -1)
check "the monitor runs" test -n "$mon"
fds=$(ls -l "/proc/$mon/fd" 2>/dev/null | awk 'NR>1 {print $NF}')
check_eq "the monitor holds no pipe (docker run would hang on one)" "$(grep -c 'pipe:' <<<"$fds")" 0
check_eq "its stdio is /dev/null" "$(ls -l /proc/$mon/fd/0 /proc/$mon/fd/1 /proc/$mon/fd/2 | awk '{print $NF}' | sort -u)" /dev/null
check_eq "it leads its own session, detached from the runtime" "$(ps -o sid= -p "$mon" | tr -d ' ')" "$mon"
# Least privilege: of the capabilities only CAP_SYS_ADMIN (bit 21, for setns), in every set;
# no_new_privs; a seccomp filter.
check_eq "it keeps only CAP_SYS_ADMIN, no_new_privs, and a seccomp filter" \
  "$(grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$mon/status" | tr -s '\t' ' ' | tr '\n' ' ')" \
  "CapInh: 0000000000000000 CapPrm: 0000000000200000 CapEff: 0000000000200000 CapBnd: 0000000000200000 CapAmb: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 "

# --- a link renamed, another added then deleted, mid-life --------------------------------------
"${W[@]}" start r1
sleep 0.4
ip -n "$ns" link set eth0 down
ip -n "$ns" link set eth0 name eth9
ip -n "$ns" link set eth9 up
ip link add "$extra" type veth peer name net1 netns "$ns"
ip link set "$extra" up
ip -n "$ns" link set net1 up
sleep 0.5
ip link del "$extra"
sleep 0.4
"${W[@]}" kill r1 KILL
t_kill=$(date +%s%N)
for _ in $(seq 100); do grep -q '"ev":"exit"' "$work"/state/.scope-*/r1/events && break; sleep 0.01; done
t_exit=$(date +%s%N)
check "the sampler ends well within one interval after the init exits (5 s here, took $(((t_exit - t_kill) / 1000000)) ms)" \
  test $(((t_exit - t_kill) / 1000000)) -lt 1000
"${W[@]}" delete r1
rec=$(rec_of r1)
check_eq "a record" "$(jq -r .outcome <<<"$rec")" completed
check_eq "the renamed link is still counted, under its new name too" \
  "$(jq -r '.network.counters.links[] | select(.role == "container" and .name == "eth0") | .renamed_to' <<<"$rec")" eth9
check "the connected network was discovered" test "$(jq .network.discovery.changes <<<"$rec")" -ge 1
check "the deleted link is reported gone" test -n "$(jq -r '.network.counters.links[] | select(.name == "net1") | .gone_at_sample' <<<"$rec")"
check_contains "... and the record says so in words" "$(jq -r '.missed[]' <<<"$rec")" "net1 (container) disappeared at sample"
check "samples at the container's interval (100 ms), not the table's" test "$(jq .network.counters.samples <<<"$rec")" -ge 8

# --- the links deleted under a running container -------------------------------------------------
"${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" r2
"${W[@]}" start r2
sleep 0.3
ip -n "$ns" link del eth9
sleep 0.3
"${W[@]}" kill r2 KILL
sleep 0.2
"${W[@]}" delete r2
rec=$(rec_of r2)
check_eq "links gone: still one record" "$(grep -c '"id":"r2"' "$work/samples.jsonl")" 1
check "links gone: the counters collected before are kept" test "$(jq '.network.counters.links[] | select(.name == "eth9") | .start.tx_bytes' <<<"$rec")" -ge 0
check_contains "links gone: the reason is recorded" "$(jq -r '.missed[]' <<<"$rec")" "eth9 (container) disappeared"
check_eq "links gone: the exit status is still known (the fake runtime's kill sends TERM)" "$(jq .exit.signal <<<"$rec")" 15

# --- a container gone before it could be watched -------------------------------------------------
FAKE_EXIT=0 "${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" r3
kill -9 "$(cat "$work/container.pid")" # dies between create and start
"${W[@]}" start r3
sleep 0.2
"${W[@]}" delete r3
rec=$(rec_of r3)
check_eq "gone at once: one record" "$(grep -c '"id":"r3"' "$work/samples.jsonl")" 1
check_eq "gone at once: its exit is still seen (watched from create on)" "$(jq -c .exit <<<"$rec")" '{"signal":9,"status":137}'
# Its counters' baseline was taken at create, before it could run: they are whole (its namespace
# holds only lo by now: eth9 was deleted under r2).
check "gone at once: its counters run from create to its end" \
  jq -e '.network.counters.samples >= 2 and ([.network.counters.links[] | select(.name == "lo")] | length) == 1' <<<"$rec"
check_eq "gone at once: nothing about the network is missed" \
  "$(jq -c '[.missed[] | select(test("network|counters"))]' <<<"$rec")" "[]"
# --- idle: the interval stretches; a link added then is still found at once --------------------
# (the namespace holds only lo now: nothing moves in it)
"${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" r4
"${W[@]}" start r4
sleep 7.5 # 5 s still, then 200, 400, 800 ms, 1.6 s...
ip link add "$extra" type veth peer name net1 netns "$ns"
sleep 0.6
"${W[@]}" kill r4 KILL
sleep 0.2
"${W[@]}" delete r4
ip link del "$extra" 2>/dev/null
rec=$(rec_of r4)
check "idle: the interval stretched ($(jq -c .network.sampler <<<"$rec"))" \
  jq -e '.network.sampler.interval_ms == 100 and .network.sampler.longest_interval_ms >= 800' <<<"$rec"
check "idle: a link added while it was stretched is discovered at once (changes: $(jq .network.discovery.changes <<<"$rec"))" \
  jq -e '.network.discovery.changes >= 1 and ([.network.counters.links[] | select(.name == "net1")] | length) == 1' <<<"$rec"
check "no crash anywhere (the log has no warning)" test ! -s "$work/log.json"
check_records "every record follows docs/record.schema.json" "$work/samples.jsonl"
tap_done
