#!/bin/bash
# The study "RunC and Kata runtime using Docker: a network perspective comparison", reproduced
# with measured: every runtime x driver pair (server, client) x CPU load x repetition. In each
# repetition a server container runs iperf3 -s, a sockperf server and the probe's reflector
# (and, under load, stress-ng CPU hogs, as in the study); a client container runs iperf3 -J and
# sockperf ping-pong, both under --runtime=measured-X, with measured's probe in front of the
# client. The same run yields the tools' own numbers and measured's records; the report sets
# them side by side, draws the figures and states the findings next to the study's.
#
#   contrib/paper/run.sh [--runtimes "runc runsc"] [--reps 15] [--quick] [--loads "none stress"]
#                        [--pairs "bridge/bridge host/bridge macvlan/macvlan overlay/overlay"]
#                        [--seconds 5] [--out DIR]
#   CLIENT_DOCKER_HOST=ssh://user@other-host SERVER_ADDRESS=10.0.0.5 contrib/paper/run.sh ...
#       runs the client side on a second engine, as the study did with two VMs (see docs/study.md).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
image=${MEASURED_TOOLS_IMAGE:-measured/tools}
probe_bin=${MEASURED_PROBE_BIN:-/usr/local/libexec/measured/measured-probe}
store=${MEASURED_STORE:-/var/lib/measured/samples.jsonl}
runtimes="" reps=15 loads="none stress" seconds=5
pairs="bridge/bridge host/bridge macvlan/macvlan overlay/overlay"
out=""
while [ $# -gt 0 ]; do
  case $1 in
  --runtimes) runtimes=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --quick) reps=3; seconds=2; shift ;;
  --loads) loads=$2; shift 2 ;;
  --pairs) pairs=$2; shift 2 ;;
  --seconds) seconds=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
  *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
tag="paper-$(date +%Y%m%dT%H%M%S)"
out=${out:-$PWD/results/$tag}
mkdir -p "$out/raw"
tools=$out/tools.jsonl
: >"$tools"
client_docker() { DOCKER_HOST=${CLIENT_DOCKER_HOST:-${DOCKER_HOST:-}} docker "$@"; }
log() { printf '%s\n' "$*" | tee -a "$out/run.log"; }
die() { log "run.sh: $*"; exit 1; }
two_hosts="" # the client side on a second engine, reached through CLIENT_DOCKER_HOST
if [ -n "${CLIENT_DOCKER_HOST:-}" ]; then
  two_hosts=1
  [ -n "${SERVER_ADDRESS:-}" ] || die "CLIENT_DOCKER_HOST needs SERVER_ADDRESS: this host's address as the client host reaches it"
fi

# ---- preparation (idempotent) ---------------------------------------------------------------------
if ! command -v measured >/dev/null || ! docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q measured-runc; then
  "$top/contrib/setup-debian.sh" || exit 1
fi
"$top/contrib/image/build-tools-image.sh" >/dev/null
if [ -n "$two_hosts" ]; then
  client_docker image inspect "$image" >/dev/null 2>&1 ||
    die "the client engine ($CLIENT_DOCKER_HOST) has no image $image: run contrib/setup-debian.sh on that host"
