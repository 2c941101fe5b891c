#!/usr/bin/env bash
# kafka.sh: a real, single-node Apache Kafka (KRaft broker + controller) on
# 127.0.0.1 for tests and benchmarks. The jars come from Maven Central (the
# Kafka tarball host is not reachable here); the data lives in a temp dir
# that `stop` removes. See README.md beside this file.
#
#   kafka.sh fetch       resolve the Kafka jars into the cache (idempotent)
#   kafka.sh start       format + start a broker, wait until it answers, print bootstrap
#   kafka.sh stop        stop it and remove its data dir (idempotent)
#   kafka.sh bootstrap   print the running broker's bootstrap address
#   kafka.sh status      exit 0 if a broker is running
#   kafka.sh cluster-id [N]  print N fresh cluster ids (default 1), for tests
#   kafka.sh client-config USER  (KH_KAFKA_SECURITY=sasl_ssl) the path of USER's
#                        ketenhub client configuration (TLS + SCRAM-SHA-512)
#   kafka.sh acls        (sasl_ssl) create the ACLs read from stdin, as
#                        `ketenhub topics acls` prints them, as the admin
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

version=${KH_KAFKA_VERSION:-4.4.0}
cache=${KH_KAFKA_CACHE:-$root/.cache/kafka}
lib=$cache/$version/lib
state=${KH_KAFKA_STATE:-$root/.cache/kafka/run}
heap=${KH_KAFKA_HEAP:-512m}
# plaintext: one PLAINTEXT listener, no authentication (the tests' default).
# sasl_ssl: clients connect with TLS and SASL/SCRAM-SHA-512, every request is
# authorised by the StandardAuthorizer (KRaft's) against ACLs; see README.md.
security=${KH_KAFKA_SECURITY:-plaintext}
[[ $security == plaintext || $security == sasl_ssl ]] ||
    { echo "kafka.sh: error: KH_KAFKA_SECURITY=$security: expected plaintext or sasl_ssl" >&2; exit 1; }
# The SCRAM users made at format time in sasl_ssl mode: the admin (a super
# user, also the brokers' own inter-broker identity) and one per service of
# deploy/principals.tsv.
scram_users=(admin ketenhub-ingest ketenhub-route ketenhub-push ketenhub-watch ketenhub-cli)
start_timeout=${KH_KAFKA_START_TIMEOUT:-90}

die() {
    echo "kafka.sh: error: $*" >&2
    exit 1
}

log() {
    echo "kafka.sh: $*" >&2
}

# The pom and version that produced a lib/ dir; a mismatch means refetch.
fetch_stamp() {
    echo "$version $(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
}

fetched() {
    [[ -f $lib/.fetched && $(cat "$lib/.fetched") == "$(fetch_stamp)" ]]
}

cmd_fetch() {
    fetched && return 0
    # Parallel fetches (two test runs at once) would swap lib/ under each other.
    mkdir -p "$cache"
    exec 8>"$cache/fetch.lock"
    flock -w 600 8 || die "another kafka.sh fetch holds $cache/fetch.lock"
    fetched || download
    exec 8>&-
}

download() {
    command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
    command -v java >/dev/null || die "java not found (Kafka $version needs Java 17: apt-get install openjdk-17-jre-headless)"
    log "fetching Apache Kafka $version jars from Maven Central into $lib"
    # Copy into a scratch dir and rename, so an interrupted fetch never
    # leaves a half-filled lib/ that looks complete.
    mkdir -p "$cache/$version"
    local tmp
    tmp=$(mktemp -d "$cache/$version/lib.tmp.XXXXXX")
    if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" -Dkafka.version="$version" \
            dependency:copy-dependencies -DincludeScope=runtime \
            -DoutputDirectory="$tmp" >"$tmp.mvn.log" 2>&1; then
        sed 's/\x1b\[[0-9;]*m//g' "$tmp.mvn.log" | tail -n 40 >&2
        rm -rf "$tmp" "$tmp.mvn.log"
        rmdir "$cache/$version" 2>/dev/null || true
        die "could not fetch Apache Kafka $version from Maven Central (see above)"
    fi
    rm -f "$tmp.mvn.log"
    if [[ ! -f $tmp/kafka_2.13-$version.jar ]]; then
        rm -rf "$tmp"
        die "Maven finished but kafka_2.13-$version.jar is missing"
    fi
    fetch_stamp >"$tmp/.fetched"
    rm -rf "$lib"
    mv "$tmp" "$lib"
}

