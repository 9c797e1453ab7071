#!/bin/sh
# Build Tandem and run the whole test suite:
#  1. gcc build (RelWithDebInfo, what `cmake -S . -B build` gives) and its
#     unit tests
#  2. clang build and a gcc Release build, both with -Werror (warnings
#     differ between compilers and optimisation levels), and their unit
#     tests
#  3. AddressSanitizer + UndefinedBehaviorSanitizer build: every test, the
#     unit tests, the end-to-end tests (SIPp, baresip, Kamailio, ...) and
#     the cluster tests (network namespaces, keepalived, Pacemaker)
#  4. libFuzzer harnesses, each for FUZZ_SECONDS (default 30; longer runs:
#     tests/fuzz/run.sh SECONDS), FUZZ_JOBS (default: cores) at once
# The unit tests run in every build; the end-to-end tests once, in the
# sanitizer build, which checks more than the plain one (running them in
# the plain build as well took a third of the suite's time; E2E_PLAIN=1
# adds that run back).
# Exits non-zero on the first failing stage; prints each stage's time.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# Tests run at once, cluster tests aside: twice the cores (they wait on
# timers and peers, not the CPU); the cluster tests (RUN_SERIAL: timing of
# failovers) run after them, one at a time, in their own ctest call.
CTEST_JOBS=${CTEST_JOBS:-$((2 * JOBS))}

T0=$(date +%s)
LAST=
stage() {
	now=$(date +%s)
	[ -z "$LAST" ] || printf '(stage took %ss)\n' $((now - LAST))
	LAST=$now
	printf '\n=== %s ===\n' "$*"
}

stage "install dependencies"
scripts/install-deps.sh test

stage "gcc build and unit tests (stage 3 runs every test under the sanitizers)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_TESTS=ON >/dev/null
cmake --build build -j"$JOBS"
if [ "${E2E_PLAIN:-0}" = 1 ]; then
	(cd build && ctest --output-on-failure -j"$CTEST_JOBS" -LE cluster)
else
	(cd build && ctest --output-on-failure -L unit)
fi

stage "clang build"
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Debug -DTANDEM_TESTS=ON >/dev/null
cmake --build build-clang -j"$JOBS"
(cd build-clang && ctest --output-on-failure -L unit)

stage "Release build (the optimiser warns about more; scripts/make-deb.sh builds this)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTANDEM_TESTS=ON >/dev/null
cmake --build build-release -j"$JOBS"
(cd build-release && ctest --output-on-failure -L unit)

stage "ASan + UBSan build and every test"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTANDEM_SANITIZE=ON -DTANDEM_TESTS=ON >/dev/null
cmake --build build-asan -j"$JOBS"
(cd build-asan &&
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 &&
	ctest --output-on-failure -j"$CTEST_JOBS" -LE cluster &&
	ctest --output-on-failure -L cluster)

stage "fuzzing, ${FUZZ_SECONDS}s per harness"
tests/fuzz/run.sh "$FUZZ_SECONDS"

stage "done"
echo "total $(( $(date +%s) - T0 ))s"
