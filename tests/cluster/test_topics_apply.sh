#!/usr/bin/env bash
# `ketenhub topics apply` against real Apache Kafka (KH_KAFKA_BOOTSTRAP, a
# single broker, hence --replication-factor 1): a dry run changes nothing,
# the first run creates every topic of deploy/topics.tsv, the second finds
# nothing to do; a changed retention and a grown partition count are shown,
# applied only with --alter, and then match; fewer partitions are refused
# with the reason; a file whose event topics differ in partitions or that
# lacks a topic of the manifest is refused before Kafka is asked; topic.prefix
# names every topic.
#   tests/cluster/test_topics_apply.sh   (KH_KAFKA_BOOTSTRAP, KH_BIN_DIR, KH_SOURCE_DIR)
set -euo pipefail
root=${KH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${KH_BIN_DIR:-$root/build/bin}
: "${KH_KAFKA_BOOTSTRAP:?run under tests/with-kafka.sh}"
export KETENHUB_KAFKA_BOOTSTRAP_SERVERS=$KH_KAFKA_BOOTSTRAP
export KETENHUB_TOPIC_PREFIX=apply$$.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file=$root/deploy/topics.tsv
ntopics=$(grep -vc -e '^#' -e '^$' "$file")
fail=0

# run <expected exit> <args...>: runs topics apply, output in $tmp/out
run() {
    local want=$1 rc=0
    shift
    "$bin/ketenhub" topics apply --replication-factor 1 --timeout-ms 20000 "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if ((rc != want)); then
        echo "FAIL: topics apply $* exited $rc, expected $want" >&2
        cat "$tmp/out" "$tmp/err" >&2
        fail=1
    fi
}

# expect <count> <regex>: that many lines of the last output match
expect() {
    local got
    got=$(grep -cE "$2" "$tmp/out" || true)
    if ((got != $1)); then
        echo "FAIL: expected $1 lines matching '$2', got $got:" >&2
        cat "$tmp/out" "$tmp/err" >&2
        fail=1
    fi
}

run 1 --dry-run
expect "$ntopics" "^would create	${KETENHUB_TOPIC_PREFIX//./\\.}ketenhub\."
run 1 --dry-run
expect "$ntopics" '^would create	'
run 0
expect "$ntopics" '^create	'
run 0
expect "$ntopics" '^ok	'

# Retention of tlv to 7 days, grensverkeer to 16 partitions.
awk -F'\t' 'BEGIN{OFS="\t"} $1=="ketenhub.tlv.v1"{$5=604800000} $1=="ketenhub.grensverkeer.v1"{$2=16} {print}' \
    "$file" >"$tmp/changed.tsv"
run 1 --file "$tmp/changed.tsv"
expect 1 '^differs	.*ketenhub\.tlv\.v1	retention\.ms 34560000000 -> 604800000 \(--alter applies it\)$'
expect 1 '^differs	.*ketenhub\.grensverkeer\.v1	partitions 12 -> 16'
expect $((ntopics - 2)) '^ok	'
run 1 --file "$tmp/changed.tsv" --dry-run --alter
expect 2 '^would alter	'
run 0 --file "$tmp/changed.tsv" --alter
expect 2 '^alter	'
run 0 --file "$tmp/changed.tsv"
expect "$ntopics" '^ok	'

# Back to the file: retention altered back; 16 -> 12 partitions refused.
run 1 --alter
expect 1 '^refused	.*ketenhub\.grensverkeer\.v1	partitions 16 -> 12: Kafka cannot remove partitions'
expect 1 '^alter	.*ketenhub\.tlv\.v1	retention\.ms 604800000 -> 34560000000$'
run 1
expect 1 '^refused	'
expect $((ntopics - 1)) '^ok	'

# Files refused before Kafka is asked.
awk -F'\t' 'BEGIN{OFS="\t"} $1=="ketenhub.tlv.v1"{$2=8} {print}' "$file" >"$tmp/skew.tsv"
run 2 --file "$tmp/skew.tsv"
grep -q 'must have one partition count (co-partitioned)' "$tmp/err" || { echo "FAIL: no co-partitioning message" >&2; cat "$tmp/err" >&2; fail=1; }
grep -v '^ketenhub.push.retry.v1' "$file" >"$tmp/missing.tsv"
run 2 --file "$tmp/missing.tsv"
grep -q 'ketenhub.push.retry.v1 (kh_retry.h) has no row' "$tmp/err" || { echo "FAIL: no missing-topic message" >&2; cat "$tmp/err" >&2; fail=1; }

# Another prefix: nothing of it exists yet.
KETENHUB_TOPIC_PREFIX=other$$. run 1 --dry-run
expect "$ntopics" "^would create	other$$\.ketenhub\."

((fail == 0)) && echo "topics apply: $ntopics topics created, idempotent, differences shown and applied with --alter, shrinking refused"
exit "$fail"
