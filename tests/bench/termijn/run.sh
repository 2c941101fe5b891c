#!/usr/bin/env bash
# The termijn benchmark, on Apache Kafka on loopback (release build):
#   1. 1 million open termijnen in the decision core (termijn_bench): events
#      per second of termijn_apply + tick without Kafka, resident memory per
#      termijn; their changelog written and restored (restore time);
#   3. (after 2) ketenhub-termijn started on part 1's changelog, with all
#      1 million termijnen overdue (an outage): restore time in the service
#      and the time until every due step is fired and committed;
#   2. events per second through ketenhub-termijn (decode, regels, changelog
#      records, meldingen, transactions) replaying route's pre-filled mixed
#      stream, beside route_passthrough (the bare consume -> produce
#      baseline with transactions) on the same stream in the same run.
#
#   tests/bench/termijn/run.sh        (starts its own Kafka via tests/with-kafka.sh)
#
# Settings (environment):
#   KH_BENCH_TERMIJNEN   open termijnen for part 1 (default 1000000)
#   KH_BENCH_EVENTS      events for part 2 (default 200000)
#   KH_BENCH_PARTITIONS  partitions per topic (default 4)
#   KH_BENCH_BUILD       the release tree (default build/release)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

if [[ -z ${KH_KAFKA_BOOTSTRAP:-} ]]; then
    exec "$root/tests/with-kafka.sh" "${BASH_SOURCE[0]}" "$@"
fi

termijnen=${KH_BENCH_TERMIJNEN:-1000000}
events=${KH_BENCH_EVENTS:-200000}
partitions=${KH_BENCH_PARTITIONS:-4}
build=${KH_BENCH_BUILD:-$root/build/release}
bin=$build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/kh-bench-termijn.XXXXXX")
prefix="bench$$."
svc_pid=

cleanup() {
    if [[ -n $svc_pid ]]; then
        kill -TERM "$svc_pid" 2>/dev/null || true
        wait "$svc_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "termijn benchmark: building the release tree in $build" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKH_SANITIZE=OFF -DCMAKE_C_FLAGS= >/dev/null
cmake --build "$build" -j2 --target ketenhub-termijn termijn_bench route_bench_fill \
    route_passthrough >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

echo "termijn benchmark: $termijnen open termijnen, changelog and restore" >&2
"$bin/termijn_bench" -r "$root/deploy/reference" -n "$termijnen" -b "$KH_KAFKA_BOOTSTRAP" \
    -p "${prefix}state." -P "$partitions"

echo "termijn benchmark: pre-filling $events events ($partitions partitions per topic)" >&2
"$bin/route_bench_fill" -b "$KH_KAFKA_BOOTSTRAP" -p "$prefix" -n "$events" -P "$partitions" \
    >"$work/fill.txt"

metric() { # metric <port> <name>: the sum of its samples (0 when it does not answer)
    { curl -s "http://127.0.0.1:$1/metrics" || true; } | awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 } END { if (s == int(s)) printf "%d\n", s; else printf "%.3f\n", s }'
}

