#!/usr/bin/env bash
# cluster.sh: a three-node Apache Kafka cluster (KRaft, each node broker and
# controller, as Strimzi's combined node pools) on 127.0.0.1 for the
# broker-failure test: replication factor 3, min.insync.replicas 2, unclean
# leader election off. Uses kafka.sh's jars, ports and cluster ids.
#
#   cluster.sh start         format + start three nodes, wait until all three
#                            are registered, print the bootstrap list
#   cluster.sh stop          stop every node, remove the data dirs
#   cluster.sh bootstrap     print the bootstrap list
#   cluster.sh kill N        kill -9 node N (1-3)
#   cluster.sh stop-node N   SIGTERM node N (controlled shutdown), wait for it
#   cluster.sh start-node N  start node N again on its data, wait until it answers
#   cluster.sh pid N         node N's pid (nothing when it is down)
#
# Environment: KH_KAFKA_STATE (state dir), KH_KAFKA_HEAP (default 384m per
# node: three JVMs share the 2-core test machine), KH_KAFKA_VERSION.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KH_KAFKA_HEAP=${KH_KAFKA_HEAP:-384m}
# shellcheck source=deploy/kafka/kafka.sh
. "$here/kafka.sh"
nodes=3

node_dir() { cat "$state/node$1/datadir"; }

node_pid() {
    local f=$state/node$1/pid pid cmdline
    [[ -f $f ]] || return 0
    pid=$(cat "$f")
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 0
    [[ $cmdline == *"kafka.Kafka $(node_dir "$1")/server.properties"* ]] && echo "$pid"
    return 0
}

