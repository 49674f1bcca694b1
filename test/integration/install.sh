#!/bin/bash
# measured install / uninstall / list against scratch daemon.json files, then against the real
# engine (which must confirm every change through its own runtime list).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
scratch=$(mktemp -d /tmp/measured-install-XXXXXX)
trap 'rm -rf "$scratch"; restore_daemon_json' EXIT
M=/usr/local/bin/measured
backups() { ls "$scratch" | grep -c 'measured-backup' ; }

# --- scratch files ---------------------------------------------------------------------------
f=$scratch/daemon.json
out=$($M install --docker-config "$f" --runtime runc --no-reload 2>&1)
check_eq "install creates a missing daemon.json" "$(jq -c . "$f")" \
  '{"runtimes":{"measured-runc":{"path":"/usr/local/bin/measured-runc"}}}'
check_contains "install says it made a new file" "$out" "(new file)"

cat >"$f" <<'JSON'
{
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "3"},
  "runtimes": {"nvidia": {"path": "/usr/bin/nvidia-container-runtime", "runtimeArgs": []}},
  "mtu": 1450,
  "features": {"buildkit": true},
  "future-key": [1.50, {"nested": null}]
}
JSON
before=$(jq -cS 'del(.runtimes["measured-runc"], .runtimes["measured-runsc"])' "$f")
$M install --docker-config "$f" --runtime runc --runtime runsc --no-reload >/dev/null
check_eq "install keeps every other key and value" \
  "$(jq -cS 'del(.runtimes["measured-runc"], .runtimes["measured-runsc"])' "$f")" "$before"
check_eq "install adds the measured runtimes with absolute paths" \
  "$(jq -r '.runtimes["measured-runsc"].path' "$f")" /usr/local/bin/measured-runsc
check_contains "number literals are kept as written" "$(cat "$f")" "1.50"
check_eq "one backup of the previous file" "$(backups)" 1
copy=$(cat "$f")
out=$($M install --docker-config "$f" --runtime runc --runtime runsc --no-reload)
check_contains "a second install is a no-op" "$out" "already up to date"
check_eq "... and writes nothing" "$(cat "$f")" "$copy"
check_eq "... and makes no second backup" "$(backups)" 1

out=$($M install --docker-config "$f" --runtime runc --default --dry-run)
check_eq "--dry-run prints the result" "$(jq -r '."default-runtime"' <<<"$out")" measured-runc
check_eq "--dry-run changes nothing" "$(cat "$f")" "$copy"
$M install --docker-config "$f" --runtime runc --default --no-reload >/dev/null
check_eq "--default sets default-runtime" "$(jq -r '."default-runtime"' "$f")" measured-runc
out=$($M install --docker-config "$f" --default --no-reload 2>&1)
check_eq "--default without one --runtime is a usage error" "$?" 2

$M uninstall --docker-config "$f" --runtime runc --no-reload >/dev/null
check_eq "uninstall removes the entry" "$(jq '.runtimes|has("measured-runc")' "$f")" false
check_eq "uninstall resets default-runtime that named it" "$(jq 'has("default-runtime")' "$f")" false
check_eq "uninstall keeps other runtimes" "$(jq -r '.runtimes.nvidia.path' "$f")" /usr/bin/nvidia-container-runtime
jq '.runtimes["measured-foreign"] = {"path": "/opt/else/tool"}' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
$M uninstall --docker-config "$f" --no-reload >/dev/null
check_eq "uninstall (all) removes only measured's own entries" "$(jq -c '.runtimes|keys' "$f")" \
  '["measured-foreign","nvidia"]'

