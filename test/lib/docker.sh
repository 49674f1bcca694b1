# Helpers for integration tests that drive the real docker CLI against the real engine.
# Requires: root, a running dockerd, the image measured/tools, the measured runtimes registered
# (contrib/setup-debian.sh does all of it). A missing piece fails the test: it is never a skip.
IMAGE=${MEASURED_TOOLS_IMAGE:-measured/tools}
. "$(dirname "${BASH_SOURCE[0]}")/records.sh"

require_engine() {
  local why=""
  [ "$(id -u)" = 0 ] || why="not root"
  [ -z "$why" ] && ! docker info >/dev/null 2>&1 && why="no running dockerd"
  [ -z "$why" ] && ! docker image inspect "$IMAGE" >/dev/null 2>&1 && why="image $IMAGE missing"
  [ -z "$why" ] && ! docker info --format '{{json .Runtimes}}' | grep -q '"measured-runc"' &&
    why="measured-runc is not registered"
  if [ -n "$why" ]; then
    echo "Bail out! integration environment: $why (run contrib/setup-debian.sh)"
    exit 1
  fi
}

full_id() { docker inspect -f '{{.Id}}' "$1"; }

# Leaves no container of this test behind, whatever happened.
cleanup_containers() { docker ps -aq --filter "label=measured-test=$1" | xargs -r docker rm -f >/dev/null 2>&1; }

# Registers a plain (unmeasured) runtime for comparison, for the rest of the test; the engine's
# configuration is restored by restore_daemon_json (call it from the EXIT trap).
DAEMON_JSON=/etc/docker/daemon.json
_daemon_json_saved=""
register_plain_runtime() { # name path [runtimeArgs...]
  local name=$1 path=$2
  shift 2
  docker info --format '{{json .Runtimes}}' | jq -e --arg n "$name" 'has($n)' >/dev/null && return 0
  save_daemon_json
  local args
  args=$(printf '%s\n' "$@" | jq -R . | jq -s 'map(select(. != ""))')
  jq --arg n "$name" --arg p "$path" --argjson a "$args" \
    '.runtimes[$n] = ({path: $p} + (if ($a|length) > 0 then {runtimeArgs: $a} else {} end))' \
    "$DAEMON_JSON" >"$DAEMON_JSON.tmp" && mv "$DAEMON_JSON.tmp" "$DAEMON_JSON"
  reload_engine_until "has(\"$name\")"
}

reload_engine_until() { # jq condition on the runtime list
  kill -HUP "$(cat /var/run/docker.pid)"
  for _ in $(seq 50); do
    docker info --format '{{json .Runtimes}}' | jq -e "$1" >/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# Keeps the engine's configuration (and the list of its backups) to put back at the end.
save_daemon_json() {
  [ -n "$_daemon_json_saved" ] && return 0
  _daemon_json_saved=$(mktemp)
  cp -p "$DAEMON_JSON" "$_daemon_json_saved"
  ls "$DAEMON_JSON".measured-backup-* 2>/dev/null >"$_daemon_json_saved.backups"
}

# Puts it back, and removes the backups `measured install` made of it meanwhile.
restore_daemon_json() {
  [ -n "$_daemon_json_saved" ] || return 0
  cp -p "$_daemon_json_saved" "$DAEMON_JSON"
  ls "$DAEMON_JSON".measured-backup-* 2>/dev/null | grep -vxF -f "$_daemon_json_saved.backups" |
    xargs -r rm -f
  rm -f "$_daemon_json_saved" "$_daemon_json_saved.backups"
  _daemon_json_saved=""
  kill -HUP "$(cat /var/run/docker.pid)"
  sleep 1
}

# Installs a runtime table for the rest of the test; restore_table (from the EXIT trap) puts
# back what was there (or nothing).
TABLE=/etc/measured/measured.json
_table_saved=""
set_table() { # JSON text
  mkdir -p "$(dirname "$TABLE")"
  if [ -z "$_table_saved" ]; then
    _table_saved=$(mktemp)
    if [ -e "$TABLE" ]; then cp -p "$TABLE" "$_table_saved"; else echo absent >"$_table_saved"; fi
  fi
  printf '%s\n' "$1" >"$TABLE"
}

restore_table() {
  [ -n "$_table_saved" ] || return 0
  if [ "$(cat "$_table_saved")" = absent ]; then rm -f "$TABLE"; else cp -p "$_table_saved" "$TABLE"; fi
  rm -f "$_table_saved"
  _table_saved=""
}

# A reflector container (plain runc) with the installed probe binary; prints its IP address.
PROBE_BIN=${MEASURED_PROBE_BIN:-/usr/local/libexec/measured/measured-probe}
start_reflector() { # name [reflector options...]
  local name=$1
  shift
  docker rm -f "$name" >/dev/null 2>&1
  docker run -d --name "$name" --label measured-test=reflector --runtime=runc \
    -v "$PROBE_BIN:/measured-probe:ro" "$IMAGE" /measured-probe reflector "$@" >/dev/null
  for _ in $(seq 50); do
    docker logs "$name" 2>&1 | grep -q listening && break
    sleep 0.1
  done
  docker inspect -f '{{.NetworkSettings.IPAddress}}' "$name"
}

# Stops dockerd (as an operator's restart does) and starts it again, waiting up to 60 s each way.
restart_engine() {
  local pid
  pid=$(cat /var/run/docker.pid)
  kill "$pid"
  for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}
