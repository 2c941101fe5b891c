#!/usr/bin/env bash
# Checks that every .c and .h under common/, services/ and tests/ is laid out
# as the repository's .clang-format says (clang-format 14, Debian package
# clang-format). Lists each file that differs, with the number of its lines
# clang-format would change, and exits 1; exits 0 when none differs.
# `clang-format -i <file>` fixes a file; `clang-format --dry-run <file>` shows where.
#   tests/check-format.sh [root]     (default: this repository)
set -euo pipefail
root=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)

if ! command -v clang-format >/dev/null; then
    echo "check-format: clang-format not found (deploy/install-deps.sh installs it)" >&2
    exit 2
fi
if [[ ! -f $root/.clang-format ]]; then
    echo "check-format: no .clang-format in $root" >&2
    exit 2
fi

cd "$root"
files=0
bad=0
lines=0
while IFS= read -r -d '' f; do
    files=$((files + 1))
    if ! clang-format --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
        # Lines of the file that would change (removed or rewritten).
        n=$(clang-format --style=file "$f" |
            diff --unchanged-line-format= --old-line-format='%L' --new-line-format= "$f" - |
            wc -l || true)
        echo "$f: $n lines differ"
        bad=$((bad + 1))
        lines=$((lines + n))
    fi
done < <(find common services tests -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

if ((bad > 0)); then
    echo "check-format: $bad of $files files differ from .clang-format ($lines lines)" >&2
    exit 1
fi
echo "check-format: all $files files match .clang-format"