# The number of brokers a Metadata request to port $1 lists (0 when none answers).
broker_count() {
    local reply
    # shellcheck disable=SC2016
    reply=$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x2a\x00\x05khprb\xff\xff\xff\xff\x00" >&3
        head -c 16 <&3 | od -An -v -tx1 | tr -d " \n"' _ "$1" 2>/dev/null) || { echo 0; return; }
    [[ ${#reply} -eq 32 && ${reply:8:8} == 0000002a ]] || { echo 0; return; }
    echo $((16#${reply:24:8}))
}

node_config() { # node_config N datadir port voters
    cat >"$2/server.properties" <<EOC
process.roles=broker,controller
node.id=$1
controller.quorum.voters=$4
listeners=PLAINTEXT://127.0.0.1:$3,CONTROLLER://127.0.0.1:$(cat "$state/node$1/cport")
advertised.listeners=PLAINTEXT://127.0.0.1:$3
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$2/logs
auto.create.topics.enable=false
num.partitions=12
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=12
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
# Notice a dead follower in 10 s rather than 30, so the in-sync set (and
# with it acks=all) reacts within the test's time.
replica.lag.time.max.ms=10000
EOC
    write_log4j "$2"
}

start_node() {
    local n=$1 dir port
    dir=$(node_dir "$n")
    port=$(cat "$state/node$n/port")
    setsid java -Djava.awt.headless=true -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$lib/*" \
        -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1 \
        kafka.Kafka "$dir/server.properties" >>"$state/node$n/kafka.log" 2>&1 </dev/null 8>&- 9>&- &
    echo $! >"$state/node$n/pid"
}

# Waits until node $1 answers and lists $2 brokers.
wait_node() {
    local n=$1 want=$2 deadline=$((SECONDS + start_timeout)) port
    port=$(cat "$state/node$n/port")
    until (($(broker_count "$port") >= want)); do
        if [[ -z $(node_pid "$n") ]]; then
            grep -q 'Address already in use' "$state/node$n/kafka.log" && { log "node $n lost a port to another process"; exit "$port_lost"; }
            tail -n 20 "$state/node$n/kafka.log" >&2
            die "node $n exited (log $state/node$n/kafka.log)"
        fi
        ((SECONDS < deadline)) || die "node $n did not list $want brokers within ${start_timeout}s"
        sleep 0.3
    done
}

# Another process may take a port between choosing it and the node binding
# it (other tests run brokers too): then the whole cluster starts again on
# fresh ports, up to three times, as kafka.sh does for one broker.
cluster_start() {
    local attempt rc
    for attempt in 1 2 3; do
        rc=0
        (cluster_start_once) || rc=$?
        ((rc == port_lost)) || return "$rc"
        log "a port was taken between check and bind (attempt $attempt); retrying on other ports"
        cluster_stop >/dev/null 2>&1
    done
    die "the cluster could not bind its ports in 3 attempts"
}

cluster_start_once() {
    [[ ! -d $state/node1 || -z $(node_pid 1)$(node_pid 2)$(node_pid 3) ]] || die "a cluster is running; '$0 stop' first"
    cmd_fetch
    local n voters="" id used="" p c dir t0
    t0=$(date +%s%N)
    for ((n = 1; n <= nodes; n++)); do
        mkdir -p "$state/node$n"
        p=$(free_port "$used"); used="$used $p"
        c=$(free_port "$used"); used="$used $c"
        echo "$p" >"$state/node$n/port"; echo "$c" >"$state/node$n/cport"
        voters+="${voters:+,}$n@127.0.0.1:$c"
    done
    id=$(new_cluster_id)
    for ((n = 1; n <= nodes; n++)); do
        dir=$(mktemp -d "${TMPDIR:-/tmp}/kh-kafka.XXXXXX")
        echo "$dir" >"$state/node$n/datadir"
        node_config "$n" "$dir" "$(cat "$state/node$n/port")" "$voters"
        java -cp "$lib/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" -Xmx256m -XX:TieredStopAtLevel=1 \
            kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$state/node$n/kafka.log" 2>&1 ||
            { cat "$state/node$n/kafka.log" >&2; die "formatting node $n failed"; }
    done
    for ((n = 1; n <= nodes; n++)); do start_node "$n"; done
    for ((n = 1; n <= nodes; n++)); do wait_node "$n" "$nodes"; done
    cluster_bootstrap >"$state/bootstrap"
    log "Apache Kafka $version cluster of $nodes nodes ready in $((($(date +%s%N) - t0) / 1000000)) ms: $(cat "$state/bootstrap") (logs $state/node*/kafka.log)"
    cat "$state/bootstrap"
}

cluster_bootstrap() {
    local n out=""
    for ((n = 1; n <= nodes; n++)); do out+="${out:+,}127.0.0.1:$(cat "$state/node$n/port")"; done
    echo "$out"
}

stop_node() { # stop_node N signal
    local pid i
    pid=$(node_pid "$1")
    [[ -n $pid ]] || return 0
    kill "-$2" "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "node $1 (pid $pid) ignored SIG$2 for 60 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

cluster_stop() {
    local n dir
    for ((n = 1; n <= nodes; n++)); do
        [[ -d $state/node$n ]] || continue
        stop_node "$n" TERM &
    done
    wait
    for ((n = 1; n <= nodes; n++)); do
        [[ -f $state/node$n/datadir ]] || continue
        dir=$(node_dir "$n")
        [[ $dir == */kh-kafka.* && -d $dir ]] && rm -rf "$dir"
        rm -rf "$state/node$n"
    done
    rm -f "$state/bootstrap"
}

node_arg() {
    [[ ${1:-} =~ ^[1-3]$ ]] || die "expected a node number 1-3, not '${1:-}'"
    [[ -f $state/node$1/datadir ]] || die "no cluster in $state"
}

mkdir -p "$state"
case ${1:-} in
    start) locked cluster_start ;;
    stop) locked cluster_stop ;;
    bootstrap) cat "$state/bootstrap" ;;
    kill) node_arg "${2:-}"; stop_node "$2" KILL ;;
    stop-node) node_arg "${2:-}"; stop_node "$2" TERM ;;
    start-node)
        node_arg "${2:-}"
        [[ -z $(node_pid "$2") ]] || die "node $2 is running"
        start_node "$2"
        wait_node "$2" 1
        ;;
    pid) node_arg "${2:-}"; node_pid "$2" ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
