#!/bin/bash
# Runs one libFuzzer harness for a few seconds from its seed corpus (read-only; new inputs go to
# a scratch folder) and reports in TAP: every seed passes, then the fuzzing run ends without a
# crash, a leak or a sanitizer report. The number of executions is printed for the record.
#   usage: run-one.sh HARNESS SEED_DIR SECONDS   (MEASURED_FUZZ_SECONDS overrides SECONDS)
set -u
harness=$1 seeds=$2 seconds=${MEASURED_FUZZ_SECONDS:-$3} # the environment overrides the build's default
name=$(basename "$harness")
scratch=$(mktemp -d /tmp/measured-fuzz-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$harness" -runs=0 "$seeds" >"$scratch/seeds.log" 2>&1
if [ $? -eq 0 ]; then echo "ok 1 - $name: every seed of $(basename "$seeds") runs clean"; else
  echo "not ok 1 - $name: a seed fails"; tail -30 "$scratch/seeds.log" | sed 's/^/# /'; fi
mkdir -p "$scratch/new"
"$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
  -artifact_prefix="$scratch/" "$scratch/new" "$seeds" >"$scratch/run.log" 2>&1
rc=$?
runs=$(grep -oE 'Done [0-9]+ runs' "$scratch/run.log" | grep -oE '[0-9]+')
if [ $rc -eq 0 ]; then
  echo "ok 2 - $name: ${runs:-0} executions in ${seconds}s, no finding"
else
  echo "not ok 2 - $name: a finding"
  grep -E 'ERROR|SUMMARY|Test unit written' "$scratch/run.log" | head -5 | sed 's/^/# /'
  for f in "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* "$scratch"/oom-*; do
    [ -e "$f" ] && echo "# input (base64): $(base64 -w0 "$f" | head -c 2000)"
  done
fi
echo "1..2"
