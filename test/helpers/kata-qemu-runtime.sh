#!/bin/bash
# kata-qemu: an OCI runtime for the tests that puts a real VM on Kata's network path, since no
# Kata runs here. It does what Kata does for a container, simply:
#  - the network (tcfilter mode): in the container's network namespace a tap tap0_kata with
#    eth0's MAC and MTU, an ingress qdisc (ffff:) on both, and on each a u32 "match u8 0 0" filter
#    whose mirred action redirects to the other's egress; a QEMU guest (TCG, or KVM where /dev/kvm
#    works) from Debian's kernel (kata-guest.sh) with virtio-net on the tap, configured with eth0's
#    address: the container's address is the guest's;
#  - the process: the guest mounts the container's root file system and bind mounts (shared by
#    QEMU over 9p) and runs the container's process there (args, env, cwd; as root) once start
#    comes; runc runs a stand-in in the namespaces the engine knows, which waits for the guest's
#    process, prints its output and exits with its status, so that the engine sees the workload's.
# create returns once the guest is ready (at most KATA_QEMU_BOOT_S, default 120 s); delete stops
# it; every other call is runc's. Not done: a terminal, stdin, the process's user, streaming its
# output before it ends. The host's network is refused, as under Kata.
set -uo pipefail
runc=${KATA_QEMU_RUNC:-runc}
guest=${KATA_QEMU_GUEST:-/var/cache/measured/kata-guest}
boot_s=${KATA_QEMU_BOOT_S:-120}
states=/run/measured-kata-qemu

root_opts=() sub="" id="" log="" log_format=text bundle=.
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
  --root) root_opts=(--root "${args[i + 1]}"); i=$((i + 1)) ;;
  --root=*) root_opts=("${args[i]}") ;;
  --log) log=${args[i + 1]}; i=$((i + 1)) ;;
  --log=*) log=${args[i]#--log=} ;;
  --log-format) log_format=${args[i + 1]}; i=$((i + 1)) ;;
  --log-format=*) log_format=${args[i]#--log-format=} ;;
  --criu | --rootless) i=$((i + 1)) ;;
  -*) ;;
  *) sub=${args[i]}; break ;;
  esac