# Time from the first committed event to the last (events_total counts
# records processed; the end is the last change of transactions_total
# after that, once it has not moved for a second: the last batch may have
# committed before the count was seen, as when the event count is a
# multiple of termijn.batch.records, so waiting for one more commit could
# wait for ever).
run_termijn() {
    local log=$work/termijn.log port= start= end= n=0
    "$bin/ketenhub-termijn" --set "kafka.bootstrap.servers=$KH_KAFKA_BOOTSTRAP" \
        --set "topic.prefix=$prefix" --set "group.id=${prefix}termijn" \
        --set "termijn.instance=bench" --set "ops.listen=127.0.0.1:0" 2>"$log" &
    svc_pid=$!
    until [[ -n $port ]]; do
        kill -0 "$svc_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.01
        port=$(sed -nE 's/.*"msg":"ops endpoint listening".*"port":([0-9]+).*/\1/p' "$log")
    done
    alive() { kill -0 "$svc_pid" 2>/dev/null || { echo "ketenhub-termijn died:" >&2; cat "$log" >&2; exit 1; }; }
    until (( n > 0 )); do alive; sleep 0.01; n=$(metric "$port" ketenhub_termijn_events_total); done
    start=$(date +%s.%N)
    until (( n >= events )); do alive; sleep 0.01; n=$(metric "$port" ketenhub_termijn_events_total); done
    local tx=$(metric "$port" ketenhub_termijn_transactions_total) now cur
    end=$(date +%s.%N)
    while now=$(date +%s.%N); awk -v a="$end" -v b="$now" 'BEGIN { exit !(b - a < 1) }'; do
        alive
        sleep 0.01
        cur=$(metric "$port" ketenhub_termijn_transactions_total)
        if (( cur != tx )); then tx=$cur; end=$(date +%s.%N); fi
    done
    # before the answer line: the caller reads on as soon as it has that
    awk '/VmHWM/ {print $2}' "/proc/$svc_pid/status" >"$work/rss-stream"
    echo "$n $(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
    echo "open termijnen after the stream: $(metric "$port" ketenhub_termijn_open)," \
         "meldingen: $(metric "$port" ketenhub_termijn_meldingen_total)" >&2
    kill -TERM "$svc_pid"
    wait "$svc_pid"
    svc_pid=
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# The service on part 1's changelog: every termijn overdue. Prints
# "restore_seconds total_seconds meldingen".
run_recovery() {
    local log=$work/recovery.log port= start today
    "$bin/route_bench_fill" -b "$KH_KAFKA_BOOTSTRAP" -p "${prefix}state." -n 1 \
        -P "$partitions" >/dev/null # the event topics, so partitions get assigned
    start=$(date +%s.%N)
    today=$(( $(date -u +%s) / 86400 ))
    "$bin/ketenhub-termijn" --set "kafka.bootstrap.servers=$KH_KAFKA_BOOTSTRAP" \
        --set "topic.prefix=${prefix}state." --set "group.id=${prefix}recovery" \
        --set "termijn.instance=recovery" --set "ops.listen=127.0.0.1:0" 2>"$log" &
    svc_pid=$!
    alive() { kill -0 "$svc_pid" 2>/dev/null || { echo "ketenhub-termijn died:" >&2; cat "$log" >&2; exit 1; }; }
    until [[ -n $port ]]; do
        alive; sleep 0.01
        port=$(sed -nE 's/.*"msg":"ops endpoint listening".*"port":([0-9]+).*/\1/p' "$log")
    done
    until (( $(metric "$port" ketenhub_termijn_restored_records_total) >= termijnen )); do alive; sleep 0.05; done
    until (( $(metric "$port" ketenhub_termijn_fired_through_days) >= today )); do alive; sleep 0.05; done
    awk '/VmHWM/ {print $2}' "/proc/$svc_pid/status" >"$work/rss-recovery"
    echo "$(metric "$port" ketenhub_termijn_restore_seconds)" \
         "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" \
         "$(metric "$port" ketenhub_termijn_meldingen_total)"
    kill -TERM "$svc_pid"
    wait "$svc_pid"
    svc_pid=
}

echo "termijn benchmark: passthrough (transactions)" >&2
read -r pn ps < <("$bin/route_passthrough" -b "$KH_KAFKA_BOOTSTRAP" -p "$prefix" \
    -g "${prefix}pass" -n "$events" -t 1 | sed -E 's/.*events=([0-9]+) seconds=([0-9.]+).*/\1 \2/')
printf 'passthrough  transactions %8d events %8.2f s %9s events/s\n' "$pn" "$ps" "$(rate "$pn" "$ps")"
echo "termijn benchmark: ketenhub-termijn" >&2
read -r tn ts < <(run_termijn)
printf 'termijn      transactions %8d events %8.2f s %9s events/s, peak RSS %d kB\n' "$tn" "$ts" \
    "$(rate "$tn" "$ts")" "$(cat "$work/rss-stream")"
echo "termijn benchmark: restart on $termijnen overdue termijnen" >&2
read -r rs tot nm < <(run_recovery)
printf 'recovery     %d termijnen: restore %.1f s, all due steps fired and committed after %.1f s (%s meldingen), peak RSS %d kB\n' \
    "$termijnen" "$rs" "$tot" "$nm" "$(cat "$work/rss-recovery")"
echo
echo "conditions: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $events events," \
     "$partitions partitions, default batches, Kafka on loopback, release build"
printf 'ratio termijn / passthrough: %.0f%%\n' \
    "$(awk -v a="$(rate "$tn" "$ts")" -v b="$(rate "$pn" "$ps")" 'BEGIN { print 100 * a / b }')"
