#!/bin/sh
# The whole test suite: install what is missing (as root), build, run every
# test with CTest; run each fuzzer briefly; then build again with
# AddressSanitizer and UBSan and run the same suite. Exits non-zero if
# anything fails. Tests start their own
# throwaway PostgreSQL (as the `postgres` account when run as root) and
# their own exe-accessd processes, and stop them.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
tools/deps.sh build

echo "== layers (no module includes a layer above its own)"
tools/check-layers.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" >/dev/null
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== fuzzers, 10 s each (tools/fuzz.sh SECONDS runs them longer)"
tools/fuzz.sh 10

echo "== build (AddressSanitizer + UBSan)"
cmake -S . -B build-asan -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Debug \
	-DEXE_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
echo "== tests under AddressSanitizer + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j "$jobs"
