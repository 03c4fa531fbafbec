#!/bin/sh
# The service's layers, lowest first; a file may include headers of its
# own layer and of the layers below it, never of one above:
#
#   base       log, status codes, the permission table, arenas, secrets
#   rpc        the call, envelope codec, validation, paging, caller tokens,
#              the method row and the request pipeline
#   store      PostgreSQL: connections, workers, migrations, the SQL
#   authz      decisions, the cache and its change-log feeder, AuthzService
#   workspace  WorkspaceService: users, teams, members, invitations, ...
#   transport  the nng server, the HTTP endpoint, metrics
#   (top)      service/*.c: the method table, configuration, main
#
# Generated protobuf headers (exe/access/v1/*.pb-c.h) and the list of
# methods generated from the .proto (exe/access/v1/methods.h) are below
# them all.
# The client library and CLI (client/) may include nothing of service/
# but the base layer it shares (the exa_base library).
# Prints every upward include and exits 1 if there is one.
set -eu
cd "$(dirname "$0")/.."

layers="base rpc store authz workspace transport"

rank() {
	r=0
	for l in $layers; do
		[ "$l" = "$1" ] && { echo "$r"; return; }
		r=$((r + 1))
	done
	echo "$r" # service/*.h: the top
}

bad=0
for layer in $layers top; do
	if [ "$layer" = top ]; then
		files=$(ls service/*.c service/*.h)
	else
		files=$(ls service/"$layer"/*.c service/"$layer"/*.h 2>/dev/null || true)
	fi
	own=$(rank "$layer")
	for f in $files; do
		# Every quoted include: "dir/name.h" names a layer, "name.h" the top.
		for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			case "$inc" in
			exe/access/v1/*.pb-c.h | exe/access/v1/methods.h) continue ;;
			*/*) target=${inc%%/*} ;;
			*) target=top ;;
			esac
			case " $layers top " in
			*" $target "*) ;;
			*)
				echo "$f: includes \"$inc\", which is in no layer"
				bad=1
				continue
				;;
			esac
			if [ "$(rank "$target")" -gt "$own" ]; then
				echo "$f ($layer): includes \"$inc\" of the higher layer $target"
				bad=1
			fi
		done
	done
done

for f in $(find client -name '*.c' -o -name '*.h'); do
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		case "$inc" in
		exe/*) ;;
		base/*) ;;
		*/*)
			if [ -e "service/$inc" ]; then
				echo "$f: the client includes the service's \"$inc\""
				bad=1
			fi
			;;
		esac
	done
done

if [ "$bad" -ne 0 ]; then
	echo "check-layers: upward includes found (see tools/check-layers.sh)" >&2
	exit 1
fi
echo "check-layers: every include points down"
