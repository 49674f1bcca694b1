#!/bin/bash
# What measured-runc adds to a whole `docker run --rm IMAGE true`, against plain runc in the same
# run: pairs alternate (runc, measured-runc, runc, ...) so that drift in the machine's state hits
# both alike. Prints every pair, the median ratio and the median added milliseconds, the middle
# half of the pairs (Q1 to Q3: on a noisy machine wider than what a wrapper adds), and the
# wrapper's own added time per call as its records report it. Targets: ratio <= 1.03 (issue 2),
# <= 1.01 (issue 15), also through the shim-v2 wrapper on Docker 23 and later:
#   wrapper-overhead.sh 20 io.containerd.runc.v2 measured-runc-v2
# (after `measured install --runtime runc-v2`). Never fails on timing: it reports.
#   usage: wrapper-overhead.sh [PAIRS [PLAIN MEASURED]]   (default 20 runc measured-runc; CI: 3)
set -euo pipefail
pairs=${1:-20}
plain=${2:-runc}
measured=${3:-measured-runc}
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
store=${MEASURED_STORE:-/var/lib/measured/samples.jsonl}
tag="bench-$$-$(date +%s)"

ms_of() { # runtime [label]; prints wall microseconds of one docker run
  local t0 t1
  t0=$(date +%s%N)
  docker run --rm --runtime="$1" -e MEASURED_LABEL_bench="${2:-$tag}" "$image" true >/dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
}

. "$(dirname "$0")/../lib/stats.sh"

echo "warming up (2 runs each)"
for _ in 1 2; do ms_of "$plain" warmup >/dev/null; ms_of "$measured" warmup >/dev/null; done

ratios=()
added=()
printf '%5s %12s %14s %8s\n' pair "$plain (ms)" "$measured (ms)" ratio
for i in $(seq "$pairs"); do
  a=$(ms_of "$plain")
  b=$(ms_of "$measured")
  r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.4f", b / a}')
  ratios+=("$r")
  added+=("$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", (b - a) / 1000}')")
  printf '%5d %12.1f %14.1f %8s\n' "$i" "$(awk -v a="$a" 'BEGIN{print a/1000}')" \
    "$(awk -v b="$b" 'BEGIN{print b/1000}')" "$r"
done

ratio=$(printf '%s\n' "${ratios[@]}" | median)
add=$(printf '%s\n' "${added[@]}" | median)
echo
echo "median ratio $measured / $plain: $ratio over $pairs pairs (target <= 1.01: $(awk -v r="$ratio" 'BEGIN{print (r <= 1.01) ? "met" : "missed"}'))"
echo "median added time per docker run: $add ms"
echo "middle half of the pairs: added $(printf '%s\n' "${added[@]}" | quartiles) ms, ratio $(printf '%s\n' "${ratios[@]}" | quartiles)"

# The wrapper's own time per call, from the records of the runs above (the kernel's exec of the
# wrapper binary itself is not in these figures; it is in the wall-clock ratio above).
sleep 1
recs=$(grep "\"bench\":\"$tag\"" "$store" || true)
for call in create start delete; do
  med=$(jq -r ".calls.$call.overhead_us" <<<"$recs" | median)
  printf 'wrapper added time, %-6s median %6s us over %d records\n' "$call" "$med" "$(wc -l <<<"$recs")"
done
