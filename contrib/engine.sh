#!/bin/bash
# The Docker engine to run: 20.10 (Debian 12's docker.io, the study's) or 26 (Debian 13's
# docker.io 26.1, which installs on Debian 12). Installs the one asked for when another is
# installed, starts dockerd by hand (this machine has no systemd) and waits until it answers.
# Idempotent; switching stops the running engine first, so the machine is usable either way.
#   usage: contrib/engine.sh 20.10|26
# The Debian 13 packages (docker.io, and docker-cli: Debian 13 moved the `docker` client there)
# are fetched alone, through a sources list in a temporary folder (the archive this machine
# already uses, suite trixie); the system's apt sources are not changed. Either way the engine
# comes with its own client as /usr/bin/docker.
set -euo pipefail
want=${1:-20.10}
cache=/var/cache/measured
log=/var/log/dockerd.log

case $want in
20.10 | 26) ;;
*) echo "engine.sh: unknown engine \"$want\" (20.10 or 26)" >&2; exit 2 ;;
esac

installed() { dpkg-query -W -f='${Version}' docker.io 2>/dev/null || true; }
# The engine asked for, with its own client in /usr/bin (whatever else is on PATH).
matches() {
  case $(installed) in "$want".*) ;; *) return 1 ;; esac
  case $(/usr/bin/docker --version 2>/dev/null) in "Docker version $want".*) return 0 ;; esac
  return 1
}
ready() { docker info >/dev/null 2>&1; }

stop_dockerd() {
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null) || return 0
  kill -0 "$pid" 2>/dev/null || { rm -f /var/run/docker.pid; return 0; }
  kill "$pid"
  for _ in $(seq 60); do
    kill -0 "$pid" 2>/dev/null || { echo "dockerd (pid $pid) stopped"; return 0; }
    sleep 0.5
  done
  echo "engine.sh: dockerd (pid $pid) did not stop within 30 s" >&2
  exit 1
}

start_dockerd() {
  if ready; then
    echo "dockerd $(docker version -f '{{.Server.Version}}') is running"
    return
  fi
  # A stale pid file from a killed engine makes dockerd refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  setsid dockerd >"$log" 2>&1 </dev/null &
  for _ in $(seq 60); do
    ready && { echo "dockerd $(docker version -f '{{.Server.Version}}') started"; return; }
    sleep 1
  done
  echo "engine.sh: dockerd did not start; the last lines of $log:" >&2
  tail -20 "$log" >&2
  exit 1
}

# Docker 20.10 refuses a daemon.json with "runtimeType" entries: say so before switching.
check_daemon_json_for() {
  [ "$want" = 20.10 ] && [ -f /etc/docker/daemon.json ] || return 0
  local typed
  typed=$(jq -r '.runtimes // {} | to_entries[] | select(.value.runtimeType) | .key' \
    /etc/docker/daemon.json 2>/dev/null | tr '\n' ' ')
  if [ -n "$typed" ]; then
    echo "engine.sh: /etc/docker/daemon.json has runtimeType entries ($typed), which Docker 20.10" \
      "refuses; remove them first (measured uninstall --runtime NAME)" >&2
    exit 1
  fi
}

fetch_docker26() { # prints the .debs' paths: the engine, then its client
  mkdir -p "$cache"
  local deb cli
  # (none cached yet on a fresh machine: not an error)
  deb=$(ls "$cache"/docker.io_26.*.deb 2>/dev/null | tail -1 || true)
  cli=$(ls "$cache"/docker-cli_26.*.deb 2>/dev/null | tail -1 || true)
  if [ -z "$deb" ] || [ -z "$cli" ]; then
    local tmp mirror
    tmp=$(mktemp -d)
    chmod 755 "$tmp" # apt's download user must be able to write there
    # The archive this machine uses (its sources' URIs, not their comments).
    # (either file may be missing: cat's complaint is not an error)
    mirror=$({ cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
      grep -E '^(URIs:|deb )' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ' || true)
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-http://deb.debian.org/debian} trixie main" \
      >"$tmp/sources.list"
    mkdir -p "$tmp/lists/partial"
    local opts=(-o "Dir::Etc::sourcelist=$tmp/sources.list" -o Dir::Etc::sourceparts=-
      -o "Dir::State::Lists=$tmp/lists" -o APT::Get::List-Cleanup=0)
    apt-get "${opts[@]}" update -qq >&2
    (cd "$tmp" && apt-get "${opts[@]}" download docker.io docker-cli >&2)
    mv "$tmp"/docker.io_26.*.deb "$tmp"/docker-cli_26.*.deb "$cache"/
    rm -rf "$tmp"
    deb=$(ls "$cache"/docker.io_26.*.deb | tail -1)
    cli=$(ls "$cache"/docker-cli_26.*.deb | tail -1)
  fi
  echo "$deb $cli"
}

install_engine() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$want" = 26 ]; then
    echo "installing $(basename "$deb") and its client $(basename "$cli")"
    apt-get install -y -qq --no-install-recommends "$deb" "$cli" >/dev/null
  else
    echo "installing docker.io 20.10 (Debian 12, its client included)"
    # Debian 13's docker-cli owns /usr/bin/docker, which docker.io 20.10 ships again.
    if dpkg-query -W -f='${Status}' docker-cli 2>/dev/null | grep -q "ok installed"; then
      apt-get remove -y -qq docker-cli >/dev/null
    fi
    apt-get install -y -qq --no-install-recommends --allow-downgrades 'docker.io=20.10*' >/dev/null
  fi
}

if matches; then
  start_dockerd
  exit 0
fi
check_daemon_json_for
deb="" cli=""
if [ "$want" = 26 ]; then # fetched before anything stops: a failed download changes nothing
  read -r deb cli < <(fetch_docker26) && [ -f "$deb" ] && [ -f "$cli" ] ||
    { echo "engine.sh: could not fetch docker.io and docker-cli 26" >&2; exit 1; }
fi
echo "switching the engine from docker.io $(installed) to $want"
stop_dockerd
if ! install_engine || ! matches; then
  echo "engine.sh: docker.io $(installed) is installed, not $want; starting it again" >&2
  start_dockerd
  exit 1
fi
start_dockerd
