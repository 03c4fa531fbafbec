#!/bin/sh
# A throwaway PostgreSQL cluster for the test suite.
#
#   pg.sh start STATE_DIR   initdb + start; writes STATE_DIR/env
#   pg.sh stop STATE_DIR    stop and delete everything start made
#   pg.sh pause STATE_DIR [MODE]   stop the server only (for outage tests;
#                                  MODE is pg_ctl's: fast or immediate)
#   pg.sh resume STATE_DIR         start it again
#   pg.sh standby STATE_DIR [sync] add a streaming hot standby of it
#                                  (pg_basebackup -R), on port 5433 of the
#                                  same socket directory; with `sync` the
#                                  primary's commits wait for it
#                                  (synchronous_standby_names)
#   pg.sh standby-stop STATE_DIR [MODE]  stop the standby only
#   pg.sh standby-start STATE_DIR        start it again
#   pg.sh promote STATE_DIR        make the standby a primary
#
# The cluster lives under /tmp (the build tree may sit where the PostgreSQL
# account cannot reach) and listens on a Unix socket in its own directory,
# never on TCP. PostgreSQL refuses to run as root, so as root it runs as the
# `postgres` account that Debian's package creates. STATE_DIR/env holds
# PGHOST= and PGUSER= lines for the tests (the primary listens on the
# default port, 5432), and PGSTANDBYPORT= once there is a standby.
set -eu

usage="usage: pg.sh start|stop|pause|resume|standby|standby-stop|standby-start|promote STATE_DIR"
cmd=${1:?$usage}
state=${2:?$usage}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "pg.sh: no PostgreSQL under /usr/lib/postgresql" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cluster_dir() {
	cat "$state/cluster" 2>/dev/null || true
}

standby_port=5433

# primary_sql runs one statement on the primary.
primary_sql() {
	as_pg "$bindir/psql" -X -q -h "$(cluster_dir)" -U exe_test -d postgres \
		-v ON_ERROR_STOP=1 -tA -c "$1"
}

case "$cmd" in
start)
	old=$(cluster_dir)
	if [ -n "$old" ] && [ -d "$old" ]; then
		as_pg "$bindir/pg_ctl" stop -D "$old/standby" -m immediate >/dev/null 2>&1 || true
		as_pg "$bindir/pg_ctl" stop -D "$old/data" -m immediate >/dev/null 2>&1 || true
		rm -rf "$old"
	fi
	mkdir -p "$state"
	dir=$(mktemp -d /tmp/exa-test-pg.XXXXXX)
	chmod 0755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
	echo "$dir" >"$state/cluster"
	as_pg "$bindir/initdb" -D "$dir/data" -U exe_test --auth=trust \
		--encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	# Durability is not what these tests measure: trade it for speed.
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
	as_pg "$bindir/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/postgres.log" >/dev/null ||
		{ cat "$dir/postgres.log" >&2; exit 1; }
	printf 'PGHOST=%s\nPGUSER=exe_test\n' "$dir" >"$state/env"
	echo "PostgreSQL ready at $dir"
	;;
pause)
	as_pg "$bindir/pg_ctl" stop -w -D "$(cluster_dir)/data" -m "${3:-fast}" >/dev/null
	;;
resume)
	dir=$(cluster_dir)
	as_pg "$bindir/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/postgres.log" >/dev/null
	;;
standby)
	dir=$(cluster_dir)
	[ -n "$dir" ] && [ -d "$dir/data" ] || { echo "pg.sh: start the primary first" >&2; exit 1; }
	# initdb --auth=trust lets local connections replicate. The copy
	# brings the primary's settings (socket directory, no TCP); the
	# standby adds its port and its name, which the primary's
	# synchronous_standby_names refers to.
	as_pg "$bindir/pg_basebackup" -h "$dir" -U exe_test -D "$dir/standby" \
		-R -X stream -c fast >"$dir/basebackup.log" 2>&1 ||
		{ cat "$dir/basebackup.log" >&2; exit 1; }
	cat >>"$dir/standby/postgresql.conf" <<CONF
port = $standby_port
cluster_name = 'exe_standby'
hot_standby = on
hot_standby_feedback = on
CONF
	as_pg "$bindir/pg_ctl" start -w -t 60 -D "$dir/standby" -l "$dir/standby.log" >/dev/null ||
		{ cat "$dir/standby.log" >&2; exit 1; }
	if [ "${3:-}" = sync ]; then
		# The suite's clusters commit asynchronously for speed; a
		# synchronous standby means commits wait for it.
		primary_sql "ALTER SYSTEM SET synchronous_commit = on" >/dev/null
		primary_sql "ALTER SYSTEM SET synchronous_standby_names = 'exe_standby'" >/dev/null
		primary_sql "SELECT pg_reload_conf()" >/dev/null
	fi
	# Streaming (and, with sync, counted as synchronous) before we return.
	want=streaming
	[ "${3:-}" = sync ] && want=streaming/sync
	i=0
	while [ "$(primary_sql "SELECT state || CASE WHEN sync_state = 'sync' THEN '/sync' ELSE '' END FROM pg_stat_replication WHERE application_name = 'exe_standby'")" != "$want" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "pg.sh: the standby is not $want" >&2; cat "$dir/standby.log" >&2; exit 1; }
		sleep 0.1
	done
	grep -v '^PGSTANDBYPORT=' "$state/env" >"$state/env.new" || true
	echo "PGSTANDBYPORT=$standby_port" >>"$state/env.new"
	mv "$state/env.new" "$state/env"
	echo "standby streaming at $dir port $standby_port"
	;;
standby-stop)
	as_pg "$bindir/pg_ctl" stop -w -D "$(cluster_dir)/standby" -m "${3:-fast}" >/dev/null
	;;
standby-start)
	dir=$(cluster_dir)
	as_pg "$bindir/pg_ctl" start -w -t 60 -D "$dir/standby" -l "$dir/standby.log" >/dev/null
	;;
promote)
	as_pg "$bindir/pg_ctl" promote -w -t 60 -D "$(cluster_dir)/standby" >/dev/null
	;;
stop)
	dir=$(cluster_dir)
	if [ -n "$dir" ] && [ -d "$dir" ]; then
		if [ -d "$dir/standby" ]; then
			as_pg "$bindir/pg_ctl" stop -w -D "$dir/standby" -m immediate >/dev/null 2>&1 || true
		fi
		as_pg "$bindir/pg_ctl" stop -w -D "$dir/data" -m fast >/dev/null 2>&1 || true
		rm -rf "$dir"
	fi
	rm -rf "$state"
	;;
*)
	echo "$usage" >&2
	exit 2
	;;
esac
