#!/bin/bash
# The wrapper against a fake runtime: pass-through fidelity (argv, stdin, exit status, death by
# signal, forwarded signals), wrapper errors in runc's log format, and the lifecycle record.
# No Docker and no root needed (as root, the exit status is observed too).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"

wrapper=${MEASURED_WRAPPER:?set MEASURED_WRAPPER to the measured-wrapper binary}
work=$(mktemp -d /tmp/measured-functional-XXXXXX)
trap 'kill -9 $(cat "$work/all.pids" 2>/dev/null) 2>/dev/null; rm -rf "$work"' EXIT
export FAKE_DIR=$work
ln -s "$wrapper" "$work/measured-fake"
ln -s "$wrapper" "$work/measured-fakeargs"
ln -s "$wrapper" "$work/measured-nope"
ln -s "$wrapper" "$work/measured-self"
ln -s "$wrapper" "$work/measured-ro"
cat >"$work/table.json" <<JSON
{
  "state_dir": "$work/state",
  "store": "$work/store/samples.jsonl",
  "runtimes": {
    "fake": {"path": "$here/fake-runtime.sh"},
    "fakeargs": {"path": "$here/fake-runtime.sh", "args": ["--network=host", "--x y"]},
    "self": {"path": "$wrapper"},
    "ro": {"path": "$here/fake-runtime.sh", "store": "/proc/measured-test/samples.jsonl"}
  },
  "probe_binary": "${MEASURED_PROBE_BINARY:-/nonexistent}"
}
JSON
export MEASURED_CONFIG=$work/table.json
calls() { cat "$work/calls.log" 2>/dev/null; }
reset_calls() { : >"$work/calls.log"; }
store_lines() { cat "$work/store/samples.jsonl" 2>/dev/null | wc -l; }
record_of() { grep "\"id\":\"$1\"" "$work/store/samples.jsonl"; }
field() { jq -c -r "$1"; }

# --- pass-through fidelity -------------------------------------------------------------------
reset_calls
"$work/measured-fake" --root /r --weird-flag "a b" "" state --frob 'x"y' cid
check_eq "pass-through keeps every argument byte for byte" "$(calls)" \
  'CALL [--root] [/r] [--weird-flag] [a b] [] [state] [--frob] [x"y] [cid]'
reset_calls
"$work/measured-fakeargs" --version
check_eq "table arguments go first, the caller's follow unchanged" "$(calls)" \
  'CALL [--network=host] [--x y] [--version]'
echo "stdin-data" | "$work/measured-fake" state cid
check_eq "stdin reaches the real runtime" "$(cat "$work/stdin.log")" "stdin-data"
FAKE_EXIT=42 "$work/measured-fake" state cid
check_eq "pass-through exit status" "$?" 42
FAKE_EXIT=3 "$work/measured-fake" --log "$work/log.json" --log-format json start cid
check_eq "measured call exit status" "$?" 3
FAKE_SIGNAL=SEGV "$work/measured-fake" start cid 2>/dev/null
check_eq "death by signal is mirrored (SIGSEGV)" "$?" $((128 + 11))
FAKE_SIGNAL=TERM "$work/measured-fake" kill cid 2>/dev/null
check_eq "death by signal is mirrored (SIGTERM)" "$?" $((128 + 15))
check "a mirrored crash leaves no core file of the wrapper" test ! -e core

# --- signal forwarding -------------------------------------------------------------------------
reset_calls
rm -f "$work/trap-ready"
FAKE_TRAP=1 "$work/measured-fake" start cid &
wpid=$!
for _ in $(seq 50); do [ -e "$work/trap-ready" ] && break; sleep 0.1; done
kill -USR1 $wpid
sleep 0.3
kill -TERM $wpid
wait $wpid
rc=$?
check_eq "wrapper exits as the runtime did after forwarded SIGTERM" "$rc" 0
check_contains "SIGUSR1 forwarded to the runtime" "$(calls)" "USR1"
check_contains "SIGTERM forwarded to the runtime" "$(calls)" "TERM"

