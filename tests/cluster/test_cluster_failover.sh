#!/usr/bin/env bash
# Broker failures on a three-node Kafka cluster (deploy/kafka/cluster.sh,
# replication 3, min.insync.replicas 2) while a continuous stream runs
# through ingest -> route (transactions) -> push -> a real receiver:
#   1. kill -9 the node leading the most ketenhub partitions, restart it
#      20 s later, wait until every replica is in sync again;
#   2. a rolling restart of all three nodes (SIGTERM, start, in sync again);
#   3. two nodes killed for 15 s (fewer than min.insync.replicas left), then
#      restarted.
# Then it counts: every 202-acknowledged event is on its topic exactly once;
# route wrote every melding of those events exactly once (read_committed);
# every melding reached the receiver (duplicates only with the same
# webhook-id, which is the melding id); no request made while two nodes were
# down was answered 202. It prints the counts and the longest stall each
# service showed (longest gap between consecutive 202s, meldingen, deliveries).
# Runtime about 3 minutes on the 2-core machine (163 s measured, plus the
# cluster's start); part of `make test`. Alone:
#   tests/cluster/test_cluster_failover.sh   (KH_BIN_DIR, KH_SOURCE_DIR; KH_KEEP=1 keeps the logs)
set -euo pipefail
root=${KH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${KH_BIN_DIR:-$root/build/bin}
# shellcheck source=tests/cluster/lib.sh
. "$root/tests/cluster/lib.sh"
cluster=$root/deploy/kafka/cluster.sh
probe=$bin/kh-cluster-probe
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kh-failover.XXXXXX")
export KH_KAFKA_STATE=$tmp/kafka KETENHUB_REFERENCE_DIR=$root/deploy/reference
unset KETENHUB_TOPIC_PREFIX KH_KAFKA_SECURITY
pids=()
cleanup() {
    touch "$tmp/stop"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n ${KH_KEEP:-} ]] && cp -r "$tmp/kafka" "$tmp/kafka-kept"
    "$cluster" stop || true
    [[ -n ${KH_KEEP:-} ]] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
failed() { echo "FAIL: $*" >&2; fail=1; }
now_ms() { date +%s%3N; }
t0=$SECONDS
mark() { echo "$(now_ms) $*" >>"$tmp/phases"; echo "[$((SECONDS - t0))s] $*"; }

B=$("$cluster" start)
export KETENHUB_KAFKA_BOOTSTRAP_SERVERS=$B
"$bin/ketenhub" topics apply >"$tmp/apply.out" 2>&1 || { cat "$tmp/apply.out" >&2; exit 1; }

rport=$(free_port) iport=$(free_port)
"$bin/kh-test-receiver" --port "$rport" --record "$tmp/deliveries.jsonl" 2>"$tmp/receiver.log" &
pids+=($!)
start_svc() { # start_svc <service> <--set...>
    local svc=$1
    shift
    (cd "$root/deploy/demo" && exec "$bin/ketenhub-$svc" --config "$svc.conf" \
        --set ops.listen="127.0.0.1:$(free_port)" "$@") 2>"$tmp/$svc.log" &
    pids+=($!)
    echo $! >"$tmp/$svc.pid"
}
start_svc ingest --set http.listen="127.0.0.1:$iport" --set rate.per_second=1000 --set rate.burst=1000
start_svc route --set route.instance=failover
wait_for 60 curl -sf "http://127.0.0.1:$iport/readyz" || { failed "ingest not ready"; exit 1; }

