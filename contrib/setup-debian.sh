#!/bin/bash
# Everything a fresh Debian 12 machine needs to build, run and test measured, as root, with no
# manual step. Idempotent: each step checks before it acts.
#   1. apt packages: build dependencies, the Docker engine and the runtimes, the tools the
#      benchmark image carries, and what the tests use
#   2. build (meson + ninja, -Werror) and install into /usr/local
#   3. the Docker engine: MEASURED_ENGINE=20.10 (default, Debian 12's) or 26 (Debian 13's),
#      installed and started by contrib/engine.sh (no systemd here: started by hand, logs in
#      /var/log/dockerd.log)
#   4. build the local image measured/tools (no registry needed), in Docker's store and podman's
#   5. register the measured runtimes with the engine and with podman (measured install)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${MEASURED_BUILD_DIR:-$top/build}

packages=(
  # build
  meson ninja-build pkg-config gcc libc6-dev
  libyajl-dev libnl-3-dev libnl-route-3-dev libseccomp-dev libcap-dev libcmocka-dev libcairo2-dev
  libmicrohttpd-dev
  # engine and runtimes
  docker.io containerd runc runsc crun iptables
  # podman, and what its rootless mode needs (subordinate ids, user-mode networking)
  podman uidmap slirp4netns
  # a real VM on Kata's network path for the tests (test/helpers/kata-qemu-runtime.sh)
  qemu-system-x86
  # what the image carries
  busybox-static iperf3 sockperf stress-ng
  # tests and benchmarks
  jq util-linux procps iproute2 tcpdump libxml2-utils python3-jsonschema scdoc man-db wrk chromium curl
  prometheus
  # fuzzing (libFuzzer comes with clang's runtime libraries)
  clang libclang-rt-14-dev
)

step() { printf '\n== %s\n' "$*"; }

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "all packages present"
    return
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_and_install() {
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$top" -Dwerror=true --prefix=/usr/local >/dev/null
  fi
  ninja -C "$build"
  meson install -C "$build" --quiet
}

step "packages" && install_packages
step "build and install" && build_and_install
step "engine: Docker ${MEASURED_ENGINE:-20.10}" && "$top/contrib/engine.sh" "${MEASURED_ENGINE:-20.10}"
step "image" && "$top/contrib/image/build-tools-image.sh"
step "register runtimes" && /usr/local/bin/measured install
step "register runtimes with podman" && /usr/local/bin/measured install --engine podman
