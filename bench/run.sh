#!/bin/sh
# bench/run.sh: the whole benchmark suite in one command (issue 8).
#
#   bench/run.sh                  build, run everything, print the table
#
# It builds exe-accessd and the bench tools (in build-bench/), starts a
# private PostgreSQL with tests/harness/pg.sh, tuned for the benchmark
# (shared_buffers 1GB; fsync, full_page_writes and synchronous_commit on:
# every write is durable, as in production), loads the small scale
# (10,000 users), starts two exe-accessd (4 workers each: one with a cache
# that holds everything, one with --cache-size=0, for checks that always need
# the database) and the nng echo server, and runs every operation at 1, 8
# and 64 callers over ipc:// and tcp://127.0.0.1 (the reads, then the
# direct PostgreSQL lookups, then the writes). Then it loads the large
# scale (1,000,000 users, 5,000,000 memberships) into a fresh database and
# runs the checks again, fills the cache with 1,000,000 memberships and
# reads exe-accessd's resident memory. Between the two scales it gives the
# PostgreSQL a streaming hot standby (pg.sh standby) and runs the cold
# check and the list reads over ipc:// against two cache-less daemons, one
# on the primary alone and one that also reads from the standby
# (--read-database-url), recording the CPU time the daemon, the primary and
# the standby spent per request. Everything it started is stopped and its
# temporary data removed at the end, on error and on Ctrl-C.
#
# Settings (environment):
#   BENCH_SECONDS=3        length of one cell
#   BENCH_LARGE=1          0 skips the large scale
#   BENCH_REPLICA=1        0 skips the read-replica cells
#   BENCH_REPLICA_OPS="check-cold list-workspaces list-permissions"
#   BENCH_SMALL_USERS=10000, BENCH_LARGE_USERS=1000000
#   BENCH_CONCURRENCY="1 8 64", BENCH_TRANSPORTS="ipc tcp"
#   BENCH_OPS="..."        the small-scale ops (default: all)
#   BENCH_WORKERS=4        database workers of each exe-accessd
#   BENCH_LOCAL=1          0 skips the client's local cache cells
#   BENCH_LOCAL_CONCURRENCY="1 2 8", BENCH_LOCAL_COUNT=10000000 checks a cell
#   BENCH_PROPAGATION_COUNT=500  role changes timed to a caching client
#   BENCH_CLIENTS=thread   thread: a client per calling thread; shared: one
#   BENCH_RESULTS=FILE     also keep the raw RESULT lines there
#   BENCH_BUILD_DIR=build-bench
# Run it at low priority on a shared machine: nice -n 10 bench/run.sh
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECONDS:-3}
large=${BENCH_LARGE:-1}
replica=${BENCH_REPLICA:-1}
replica_ops=${BENCH_REPLICA_OPS:-check-cold list-workspaces list-permissions}
small_users=${BENCH_SMALL_USERS:-10000}
large_users=${BENCH_LARGE_USERS:-1000000}
concs=${BENCH_CONCURRENCY:-1 8 64}
transports=${BENCH_TRANSPORTS:-ipc tcp}
ops=${BENCH_OPS:-echo check-cached check-cold check-resource check-granted batch100 list-permissions list-workspaces create-user add-member change-role}
clients=${BENCH_CLIENTS:-thread}
local_cache=${BENCH_LOCAL:-1}
local_concs=${BENCH_LOCAL_CONCURRENCY:-1 2 8}
local_count=${BENCH_LOCAL_COUNT:-10000000}
propagation_count=${BENCH_PROPAGATION_COUNT:-500}
workers=${BENCH_WORKERS:-4}
build=${BENCH_BUILD_DIR:-$root/build-bench}
case $build in /*) ;; *) build=$root/$build ;; esac

started=$(date +%s)
tmp=$(mktemp -d /tmp/exa-bench.XXXXXX)
pgstate=$tmp/pg
results=$tmp/results
pids=""

log() { printf '[bench %4ds] %s\n' $(($(date +%s) - started)) "$*" >&2; }

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
	if [ -n "${BENCH_RESULTS:-}" ] && [ -f "$results" ]; then
		cp "$results" "$BENCH_RESULTS" || true
	fi
	rm -rf "$tmp"
	[ $status -eq 0 ] || log "failed (exit $status); everything started was stopped"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build -----------------------------------------------------------------
log "building in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DEXE_BUILD_TESTS=OFF -DEXE_BUILD_BENCH=ON >"$tmp/cmake.log" 2>&1 ||
	{ cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" --target exe-accessd exa-bench \
	exa-echo-server exa-pg-direct >"$tmp/build.log" 2>&1 ||
	{ tail -40 "$tmp/build.log" >&2; exit 1; }
daemon=$build/service/exe-accessd
bench=$build/bench/exa-bench
echo_server=$build/bench/exa-echo-server
pgdirect=$build/bench/exa-pg-direct

# --- PostgreSQL ------------------------------------------------------------
log "starting PostgreSQL"
"$root/tests/harness/pg.sh" start "$pgstate" >/dev/null
PGHOST=$(sed -n 's/^PGHOST=//p' "$pgstate/env")
PGUSER=$(sed -n 's/^PGUSER=//p' "$pgstate/env")
export PGHOST PGUSER
# pg.sh trades durability for speed (fsync off); a benchmark must not.
# ALTER SYSTEM wins over postgresql.conf; shared_buffers needs a restart.
psql -X -q -d postgres -v ON_ERROR_STOP=1 <<'SQL'
ALTER SYSTEM SET shared_buffers = '1GB';
ALTER SYSTEM SET fsync = on;
ALTER SYSTEM SET full_page_writes = on;
ALTER SYSTEM SET synchronous_commit = on;
ALTER SYSTEM SET max_wal_size = '8GB';
ALTER SYSTEM SET checkpoint_timeout = '30min';
ALTER SYSTEM SET maintenance_work_mem = '512MB';
ALTER SYSTEM SET jit = off;
SQL
"$root/tests/harness/pg.sh" pause "$pgstate"
"$root/tests/harness/pg.sh" resume "$pgstate"
psql -X -q -At -d postgres -c "SHOW shared_buffers" >"$tmp/sb"
log "PostgreSQL at $PGHOST (shared_buffers $(cat "$tmp/sb"), fsync on, synchronous_commit on)"

# --- secrets for the daemons -------------------------------------------------
umask 077
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp/hash.key"
echo >>"$tmp/hash.key"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp/activity.key"
echo >>"$tmp/activity.key"
"$daemon" --mint-token bench:admin >"$tmp/mint"
sed -n 's/^line for the token file: //p' "$tmp/mint" >"$tmp/tokens"
token=$(sed -n 's/^token ([^)]*): //p' "$tmp/mint")
[ -n "$token" ] || { echo "cannot mint a token" >&2; exit 1; }
umask 022

# Ports: a block picked from the process id, so that two runs (or the test
# suite's daemons) rarely meet.
port=$((20000 + ($$ % 2000) * 10))
cached_tcp=tcp://127.0.0.1:$port
cold_tcp=tcp://127.0.0.1:$((port + 1))
echo_tcp=tcp://127.0.0.1:$((port + 2))
metrics=http://127.0.0.1:$((port + 3))
cold_metrics=http://127.0.0.1:$((port + 4))
cached_ipc=ipc://$tmp/cached.sock
cold_ipc=ipc://$tmp/cold.sock
echo_ipc=ipc://$tmp/echo.sock
publish_ipc=ipc://$tmp/publish.sock

cached_pid=""
cold_pid=""

# wait_ready LOG PID: until the daemon logs "ready" (60 s at most). The
# caller removes LOG before starting the daemon: the shell opens it in the
# background, and an old "ready" must not count.
wait_ready() {
	i=0
	while ! grep -q '"event":"ready"' "$1" 2>/dev/null; do
		if ! kill -0 "$2" 2>/dev/null || [ $i -ge 600 ]; then
			cat "$1" >&2
			echo "exe-accessd did not start" >&2
			exit 1
		fi
		i=$((i + 1))
		sleep 0.1
	done
}

# start_daemons DB: the caching daemon and the cache-less one, on DB.
start_daemons() {
	db="host=$PGHOST user=$PGUSER dbname=$1"
	rm -f "$tmp/cached.log" "$tmp/cold.log"
	"$daemon" --listen="$cached_ipc" --listen="$cached_tcp" \
		--database-url="$db" --hash-key-file="$tmp/hash.key" \
		--activity-key-file="$tmp/activity.key" \
		--token-file="$tmp/tokens" --workers="$workers" --cache-size=1200000 \
		--publish="$publish_ipc" \
		--metrics-address="$metrics" >"$tmp/cached.log" 2>&1 &
	cached_pid=$!
	pids="$pids $cached_pid"
	"$daemon" --listen="$cold_ipc" --listen="$cold_tcp" \
		--database-url="$db" --hash-key-file="$tmp/hash.key" \
		--activity-key-file="$tmp/activity.key" \
		--token-file="$tmp/tokens" --workers="$workers" --cache-size=0 \
		--metrics-address="$cold_metrics" >"$tmp/cold.log" 2>&1 &
	cold_pid=$!
	pids="$pids $cold_pid"
	wait_ready "$tmp/cached.log" "$cached_pid"
	wait_ready "$tmp/cold.log" "$cold_pid"
}

# stop PID...: stop processes this script started, and forget them.
stop() {
	for p in "$@"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		pids=$(echo " $pids " | sed "s/ $p / /g")
	done
}

stop_daemons() {
	stop $cached_pid $cold_pid
	cached_pid=""
	cold_pid=""
}

# new_db NAME USERS: create, migrate (by starting exe-accessd once), load.
new_db() {
	psql -X -q -d postgres -c "CREATE DATABASE $1"
	rm -f "$tmp/migrate.log"
	"$daemon" --listen="ipc://$tmp/migrate.sock" \
		--database-url="host=$PGHOST user=$PGUSER dbname=$1" \
		--hash-key-file="$tmp/hash.key" \
		--activity-key-file="$tmp/activity.key" --token-file="$tmp/tokens" \
		--workers=1 >"$tmp/migrate.log" 2>&1 &
	mpid=$!
	pids="$pids $mpid"
	wait_ready "$tmp/migrate.log" "$mpid"
	stop "$mpid"
	log "loading $2 users into $1"
	psql -X -q -v ON_ERROR_STOP=1 -v users="$2" \
		-d "host=$PGHOST user=$PGUSER dbname=$1" \
		-f "$root/bench/datagen.sql" >"$tmp/datagen.out"
	grep '^datagen:' "$tmp/datagen.out" | tee -a "$tmp/loads" >&2
}

url_of() { # url_of ipc|tcp cached|cold|echo
	eval "echo \$${2}_$1"
}

# lookups: the caching daemon's cache hits and misses so far.
lookups() {
	curl -sf "$metrics/metrics" | awk '
		$1 == "exe_access_cache_hits_total" { h = $2 }
		$1 == "exe_access_cache_misses_total" { m = $2 }
		END { print h + 0, m + 0 }'
}

# grouped: the cache-less daemon's calls decided in groups so far.
grouped() {
	curl -sf "$cold_metrics/metrics" |
		awk '$1 == "exe_access_db_grouped_calls_total" { g = $2 }
		    END { print g + 0 }'
}

# cell SCALE ARGS...: one run of exa-bench, its RESULT line kept. Runs
# against the caching daemon also record its cache hits and misses during
# the run (the untimed warm-up included): a cached op answered from the
# cache has about one hit per check and no misses after its warm-up. Runs
# against the cache-less one record how many calls were decided in groups.
cell() {
	scale=$1
	shift
	grouped_before=""
	case " $* " in
	*" $cached_ipc "* | *" $cached_tcp "*) before=$(lookups) ;;
	*" $cold_ipc "* | *" $cold_tcp "*) before="" grouped_before=$(grouped) ;;
	*) before="" ;;
	esac
	out=$("$bench" --token "$token" --clients "$clients" "$@" 2>"$tmp/cell.err") || {
		cat "$tmp/cell.err" >&2
		exit 1
	}
	sed 's/^/  /' "$tmp/cell.err" >&2
	if [ -n "$before" ]; then
		after=$(lookups)
		out="$out cache_hits=$((${after% *} - ${before% *})) cache_misses=$((${after#* } - ${before#* }))"
	fi
	if [ -n "$grouped_before" ]; then
		out="$out grouped=$(($(grouped) - grouped_before))"
	fi
	echo "$out scale=$scale" >>"$results"
}

pg_cell() { # pg_cell SCALE CONC [ARGS...]
	scale=$1
	c=$2
	shift 2
	out=$("$pgdirect" --database-url "host=$PGHOST user=$PGUSER dbname=$db_name" \
		--concurrency "$c" --duration "$secs" "$@" 2>"$tmp/cell.err") || {
		cat "$tmp/cell.err" >&2
		exit 1
	}
	sed 's/^/  /' "$tmp/cell.err" >&2
	echo "$out scale=$scale" >>"$results"
}

# mem AT: the caching daemon's resident memory (KiB) and cache entries.
mem() {
	entries=$(curl -sf "$metrics/metrics" |
		awk '$1 == "exe_access_cache_entries" { print $2 }')
	awk -v at="$1" -v entries="${entries:-?}" '
		/^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 }
		END { printf "MEM at=%s VmRSS_kib=%s VmHWM_kib=%s cache_entries=%s\n",
		    at, rss, hwm, entries }' "/proc/$cached_pid/status" >>"$results"
}

: >"$results"
: >"$tmp/loads"
echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)" >"$tmp/machine"

# --- small scale -------------------------------------------------------------
db_name=bench_small
new_db "$db_name" "$small_users"
start_daemons "$db_name"
"$echo_server" --listen="$echo_ipc" --listen="$echo_tcp" >"$tmp/echo.log" 2>&1 &
echo_pid=$!
pids="$pids $echo_pid"
i=0
until grep -q ready "$tmp/echo.log"; do
	i=$((i + 1))
	[ $i -lt 100 ] && kill -0 $echo_pid 2>/dev/null ||
		{ cat "$tmp/echo.log" >&2; exit 1; }
	sleep 0.1
done
dburl="host=$PGHOST user=$PGUSER dbname=$db_name"
# One untimed second first, so that no cell pays for a cold start.
"$bench" --op echo --url "$echo_ipc" --duration 1 >/dev/null 2>&1 || true
log "small scale: $(echo $ops | wc -w) ops x transports ($transports) x callers ($concs), ${secs}s each"
# small_cells OPS...: every op at every transport and number of callers.
small_cells() {
	for t in $transports; do
		for c in $concs; do
			for op in "$@"; do
				case $op in
				echo) url=$(url_of "$t" echo) ;;
				check-cold) url=$(url_of "$t" cold) ;;
				*) url=$(url_of "$t" cached) ;;
				esac
				cell small --op "$op" --url "$url" --concurrency "$c" \
					--duration "$secs" --database-url "$dburl"
			done
		done
	done
}

# Reads first, then the direct lookups, writes last: a write cell leaves
# PostgreSQL flushing and the caches re-reading for a while, which would
# weigh on the cells after it.
reads="" writes=""
for op in $ops; do
	case $op in
	create-user | add-member | change-role) writes="$writes $op" ;;
	*) reads="$reads $op" ;;
	esac
done
small_cells $reads
for c in $concs; do
	pg_cell small "$c"
	# What the service's own statement costs, prepared as the service
	# sends it, and unprepared as it did before.
	pg_cell small "$c" --sql service
	pg_cell small "$c" --sql service --unprepared
done
small_cells $writes

# --- the client's local cache ------------------------------------------------
# Checks answered inside the calling process (one client shared by the
# calling threads, a cache of 100,000 entries following the caching
# daemon's hints), and how long a committed role change takes to reach
# such a client: from the write's reply to the client having applied it,
# woken by the hints, and polling every 100 ms without them.
if [ "$local_cache" = 1 ]; then
	log "the client's local cache: ${local_count} in-process checks a cell, callers ($local_concs); propagation"
	for c in $local_concs; do
		cell small --op check-local --url "$cached_ipc" --concurrency "$c" \
			--count "$local_count" --clients shared --local-cache 100000 \
			--subscribe "$publish_ipc" --database-url "$dburl"
	done
	cell small --op propagation --url "$cached_ipc" --concurrency 1 \
		--count "$propagation_count" --clients shared --local-cache 1000 \
		--subscribe "$publish_ipc" --database-url "$dburl" --tag hints
	cell small --op propagation --url "$cached_ipc" --concurrency 1 \
		--count 100 --clients shared --local-cache 1000 \
		--database-url "$dburl" --tag polling
fi
mem small_end
stop_daemons

# --- a read replica -----------------------------------------------------------
# proc_ticks PID...: CPU time (user + system, in clock ticks) the processes
# and their reaped children have used.
proc_ticks() {
	for p in "$@"; do
		sed 's/.*) //' "/proc/$p/stat" 2>/dev/null
	done | awk '{ s += $12 + $13 + $14 + $15 } END { print s + 0 }'
}
# cluster_ticks DATADIR: the postmaster's, and every process it started.
cluster_ticks() {
	pm=$(head -n 1 "$1/postmaster.pid")
	proc_ticks "$pm" $(pgrep -P "$pm")
}
# standby_reads: reads the replica daemon's standby answered so far.
standby_reads() {
	curl -sf "$replica_metrics/metrics" |
		awk '$1 == "exe_access_replica_reads_total{replica=\"0\"}" { r = $2 }
		    END { print r + 0 }'
}
# replica_cell TAG URL PID OP CONC: one cell, with the CPU the daemon (PID),
# the primary and the standby spent during it added to its RESULT line.
replica_cell() {
	p0=$(cluster_ticks "$pgdir/data")
	s0=$(cluster_ticks "$pgdir/standby")
	d0=$(proc_ticks "$3")
	r0=$(standby_reads)
	cell replica --op "$4" --url "$2" --concurrency "$5" --duration "$secs" \
		--database-url "$dburl" --tag "$1"
	p1=$(cluster_ticks "$pgdir/data")
	s1=$(cluster_ticks "$pgdir/standby")
	d1=$(proc_ticks "$3")
	r1=$(standby_reads)
	sed -i "\$ s/\$/ hz=$hz cpu_daemon=$((d1 - d0)) cpu_primary=$((p1 - p0)) cpu_standby=$((s1 - s0)) standby_reads=$((r1 - r0))/" "$results"
}
if [ "$replica" = 1 ]; then
	log "a streaming hot standby, and the cold reads with and without it"
	"$root/tests/harness/pg.sh" standby "$pgstate" >/dev/null
	pgdir=$(cat "$pgstate/cluster")
	hz=$(getconf CLK_TCK)
	db="host=$PGHOST user=$PGUSER dbname=$db_name"
	replica_ipc=ipc://$tmp/replica.sock
	replica_metrics=http://127.0.0.1:$((port + 5))
	rm -f "$tmp/cold.log" "$tmp/replica.log"
	"$daemon" --listen="$cold_ipc" --database-url="$db" \
		--hash-key-file="$tmp/hash.key" \
		--activity-key-file="$tmp/activity.key" --token-file="$tmp/tokens" \
		--workers="$workers" --cache-size=0 >"$tmp/cold.log" 2>&1 &
	cold_pid=$!
	pids="$pids $cold_pid"
	"$daemon" --listen="$replica_ipc" --database-url="$db" \
		--read-database-url="host=$PGHOST port=5433 user=$PGUSER dbname=$db_name" \
		--hash-key-file="$tmp/hash.key" \
		--activity-key-file="$tmp/activity.key" --token-file="$tmp/tokens" \
		--workers="$workers" --cache-size=0 \
		--metrics-address="$replica_metrics" >"$tmp/replica.log" 2>&1 &
	replica_pid=$!
	pids="$pids $replica_pid"
	wait_ready "$tmp/cold.log" "$cold_pid"
	wait_ready "$tmp/replica.log" "$replica_pid"
	for c in $concs; do
		for op in $replica_ops; do
			replica_cell primary-only "$cold_ipc" "$cold_pid" "$op" "$c"
			replica_cell replica "$replica_ipc" "$replica_pid" "$op" "$c"
		done
	done
	stop "$cold_pid" "$replica_pid"
	cold_pid=""
	# The large scale's load is not for the standby to replay.
	"$root/tests/harness/pg.sh" standby-stop "$pgstate" >/dev/null
fi

# --- large scale -------------------------------------------------------------
if [ "$large" = 1 ]; then
	psql -X -q -d postgres -c "DROP DATABASE bench_small"
	db_name=bench_large
	new_db "$db_name" "$large_users"
	dburl="host=$PGHOST user=$PGUSER dbname=$db_name"
	start_daemons "$db_name"
	log "large scale: cold checks (no cache) and the direct lookup"
	for c in $concs; do
		cell large --op check-cold --url "$cold_ipc" --concurrency "$c" \
			--duration "$secs" --database-url "$dburl"
	done
	for c in $concs; do
		pg_cell large "$c"
	done
	cell large --op check-cold --tag first-touch --url "$cached_ipc" \
		--concurrency 64 --duration "$secs" --database-url "$dburl"
	log "large scale: first touch of $large_users memberships (fills the cache)"
	mem large_start
	fill_batches=$((large_users / 100))
	cell large --op batch100 --distinct --url "$cached_ipc" --concurrency 8 \
		--count "$fill_batches" --pairs "$large_users" --seed 1 \
		--database-url "$dburl"
	mem large_filled
	# One seed and limit give every cached run the same 100,000
	# memberships (most of them among those just filled); the first run's
	# untimed warm-up reads the rest.
	log "large scale: cached checks and batches"
	for c in $concs; do
		for op in check-cached batch100; do
			cell large --op "$op" --url "$cached_ipc" --concurrency "$c" \
				--duration "$secs" --database-url "$dburl" \
				--pairs 100000 --seed 1 --working-set 100000
		done
	done
	mem large_end
	stop_daemons
fi
echo "load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp/machine"

# --- the table -----------------------------------------------------------------
log "done in $(($(date +%s) - started)) s"
echo
echo "ExE Access benchmark: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); ${secs}s a cell; clients=$clients"
cat "$tmp/loads"
echo
awk -f "$root/bench/report.awk" "$results"
echo
sed 's/^/# /' "$tmp/machine"
echo "# suite time: $(($(date +%s) - started)) s"
