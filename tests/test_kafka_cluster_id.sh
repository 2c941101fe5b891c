#!/usr/bin/env bash
# Checks the KRaft cluster ids deploy/kafka/kafka.sh makes, without starting
# Kafka: 2,000 of them, each 22 base64url characters encoding 16 bytes (the
# last character carries 2 bits: A, Q, g or w), none starting with '-' (the
# storage tool would read it as an option; an unfixed generator gives ~31 of
# those in 2,000 draws), and no two alike.
#   tests/test_kafka_cluster_id.sh [count]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${1:-2000}

ids=$("$root/deploy/kafka/kafka.sh" cluster-id "$count")
fail=0
got=$(grep -c '' <<<"$ids")
if ((got != count)); then
    echo "FAIL: asked for $count cluster ids, got $got" >&2
    fail=1
fi
bad=$(grep -Ev '^[A-Za-z0-9_-]{21}[AQgw]$' <<<"$ids" || true)
if [[ -n $bad ]]; then
    echo "FAIL: not 22 base64url characters of 16 bytes:" >&2
    head -n 5 <<<"$bad" >&2
    fail=1
fi
dash=$(grep -c '^-' <<<"$ids" || true)
if ((dash > 0)); then
    echo "FAIL: $dash of $count cluster ids start with '-':" >&2
    grep -m 5 '^-' <<<"$ids" >&2
    fail=1
fi
dupes=$(sort <<<"$ids" | uniq -d | wc -l)
if ((dupes > 0)); then
    echo "FAIL: $dupes cluster ids drawn twice" >&2
    fail=1
fi
((fail == 0)) || exit 1
echo "ok: $count cluster ids, 22 base64url characters each, none starting with '-', all distinct"
