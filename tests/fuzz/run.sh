#!/usr/bin/env bash
# Builds the libFuzzer target with clang (ASan + UBSan) and runs it briefly,
# seeded with the schema examples. A crash or sanitizer report fails the run
# and leaves the reproducer in the build dir.
#   tests/fuzz/run.sh <build-dir> [seconds]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(mkdir -p "${1:?usage: run.sh <build-dir> [seconds]}/fuzz" && cd "$1/fuzz" && pwd)
seconds=${2:-${KH_FUZZ_SECONDS:-45}}

CC=clang cmake -S "$root" -B "$build" -DKH_FUZZ=ON -DKH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
cmake --build "$build" --target fuzz_codec -j2 >/dev/null

# Seeds: every example as a JSON input (an even first byte selects the JSON
# path; a space is even and JSON ignores it).
seeds="$build/seeds"
corpus="$build/corpus"
mkdir -p "$seeds" "$corpus"
for f in "$root"/schemas/examples/*/*/*.json; do
  name=$(echo "$f" | sha1sum | cut -c1-16)
  { printf ' '; cat "$f"; } >"$seeds/$name"
done

echo "fuzz: running fuzz_codec for ${seconds}s"
cd "$build"
./bin/fuzz_codec -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
  "$corpus" "$seeds" 2>fuzz.log || { tail -50 fuzz.log; echo "fuzz: FAILED (see $build/fuzz.log)"; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" fuzz.log
echo "fuzz: no crash, no sanitizer report"
