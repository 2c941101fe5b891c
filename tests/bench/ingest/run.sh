#!/usr/bin/env bash
# The ingest benchmark (not a ctest test): wrk with keep-alive connections
# posting valid events with fresh event ids to
#   1. bench_bare_202: bare libmicrohttpd answering 202 with no work (baseline)
#   2. ketenhub-ingest on Apache Kafka 4.4.0 on loopback (the target)
#   3. ketenhub-ingest on the devbroker (for comparison; never a target)
# in one run, on a release build. Prints accepted events/s, p50/p99 latency,
# peak RSS (VmHWM) and the ratio to the baseline, and checks that the Kafka
# topics hold every accepted event.
#
#   tests/bench/ingest/run.sh
#
# Runs itself under tests/with-kafka.sh unless KH_KAFKA_BOOTSTRAP is set.
# Settings (environment):
#   KH_BENCH_BUILD        release build dir (default build/release)
#   KH_BENCH_DURATION     seconds per measured run (default 20)
#   KH_BENCH_WARMUP       seconds of load before each measured run (default 10;
#                         the Kafka broker's JIT needs it)
#   KH_BENCH_THREADS      wrk threads (default 2)
#   KH_BENCH_CONNECTIONS  wrk connections (default 64)
#   KH_BENCH_SETS         extra ingest settings, "key=value key=value" (tuning)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
here=$root/tests/bench/ingest
if [[ -z ${KH_KAFKA_BOOTSTRAP:-} ]]; then
    exec "$root/tests/with-kafka.sh" "$0" "$@"
fi

build=${KH_BENCH_BUILD:-$root/build/release}
duration=${KH_BENCH_DURATION:-20}
warmup=${KH_BENCH_WARMUP:-10}
threads=${KH_BENCH_THREADS:-2}
connections=${KH_BENCH_CONNECTIONS:-64}
extra_sets=${KH_BENCH_SETS:-}

command -v wrk >/dev/null || { echo "run.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }
echo "== building a release tree in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKH_SANITIZE=OFF -DCMAKE_C_FLAGS= >/dev/null
cmake --build "$build" -j2 --target ketenhub-ingest ketenhub-devbroker bench_bare_202 bench_topic_count >/dev/null
bin=$build/bin

work=$(mktemp -d "${TMPDIR:-/tmp}/kh-bench-ingest.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Partners of the examples post.lua sends, without a rate limit.
partner() { # name type code events
    printf '{"name":"%s","organisatie":{"type":"%s","code":"%s"},"api_key_sha256":"%s","event_types":%s,"rate_per_second":0}' \
        "$1" "$2" "$3" "$(printf %s "key-$3" | sha256sum | cut -d' ' -f1)" "$4"
}
{
    printf '{"partners":['
    partner school SCHOOL 12AB00 '["aanmelding"]'; printf ,
    partner swv SWV PO2801 '["tlv"]'; printf ,
    partner gemeente GEMEENTE GM0599 '["beschikking","verwijzing"]'
    printf ']}\n'
} >"$work/partners.json"

# A port nothing listens on (bash's /dev/tcp connects when something does).
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

wait_http() { # url [status]
    for _ in $(seq 200); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == "${2:-200}" ]] && return 0
        sleep 0.1
    done
    echo "run.sh: $1 did not come up" >&2
    return 1
}

hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# wrk against a port; prints "events_per_s p50_ms p99_ms non2xx socket_errors"
load() { # port seconds
    KH_EXAMPLES=$root/schemas/examples wrk -t"$threads" -c"$connections" -d"$2"s --timeout 10s \
        -s "$here/post.lua" "http://127.0.0.1:$1" >"$work/wrk.out" 2>&1
    awk '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        ok = v["requests"] - v["non2xx"] - v["socket_errors"]
        printf "%.0f %.2f %.2f %d %d %d\n", ok / (v["duration_us"] / 1e6), v["p50_us"] / 1000, v["p99_us"] / 1000,
               v["non2xx"], v["socket_errors"], ok
    }' "$work/wrk.out"
}

start_ingest() { # bootstrap prefix port log
    local sets=(--set "http.listen=127.0.0.1:$3" --set "partners.file=$work/partners.json"
        --set "pseudonym.secret=bench-secret-0123456789abcdef" --set "topic.prefix=$2"
        --set "kafka.bootstrap.servers=$1" --set "log.level=warn")
    for kv in $extra_sets; do sets+=(--set "$kv"); done
    "$bin/ketenhub-ingest" "${sets[@]}" 2>"$4" &
    pids+=($!)
    ingest_pid=$!
    wait_http "http://127.0.0.1:$3/readyz"
}

stop_pid() { kill -TERM "$1"; wait "$1" || { echo "run.sh: process $1 exited $?" >&2; return 1; }; }

declare -A result
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# ingest's own latency histogram, summed over the event routes: "n<=10ms n<=20ms n"
server_hist() { # port
    curl -s "http://127.0.0.1:$1/metrics" | awk '
        /^ketenhub_ingest_request_duration_seconds_bucket\{route="\/v1\// {
            if ($0 ~ /le="0.01"/) a += $2; if ($0 ~ /le="0.02"/) b += $2; if ($0 ~ /le="\+Inf"/) n += $2 }
        END { printf "%d %d %d\n", a, b, n }'
}