done
case $sub in create | delete) id=${args[${#args[@]} - 1]} ;; esac
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
  --bundle | -b) bundle=${args[i + 1]} ;;
  --bundle=*) bundle=${args[i]#--bundle=} ;;
  esac
done

# An error goes where runc puts its own: the --log file the engine reads it from (JSON when asked).
say() {
  echo "kata-qemu: $*" >&2
  [ -n "$log" ] || return 0
  if [ "$log_format" = json ]; then
    jq -cn --arg m "kata-qemu: $*" --arg t "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      '{level: "error", msg: $m, time: $t}' >>"$log"
  else
    printf 'time="%s" level=error msg="kata-qemu: %s"\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log"
  fi
}

stop_guest() { # id
  local dir=$states/$1
  [ -f "$dir/qemu.pid" ] && kill -9 "$(cat "$dir/qemu.pid")" 2>/dev/null
  rm -rf "$dir"
}

# The state share: the process for the guest, the stand-in for runc, the shares for QEMU; the
# bundle's config.json then runs the stand-in with the share mounted at /.kata-qemu.
prepare() { # id config
  local dir=$states/$1 cfg=$2 n=0 src dst file share
  rm -rf "$dir"
  mkdir -p "$dir"
  cp /bin/busybox "$dir/busybox"
  {
    echo "cd $(jq -r '.process.cwd // "/" | @sh' "$cfg") || exit 127"
    jq -r '.process.env[]? | "export " + @sh' "$cfg"
    echo "exec $(jq -r '.process.args | @sh' "$cfg")"
  } >"$dir/run.sh"
  cat >"$dir/wait.sh" <<'WAIT'
: >/.kata-qemu/started
while [ ! -e /.kata-qemu/exit ]; do /.kata-qemu/busybox sleep 0.05; done
/.kata-qemu/busybox cat /.kata-qemu/out
exit "$(/.kata-qemu/busybox cat /.kata-qemu/exit)"
WAIT
  local root
  root=$(jq -r .root.path "$cfg")
  case $root in /*) ;; *) root=$bundle/$root ;; esac
  echo "-virtfs local,path=$root,mount_tag=kqroot,security_model=none" >"$dir/virtfs"
  : >"$dir/mounts"
  declare -A tags=()
  while IFS=$'\t' read -r src dst; do
    if [ -d "$src" ]; then share=$src file=-; else share=$(dirname "$src") file=$(basename "$src"); fi
    if [ -z "${tags[$share]:-}" ]; then
      tags[$share]=kqm$n
      n=$((n + 1))
      echo "-virtfs local,path=$share,mount_tag=${tags[$share]},security_model=none" >>"$dir/virtfs"
    fi
    printf '%s %s %s\n' "${tags[$share]}" "$dst" "$file" >>"$dir/mounts"
  done < <(jq -r '.mounts[] | select(.type == "bind" or ((.options // []) | index("bind") or index("rbind")))
                  | [.source, .destination] | @tsv' "$cfg")
  jq --arg d "$dir" '.process.args = ["/.kata-qemu/busybox", "sh", "/.kata-qemu/wait.sh"]
      | .process.terminal = false
      | .mounts += [{destination: "/.kata-qemu", type: "bind", source: $d, options: ["rbind", "rw"]}]' \
    "$cfg" >"$cfg.kata-qemu" && mv "$cfg.kata-qemu" "$cfg"
}

boot_guest() { # id pid: Kata's network, then the VM
  local id=$1 pid=$2 dir=$states/$1 net link addr gw mac mtu accel=tcg theirs ours
  # Never touch the network of the namespace this runtime runs in (the engine's: the host's).
  theirs=$(readlink "/proc/$pid/ns/net") ours=$(readlink "/proc/$$/ns/net")
  if [ -z "$theirs" ] || [ -z "$ours" ] || [ "$theirs" = "$ours" ]; then
    say "the host's network is not supported (as under Kata: a VM cannot share it)"
    return 1
  fi
  net=(nsenter "--net=/proc/$pid/ns/net")
  link=$("${net[@]}" ip -j addr show dev eth0 2>/dev/null) || link='[{"address": "", "mtu": 1500, "addr_info": []}]'
  addr=$(jq -r '.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"' <<<"$link" | head -1)
  mac=$(jq -r '.[0].address' <<<"$link")
  mtu=$(jq -r '.[0].mtu' <<<"$link")
  gw=$("${net[@]}" ip -j route show default | jq -r '.[0].gateway // empty')
  local nic=()
  if [ -n "$mac" ]; then # a network: Kata's, and the guest's NIC on it
    "${net[@]}" ip tuntap add tap0_kata mode tap &&
      "${net[@]}" ip link set tap0_kata address "$mac" mtu "$mtu" up &&
      "${net[@]}" tc qdisc add dev eth0 handle ffff: ingress &&
      "${net[@]}" tc qdisc add dev tap0_kata handle ffff: ingress &&
      "${net[@]}" tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 \
        action mirred egress redirect dev tap0_kata &&
      "${net[@]}" tc filter add dev tap0_kata parent ffff: protocol all u32 match u8 0 0 \
        action mirred egress redirect dev eth0 || { say "could not build Kata's network"; return 1; }
    nic=(-netdev tap,id=n0,ifname=tap0_kata,script=no,downscript=no -device "virtio-net-pci,netdev=n0,mac=$mac")
  fi
  [ -w /dev/kvm ] && accel=kvm
  # The VM must hold none of the engine's descriptors (its stdio pipes would keep `docker run`
  # waiting): only its own, and /dev/null for stdio.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    # shellcheck disable=SC2046 # one -virtfs option and its value per line
    exec "${net[@]}" qemu-system-x86_64 -accel "$accel" -m 256 -smp 1 -nodefaults -no-user-config \
      -display none -serial "file:$dir/console.log" -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" \
      -append "console=ttyS0 panic=-1 quiet measured_ip=$addr measured_gw=$gw measured_mtu=$mtu" \
      "${nic[@]}" -virtfs "local,path=$dir,mount_tag=kqstate,security_model=none" \
      $(cat "$dir/virtfs") -daemonize -pidfile "$dir/qemu.pid" </dev/null >/dev/null 2>"$dir/qemu.err"
  ) || { say "qemu did not start: $(head -3 "$dir/qemu.err")"; return 1; }
  for _ in $(seq $((boot_s * 4))); do
    grep -q 'measured-guest: ready' "$dir/console.log" 2>/dev/null && return 0
    sleep 0.25
  done
  say "the guest was not ready in $boot_s s: $(tail -3 "$dir/console.log" 2>/dev/null | tr '\n' ' ')"
  return 1
}

case $sub in
create)
  cfg=$bundle/config.json
  # A container without a network namespace of its own shares the host's: not under Kata.
  if ! jq -e '.linux.namespaces[]? | select(.type == "network")' "$cfg" >/dev/null; then
    say "the host's network is not supported (as under Kata: a VM cannot share it)"
    exit 1
  fi
  prepare "$id" "$cfg" || { say "could not prepare the guest's share"; exit 1; }
  "$runc" "$@" || { status=$?; stop_guest "$id"; exit $status; }
  pid=$("$runc" "${root_opts[@]}" state "$id" | jq -r .pid)
  if ! boot_guest "$id" "$pid"; then
    stop_guest "$id"
    "$runc" "${root_opts[@]}" delete --force "$id" >/dev/null 2>&1
    exit 1
  fi
  ;;
delete)
  stop_guest "$id"
  exec "$runc" "$@"
  ;;
*) exec "$runc" "$@" ;;
esac
