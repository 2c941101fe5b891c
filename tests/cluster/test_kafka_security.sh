#!/usr/bin/env bash
# ketenhub against Apache Kafka with TLS, SASL/SCRAM-SHA-512 and the
# StandardAuthorizer (deploy/kafka/kafka.sh with KH_KAFKA_SECURITY=sasl_ssl):
#   1. the topics are created by `ketenhub topics apply` as the admin, and
#      every service's ACLs, derived by `ketenhub topics acls`, are created;
#   2. ingest -> route -> push run, each as its own SCRAM user over TLS,
#      configured only by kafka.* keys, and the demo events reach the
#      receiver as signed meldingen;
#   3. a service with a wrong password (ingest, route, push) exits non-zero
#      within 15 s, logging the broker's authentication error;
#   4. ingest running as a principal without Write on the event topics
#      answers 503 naming "Topic authorization failed", never 202; route
#      running as ingest (no Read on the event topics) says so in its log.
# Starts its own broker (not KH_KAFKA_BOOTSTRAP's). Kafka 3.9.2 by default:
# Debian's librdkafka 2.0.2 cannot log in with SCRAM to Kafka 4.x (a nonce
# bug fixed in librdkafka 2.6.1); KH_KAFKA_SECURE_VERSION overrides.
#   tests/cluster/test_kafka_security.sh   (KH_BIN_DIR, KH_SOURCE_DIR)
set -euo pipefail
root=${KH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${KH_BIN_DIR:-$root/build/bin}
# shellcheck source=tests/cluster/lib.sh
. "$root/tests/cluster/lib.sh"
kafka=$root/deploy/kafka/kafka.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kh-sec.XXXXXX")
export KH_KAFKA_STATE=$tmp/kafka KH_KAFKA_SECURITY=sasl_ssl
export KH_KAFKA_VERSION=${KH_KAFKA_SECURE_VERSION:-3.9.2}
export KETENHUB_REFERENCE_DIR=$root/deploy/reference
unset KETENHUB_KAFKA_BOOTSTRAP_SERVERS KETENHUB_TOPIC_PREFIX
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    "$kafka" stop || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
failed() {
    echo "FAIL: $*" >&2
    fail=1
}

t0=$SECONDS
"$kafka" start >/dev/null
conf() { "$kafka" client-config "$1"; }
"$bin/ketenhub" topics apply --replication-factor 1 --config "$(conf admin)" >"$tmp/apply.out" 2>&1 ||
    { cat "$tmp/apply.out" >&2; failed "topics apply as admin"; exit 1; }
"$bin/ketenhub" topics acls | "$kafka" acls >"$tmp/acls.out"
echo "secure broker, topics and $(grep -o '[0-9]* acls' "$tmp/acls.out") ready in $((SECONDS - t0)) s"

# --- 3. wrong passwords fail the start
for svc in ingest route push; do
    sed 's/^kafka.sasl.password = .*/kafka.sasl.password = not-the-password/' "$(conf "ketenhub-$svc")" >"$tmp/$svc-wrong.conf"
    start=$SECONDS rc=0
    (cd "$root/deploy/demo" && timeout 60 "$bin/ketenhub-$svc" --config "$svc.conf" --config "$tmp/$svc-wrong.conf" \
        --set http.listen="127.0.0.1:$(free_port)" --set ops.listen="127.0.0.1:$(free_port)" \
        --set subscriptions.file="$root/deploy/demo/subscriptions.json") 2>"$tmp/$svc-wrong.log" || rc=$?
    took=$((SECONDS - start))
    if ((rc == 0 || rc == 124 || took > 15)); then
        failed "$svc with a wrong password: exit $rc after ${took}s (want non-zero within 15 s)"
    elif ! grep -q 'cannot start: Kafka refused the connection.*Authentication failed' "$tmp/$svc-wrong.log"; then
        failed "$svc with a wrong password: no authentication error in its log"; cat "$tmp/$svc-wrong.log" >&2
    else
        echo "$svc with a wrong password: exit $rc after ${took}s, log: $(grep -o 'SASL authentication error: [^(]*' "$tmp/$svc-wrong.log" | head -1)"
    fi
done

# --- 2. the pipeline, each service as itself
rport=$(free_port)
"$bin/kh-test-receiver" --port "$rport" --record "$tmp/deliveries.jsonl" 2>"$tmp/receiver.log" &
pids+=($!)
subscriptions_for "$rport" >"$tmp/subscriptions.json"
iport=$(free_port)
start_svc() { # start_svc <service> <principal> <extra --set...>
    local svc=$1 user=$2
    shift 2
    (cd "$root/deploy/demo" && exec "$bin/ketenhub-$svc" --config "$svc.conf" --config "$(conf "$user")" \
        --set ops.listen="127.0.0.1:$(free_port)" "$@") 2>"$tmp/$svc-$user.log" &
    pids+=($!)
}
start_svc ingest ketenhub-ingest --set http.listen="127.0.0.1:$iport"
start_svc route ketenhub-route
start_svc push ketenhub-push --set subscriptions.file="$tmp/subscriptions.json" --set retry.initial.ms=200
wait_for 30 curl -sf "http://127.0.0.1:$iport/readyz" || failed "ingest not ready in 30 s"
accepted=0
while read -r key path file; do
    answer=$(post "$iport" "$key" "$path" "$file")
    [[ $answer == 202* ]] && accepted=$((accepted + 1)) || failed "POST /v1/$path $(basename "$file"): $answer"
done < <(demo_events)
# The first demo event (a child of Capelle placed at a Rotterdam school)
# owes meldingen to both gemeenten, each on its own path.
delivered() {
    grep -q '"path":"/gemeente/rotterdam"' "$tmp/deliveries.jsonl" &&
        grep -q '"path":"/gemeente/capelle"' "$tmp/deliveries.jsonl"
}
if wait_for 60 delivered; then
    echo "pipeline over TLS + SCRAM: $accepted events accepted, $(grep -c '' "$tmp/deliveries.jsonl") deliveries" \
        "($(grep -o '"path":"[^"]*"' "$tmp/deliveries.jsonl" | sort | uniq -c | tr -s ' ' | paste -sd, -))"
    grep -q '"webhook_signature":"v1,' "$tmp/deliveries.jsonl" || failed "deliveries are not signed"
else
    failed "no meldingen for GM0599 and GM0502 within 60 s"
    tail -n 5 "$tmp"/route-*.log "$tmp"/push-*.log >&2
fi
if grep -h '"level":"error"' "$tmp"/ingest-ketenhub-ingest.log "$tmp"/route-ketenhub-route.log \
        "$tmp"/push-ketenhub-push.log >"$tmp/errors"; then
    failed "errors in the services' logs:"; head -5 "$tmp/errors" >&2
fi

# --- 4. no ACL, no write: ingest as push; route as ingest
uport=$(free_port)
start_svc ingest ketenhub-push --set http.listen="127.0.0.1:$uport"
wait_for 30 curl -sf "http://127.0.0.1:$uport/readyz" || failed "ingest (as push) not ready in 30 s"
read -r key path file < <(demo_events)
answer=$(post "$uport" "$key" "$path" "$file")
if [[ $answer == 503* && $answer == *"Topic authorization failed"*"nothing was stored"* ]]; then
    echo "ingest without Write on its topic: ${answer:0:3}, \"$(grep -o 'the broker did not take the write ([^)]*)' <<<"$answer")\""
else
    failed "ingest as push: expected 503 naming Topic authorization failed, got: $answer"
fi
start_svc route ketenhub-ingest --set route.instance=unauthorised
wait_for 30 grep -qi 'authoriz' "$tmp/route-ketenhub-ingest.log" ||
    failed "route as ingest: nothing about authorisation in its log within 30 s"
grep -qi 'authoriz' "$tmp/route-ketenhub-ingest.log" &&
    echo "route without Read on the event topics logs: $(grep -oi '"msg":"[^"]*authoriz[^"]*"' "$tmp/route-ketenhub-ingest.log" | head -1 | cut -c1-160)"

echo "test_kafka_security: $((SECONDS - t0)) s"
exit "$fail"