fi
created_networks=() client_networks=() swarm_inited="" client_joined="" made_parent="" had_gwbridge=""
docker network inspect docker_gwbridge >/dev/null 2>&1 && had_gwbridge=1
cleanup() {
  docker ps -aq --filter "label=measured-paper=$tag" | xargs -r docker rm -f >/dev/null 2>&1
  [ -n "$two_hosts" ] &&
    client_docker ps -aq --filter "label=measured-paper=$tag" | xargs -r client_docker rm -f >/dev/null 2>&1
  for n in "${client_networks[@]}"; do client_docker network rm "$n" >/dev/null 2>&1; done
  [ -n "$client_joined" ] && client_docker swarm leave --force >/dev/null 2>&1
  for n in "${created_networks[@]}"; do docker network rm "$n" >/dev/null 2>&1; done
  if [ -n "$swarm_inited" ]; then # leaving a swarm keeps the gateway bridge it made
    docker swarm leave --force >/dev/null 2>&1
    [ -n "$had_gwbridge" ] || docker network rm docker_gwbridge >/dev/null 2>&1
  fi
  [ -n "$made_parent" ] && ip link del msdpp0 2>/dev/null
}
trap cleanup EXIT
ensure_network() { # name, create arguments...
  local name=$1
  shift
  docker network inspect "$name" >/dev/null 2>&1 && return 0
  docker network create "$@" "$name" >/dev/null && created_networks+=("$name")
}
net_name() { # driver -> docker network name
  case $1 in
  bridge) echo bridge ;;
  host) echo host ;;
  macvlan) echo measured-paper-macvlan ;;
  overlay) echo measured-paper-overlay ;;
  *) echo "$1" ;;
  esac
}
needs() { case " $pairs " in *"$1"*) return 0 ;; esac; return 1; }
# macvlan: on one host, the parent is one end of a veth pair (no dummy links on this kernel);
# on two, a NIC of the shared L2 segment (MACVLAN_PARENT), the same subnet on both engines and
# disjoint address ranges so the two engines never hand out the same address. The subnet is from
# the benchmarking range (RFC 2544), outside Docker's default pools: a pool Docker picked for some
# bridge could otherwise overlap it.
macvlan_subnet=198.18.250.0/24
if needs macvlan; then
  parent=${MACVLAN_PARENT:-msdpp0}
  if [ -n "$two_hosts" ]; then
    [ -n "${MACVLAN_PARENT:-}" ] || die "macvlan on two hosts needs MACVLAN_PARENT: the NIC both hosts share an L2 segment on (or leave macvlan out with --pairs)"
    ensure_network measured-paper-macvlan -d macvlan -o "parent=$parent" --subnet "$macvlan_subnet" --ip-range 198.18.250.0/25 ||
      die "cannot create the macvlan network on $parent"
    if ! client_docker network inspect measured-paper-macvlan >/dev/null 2>&1; then
      client_docker network create -d macvlan -o "parent=$parent" --subnet "$macvlan_subnet" \
        --ip-range 198.18.250.128/25 measured-paper-macvlan >/dev/null ||
        die "cannot create the macvlan network on the client host's $parent"
      client_networks+=(measured-paper-macvlan)
    fi
  else
    if [ "$parent" = msdpp0 ] && ! ip link show msdpp0 >/dev/null 2>&1; then
      ip link add msdpp0 type veth peer name msdpp1 && ip link set msdpp0 up && ip link set msdpp1 up
      made_parent=1
    fi
    ensure_network measured-paper-macvlan -d macvlan -o "parent=$parent" --subnet "$macvlan_subnet" ||
      die "cannot create the macvlan network on $parent"
  fi
fi
# overlay: a swarm of this host (manager) and, on two hosts, the client host (worker); an
# attachable network, so plain containers can join it.
if needs overlay; then
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker swarm init --advertise-addr "${SERVER_ADDRESS:-127.0.0.1}" >/dev/null && swarm_inited=1 ||
      die "cannot start a swarm for the overlay network"
  fi
  if [ -n "$two_hosts" ] && [ "$(client_docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    client_docker swarm join --token "$(docker swarm join-token -q worker)" "$SERVER_ADDRESS:2377" >/dev/null &&
      client_joined=1 || die "the client host cannot join this host's swarm at $SERVER_ADDRESS:2377"
  fi
  ensure_network measured-paper-overlay -d overlay --attachable || die "cannot create the overlay network"
fi

# Runtimes: every registered measured runtime whose real binary runs a container here.
if [ -z "$runtimes" ]; then
  for r in $(docker info --format '{{json .Runtimes}}' | jq -r 'keys[] | select(startswith("measured-")) | sub("^measured-"; "")'); do
    if docker run --rm --runtime="measured-$r" "$image" true >/dev/null 2>&1 &&
      { [ -z "$two_hosts" ] || client_docker run --rm --runtime="measured-$r" "$image" true >/dev/null 2>&1; }; then
      runtimes="$runtimes $r"
    else
      log "skipping measured-$r: a container does not run with it here${two_hosts:+ or on the client host}"
    fi
  done
fi
runtimes=$(echo $runtimes)
[ -n "$runtimes" ] || { log "no runtime to measure"; exit 1; }

# gVisor's 2022 netstack fails iperf3 -s and sockperf's server (recvfrom EINVAL): under runsc the
# server side runs under runc, and the notes say so.
server_runtime() { case $1 in runsc*) echo runc ;; *) echo "$1" ;; esac; }
unsupported() { # runtime, server driver, client driver -> reason or nothing
  case $1 in kata*) [ "$2" = host ] || [ "$3" = host ] && echo "Kata cannot use the host network driver" ;; esac
}

total=0
for _ in $(seq "$reps"); do for _ in $loads; do for _ in $pairs; do for _ in $runtimes; do total=$((total + 1)); done; done; done; done
log "measured paper run $tag: runtimes [$runtimes], pairs [$pairs], loads [$loads], $reps repetition(s), ${seconds}s per tool: $total runs"
"$top/contrib/paper/machine.sh" "$runtimes" >"$out/machine.txt"
log "results in $out"

