#!/bin/sh
# The one list of packages ExE Access builds and runs with, and the install
# step that every entry point shares (tools/run.sh, tools/test.sh, the
# Dockerfile). Run as root to install what is missing; as another user it
# only checks, and says what to install.
#
#   tools/deps.sh build     compilers, libraries, PostgreSQL: to build and test
#   tools/deps.sh runtime   shared libraries and PostgreSQL: to run
#   tools/deps.sh fuzz      what build needs, and clang with libFuzzer
#   tools/deps.sh list-build | list-runtime | list-fuzz   print the names
set -eu

BUILD_PACKAGES="build-essential cmake pkg-config protobuf-c-compiler
libprotobuf-c-dev libnng-dev libpq-dev libsodium-dev libjansson-dev
libinih-dev liburcu-dev postgresql postgresql-contrib openssl
ca-certificates procps curl"
RUNTIME_PACKAGES="libprotobuf-c1 libnng1 libpq5 libsodium23 libjansson4
libinih1 liburcu8 postgresql"
# Added to the build list for tools/fuzz.sh: libFuzzer and the sanitizer
# runtimes come with clang's compiler-rt.
FUZZ_PACKAGES="clang libclang-rt-14-dev"

case "${1:-build}" in
build) packages=$BUILD_PACKAGES ;;
runtime) packages=$RUNTIME_PACKAGES ;;
fuzz) packages="$BUILD_PACKAGES $FUZZ_PACKAGES" ;;
list-build) echo $BUILD_PACKAGES; exit 0 ;;
list-runtime) echo $RUNTIME_PACKAGES; exit 0 ;;
list-fuzz) echo $BUILD_PACKAGES $FUZZ_PACKAGES; exit 0 ;;
*) echo "usage: $0 build|runtime|fuzz|list-build|list-runtime|list-fuzz" >&2
	exit 2 ;;
esac

missing=""
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
