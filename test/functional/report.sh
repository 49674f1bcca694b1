#!/bin/bash
# measured report on a fixed store (test/report/store.jsonl: two runtimes, two driver pairs,
# two loads, three repetitions, harness tool lines, an unsupported pair, a failed create and
# malformed lines): outputs equal to the reviewed golden files, filters, and figures that are
# valid SVG with one bar per runtime per driver pair and PNGs of the expected size.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
measured=${MEASURED_CLI:?set MEASURED_CLI}
cd "$here/../report" || exit 1
work=$(mktemp -d /tmp/measured-report-XXXXXX)
trap 'rm -rf "$work"' EXIT

golden() { # name, report arguments...
  local name=$1
  shift
  "$measured" report store.jsonl "$@" >"$work/$name" 2>"$work/$name.err"
  if cmp -s "$work/$name" "golden/$name"; then
    tap_ok "output equals golden/$name ($*)"
  else
    tap_fail "output equals golden/$name ($*)"
    diff "golden/$name" "$work/$name" | head -20 | sed 's/^/# /'
  fi
}
golden table.txt
golden baseline.txt --by runtime,pair,load --baseline runc
golden report.csv --format csv
golden report.json --by runtime,pair --format json --baseline runc

out=$("$measured" report store.jsonl --format json)
check_eq "malformed lines are counted, not fatal" "$(jq '[.lines, .malformed]' -c <<<"$out")" '[54,3]'
check_eq "an unsupported pair shows as unsupported, with no figures" \
  "$(jq -c '.groups[] | select(.key.runtime == "kata" and .unsupported) | [.reason, .metrics]' <<<"$("$measured" report store.jsonl --by runtime,pair --format json)")" \
  '["Kata cannot use the host network driver",{}]'
check_eq "a failed create is counted apart from the measured records" \
  "$(jq -c '.groups[] | select(.key.runtime == "runc" and .key.driver == "bridge" and .key.load == "none") | [.records, .failed]' <<<"$out")" '[6,1]'
check_eq "--runtime filters" "$("$measured" report store.jsonl --runtime runsc --format json | jq -c '[.groups[].key.runtime] | unique')" '["runsc"]'
check_eq "--driver filters" "$("$measured" report store.jsonl --driver bridge --by driver --format json | jq -c '[.groups[].key.driver]')" '["bridge"]'
check_eq "--driver filters out" "$("$measured" report store.jsonl --driver overlay --format json | jq -c '[.groups, .filtered_out]')" '[[],51]'
check_eq "--label filters" "$("$measured" report store.jsonl --label rep=2 --by label:rep --format json | jq -c '[.groups[].key["label:rep"]]')" '["2"]'
check_eq "--since filters on created_at" "$("$measured" report store.jsonl --since 2026-11-04 --by runtime --format json | jq -c '[.groups[] | [.key.runtime, .records]]')" '[["kata",1],["runc",4],["runsc",4]]'
"$measured" report store.jsonl --since yesterdayish >/dev/null 2>&1
check_eq "a bad --since is a usage error" "$?" 2
"$measured" report /nonexistent.jsonl >/dev/null 2>&1
check_eq "a missing store is an error" "$?" 1
check_eq "stores merge" "$("$measured" report store.jsonl store.jsonl --format json | jq .lines)" 108

# --- figures ---
"$measured" report store.jsonl --plot "$work/fig" >/dev/null 2>"$work/plot.err"
check_contains "figures are written" "$(cat "$work/plot.err")" "wrote 30 figure(s)"
check "every SVG parses as XML" xmllint --noout "$work"/fig/*.svg
# runtimes in name order: kata, runc, runsc; cairo writes fills as percentages
kata='fill:rgb(0%,44.7%,69.8%)' runc='fill:rgb(83.5%,36.9%,0%)' runsc='fill:rgb(0%,62%,45.1%)'
svg=$work/fig/bandwidth-none.svg
check_eq "bandwidth: one bar per driver pair for runc (+1 legend swatch)" "$(grep -o "$runc" "$svg" | wc -l)" 3
check_eq "bandwidth: one bar per driver pair for runsc (+1 legend swatch)" "$(grep -o "$runsc" "$svg" | wc -l)" 3
check_eq "bandwidth: kata has one bar (bridge) and n/a for host (+1 legend swatch)" "$(grep -o "$kata" "$svg" | wc -l)" 2
check_eq "bandwidth under stress: no kata at all" "$(grep -c "$kata" "$work/fig/bandwidth-stress.svg")" 0
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $3 * 256 + $4 "x" $7 * 256 + $8}'; }
check_eq "PNG figures are 800x480" "$(png_size "$work/fig/tcp_p50-none.png")" 800x480
check_eq "a PNG is a PNG" "$(od -An -c -N4 "$work/fig/tcp_p50-none.png" | tr -d ' ')" '211PNG'
tap_done
