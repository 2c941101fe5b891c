#!/usr/bin/env bash
# The demo hub, as `make run` starts it: the embedded broker (devbroker) and
# every ketenhub service built so far, on loopback. Ctrl-C stops everything.
#   deploy/demo/run.sh <build-dir>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin=$build/bin
run=$(mktemp -d "${TMPDIR:-/tmp}/ketenhub-demo.XXXXXX")

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap stop INT TERM EXIT

"$bin/ketenhub-devbroker" --bootstrap-file "$run/bootstrap" &
pids+=($!)
for _ in $(seq 100); do [ -s "$run/bootstrap" ] && break; sleep 0.1; done
[ -s "$run/bootstrap" ] || { echo "demo: devbroker did not start" >&2; exit 1; }
bootstrap=$(cat "$run/bootstrap")

echo "demo: checking the example events with the CLI"
for f in "$root"/schemas/examples/*/valid/*.json; do
  event=$(basename "$(dirname "$(dirname "$f")")")
  printf '  %-60s ' "${f#"$root"/}"
  "$bin/ketenhub" validate "$event" "$f"
done

cat <<MSG

ketenhub demo is running.
  Kafka bootstrap (embedded devbroker): $bootstrap
    export KETENHUB_KAFKA_BOOTSTRAP_SERVERS=$bootstrap
  Check an event:   $bin/ketenhub validate aanmelding schemas/examples/aanmelding/valid/01-geplaatst-rotterdam.json
  Schemas and ids:  $bin/ketenhub schema
Press Ctrl-C to stop.
MSG
wait