# --- wrapper errors ------------------------------------------------------------------------------
rm -f "$work/log.json"
out=$("$work/measured-nope" --log "$work/log.json" --log-format json create --bundle "$work" cid 2>&1)
rc=$?
check_eq "unknown runtime name fails" "$rc" 1
check_contains "unknown runtime is explained on stderr" "$out" 'unknown runtime "nope"'
logline=$(tail -1 "$work/log.json")
check_contains "unknown runtime is in the --log file as a runc JSON error" "$logline" '"level":"error","msg":"measured: unknown runtime \"nope\"'
out=$("$work/measured-self" state cid 2>&1)
check_contains "a table entry pointing at measured itself is refused" "$out" "is measured itself"
echo '{"runtimes": {"fake": {"path": "x", }}}' >"$work/bad-table.json"
out=$(MEASURED_CONFIG=$work/bad-table.json "$work/measured-fake" --log "$work/log2.txt" create --bundle "$work" cid 2>&1)
check_eq "a malformed table fails a new container's create" "$?" 1
check_contains "malformed table error names file and position" "$out" "bad-table.json: line 1, column 37"
check_contains "text log format when --log-format is not json" "$(cat "$work/log2.txt")" 'level=error msg="measured: '
echo '{"runtimes": {"fake": {"path": "fake-runtime.sh"}}}' >"$work/byname-table.json"
out=$(MEASURED_CONFIG=$work/byname-table.json PATH=/nonexistent "$work/measured-fake" state cid 2>&1)
check_contains "missing real runtime is explained" "$out" 'runtime "fake": real runtime "fake-runtime.sh"'
out=$("$wrapper" state cid 2>&1)
check_contains "the bare wrapper explains how to call it" "$out" "run me as measured-<runtime>"

# --- one lifecycle, one record --------------------------------------------------------------------
mkdir -p "$work/bundle"
cat >"$work/bundle/config.json" <<'JSON'
{"ociVersion":"1.0.2","hostname":"box","process":{"args":["sh","-c","exit 3"],
 "env":["PATH=/bin","MEASURED_LABEL_suite=functional"]},
 "linux":{"namespaces":[{"type":"pid"},{"type":"network"}]}}
JSON
log="$work/bundle/log.json"
W=("$work/measured-fake" --root "$work/root" --log "$log" --log-format json)
"${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" life1
check_eq "create succeeds" "$?" 0
check "state directory exists after create, in the scope of its runtime and root" \
  test -d "$work"/state/.scope-*/life1
check_eq "state directory is private" "$(stat -c %a "$work/state")" 700
"${W[@]}" start life1
"${W[@]}" exec --detach --pid-file "$work/p" life1
"${W[@]}" kill life1 SIGTERM
sleep 0.2
"${W[@]}" delete life1
check_eq "delete succeeds" "$?" 0
FAKE_EXIT=1 "${W[@]}" delete --force life1
check_eq "a second delete (Docker deletes twice) fails as the runtime does" "$?" 1
check_eq "exactly one record for the lifecycle" "$(record_of life1 | wc -l)" 1
rec=$(record_of life1)
check_eq "record: schema first" "$(echo "$rec" | cut -c1-11)" '{"schema":2'
check_eq "record: runtime name" "$(echo "$rec" | field .runtime.name)" fake
check_eq "record: args" "$(echo "$rec" | field .container.args)" '["sh","-c","exit 3"]'
check_eq "record: netns mode" "$(echo "$rec" | field .container.netns.mode)" new
check_eq "record: label" "$(echo "$rec" | field .labels.suite)" functional
check_eq "record: one exec" "$(echo "$rec" | field '.calls.exec | length')" 1
check_eq "record: kill signal" "$(echo "$rec" | field '.calls.kill[0].signal')" SIGTERM
check "record: create timing" test "$(echo "$rec" | field .calls.create.us)" -gt 0
ovh=$(echo "$rec" | field .calls.start.overhead_us)
check "record: the wrapper's own time in start (${ovh} us) is there and under 10 s" \
  test "$ovh" -gt 0 -a "$ovh" -lt 10000000
check "record: lifetime" test "$(echo "$rec" | field .lifetime_us)" -gt 0
check "record: host load at start" test "$(echo "$rec" | field .context.start.loadavg)" != null
if [ "$(id -u)" = 0 ]; then
  check_eq "record: exit by SIGTERM observed" "$(echo "$rec" | field .exit.signal)" 15
else
  check_contains "record: unobservable exit is named" "$(echo "$rec" | field .missed)" "exit status"
fi
check_eq "no state left after delete" "$(ls -A "$work"/state/.scope-* | grep -vE '^(key|.*:)$')" ""

