#!/bin/bash
# measured exporter against tools nobody here wrote: promtool (Debian's prometheus package)
# checks the exposition in Prometheus' text format, and a real Prometheus server scrapes the
# OpenMetrics one, queried through its HTTP API: every record counted once, histogram_quantile per
# runtime in the bucket of the median `measured report` computes from the same store; the
# exporter restarted (stopped, and killed) while records keep coming loses and double-counts
# nothing; a store rotated under it, once, twice between scrapes and past the files kept, is
# followed; a line still being written waits; the landing page, 404 and 405.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
measured=${MEASURED_CLI:?set MEASURED_CLI}
prometheus=${MEASURED_PROMETHEUS:-prometheus}
work=$(mktemp -d /tmp/measured-exporter-XXXXXX)
exporter_pid="" prom_pid=""
trap 'kill $exporter_pid $prom_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
store=$work/samples.jsonl
mkdir -p "$work/run"
cat >"$work/measured.json" <<JSON
{"store": "$store", "state_dir": "$work/run", "export_labels": ["run"]}
JSON
export MEASURED_CONFIG=$work/measured.json
gen() { # n [first id]: records shaped as the benchmark's, runsc's create three times runc's
  awk -v n="$1" -v create_slow=1 -f "$here/../bench/gen-store.awk" "$here/../bench/record-template.json"
}
metric() { # exposition, sample name with labels: its value
  awk -v m="$2" '$1 == m {print $2}' <<<"$1"
}

# --- the exposition itself, and promtool ---
gen 60 >"$store"
printf 'not a record\n{"schema": 2}\n' >>"$store"
om=$("$measured" exporter --once)
check_eq "the OpenMetrics exposition ends with # EOF" "$(tail -1 <<<"$om")" "# EOF"
check_eq "every record is counted" "$(metric "$om" 'measured_exporter_lines_total{result="record"}')" 60
check_eq "bad lines are skipped and counted" "$(metric "$om" 'measured_exporter_lines_total{result="malformed"}')" 2
check_eq "lifecycles by runtime, driver, load and the table's export label" \
  "$(metric "$om" 'measured_lifecycles_total{runtime="runsc",driver="bridge",load="none",run="bench",outcome="completed"}')" \
  "$(gen 60 | jq -s '[.[] | select(.runtime.name == "runsc" and .network.driver == "bridge" and .labels.load == "none")] | length')"
prom=$("$measured" exporter --once --format prometheus)
promtool check metrics <<<"$prom" >"$work/promtool.out" 2>&1
check_eq "promtool check metrics finds nothing wrong in the text format" "$?:$(cat "$work/promtool.out")" "0:"
check_eq "the histogram's +Inf bucket is its count" \
  "$(metric "$om" 'measured_runtime_call_seconds_bucket{runtime="runc",driver="bridge",load="none",run="bench",call="create",le="+Inf"}')" \
  "$(metric "$om" 'measured_runtime_call_seconds_count{runtime="runc",driver="bridge",load="none",run="bench",call="create"}')"

# Label values: quotes and a backslash escaped; a value cut at its 63rd byte inside a character
# (35 two-byte characters) gets U+FFFD for the stray byte: a scraper refuses a whole exposition
# for one value that is not UTF-8, as promtool shows.
long=$(printf 'é%.0s' $(seq 35))
{ gen 1 | jq -c '.labels.run = "a\"b\\c"'; gen 1 | jq -c --arg v "$long" '.labels.run = $v'; } >"$work/odd.jsonl"
odd=$("$measured" exporter --once --format prometheus --store "$work/odd.jsonl")
check_contains "a label value's quotes and backslash are escaped" "$odd" 'run="a\"b\\c"'
check_contains "a label value cut inside a character ends with U+FFFD" "$odd" "run=\"$(printf 'é%.0s' $(seq 31))�\""
check "promtool accepts both" promtool check metrics <<<"$odd"
printf '# TYPE x_total counter\nx_total{a="\xc3"} 1\n' | promtool check metrics >/dev/null 2>&1
check_eq "(promtool refuses a label value that is not UTF-8)" "$?" 1

# Series are bounded: 600 distinct label values make 499 series and one "_other" of the rest.
gen 600 | awk '{sub(/"run":"bench"/, "\"run\":\"r" NR "\""); print}' >"$work/many.jsonl"
many=$("$measured" exporter --once --store "$work/many.jsonl")
check_eq "600 label values: 500 series, the last one _other with 101 records" \
  "$(grep -c '^measured_lifecycles_total' <<<"$many") $(metric "$many" 'measured_lifecycles_total{runtime="_other",driver="_other",load="_other",run="_other",outcome="completed"}') $(metric "$many" measured_exporter_series_overflow_total)" \
  "500 101 101"

