#!/bin/sh
# Build Tandem and run the whole test suite:
#  1. gcc build, every test (unit + end-to-end with SIPp, baresip, Kamailio)
#  2. clang build and a gcc Release build, both with -Werror (warnings
#     differ between compilers and optimisation levels)
#  3. AddressSanitizer + UndefinedBehaviorSanitizer build, every test again
#  4. libFuzzer harnesses, each for FUZZ_SECONDS (default 30; longer runs:
#     tests/fuzz/run.sh SECONDS)
# Exits non-zero on the first failing stage.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
JOBS=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# as many tests at once as cores (the cluster tests run alone: RUN_SERIAL);
# more is faster but the timing of the sanitizer build gets tight
CTEST_JOBS=${CTEST_JOBS:-$JOBS}

stage() { printf '\n=== %s ===\n' "$*"; }

stage "gcc build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_TESTS=ON >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$CTEST_JOBS")

stage "clang build"
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Debug -DTANDEM_TESTS=ON >/dev/null
cmake --build build-clang -j"$JOBS"

stage "Release build (the optimiser warns about more; scripts/make-deb.sh builds this)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTANDEM_TESTS=ON >/dev/null
cmake --build build-release -j"$JOBS"

stage "ASan + UBSan build and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTANDEM_SANITIZE=ON -DTANDEM_TESTS=ON >/dev/null
cmake --build build-asan -j"$JOBS"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure -j"$CTEST_JOBS")

stage "fuzzing, ${FUZZ_SECONDS}s per harness"
tests/fuzz/run.sh "$FUZZ_SECONDS"
