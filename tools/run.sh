#!/bin/sh
# Quick start: install what is missing (as root), build, and run exe-accessd
# on its embedded default, a private PostgreSQL under its data directory
# (/var/lib/exe-access as root, ~/.local/share/exe-access otherwise).
# Arguments are passed to exe-accessd (see --help). Ctrl-C stops both.
set -eu
cd "$(dirname "$0")/.."
tools/deps.sh build
cmake -S . -B build -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
exec build/service/exe-accessd "$@"