# --- the server ---
start_exporter() { # [listen]
  "$measured" exporter --listen "${1:-127.0.0.1:0}" --checkpoint "$work/checkpoint.json" \
    --save-interval 1 2>"$work/exporter.log" &
  exporter_pid=$!
  for _ in $(seq 50); do
    port=$(grep -o 'port [0-9]*' "$work/exporter.log" | cut -d' ' -f2)
    [ -n "$port" ] && break
    sleep 0.1
  done
}
scrape() { curl -s -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$port/metrics"; }
records_now() { metric "$(scrape)" 'measured_exporter_lines_total{result="record"}'; }
start_exporter
check "the exporter serves" test -n "$port"
check_eq "GET /metrics asks for OpenMetrics and gets it" \
  "$(curl -s -o /dev/null -w '%{content_type}' -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' "http://127.0.0.1:$port/metrics")" \
  "application/openmetrics-text; version=1.0.0; charset=utf-8"
check_eq "without asking, Prometheus' text format" \
  "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$port/metrics")" "text/plain; version=0.0.4; charset=utf-8"
check_eq "/ is a landing page, anything else 404, POST 405" \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/") $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/x") $(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" \
  "200 404 405"
check_eq "its capabilities are dropped" "$(awk '/^CapEff/ {print $2}' "/proc/$exporter_pid/status")" 0000000000000000

# A real Prometheus, scraping every second.
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: measured
    static_configs: [{targets: ["127.0.0.1:$port"]}]
YAML
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
query() { # PromQL: the first result's value
  curl -s --data-urlencode "query=$1" "http://127.0.0.1:$prom_port/api/v1/query" |
    jq -r '.data.result[0].value[1] // "none"'
}
wait_for() { # PromQL, value: waits up to 30 s for the query to give it
  local v
  for _ in $(seq 60); do
    v=$(query "$1")
    [ "$v" = "$2" ] && break
    sleep 0.5
  done
  echo "$v"
}
check_eq "Prometheus scrapes the exporter (up)" "$(wait_for 'up{job="measured"}' 1)" 1
check_eq "Prometheus parsed the OpenMetrics exposition" \
  "$(curl -s "http://127.0.0.1:$prom_port/api/v1/targets" | jq -r '.data.activeTargets[0].lastError')" ""
check_eq "Prometheus counts every record once" "$(wait_for 'sum(measured_lifecycles_total)' 60)" 60

report=$("$measured" report "$store" --by runtime --format json)
in_bucket() { # value, family, report median (in the family's unit): is it in value's bucket?
  awk -v v="$1" -v m="$3" -v fam="$2" 'BEGIN {
    split("1 2 5", mant, " "); lo = 0; hi = 1e300
    for (e = -7; e <= 11; e++) for (k = 1; k <= 3; k++) { b = mant[k] * 10 ^ e
      if (b < v * (1 - 1e-9)) lo = b; else if (b >= v * (1 - 1e-9) && b < hi) hi = b }
    ok = (m >= lo * (1 - 1e-9) && m <= hi * (1 + 1e-9))
    printf "%s %s in [%g, %g]: %s\n", fam, m, lo, hi, ok ? "yes" : "no" }'
}
for rt in runc runsc; do
  q=$(query "histogram_quantile(0.5, sum by (le, runtime) (measured_runtime_call_seconds_bucket{call=\"create\",runtime=\"$rt\"}))")
  median=$(jq --arg rt "$rt" '.groups[] | select(.key.runtime == $rt) | .metrics.create.median / 1000' <<<"$report")
  check_contains "$rt: histogram_quantile of create ($q s) is in the bucket of the report's median" \
    "$(in_bucket "$q" create "$median")" ": yes"
  q=$(query "histogram_quantile(0.5, sum by (le, runtime) (measured_probe_rtt_p50_seconds_bucket{protocol=\"tcp\",runtime=\"$rt\"}))")
  median=$(jq --arg rt "$rt" '.groups[] | select(.key.runtime == $rt) | .metrics.tcp_p50.median / 1e6' <<<"$report")
  check_contains "$rt: histogram_quantile of the probe's TCP p50 ($q s) is in the bucket of the report's median" \
    "$(in_bucket "$q" tcp_p50 "$median")" ": yes"
