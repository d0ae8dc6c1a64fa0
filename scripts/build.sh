#!/usr/bin/env bash
# Builds Strata: `build.sh [DIR] [asan]`. Warnings are errors; "asan" adds AddressSanitizer and
# UndefinedBehaviorSanitizer. STRATA_TARGETS="strata" builds only those targets (the demo needs
# only the binary, not the tests and benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_WERROR=ON)
if [ "${2:-}" = "asan" ]; then flags+=(-DSTRATA_SANITIZE=ON -DSTRATA_BUILD_BENCH=OFF); fi
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
if [ -n "${STRATA_TARGETS:-}" ]; then
  # shellcheck disable=SC2086 # the targets are words
  cmake --build "$dir" --target ${STRATA_TARGETS}
else
  cmake --build "$dir"
fi