# ---- one repetition -----------------------------------------------------------------------------------
labels() { # role pair load rep
  echo "-e MEASURED_LABEL_run=$tag -e MEASURED_LABEL_role=$1 -e MEASURED_LABEL_pair=$2 -e MEASURED_LABEL_load=$3 -e MEASURED_LABEL_rep=$4"
}

tool_line() { # kind runtime client-driver pair load rep [tool-json] [reason]
  jq -cn --arg kind "$1" --arg rt "$2" --arg drv "$3" --arg pair "$4" --arg load "$5" --arg rep "$6" \
    --argjson tool "${7:-null}" --arg reason "${8:-}" --arg run "$tag" \
    '{schema: 1, kind: $kind, runtime: {name: $rt}, network: {driver: $drv},
      labels: {pair: $pair, load: $load, rep: $rep, run: $run, role: "client"}}
     + (if $tool != null then {tool: $tool} else {} end)
     + (if $reason != "" then {reason: $reason} else {} end)' >>"$tools"
}

server_address() { # container, server driver
  if [ -n "$two_hosts" ] && { [ "$2" = host ] || [ "$2" = bridge ]; }; then
    echo "$SERVER_ADDRESS" # the host itself, or the bridge container's published ports
  elif [ "$2" = host ]; then # the host as the bridge's containers see it: docker0's address
    local dev
    dev=$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')
    ip -4 -o addr show dev "${dev:-docker0}" | awk '{sub(/\/.*/, "", $4); print $4; exit}'
  else
    docker inspect -f "{{(index .NetworkSettings.Networks \"$(net_name "$2")\").IPAddress}}" "$1"
  fi
}

# On two hosts a bridge server is reached through published ports: iperf3, sockperf, reflector.
published_ports() { # server driver
  [ -n "$two_hosts" ] && [ "$1" = bridge ] &&
    echo "-p 5201:5201 -p 11111:11111 -p 7447:7447 -p 7447:7447/udp"
}

run_one() { # runtime server-driver client-driver load rep dir
  local rt=$1 sd=$2 cd=$3 load=$4 rep=$5 dir=$6 pair="$2/$3" srv ip stress=""
  [ "$load" = stress ] && stress="stress-ng --cpu $(nproc) --timeout 3600s >/dev/null 2>&1 &"
  srv=$(docker run -d --label "measured-paper=$tag" --runtime="measured-$(server_runtime "$rt")" \
    --network "$(net_name "$sd")" $(published_ports "$sd") $(labels server "$pair" "$load" "$rep") \
    -v "$probe_bin:/measured-probe:ro" "$image" sh -c \
    "$stress /measured-probe reflector >/dev/null & iperf3 -s >/dev/null 2>&1 & exec sockperf server --tcp -p 11111 >/dev/null 2>&1") || return 1
  sleep 1
  ip=$(server_address "$srv" "$sd")
  [ -n "$ip" ] || { docker rm -f "$srv" >/dev/null; return 1; }
  # Each tool's output and errors are kept apart; one tool failing does not cost the other's
  # figures or measured's record (gVisor's netstack fails sockperf's recvfrom, for one).
  client_docker run --rm --label "measured-paper=$tag" --runtime="measured-$rt" \
    --network "$(net_name "$cd")" $(labels client "$pair" "$load" "$rep") \
    -e MEASURED_PROBE=latency,bandwidth -e "MEASURED_PEER=$ip" \
    -e MEASURED_PROBE_BANDWIDTH_MS=$((seconds * 1000)) -e MEASURED_PROBE_LATENCY_MS=$((seconds * 500)) \
    -e MEASURED_PROBE_BUDGET_MS=$((seconds * 3000 + 3000)) -v "$dir:/out" "$image" sh -c \
    "iperf3 -c $ip -t $seconds -J >/out/iperf3.json 2>/out/iperf3.err; echo \$? >/out/iperf3.rc
     sockperf ping-pong --tcp -i $ip -p 11111 -t $seconds -m 64 --full-rtt >/out/sockperf.txt 2>&1
     echo \$? >/out/sockperf.rc" >"$dir/client.log" 2>&1
  local rc=$?
  docker rm -f "$srv" >/dev/null 2>&1
  [ $rc -eq 0 ] || { log "    the client container failed (exit $rc): $(tail -1 "$dir/client.log")"; return 1; }
  local bps p50 p99 failures=()
  # iperf3 may print a warning ahead of its JSON (under gVisor: "Size of data read does not
  # correspond to offered length"); the JSON starts at the first line that opens an object.
  bps=$(sed -n '/^{/,$p' "$dir/iperf3.json" | jq -e '.end.sum_received.bits_per_second // empty' 2>/dev/null) ||
    failures+=("iperf3: $(tool_error "$dir/iperf3.err" "$dir/iperf3.json")")
  p50=$(grep -o 'percentile 50.000 = *[0-9.]*' "$dir/sockperf.txt" 2>/dev/null | grep -o '[0-9.]*$')
  p99=$(grep -o 'percentile 99.000 = *[0-9.]*' "$dir/sockperf.txt" 2>/dev/null | grep -o '[0-9.]*$')
  [ -n "$p50" ] || failures+=("sockperf: $(tool_error "$dir/sockperf.txt")")
  local f
  for f in "${failures[@]}"; do log "    $f"; done
  tool_line tool "$rt" "$cd" "$pair" "$load" "$rep" "$(jq -cn --arg b "$bps" --arg a "$p50" --arg c "$p99" \
    '{} + (if $b != "" then {iperf3_bits_per_s: ($b|tonumber)} else {} end)
        + (if $a != "" then {sockperf_p50_us: ($a|tonumber)} else {} end)
        + (if $c != "" then {sockperf_p99_us: ($c|tonumber)} else {} end)')" \
    "$(printf '%s; ' "${failures[@]}" | sed 's/; $//')"
}

