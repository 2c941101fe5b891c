#!/usr/bin/env bash
# The browser test of ketenhub-watch: the whole hub on the devbroker with
# simulated traffic, the page in headless Debian chromium driven by
# playwright-core (npm, pinned in package.json; installed here when missing).
# Screenshots and logs land in the output directory.
#   tests/watch/browser/run.sh [build-dir] [output-dir]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=$(mkdir -p "${2:-$build/test-output/watch-browser}" && cd "${2:-$build/test-output/watch-browser}" && pwd)

[ -x /usr/bin/chromium ] || { echo "browser test: /usr/bin/chromium missing; run deploy/install-deps.sh" >&2; exit 1; }
want=$(node -p "require('$here/package.json').dependencies['playwright-core']")
have=$(node -p "try { require('$here/node_modules/playwright-core/package.json').version } catch (e) { '' }")
if [ "$have" != "$want" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent)
fi

stack=$out/stack
"$root/tests/watch/stack.sh" stop "$stack" 2>/dev/null || true
trap '"$root/tests/watch/stack.sh" stop "$stack"' EXIT
# A short status window so a stopped push reads STALL within seconds.
"$root/tests/watch/stack.sh" start "$build" "$stack" watch.sample.ms=1000 watch.status.window=4
. "$stack/env"
# termijn's state (the stack runs no termijn), as termijn writes it
# (kh-test-feed --zorgplicht): 12 children in Rotterdam (JZ29), 7 of them a
# month overdue, and 2 in Amsterdam (JZ13), each with a zorgplicht termijn
# and a BSN that must never reach the page.
today=$(( $(date -u +%s) / 86400 ))
{ for i in $(seq 12); do printf 'browser-r%d\tGM0599\t%d\n' "$i" $(( i <= 7 ? today - 30 : today + 30 )); done
  for i in 1 2; do printf 'browser-a%d\tGM0363\t%d\n' "$i" $((today + 30)); done
} | "$build/bin/kh-test-feed" --zorgplicht "$BOOTSTRAP" ketenhub.termijn.state.v1
"$build/bin/ketenhub" simulate --url "http://127.0.0.1:$INGEST" --keys "$root/deploy/demo/keys.txt" \
  --rate 15 --events 0 --seed 7 --connections 2 --quiet >"$stack/simulate.log" 2>&1 &
echo $! >> "$stack/pids"

ROOT=$root OUT=$out WATCH=$WATCH INGEST=$INGEST RECEIVER=$RECEIVER PUSH_PID=$PUSH_PID \
  node "$here/watch.test.js"
