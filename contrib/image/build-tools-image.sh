#!/bin/bash
# Builds the local image measured/tools without any registry: busybox (static) plus iperf3,
# sockperf and stress-ng from the host's Debian packages, with exactly the libraries ldd lists.
# Idempotent: rebuilds only when the image is missing or --force is given. Copied into podman's
# store too, when podman is installed.
set -euo pipefail
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
# Podman (when installed) gets Docker's image, byte for byte.
to_podman() {
  command -v podman >/dev/null || return 0
  if [ "${1:-}" != "--force" ] && podman image exists "$image"; then
    echo "image $image present in podman's store"
    return 0
  fi
  docker save "$image" | podman load -q >/dev/null
  echo "image $image copied to podman's store"
}
if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "image $image present"
  to_podman
  exit 0
fi
for bin in busybox iperf3 sockperf stress-ng; do
  command -v "$bin" >/dev/null || { echo "build-tools-image: $bin is not installed" >&2; exit 1; }
done
rootfs=$(mktemp -d /tmp/measured-rootfs-XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,usr/bin,etc,tmp,proc,sys,dev,root}
chmod 1777 "$rootfs/tmp"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
copy_with_libs() {
  local bin=$1
  cp "$bin" "$rootfs/usr/bin/"
  # "libfoo.so => /lib/x86_64-linux-gnu/libfoo.so (0x...)" and the loader's own line.
  ldd "$bin" | grep -oE '/[^ ]+' | while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}
for tool in iperf3 sockperf stress-ng; do copy_with_libs "$(command -v "$tool")"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
tar -C "$rootfs" -c . | docker import \
  -c 'ENV PATH=/usr/bin:/bin' -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
echo "image $image built ($(du -sh "$rootfs" | cut -f1))"
to_podman "${1:-}"
