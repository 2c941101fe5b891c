#!/usr/bin/env bash
# The benchmark report (not part of `make test`): every service benchmark
# and the end-to-end one, on a release build and one Apache Kafka on
# loopback, each figure beside its baseline measured in the same run:
#   ingest   tests/bench/ingest/run.sh  (baseline: bare libmicrohttpd 202)
#   route    tests/bench/route/run.sh   (baseline: bare consume -> produce
#            passthrough); its transactional run is also the replay figure
#   push     tests/bench/push/run.sh    (baseline: wrk on the same receiver;
#            a dead partner and 5% of 5,000 hanging against all answering)
#   e2e      tests/bench/e2e/run.sh     (POST to ingest -> melding at the
#            partner, p50/p99/max at 100 and 1,000 events/s, the highest
#            rate with p99 < 1 s; peak RSS of every service)
# Writes tests/bench/results/latest.md (the README's benchmark table) and
# latest.json, with the machine (cores, CPU model, load) and versions.
#
#   tests/bench/run.sh [--quick]
#
# --quick: shorter runs and a 100,000-event replay (a few minutes);
# otherwise 5,000,000 events, a national year (the pre-fill alone takes
# about 8 minutes). KH_BENCH_REPLAY changes the count; below 5 million the
# time for 5 million is extrapolated from it and labelled so.
# Logs of each part: tests/bench/results/latest-<part>.log.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ -z ${KH_KAFKA_BOOTSTRAP:-} ]]; then
    exec "$root/tests/with-kafka.sh" "$0" "$@"
fi
quick=
[[ ${1:-} == --quick ]] && quick=--quick
bench=$root/tests/bench
out=$bench/results
mkdir -p "$out"
replay=${KH_BENCH_REPLAY:-$([[ -n $quick ]] && echo 100000 || echo 5000000)}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

part() { # name command...
    local name=$1
    shift
    echo "== $name" >&2
    if ! "$@" >"$out/latest-$name.log" 2>&1; then
        echo "run.sh: the $name benchmark failed; see $out/latest-$name.log" >&2
        tail -5 "$out/latest-$name.log" >&2
        exit 1
    fi
}
if [[ -n $quick ]]; then
    part ingest env KH_BENCH_DURATION=5 KH_BENCH_WARMUP=3 "$bench/ingest/run.sh"
else
    part ingest "$bench/ingest/run.sh"
fi
part route env KH_BENCH_EVENTS="$replay" "$bench/route/run.sh"
part push "$bench/push/run.sh" $quick
part e2e "$bench/e2e/run.sh" $quick

