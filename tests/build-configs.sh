#!/usr/bin/env bash
# Builds the configurations the tests do not run in, so none of them can rot
# unnoticed: the default one (`cmake -S . -B b`, RelWithDebInfo), Release
# (-O2: GCC looks deeper, e.g. -Wformat-truncation) and clang. Each gets its
# own dir under the build dir and is rebuilt incrementally on the next run.
# -Werror comes from CMakeLists.txt; a warning that is not an error (from the
# linker, say) fails the run too.
#   tests/build-configs.sh <build-dir>    builds into <build-dir>/cfg-{default,release,clang}
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(mkdir -p "${1:?usage: build-configs.sh <build-dir>}" && cd "$1" && pwd)

# build_one <name> <compiler> [cmake options...]
build_one() {
    local name=$1 cc=$2
    shift 2
    local dir=$build/cfg-$name log=$build/cfg-$name.log t0=$SECONDS
    if ! { CC=$cc cmake -S "$root" -B "$dir" "$@" && cmake --build "$dir" -j2; } >"$log" 2>&1; then
        grep -E -m 20 -A 4 'error|warning:' "$log" >&2 || tail -n 30 "$log" >&2
        echo "build-configs: the $name build FAILED (log: $log)" >&2
        return 1
    fi
    if grep -q 'warning:' "$log"; then
        grep -A 4 'warning:' "$log" | head -n 40 >&2
        echo "build-configs: the $name build has warnings (log: $log)" >&2
        return 1
    fi
    echo "build-configs: $name ok ($((SECONDS - t0)) s)"
}

t0=$SECONDS
build_one default gcc
build_one release gcc -DCMAKE_BUILD_TYPE=Release
build_one clang clang
echo "build-configs: default, release and clang build without warnings ($((SECONDS - t0)) s)"
