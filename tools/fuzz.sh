#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz/ with clang, AddressSanitizer
# and UBSan in build-fuzz/, then runs each in turn on a copy of its seed
# corpus for SECONDS (default 20), as its CTest test does. Prints per target
# the executions done and the final coverage line; exits non-zero if any
# fuzzer crashed, with the report in build-fuzz/tests/fuzz/logs/ and the
# input in build-fuzz/tests/fuzz/crashes/. Installs clang when run as root
# and it is missing (tools/deps.sh fuzz).
#
#   tools/fuzz.sh [SECONDS]
#
# The same runs through CTest: ctest --test-dir build-fuzz/tests/fuzz
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-20}
case "$seconds" in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
targets="fuzz_envelope fuzz_dispatch fuzz_paging"
tools/deps.sh fuzz

echo "== build (clang, libFuzzer, AddressSanitizer + UBSan)"
CC=clang cmake -S . -B build-fuzz -G "Unix Makefiles" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXE_FUZZ=ON -DEXE_BUILD_TESTS=OFF \
	>/dev/null
# Only what the fuzzers need: the rest of the tree is not built here.
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc)" --target $targets >/dev/null

out=build-fuzz/tests/fuzz
mkdir -p "$out/logs"
failed=""
for t in $targets; do
	echo "== $t: ${seconds}s"
	log="$out/logs/$t.log"
	rc=0
	tests/fuzz/run.sh "$out/$t" "tests/fuzz/corpus/$t" "$seconds" \
		"$out/crashes" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	echo "executions: ${execs:-?}"
	grep -a -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$log" |
		tail -n 1 || true
	if [ "$rc" -ne 0 ]; then
		failed="$failed $t"
		echo "CRASHED (status $rc); from $log:"
		grep -a -E 'check failed|ERROR:|runtime error|Test unit written' \
			"$log" || true
		# The stack, without libFuzzer's and libc's frames.
		grep -a -E '^ +#[0-9]+ ' "$log" |
			grep -a -v -E 'fuzzer::|libc|_start|sanitizer|raise|abort|pthread' |
			head -n 12 || true
	fi
done
if [ -n "$failed" ]; then
	echo "== crashed:$failed" >&2
	exit 1
fi
echo "== every fuzzer ran clean"
