#!/usr/bin/env bash
# The route benchmark: events per second through one ketenhub-route
# replaying a pre-filled stream (decode, rules, encode, produce, commit),
# against a bare consume -> produce passthrough of the same records with the
# same clients and batching (route_passthrough), both with and without
# transactions, on Apache Kafka on loopback. Prints the figures and the
# ratio route / passthrough measured in the same run.
#
#   tests/bench/route/run.sh            (starts its own Kafka via tests/with-kafka.sh)
#
# Settings (environment):
#   KH_BENCH_EVENTS      events to pre-fill and replay (default 500000)
#   KH_BENCH_PARTITIONS  partitions per topic (default 4)
#   KH_BENCH_BATCH       records per batch / transaction (default 20000, as route)
#   KH_BENCH_BATCH_MS    batch age in ms (default 250, as route)
#   KH_BENCH_BUILD       the release tree (default build/release)
#
# Each program runs in its own consumer group, so each replays the whole
# stream from the beginning. Time runs from the consumer's first partition
# assignment to the commit of the last record: for route, until its
# ketenhub_route_records_in_total (counted on commit) reaches the number of
# events (route_bench_wait polls /metrics every 10 ms).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

if [[ -z ${KH_KAFKA_BOOTSTRAP:-} ]]; then
    exec "$root/tests/with-kafka.sh" "${BASH_SOURCE[0]}" "$@"
fi

events=${KH_BENCH_EVENTS:-500000}
partitions=${KH_BENCH_PARTITIONS:-4}
batch=${KH_BENCH_BATCH:-20000}
batch_ms=${KH_BENCH_BATCH_MS:-250}
build=${KH_BENCH_BUILD:-$root/build/release}
bin=$build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/kh-bench-route.XXXXXX")
prefix="bench$$."
route_pid=

cleanup() {
    if [[ -n $route_pid ]]; then
        kill -TERM "$route_pid" 2>/dev/null || true
        wait "$route_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "route benchmark: building the release tree in $build" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKH_SANITIZE=OFF -DCMAKE_C_FLAGS= >/dev/null
cmake --build "$build" -j2 --target ketenhub-route route_bench_fill route_passthrough \
    route_bench_wait >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

echo "route benchmark: pre-filling $events events ($partitions partitions per topic)" >&2
"$bin/route_bench_fill" -b "$KH_KAFKA_BOOTSTRAP" -p "$prefix" -n "$events" -P "$partitions" \
    | tee "$work/fill.txt" >&2

# run_route <true|false>: prints "events seconds"
run_route() {
    local txn=$1 log=$work/route-$1.log port=
    "$bin/ketenhub-route" --set "kafka.bootstrap.servers=$KH_KAFKA_BOOTSTRAP" \
        --set "topic.prefix=$prefix" --set "group.id=${prefix}route-$txn" \
        --set "route.instance=bench-$txn" --set "route.transactions=$txn" \
        --set "route.batch.records=$batch" --set "route.batch.ms=$batch_ms" \
        --set "ops.listen=127.0.0.1:0" 2>"$log" &
    route_pid=$!
    until [[ -n $port ]]; do
        kill -0 "$route_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.01
        port=$(sed -nE 's/.*"msg":"ops endpoint listening".*"port":([0-9]+).*/\1/p' "$log")
    done
    "$bin/route_bench_wait" -P "$port" -n "$events" |
        sed -E 's/.*events=([0-9]+) seconds=([0-9.]+).*/\1 \2/'
    awk '/VmHWM/ {print $2}' "/proc/$route_pid/status" >"$work/rss-$txn"
    kill -TERM "$route_pid"
    wait "$route_pid"
    route_pid=
}

# run_passthrough <1|0>: prints "events seconds"
run_passthrough() {
    "$bin/route_passthrough" -b "$KH_KAFKA_BOOTSTRAP" -p "$prefix" -g "${prefix}pass-$1" \
        -n "$events" -t "$1" -r "$batch" -m "$batch_ms" |
        sed -E 's/.*events=([0-9]+) seconds=([0-9.]+).*/\1 \2/'
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

declare -A rates secs
for mode in transactions plain; do
    t=1 r=true
    [[ $mode == plain ]] && t=0 r=false
    echo "route benchmark: passthrough ($mode)" >&2
    read -r n s < <(run_passthrough "$t")
    rates[pass-$mode]=$(rate "$n" "$s")
    printf 'passthrough  %-13s %8d events %8.2f s %9s events/s\n' "$mode" "$n" "$s" "${rates[pass-$mode]}"
    echo "route benchmark: route ($mode)" >&2
    read -r n s < <(run_route "$r")
    rates[route-$mode]=$(rate "$n" "$s")
    secs[$mode]=$s
    printf 'route        %-13s %8d events %8.2f s %9s events/s\n' "$mode" "$n" "$s" "${rates[route-$mode]}"
done

echo
echo "conditions: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $events events" \
     "($(sed -E 's/.*crossing=([0-9]+).*/\1/' "$work/fill.txt") crossing a border)," \
     "$partitions partitions, batches of $batch records / $batch_ms ms, Kafka on loopback, release build"
for mode in transactions plain; do
    printf 'ratio route / passthrough (%s): %.0f%%   route %s events/s (target >= 100000, >= 50%%)\n' \
        "$mode" "$(awk -v r="${rates[route-$mode]}" -v p="${rates[pass-$mode]}" 'BEGIN { print 100 * r / p }')" \
        "${rates[route-$mode]}"
done
echo "ROUTE events=$events crossing=$(sed -E 's/.*crossing=([0-9]+).*/\1/' "$work/fill.txt")" \
    "pass_txn=${rates[pass-transactions]} route_txn=${rates[route-transactions]} seconds_txn=${secs[transactions]}" \
    "pass_plain=${rates[pass-plain]} route_plain=${rates[route-plain]} rss_kb=$(cat "$work/rss-true")"
