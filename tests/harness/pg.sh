#!/bin/sh
# A throwaway PostgreSQL cluster for the test suite.
#
#   pg.sh start STATE_DIR   initdb + start; writes STATE_DIR/env
#   pg.sh stop STATE_DIR    stop and delete everything start made
#   pg.sh pause STATE_DIR   stop the server only (for outage tests)
#   pg.sh resume STATE_DIR  start it again
#
# The cluster lives under /tmp (the build tree may sit where the PostgreSQL
# account cannot reach) and listens on a Unix socket in its own directory,
# never on TCP. PostgreSQL refuses to run as root, so as root it runs as the
# `postgres` account that Debian's package creates. STATE_DIR/env holds
# PGHOST= and PGUSER= lines for the tests.
set -eu

cmd=${1:?usage: pg.sh start|stop|pause|resume STATE_DIR}
state=${2:?usage: pg.sh start|stop|pause|resume STATE_DIR}
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

case "$cmd" in
start)
	old=$(cluster_dir)
	if [ -n "$old" ] && [ -d "$old" ]; then
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
stop)
	dir=$(cluster_dir)
	if [ -n "$dir" ] && [ -d "$dir" ]; then
		as_pg "$bindir/pg_ctl" stop -w -D "$dir/data" -m fast >/dev/null 2>&1 || true
		rm -rf "$dir"
	fi
	rm -rf "$state"
	;;
*)
	echo "usage: pg.sh start|stop|pause|resume STATE_DIR" >&2
	exit 2
	;;
esac
