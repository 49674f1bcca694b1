#!/bin/bash
# The test command (README): on a fresh Debian 12 machine, as root, with nothing else to do.
#   MEASURED_ENGINE=20.10 (default) | 26 | "20.10 26": the Docker engine(s) to test on.
#   1. contrib/setup-debian.sh on the first engine: packages, build (-Werror), install, dockerd,
#      image, registration
#   2. every suite of the build: unit (C, cmocka), functional (the wrapper against a fake
#      runtime), integration (the real docker CLI and engine; podman, rootful and rootless)
#   3. unit and functional again in an ASan+UBSan build; the libFuzzer harnesses briefly
#   4. the overhead, report-speed and exporter-speed benchmarks, briefly (reported, never asserted)
#   5. for every further engine: switch to it (contrib/engine.sh) and run the 'engine' suite (the
#      integration tests whose subject is the engine's side of the contract; test/meson.build)
# Prints one result line per engine, then "N passed, N failed, N skipped" over everything,
# counted over test points; exits non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${MEASURED_BUILD_DIR:-$top/build}
asan=$top/build-asan
fuzz=$top/build-fuzz
read -r -a engines <<<"${MEASURED_ENGINE:-20.10}"
logs=()
per_engine=()
extra_fail=0

if ! MEASURED_ENGINE=${engines[0]} MEASURED_BUILD_DIR=$build "$top/contrib/setup-debian.sh"; then
  echo "setup failed: see above"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

printf '\n== tests on Docker %s (%s)\n' "${engines[0]}" "$build"
meson test -C "$build" --print-errorlogs --logbase "testlog-docker${engines[0]}"
logs+=("$build/meson-logs/testlog-docker${engines[0]}.json")
per_engine+=("Docker ${engines[0]} (all suites): $("$top/test/count-results.sh" "${logs[-1]}")")

printf '\n== unit and functional tests under ASan+UBSan (%s)\n' "$asan"
if [ ! -f "$asan/build.ninja" ]; then
  meson setup "$asan" "$top" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dstatic_wrapper=false -Dwerror=true >/dev/null
fi
if ninja -C "$asan" >/dev/null; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$asan" --suite unit --suite functional --print-errorlogs
  logs+=("$asan/meson-logs/testlog.json")
else
  echo "the sanitizer build failed"
  extra_fail=$((extra_fail + 1))
fi

printf '\n== fuzzing: every parser and editor of untrusted input, %s s each (%s)\n' "${MEASURED_FUZZ_SECONDS:-7}" "$fuzz"
if [ ! -f "$fuzz/build.ninja" ]; then
  CC=clang meson setup "$fuzz" "$top" -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
    -Db_lundef=false -Dstatic_wrapper=false -Dwerror=true >/dev/null
fi
if ninja -C "$fuzz" >/dev/null; then
  meson test -C "$fuzz" --suite fuzz --print-errorlogs
  logs+=("$fuzz/meson-logs/testlog.json")
  grep -h -oE 'fuzz_[a-z_]+: [0-9]+ executions in [0-9]+s, no finding' "$fuzz/meson-logs/testlog.txt" | sed 's/^/  /'
else
  echo "the fuzzing build failed"
  extra_fail=$((extra_fail + 1))
fi

printf '\n== benchmark: wrapper overhead (3 pairs; not asserted)\n'
"$top/test/bench/wrapper-overhead.sh" 3 || echo "benchmark did not complete"
printf '\n== benchmark: each OCI call, runc, a bare wrapper and measured-runc (3 lifecycles; not asserted)\n'
MEASURED_BARE_WRAPPER=$build/test/bare-wrapper "$top/test/bench/wrapper-calls.sh" 3 || echo "benchmark did not complete"
printf '\n== benchmark: the cost of measuring connections, flows off / on (1 pair of 2 s; not asserted)\n'
MEASURED_TINYHTTP=$build/test/tinyhttp "$top/test/bench/flows-overhead.sh" 1 2 || echo "benchmark did not complete"
printf '\n== benchmark: measured report over 10 000 generated records (not asserted)\n'
MEASURED_CLI=$build/cli/measured "$top/test/bench/report-speed.sh" 10000 || echo "benchmark did not complete"
printf '\n== benchmark: measured exporter over 10 000 generated records (not asserted)\n'
MEASURED_CLI=$build/cli/measured "$top/test/bench/exporter-speed.sh" 10000 || echo "benchmark did not complete"

for engine in "${engines[@]:1}"; do
  printf '\n== switching to Docker %s\n' "$engine"
  if ! "$top/contrib/engine.sh" "$engine" || ! "$top/contrib/image/build-tools-image.sh" >/dev/null; then
    echo "could not switch to Docker $engine"
    per_engine+=("Docker $engine: the engine could not be installed or started")
    extra_fail=$((extra_fail + 1))
    continue
  fi
  printf '\n== the engine tests on Docker %s\n' "$engine"
  # The load test's 100 sequential lifecycles ran on the first engine; here its concurrent
  # part stays whole and the sequential one is shorter (CI's time: docs/testing.md).
  MEASURED_LOAD_SEQUENTIAL=60 MEASURED_LOAD_RESTARTS=10 \
    meson test -C "$build" --suite engine --print-errorlogs --logbase "testlog-docker$engine"
  logs+=("$build/meson-logs/testlog-docker$engine.json")
  per_engine+=("Docker $engine (engine tests): $("$top/test/count-results.sh" "${logs[-1]}")")
done

printf '\n'
printf '%s\n' "${per_engine[@]}"
summary=$("$top/test/count-results.sh" "${logs[@]}")
if [ "$extra_fail" -gt 0 ]; then
  summary=$(awk -F'[ ,]+' -v x="$extra_fail" '{printf "%d passed, %d failed, %d skipped", $1, $3 + x, $5}' <<<"$summary")
fi
echo "$summary"
case $summary in
*" 0 failed"*) exit 0 ;;
*) exit 1 ;;
esac
