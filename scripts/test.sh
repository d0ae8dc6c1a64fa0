#!/usr/bin/env bash
# Runs every test: unit tests, and end-to-end tests through the real CLI on real SQLite files and a
# throwaway PostgreSQL that this script starts on loopback and stops at the end. Everything runs on
# a release build and again (but the slow tests) on an AddressSanitizer/UBSan build; the fuzzers
# run briefly on their corpora.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build
scripts/build.sh build-asan asan
CXX=clang++-14 cmake -S fuzz -B build-fuzz -G Ninja >/dev/null
cmake --build build-fuzz

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/strata-pg.XXXXXX")
trap 'scripts/pg.sh stop "$pgdir"' EXIT
eval "$(scripts/pg.sh start "$pgdir")"
export STRATA_REQUIRE_PG=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== release build"
ctest --test-dir build --output-on-failure -j2
echo "== sanitizer build (ASan + UBSan)"
ctest --test-dir build-asan --output-on-failure -j2 -LE slow
echo "== fuzzers (libFuzzer, a short run each on fuzz/corpus)"
ctest --test-dir build-fuzz --output-on-failure -j2
