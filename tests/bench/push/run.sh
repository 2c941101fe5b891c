#!/usr/bin/env bash
# The push benchmark (not a ctest test), on a release build and Apache Kafka
# 4.4.0 on loopback, all in one run against one kh-test-receiver:
#   1. baseline: wrk posting the same body (and headers of the same size) to
#      the receiver on keep-alive connections, as many as push keeps open;
#   2. ketenhub-push delivering meldingen pre-filled on Kafka to 16 partners
#      on the same receiver: deliveries/s, and the ratio to wrk; with the
#      default concurrency 1 per partner (order kept) and with 4;
#   3. the dead-partner case: the same 16 partners plus partner A, whose
#      meldingen are spread among theirs; the 16 partners' throughput with A
#      answering normally and with A hanging past its timeout (dead), twice
#      each, alternating, and the worst ratio of a round (dead / answering
#      in the same round; target: a dead partner costs the others at most
#      20%);
#   4. national partner counts: 5,000 partners (GEMEENTE:GM0100..GM5099),
#      4 meldingen each, every 20th partner (5%) on the path /h, the others
#      on /b (kh-test-receiver counts a few hundred paths only); the 4,750
#      others' throughput with /h answering and with /h hanging past the
#      2 s timeout (for 2.5 s: kh-test-receiver keeps a thread per request
#      and takes 900 connections; hung for a minute, 250 partners retrying
#      fill it and the answering partners see refused connections), twice each (once with --quick), the worst ratio of a
#      round, and push's peak RSS (VmHWM) over each run.
# Prints a table and "PUSH key=value" lines for tests/bench/run.sh.
# Targets: >= 10,000 deliveries/s; a dead partner (or 5%) costs <= 20%;
# <= 64 MB RSS.
#
#   tests/bench/push/run.sh [--quick]
#
# Runs itself under tests/with-kafka.sh unless KH_KAFKA_BOOTSTRAP is set.
# Settings (environment):
#   KH_BENCH_BUILD        release build dir (default build/release)
#   KH_BENCH_PER_PARTNER  meldingen per partner in the throughput runs (default 4000)
#   KH_BENCH_DURATION     seconds per wrk run (default 10, after 3 s warm-up)
#   KH_BENCH_ROUNDS       rounds of each dead-partner case (default 2; --quick 1)
#   KH_BENCH_NATIONAL     partners of the national case (default 5000)
#   KH_BENCH_KEEP         keep the work directory (logs) when set
#   KH_BENCH_CASES        which parts to run, any of "throughput dead national"
#                         (default all three); a part not run prints "-"
#   KH_BENCH_PUSH_SET     extra "KEY=VALUE ..." settings for ketenhub-push (experiments)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
here=$root/tests/bench/push
if [[ -z ${KH_KAFKA_BOOTSTRAP:-} ]]; then
    exec "$root/tests/with-kafka.sh" "$0" "$@"
fi

quick=0
[[ ${1:-} == --quick ]] && quick=1
build=${KH_BENCH_BUILD:-$root/build/release}
per=${KH_BENCH_PER_PARTNER:-$((quick ? 1000 : 4000))}
duration=${KH_BENCH_DURATION:-$((quick ? 4 : 10))}
rounds=${KH_BENCH_ROUNDS:-$((quick ? 1 : 2))}
national=${KH_BENCH_NATIONAL:-5000}
cases=" ${KH_BENCH_CASES:-throughput dead national} "
want() { [[ $cases == *" $1 "* ]]; }
partners=16