# --- a table broken while a container runs breaks nothing that runs --------------------------------
cp "$work/table.json" "$work/live-table.json"
LW=("$work/measured-fake" --root "$work/root" --log "$work/live.log" --log-format json)
MEASURED_CONFIG=$work/live-table.json "${LW[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/live.pid" live1
MEASURED_CONFIG=$work/live-table.json "${LW[@]}" start live1
echo '{"runtimes": {"fake": ' >"$work/live-table.json" # a typo made while it runs
MEASURED_CONFIG=$work/live-table.json "${LW[@]}" state live1 >/dev/null
check_eq "broken table: a pass-through call of a running container still works" "$?" 0
MEASURED_CONFIG=$work/live-table.json "${LW[@]}" kill live1 KILL
check_eq "... its kill too" "$?" 0
sleep 0.2
FAKE_EXIT=0 MEASURED_CONFIG=$work/live-table.json "${LW[@]}" delete live1
check_eq "... and its delete" "$?" 0
check_eq "... which records it, with the table that parsed last" "$(record_of live1 | wc -l)" 1
check_eq "... one warning line per call" \
  "$(grep -c 'using the last runtime table that parsed' "$work/live.log")" 3
MEASURED_CONFIG=$work/live-table.json "${LW[@]}" create --bundle "$work/bundle" live2 2>/dev/null
check_eq "... while a new container's create is refused" "$?" 1

# --- measurement failures never change the outcome ------------------------------------------------
"$work/measured-ro" --log "$log" --log-format json create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" ro1
"$work/measured-ro" --log "$log" --log-format json start ro1
FAKE_EXIT=0 "$work/measured-ro" --log "$log" --log-format json delete ro1
check_eq "delete with an unwritable store still succeeds" "$?" 0
check_eq "unwritable store: one warning in the runtime log" "$(grep -c 'record not written' "$log")" 1
check "unwritable store: the record is kept for later" test -f "$work"/state/.scope-*/.unstored-ro1-*/record.json

FAKE_EXIT=1 "${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/init.pid" bad1
check_eq "failed create keeps its status" "$?" 1
check_eq "failed create: one record" "$(record_of bad1 | field .outcome)" create_failed
check "failed create: no state left" bash -c "! compgen -G '$work/state/.scope-*/bad1'"

# The same id under two runtime roots (two engines on one host) is two lifecycles, never one.
R1=("$work/measured-fake" --root "$work/rootA" --log "$log" --log-format json)
R2=("$work/measured-fake" --root "$work/rootB" --log "$log" --log-format json)
"${R1[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/a.pid" twin
"${R2[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/b.pid" twin
check_eq "the same id under two roots: two lifecycles" "$(ls -d "$work"/state/.scope-*/twin | wc -l)" 2
"${R1[@]}" kill twin KILL
sleep 0.2
FAKE_EXIT=0 "${R1[@]}" delete twin
check_eq "... deleting one records one" "$(record_of twin | wc -l)" 1
check_eq "... and leaves the other's lifecycle alone" "$(ls -d "$work"/state/.scope-*/twin | wc -l)" 1
"${R2[@]}" kill twin KILL
sleep 0.2
FAKE_EXIT=0 "${R2[@]}" delete twin
check_eq "... whose own delete records it: two records" "$(record_of twin | wc -l)" 2
check_eq "... each with its own create" "$(record_of twin | jq -r .created_at | sort -u | wc -l)" 2

"${W[@]}" create --bundle "$work/bundle" "../escape"
check_eq "an id that cannot name a directory passes through" "$?" 0
check_contains "an unusable id is reported" "$(tail -1 "$log")" "cannot name a state directory"
check "nothing was created outside the state directory" test ! -e "$work/escape"

# --- the spec: untouched unless a probe is asked for ----------------------------------------------
mkdir -p "$work/pbundle/rootfs/bin"
printf '#!/bin/sh\n' >"$work/pbundle/rootfs/bin/app" && chmod +x "$work/pbundle/rootfs/bin/app"
spec() { # env entries (JSON strings, comma separated)
  printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["app","x"],"env":["PATH=/bin"%s]},"mounts":[{"destination":"/dev","type":"tmpfs","source":"tmpfs"}],"linux":{"namespaces":[{"type":"network"}]}}' "$1" \
    >"$work/pbundle/config.json"
}
pcreate() { "${W[@]}" create --bundle "$work/pbundle" --pid-file "$work/pbundle/init.pid" "$1"; }
pend() { "${W[@]}" kill "$1"; sleep 0.1; "${W[@]}" delete "$1"; }

