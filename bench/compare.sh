#!/usr/bin/env bash
# bench/compare.sh: Roost, etcd and ZooKeeper side by side on this machine, the same load against
# each (https://github.com/etcd-io/etcd/blob/main/tools/benchmark's shape: closed-loop clients
# sharing --connections client instances).
#
# What it does, for each store in turn (one cluster at a time):
#   1. starts a 3-node cluster on 127.0.0.1, fsync on (Roost: Ratis syncs its log; etcd: its WAL,
#      always; ZooKeeper: forceSync=yes), in a fresh temporary directory, on its own ports
#      (BASE_PORT+1.. Roost, +201.. etcd, +301.. ZooKeeper), and waits until every node is healthy.
#      Every store runs plaintext, Roost too (--insecure): etcd and ZooKeeper run without TLS here,
#      so TLS on Roost alone would tilt the comparison;
#   2. runs kv-put, then kv-get: java -cp bench/target/roost-bench.jar dev.roost.bench.Compare,
#      CLIENTS closed-loop callers sharing CONNECTIONS client instances, VALUE_SIZE-byte values
#      over KEYS keys (created first), WARMUP s unmeasured then DURATION s measured. Reads: Roost
#      and etcd linearizable; ZooKeeper getData from the connected server (its local read);
#   3. stops exactly the processes it started (by pid; also on Ctrl-C or failure).
# Then it prints one table of all results; OUT gets one JSON file per run, results.txt (the
# table) and environment.txt (versions, cores). The temporary directory (data, server logs) is
# deleted on success and kept, with its path printed, on failure or with KEEP=1.
#
# What it installs: the Debian packages etcd-server and zookeeper (and curl) with apt-get, only if
# missing; needs root or sudo for that. The packages' own services (etcd on 2379, ZooKeeper on
# 2181) are not used, stopped or started: the runs use their own ports and data directories.
# Builds server/target/roost-server.jar and bench/target/roost-bench.jar if missing (REBUILD=1:
# always).
#
# Warm-up: 120 s by default, because the JVM servers (Roost, ZooKeeper) are still compiling their
# hot paths for the first minutes of full load on 2 cores: Roost's puts went from 8,171/s after a
# 20 s warm-up to 16,942/s after 120 s, ZooKeeper's setData from 5,632 to 6,740; etcd (Go) does not
# warm up (7,264 and 6,299, within its run-to-run spread). WARMUP=20 gives the cold figures.
#
# How long: per store about 2 x (WARMUP + DURATION) plus start-up and key creation, so with the
# defaults (120 s + 30 s) about 6 minutes a store, 18 minutes in all (measured); DURATION=5
# WARMUP=3 takes about 2 minutes. The first run adds the apt-get install and the Maven build (a few minutes).
#
# Usage: bench/compare.sh [roost] [etcd] [zookeeper] [ratis]   (default: the first three, in that order)
#   ratis: Roost's cluster again, loaded through Ratis' own client (one Ratis request per put, no
#   RoostClient batching): the floor a Ratis request costs on its own.
# Settings (environment): DURATION=30 WARMUP=120 CLIENTS=64 CONNECTIONS=1 VALUE_SIZE=256
#   KEYS=10000 WORKLOADS="kv-put kv-get" BASE_PORT=24000 OUT=bench/results/<date-time> KEEP=0 REBUILD=0
#   SERVER_JAVA_OPTS="-Xmx1g -XX:+UseSerialGC" (Roost and ZooKeeper servers; ./roost up's)
# Example: DURATION=10 WARMUP=5 CONNECTIONS=8 bench/compare.sh etcd roost
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-30}"
WARMUP="${WARMUP:-120}"
CLIENTS="${CLIENTS:-64}"
CONNECTIONS="${CONNECTIONS:-1}"
VALUE_SIZE="${VALUE_SIZE:-256}"
KEYS="${KEYS:-10000}"
WORKLOADS="${WORKLOADS:-kv-put kv-get}"
BASE_PORT="${BASE_PORT:-24000}"
OUT="${OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)}"
KEEP="${KEEP:-0}"
REBUILD="${REBUILD:-0}"
SERVER_JAVA_OPTS="${SERVER_JAVA_OPTS:--Xmx1g -XX:+UseSerialGC}"
STORES=("$@")
[ ${#STORES[@]} -gt 0 ] || STORES=(roost etcd zookeeper)

SERVER_JAR="$ROOT/server/target/roost-server.jar"
BENCH_JAR="$ROOT/bench/target/roost-bench.jar"
ZK_JAR=/usr/share/java/zookeeper.jar # Debian's; its manifest lists the jars it needs
WORK=""
PIDS=()

log() { echo "== $*" >&2; }
die() { echo "compare.sh: $*" >&2; exit 1; }

# Stops the processes this script started: TERM, then KILL after 10 s. Nothing else.
stop_cluster() {
  local pid deadline
  [ ${#PIDS[@]} -gt 0 ] || return 0
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  deadline=$((SECONDS + 10))
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

on_exit() {
  local status=$?
  stop_cluster
  if [ -n "$WORK" ]; then
    if [ $status -ne 0 ] || [ "$KEEP" = 1 ]; then
      echo "compare.sh: data and server logs kept in $WORK" >&2
    else
      rm -rf "$WORK"
    fi
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

install_packages() {
  local missing=()
  command -v etcd >/dev/null || missing+=(etcd-server)
  [ -f "$ZK_JAR" ] || missing+=(zookeeper)
  command -v curl >/dev/null || missing+=(curl)
  [ ${#missing[@]} -gt 0 ] || return 0
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  log "installing ${missing[*]} (apt-get)"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >&2
}

build_jars() {
  if [ "$REBUILD" = 1 ] || [ ! -f "$SERVER_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
    log "building the server and bench jars (./mvnw package -pl server,bench -am)"
    (cd "$ROOT" && ./mvnw -q -B package -DskipTests -pl server,bench -am) >&2
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports_free() {
  local p
  for p in "$@"; do port_free "$p" || die "port $p is in use; choose another BASE_PORT"; done
}

# Polls a check until it succeeds for every node, or fails after 90 s.
await_healthy() {
  local what="$1" check="$2" deadline=$((SECONDS + 90)) i pid
  shift 2
  for i in "$@"; do
    until "$check" "$i"; do
      [ $SECONDS -lt $deadline ] || die "$what node $i not healthy after 90 s (logs: $WORK)"
      for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || die "a $what server exited (logs: $WORK)"
      done
      sleep 0.5
    done
  done
  log "$what: 3 nodes healthy"
}

# --- Roost: the server jar, as ./roost up --insecure runs it --------------------------------
roost_raft() { echo $((BASE_PORT + $1)); }
roost_client() { echo $((BASE_PORT + 50 + $1)); }
roost_http() { echo $((BASE_PORT + 100 + $1)); }
roost_ready() { curl -sf "http://127.0.0.1:$(roost_http "$1")/ready" >/dev/null; }

start_roost() {
  local dir="$WORK/roost" peers="" i
  mkdir -p "$dir"
  check_ports_free $(for i in 1 2 3; do roost_raft $i; roost_client $i; roost_http $i; done)
  for i in 1 2 3; do peers+="${peers:+,}n$i=127.0.0.1:$(roost_raft $i)/$(roost_client $i)"; done
  for i in 1 2 3; do
    # shellcheck disable=SC2086
    java $SERVER_JAVA_OPTS -jar "$SERVER_JAR" --id "n$i" --peers "$peers" \
      --data-dir "$dir/n$i" --http "127.0.0.1:$(roost_http $i)" --log-file "$dir/n$i.log" \
      --insecure >"$dir/n$i.out" 2>&1 &
    PIDS+=($!)
  done
  await_healthy roost roost_ready 1 2 3
  ENDPOINTS="$peers"
}

start_ratis() { start_roost; }

# --- etcd: three etcd processes, static bootstrap -------------------------------------------
etcd_client() { echo $((BASE_PORT + 200 + $1)); }
etcd_peer() { echo $((BASE_PORT + 210 + $1)); }
etcd_healthy() { curl -sf "http://127.0.0.1:$(etcd_client "$1")/health" | grep -q '"health":"true"'; }

start_etcd() {
  local dir="$WORK/etcd" cluster="" endpoints="" i
  mkdir -p "$dir"
  check_ports_free $(for i in 1 2 3; do etcd_client $i; etcd_peer $i; done)
  for i in 1 2 3; do
    cluster+="${cluster:+,}e$i=http://127.0.0.1:$(etcd_peer $i)"
    endpoints+="${endpoints:+,}127.0.0.1:$(etcd_client $i)"
  done
  for i in 1 2 3; do
    etcd --name "e$i" --data-dir "$dir/e$i" \
      --listen-client-urls "http://127.0.0.1:$(etcd_client $i)" \
      --advertise-client-urls "http://127.0.0.1:$(etcd_client $i)" \
      --listen-peer-urls "http://127.0.0.1:$(etcd_peer $i)" \
      --initial-advertise-peer-urls "http://127.0.0.1:$(etcd_peer $i)" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token roost-compare --logger zap --log-level warn \
      >"$dir/e$i.out" 2>&1 &
    PIDS+=($!)
  done
  await_healthy etcd etcd_healthy 1 2 3
  ENDPOINTS="$endpoints"
}

# --- ZooKeeper: three QuorumPeerMain JVMs from Debian's jars ---------------------------------
zk_client() { echo $((BASE_PORT + 300 + $1)); }
zk_quorum() { echo $((BASE_PORT + 310 + $1)); }
zk_election() { echo $((BASE_PORT + 320 + $1)); }
zk_serving() {
  local reply
  reply="$({ exec 3<>"/dev/tcp/127.0.0.1/$(zk_client "$1")" && printf srvr >&3 &&
    timeout 2 cat <&3; } 2>/dev/null)" || return 1
  grep -Eq '^Mode: (leader|follower)' <<<"$reply"
}

start_zookeeper() {
  local dir="$WORK/zookeeper" servers="" endpoints="" cp="$ZK_JAR" i
  mkdir -p "$dir"
  check_ports_free $(for i in 1 2 3; do zk_client $i; zk_quorum $i; zk_election $i; done)
  for i in 1 2 3; do
    servers+="server.$i=127.0.0.1:$(zk_quorum $i):$(zk_election $i)"$'\n'
    endpoints+="${endpoints:+,}127.0.0.1:$(zk_client $i)"
  done
  # Server logs through slf4j-simple (warnings and errors) when Debian has it.
  [ ! -f /usr/share/java/slf4j-simple.jar ] || cp+=":/usr/share/java/slf4j-simple.jar"
  for i in 1 2 3; do
    mkdir -p "$dir/z$i"
    echo "$i" >"$dir/z$i/myid"
    cat >"$dir/z$i.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/z$i
clientPort=$(zk_client $i)
clientPortAddress=127.0.0.1
forceSync=yes
admin.enableServer=false
4lw.commands.whitelist=srvr
$servers
EOF
    # shellcheck disable=SC2086
    java $SERVER_JAVA_OPTS -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/z$i.cfg" >"$dir/z$i.out" 2>&1 &
    PIDS+=($!)
  done
  await_healthy zookeeper zk_serving 1 2 3
  ENDPOINTS="$endpoints"
}

run_load() {
  local store="$1" workload="$2" tls=()
  # Roost's servers run --insecure (start_roost); the other stores' clients take no such option.
  case "$store" in roost | ratis) tls=(--insecure) ;; esac
  log "$store $workload: $CLIENTS clients over $CONNECTIONS connections, ${WARMUP}s + ${DURATION}s"
  java -cp "$BENCH_JAR" dev.roost.bench.Compare "$workload" --store "$store" --endpoints "$ENDPOINTS" \
    ${tls[@]+"${tls[@]}"} --clients "$CLIENTS" --connections "$CONNECTIONS" --duration "$DURATION" \
    --warmup "$WARMUP" --value-size "$VALUE_SIZE" --keys "$KEYS" -o json \
    >"$OUT/$store-$workload.json"
}

for store in "${STORES[@]}"; do
  case "$store" in roost | etcd | zookeeper | ratis) ;; *) die "unknown store $store" ;; esac
done
install_packages
build_jars
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/roost-compare.XXXXXX")"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "cores: $(nproc); $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "etcd: $(etcd --version | head -1)"
  echo "zookeeper: $(dpkg-query -W -f '${Version}' zookeeper 2>/dev/null || echo unknown)"
  echo "roost: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "settings: DURATION=$DURATION WARMUP=$WARMUP CLIENTS=$CLIENTS CONNECTIONS=$CONNECTIONS" \
    "VALUE_SIZE=$VALUE_SIZE KEYS=$KEYS SERVER_JAVA_OPTS=$SERVER_JAVA_OPTS"
} >"$OUT/environment.txt"

RESULTS=()
for store in "${STORES[@]}"; do
  log "$store: starting 3 nodes"
  "start_$store"
  for workload in $WORKLOADS; do
    run_load "$store" "$workload"
    RESULTS+=("$OUT/$store-$workload.json")
  done
  log "$store: stopping"
  stop_cluster
done

java -cp "$BENCH_JAR" dev.roost.bench.Compare table "${RESULTS[@]}" | tee "$OUT/results.txt"
log "results in $OUT"