# The stream: one aanmelding after another (a child of Capelle placed at a
# Rotterdam school: two meldingen each), each with a fresh event_id; one
# line per request: start ms, end ms, HTTP status, event_id.
template=$root/schemas/examples/aanmelding/valid/01-geplaatst-rotterdam.json
old_id=$(jq -r .envelope.event_id "$template")
stream() {
    while [[ ! -e $tmp/stop ]]; do
        local id s e code
        id=$(cat /proc/sys/kernel/random/uuid)
        sed "s/$old_id/$id/" "$template" >"$tmp/event.json"
        s=$(now_ms)
        code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer demo-12ab00-61d2f8ce' \
            -H 'Content-Type: application/json' --data-binary "@$tmp/event.json" \
            "http://127.0.0.1:$iport/v1/aanmeldingen") || true
        e=$(now_ms)
        echo "$s $e $code $id" >>"$tmp/stream"
        sleep 0.02
    done
}
# One event first: how many meldingen one event makes (k) and for whom;
# push gets a subscription for each of them, so every melding is owed a
# delivery.
read -r key path file < <(demo_events)
answer=$(post "$iport" "$key" "$path" "$template")
[[ $answer == 202* ]] || { failed "the first event: $answer"; exit 1; }
melding_count() { "$probe" headers "$B" ketenhub.grensverkeer.v1 ontvanger 2>/dev/null | grep -c '' || true; }
has_meldingen() { (($(melding_count) > 0)); }
wait_for 60 has_meldingen || { failed "no melding for the first event in 60 s"; exit 1; }
sleep 3
"$probe" headers "$B" ketenhub.grensverkeer.v1 ontvanger >"$tmp/first"
k=$(grep -c '' "$tmp/first")
cut -f1 "$tmp/first" | sort -u | jq -R --arg url "http://127.0.0.1:$rport/r/" '{partner: ., url: ($url + (. | sub(":"; "-"))),
    secret: "whsec_ZGVtby1zZWNyZXQtcm90dGVyZGFtLTMyLWJ5dGVzIQ=="}' | jq -s '{subscriptions: .}' >"$tmp/subscriptions.json"
echo "one event makes $k meldingen, for $(cut -f1 "$tmp/first" | sort -u | paste -sd' ' -)"
start_svc push --set subscriptions.file="$tmp/subscriptions.json" --set retry.initial.ms=200 --set retry.max.ms=2000
echo "$(now_ms) $(now_ms) 202 $(jq -r .envelope.event_id "$template")" >"$tmp/stream"
stream &
pids+=($!)

in_sync() { [[ $("$probe" min-isr "$B" ketenhub. 2>/dev/null) == 3 ]] && sleep 1 &&
    [[ $("$probe" min-isr "$B" ketenhub. 2>/dev/null) == 3 ]]; }
wait_in_sync() { wait_for 120 in_sync || failed "replicas not all in sync 120 s after $1"; }

sleep 10
read -r leader led < <("$probe" leaders "$B" ketenhub.)
mark "kill -9 node $leader (leads $led partitions)"
"$cluster" kill "$leader"
sleep 20
mark "restart node $leader"
"$cluster" start-node "$leader" >/dev/null
wait_in_sync "the restart"
mark "all in sync"
for n in 1 2 3; do
    mark "rolling restart: stop node $n"
    "$cluster" stop-node "$n"
    "$cluster" start-node "$n" >/dev/null
    wait_in_sync "restarting node $n"
    mark "node $n back, all in sync"
done
sleep 5
survivor=$leader
down=()
for n in 1 2 3; do ((n == survivor)) || down+=("$n"); done
# The window starts once both are dead: a request sent while the second
# kill was still on its way may be acknowledged, rightly.
for n in "${down[@]}"; do "$cluster" kill "$n"; done
mark "two-down: kill -9 nodes ${down[*]}"
sleep 15
mark "two-up: restart nodes ${down[*]}"
for n in "${down[@]}"; do "$cluster" start-node "$n" >/dev/null; done
wait_in_sync "the two restarts"
mark "all in sync"
sleep 10
touch "$tmp/stop"
mark "stream stopped"

# Drain: every melding on the topic delivered, or 120 s.
topic_ids() { "$probe" headers "$B" ketenhub.grensverkeer.v1 melding-id >"$tmp/meldingen" 2>>"$tmp/probe.err"; }
delivered_all() {
    topic_ids || return 1
    jq -r .webhook_id "$tmp/deliveries.jsonl" | sort -u >"$tmp/delivered"
    [[ -z $(cut -f1 "$tmp/meldingen" | sort -u | comm -23 - "$tmp/delivered") ]]
}
wait_for 120 delivered_all || true
for svc in ingest route push; do
    kill -0 "$(cat "$tmp/$svc.pid")" 2>/dev/null || failed "ketenhub-$svc exited during the test (see its log)"
