#!/bin/sh
# bench/chain.sh: what chaining the activity log costs a write.
#
#   bench/chain.sh OLD_DAEMON [NEW_DAEMON]
#
# OLD_DAEMON is an exe-accessd built from a commit before the chain (it is
# started without --activity-key-file); NEW_DAEMON defaults to the one in
# build-bench/ (built here with exa-bench). Both run on one private
# PostgreSQL (tests/harness/pg.sh), each on a fresh database of its own,
# with 4 workers, and exa-bench signs up users (CreateUser: one user,
# workspace, membership, API key and activity record per call) against one
# then the other, alternating, ROUNDS times, at 1 and at 8 callers over
# ipc://. Twice: with durable commits (fsync and synchronous_commit on, as
# production and bench/run.sh: a WAL flush per write dominates) and with
# synchronous_commit off (no flush to wait for, so the chain's own price
# shows: one more statement and its round trip under the revision row's
# lock, one more row updated, the hash). Each RESULT line also gets the CPU
# time the daemon and the whole PostgreSQL cluster spent per call during
# its cell (from /proc: less disturbed by a busy machine than the rates).
# Prints the RESULT lines and a per-cell summary (medians of the rounds).
# Everything started is stopped at the end.
#
# Settings: BENCH_SECONDS=5 (a cell), ROUNDS=3, BENCH_CONCURRENCY="1 8".
# Run it at low priority on a shared machine: nice -n 10 bench/chain.sh ...
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
old=${1:?usage: bench/chain.sh OLD_DAEMON [NEW_DAEMON]}
secs=${BENCH_SECONDS:-5}
rounds=${ROUNDS:-3}
concs=${BENCH_CONCURRENCY:-1 8}
build=$root/build-bench

tmp=$(mktemp -d /tmp/exa-chain-bench.XXXXXX)
pgstate=$tmp/pg
pids=""

log() { printf '[chain-bench] %s\n' "$*" >&2; }

cleanup() {
	status=$?
	trap - EXIT INT TERM
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null || true
	done
	"$root/tests/harness/pg.sh" stop "$pgstate" >/dev/null 2>&1 || true
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ $# -ge 2 ]; then
	new=$2
	bench=$(dirname "$new")/../bench/exa-bench
else
	log "building in $build"
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DEXE_BUILD_TESTS=OFF -DEXE_BUILD_BENCH=ON >"$tmp/cmake.log" 2>&1
	cmake --build "$build" -j 2 --target exe-accessd exa-bench \
		>"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log" >&2; exit 1; }
	new=$build/service/exe-accessd
	bench=$build/bench/exa-bench
fi

"$root/tests/harness/pg.sh" start "$pgstate" >/dev/null
PGHOST=$(sed -n 's/^PGHOST=//p' "$pgstate/env")
PGUSER=$(sed -n 's/^PGUSER=//p' "$pgstate/env")
export PGHOST PGUSER

umask 077
for k in hash activity; do
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp/$k.key"
	echo >>"$tmp/$k.key"
done
"$new" --mint-token bench:admin >"$tmp/mint"
sed -n 's/^line for the token file: //p' "$tmp/mint" >"$tmp/tokens"
EXA_BENCH_TOKEN=$(sed -n 's/^token ([^)]*): //p' "$tmp/mint")
[ -n "$EXA_BENCH_TOKEN" ] || { echo "cannot mint a token" >&2; exit 1; }
export EXA_BENCH_TOKEN

# start NAME BINARY EXTRA...: a daemon on a fresh database NAME.
start() {
	name=$1
	bin=$2
	shift 2
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $name" \
		-c "CREATE DATABASE $name"
	"$bin" --listen="ipc://$tmp/$name.sock" \
		--database-url="host=$PGHOST user=$PGUSER dbname=$name" \
		--hash-key-file="$tmp/hash.key" --token-file="$tmp/tokens" \
		--workers=4 "$@" >"$tmp/$name.log" 2>&1 &
	eval "pid_$name=$!"
	pids="$pids $!"
	i=0
	until grep -q '"event":"ready"' "$tmp/$name.log"; do
		i=$((i + 1))
		[ $i -lt 300 ] || { cat "$tmp/$name.log" >&2; exit 1; }
		sleep 0.1
	done
}