# v PART-LINE-PREFIX KEY: a key=value from a part's summary line.
v() { grep -h "^$1 " "$out"/latest-*.log | tail -1 | sed -nE "s/.* $2=([^ ]+).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
e2e() { grep -h "^E2E $1 " "$out/latest-e2e.log" | sed -nE "s/.* $2=([^ ]+).*/\1/p"; }
rss() { grep -h "^E2E rss service=$1 " "$out/latest-e2e.log" | sed -nE 's/.* kb=([0-9]+).*/\1/p'; }

cpu=$(sed -nE 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cores=$(nproc)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
rdkafka=$(pkg-config --modversion rdkafka)
kafka=${KH_KAFKA_VERSION:-4.4.0}
cc=$(cc --version | head -1)
events=$(v ROUTE events)
secs=$(v ROUTE seconds_txn)
extrap=$(awk -v s="$secs" -v n="$events" 'BEGIN { printf "%.0f", s * 5000000 / n }')
replay_5m="**extrapolated** to 5,000,000: $extrap s" measured=false
if ((events >= 5000000)); then
    replay_5m="measured, not extrapolated" measured=true
fi
best=$(grep -h '^E2E best=' "$out/latest-e2e.log" | sed -E 's/.*best=([0-9]+).*/\1/')
e2e_line() { # rate label
    local key="rate=$1"
    printf '| end to end at %s events/s: POST → melding at the partner (%s meldingen, %s missing) | p50 %s ms, p99 %s ms, max %s ms | — | — |\n' \
        "$1" "$(e2e "$key" received)" "$(e2e "$key" missing)" "$(e2e "$key" p50_ms)" \
        "$(e2e "$key" p99_ms)" "$(e2e "$key" max_ms)"
}

{
    echo "Measured $started, commit $commit, ${quick:+quick mode, }on $cores cores ($cpu),"
    echo "load average $load_before before and $load_after after (the machine is shared: every"
    echo "figure is compared with a baseline measured in the same run). Release build; Apache"
    echo "Kafka $kafka on loopback (one KRaft node); librdkafka $rdkafka; $cc."
    echo
    echo "| benchmark | figure | baseline in the same run | ratio |"
    echo "|---|---|---|---|"
    echo "| ingest, wrk 2 threads × 64 connections | $(v INGEST kafka) events/s, p50 $(v INGEST p50_ms) ms, p99 $(v INGEST p99_ms) ms, peak RSS $(mb "$(v INGEST rss_kb)") MB | bare libmicrohttpd 202: $(v INGEST bare)/s | $(v INGEST ratio) |"
    echo "| route, $events events, transactions | $(v ROUTE route_txn) events/s | passthrough: $(v ROUTE pass_txn)/s | $(ratio "$(v ROUTE route_txn)" "$(v ROUTE pass_txn)") |"
    echo "| route, $events events, no transactions | $(v ROUTE route_plain) events/s | passthrough: $(v ROUTE pass_plain)/s | $(ratio "$(v ROUTE route_plain)" "$(v ROUTE pass_plain)") |"
    echo "| replay: route re-reading $events events ($(v ROUTE crossing) crossing a border) | $secs s, peak RSS $(mb "$(v ROUTE rss_kb)") MB; $replay_5m | — | — |"
    echo "| push, 16 partners × concurrency 1 | $(v PUSH c1) deliveries/s | wrk, 16 connections: $(v PUSH wrk16)/s | $(ratio "$(v PUSH c1)" "$(v PUSH wrk16)") |"
    echo "| push, 16 partners × concurrency 4 | $(v PUSH c4) deliveries/s | wrk, 64 connections: $(v PUSH wrk64)/s | $(ratio "$(v PUSH c4)" "$(v PUSH wrk64)") |"
    echo "| push, the 16 while partner A hangs past its 2 s timeout (worst round) | $(v PUSH dead) deliveries/s | A answering: $(v PUSH dead_ok)/s | $(v PUSH dead_ratio) |"
    echo "| push, $(v PUSH national) partners, 5% hanging (worst round) | $(v PUSH n_dead) deliveries/s, peak RSS $(mb "$(v PUSH n_rss_kb)") MB | all answering: $(v PUSH n_ok)/s | $(v PUSH n_ratio) |"
    e2e_line 100
    e2e_line 1000
    echo "| end to end: highest rate tried with p99 < 1 s and nothing missing | $best events/s | — | — |"
    echo "| peak RSS under the end-to-end load | ingest $(mb "$(rss ingest)") MB, route $(mb "$(rss route)") MB, push $(mb "$(rss push)") MB, watch $(mb "$(rss watch)") MB | — | — |"
    echo
    echo "Targets: ingest ≥ 20,000 events/s, p99 ≤ 20 ms; route ≥ 50% of passthrough; push ≥ 10,000"
    echo "deliveries/s, a dead partner (or 5%) costing ≤ 20% (ratio ≥ 0.80); e2e p99 ≤ 250 ms at 1,000"
    echo "events/s; replay of 5 million ≤ 2 minutes; every service ≤ 64 MB RSS."
} >"$out/latest.md"

num() { [[ $1 =~ ^-?[0-9]+([.][0-9]+)?$ ]] && echo "$1" || echo null; }
{
    printf '{"measured":"%s","commit":"%s","quick":%s,\n' "$started" "$commit" "$([[ -n $quick ]] && echo true || echo false)"
    printf ' "machine":{"cores":%s,"cpu":"%s","load_before":"%s","load_after":"%s"},\n' "$cores" "$cpu" "$load_before" "$load_after"
    printf ' "versions":{"kafka":"%s","librdkafka":"%s","cc":"%s"},\n' "$kafka" "$rdkafka" "$cc"
    printf ' "ingest":{"events_per_s":%s,"p50_ms":%s,"p99_ms":%s,"rss_kb":%s,"baseline_per_s":%s,"ratio":%s},\n' \
        "$(num "$(v INGEST kafka)")" "$(num "$(v INGEST p50_ms)")" "$(num "$(v INGEST p99_ms)")" "$(num "$(v INGEST rss_kb)")" \
        "$(num "$(v INGEST bare)")" "$(num "$(v INGEST ratio)")"
    printf ' "route":{"events":%s,"crossing":%s,"txn_per_s":%s,"passthrough_txn_per_s":%s,"plain_per_s":%s,"passthrough_plain_per_s":%s,"replay_seconds":%s,"replay_5m_seconds":%s,"replay_5m_measured":%s,"rss_kb":%s},\n' \
        "$(num "$events")" "$(num "$(v ROUTE crossing)")" "$(num "$(v ROUTE route_txn)")" "$(num "$(v ROUTE pass_txn)")" \
        "$(num "$(v ROUTE route_plain)")" "$(num "$(v ROUTE pass_plain)")" "$(num "$secs")" "$(num "$extrap")" "$measured" "$(num "$(v ROUTE rss_kb)")"
    printf ' "push":{"c1_per_s":%s,"wrk16_per_s":%s,"c4_per_s":%s,"wrk64_per_s":%s,"dead_per_s":%s,"dead_baseline_per_s":%s,"dead_ratio_worst":%s,"national_partners":%s,"national_ok_per_s":%s,"national_5pct_hanging_per_s":%s,"national_ratio_worst":%s,"national_rss_kb":%s},\n' \
        "$(num "$(v PUSH c1)")" "$(num "$(v PUSH wrk16)")" "$(num "$(v PUSH c4)")" "$(num "$(v PUSH wrk64)")" "$(num "$(v PUSH dead)")" \
        "$(num "$(v PUSH dead_ok)")" "$(num "$(v PUSH dead_ratio)")" "$(num "$(v PUSH national)")" "$(num "$(v PUSH n_ok)")" \
        "$(num "$(v PUSH n_dead)")" "$(num "$(v PUSH n_ratio)")" "$(num "$(v PUSH n_rss_kb)")"
    printf ' "e2e":{"runs":['
    sep=
    while read -r line; do
        printf '%s{' "$sep"
        sep=,
        kv=$(sed -E 's/^E2E (rate|search)=/rate=/' <<<"$line")
        fsep=
        for pair in $kv; do
            printf '%s"%s":%s' "$fsep" "${pair%%=*}" "$(num "${pair#*=}")"
            fsep=,
        done
        printf '}'
    done < <(grep -hE '^E2E (rate|search)=' "$out/latest-e2e.log")
    printf '],"best_rate_p99_under_1s":%s,"rss_kb":{"ingest":%s,"route":%s,"push":%s,"watch":%s}}}\n' \
        "$(num "$best")" "$(num "$(rss ingest)")" "$(num "$(rss route)")" "$(num "$(rss push)")" "$(num "$(rss watch)")"
} >"$out/latest.json"

# The README's benchmark table is this file: copied between its markers.
readme=$root/README.md
if grep -q '^<!-- bench:begin' "$readme"; then
    awk -v f="$out/latest.md" '
        /^<!-- bench:begin/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
        /^<!-- bench:end/ { skip = 0 }
        !skip' "$readme" >"$readme.new" && mv "$readme.new" "$readme"
fi
cat "$out/latest.md"
