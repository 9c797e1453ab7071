#!/bin/sh
# Build Tandem and run one node on examples/tfg (SQLite, SIP on 127.0.0.1:5060).
# State goes to ./run/data (override with DATADIR=...). Stop with Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target tandemd tandemctl
DATADIR=${DATADIR:-$PWD/run/data}
mkdir -p "$DATADIR"
echo "tandemd on examples/tfg, data in $DATADIR; in another terminal: build/tandemctl -D $DATADIR status" >&2
exec build/tandemd -C examples/tfg -D "$DATADIR" -f