printf '{\n  "debug": true,\n  "runtimes": {\n    "x": {"path": "/y"},\n  }\n}\n' >"$f"
copy=$(cat "$f")
out=$($M install --docker-config "$f" --runtime runc --no-reload 2>&1)
check_eq "malformed daemon.json: exit 1" "$?" 1
check_contains "malformed daemon.json: the file and position are named" "$out" "$f: line 5, column 3"
check_contains "malformed daemon.json: says the file is untouched" "$out" "left unchanged"
check_eq "malformed daemon.json: file untouched" "$(cat "$f")" "$copy"
echo '{"runtimes": {"measured-runc": "oops"}}' >"$f"
out=$($M install --docker-config "$f" --runtime runc --no-reload 2>&1)
check_contains "an entry of the wrong shape is refused" "$out" "runtimes.measured-runc is not a JSON object"
out=$($M install --docker-config "$f" --runtime nosuch --no-reload 2>&1)
check_contains "an unknown runtime name is refused" "$out" 'unknown runtime "nosuch"'
out=$($M install --docker-config "$f" --runtime kata-runtime --no-reload 2>&1)
check_contains "a runtime whose real binary is missing is refused" "$out" 'is not installed'
out=$($M install --bogus 2>&1)
check_eq "unknown option: usage error" "$?" 2

# --- the shim-v2 form ("runtimeType", Docker >= 23) ------------------------------------------------
# A shim-only runtime as Kata 2.x/3.x is: a shim (here runc's, which exists) and no OCI command
# line (/bin/true lists no `create`).
echo '{"runtimes": {"shimonly": {"path": "/bin/true", "shim": "containerd-shim-runc-v2"}}}' \
  >"$scratch/table.json"
echo '{"mtu": 1450}' >"$f"
copy=$(cat "$f")
out=$(MEASURED_CONFIG=$scratch/table.json $M install --docker-config "$f" --runtime shimonly \
  --docker-version 20.10.24 --no-reload 2>&1)
check_eq "a shim-only runtime on Docker 20.10: exit 1" "$?" 1
check_contains "... saying the engine is too old, and why" "$out" \
  'Docker 20.10.24 (from --docker-version) is too old for a shim-v2 runtime'
check_eq "... with daemon.json untouched" "$(cat "$f")" "$copy"
out=$(MEASURED_CONFIG=$scratch/table.json $M install --docker-config "$f" --runtime shimonly \
  --docker-version 26.1.5 --no-reload 2>&1)
check_eq "a shim-only runtime on Docker 26: written" \
  "$(jq -c '.runtimes["measured-shimonly"]' "$f")" '{"runtimeType":"io.containerd.measured-shimonly.v2"}'
check_contains "... saying which form and why" "$out" "is a containerd shim only (/bin/true has no OCI \`create\`)"
check "... with the shim wrapper's link next to the wrapper" test -L /usr/local/bin/containerd-shim-measured-shimonly-v2
rm -f /usr/local/bin/containerd-shim-measured-shimonly-v2
out=$($M install --docker-config "$f" --runtime runc-v2 --docker-version 26.1 --no-reload 2>&1)
check_eq "runc-v2: the shim-v2 form of a runtime that has both" \
  "$(jq -c '.runtimes["measured-runc-v2"]' "$f")" '{"runtimeType":"io.containerd.measured-runc.v2"}'
out=$($M install --docker-config "$f" --runtime runc-v2 --docker-version 20.10 --no-reload 2>&1)
check_contains "runc-v2 on Docker 20.10 is refused" "$out" "too old for a shim-v2 runtime"
out=$($M install --docker-config "$f" --runtime runc --docker-version 20.10 --no-reload 2>&1)
check_contains "runc: the OCI-CLI wrapper, whatever the engine" "$out" "answers the OCI command line"
jq '.runtimes["other-v2"] = {"runtimeType": "io.containerd.other.v2"}' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
MEASURED_CONFIG=$scratch/table.json $M uninstall --docker-config "$f" --no-reload >/dev/null
check_eq "uninstall removes measured's runtimeType entries, not others" "$(jq -c '.runtimes|keys' "$f")" \
  '["other-v2"]'

