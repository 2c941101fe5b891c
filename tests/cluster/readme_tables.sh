#!/usr/bin/env bash
# The README's topic table and ACL table are generated from deploy/topics.tsv
# and deploy/principals.tsv; this checks they are what the files say (so
# they cannot drift), or with --write rewrites them in place.
#   tests/cluster/readme_tables.sh [--write]   (KH_BIN_DIR: where ketenhub is)
set -euo pipefail
root=${KH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${KH_BIN_DIR:-$root/build/bin}
readme=$root/README.md

topic_table() {
    echo "| topic | partitions | replication | min.insync.replicas | retention | cleanup | key | why |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' '!/^#/ && NF == 10 {
        r = $5 == -1 ? "forever" : sprintf("%d days", $5 / 86400000)
        printf "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, r, $6, $7, $10
    }' "$root/deploy/topics.tsv"
}

acl_table() {
    "$bin/ketenhub" topics acls --markdown \
        --file "$root/deploy/topics.tsv" --principals "$root/deploy/principals.tsv"
}

# block <name>: the README lines between <!-- name:begin --> and <!-- name:end -->
block() {
    awk -v b="<!-- $1:begin -->" -v e="<!-- $1:end -->" '$0 == e {f = 0} f {print} $0 == b {f = 1}' "$readme"
}

# replace <name> <file>: put file's lines between the markers
replace() {
    awk -v b="<!-- $1:begin -->" -v e="<!-- $1:end -->" -v src="$2" '
        $0 == e {f = 0}
        !f {print}
        $0 == b {f = 1; while ((getline l < src) > 0) print l}' "$readme" >"$readme.tmp"
    mv "$readme.tmp" "$readme"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
topic_table >"$tmp/topics"
acl_table >"$tmp/acls"
fail=0
for name in topics acls; do
    grep -qx "<!-- $name:begin -->" "$readme" || { echo "FAIL: README.md has no <!-- $name:begin --> marker" >&2; exit 1; }
    if [[ ${1:-} == --write ]]; then
        replace "$name" "$tmp/$name"
    elif ! diff -u <(block "$name") "$tmp/$name" >"$tmp/diff"; then
        echo "FAIL: the README's $name table differs from deploy/topics.tsv + deploy/principals.tsv;" \
            "run tests/cluster/readme_tables.sh --write:" >&2
        cat "$tmp/diff" >&2
        fail=1
    fi
done
((fail == 0)) && echo "README topic and ACL tables match deploy/topics.tsv and deploy/principals.tsv"
exit "$fail"
