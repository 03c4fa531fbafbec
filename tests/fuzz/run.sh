#!/bin/sh
# Runs one fuzzer for a bounded time on a throwaway copy of its seed
# corpus, with the dictionary text.dict, so the repository is never
# written to; what it finds new is dropped with the copy. A crashing input is kept in the crash directory.
# Exits with the fuzzer's status: 0 when it ran clean.
#
#   tests/fuzz/run.sh FUZZER CORPUS_DIR SECONDS CRASH_DIR [libFuzzer flags...]
set -eu
if [ $# -lt 4 ]; then
	echo "usage: $0 FUZZER CORPUS_DIR SECONDS CRASH_DIR [flags...]" >&2
	exit 2
fi
fuzzer=$1
corpus=$2
seconds=$3
crashes=$4
shift 4

work=$(mktemp -d "${TMPDIR:-/tmp}/exa-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/corpus" "$crashes"
cp "$corpus"/* "$work/corpus/"

# The dictionary of text the service must check whole (text.dict).
dict="$(dirname "$0")/text.dict"
if [ -f "$dict" ]; then
	set -- -dict="$dict" "$@"
fi

rc=0
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 \
	-artifact_prefix="$crashes/" -print_final_stats=1 "$@" \
	"$work/corpus" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "$(basename "$fuzzer"): failed with status $rc; the input is in" \
	    "$crashes/" >&2
fi
exit "$rc"
