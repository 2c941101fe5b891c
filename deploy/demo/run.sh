#!/usr/bin/env bash
# The demo hub, as `make run` starts it: the embedded broker (devbroker) and
# every ketenhub service that is built and has a demo configuration
# (deploy/demo/<service>.conf), on loopback. Ctrl-C stops everything.
#   deploy/demo/run.sh <build-dir>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin=$build/bin
demo=$root/deploy/demo
run=$(mktemp -d "${TMPDIR:-/tmp}/ketenhub-demo.XXXXXX")

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap stop INT TERM EXIT

"$bin/ketenhub-devbroker" --bootstrap-file "$run/bootstrap" 2>"$run/devbroker.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$run/bootstrap" ] && break; sleep 0.1; done
[ -s "$run/bootstrap" ] || { echo "demo: devbroker did not start" >&2; exit 1; }
export KETENHUB_KAFKA_BOOTSTRAP_SERVERS
KETENHUB_KAFKA_BOOTSTRAP_SERVERS=$(cat "$run/bootstrap")
export KETENHUB_REFERENCE_DIR=${KETENHUB_REFERENCE_DIR:-$root/deploy/reference}

echo "demo: checking the example events with the CLI"
for f in "$demo"/../../schemas/examples/*/valid/*.json; do
  event=$(basename "$(dirname "$(dirname "$f")")")
  "$bin/ketenhub" validate "$event" "$f" >/dev/null || echo "demo: $f no longer validates" >&2
done

# The demo partners' REST endpoint (deploy/demo/subscriptions.json points
# every subscription at it): the test receiver, recording each request.
if [ -x "$bin/kh-test-receiver" ]; then
  "$bin/kh-test-receiver" --exit-with-parent --port 8190 --record "$run/partners.jsonl" 2>"$run/receiver.log" &
  pids+=($!)
fi

# Services start in data-flow order; each logs JSON lines to its own file.
started=()
for svc in ingest route termijn push watch; do
  [ -x "$bin/ketenhub-$svc" ] && [ -f "$demo/$svc.conf" ] || continue
  (cd "$demo" && exec "$bin/ketenhub-$svc" --config "$demo/$svc.conf") 2>"$run/$svc.log" &
  pids+=($!)
  started+=("$svc")
done

# Traffic from the start: `ketenhub simulate` at a gentle rate (KH_DEMO_RATE
# events/s, default 3; 0 turns it off) with every partner's own key
# (deploy/demo/keys.txt), 5% of it invalid, until Ctrl-C.
rate=${KH_DEMO_RATE:-3}
if [ "$rate" != 0 ] && [[ " ${started[*]:-} " == *" ingest "* ]]; then
  for _ in $(seq 100); do curl -sf http://127.0.0.1:8080/readyz >/dev/null && break; sleep 0.1; done
  "$bin/ketenhub" simulate --url http://127.0.0.1:8080 --keys "$demo/keys.txt" --rate "$rate" \
    --events 0 --seed "${KH_DEMO_SEED:-1}" --invalid-share 0.05 --connections 2 \
    --results "$run/simulate.jsonl" >"$run/simulate.log" 2>&1 &
  pids+=($!)
  started+=("simulate at $rate events/s")
fi

cat <<MSG

ketenhub demo is running.
  Kafka bootstrap (embedded devbroker): $KETENHUB_KAFKA_BOOTSTRAP_SERVERS
    (in memory, keeps only the newest ~5 MiB per partition: a demo, never a store)
  Services: ${started[*]:-none yet}; logs in $run/<service>.log
  Demo partner endpoint: http://127.0.0.1:8190, every delivery recorded in $run/partners.jsonl
$( [[ " ${started[*]:-} " == *" watch "* ]] && echo "  Operators' view (ketenhub-watch): http://127.0.0.1:8090/  (API: /openapi.json, Prometheus: /metrics)" )
  Simulated traffic: every answer in $run/simulate.jsonl (KH_DEMO_RATE=0 make run: none)
  Check an event:   $bin/ketenhub validate aanmelding schemas/examples/aanmelding/valid/01-geplaatst-rotterdam.json
  Schemas and ids:  $bin/ketenhub schema
$( [ -f "$demo/README.md" ] && sed -n '/^## Try it/,$p' "$demo/README.md" )
Press Ctrl-C to stop.
MSG
wait
