#!/usr/bin/env bash
# Starts the whole hub on the devbroker on free loopback ports, for the watch
# tests (and by hand): devbroker, the demo partners' receiver, ingest, route,
# push and watch, with the demo configuration. Writes DIR/env (INGEST, WATCH,
# RECEIVER, PUSH_PID, BOOTSTRAP, ...) and DIR/pids; logs in DIR/<service>.log.
#   tests/watch/stack.sh start <build-dir> <dir> [extra watch --set args...]
#   tests/watch/stack.sh stop <dir>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() { # url tries
  for _ in $(seq "$2"); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done
  echo "stack: $1 did not answer" >&2; return 1
}

start() {
  local bin; bin=$(cd "$1" && pwd)/bin
  local dir=$2; shift 2
  mkdir -p "$dir"; : > "$dir/pids"
  local demo=$root/deploy/demo
  "$bin/ketenhub-devbroker" --bootstrap-file "$dir/bootstrap" 2>"$dir/devbroker.log" &
  echo $! >> "$dir/pids"
  for _ in $(seq 100); do [ -s "$dir/bootstrap" ] && break; sleep 0.1; done
  export KETENHUB_KAFKA_BOOTSTRAP_SERVERS; KETENHUB_KAFKA_BOOTSTRAP_SERVERS=$(cat "$dir/bootstrap")
  export KETENHUB_REFERENCE_DIR=$root/deploy/reference
  local receiver ingest watch route_ops push_ops
  receiver=$(free_port); ingest=$(free_port); watch=$(free_port); route_ops=$(free_port); push_ops=$(free_port)
  sed "s/127.0.0.1:8190/127.0.0.1:$receiver/" "$demo/subscriptions.json" > "$dir/subscriptions.json"
  "$bin/kh-test-receiver" --port "$receiver" --record "$dir/partners.jsonl" 2>"$dir/receiver.log" &
  echo $! >> "$dir/pids"
  (cd "$demo" && exec "$bin/ketenhub-ingest" --config ingest.conf --set "http.listen=127.0.0.1:$ingest") 2>"$dir/ingest.log" &
  echo $! >> "$dir/pids"
  (cd "$demo" && exec "$bin/ketenhub-route" --config route.conf --set "ops.listen=127.0.0.1:$route_ops") 2>"$dir/route.log" &
  echo $! >> "$dir/pids"
  (cd "$demo" && exec "$bin/ketenhub-push" --config push.conf --set "ops.listen=127.0.0.1:$push_ops" \
     --set "subscriptions.file=$dir/subscriptions.json" --set retry.initial.ms=200 --set retry.max.ms=1000 \
     --set delivery.max.age.ms=3000) 2>"$dir/push.log" &
  local push_pid=$!; echo $push_pid >> "$dir/pids"
  local sets=(); for s in "$@"; do sets+=(--set "$s"); done
  (cd "$demo" && exec "$bin/ketenhub-watch" --config watch.conf --set "http.listen=127.0.0.1:$watch" "${sets[@]}") 2>"$dir/watch.log" &
  echo $! >> "$dir/pids"
  cat > "$dir/env" <<ENV
BOOTSTRAP=$KETENHUB_KAFKA_BOOTSTRAP_SERVERS
RECEIVER=$receiver
INGEST=$ingest
WATCH=$watch
PUSH_PID=$push_pid
ENV
  wait_http "http://127.0.0.1:$ingest/readyz" 150
  wait_http "http://127.0.0.1:$watch/readyz" 150
  wait_http "http://127.0.0.1:$push_ops/readyz" 150
}

stop() {
  local dir=$1
  [ -f "$dir/pids" ] || return 0
  tac "$dir/pids" | while read -r pid; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
  sleep 1
  tac "$dir/pids" | while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done
  : > "$dir/pids"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 start <build-dir> <dir> [key=value...] | stop <dir>" >&2; exit 2 ;;
esac
