#!/bin/bash
# Everything a fresh Debian 12 machine needs to build, run and test measured, as root, with no
# manual step. Idempotent: each step checks before it acts.
#   1. apt packages: build dependencies, the Docker engine and the runtimes, the tools the
#      benchmark image carries, and what the tests use
#   2. build (meson + ninja, -Werror) and install into /usr/local
#   3. start dockerd when none runs (no systemd here: started by hand, logs in
#      /var/log/dockerd.log)
#   4. build the local image measured/tools (no registry needed)
#   5. register the measured runtimes with the engine (measured install)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${MEASURED_BUILD_DIR:-$top/build}

packages=(
  # build
  meson ninja-build pkg-config gcc libc6-dev
  libyajl-dev libnl-3-dev libnl-route-3-dev libseccomp-dev libcap-dev libcmocka-dev libcairo2-dev
  # engine and runtimes
  docker.io containerd runc runsc crun iptables
  # what the image carries
  busybox-static iperf3 sockperf stress-ng
  # tests and benchmarks
  jq util-linux procps iproute2 libxml2-utils
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

docker_ready() { docker info >/dev/null 2>&1; }

start_dockerd() {
  if docker_ready; then
    echo "dockerd already running"
    return
  fi
  # A stale pid file from a killed engine makes dockerd refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 60); do
    docker_ready && { echo "dockerd started"; return; }
    sleep 1
  done
  echo "dockerd did not start; last lines of /var/log/dockerd.log:" >&2
  tail -20 /var/log/dockerd.log >&2
  exit 1
}

step "packages" && install_packages
step "build and install" && build_and_install
step "engine" && start_dockerd
step "image" && "$top/contrib/image/build-tools-image.sh"
step "register runtimes" && /usr/local/bin/measured install
