#!/bin/bash
# Builds the guest the Kata stand-in (kata-qemu-runtime.sh) boots: Debian 12's kernel, taken from
# the linux-image package (downloaded with apt-get and extracted with dpkg-deb -x, not installed),
# and an initramfs of busybox-static and the modules virtio-net and 9p over virtio need, in the
# order depmod gives. Its /init does what Kata's agent does for a container, simply: it brings
# eth0 up with the container's address (from the kernel command line), mounts the container's
# root file system and bind mounts (shared by QEMU over 9p) and, once the runtime's start says
# so, runs the container's process in them, its output and exit status written back to the
# runtime's state share.
#   usage: kata-guest.sh [DIR]   (default /var/cache/measured/kata-guest; does nothing when built)
#   prints DIR; DIR/vmlinuz and DIR/initrd.gz
set -euo pipefail
dir=${1:-/var/cache/measured/kata-guest}
if [ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.gz" ] && [ "$dir/initrd.gz" -nt "$0" ]; then
  echo "$dir"
  exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d /tmp/measured-kata-guest-XXXXXX)
trap 'rm -rf "$work"' EXIT
# The kernel linux-image-amd64 depends on, fetched as a file.
pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "kata-guest: no linux-image package known to apt" >&2; exit 1; }
(cd "$work" && apt-get -o APT::Sandbox::User=root download "$pkg" >/dev/null)
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
depmod -b "$work/kernel" "$kver"
# A module and what it needs, in loading order: modules.dep lists a module's dependencies with
# the one to load first last.
load_order() { # module name
  awk -F': *' -v m="/$1.ko" 'substr($1, length($1) - length(m) + 1) == m {
    n = split($2, d, " "); for (i = n; i >= 1; i--) print d[i]; print $1 }' \
    "$work/kernel/lib/modules/$kver/modules.dep"
}
# virtio_pci finds the devices, virtio_net and 9pnet_virtio drive them, 9p mounts the shares.
mods="$(load_order virtio_pci) $(load_order virtio_net) $(load_order 9pnet_virtio) $(load_order 9p)"
root=$work/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,lib/modules,lib64,etc}
cp /bin/busybox "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"; done
order=""
for m in $mods; do
  case " $order " in *" $(basename "$m") "*) continue ;; esac
  cp "$work/kernel/lib/modules/$kver/$m" "$root/lib/modules/"
  order="$order $(basename "$m")"
done
echo "$order" >"$root/lib/modules/order"
cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m"; done
arg() { sed -n "s/.*measured_$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ip link set lo up
for _ in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
ip link set eth0 mtu "$(arg mtu)" up
ip addr add "$(arg ip)" dev eth0
[ -n "$(arg gw)" ] && ip route add default via "$(arg gw)"
p9() { mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=mmap "$1" "$2"; }
mkdir -p /kq /mnt /shares
p9 kqstate /kq
p9 kqroot /mnt
mount -t proc proc /mnt/proc
mount -t sysfs sys /mnt/sys
mount -t devtmpfs dev /mnt/dev
mount --bind /kq /mnt/.kata-qemu
# /tmp and /dev/shm in the guest's memory: QEMU's 9p cannot resize or map a file once it is
# unlinked, which is what mkstemp users (iperf3) do in /tmp.
mount -t tmpfs tmp /mnt/tmp
mkdir -p /mnt/dev/shm
mount -t tmpfs shm /mnt/dev/shm
# "tag destination file": a directory shared whole (file "-"), or the directory of a file
while read -r tag dest file; do
  [ -d "/shares/$tag" ] || { mkdir -p "/shares/$tag" && p9 "$tag" "/shares/$tag"; }
  if [ "$file" = - ]; then
    mkdir -p "/mnt$dest" && mount --bind "/shares/$tag" "/mnt$dest"
  else # its mount point may be in a file system of the guest's own (/dev)
    mkdir -p "$(dirname "/mnt$dest")" && { [ -e "/mnt$dest" ] || : >"/mnt$dest"; } &&
      mount --bind "/shares/$tag/$file" "/mnt$dest"
  fi
done </kq/mounts
echo "measured-guest: ready $(arg ip)"
while [ ! -e /kq/started ]; do sleep 0.05; done
chroot /mnt /.kata-qemu/busybox sh /.kata-qemu/run.sh >/kq/out 2>&1 </dev/null
echo $? >/kq/exit.tmp
mv /kq/exit.tmp /kq/exit
echo "measured-guest: the process exited"
while :; do sleep 3600; done
INIT
chmod +x "$root/init"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initrd.gz.tmp"
cp "$work/kernel/boot/vmlinuz-$kver" "$dir/vmlinuz.tmp"
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
mv "$dir/initrd.gz.tmp" "$dir/initrd.gz"
echo "$kver" >"$dir/kernel-version"
echo "$dir"
