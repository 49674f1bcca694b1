#!/bin/bash
# Hostile traffic against the connection measurement (docs/limits.md, "Connections"):
#   - a container opening 100,000 connections (stress-ng --sockmany, both ends inside it): every
#     one counted, each way, against the kernel's own counts in its namespace (nstat);
#   - a SYN flood of 100,000 frames into a container serving HTTP, with options that do not add
#     up and headers that lie about their lengths (test/helpers/tcpflood): the flow table stays
#     at its cap and the record says how many connections it could not follow, every malformed
#     frame is counted as such, and the server still answers;
# and in both, the workload's exit status is its own, its monitor stays under its memory cap
# (MONITOR_RSS_CAP_KB) and within a CPU budget (printed, with a generous bound: the target is
# in the benchmark, test/bench/flows-overhead.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine
tcpflood=${TCPFLOOD:?set TCPFLOOD}
MONITOR_RSS_CAP_KB=8192
conns=${MEASURED_HOSTILE_CONNECTIONS:-100000}
trap 'cleanup_containers hostile_flows' EXIT

monitor_of() { # container id: the pid of its monitor (it holds the lifecycle's wake file)
  local p
  for _ in $(seq 50); do
    for p in /proc/[0-9]*; do
      ls -l "$p/fd" 2>/dev/null | grep -qE "$STATE_DIR/\.scope-[0-9a-f]+/$1/wake" &&
        { basename "$p"; return; }
    done
    sleep 0.1
  done
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
cpu_pct() { # ticks0 ticks1 ns
  awk -v c=$(($2 - $1)) -v hz="$(getconf CLK_TCK)" -v ns="$3" 'BEGIN {printf "%.1f", 100 * c / hz / (ns / 1e9)}'
}
nstat_of() { nsenter -t "$1" -n nstat -asz "$2" | awk -v k="$2" '$1 == k {print $2}'; }

# ---- 100,000 connections ---------------------------------------------------------------------
id=$(docker run -d --label measured-test=hostile_flows --runtime=measured-runc "$IMAGE" \
  sh -c "stress-ng --sockmany 1 --sockmany-ops $conns -q; sleep 3; exit 5")
pid=$(docker inspect -f '{{.State.Pid}}' "$id")
mon=$(monitor_of "$id")
t0=$(date +%s%N) c0=$(ticks "$mon")
while pgrep -P "$pid" -x stress-ng >/dev/null; do sleep 0.2; done
t1=$(date +%s%N) c1=$(ticks "$mon")
passive=$(nstat_of "$pid" TcpPassiveOpens)
active=$(nstat_of "$pid" TcpActiveOpens)
sleep 1 # the last closes are read and folded
hwm=$(hwm_kb "$mon")
cpu=$(cpu_pct "$c0" "$c1" $((t1 - t0)))
check_eq "connections: the container's exit status is its own" "$(timeout 60 docker wait "$id")" 5
docker rm "$id" >/dev/null
rec=$(records_of "$id")
tap_diag "connections: $conns in $(((t1 - t0) / 1000000)) ms; kernel: $passive passive, $active active opens; monitor: $cpu % of a core, peak RSS $hwm kB"
tap_diag "record: $(jq -c '.flows | {connections, capped, socket: .views.socket | {dumps, dumps_deferred, closes_seen, closes_lost}}' <<<"$rec")"
check "connections: the record is complete" record_complete <<<"$rec"
check_eq "connections: the socket view lost no close" "$(jq .flows.views.socket.closes_lost <<<"$rec")" false
# Both ends of every connection are the container's: each is accepted or opened, or, beyond the
# cap of connections followed at once, counted as untracked.
# Known defect (docs/limits.md): in some runs one connection of the 200,000 is not counted
# (200,000 for the kernel's 200,001 opens), with every close seen; not explained yet. The check
# allows that one and no more, and says when it happened.
counted=$(jq '.flows.connections | .accepted + .opened + .untracked' <<<"$rec")
check "connections: every one counted, as the kernel counts them (passive + active opens; at most one short: known)" \
  test "$counted" -le $((passive + active)) -a "$counted" -ge $((passive + active - 1))
[ "$counted" -eq $((passive + active)) ] ||
  tap_diag "KNOWN DEFECT: $counted connections counted, the kernel opened $((passive + active))"
check "connections: no more accepted than the kernel's passive opens, nor opened than its active" \
  test "$(jq .flows.connections.accepted <<<"$rec")" -le "$passive" -a \
  "$(jq .flows.connections.opened <<<"$rec")" -le "$active"
check_eq "connections: none failed" "$(jq .flows.connections.failed <<<"$rec")" 0
check "connections: the monitor's peak memory stays under ${MONITOR_RSS_CAP_KB} kB ($hwm kB)" \
  test "${hwm:-999999}" -lt "$MONITOR_RSS_CAP_KB"
check "connections: its CPU under 25 % of a core ($cpu %)" awk -v c="$cpu" 'BEGIN {exit !(c < 25)}'

# ---- a SYN flood with malformed frames -------------------------------------------------------
id=$(docker run -d --label measured-test=hostile_flows --runtime=measured-runc "$IMAGE" \
  sh -c 'mkdir -p /w && echo hello >/w/index.html && httpd -p 8080 -h /w && sleep 12; exit 6')
pid=$(docker inspect -f '{{.State.Pid}}' "$id")
mon=$(monitor_of "$id")
ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")
mac=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}' "$id")
# The host end of the container's veth: eth0@ifN in its namespace, N here. Frames go nowhere else.
peer=$(nsenter -t "$pid" -n ip -o link show eth0 | sed -nE 's/.*eth0@if([0-9]+):.*/\1/p')
veth=$(ip -o link | awk -F': ' -v i="$peer" '$1 == i {sub(/@.*/, "", $2); print $2}')
[ -n "$veth" ] && [ "$(basename "$(readlink "/sys/class/net/$veth/master")")" = docker0 ] ||
  { echo "Bail out! the container's veth on docker0 not found (peer index '$peer': '$veth')"; exit 1; }
