#!/usr/bin/env bash
# Build and run the relay micro-benchmark (not part of the test run).
#
#   bench/media-relay/run.sh [-t] [-d SECONDS] N [N...]
#
# Compiles relay_bench.c with the media and core sources it needs at -O2
# into $BUILD (default /tmp/tandem-relay-bench) and runs it; needs root or
# a high RLIMIT_NOFILE for large N (4 sockets per call).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${BUILD:-/tmp/tandem-relay-bench}
mkdir -p "$out"
${CC:-cc} -std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -I"$src/src" \
    "$here/relay_bench.c" "$src"/src/media/*.c "$src/src/core/loop.c" \
    "$src/src/core/log.c" "$src/src/core/mem.c" "$src/src/core/pl.c" \
    "$src/src/core/conf.c" -o "$out/relay_bench" -lpthread
exec "$out/relay_bench" "$@"