done
ratio=$(query 'histogram_quantile(0.5, sum by (le) (measured_runtime_call_seconds_bucket{call="create",runtime="runsc"})) / histogram_quantile(0.5, sum by (le) (measured_runtime_call_seconds_bucket{call="create",runtime="runc"}))')
check "the README's PromQL gives runsc's create over runc's (about 3 here: $ratio)" \
  awk -v r="$ratio" 'BEGIN {exit !(r > 2 && r < 4.5)}'

# --- restarts: stopped (the checkpoint at SIGTERM), then killed (the checkpoint of a second ago) ---
gen 10 >>"$store"
check_eq "appended records are counted at the next scrape" "$(records_now)" 70
kill -TERM "$exporter_pid"
wait "$exporter_pid"
check_eq "SIGTERM ends the exporter with status 0" "$?" 0
gen 5 >>"$store" # while it is down
start_exporter "127.0.0.1:$port"
check_eq "restarted, it resumes from its checkpoint: nothing lost, nothing twice" "$(records_now)" 75
sleep 1.5 # a checkpoint at 75
gen 7 >>"$store"
check_eq "(7 more)" "$(records_now)" 82
kill -KILL "$exporter_pid"
wait "$exporter_pid" 2>/dev/null
gen 3 >>"$store"
start_exporter "127.0.0.1:$port"
check_eq "killed, it resumes from the last checkpoint and reads again what came after it, once" \
  "$(records_now)" 85
check_eq "Prometheus sees 85 lifecycles" "$(wait_for 'sum(measured_lifecycles_total)' 85)" 85
check_eq "and never more at any scrape" \
  "$(query 'max_over_time(measured_exporter_lines_total{result="record"}[10m])') $(query 'sum(max_over_time(measured_lifecycles_total[10m]))')" \
  "85 85"
check_eq "and no counter reset" "$(query 'sum(resets(measured_lifecycles_total[10m]))')" 0

# --- rotation, as lib/store.c does it (rename, a new file) ---
mv "$store" "$store.1"
gen 4 >"$store"
check_eq "a rotated store is followed: the new file's records" "$(records_now)" 89
check_eq "the rotation is counted" "$(metric "$(scrape)" "measured_exporter_rotations_total{store=\"$store\"}")" 1
gen 2 >>"$store"
mv "$store.1" "$store.2"
mv "$store" "$store.1"
gen 3 >"$store"
mv "$store.2" "$store.3"
mv "$store.1" "$store.2"
mv "$store" "$store.1"
gen 6 >"$store"
check_eq "rotated twice between two scrapes: the rest of the old file and both new ones" "$(records_now)" 100
printf '%s' "$(gen 1)" >>"$store"
check_eq "a line without its newline yet waits" "$(records_now)" 100
echo >>"$store"
check_eq "and counts once it is whole" "$(records_now)" 101
# The file followed, rotated past the files kept (its records read first: the exporter also
# reads every second, so what it would have missed cannot be made the same in every run). The
# exporter is stopped while the files change, so that its own reading sees them all at once; the
# new file is made before the old one is deleted, so that it cannot get the old one's inode number
# (the exporter knows a file by its device and inode: docs/limits.md).
gen 2 >>"$store"
check_eq "(2 more)" "$(records_now)" 103
kill -STOP "$exporter_pid"
rm -f "$store".*
mv "$store" "$store.1"
gen 5 >"$store"
rm "$store.1"
kill -CONT "$exporter_pid"
out=$(scrape)
check_eq "the file followed, rotated away, is counted as unread; the new one is read" \
  "$(metric "$out" "measured_exporter_unread_files_total{store=\"$store\"}") $(metric "$out" 'measured_exporter_lines_total{result="record"}')" \
  "1 108"
check_eq "Prometheus agrees" "$(wait_for 'sum(measured_lifecycles_total)' 108)" 108
: >"$store" # cut back to nothing by someone
gen 1 >>"$store"
check_eq "a store cut back is read again from its start" "$(records_now)" 109

# --- a broken checkpoint is refused, said, and the stores read from their start ---
kill -TERM "$exporter_pid"
wait "$exporter_pid"
echo '{"measured_exporter_checkpoint": 1, "layout": "other"}' >"$work/checkpoint.json"
start_exporter "127.0.0.1:$port"
check_eq "a checkpoint of another layout: the stores counted from their start" "$(records_now)" 1
check_contains "and it says so" "$(cat "$work/exporter.log")" "checkpoint not used"

"$measured" exporter --listen 999.1.1.1:80 >/dev/null 2>&1
check_eq "a bad --listen address is an error" "$?" 1
"$measured" exporter --format prometheus >/dev/null 2>&1
check_eq "--format without --once is a usage error" "$?" 2
tap_done
