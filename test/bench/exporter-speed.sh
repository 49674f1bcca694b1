#!/bin/bash
# measured exporter over a generated store of N records (default 100 000, about 5.5 KB each:
# 550 MB): the time to catch up on the whole store (the exposition's own
# measured_exporter_catch_up_seconds, and the whole `--once` run), the time of a scrape with
# that store behind it (curl's time_total, 20 scrapes: median and slowest), and the exporter's
# resident memory after catching up, against the same with a tenth of the store (the aggregates
# do not grow with the store). Targets (issue 16): catch-up on 500 MB under 2 s, a scrape under
# 50 ms. Reports; never fails on timing.
#   usage: exporter-speed.sh [N]
set -euo pipefail
n=${1:-100000}
here=$(cd "$(dirname "$0")" && pwd)
measured=${MEASURED_CLI:-/usr/local/bin/measured}
work=$(mktemp -d "$( [ -d /dev/shm ] && [ "$(df --output=avail -k /dev/shm | tail -1)" -gt 2000000 ] && echo /dev/shm || echo /tmp)/measured-exporter-speed-XXXXXX")
pid=""
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
echo '{}' >"$work/measured.json"
export MEASURED_CONFIG=$work/measured.json

run() { # store: prints "catch-up-seconds once-seconds scrape-median scrape-max rss-KiB"
  local store=$1 t0 t1 once catch port times
  t0=$(date +%s%N)
  catch=$("$measured" exporter --once --store "$store" | awk '$1 == "measured_exporter_catch_up_seconds" {print $2}')
  t1=$(date +%s%N)
  once=$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.3f", d / 1e9}')
  "$measured" exporter --listen 127.0.0.1:0 --store "$store" --no-checkpoint 2>"$work/log" &
  pid=$!
  for _ in $(seq 600); do
    port=$(grep -o 'port [0-9]*' "$work/log" | cut -d' ' -f2 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  times=$(for _ in $(seq 20); do
    curl -s -o /dev/null -w '%{time_total}\n' -H 'Accept: application/openmetrics-text' "http://127.0.0.1:$port/metrics"
  done | sort -g)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" || true
  pid=""
  printf '%s %s %s %s %s\n' "$catch" "$once" "$(sed -n 10p <<<"$times")" "$(tail -1 <<<"$times")" "$rss"
}

awk -v n="$n" -f "$here/gen-store.awk" "$here/record-template.json" >"$work/big.jsonl"
head -n $((n / 10)) "$work/big.jsonl" >"$work/small.jsonl"
cat "$work/big.jsonl" >/dev/null
size=$(du -m "$work/big.jsonl" | cut -f1)
read -r catch once med max rss < <(run "$work/big.jsonl")
read -r _ _ _ _ rss_small < <(run "$work/small.jsonl")
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v < t) ? "met" : "missed"}'; }
echo "store: $n records, $size MB, in $(dirname "$work"), $(nproc) CPUs"
echo "catch-up:  ${catch} s for $size MB (--once in all: ${once} s) (target < 2 s for 500 MB: $(verdict "$(awk -v c="$catch" -v s="$size" 'BEGIN {print c * 500 / s}')" 2))"
echo "scrape:    median ${med} s, slowest ${max} s of 20 (target < 50 ms: $(verdict "$med" 0.05))"
echo "memory:    ${rss} KiB resident with the store, ${rss_small} KiB with a tenth of it"