tool_error() { # files... -> the first line that says what went wrong, or a generic phrase
  local line
  line=$(cat "$@" 2>/dev/null | grep -m1 -iE 'error|fail|refused|unable' |
    sed -E 's/\x1b\[[0-9;]*m//g; s/^[[:space:]"]*(error"?:)?[[:space:]"]*//; s/"?,?[[:space:]]*$//; s/^sockperf: //' | cut -c1-160)
  echo "${line:-no result in its output}"
}

done_runs=0 failed=0 start=$(date +%s)
for rep in $(seq "$reps"); do
  for load in $loads; do
    for pair in $pairs; do
      for rt in $runtimes; do
        sd=${pair%/*} cd=${pair#*/}
        done_runs=$((done_runs + 1))
        elapsed=$(($(date +%s) - start))
        eta=$((done_runs > 1 ? elapsed * (total - done_runs + 1) / (done_runs - 1) : 0))
        printf '[%d/%d] %-6s %-16s load=%-6s rep %d/%d  (ETA %dm%02ds)\n' "$done_runs" "$total" \
          "$rt" "$pair" "$load" "$rep" "$reps" $((eta / 60)) $((eta % 60)) | tee -a "$out/run.log"
        reason=$(unsupported "$rt" "$sd" "$cd")
        if [ -n "$reason" ]; then
          tool_line unsupported "$rt" "$cd" "$pair" "$load" "$rep" null "$reason"
          continue
        fi
        dir="$out/raw/$rt/${pair//\//-}/$load/$rep"
        mkdir -p "$dir"
        if ! run_one "$rt" "$sd" "$cd" "$load" "$rep" "$dir"; then
          failed=$((failed + 1))
          log "    failed (kept going); raw output in $dir"
          tool_line failed "$rt" "$cd" "$pair" "$load" "$rep" null "the repetition did not complete"
        fi
      done
    done
  done
done
log "$((done_runs - failed)) of $done_runs repetitions completed in $(($(date +%s) - start)) s"

# ---- the report ---------------------------------------------------------------------------------------
sleep 1
grep "\"run\":\"$tag\"" "$store" >"$out/records.jsonl" 2>/dev/null
if [ -n "$two_hosts" ]; then # the client's records are in the client host's store: read it there
  client_docker run --rm --network none -v "$(dirname "$store"):/store:ro" "$image" \
    grep "\"run\":\"$tag\"" "/store/$(basename "$store")" >>"$out/records.jsonl" ||
    log "could not read the client host's store $store: its records are missing from the report"
  awk '!seen[$0]++' "$out/records.jsonl" >"$out/records.tmp" && mv "$out/records.tmp" "$out/records.jsonl" # one store, if both engines are one host
fi
R=(measured report "$out/records.jsonl" "$tools" --label "run=$tag" --label role=client --by runtime,pair,load)
base=$(echo $runtimes | awk '{print $1}')
"${R[@]}" --baseline "$base" | tee "$out/report.txt"
"${R[@]}" --format csv >"$out/report.csv"
"${R[@]}" --format json --baseline "$base" >"$out/report.json"
"${R[@]}" --plot "$out/figures" >/dev/null
"$top/contrib/paper/summary.sh" "$out/report.json" "$base" "$runtimes" "$tools" | tee "$out/summary.txt"