# --- containerd: a drop-in file and an import in config.toml ------------------------------------
cdir=$scratch/containerd
mkdir -p "$cdir"
cp /etc/containerd/config.toml "$cdir/config.toml" 2>/dev/null ||
  printf 'version = 2\n\n[plugins]\n  [plugins."io.containerd.internal.v1.opt"]\n    path = "/x"\n' >"$cdir/config.toml"
orig=$(cat "$cdir/config.toml")
out=$($M install --engine containerd --containerd-config "$cdir/config.toml" --runtime runc 2>&1)
check_contains "containerd: the drop-in is written" "$out" "wrote $cdir/measured-runtimes.toml"
check_contains "containerd: says a restart applies it" "$out" "restart"
dump=$(containerd --config "$cdir/config.toml" config dump 2>&1)
check_contains "containerd itself reads the runtime handler from the drop-in" "$dump" \
  'runtime_type = "io.containerd.measured-runc.v2"'
check_eq "config.toml: only the import line is new" \
  "$(diff <(echo "$orig") "$cdir/config.toml" | grep '^[<>]')" "> imports = [\"$cdir/measured-runtimes.toml\"]"
copy=$(cat "$cdir/config.toml")
$M install --engine containerd --containerd-config "$cdir/config.toml" --runtime runc >/dev/null
check_eq "containerd: a second install changes nothing" "$(cat "$cdir/config.toml")" "$copy"
$M uninstall --engine containerd --containerd-config "$cdir/config.toml" >/dev/null
check_eq "containerd: uninstall gives back the file byte for byte" "$(cat "$cdir/config.toml")" "$orig"
check "containerd: uninstall removes the drop-in" test ! -e "$cdir/measured-runtimes.toml"
printf 'version = 2\n[plugins\n' >"$cdir/config.toml"
out=$($M install --engine containerd --containerd-config "$cdir/config.toml" --runtime runc 2>&1)
check_eq "containerd: a malformed config.toml: exit 1" "$?" 1
check_contains "... named with line and column, left unchanged" "$out" "config.toml: line 2, column 9"
check_eq "... and untouched" "$(cat "$cdir/config.toml")" "$(printf 'version = 2\n[plugins')"
out=$($M install --engine containerd --runtime crun --containerd-config "$cdir/c2.toml" 2>&1)
check_contains "containerd: a runtime without a shim is refused" "$out" 'names no "shim"'
out=$($M install --engine nomad 2>&1)
check_eq "--engine is docker, containerd or podman: exit 2" "$?" 2
check_contains "... said" "$out" "--engine is docker, containerd or podman"

# --- the real engine -----------------------------------------------------------------------------
registered() { docker info --format '{{json .Runtimes}}' | jq -e --arg n "$1" 'has($n)' >/dev/null; }
save_daemon_json
out=$($M uninstall --runtime crun 2>&1)
check_contains "uninstall reloads the engine and confirms" "$out" "its runtime list confirms the change"
check "the engine no longer lists measured-crun" bash -c "! docker info --format '{{json .Runtimes}}' | grep -q measured-crun"
out=$($M install --runtime crun 2>&1)
check_contains "install reloads the engine and confirms" "$out" "its runtime list confirms the change"
check "the engine lists measured-crun again" registered measured-crun
out=$($M install 2>&1)
check_contains "default install picks the runtimes that exist" "$out" "skipping kata-runtime"
check "the engine lists measured-runc" registered measured-runc
check "the engine lists measured-runsc" registered measured-runsc
out=$($M list)
check_contains "list shows measured-runc and its real runtime" "$(grep measured-runc <<<"$out")" "$(command -v runc)"
check_contains "list says the engine lists it" "$(grep measured-runc <<<"$out")" "listed"
out=$($M install --docker-config "$scratch/other.json" --runtime runc 2>&1)
check_contains "a file the engine does not read is not reloaded" "$out" "not reloading: dockerd"
tap_done
