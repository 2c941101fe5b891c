#!/usr/bin/env bash
# The whole test suite, as `make test` runs it on a built sanitizer tree:
#   0. the layout of every C file, as .clang-format says (tests/check-format.sh);
#   1. the other build configurations, default, Release and clang, each
#      without a warning (tests/build-configs.sh, into <build-dir>/cfg-*);
#   2. the libFuzzer target, briefly (tests/fuzz/run.sh);
#   3. every Check program under ctest, with a real Apache Kafka broker on
#      loopback (tests/with-kafka.sh) for the tests that need one.
# Kafka that cannot be fetched or started fails the run; nothing is skipped.
#   tests/run.sh <build-dir>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)

"$root/tests/check-format.sh" "$root"
"$root/tests/build-configs.sh" "$build"
"$root/tests/fuzz/run.sh" "$build"

# ASan's allocator returns NULL for absurd sizes instead of aborting, as
# malloc does in production, so allocation-failure paths run as they will there.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

"$root/tests/with-kafka.sh" ctest --test-dir "$build" --output-on-failure --timeout 600
