#!/usr/bin/env bash
# with-kafka.sh: run a command against a fresh, real Apache Kafka broker.
#
#   tests/with-kafka.sh <command...>
#
# Fetches Kafka (once; cached), starts a single-node KRaft broker on
# 127.0.0.1, exports KH_KAFKA_BOOTSTRAP=<host:port>, runs the command, always
# stops the broker and removes its data, and exits with the command's status.
# If Kafka cannot be fetched or started it exits non-zero and says why: a test
# that needs Kafka must fail, never pass by skipping. Settings: the KH_KAFKA_*
# variables of deploy/kafka/kafka.sh.
set -euo pipefail

if (($# == 0)); then
    echo "usage: $0 <command...>" >&2
    exit 2
fi

kafka=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/deploy/kafka/kafka.sh

# A private state dir, so two runs at once each get (and stop) their own broker.
own_state=
if [[ -z ${KH_KAFKA_STATE:-} ]]; then
    own_state=$(mktemp -d "${TMPDIR:-/tmp}/kh-kafka-state.XXXXXX")
    export KH_KAFKA_STATE=$own_state
fi

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    "$kafka" stop || echo "with-kafka.sh: warning: stopping the broker failed" >&2
    if [[ -n $own_state ]]; then
        rm -rf "$own_state"
    fi
}
trap cleanup EXIT
# A signal during fetch or start still ends in cleanup (once that step returns).
trap 'exit 130' INT
trap 'exit 143' TERM

if ! "$kafka" fetch; then
    echo "with-kafka.sh: error: could not fetch Apache Kafka (see above); not running: $*" >&2
    exit 1
fi
if ! KH_KAFKA_BOOTSTRAP=$("$kafka" start); then
    echo "with-kafka.sh: error: could not start Apache Kafka (see above); not running: $*" >&2
    exit 1
fi
export KH_KAFKA_BOOTSTRAP

# In the background so a SIGTERM (a CI timeout) reaches us at once and is
# passed on, instead of waiting for the command; stdin stays the caller's.
"$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM
trap 'kill -INT "$child" 2>/dev/null || true' INT
status=0
wait "$child" || status=$?
while kill -0 "$child" 2>/dev/null; do # the wait was cut short by a signal
    status=0
    wait "$child" || status=$?
done
exit "$status"