command -v wrk >/dev/null || { echo "run.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }
echo "== building a release tree in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKH_SANITIZE=OFF -DCMAKE_C_FLAGS= >/dev/null
cmake --build "$build" -j2 --target ketenhub-push kh-test-receiver bench_push >/dev/null
bin=$build/bin

work=$(mktemp -d "${TMPDIR:-/tmp}/kh-bench-push.XXXXXX")
receiver=
cleanup() {
    [[ -n $receiver ]] && kill -TERM "$receiver" 2>/dev/null || true
    wait 2>/dev/null || true
    if [[ -n ${KH_BENCH_KEEP:-} ]]; then echo "run.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

port=$(free_port)
"$bin/kh-test-receiver" --port "$port" 2>"$work/receiver.log" &
receiver=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/_control/stats" >/dev/null && break; sleep 0.1; done

secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="
# subscriptions FILE CONCURRENCY [A-TIMEOUT-MS]: the 16 partners at /b<i>,
# and partner A (GEMEENTE:GM0599) at /a when a timeout is given.
subscriptions() {
    local file=$1 conc=$2 a_timeout=${3:-} sep="" i
    {
        printf '{"subscriptions":['
        for ((i = 0; i < partners; i++)); do
            printf '%s{"partner":"GEMEENTE:GM%04d","url":"http://127.0.0.1:%d/b%d","secret":"%s","limits":{"concurrency":%d}}' \
                "$sep" $((100 + i)) "$port" "$i" "$secret" "$conc"
            sep=,
        done
        [[ -n $a_timeout ]] && printf ',{"partner":"GEMEENTE:GM0599","url":"http://127.0.0.1:%d/a","secret":"%s","limits":{"timeout_ms":%d}}' \
            "$port" "$secret" "$a_timeout"
        printf ']}\n'
    } >"$file"
}

# national FILE: the national case's partners; every 20th at /h (2 s timeout).
national_subscriptions() {
    awk -v n="$national" -v port="$port" -v secret="$secret" 'BEGIN {
        printf "{\"subscriptions\":["
        for (i = 0; i < n; i++) {
            path = i % 20 == 0 ? "/h" : "/b" # one path each: the receiver counts a few hundred paths
            printf "%s{\"partner\":\"GEMEENTE:GM%04d\",\"url\":\"http://127.0.0.1:%d%s\",\"secret\":\"%s\",\"limits\":{\"timeout_ms\":2000}}", \
                (i ? "," : ""), 100 + i, port, path, secret
        }
        print "]}"
    }' >"$1"
}

# fill PREFIX [EXTRA]: pre-fill the melding topic of PREFIX.
fill() {
    "$bin/bench_push" fill --bootstrap "$KH_KAFKA_BOOTSTRAP" --topic "$1ketenhub.grensverkeer.v1" \
        --partners "$partners" --per-partner "$per" ${2:+--extra "$2"} --body-out "$work/body.json" >/dev/null
}

# deliver NAME PREFIX SUBS EXPECT: run push on PREFIX until the receiver has
# EXPECT 2xx answers on /b*; prints "count seconds per_second peak_rss_kb".
deliver() {
    local name=$1 prefix=$2 subs=$3 expect=$4 pid out rss
    "$bin/ketenhub-push" --set "kafka.bootstrap.servers=$KH_KAFKA_BOOTSTRAP" --set "topic.prefix=$prefix" \
        --set "group.id=${prefix}push" --set "subscriptions.file=$subs" --set "ops.listen=127.0.0.1:0" \
        --set log.level=warn --set retry.initial.ms=1000 ${KH_BENCH_PUSH_SET:+$(printf -- '--set %s ' $KH_BENCH_PUSH_SET)} \
        2>"$work/push-$name.log" &
    pid=$!
    out=$(KH_BENCH_TRACE=$work/trace-$name.txt "$bin/bench_push" watch --port "$port" --prefix /b --expect "$expect" --timeout 300) || {
        kill -TERM "$pid"; wait "$pid" || true; echo "run.sh: $name did not finish" >&2; exit 1; }
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill -TERM "$pid"
    wait "$pid" || true
    curl -sf -X POST "http://127.0.0.1:$port/_control/reset" >/dev/null
    echo "$out $rss"
}

wrk_rate() {
    local conns=$1
    KH_BODY=$work/body.json wrk -t2 -c"$conns" -d3s -s "$here/post.lua" "http://127.0.0.1:$port/wrk" >/dev/null
    KH_BODY=$work/body.json wrk -t2 -c"$conns" -d"${duration}s" -s "$here/post.lua" "http://127.0.0.1:$port/wrk" |
        awk '/Requests\/sec/ {printf "%.0f", $2}'
    curl -sf -X POST "http://127.0.0.1:$port/_control/reset" >/dev/null
}

run=$(date +%s)
total=$((partners * per))
a_count=$((total / 16))
echo "== filling Kafka ($KH_KAFKA_BOOTSTRAP): $total meldingen for $partners partners, six times"
if want throughput; then
    fill "bench${run}c1."
    fill "bench${run}c4."
fi
for ((round = 1; round <= rounds; round++)); do
    if want dead; then
        fill "bench${run}ok$round." "GEMEENTE:GM0599=$a_count"
        fill "bench${run}dead$round." "GEMEENTE:GM0599=$a_count"
    fi
    want national || continue
    for kind in nok ndead; do
        "$bin/bench_push" fill --bootstrap "$KH_KAFKA_BOOTSTRAP" --topic "bench${run}$kind$round.ketenhub.grensverkeer.v1" \
            --partners "$national" --per-partner 4 >/dev/null
    done
done
[[ -s $work/body.json ]] || fill "bench${run}body." # the body wrk posts
body=$(stat -c %s "$work/body.json")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
worst() { printf '%s\n' "${@:--}" | sort -n | head -1; }
wrk16=- wrk64=- c1_s=- c1_rate=- c4_s=- c4_rate=-
ok=() dead=() ratios=() nok=() ndead=() nratios=() nrss=()

if want throughput; then
    echo "== baseline: wrk, body $body bytes"
    wrk16=$(wrk_rate 16)
    wrk64=$(wrk_rate 64)
    echo "== ketenhub-push"
    subscriptions "$work/c1.json" 1
    subscriptions "$work/c4.json" 4
    read -r _ c1_s c1_rate _ < <(deliver c1 "bench${run}c1." "$work/c1.json" "$total")
    read -r _ c4_s c4_rate _ < <(deliver c4 "bench${run}c4." "$work/c4.json" "$total")
fi

want dead && echo "== dead partner"
subscriptions "$work/a.json" 1 2000
for ((round = 1; round <= rounds; round++)); do
    want dead || break
    read -r _ _ rate_ok _ < <(deliver "a-ok$round" "bench${run}ok$round." "$work/a.json" "$total")
    curl -sf -X POST "http://127.0.0.1:$port/_control/rule?path=/a&mode=hang:60000" >/dev/null
    read -r _ _ rate_dead _ < <(deliver "a-dead$round" "bench${run}dead$round." "$work/a.json" "$total")
    ok+=("$rate_ok") dead+=("$rate_dead") ratios+=("$(ratio "$rate_dead" "$rate_ok")")
done
dead_ratio=$(worst "${ratios[@]}")

want national && echo "== national: $national partners x 4 meldingen, every 20th at /h"
national_subscriptions "$work/n.json"
n_expect=$(( (national - (national + 19) / 20) * 4 ))
for ((round = 1; round <= rounds; round++)); do
    want national || break
    read -r _ _ rate_ok rss_ok < <(deliver "n-ok$round" "bench${run}nok$round." "$work/n.json" "$n_expect")
    curl -sf -X POST "http://127.0.0.1:$port/_control/rule?path=/h&mode=hang:2500" >/dev/null
    read -r _ _ rate_dead rss_dead < <(deliver "n-dead$round" "bench${run}ndead$round." "$work/n.json" "$n_expect")
    nok+=("$rate_ok") ndead+=("$rate_dead") nratios+=("$(ratio "$rate_dead" "$rate_ok")")
    nrss+=("$rss_ok" "$rss_dead")
done
n_ratio=$(worst "${nratios[@]}")
n_ok_worst=$(worst "${nok[@]}")
n_dead_worst=$(worst "${ndead[@]}")
n_rss=$(printf '%s\n' "${nrss[@]:-0}" | sort -n | tail -1)
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

cat <<TABLE

push benchmark ($(nproc) CPUs, shared, load $(cut -d' ' -f1-3 /proc/loadavg); release build; Apache Kafka on loopback; body $body bytes)
| run | deliveries/s | baseline | ratio |
|---|---:|---|---:|
| push, 16 partners x concurrency 1 ($total in ${c1_s} s) | $c1_rate | wrk, 16 conns: $wrk16 req/s | $(ratio "$c1_rate" "$wrk16") |
| push, 16 partners x concurrency 4 ($total in ${c4_s} s) | $c4_rate | wrk, 64 conns: $wrk64 req/s | $(ratio "$c4_rate" "$wrk64") |
| 16 partners while partner A hangs, 2 s timeout (runs: ${dead[*]}) | $(worst "${dead[@]}") | A answering (runs: ${ok[*]}) | worst round: $dead_ratio (rounds: ${ratios[*]}) |
| $national partners, all answering (runs: ${nok[*]}) | $n_ok_worst | | |
| $national partners, 5% hanging, 2 s timeout (runs: ${ndead[*]}) | $n_dead_worst | all answering, same round | worst round: $n_ratio (rounds: ${nratios[*]}) |
| push peak RSS, national case | $(mb "$n_rss") MB | | |
Targets: >= 10000 deliveries/s; a dead partner (or 5%) costs the others <= 20% (ratio >= 0.80); <= 64 MB.
TABLE
echo "PUSH c1=$c1_rate wrk16=$wrk16 c4=$c4_rate wrk64=$wrk64 dead_ok=$(worst "${ok[@]}") dead=$(worst "${dead[@]}") dead_ratio=$dead_ratio national=$national n_ok=$n_ok_worst n_dead=$n_dead_worst n_ratio=$n_ratio n_rss_kb=$n_rss"
