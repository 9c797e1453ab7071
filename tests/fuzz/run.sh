#!/usr/bin/env bash
# Build every libFuzzer harness (tests/fuzz/fuzz_*.c) with clang and run
# each for SECONDS on a copy of its seed corpus; print one summary line per
# harness and exit 1 on any crash, leak, timeout or OOM finding.
#
#   tests/fuzz/run.sh SECONDS [BUILD_DIR]
#
# The seed corpus of fuzz_NAME is tests/fuzz/corpus/NAME, or corpus/PREFIX
# for a NAME of PREFIX_REST (fuzz_sip_msg uses corpus/sip). The corpora in
# the tree are never written: runs grow a copy in a temporary directory,
# which is kept, with the findings, when something fails.
#
# FUZZ_JOBS harnesses run at once (default: one per core; each libFuzzer
# run is one process on one core, so every harness still gets SECONDS of
# a core's time).
set -u

secs=${1:-}
case "$secs" in
''|*[!0-9]*) echo "usage: $0 SECONDS [BUILD_DIR]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-fuzz.XXXXXX")
build=${2:-$work/build}

if ! CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTANDEM_FUZZ=ON -DTANDEM_TESTS=OFF >"$work/cmake.log" 2>&1; then
    cat "$work/cmake.log" >&2
    echo "fuzz: configure failed (kept $work)" >&2
    exit 1
fi
if ! cmake --build "$build" -j"$(nproc)" --target fuzz >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log" >&2
    echo "fuzz: build failed (kept $work)" >&2
    exit 1
fi

stat_of() {     # stat_of LOG NAME: last value of libFuzzer's stat::NAME
    sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -n 1
}

# fuzz_one BIN: run one harness; its summary line in $work/NAME/summary,
# FAIL in $work/NAME/failed
fuzz_one() {
    local bin=$1 name short out c seeds rc execs took cov grown found status
    name=$(basename "$bin")
    short=${name#fuzz_}
    out="$work/$name"
    mkdir -p "$out/corpus" "$out/artifacts"
    for c in "$here/corpus/$short" "$here/corpus/${short%%_*}"; do
        if [ -d "$c" ]; then
            cp -R "$c/." "$out/corpus/"
            break
        fi
    done
    seeds=$(find "$out/corpus" -type f | wc -l)
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
        "$out/corpus" >"$out/log" 2>&1
    rc=$?
    execs=$(stat_of "$out/log" number_of_executed_units)
    took=$(stat_of "$out/log" average_exec_per_sec)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' "$out/log" | tail -n 1)
    grown=$(find "$out/corpus" -type f | wc -l)
    found=$(find "$out/artifacts" -type f | wc -l)
    status=OK
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        status=FAIL
        : > "$out/failed"
    fi
    printf '%-14s %-4s %ss execs=%s exec/s=%s cov=%s corpus=%s->%s findings=%s\n' \
        "$name" "$status" "$secs" "${execs:-?}" "${took:-?}" "${cov:-?}" \
        "$seeds" "$grown" "$found" > "$out/summary"
    if [ "$status" = FAIL ]; then
        grep -m 5 -E 'ERROR|SUMMARY|Test unit written' "$out/log" | sed 's/^/    /' >> "$out/summary"
    fi
}

jobs=${FUZZ_JOBS:-$(nproc)}
case "$jobs" in ''|*[!0-9]*|0) jobs=1 ;; esac
names=()
running=0
for bin in "$build"/fuzz/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    fuzz_one "$bin" &
    running=$((running + 1))
    names+=("$(basename "$bin")")
done
wait

fail=0
ran=0
for name in "${names[@]}"; do
    ran=$((ran + 1))
    if [ -f "$work/$name/summary" ]; then
        cat "$work/$name/summary"
    else
        echo "$name FAIL: no summary (the run did not finish)"
        fail=1
    fi
    [ -f "$work/$name/failed" ] && fail=1
done

if [ "$ran" -eq 0 ]; then
    echo "fuzz: no harness built (kept $work)" >&2
    exit 1
fi
if [ "$fail" -ne 0 ]; then
    echo "fuzz: findings, logs and inputs kept in $work" >&2
    exit 1
fi
rm -rf "$work"
exit 0