# A privileged container given the host's /dev: nothing is mounted there.
printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["app"],"env":["MEASURED_PROBE=latency","MEASURED_PEER=10.0.0.1"]},"mounts":[{"destination":"/dev","type":"bind","source":"/dev","options":["rbind","rw"]}],"linux":{"namespaces":[{"type":"network"}]}}' \
  >"$work/pbundle/config.json"
cp "$work/pbundle/config.json" "$work/config.orig"
pcreate pdev
check "the host's /dev bound in: the runtime gets config.json byte for byte" cmp -s "$work/config.orig" "$work/config.seen"
pend pdev
check_contains "... and the record says why it was not probed" "$(record_of pdev | field .probe.why_not)" \
  "the container's /dev is a bind mount"

spec ""
cp "$work/pbundle/config.json" "$work/config.orig"
pcreate p0
check "no probe asked: the runtime gets config.json byte for byte" cmp -s "$work/config.orig" "$work/config.seen"
pend p0
check_eq "no probe asked: the record says nothing of a probe" "$(record_of p0 | field .probe)" null

spec ',"MEASURED_PROBE=latency","MEASURED_PEER=not-an-ip"'
cp "$work/pbundle/config.json" "$work/config.orig"
pcreate p1
check "an invalid probe setting leaves config.json byte for byte" cmp -s "$work/config.orig" "$work/config.seen"
check_contains "... warns in the runtime log" "$(tail -1 "$log")" "container p1 is not probed: MEASURED_PEER=not-an-ip"
pend p1
check_contains "... and the record says why" "$(record_of p1 | field .probe.why_not)" "MEASURED_PEER=not-an-ip"

spec ',"MEASURED_PROBE=latency,bandwidth","MEASURED_PEER=127.0.0.1:9","MEASURED_PROBE_BUDGET_MS=500"'
pcreate p2
seen=$(cat "$work/config.seen")
if [ "$(id -u)" = 0 ] && [ -n "${MEASURED_PROBE_BINARY:-}" ]; then
  check_eq "probe asked: the prelude runs first, the original args after --" \
    "$(jq -c '.process.args | [.[0], .[1], (index("--") as $i | .[$i+1:])]' <<<"$seen")" \
    '["/dev/.measured-probe","prelude",["app","x"]]'
  check_eq "probe asked: the probe binary is mounted read-only, nosuid, nodev" \
    "$(jq -c '.mounts[] | select(.destination == "/dev/.measured-probe") | [.source, .options]' <<<"$seen")" \
    "[\"$MEASURED_PROBE_BINARY\",[\"bind\",\"ro\",\"nosuid\",\"nodev\"]]"
  out_src=$(jq -r '.mounts[] | select(.destination == "/dev/.measured-out") | .source' <<<"$seen")
  check_eq "probe asked: the result channel is a small tmpfs of its own" \
    "$(findmnt -n -o FSTYPE,OPTIONS "$out_src" | grep -o 'tmpfs.*size=256k' | cut -c1-5)" tmpfs
  check_eq "probe asked: every other key of the spec is kept" \
    "$(jq -cS 'del(.process.args, .mounts)' <<<"$seen")" "$(jq -cS 'del(.process.args, .mounts)' "$work/pbundle/config.json")"
  pend p2
  check "the channel is unmounted after delete" bash -c "! findmnt -n '$out_src' >/dev/null"
  check_eq "the record shows the container's own args, not the prelude" "$(record_of p2 | field .container.args)" '["app","x"]'
  check_eq "the record has the probe's plan" "$(record_of p2 | field '.probe | [.mode, .tests, .peer, .injected]')" \
    '["prelude","latency,bandwidth","127.0.0.1:9",true]'
  check_contains "nobody ran the probe (a fake runtime): the record says so" "$(record_of p2 | field .probe.why)" "left no result"
else
  tap_skip "probe injection" "needs root (it mounts the result channel) and MEASURED_PROBE_BINARY"
  pend p2
fi

spec ',"MEASURED_PROBE=latency","MEASURED_PEER=127.0.0.1"'
jq -c '.process.args = ["nosuch"]' "$work/pbundle/config.json" >"$work/c" && mv "$work/c" "$work/pbundle/config.json"
cp "$work/pbundle/config.json" "$work/config.orig"
pcreate p3
check "a program missing from the image: no prelude, the runtime reports it" cmp -s "$work/config.orig" "$work/config.seen"
pend p3

check_records "every record follows docs/record.schema.json" "$work/store/samples.jsonl"
tap_done
