#!/bin/sh
# bench/callgrind.sh: instructions per request inside exe-accessd, for
# cached check-like operations at one caller over ipc://, counted by
# callgrind and so independent of the machine's load.
#
#   bench/callgrind.sh [OP...]     default: check-cached check-resource check-granted
#
# It builds exe-accessd and exa-bench (in build-bench/), starts a private
# PostgreSQL (tests/harness/pg.sh), loads the small population
# (bench/datagen.sql, 10,000 users), runs the daemon under
# `valgrind --tool=callgrind`, and for each op: warms a working set of 400
# rows (2,000 calls), then counts N1 = 1,000 and N2 = 5,000 calls
# (callgrind_control -z before, -d after each) and prints
# (total₂ − total₁) / (N2 − N1), so that warm-up and connection set-up
# cancel out. Everything it started is stopped at the end.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
ops=${*:-check-cached check-resource check-granted}
build=${BENCH_BUILD_DIR:-$root/build-bench}
tmp=$(mktemp -d /tmp/exa-callgrind.XXXXXX)
vp=""
cleanup() {
	status=$?
	[ -n "$vp" ] && { kill "$vp" 2>/dev/null || true; wait "$vp" 2>/dev/null || true; }
	"$root/tests/harness/pg.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DEXE_BUILD_TESTS=OFF -DEXE_BUILD_BENCH=ON >"$tmp/cmake.log" 2>&1 ||
	{ cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" --target exe-accessd exa-bench \
	>"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log" >&2; exit 1; }
daemon=$build/service/exe-accessd
bench=$build/bench/exa-bench

"$root/tests/harness/pg.sh" start "$tmp/pg" >/dev/null
PGHOST=$(sed -n 's/^PGHOST=//p' "$tmp/pg/env")
PGUSER=$(sed -n 's/^PGUSER=//p' "$tmp/pg/env")
export PGHOST PGUSER
umask 077
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp/hash.key"
echo >>"$tmp/hash.key"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp/activity.key"
echo >>"$tmp/activity.key"
"$daemon" --mint-token bench:admin >"$tmp/mint"
sed -n 's/^line for the token file: //p' "$tmp/mint" >"$tmp/tokens"
token=$(sed -n 's/^token ([^)]*): //p' "$tmp/mint")
umask 022
psql -X -q -d postgres -c "CREATE DATABASE callgrind"
db="host=$PGHOST user=$PGUSER dbname=callgrind"
url=ipc://$tmp/d.sock

# wait_ready LOG PID
wait_ready() {
	i=0
	until grep -q '"event":"ready"' "$1" 2>/dev/null; do
		kill -0 "$2" 2>/dev/null && [ $i -lt 1200 ] ||
			{ cat "$1" >&2; echo "exe-accessd did not start" >&2; exit 1; }
		i=$((i + 1))
		sleep 0.1
	done
}

# Migrate, then load.
"$daemon" --listen="$url" --database-url="$db" \
	--hash-key-file="$tmp/hash.key" --activity-key-file="$tmp/activity.key" \
	--token-file="$tmp/tokens" --workers=1 >"$tmp/migrate.log" 2>&1 &
mp=$!
wait_ready "$tmp/migrate.log" $mp
kill $mp
wait $mp || true
psql -X -q -v ON_ERROR_STOP=1 -v users=10000 -d "$db" \
	-f "$root/bench/datagen.sql" | grep '^datagen:' >&2

valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p.out" \
	"$daemon" --listen="$url" --database-url="$db" \
	--hash-key-file="$tmp/hash.key" --activity-key-file="$tmp/activity.key" \
	--token-file="$tmp/tokens" --workers=2 >"$tmp/daemon.log" 2>&1 &
vp=$!
wait_ready "$tmp/daemon.log" $vp

# counted N: the daemon's instructions over N calls of the op.
counted() {
	callgrind_control -z $vp >/dev/null 2>&1
	"$bench" --token "$token" --op "$op" --url "$url" --database-url "$db" \
		--working-set 400 --seed 7 --count "$1" >/dev/null 2>&1
	callgrind_control -d $vp >/dev/null 2>&1
	sleep 1
	grep -h '^summary:\|^totals:' "$(ls -t "$tmp"/cg.$vp.out.* | head -1)" |
		head -1 | awk '{print $2}'
}

for op in $ops; do
	"$bench" --token "$token" --op "$op" --url "$url" --database-url "$db" \
		--working-set 400 --seed 7 --count 2000 >/dev/null 2>&1
	i1=$(counted 1000)
	i2=$(counted 5000)
	printf '%-16s %8d instructions per request in exe-accessd\n' "$op" \
		$(((i2 - i1) / 4000))
done