# proc_ticks PID...: CPU time (user + system, clock ticks) the processes
# and their reaped children have used; cluster_ticks: the postmaster's and
# every process it started (as bench/run.sh counts them).
proc_ticks() {
	for p in "$@"; do
		sed 's/.*) //' "/proc/$p/stat" 2>/dev/null
	done | awk '{ s += $12 + $13 + $14 + $15 } END { print s + 0 }'
}
cluster_ticks() {
	pm=$(head -n 1 "$PGHOST/data/postmaster.pid")
	proc_ticks "$pm" $(pgrep -P "$pm")
}
hz=$(getconf CLK_TCK)

stop() {
	eval "pid=\$pid_$1"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# settings MODE: durable, or nosync (synchronous_commit off).
settings() {
	if [ "$1" = durable ]; then sc=on; else sc=off; fi
	psql -X -q -d postgres -v ON_ERROR_STOP=1 <<SQL
ALTER SYSTEM SET fsync = on;
ALTER SYSTEM SET full_page_writes = on;
ALTER SYSTEM SET synchronous_commit = $sc;
ALTER SYSTEM SET jit = off;
SELECT pg_reload_conf();
SQL
}

for mode in durable nosync; do
	settings "$mode"
	start chain_old "$old"
	start chain_new "$new" --activity-key-file="$tmp/activity.key"
	for c in $concs; do
		r=1
		while [ $r -le "$rounds" ]; do
			for side in old new; do
				eval "dpid=\$pid_chain_$side"
				d0=$(proc_ticks "$dpid")
				p0=$(cluster_ticks)
				line=$("$bench" --op create-user \
					--url "ipc://$tmp/chain_$side.sock" \
					--concurrency "$c" --duration "$secs" \
					--transport ipc --tag "$mode-$side" | grep '^RESULT')
				d1=$(proc_ticks "$dpid")
				p1=$(cluster_ticks)
				ops=$(echo "$line" | sed 's/.* ops=\([0-9]*\) .*/\1/')
				echo "$line $(awk -v d=$((d1 - d0)) -v p=$((p1 - p0)) \
					-v n="$ops" -v hz="$hz" 'BEGIN {
					printf "daemon_cpu_us=%.0f db_cpu_us=%.0f",
					    d * 1e6 / hz / n, p * 1e6 / hz / n }')" |
					tee -a "$tmp/results"
			done
			r=$((r + 1))
		done
	done
	stop chain_old
	stop chain_new
done

# The summary: per mode, side and callers, the median of the rounds'
# calls/s and p50/p99 (as exa-bench prints them).
log "summary (median of $rounds rounds)"
awk '
{
	tag = ""; conc = ""; rate = ""; p50 = ""; p99 = ""; dc = ""; pc = ""
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "tag") tag = kv[2]
		else if (kv[1] == "conc") conc = kv[2]
		else if (kv[1] == "ops_s") rate = kv[2]
		else if (kv[1] == "p50_us") p50 = kv[2]
		else if (kv[1] == "p99_us") p99 = kv[2]
		else if (kv[1] == "daemon_cpu_us") dc = kv[2]
		else if (kv[1] == "db_cpu_us") pc = kv[2]
	}
	k = tag " c=" conc
	n[k]++
	r[k, n[k]] = rate; a[k, n[k]] = p50; b[k, n[k]] = p99
	x[k, n[k]] = dc; y[k, n[k]] = pc
	if (!(k in seen)) { seen[k] = 1; order[++m] = k }
}
function med(arr, k, cnt,   i, j, t, v) {
	for (i = 1; i <= cnt; i++) v[i] = arr[k, i] + 0
	for (i = 1; i <= cnt; i++)
		for (j = i + 1; j <= cnt; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return v[int((cnt + 1) / 2)]
}
END {
	for (i = 1; i <= m; i++) {
		k = order[i]
		printf "%-18s %6.0f calls/s  p50 %6.0f us  p99 %7.0f us  " \
		    "CPU/call: daemon %4.0f us, PostgreSQL %5.0f us\n", k,
		    med(r, k, n[k]), med(a, k, n[k]), med(b, k, n[k]),
		    med(x, k, n[k]), med(y, k, n[k])
	}
}' "$tmp/results"
