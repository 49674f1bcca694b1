#!/bin/bash
# The machine a paper run measured, as text: what its figures depend on (CPU, memory, kernel, the
# engine, each runtime's version, measured's own version and commit, the image). run.sh writes
# it as machine.txt next to the results.
#   usage: machine.sh "RUNTIMES"
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
runtimes=${1:-runc}
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "host:     $(uname -n), $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) of memory"
echo "virtual:  $(grep -qw hypervisor /proc/cpuinfo && echo "a VM (the CPU flags say hypervisor)" || echo "no hypervisor flag")"
echo "kvm:      $([ -w /dev/kvm ] && echo "/dev/kvm usable" || echo "no /dev/kvm")"
echo "kernel:   $(uname -r)"
echo "os:       $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "engine:   Docker $(docker version -f '{{.Server.Version}}' 2>/dev/null), containerd $(containerd --version 2>/dev/null | awk '{print $3}')"
for rt in $runtimes; do
  path=$(command -v "$rt" 2>/dev/null || echo "?")
  echo "runtime:  $rt ($path): $("$path" --version 2>/dev/null | head -1)"
done
echo "measured: $(measured --version 2>/dev/null), source $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$top" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
echo "tools:    $(docker run --rm --network none "$image" sh -c 'echo "iperf3 $(iperf3 --version | head -1 | cut -d" " -f2), sockperf $(sockperf --version 2>&1 | grep -o "[0-9][0-9.]*" | head -1), stress-ng $(stress-ng --version 2>&1 | grep -o "[0-9][0-9.]*" | head -1)"' 2>/dev/null)"
