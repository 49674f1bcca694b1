#!/bin/bash
# measured install / uninstall / list --engine podman: on a scratch drop-in directory (what the
# drop-in holds, that podman's TOML reader and ours accept it, --default, adding and removing
# runtimes, a user's own lists kept and extended, a broken drop-in refused), then on the real
# configuration, which podman itself must confirm (`podman --runtime measured-runc info`).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/podman.sh"
require_podman
scratch=$(mktemp -d /tmp/measured-podman-install-XXXXXX)
real=/etc/containers/containers.conf.d/measured.conf
saved=$(mktemp)
cp -p "$real" "$saved"
trap 'cp -p "$saved" "$real"; rm -rf "$scratch" "$saved"' EXIT
M=/usr/local/bin/measured
dir=$scratch/containers/containers.conf.d
f=$dir/measured.conf
key() { # file, TOML key under [engine] or [engine.runtimes]: its line's value
  sed -n "s/^$2 = //p" "$1"
}

# --- scratch ---------------------------------------------------------------------------------
out=$($M install --engine podman --podman-config-dir "$dir" --runtime runc --no-reload 2>&1)
check_eq "install makes the drop-in (and its directories)" "$(key "$f" measured-runc)" \
  '["/usr/local/bin/measured-runc"]'
check_contains "it says which file it wrote" "$out" "wrote $f"
check_contains "measured-runc supports JSON logs, as runc does" "$(key "$f" runtime_supports_json)" \
  '"runc", "kata", "runsc", "krun", "measured-runc"]'
check_eq "no default unless asked" "$(key "$f" runtime)" ""
# podman reads it (CONTAINERS_CONF: podman reads that one file, here the drop-in alone).
check_eq "podman's own TOML reader takes it (podman info through it)" \
  "$(CONTAINERS_CONF=$f podman --runtime measured-runc info --format '{{.Host.OCIRuntime.Path}}' 2>&1)" \
  /usr/local/bin/measured-runc

$M install --engine podman --podman-config-dir "$dir" --runtime crun --runtime runsc --no-reload >/dev/null
check_eq "install adds to what is registered" \
  "$(grep -c '^measured-[a-z]* = \["/usr/local/bin/measured-' "$f")" 3
check_contains "measured-crun runs without cgroups, as crun does" \
  "$(key "$f" runtime_supports_nocgroups)" '"measured-crun"'
$M install --engine podman --podman-config-dir "$dir" --runtime runc --default --no-reload >/dev/null
check_eq "--default sets [engine] runtime" "$(key "$f" runtime)" '"measured-runc"'
out=$($M list --podman-config-dir "$dir")
check_contains "list shows podman's default" "$out" "podman (default)"
check_contains "list shows what each wraps" "$out" "measured-crun            ok       /usr/bin/crun"
out=$($M uninstall --engine podman --podman-config-dir "$dir" --runtime runc)
check_eq "uninstall --runtime removes that one, and the default it was" \
  "$(key "$f" measured-runc)|$(key "$f" runtime)|$(grep -c '^measured-' "$f")" "||2"

# A user's own list in containers.conf (read before the drop-in) is kept, and extended.
printf '[engine]\nruntime_supports_json = ["runc", "my-runtime"]\n' >"$scratch/containers/containers.conf"
$M install --engine podman --podman-config-dir "$dir" --runtime runc --no-reload >/dev/null
check_eq "a list set before the drop-in is kept and extended" "$(key "$f" runtime_supports_json)" \
  '["runc", "my-runtime", "measured-runc"]'
printf '[engine\n' >"$scratch/containers/containers.conf"
out=$($M install --engine podman --podman-config-dir "$dir" --runtime runc --no-reload 2>&1)
check_eq "a broken containers.conf: refused, saying where" "$?|$(grep -c 'containers.conf: line 1' <<<"$out")" "1|1"
rm "$scratch/containers/containers.conf"
cp "$f" "$scratch/before"
printf 'garbage = \n' >"$f"
out=$($M install --engine podman --podman-config-dir "$dir" --runtime runc --no-reload 2>&1)
check_eq "a broken drop-in: refused, left as it is" "$?|$(cat "$f")" "1|garbage = "
tap_diag "$out"
cp "$scratch/before" "$f"
out=$($M install --engine podman --podman-config-dir "$dir" --runtime kata --no-reload 2>&1)
check_eq "a runtime that is not installed: refused" "$?" 1
out=$($M install --engine podman --podman-config-dir "$dir" --runtime runc --docker-version 20.10 2>&1)
check_eq "Docker's options are refused with --engine podman" "$?" 2
before=$(cat "$f")
out=$($M install --engine podman --podman-config-dir "$dir" --dry-run 2>&1)
check_eq "--dry-run changes nothing" "$(cat "$f")" "$before"
check_contains "--dry-run prints the drop-in" "$out" "--- $f"
$M uninstall --engine podman --podman-config-dir "$dir" >/dev/null
check "uninstall removes the drop-in" test ! -e "$f"
check_contains "uninstall of nothing says so" "$($M uninstall --engine podman --podman-config-dir "$dir")" \
  "nothing to remove"

# --- the real configuration ------------------------------------------------------------------
$M uninstall --engine podman >/dev/null
check "after uninstall, podman no longer finds measured-runc" \
  bash -c '! podman --runtime measured-runc info >/dev/null 2>&1'
out=$($M install --engine podman 2>&1)
check_eq "install on the real configuration" "$?" 0
check_contains "podman itself confirms each runtime" "$out" \
  "podman runs measured-runc as /usr/local/bin/measured-runc"
tap_diag "$(grep 'podman runs' <<<"$out" | tr '\n' ';')"
out=$($M list --engine podman)
check_contains "list --engine podman" "$out" "$real"
id=$(prun podman --rm --runtime measured-runc -e MEASURED_LABEL_case=podman-install "$IMAGE" true; \
  grep '"case":"podman-install"' "$STORE" | tail -1 | jq -r .id)
check "a container runs through the registration by name, and is recorded" test -n "$id"
tap_done