# pid of the running broker, or nothing. The pid file alone is not trusted:
# the pid must still be a java process running kafka.Kafka on our data dir.
running_pid() {
    [[ -f $state/pid && -f $state/datadir ]] || return 0
    local pid datadir cmdline
    pid=$(cat "$state/pid")
    datadir=$(cat "$state/datadir")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
    if [[ $cmdline == *"kafka.Kafka $datadir/server.properties"* ]]; then
        echo "$pid"
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The ports free_port picks from, "low high": below Linux's ephemeral range
# (net.ipv4.ip_local_port_range), where the kernel hands out the source ports
# of outgoing connections; a port picked inside it can be taken by any client
# between our check and the broker's bind. Above the range when there is no
# room below.
port_range() {
    local lo=32768 hi=60999
    if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
        read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
    fi
    if ((lo - 10000 >= 1000)); then
        echo "10000 $((lo - 1))"
    elif ((65535 - hi >= 1000)); then
        echo "$((hi + 1)) 65535"
    else
        die "the ephemeral port range $lo-$hi leaves no room for the broker's ports; set KH_KAFKA_PORT and KH_KAFKA_CONTROLLER_PORT"
    fi
}

# A random port in port_range nobody listens on, other than $1. Another
# server can still bind it before the broker does: cmd_start retries then.
free_port() {
    local port i lo hi
    read -r lo hi <<<"$(port_range)"
    for ((i = 0; i < 100; i++)); do
        port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
        if ! port_in_use "$port" && [[ $port != "${1:-}" ]]; then
            echo "$port"
            return 0
        fi
    done
    die "no free port found on 127.0.0.1 in $lo-$hi"
}

# A KRaft cluster id: a random 16-byte UUID in unpadded base64url (22
# characters), made here to save one JVM start (kafka-storage random-uuid).
# As Kafka's own Uuid.randomUuid() does, it is drawn again while it starts
# with '-' (the storage tool would take it for an option: 1 draw in 64) or is
# one of the ids Kafka reserves (all zero; 1, the metadata topic's).
new_cluster_id() {
    local id
    while :; do
        id=$(head -c 16 /dev/urandom | basenc --base64url)
        id=${id%%=*}
        [[ $id == -* || $id == AAAAAAAAAAAAAAAAAAAAAA || $id == AAAAAAAAAAAAAAAAAAAAAQ ]] || break
    done
    echo "$id"
}

cmd_cluster_id() {
    local n=${1:-1} i
    [[ $n =~ ^[0-9]+$ ]] || die "cluster-id: expected a count, not '$n'"
    for ((i = 0; i < n; i++)); do
        new_cluster_id
    done
}

# Sends a Metadata v4 request (all topics) and succeeds only if the broker
# answers with at least one registered broker: the port being open is not
# enough, the broker must have joined its KRaft quorum and be unfenced.
metadata_ready() {
    local reply
    # shellcheck disable=SC2016 # $1 is the inner shell's argument
    reply=$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        # size 20 | api_key 3 (Metadata) | version 4 | correlation 42 |
        # client_id "khprb" | topics null (-1) | allow_auto_topic_creation false
        printf "\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x2a\x00\x05khprb\xff\xff\xff\xff\x00" >&3
        head -c 16 <&3 | od -An -v -tx1 | tr -d " \n"' _ "$1" 2>/dev/null) || return 1
    # size(4) correlation(4)=42 throttle(4) broker count(4) > 0
    [[ ${#reply} -eq 32 && ${reply:8:8} == 0000002a && ${reply:24:8} != 00000000 ]]
}

# The client listener's lines of server.properties for $security.
listener_config() {
    local datadir=$1 port=$2 cport=$3
    if [[ $security == plaintext ]]; then
        cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
EOF
        return
    fi
    # The controller listener stays PLAINTEXT on loopback: KRaft controllers
    # cannot check SCRAM (the credentials live in the metadata they serve),
    # so the brokers reach them as ANONYMOUS, which must be a super user.
    # In production it is mutual TLS (Strimzi does that); never expose it.
    cat <<EOF
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=SASL_SSL://127.0.0.1:$port
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$datadir/clients/admin.password")";
ssl.keystore.type=PEM
ssl.keystore.location=$datadir/tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$datadir/tls/ca.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
EOF
}

write_config() {
    local datadir=$1 port=$2 cport=$3
    cat >"$datadir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
$(listener_config "$datadir" "$port" "$cport")
log.dirs=$datadir/logs
auto.create.topics.enable=true
delete.topic.enable=true
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
# One node: the internal topics must accept replication factor 1 and
# min.isr 1, or consumer groups and transactions never become available.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
    write_log4j "$datadir"
}

# Console only: kafka.sh sends the broker's stdout to $state/kafka.log.
write_log4j() {
    cat >"$1/log4j2.properties" <<'EOF'
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.statechange.name = state.change.logger
logger.statechange.level = warn
EOF
}

# A throwaway CA and a broker certificate for 127.0.0.1 (RSA: Kafka's PEM
# keystore reads PKCS#8 keys), valid two days, in $1.
make_tls() {
    local dir=$1
    mkdir -p "$dir"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
            -subj "/CN=ketenhub test Kafka CA"
        openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=127.0.0.1"
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >broker.ext
        openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.crt \
            -days 2 -extfile broker.ext
        cat broker.key broker.crt >broker.pem
    ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; die "making the test certificates failed"; }
}

# A random password per SCRAM user, and for each a ketenhub client
# configuration (kafka.* keys) and, for the admin, Java client properties.
make_users() {
    local dir=$1 port=$2 user pw
    mkdir -p "$dir"
    for user in "${scram_users[@]}"; do
        pw=$(head -c 18 /dev/urandom | basenc --base64url)
        printf '%s' "$pw" >"$dir/$user.password"
        cat >"$dir/$user.conf" <<EOF
# $user on the test Kafka (TLS + SASL/SCRAM-SHA-512); made by kafka.sh
kafka.bootstrap.servers = 127.0.0.1:$port
kafka.security.protocol = sasl_ssl
kafka.sasl.mechanisms = SCRAM-SHA-512
kafka.sasl.username = $user
kafka.sasl.password = $pw
kafka.ssl.ca.location = ${dir%/clients}/tls/ca.pem
EOF
    done
    cat >"$dir/admin.properties" <<EOF
bootstrap.servers=127.0.0.1:$port
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$dir/admin.password")";
ssl.truststore.type=PEM
ssl.truststore.location=${dir%/clients}/tls/ca.pem
EOF
}

# The storage tool's --add-scram arguments for every user.
scram_args() {
    local user
    for user in "${scram_users[@]}"; do
        printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$user" "$(cat "$1/$user.password")"
    done
}

# sasl_ssl: the plaintext metadata probe cannot speak TLS + SASL; the broker
# logs "Kafka Server started" once it has joined the quorum and is unfenced.
secure_ready() {
    port_in_use "$1" && grep -q 'Kafka Server started' "$state/kafka.log"
}

ready() {
    if [[ $security == plaintext ]]; then metadata_ready "$1"; else secure_ready "$1"; fi
}

cmd_start() {
    local pid
    pid=$(running_pid)
    [[ -z $pid ]] || die "a broker is already running (pid $pid, bootstrap $(cat "$state/bootstrap")); run '$0 stop' first"
    cmd_fetch
    # Ports of our own choosing were free when picked; when another server
    # binds one first, a new pair is picked (at most 3 tries). Ports set in
    # the environment are never changed.
    local attempt bootstrap rc
    for ((attempt = 1; ; attempt++)); do
        rc=0
        bootstrap=$(start_once) || rc=$?
        if ((rc == 0)); then
            echo "$bootstrap"
            return 0
        fi
        ((rc == port_lost)) || exit 1
        if ((attempt >= 3)) || [[ -n ${KH_KAFKA_PORT:-}${KH_KAFKA_CONTROLLER_PORT:-} ]]; then
            start_failed "the broker could not bind its ports (attempt $attempt): $(grep -m 1 -o '[^]]*Address already in use' "$state/kafka.log")"
        fi
        log "a port was taken between check and bind (attempt $attempt); retrying on other ports"
        cmd_stop >/dev/null 2>&1
    done
}

# start_once's exit status when the broker lost a port to another process.
port_lost=75

# Formats a data dir and starts the broker on fresh ports; prints its
# bootstrap address once it answers. Runs in a subshell, without errexit:
# every step checks for itself. Exits port_lost when the broker lost a port
# to another process (retryable), 1 on any other failure (said on stderr).
start_once() {
    mkdir -p "$state"
    rm -f "$state/pid" "$state/datadir" "$state/bootstrap"

    local port cport datadir cluster_id t0 pid
    port=${KH_KAFKA_PORT:-$(free_port)} || exit 1
    port_in_use "$port" && die "port $port on 127.0.0.1 is already in use"
    cport=${KH_KAFKA_CONTROLLER_PORT:-$(free_port "$port")} || exit 1
    datadir=$(mktemp -d "${TMPDIR:-/tmp}/kh-kafka.XXXXXX") || exit 1
    echo "$datadir" >"$state/datadir"
    local format_extra=()
    if [[ $security == sasl_ssl ]]; then
        make_tls "$datadir/tls"
        make_users "$datadir/clients" "$port"
        mapfile -t format_extra < <(scram_args "$datadir/clients")
    fi
    write_config "$datadir" "$port" "$cport" || exit 1
    t0=$(date +%s%N)

    cluster_id=$(new_cluster_id) || exit 1
    local jvm=(java -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$datadir/log4j2.properties" -cp "$lib/*")
    if ! "${jvm[@]}" -Xmx256m -XX:TieredStopAtLevel=1 \
            kafka.tools.StorageTool format -t "$cluster_id" \
            -c "$datadir/server.properties" "${format_extra[@]}" >"$state/kafka.log" 2>&1; then
        cat "$state/kafka.log" >&2
        rm -rf "$datadir"
        rm -f "$state/datadir"
        die "formatting the Kafka storage failed (log above)"
    fi

    # setsid: the broker must not get the terminal's SIGINT meant for a test
    # run; with-kafka.sh and `stop` end it deliberately.
    setsid "${jvm[@]}" -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        kafka.Kafka "$datadir/server.properties" >>"$state/kafka.log" 2>&1 </dev/null 8>&- 9>&- &
    pid=$!
    echo "$pid" >"$state/pid"

    local deadline=$((SECONDS + start_timeout))
    until ready "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            if grep -q 'Address already in use' "$state/kafka.log"; then
                exit "$port_lost"
            fi
            start_failed "the broker exited during startup"
        fi
        if ((SECONDS >= deadline)); then
            start_failed "the broker did not answer a metadata request on 127.0.0.1:$port within ${start_timeout}s"
        fi
        sleep 0.2
    done
    echo "127.0.0.1:$port" >"$state/bootstrap"
    log "Apache Kafka $version ready on 127.0.0.1:$port in $((($(date +%s%N) - t0) / 1000000)) ms (pid $pid, data $datadir, log $state/kafka.log)"
    echo "127.0.0.1:$port"
}

start_failed() {
    echo "kafka.sh: error: $1" >&2
    # The first error usually names the cause; the tail shows where it ended.
    echo "--- first errors in $state/kafka.log:" >&2
    grep -m 5 -E '^\[[^]]*\] (ERROR|FATAL) ' "$state/kafka.log" >&2 || true
    echo "--- last lines of $state/kafka.log:" >&2
    tail -n 30 "$state/kafka.log" >&2 || true
    cmd_stop >/dev/null 2>&1 || true
    exit 1
}

cmd_stop() {
    local pid datadir i
    pid=$(running_pid)
    if [[ -n $pid ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        # A single-node KRaft broker shuts down in a few seconds; past 30
        # it is stuck, and the data dir is thrown away anyway.
        for ((i = 0; i < 300; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "broker pid $pid ignored SIGTERM for 30s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
    fi
    if [[ -f $state/datadir ]]; then
        datadir=$(cat "$state/datadir")
        # Only ever remove a dir this script made.
        if [[ $datadir == */kh-kafka.* && -d $datadir ]]; then
            rm -rf "$datadir"
        fi
    fi
    rm -f "$state/pid" "$state/datadir" "$state/bootstrap"
}

cmd_bootstrap() {
    [[ -n $(running_pid) && -f $state/bootstrap ]] || die "no broker is running (state dir $state)"
    cat "$state/bootstrap"
}

cmd_client_config() {
    [[ $security == sasl_ssl ]] || die "client-config: only with KH_KAFKA_SECURITY=sasl_ssl"
    [[ -n $(running_pid) ]] || die "no broker is running (state dir $state)"
    local f
    f=$(cat "$state/datadir")/clients/$1.conf
    [[ -f $f ]] || die "no SCRAM user '$1' (users: ${scram_users[*]})"
    echo "$f"
}

# Creates the ACLs on stdin (`ketenhub topics acls` lines) with Kafka's own
# Java admin client (KhAcls.java beside this file): librdkafka 2.0.2 has no
# transactional-id resource type.
cmd_acls() {
    [[ $security == sasl_ssl ]] || die "acls: only with KH_KAFKA_SECURITY=sasl_ssl"
    [[ -n $(running_pid) ]] || die "no broker is running (state dir $state)"
    local out
    # The admin client logs its whole configuration at INFO: shown only on failure.
    if ! out=$(java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$lib/*" \
            -Dlog4j2.configurationFile="$(cat "$state/datadir")/log4j2.properties" \
            "$here/KhAcls.java" "$(cat "$state/datadir")/clients/admin.properties" 2>&1); then
        echo "$out" >&2
        die "creating the ACLs failed (above)"
    fi
    grep '^created ' <<<"$out"
}

cmd_status() {
    local pid
    pid=$(running_pid)
    if [[ -n $pid && -f $state/bootstrap ]]; then
        echo "running: pid $pid, bootstrap $(cat "$state/bootstrap")"
    else
        echo "not running"
        return 1
    fi
}

usage() {
    cat <<EOF
usage: $0 fetch|start|stop|bootstrap|status

  fetch      resolve the Apache Kafka $version jars from Maven Central into
             $lib (does nothing when they are there)
  start      fetch, format a temp data dir, start a single-node KRaft broker on
             127.0.0.1, wait until it answers a metadata request, print its
             bootstrap address
  stop       stop the broker (SIGTERM, SIGKILL after 30s), remove its data dir
  bootstrap  print the running broker's bootstrap address
  status     say whether a broker is running (exit 1 if not)
  cluster-id [N]  print N fresh KRaft cluster ids, one a line (default 1);
             start uses one; tests/kafka_cluster_id.sh checks them
  client-config USER  (sasl_ssl) print the path of USER's ketenhub client
             configuration (bootstrap, TLS CA, SCRAM user and password)
  acls       (sasl_ssl) create the ACLs on stdin (lines of `ketenhub topics
             acls`) as the admin

environment:
  KH_KAFKA_VERSION          Kafka version (default 4.4.0)
  KH_KAFKA_CACHE            jar cache root; jars go to \$KH_KAFKA_CACHE/<version>/lib
                            (default $root/.cache/kafka)
  KH_KAFKA_STATE            state dir: pid, data dir, bootstrap, kafka.log
                            (default $root/.cache/kafka/run)
  KH_KAFKA_PORT             broker port (default: a free one below the
                            ephemeral port range)
  KH_KAFKA_CONTROLLER_PORT  KRaft controller port (default: likewise)
  KH_KAFKA_HEAP             JVM heap (default 512m)
  KH_KAFKA_SECURITY         plaintext (default) or sasl_ssl: TLS + SASL/SCRAM-SHA-512
                            with the StandardAuthorizer; SCRAM users ${scram_users[*]}
                            with random passwords
  KH_KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
EOF
}

# One start or stop at a time per state dir: two racing starts would both
# pass the "already running" check and leave an unrecorded broker behind.
locked() {
    mkdir -p "$state"
    exec 9>"$state/lock"
    flock -w 120 9 || die "another kafka.sh holds $state/lock"
    "$@"
}

# deploy/kafka/cluster.sh sources this file for its functions.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

case ${1:-} in
    fetch) cmd_fetch ;;
    start) locked cmd_start ;;
    stop) locked cmd_stop ;;
    bootstrap) cmd_bootstrap ;;
    status) cmd_status ;;
    cluster-id) cmd_cluster_id "${2:-1}" ;;
    client-config) cmd_client_config "${2:?client-config USER}" ;;
    acls) cmd_acls ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