net=$(cut -d. -f1,2 <<<"$ip").250 # no host there: nothing answers, nothing leaves the machine
for _ in $(seq 50); do wget -q -O /dev/null "http://$ip:8080/index.html" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s%N) c0=$(ticks "$mon")
sent=$("$tcpflood" --dev "$veth" --dst-mac "$mac" --dst "$ip" --dport 8080 --src-net "$net" --count 100000)
t1=$(date +%s%N)
tap_diag "flood: $sent in $(((t1 - t0) / 1000000)) ms into $veth"
check "flood: the server still answers" wget -q -O /dev/null -T 5 "http://$ip:8080/index.html"
sleep 4 # the half-open attempts fail (FLOWS_HALF_OPEN_MS)
t2=$(date +%s%N) c2=$(ticks "$mon")
hwm=$(hwm_kb "$mon")
cpu=$(cpu_pct "$c0" "$c2" $((t2 - t0)))
check_eq "flood: the container's exit status is its own" "$(timeout 60 docker wait "$id")" 6
docker rm "$id" >/dev/null
rec=$(records_of "$id")
syns=$(sed -E 's/.* ([0-9]+) syns.*/\1/' <<<"$sent")
malformed=$(sed -E 's/.* ([0-9]+) malformed.*/\1/' <<<"$sent")
tap_diag "flood: monitor $cpu % of a core over $(((t2 - t0) / 1000000)) ms, peak RSS $hwm kB"
tap_diag "record: $(jq -c '.flows | {connections, capped, packet: .views.packet}' <<<"$rec")"
tap_diag "missed: $(jq -c .missed <<<"$rec")"
check "flood: the record is complete" record_complete <<<"$rec"
dropped=$(jq .flows.views.packet.dropped <<<"$rec")
check "flood: every malformed frame counted as such (less any the ring dropped: $dropped)" \
  test "$(jq .flows.views.packet.malformed <<<"$rec")" -le "$malformed" -a \
  "$(jq .flows.views.packet.malformed <<<"$rec")" -ge $((malformed - dropped))
check "flood: the flow table reached its cap, and the record says how many it could not follow" \
  test "$(jq .flows.connections.untracked <<<"$rec")" -gt 0
check_contains "flood: ... in words too" "$(jq -r '.missed | join("; ")' <<<"$rec")" "beyond the cap"
# Every SYN is an attempt that failed, followed or not (less any the ring dropped); the test's
# own two requests may be among the untracked.
check "flood: every SYN is a failed attempt or an untracked one" \
  test "$(jq '.flows.connections | .failed + .untracked' <<<"$rec")" -ge $((syns - dropped)) -a \
  "$(jq '.flows.connections | .failed + .untracked' <<<"$rec")" -le $((syns + 2))
check "flood: the monitor's peak memory stays under ${MONITOR_RSS_CAP_KB} kB ($hwm kB)" \
  test "${hwm:-999999}" -lt "$MONITOR_RSS_CAP_KB"
check "flood: its CPU under 25 % of a core ($cpu %)" awk -v c="$cpu" 'BEGIN {exit !(c < 25)}'
tap_done