done

# --- counts
awk '$3 == 202 {print $4}' "$tmp/stream" | sort >"$tmp/acked"
"$probe" headers "$B" ketenhub.aanmelding.v1 event-id >"$tmp/events"
cut -f1 "$tmp/events" | sort >"$tmp/on_topic"
topic_ids
cut -f1 "$tmp/meldingen" | sort >"$tmp/melding_ids"
jq -r .webhook_id "$tmp/deliveries.jsonl" | sort >"$tmp/delivered_all"
requests=$(grep -c '' "$tmp/stream")
acked=$(grep -c '' "$tmp/acked")
refused=$(awk '$3 == 503' "$tmp/stream" | grep -c '' || true)
other=$((requests - acked - refused))
missing=$(comm -23 "$tmp/acked" <(sort -u "$tmp/on_topic") | grep -c '' || true)
dup_events=$(uniq -d "$tmp/on_topic" | grep -c '' || true)
unacked_stored=$(comm -13 "$tmp/acked" <(sort -u "$tmp/on_topic") | grep -c '' || true)
events=$(sort -u "$tmp/on_topic" | grep -c '')
meldingen=$(grep -c '' "$tmp/melding_ids")
dup_meldingen=$(uniq -d "$tmp/melding_ids" | grep -c '' || true)
undelivered=$(comm -23 <(sort -u "$tmp/melding_ids") <(sort -u "$tmp/delivered_all") | grep -c '' || true)
deliveries=$(grep -c '' "$tmp/delivered_all")
redelivered=$((deliveries - $(sort -u "$tmp/delivered_all" | grep -c '')))
read -r down_from down_to < <(awk '/two-down/ {f = $1} /two-up/ {t = $1} END {print f, t}' "$tmp/phases")
acked_while_down=$(awk -v f="$down_from" -v t="$down_to" '$3 == 202 && $1 >= f && $2 <= t' "$tmp/stream" | grep -c '' || true)
# Refused while down: a 503 for a request in flight at any time in the
# window (the stream sends one request at a time, and one sent just before
# the kills hangs through it until ingest gives up).
refused_while_down=$(awk -v f="$down_from" -v t="$down_to" '$3 == 503 && $1 <= t && $2 >= f' "$tmp/stream" | grep -c '' || true)

echo "requests $requests: 202 $acked, 503 $refused, other $other"
echo "event topic: $events distinct events; 202s missing $missing, duplicated $dup_events; stored though answered 503: $unacked_stored"
echo "grensverkeer: $meldingen meldingen (expected $k per event: $((k * events))), duplicated $dup_meldingen"
echo "receiver: $deliveries deliveries, $undelivered meldingen never delivered, $redelivered redeliveries (same webhook-id)"
echo "with two of three nodes down: $acked_while_down answered 202, $refused_while_down answered 503"
gap() { sort -n | awk 'NR > 1 && $1 - p > m {m = $1 - p} {p = $1} END {printf "%.1f s\n", m / 1000}'; }
echo "longest stall: ingest (between 202s) $(awk '$3 == 202 {print $2}' "$tmp/stream" | gap)," \
    "route (between meldingen) $(cut -f2 "$tmp/meldingen" | gap)," \
    "push (between deliveries) $(jq -r '.t_ms | floor' "$tmp/deliveries.jsonl" | gap)"
((missing == 0)) || failed "$missing acknowledged events are not on the topic"
((dup_events == 0)) || failed "$dup_events events are on the topic more than once"
((meldingen == k * events)) || failed "route wrote $meldingen meldingen for $events events"
((dup_meldingen == 0)) || failed "$dup_meldingen meldingen written more than once"
((undelivered == 0)) || failed "$undelivered meldingen were not delivered"
((acked_while_down == 0)) || failed "$acked_while_down requests answered 202 with two nodes down"
((acked > 0 && refused_while_down > 0)) || failed "the stream did not exercise both outcomes (202 $acked, 503 while down $refused_while_down)"
echo "test_cluster_failover: $((SECONDS - t0)) s"
exit "$fail"
