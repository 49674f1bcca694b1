#!/bin/bash
# The test command (README): on a fresh Debian 12 machine, as root, with nothing else to do.
#   1. contrib/setup-debian.sh: packages, build (-Werror), install, dockerd, image, registration
#   2. every suite of the build: unit (C, cmocka), functional (the wrapper against a fake
#      runtime), integration (the real docker CLI and engine)
#   3. unit and functional again in an ASan+UBSan build
#   4. the overhead and report-speed benchmarks, briefly (reported, never asserted)
# Ends with "N passed, N failed, N skipped", counted over test points; exits non-zero on any
# failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${MEASURED_BUILD_DIR:-$top/build}
asan=$top/build-asan
logs=()

if ! MEASURED_BUILD_DIR=$build "$top/contrib/setup-debian.sh"; then
  echo "setup failed: see above"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

printf '\n== tests (%s)\n' "$build"
meson test -C "$build" --print-errorlogs
logs+=("$build/meson-logs/testlog.json")

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
  asan_build_failed=1
fi

printf '\n== benchmark: wrapper overhead (3 pairs; not asserted)\n'
"$top/test/bench/wrapper-overhead.sh" 3 || echo "benchmark did not complete"
printf '\n== benchmark: measured report over 10 000 generated records (not asserted)\n'
MEASURED_CLI=$build/cli/measured "$top/test/bench/report-speed.sh" 10000 || echo "benchmark did not complete"

printf '\n'
summary=$("$top/test/count-results.sh" "${logs[@]}")
if [ -n "${asan_build_failed:-}" ]; then
  summary=$(awk -F'[ ,]+' '{printf "%d passed, %d failed, %d skipped", $1, $3 + 1, $5}' <<<"$summary")
fi
echo "$summary"
case $summary in
*" 0 failed"*) exit 0 ;;
*) exit 1 ;;
esac
