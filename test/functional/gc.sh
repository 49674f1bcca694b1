#!/bin/bash
# measured gc against state left as faults leave it (a fake runtime, no Docker): a lifecycle
# whose delete never came, a delete killed after claiming, a record that could not be stored, a
# stored one not yet removed; what still runs or is young is left alone; --dry-run changes
# nothing; the wrapper's own delete runs a small gc when the last one is old enough.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/fake.sh"
wrapper=${MEASURED_WRAPPER:?set MEASURED_WRAPPER}
measured=${MEASURED_CLI:?set MEASURED_CLI}
work=$(mktemp -d /tmp/measured-gc-XXXXXX)
trap 'kill -9 $(cat "$work/all.pids" 2>/dev/null) 2>/dev/null; rm -rf "$work"' EXIT
fake_setup fake '{"ociVersion":"1.0.2","process":{"args":["app"]}}'
records() { grep -c "\"id\":\"$1\"" "$work/samples.jsonl" 2>/dev/null; }
record() { grep "\"id\":\"$1\"" "$work/samples.jsonl"; }
begin() { # id: created and started, container running
  "${W[@]}" create --bundle "$work/bundle" --pid-file "$work/bundle/$1.pid" "$1"
  "${W[@]}" start "$1"
}
container_gone() { # id: its init dies, no delete follows (the engine or the wrapper died)
  kill -9 "$(cat "$work/bundle/$1.pid")"
  sleep 0.3
}
old() { touch -d '2 hours ago' "$S/$1" "$S/$1/events" 2>/dev/null; }

# A lifecycle whose container is gone and whose delete never came.
begin lost1
container_gone lost1
S=$(state_scope)
# A delete killed right after claiming (its pid no longer runs).
begin claimed1
container_gone claimed1
mv "$S/claimed1" "$S/.claimed-claimed1-999999"
# A record that could not be stored.
mkdir -p "$S/.unstored-waiting1-1"
# (a record as the wrapper writes it: the benchmark's template of a real one)
sed -e 's/@ID@/waiting1/; s/@RT@/fake/; s/@PAIR@/bridge\/bridge/; s/@LOAD@/none/' \
  -e 's/@DRV@/bridge/; s/@[A-Z0-9_]*@/1000/g' "$here/../bench/record-template.json" |
  jq -c . >"$S/.unstored-waiting1-1/record.json"
# A stored record whose directory was not removed yet.
mkdir -p "$S/.recorded-done1-1"
# Still running; and gone but young.
begin running1
begin young1
container_gone young1
old lost1
old running1

out=$("$measured" gc --dry-run --min-age 600)
check_contains "--dry-run says what it would do" "$out" "would have: 2 lifecycle(s) recorded, 1 waiting record(s) stored"
check_eq "--dry-run writes no record" "$(cat "$work/samples.jsonl" 2>/dev/null | wc -l)" 0
check "--dry-run removes nothing" test -d "$S/lost1" -a -d "$S/.claimed-claimed1-999999"

out=$("$measured" gc --min-age 600)
check_contains "gc: the summary" "$out" "2 lifecycle(s) recorded, 1 waiting record(s) stored, 4 directorie(s) removed, 2 left"
check_eq "lost1: one record" "$(records lost1)" 1
rec=$(record lost1)
check_contains "lost1: the record says the delete was not observed, and why" \
  "$(jq -c .missed <<<"$rec")" "delete: not observed (its container is gone and no delete came); recorded by measured gc"
check_eq "lost1: no delete call, the exit status from the monitor" \
  "$(jq -c '[.calls.delete, .exit.signal, (.lifetime_us > 0)]' <<<"$rec")" '[null,9,true]'
check_eq "claimed1: recorded" "$(record claimed1 | jq -r '.missed[0]')" \
  "delete: not observed (the delete that claimed it did not finish); recorded by measured gc"
check_eq "waiting1: stored" "$(records waiting1)" 1
check_eq "done1: not recorded again" "$(records done1)" 0
check_eq "gone: the reclaimed directories" \
  "$(ls -A "$S" | grep -v '^key$' | sort | tr '\n' ' ')" "running1 young1 "
check_eq "running1 and young1: no record" "$(records running1)$(records young1)" "00"

# A second gc finds nothing more; the running one ends normally later.
out=$("$measured" gc --min-age 600)
check_contains "a second gc: nothing to do" "$out" "0 lifecycle(s) recorded, 0 waiting record(s) stored, 0 directorie(s) removed"
"${W[@]}" kill running1 KILL
"${W[@]}" delete running1
check_eq "running1: recorded once, by its own delete" "$(records running1)" 1

# A delete killed after its append, before its rename: the record is in the store already, and
# the delete noted where it would land. gc must not store it a second time.
begin dup1
container_gone dup1
cp -a "$S/dup1" "$work/dup1.copy"
offset=$(stat -c %s "$work/samples.jsonl")
"${W[@]}" delete dup1
check_eq "dup1: recorded by its delete" "$(records dup1)" 1
check "... and its state removed" test ! -e "$S/dup1"
mv "$work/dup1.copy" "$S/.claimed-dup1-999998"
echo "$offset" >"$S/.claimed-dup1-999998/store-offset"
out=$("$measured" gc --min-age 600)
check_contains "gc finds the record stored" "$out" ".claimed-dup1-999998: already stored by the delete that claimed it"
check_eq "dup1: still one record" "$(records dup1)" 1
check "... and the directory gone" test ! -e "$S/.claimed-dup1-999998"
# The same, but the delete died before its append: gc records it.
begin dup2
container_gone dup2
mv "$S/dup2" "$S/.claimed-dup2-999997"
stat -c %s "$work/samples.jsonl" >"$S/.claimed-dup2-999997/store-offset"
"$measured" gc --min-age 600 >/dev/null
check_eq "dup2: the offset noted, no record after it: recorded by gc" "$(records dup2)" 1

# The wrapper's delete runs a small gc when the last one is old enough: young1, made old, goes.
old young1
touch -d '1 hour ago' "$work/state/.gc-stamp"
begin trigger1
"${W[@]}" kill trigger1 KILL
"${W[@]}" delete trigger1
check_eq "opportunistic gc after a delete: young1 recorded" "$(records young1)" 1
check "... and its directory removed" test ! -e "$S/young1"
check "... and the stamp renewed" test "$(($(date +%s) - $(stat -c %Y "$work/state/.gc-stamp")))" -lt 60

out=$("$measured" gc --min-age abc 2>&1)
check_eq "a bad --min-age is a usage error" "$?" 2
check_records "every record gc and the wrapper wrote follows docs/record.schema.json" "$work/samples.jsonl"
tap_done