declare -A warmed cpu
measure() { # name port pid
    local r w t0 t1 h0 h1
    w=$(load "$2" "$warmup") # connections, topic metadata, the broker's JIT
    warmed[$1]=$(echo "$w" | awk '{print $6}')
    t0=$(cpu_ticks "$3")
    [[ $1 != bare ]] && h0=$(server_hist "$2")
    r=$(load "$2" "$duration")
    t1=$(cpu_ticks "$3")
    if [[ $1 != bare ]]; then
        h1=$(server_hist "$2")
        echo "   $1, inside ingest (headers in to answer out): $(awk -v a="$h0" -v b="$h1" 'BEGIN {
            split(a, x, " "); split(b, y, " "); n = y[3] - x[3]
            printf "%.2f%% of requests within 10 ms, %.2f%% within 20 ms", 100 * (y[1] - x[1]) / n, 100 * (y[2] - x[2]) / n }')"
    fi
    cpu[$1]=$(awk -v a="$t0" -v b="$t1" -v d="$duration" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz / d}')
    result[$1]="$r $(hwm_kb "$3")"
    echo "   $1: $r (events/s p50 p99 non-2xx socket-errors accepted), VmHWM $(hwm_kb "$3") kB, ${cpu[$1]} cores"
}

echo "== wrk: $threads threads, $connections keep-alive connections, ${warmup}s warm-up + ${duration}s measured per server; $(nproc) cores"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared: figures are as measured)"
echo "== 1. bare libmicrohttpd 202 (baseline)"
port=$(free_port)
"$bin/bench_bare_202" "$port" &
pids+=($!)
bare_pid=$!
wait_http "http://127.0.0.1:$port/" 202
measure bare "$port" "$bare_pid"
stop_pid "$bare_pid"

echo "== 2. ingest on Apache Kafka ($KH_KAFKA_BOOTSTRAP)"
prefix="bench$$."
port=$(free_port)
start_ingest "$KH_KAFKA_BOOTSTRAP" "$prefix" "$port" "$work/ingest-kafka.log"
kafka_pid=$ingest_pid
measure kafka "$port" "$kafka_pid"
stop_pid "$kafka_pid"
topics=()
for e in aanmelding tlv beschikking verwijzing; do topics+=("${prefix}ketenhub.$e.v1"); done
stored=$("$bin/bench_topic_count" "$KH_KAFKA_BOOTSTRAP" "${topics[@]}")

echo "== 3. ingest on the devbroker (comparison only: it is not a store)"
"$bin/ketenhub-devbroker" --bootstrap-file "$work/devbroker" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/devbroker ]] && break; sleep 0.1; done
port=$(free_port)
start_ingest "$(cat "$work/devbroker")" "bench$$." "$port" "$work/ingest-devbroker.log"
dev_pid=$ingest_pid
measure devbroker "$port" "$dev_pid"
stop_pid "$dev_pid"

read -r bare_eps _ <<<"${result[bare]}"
echo
printf '%-28s %12s %9s %9s %10s %8s %7s\n' "server" "events/s" "p50 ms" "p99 ms" "VmHWM MB" "ratio" "cores"
for name in bare kafka devbroker; do
    read -r eps p50 p99 non2xx sockerr ok rss <<<"${result[$name]}"
    label=$name
    [[ $name == bare ]] && label="bare libmicrohttpd 202"
    [[ $name == kafka ]] && label="ingest on Apache Kafka"
    [[ $name == devbroker ]] && label="ingest on devbroker"
    printf '%-28s %12s %9s %9s %10.1f %8.2f %7s\n' "$label" "$eps" "$p50" "$p99" \
        "$(awk -v r="$rss" 'BEGIN {print r / 1024}')" "$(awk -v a="$eps" -v b="$bare_eps" 'BEGIN {print a / b}')" "${cpu[$name]}"
    if ((non2xx + sockerr > 0)); then echo "   ($name: $non2xx non-2xx answers, $sockerr socket errors)"; fi
done
echo
# Every 202 wrk saw on Kafka (warm-up included) is a record on the topics.
# A few more records are allowed: requests still in flight when wrk stops
# are stored and answered, but wrk no longer counts them (at most one per
# connection per run).
read -r _ _ _ _ _ kafka_ok _ <<<"${result[kafka]}"
accepted=$((kafka_ok + warmed[kafka]))
echo "Kafka topics hold $stored records; wrk counted $accepted answers 202 (warm-up included)"
if ((stored < accepted || stored > accepted + 2 * connections)); then
    echo "run.sh: FAIL: the records on Kafka do not match the events accepted" >&2
    exit 1
fi
read -r k_eps k_p50 k_p99 _ _ _ k_rss <<<"${result[kafka]}"
read -r _ _ _ _ _ _ b_rss <<<"${result[bare]}"
echo "INGEST bare=$bare_eps kafka=$k_eps p50_ms=$k_p50 p99_ms=$k_p99 rss_kb=$k_rss bare_rss_kb=$b_rss" \
    "ratio=$(awk -v a="$k_eps" -v b="$bare_eps" 'BEGIN { printf "%.2f", a / b }')"
echo "cores: CPU time of the server process per second of the measured run"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Targets (issue 3, on Apache Kafka): >= 20000 events/s, p99 <= 20 ms, RSS <= 64 MB"
