#!/usr/bin/env bash
# The end-to-end benchmark (not a ctest test): ketenhub-ingest, -route and
# -push on a release build and Apache Kafka on loopback, every organisation
# of the reference data a partner (keys and subscriptions written by
# `ketenhub simulate`), and bench_e2e as both the sending partners and the
# receiving ones. Measures what a partner experiences: the time from its
# POST to ingest to the melding arriving at the recipient's endpoint, per
# melding, at fixed rates (open loop), then searches for the highest rate
# at which p99 stays under 1 s with nothing missing (a few bounded steps).
# ketenhub-watch reads along (the operators' view of the same flow). Ends
# with the peak RSS (VmHWM) of each service over the whole run.
#
#   tests/bench/e2e/run.sh [--quick]
#
# Prints "E2E key=value ..." lines for tests/bench/run.sh, and a table.
# Settings (environment):
#   KH_BENCH_BUILD        release build dir (default build/release)
#   KH_BENCH_SECONDS      seconds of traffic per rate (default 20; --quick 6)
#   KH_BENCH_RATES        the fixed rates (default "100 1000")
#   KH_BENCH_SEARCH       the rates tried above them, in order, stopping at
#                         the first that fails (default "1500 2000 3000")
#   KH_BENCH_ROUTE_SETS   extra route settings, "key=value ..." (to compare)
#   KH_BENCH_PUSH_SETS    extra push settings
#   KH_BENCH_KEEP         keep the work directory (logs, events) when set
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
if [[ -z ${KH_KAFKA_BOOTSTRAP:-} ]]; then
    exec "$root/tests/with-kafka.sh" "$0" "$@"
fi
quick=0
[[ ${1:-} == --quick ]] && quick=1
build=${KH_BENCH_BUILD:-$root/build/release}
seconds=${KH_BENCH_SECONDS:-$((quick ? 6 : 20))}
rates=${KH_BENCH_RATES:-100 1000}
search=${KH_BENCH_SEARCH-$([[ $quick == 1 ]] && echo "2000" || echo "1500 2000 3000")}

echo "== building a release tree in $build" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKH_SANITIZE=OFF -DCMAKE_C_FLAGS= >/dev/null
cmake --build "$build" -j2 --target ketenhub ketenhub-ingest ketenhub-route ketenhub-push \
    ketenhub-watch bench_e2e >/dev/null
bin=$build/bin

work=$(mktemp -d "${TMPDIR:-/tmp}/kh-bench-e2e.XXXXXX")
declare -A pid
cleanup() {
    for s in "${!pid[@]}"; do kill -TERM "${pid[$s]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n ${KH_BENCH_KEEP:-} ]]; then echo "run.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A port below the ephemeral range (client sockets take those) that nothing
# listens on and this script has not handed out yet.
used=" "
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 12000))
        [[ $used == *" $p "* ]] && continue
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { used+="$p "; echo "$p"; return; }
    done
}
wait_http() {
    for _ in $(seq 600); do
        curl -sf -o /dev/null "$1" && return 0
        kill -0 "$2" 2>/dev/null || { echo "run.sh: the service at $1 exited" >&2; return 1; }
        sleep 0.1
    done
    echo "run.sh: $1 did not come up" >&2
    return 1
}

prefix="benche2e$$."
free_port >"$work/port"
recv_port=$(cat "$work/port")
"$bin/bench_e2e" topics --bootstrap "$KH_KAFKA_BOOTSTRAP" --prefix "$prefix"
"$bin/ketenhub" simulate -q --write-partners "$work/partners.json" --keys "$work/keys.txt" \
    --write-subscriptions "$work/subs.json" --receiver "http://127.0.0.1:$recv_port" >/dev/null

common=(--set "kafka.bootstrap.servers=$KH_KAFKA_BOOTSTRAP" --set "topic.prefix=$prefix"
    --set log.level=warn)
declare -A port
start() { # service settings...
    local s=$1
    shift
    free_port >"$work/port"
    port[$s]=$(cat "$work/port")
    local listen=ops.listen
    [[ $s == ingest || $s == watch ]] && listen=http.listen
    "$bin/ketenhub-$s" "${common[@]}" --set "$listen=127.0.0.1:${port[$s]}" "$@" 2>"$work/$s.log" &
    pid[$s]=$!
    wait_http "http://127.0.0.1:${port[$s]}/readyz" "${pid[$s]}"
}
route_sets=() push_sets=()
for kv in ${KH_BENCH_ROUTE_SETS:-}; do route_sets+=(--set "$kv"); done
for kv in ${KH_BENCH_PUSH_SETS:-}; do push_sets+=(--set "$kv"); done
start ingest --set "partners.file=$work/partners.json" --set "pseudonym.secret=bench-e2e-secret-0123456789" \
    --set rate.per_second=0
start route --set "group.id=${prefix}route" --set "route.instance=${prefix}bench" ${route_sets[@]+"${route_sets[@]}"}
start push --set "group.id=${prefix}push" --set "subscriptions.file=$work/subs.json" ${push_sets[@]+"${push_sets[@]}"}
start watch --set "watch.groups=route=${prefix}route,push=${prefix}push"

# measure RATE: prints bench_e2e's line. Each run has its own seed (so its
# own event ids: ingest would take a repeated one as a resubmission); it is
# kept in a file because measure runs in a subshell.
echo 0 >"$work/seed"
measure() {
    local rate=$1 n seed
    n=$(awk -v r="$rate" -v s="$seconds" 'BEGIN { printf "%d", r * s }')
    seed=$(($(cat "$work/seed") + 1))
    echo "$seed" >"$work/seed"
    "$bin/ketenhub" simulate -q --seed "$seed" --events "$n" --cross 1 --out "$work/events.ndjson" >/dev/null
    "$bin/bench_e2e" run --url "http://127.0.0.1:${port[ingest]}" --keys "$work/keys.txt" \
        --events "$work/events.ndjson" --port "$recv_port" --rate "$rate" --settle 20
}
field() { sed -nE "s/.* $2=([0-9.]+).*/\1/p" <<<" $1"; }

echo "== warm-up (100 events/s for 3 s: connections, the broker's JIT)" >&2
seconds_saved=$seconds
seconds=3
measure 100 >/dev/null
seconds=$seconds_saved

passes() { awk -v p="$(field "$1" p99_ms)" -v m="$(field "$1" missing)" 'BEGIN { exit !(p < 1000 && m == 0) }'; }
best=0
for rate in $rates; do
    echo "== $rate events/s for $seconds s" >&2
    line=$(measure "$rate")
    echo "E2E rate=$rate $line"
    if passes "$line" && ((rate > best)); then best=$rate; fi
done
# The search: each higher rate in turn until one fails (p99 >= 1 s or a
# melding missing); bounded by the list.
for rate in $search; do
    echo "== search: $rate events/s for $seconds s" >&2
    line=$(measure "$rate")
    echo "E2E search=$rate $line"
    passes "$line" || break
    best=$rate
done
echo "E2E best=$best"
for s in ingest route push watch; do
    echo "E2E rss service=$s kb=$(awk '/VmHWM/ {print $2}' "/proc/${pid[$s]}/status")"
done
for s in watch push route ingest; do
    curl -sf "http://127.0.0.1:${port[$s]}/metrics" >"$work/$s.metrics" || true
    kill -TERM "${pid[$s]}"
    wait "${pid[$s]}" || echo "run.sh: $s exited $?" >&2
    unset "pid[$s]"
done
